"""FHIR R4 exchange of instruments and stored responses (issue 15, see ``docs/fhir.md``).

* :func:`questionnaire` - a shipped instrument as a ``Questionnaire``. Shipped definitions are
  published with the code and carry no personal data; definitions a school installed (licensed
  item text, ``runxin instruments add``) are not served here.
* :func:`response_resource` - one stored response as a ``QuestionnaireResponse``: a read of a
  student's answers, so it needs ``responses.export`` (the counsellor, who alone sees answers,
  ``triage.VISIBILITY``), the student in the caller's scope (404 otherwise, as for a missing
  response) and it is audited (``response.fhir_export``). The command line reads it as the
  server's operator (:func:`response_resource_cli`, audited with the actor ``cli``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from instruments import Catalogue, default_catalogue
from instruments.fhir import to_questionnaire, to_questionnaire_response
from survey_service.accounts import permissions
from survey_service.accounts.access import student_in_scope
from survey_service.accounts.views import lens_for
from survey_service.db import AsyncSession, Response, StaffUser, Student
from survey_service.errors import BadRequest, Conflict, Forbidden, NotFound
from survey_service.services import audit

#: The audit action of a response read as FHIR.
AUDIT_ACTION = "response.fhir_export"
#: Who reads through ``runxin responses export`` (the server's operator; no account).
CLI_ACTOR = "cli"


def _no_instrument(instrument_id: str) -> NotFound:
    return NotFound(
        f"No shipped instrument {instrument_id!r}",
        code="instrument_not_found",
        message={
            "zh-CN": f"没有内置量表“{instrument_id}”。",
            "en": f"There is no shipped instrument {instrument_id!r}.",
        },
    )


def questionnaire(instrument_id: str, *, lang: str) -> dict[str, Any]:
    """A shipped instrument as a FHIR ``Questionnaire``; 404 for another id, 400 for ``lang``."""
    catalogue = default_catalogue()
    if instrument_id not in catalogue:
        raise _no_instrument(instrument_id)
    try:
        return to_questionnaire(catalogue[instrument_id], lang=lang)
    except ValueError as exc:
        raise BadRequest(
            f"lang: {exc}",
            code="invalid_language",
            message={"zh-CN": "语言参数无效（zh 或 en）。", "en": "lang must be zh or en."},
            extra={"field": "lang"},
        ) from None


def _not_found() -> NotFound:
    return NotFound("No such response", code="response_not_found")


def _resource(catalogue: Catalogue, response: Response, *, with_subject: bool) -> dict[str, Any]:
    instrument = catalogue.get(response.instrument_id, None)
    if instrument is None:
        raise Conflict(
            f"The response's instrument {response.instrument_id!r} is not in the catalogue",
            code="instrument_unavailable",
        )
    try:
        return to_questionnaire_response(
            instrument,
            response.answers,
            response_id=str(response.id),
            authored=response.submitted_at,
            subject_ref=f"Patient/{response.student_id}" if with_subject else None,
            lang=response.language or "en",
            version=response.instrument_version,
        )
    except ValueError as exc:
        # Stored answers that today's definition no longer has (a changed version).
        raise Conflict(
            f"The response (instrument version {response.instrument_version}) does not fit "
            f"the current definition (version {instrument.version}): {exc}",
            code="response_version_mismatch",
        ) from None


async def response_resource(
    db: AsyncSession,
    user: StaffUser,
    catalogue: Catalogue,
    response_id: uuid.UUID,
    *,
    now: datetime,
    with_subject: bool = False,
) -> dict[str, Any]:
    """One stored response as a ``QuestionnaireResponse``, for a member of staff (audited).

    ``with_subject`` adds ``subject`` as the opaque ``Patient/<student id>``; the resource
    never holds a name.
    """
    permissions.require(user, "responses.export")
    response = await db.get(Response, response_id)
    if response is None:
        raise _not_found()
    try:
        student = await student_in_scope(db, user, response.student_id)
    except NotFound:
        raise _not_found() from None
    lens = await lens_for(db, user, now=now, student_id=student.id)
    if not lens.sees("answers"):
        raise Forbidden("This role does not see a student's answers", code="forbidden_role")
    resource = _resource(catalogue, response, with_subject=with_subject)
    _record(db, response, student, actor=user, now=now, with_subject=with_subject)
    return resource


async def response_resource_cli(
    db: AsyncSession,
    catalogue: Catalogue,
    response_id: uuid.UUID,
    *,
    now: datetime,
    with_subject: bool = False,
) -> dict[str, Any]:
    """One stored response as a ``QuestionnaireResponse`` for the server's operator (audited
    with the actor ``cli``, as the other command-line reads and changes)."""
    response = await db.get(Response, response_id)
    if response is None:
        raise _not_found()
    student = await db.get_one(Student, response.student_id)
    resource = _resource(catalogue, response, with_subject=with_subject)
    _record(db, response, student, actor=None, now=now, with_subject=with_subject)
    return resource


def _record(
    db: AsyncSession,
    response: Response,
    student: Student,
    *,
    actor: StaffUser | None,
    now: datetime,
    with_subject: bool,
) -> None:
    audit.record(
        db,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else CLI_ACTOR,
        action=AUDIT_ACTION,
        subject_type="student",
        subject_ids=[student.id],
        school_id=student.school_id,
        now=now,
        detail={
            "format": "fhir",
            "response_id": str(response.id),
            "instrument": response.instrument_id,
            "subject": int(with_subject),
        },
    )
