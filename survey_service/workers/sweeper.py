"""The deadline sweeper: escalates cases nobody acknowledged in time.

Each ladder step fires exactly once and in order, even when the clock jumps forward by days;
the highest fired level is stored on the case, so a clock that jumps back fires nothing early.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import triage

from ..db import Case, CaseEvent
from ..services.cases import ladder_steps
from ..services.notifications import enqueue_case_notification
from ..settings import Settings


class SweepStats(msgspec.Struct):
    cases_checked: int = 0
    escalations: int = 0


async def sweep(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings, *, now: datetime
) -> SweepStats:
    """Fire every escalation step that is due at ``now`` for unacknowledged cases."""
    stats = SweepStats()
    async with session_factory() as db, db.begin():
        cases = (
            await db.scalars(
                select(Case)
                .where(
                    Case.status == "open",
                    Case.next_escalation_at.is_not(None),
                    Case.next_escalation_at <= now,
                )
                .order_by(Case.next_escalation_at)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for case in cases:
            stats.cases_checked += 1
            ladder = ladder_steps(case)
            for step in triage.due_escalations(ladder, fired_level=case.escalation_level, now=now):
                await enqueue_case_notification(
                    db,
                    case=case,
                    event="case.escalated",
                    level=step.level,
                    recipient_role=step.role,
                    deadline=case.acknowledge_by,
                    base_url=settings.base_url,
                    now=now,
                    due_at=step.due_at,
                )
                db.add(
                    CaseEvent(
                        case_id=case.id,
                        kind="escalated",
                        actor_id=None,
                        at=now,
                        note=None,
                        data={
                            "level": step.level,
                            "role": step.role,
                            "due_at": step.due_at.isoformat(),
                        },
                    )
                )
                case.escalation_level = step.level
                stats.escalations += 1
            pending = [s for s in ladder if s.level > case.escalation_level]
            case.next_escalation_at = pending[0].due_at if pending else None
    return stats
