"""Student-side reads for the pages: a session as the pages show it (resumed from a browser's
cookie or just started), the school's counsellors to show, and whether a submitted session
needs the urgent or the support text. Nothing here changes data.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from survey_service.db import (
    AccessCode,
    AsyncSession,
    Campaign,
    School,
    ScreeningSession,
    StaffUser,
    Student,
    TriageRecord,
)
from survey_service.screening import service as screening
from survey_service.screening.help_contacts import help_contacts
from survey_service.screening.schemas import HelpContact, InstrumentOut
from survey_service.security import digest, normalize_access_code
from survey_service.services.runtime import Runtime


async def school_counsellors(
    db: AsyncSession, school_id: uuid.UUID
) -> list[tuple[str, str | None]]:
    """The school's active counsellors as (name, phone) for the student's help contacts."""
    rows = (
        await db.scalars(
            select(StaffUser)
            .where(
                StaffUser.school_id == school_id,
                StaffUser.role == "counsellor",
                StaffUser.active.is_(True),
            )
            .order_by(StaffUser.username)
        )
    ).all()
    return [(u.display_name, u.phone) for u in rows]


async def session_needs_urgent_help(db: AsyncSession, session_id: uuid.UUID) -> bool:
    """Whether the student's own submission was triaged red (the page shows urgent help)."""
    tier = await db.scalar(select(TriageRecord.tier).where(TriageRecord.session_id == session_id))
    return tier == "red"


# Pathways on which the student is shown the help contacts first and prominently (issue 11).
_SUICIDE_PATHWAYS = frozenset({"crisis", "suicide"})


async def session_on_suicide_pathway(db: AsyncSession, session_id: uuid.UUID) -> bool:
    """Whether this session's submission, or its saved answers triaged before it, fired a
    suicide or crisis pathway (by any reason, also when an open case's tier was kept).

    Only a yes/no for the thank-you page: which help to show first, never a score or tier.
    """
    rows = list(
        (await db.scalars(select(TriageRecord).where(TriageRecord.session_id == session_id))).all()
    )
    session = await db.get(ScreeningSession, session_id)
    if session is not None:
        saved = await db.scalars(
            select(TriageRecord).where(
                TriageRecord.student_id == session.student_id,
                TriageRecord.source == "saved_answers",
            )
        )
        rows += [
            r
            for r in saved.all()
            if any(
                (reason.get("evidence") or {}).get("session_id") == str(session_id)
                for reason in r.reasons
            )
        ]
    return any(
        r.pathway in _SUICIDE_PATHWAYS
        or any(reason.get("pathway") in _SUICIDE_PATHWAYS for reason in r.reasons)
        for r in rows
    )


@dataclass(frozen=True)
class SessionView:
    """Where a student (or guardian) stands: the session, its battery in the page language, the
    saved answers and save counter, the help contacts, and whether a consent notice comes first."""

    session_id: uuid.UUID
    status: str
    battery: tuple[InstrumentOut, ...]
    saved: dict[str, dict[str, Any]]
    contacts: tuple[HelpContact, ...]
    counsellors: tuple[tuple[str, str | None], ...]
    notice: bool
    version: int
    respondent: str


def needs_notice(campaign: Campaign) -> bool:
    """A consent notice comes first unless the campaign runs on a statutory basis."""
    if getattr(campaign, "consent_required", False):
        return True
    return getattr(campaign, "consent_rule", "statutory_basis") != "statutory_basis"


def battery_out(rt: Runtime, session: ScreeningSession, lang: str) -> list[InstrumentOut]:
    """The session's instruments in ``lang`` (or their published fallback, with a notice)."""
    return [
        screening.instrument_out(rt.catalogue.get(b["instrument_id"]), lang)
        for b in session.battery
    ]


async def session_view(
    db: AsyncSession, rt: Runtime, session_id: uuid.UUID, lang: str
) -> SessionView:
    """The session as the student pages show it, in ``lang``."""
    session = await db.get_one(ScreeningSession, session_id)
    return await _view(db, rt, session, lang)


async def resumable_session(
    db: AsyncSession,
    rt: Runtime,
    *,
    session_id: uuid.UUID,
    token: str,
    code: str,
    lang: str,
    now: datetime,
    allow_submitted: bool = False,
) -> SessionView | None:
    """The session a browser's cookie names, if its token is right, it belongs to ``code`` and
    the code and campaign are still open (or it was submitted and ``allow_submitted``)."""
    session = await db.get(ScreeningSession, session_id)
    if session is None or not hmac.compare_digest(
        session.token_digest, digest(rt.settings.secret_key, token)
    ):
        return None
    row = await _code_row(db, rt, code)
    if row is None or row.id != session.access_code_id:
        return None
    campaign = await db.get_one(Campaign, session.campaign_id)
    if session.status == "submitted":
        if not allow_submitted:
            return None
    elif (
        row.used_at is not None
        or now < campaign.opens_at
        or now >= min(row.expires_at, campaign.closes_at)
    ):
        return None
    return await _view(db, rt, session, lang, campaign)


async def _code_row(db: AsyncSession, rt: Runtime, code: str) -> AccessCode | None:
    normalized = normalize_access_code(code)
    if not normalized or len(normalized) > 64:
        return None
    return await db.scalar(
        select(AccessCode).where(
            AccessCode.code_digest == digest(rt.settings.secret_key, normalized)
        )
    )


async def _view(
    db: AsyncSession,
    rt: Runtime,
    session: ScreeningSession,
    lang: str,
    campaign: Campaign | None = None,
) -> SessionView:
    if campaign is None:
        campaign = await db.get_one(Campaign, session.campaign_id)
    student = await db.get_one(Student, session.student_id)
    school = await db.get_one(School, student.school_id)
    return SessionView(
        session_id=session.id,
        status=session.status,
        battery=tuple(
            screening.instrument_out(rt.catalogue.get(b["instrument_id"]), lang)
            for b in session.battery
        ),
        saved={k: dict(v) for k, v in (session.partial_answers or {}).items()},
        contacts=tuple(help_contacts(school)),
        counsellors=tuple(await school_counsellors(db, school.id)),
        notice=needs_notice(campaign),
        version=session.answers_version or 0,
        respondent=session.respondent,
    )
