"""Campaign endpoints: create, print slips, consents, non-completers, coverage, rosters."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from litestar import MediaType, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody

from survey_service.api.params import QueryFlag, QueryWord, SchoolCode
from survey_service.campaigns import consents, coverage, roster_import
from survey_service.campaigns import service as campaigns
from survey_service.campaigns.schemas import ConsentRecorded, ConsentWithdrawn
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.errors import BadRequest
from survey_service.rosters import RosterFileError
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Staff = NamedDependency[StaffUser]
Now = NamedDependency[Clock]


@dataclass
class RosterUpload:
    """The multipart body of a roster upload: one file part named ``data``."""

    data: UploadFile


_ROSTER_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


@post(
    "/api/v1/campaigns",
    tags=["campaigns"],
    summary="Create a screening campaign",
    opt={"permission": "campaigns.create"},
)
async def campaign_create(
    data: JSONBody[campaigns.CampaignIn],
    db: Db,
    staff: Staff,
    clock: Now,
    rt: NamedDependency[Runtime],
) -> campaigns.CampaignOut:
    """Refused with 422 (nothing written) when a battery does not fit: an instrument outside
    its age range for a grade, a parent- or teacher-report form (parent forms go in
    ``guardian_battery``, answered by each student's guardian), or no text in one of the
    campaign's languages without ``allow_language_fallback``. ``warnings`` lists unvalidated
    translations and allowed English fallbacks."""
    return await campaigns.create_campaign(db, rt, staff, data, now=clock.now())


@post(
    "/api/v1/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/slips",
    tags=["campaigns"],
    status_code=200,
    media_type=MediaType.HTML,
    summary="Issue one-time access codes for a class and return printable slips",
    opt={"permission": "slips.print"},
)
async def campaign_slips(
    campaign_id: FromPath[uuid.UUID],
    class_id: FromPath[uuid.UUID],
    db: Db,
    staff: Staff,
    clock: Now,
    rt: NamedDependency[Runtime],
    lang: QueryWord = "zh-CN",
    respondent: QueryWord = "self",
    void_unused: QueryFlag = False,
) -> Response[str]:
    """``respondent=parent``: the guardian slips (guardian codes for the campaign's
    ``guardian_battery``, separate from the students' own codes). While the class holds
    unused codes of that kind: 409 ``slips_would_void`` with ``unused_codes``, unless
    ``void_unused=true``."""
    html = await campaigns.class_slips(
        db,
        staff,
        campaign_id,
        class_id,
        base_url=rt.settings.base_url,
        secret_key=rt.settings.secret_key,
        lang="en" if lang == "en" else "zh-CN",
        now=clock.now(),
        respondent=respondent,
        void_unused=void_unused,
    )
    return Response(html, media_type=MediaType.HTML, headers={"Cache-Control": "no-store"})


@post(
    "/api/v1/campaigns/{campaign_id:uuid}/consents",
    tags=["campaigns"],
    summary="Record a guardian's consent or refusal",
    opt={"permission": "consent.record"},
)
async def consent_record(
    campaign_id: FromPath[uuid.UUID],
    data: JSONBody[campaigns.ConsentIn],
    db: Db,
    staff: Staff,
    clock: Now,
) -> ConsentRecorded:
    return await campaigns.record_consent(db, staff, campaign_id, data, now=clock.now())


@post(
    "/api/v1/campaigns/{campaign_id:uuid}/consents/{student_id:uuid}/withdrawal",
    tags=["campaigns"],
    summary="Record a guardian's withdrawal of consent; processing for the campaign stops",
    opt={"permission": "consent.withdraw"},
)
async def consent_withdraw(
    campaign_id: FromPath[uuid.UUID],
    student_id: FromPath[uuid.UUID],
    data: JSONBody[consents.WithdrawalIn],
    db: Db,
    staff: Staff,
    clock: Now,
    rt: NamedDependency[Runtime],
) -> ConsentWithdrawn:
    """The student's and guardian's codes for the campaign stop working, a session in
    progress can neither save nor submit and its saved answers are erased (a critical saved
    answer is triaged first). An open case stays open with the counsellor, who is told."""
    return await consents.withdraw_consent(
        db, staff, campaign_id, student_id, data, rt=rt, now=clock.now()
    )


@get(
    "/api/v1/campaigns/{campaign_id:uuid}/non-completers",
    tags=["campaigns"],
    summary="Targeted students without a submission (for follow-up; no results)",
    opt={"permission": "completion.read"},
)
async def campaign_non_completers(
    campaign_id: FromPath[uuid.UUID], db: Db, staff: Staff, clock: Now
) -> list[campaigns.NonCompleter]:
    return await campaigns.non_completers(db, staff, campaign_id, now=clock.now())


@get(
    "/api/v1/coverage",
    tags=["campaigns"],
    summary="Coverage per class and school (district: one line per school)",
    opt={"permission": "coverage.read"},
)
async def coverage_get(
    db: Db,
    staff: Staff,
    clock: Now,
    campaign_id: FromQuery[uuid.UUID | None] = None,
) -> coverage.CoverageReport:
    return await coverage.coverage(db, staff, campaign_id=campaign_id, now=clock.now())


@post(
    "/api/v1/schools/{school_code:str}/roster",
    tags=["campaigns"],
    status_code=200,
    summary="Preview (apply=false) or import (apply=true) a roster CSV/XLSX file",
    opt={"permission": "rosters.import"},
    responses={
        422: ResponseSpec(
            roster_import.RosterReport,
            description="Rows with problems: the report names each (nothing imported)",
        )
    },
)
async def roster_upload(
    school_code: SchoolCode,
    data: Annotated[RosterUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    db: Db,
    staff: Staff,
    clock: Now,
    apply: FromQuery[bool] = False,
    confirm_leavers: FromQuery[str | None] = None,
    mode: QueryWord = "replace",
) -> Response[roster_import.RosterReport]:
    """The report lists every student the file would mark as left (``leavers``), with their
    open cases. Students missing from the file are marked as left only when
    ``confirm_leavers`` is the preview's ``confirm_leavers`` token; without it the apply
    imports everything else and leaves them active (``leavers_unconfirmed``). A token for
    another set of students answers 409 ``leavers_changed`` and writes nothing.

    ``mode=incremental`` only adds and updates students: nobody missing from the file is a
    leaver (``leavers`` empty, nothing to confirm). ``replace`` (the default) treats the file
    as the whole roster. Any other mode answers 422 ``invalid_mode`` naming the allowed ones."""
    roster_import.roster_mode(mode)  # before reading the upload: an unknown mode writes nothing
    suffix = Path(data.data.filename or "roster.csv").suffix.lower()
    if suffix not in _ROSTER_SUFFIXES:
        raise BadRequest(
            f"upload a .csv or .xlsx file (got {suffix or 'no extension'!r})",
            code="unsupported_file",
            message={
                "zh-CN": "请上传 .csv 或 .xlsx 格式的名册文件。",
                "en": "Upload the roster as a .csv or .xlsx file.",
            },
        )
    content = await data.data.read()
    if not content:
        raise BadRequest(
            "the file part `data` is empty",
            code="empty_file",
            message={"zh-CN": "上传的名册文件是空的。", "en": "The uploaded roster file is empty."},
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"roster{suffix}"
        path.write_bytes(content)
        try:
            report = await roster_import.import_roster(
                db,
                school_code=school_code,
                path=path,
                apply=apply,
                now=clock.now(),
                user=staff,
                confirm_leavers=confirm_leavers,
                mode=mode,
            )
        except RosterFileError as exc:
            raise BadRequest(str(exc), code="unreadable_roster") from exc
    return Response(report, status_code=422 if report.errors else 200)


ROUTES = [
    campaign_create,
    campaign_slips,
    consent_record,
    consent_withdraw,
    campaign_non_completers,
    coverage_get,
    roster_upload,
]
