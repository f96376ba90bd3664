"""The student's file (一人一档) printed as PDF, for a counsellor who hands a case over (issue 15).

A counsellor or school lead prints what the file page shows them — identity, cases, the tier
history with its reasons, the crisis plan (一生一策), the care groups, guardian contacts,
referrals, incidents and every entry of the file — laid out for A4 with "机密 Confidential", who
printed it and when on every page. The reads go through the same audited service functions as
the file and case pages (``student_file``, ``plans``, ``care_group``, ``incidents``), so the
print can never show more than the screen; the print itself is audited as
``student.file_print`` with its purpose (a code from :data:`PURPOSES`, never free text, so
nothing about the student can reach the audit log through it).

:func:`printable_file` gathers (in the request's transaction); :func:`render_file_html` and
:func:`render_file_pdf` are pure layout and run after it, the PDF in a worker thread.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.cases import care_group, incidents, plans, reads, student_file
from survey_service.cases.schemas import PlanOut, ReferralOut
from survey_service.db import AsyncSession, Guardian, StaffUser, Student
from survey_service.errors import BadRequest, Forbidden, NotFound, ServiceError
from survey_service.pages._web import local_date, local_time, school_year_of
from survey_service.pages.i18n import LANGUAGES, TEXT, label
from survey_service.reports.pdf import (
    REPORT_FONT_FAMILY,
    ReportFont,
    ReportFontMissing,
    find_report_font,
    render_pdf,
)
from survey_service.services import audit

#: Why a file may be printed; the code is recorded with the print in the audit log.
PURPOSES = ("transfer", "referral", "case_conference")
#: The operation that prints a file (counsellor and school lead: ``accounts.permissions``).
OPERATION = "files.print"
AUDIT_ACTION = "student.file_print"
TEMPLATE = "report_student_file.html"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class ReportUnavailable(ServiceError):
    """The server cannot lay out a PDF (no font with Chinese glyphs): the operator's to fix."""

    status, title = 503, "Service unavailable"


@dataclass(frozen=True)
class CaseGroup:
    """One case of the student and its care group's current members (with names)."""

    case_id: uuid.UUID
    tier: str
    status: str
    opened_at: datetime
    members: tuple[care_group.GroupMember, ...]


@dataclass(frozen=True)
class GuardianContact:
    name: str
    relation: str
    phone: str | None


@dataclass(frozen=True)
class PrintedFile:
    """Everything the printed file shows, as read for ``printed_by`` at ``printed_at``."""

    file: student_file.StudentFile
    plan: PlanOut | None
    cases: tuple[CaseGroup, ...]
    tiers: tuple[student_file.FileEntry, ...]  # oldest first
    guardians: tuple[GuardianContact, ...]
    referrals: tuple[ReferralOut, ...]
    incidents: tuple[incidents.IncidentView, ...]
    purpose: str
    printed_by: str
    printed_role: str
    printed_at: datetime


def check_purpose(purpose: str | None) -> str:
    """``purpose`` if it is one of :data:`PURPOSES`; ``BadRequest`` naming it otherwise."""
    if purpose in PURPOSES:
        return purpose
    allowed = ", ".join(PURPOSES)
    raise BadRequest(
        f"purpose: must be one of {allowed}",
        code="invalid_print_purpose",
        message={
            "zh-CN": f"请选择打印用途（purpose：{allowed}）。",
            "en": f"Choose why the file is printed (purpose: one of {allowed}).",
        },
        extra={"field": "purpose"},
    )


def report_font(configured: str | None) -> ReportFont:
    """The font the PDF embeds; :class:`ReportUnavailable` (503) saying what to install."""
    try:
        return find_report_font(configured)
    except ReportFontMissing as exc:
        raise ReportUnavailable(str(exc), code="report_font_missing") from None


async def printable_file(
    db: AsyncSession,
    user: StaffUser,
    student_id: uuid.UUID,
    *,
    purpose: str | None,
    lang: str,
    now: datetime,
) -> PrintedFile:
    """The student's file as it is printed, for a counsellor or school lead of the student's
    school (another school's student: 404). Audited as ``student.file_print`` with the purpose
    and language, besides the reads it is made of (``student.file``, ``plan.read``)."""
    permissions.require(user, OPERATION)
    chosen = check_purpose(purpose)
    if lang not in LANGUAGES:
        raise BadRequest(f"lang: must be one of {', '.join(LANGUAGES)}", code="invalid_language")
    file = await student_file.student_file(db, user, student_id, now=now)
    if file.name is None:  # pragma: no cover - the printing roles always see identities
        raise Forbidden(
            "The file is printed only by those who see the student's identity",
            code="forbidden_view",
        )
    try:
        plan: PlanOut | None = await plans.current_plan(db, user, file.student_id, now=now)
    except NotFound:
        plan = None
    cases = []
    referrals: list[ReferralOut] = []
    for entry in sorted(
        (e for e in file.entries if e.kind == "case"), key=lambda e: e.at, reverse=True
    ):
        case_id = uuid.UUID(entry.summary["case_id"])
        group = await care_group.group_page(db, user, case_id, now=now)
        cases.append(
            CaseGroup(
                case_id=case_id,
                tier=entry.summary["tier"],
                status=entry.summary["status"],
                opened_at=entry.at,
                members=tuple(group.members),
            )
        )
        referrals += await reads.case_referrals(db, case_id)
    guardians = (
        await db.scalars(
            select(Guardian)
            .where(Guardian.student_id == file.student_id)
            .order_by(Guardian.relation, Guardian.name)
        )
    ).all()
    found = await incidents.student_incidents(db, user, file.student_id, now=now)
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action=AUDIT_ACTION,
        subject_type="student",
        subject_ids=[file.student_id],
        school_id=(await db.get_one(Student, file.student_id)).school_id,
        now=now,
        detail={"purpose": chosen, "language": lang, "format": "pdf"},
    )
    return PrintedFile(
        file=file,
        plan=plan,
        cases=tuple(cases),
        tiers=tuple(e for e in file.entries if e.kind == "triage"),
        guardians=tuple(GuardianContact(g.name, g.relation, g.phone) for g in guardians),
        referrals=tuple(sorted(referrals, key=lambda r: r.sent_at)),
        incidents=tuple(found),
        purpose=chosen,
        printed_by=user.display_name,
        printed_role=user.role,
        printed_at=now,
    )


@functools.cache
def _environment() -> jinja2.Environment:
    # The app's page templates are rendered with jinja's default (lenient) undefined, and the
    # print includes two of them (the timeline and the plan); the same here.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _upcoming(entries: list[student_file.FileEntry]) -> list[student_file.FileEntry]:
    """Open tasks, the soonest due first (the file page's "upcoming" list)."""
    return sorted(
        (e for e in entries if e.kind == "task" and e.summary.get("status") == "open"),
        key=lambda e: e.at,
    )


def _timeline(entries: list[student_file.FileEntry], now: datetime) -> list[tuple[str, list[Any]]]:
    """What happened, newest first, grouped by school year, as the file page shows it: open
    tasks not yet due are listed with the upcoming tasks, not here."""
    years: dict[str, list[Any]] = {}
    for entry in sorted(entries, key=lambda e: e.at, reverse=True):
        if entry.kind == "task" and entry.summary.get("status") == "open" and entry.at > now:
            continue
        years.setdefault(school_year_of(entry.at), []).append(entry)
    return list(years.items())


def render_file_html(printed: PrintedFile, lang: str, font: ReportFont) -> str:
    """The printed file as one HTML document (A4, Chinese font embedded by ``font``)."""
    t = TEXT[lang]
    file = printed.file
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            lang=lang,
            t=t,
            label=label,
            local_time=local_time,
            local_date=local_date,
            font_css=font.css(),
            font_family=REPORT_FONT_FAMILY,
            printed=printed,
            file=file,
            plan=printed.plan,
            timeline=_timeline(file.entries, printed.printed_at),
            upcoming=_upcoming(file.entries),
            now=printed.printed_at,
            printed_line=t["fp_printed"].format(
                printed.printed_by,
                label("role", printed.printed_role, lang),
                local_time(printed.printed_at),
            ),
            # The shared timeline partial: scores and notes as the file showed them (the
            # printing roles see everything), no links out of a printed page.
            can_open_cases=False,
            see_scores=True,
        )
    )


def render_file_pdf(printed: PrintedFile, lang: str, font: ReportFont) -> bytes:
    """The printed file as PDF bytes (blocking: call it in a worker thread)."""
    title = f"{TEXT[lang]['fp_title']} · 机密 Confidential"
    return render_pdf(render_file_html(printed, lang, font), font, title=title)
