"""Student endpoints: start or resume a screening session, submit it once."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Response, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody

from survey_service.api.params import IdempotencyKey
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.screening import service as screening
from survey_service.screening.saved_answers import Stamp
from survey_service.screening.schemas import (
    PartialAnswers,
    SavedAnswers,
    StartSessionRequest,
    StartSessionResponse,
    SubmissionReceipt,
    SubmissionRequest,
)
from survey_service.services.runtime import Runtime


@post(
    "/api/v1/student/sessions",
    tags=["student"],
    summary="Start or resume a screening",
    responses={200: ResponseSpec(StartSessionResponse, description="A session resumed")},
)
async def start_session(
    data: JSONBody[StartSessionRequest],
    db: NamedDependency[AsyncSession],
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
) -> Response[StartSessionResponse]:
    created, out = await screening.start_session(
        db, rt, access_code=data.access_code, language=data.language, now=clock.now()
    )
    return Response(out, status_code=201 if created else 200)


@post(
    "/api/v1/student/sessions/{session_id:uuid}/submission",
    tags=["student"],
    summary="Submit the answers of a session (idempotent per Idempotency-Key)",
)
async def submit(
    session_id: FromPath[uuid.UUID],
    data: JSONBody[SubmissionRequest],
    db: NamedDependency[AsyncSession],
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
    authorization: Annotated[str | None, HeaderParameter(name="Authorization")] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[SubmissionReceipt]:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    status, receipt = await screening.submit(
        db,
        rt,
        session_id=session_id,
        session_token=token,
        idempotency_key=idempotency_key,
        request=data,
        now=clock.now(),
    )
    return Response(receipt, status_code=status)


@put(
    "/api/v1/student/sessions/{session_id:uuid}/answers",
    tags=["student"],
    summary="Save answers so far (resume later, on any device, within the window)",
    status_code=200,
)
async def save_answers(
    session_id: FromPath[uuid.UUID],
    data: JSONBody[PartialAnswers],
    db: NamedDependency[AsyncSession],
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
    authorization: Annotated[str | None, HeaderParameter(name="Authorization")] = None,
) -> SavedAnswers:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    revision = data.revision
    saved = await screening.save_partial(
        db,
        rt,
        session_id=session_id,
        session_token=token,
        answers=data.answers,
        now=clock.now(),
        stamp=None if revision is None else Stamp(revision.view, revision.seq),
    )
    return SavedAnswers(
        session_id=session_id,
        answers={k: dict(v) for k, v in saved.answers.items()},
        answers_version=saved.version,
    )
