"""FHIR R4 endpoints (issue 15): a shipped instrument as a ``Questionnaire`` (public: shipped
definitions carry no personal data) and a stored response as a ``QuestionnaireResponse``
(``responses.export``, scoped, audited). Thin: parse, call one service function, reply with
``application/fhir+json``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter

from survey_service.api.params import QueryFlag, QueryWord
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.screening import fhir
from survey_service.services.runtime import Runtime

FHIR_JSON = "application/fhir+json"
#: An instrument id in a path (``responses.instrument_id`` is String(64)).
InstrumentId = Annotated[str, PathParameter(max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _reply(resource: dict[str, Any], *, private: bool) -> Response[bytes]:
    headers = {"X-Content-Type-Options": "nosniff"}
    if private:
        headers["Cache-Control"] = "no-store"
    return Response(msgspec.json.encode(resource), media_type=FHIR_JSON, headers=headers)


@get(
    "/api/v1/instruments/{instrument_id:str}/fhir",
    tags=["instruments"],
    summary="A shipped instrument as a FHIR R4 Questionnaire (LOINC codes where they exist)",
)
async def instrument_questionnaire(
    instrument_id: InstrumentId, lang: QueryWord = "zh-CN"
) -> Response[bytes]:
    return _reply(fhir.questionnaire(instrument_id, lang=lang), private=False)


@get(
    "/api/v1/responses/{response_id:uuid}/fhir",
    tags=["care"],
    summary="A stored response as a FHIR R4 QuestionnaireResponse (counsellor; audited)",
    opt={"permission": "responses.export"},
)
async def response_questionnaire_response(
    response_id: FromPath[uuid.UUID],
    db: NamedDependency[AsyncSession],
    staff: NamedDependency[StaffUser],
    clock: NamedDependency[Clock],
    rt: NamedDependency[Runtime],
    subject: QueryFlag = False,
) -> Response[bytes]:
    resource = await fhir.response_resource(
        db, staff, rt.catalogue, response_id, now=clock.now(), with_subject=subject
    )
    return _reply(resource, private=True)


ROUTES: list[Any] = [instrument_questionnaire, response_questionnaire_response]
