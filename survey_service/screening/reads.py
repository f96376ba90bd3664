"""Student-side reads for the pages: the school's counsellors to show, and whether a submitted
session needs the urgent or the support text. Nothing here changes data.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from survey_service.db import (
    AsyncSession,
    ScreeningSession,
    StaffUser,
    TriageRecord,
)


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
