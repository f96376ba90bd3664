"""The deadline sweeper: escalates what nobody did in time.

- Cases nobody acknowledged climb their escalation ladder.
- Overdue tasks of acknowledged cases re-notify the counsellor, then climb the tier's ladder.
- A crisis plan whose review date has come raises a review task.
- An incident review not filed within 14 days is escalated to the district.
- Critical answers saved but never submitted (the session idle 30 minutes) are triaged and open
  a case like a submission would (``services.saved_triage``, issue 11; needs the runtime).
- Once a day, the retention job deletes or pseudonymises expired data (``services.retention``,
  issue 19).

Each ladder step fires exactly once and in order, even when the clock jumps forward by days;
the highest fired level is stored, so a clock that jumps back fires nothing early.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import triage
from survey_service.campaigns.service import targets
from survey_service.cases.events import case_event
from survey_service.cases.service import add_task, ladder_steps
from survey_service.db import (
    Campaign,
    Case,
    CaseTask,
    CrisisPlan,
    InboxItem,
    Incident,
    School,
    ScreeningSession,
)
from survey_service.notifications.service import enqueue, enqueue_case_notification
from survey_service.schools.calendars import school_calendar
from survey_service.screening.saved_triage import triage_saved_answers
from survey_service.services import audit, retention
from survey_service.services.runtime import Runtime
from survey_service.settings import Settings


class SweepStats(msgspec.Struct):
    cases_checked: int = 0
    escalations: int = 0
    task_escalations: int = 0
    plan_reviews: int = 0
    incident_escalations: int = 0
    reminders: int = 0
    saved_checked: int = 0
    saved_triaged: int = 0
    retention_ran: bool = False  # issue 19: the daily retention step ran in this pass
    retention_changed: int = 0
    audit_sealed: int = 0


def _steps(ladder: list[dict[str, object]]) -> tuple[triage.EscalationStep, ...]:
    return tuple(
        triage.EscalationStep(
            level=int(str(s["level"])),
            role=s["role"],  # type: ignore[arg-type]
            due_at=datetime.fromisoformat(str(s["due_at"])),
        )
        for s in ladder
    )


async def sweep(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime,
    runtime: Runtime | None = None,
) -> SweepStats:
    """Fire everything that is due at ``now`` (one transaction)."""
    stats = SweepStats()
    async with session_factory() as db, db.begin():
        if runtime is not None:
            # First: a case it opens is in the same pass's view of open cases.
            saved = await triage_saved_answers(db, runtime, now=now)
            stats.saved_checked, stats.saved_triaged = saved.checked, saved.triaged
        await _cases(db, settings, now, stats)
        await _tasks(db, settings, now, stats)
        if runtime is not None:
            await _plan_reviews(db, runtime, now, stats)
        await _incidents(db, settings, now, stats)
        await _reminders(db, settings, now, stats)
    # Retention (issue 19), at most once a day, in a transaction of its own; before sealing,
    # so its audit row is chained in the same pass.
    async with session_factory() as db, db.begin():
        if await retention.due(db, now):
            report = await retention.run_retention(
                db, policy=retention.policy_of(settings), secret_key=settings.secret_key, now=now
            )
            stats.retention_ran, stats.retention_changed = True, report.total()
    # Chain the audit rows written since the last pass, in short transactions of their own.
    stats.audit_sealed = await audit.seal_pending(session_factory, now=now)
    return stats


async def _cases(db: AsyncSession, settings: Settings, now: datetime, stats: SweepStats) -> None:
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
                case_event(
                    case.id,
                    "escalated",
                    at=now,
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


async def _tasks(db: AsyncSession, settings: Settings, now: datetime, stats: SweepStats) -> None:
    rows = (
        await db.execute(
            select(CaseTask, Case)
            .join(Case, Case.id == CaseTask.case_id)
            .where(
                CaseTask.status == "open",
                CaseTask.next_escalation_at.is_not(None),
                CaseTask.next_escalation_at <= now,
                # An unacknowledged case climbs its own ladder; its tasks wait for that.
                Case.status.notin_(("open", "closed")),
            )
            .order_by(CaseTask.next_escalation_at)
            .with_for_update(skip_locked=True, of=CaseTask)
        )
    ).all()
    for task, case in rows:
        ladder = _steps(task.ladder)
        for step in triage.due_escalations(ladder, fired_level=task.escalation_level, now=now):
            await enqueue_case_notification(
                db,
                case=case,
                event="task.overdue" if step.level == 1 else "task.escalated",
                level=step.level,
                recipient_role=step.role,
                deadline=task.due_at,
                base_url=settings.base_url,
                now=now,
                due_at=step.due_at,
                subject=str(task.id),
            )
            db.add(
                case_event(
                    case.id,
                    "task.escalated",
                    at=now,
                    data={
                        "task_id": str(task.id),
                        "task": task.kind,
                        "level": step.level,
                        "role": step.role,
                    },
                )
            )
            task.escalation_level = step.level
            stats.task_escalations += 1
        pending = [s for s in ladder if s.level > task.escalation_level]
        task.next_escalation_at = pending[0].due_at if pending else None


async def _plan_reviews(db: AsyncSession, rt: Runtime, now: datetime, stats: SweepStats) -> None:
    latest = (
        select(CrisisPlan.student_id, func.max(CrisisPlan.version).label("version"))
        .group_by(CrisisPlan.student_id)
        .subquery()
    )
    plans = (
        await db.scalars(
            select(CrisisPlan).join(
                latest,
                (latest.c.student_id == CrisisPlan.student_id)
                & (latest.c.version == CrisisPlan.version),
            )
        )
    ).all()
    for plan in plans:
        case = await db.scalar(
            select(Case).where(Case.student_id == plan.student_id, Case.status != "closed")
        )
        if case is None:
            continue
        school = await db.get_one(School, case.school_id)
        if now.astimezone(ZoneInfo(school.timezone)).date() < plan.review_on:
            continue
        tasks = (
            await db.scalars(
                select(CaseTask).where(CaseTask.case_id == case.id, CaseTask.kind == "plan_review")
            )
        ).all()
        if any(t.data.get("plan_version") == plan.version for t in tasks):
            continue
        calendar, _ = await school_calendar(db, school, now)
        review = triage.plan_review_task(
            msgspec.convert(plan.content, triage.CrisisPlan), calendar=calendar
        )
        add_task(
            db,
            case,
            kind="plan_review",
            due_at=review.due_at,
            calendar=calendar,
            policy=rt.policy_for(school.code),
            data={"plan_version": plan.version},
        )
        db.add(case_event(case.id, "plan.review_due", at=now, data={"version": plan.version}))
        stats.plan_reviews += 1


async def _incidents(
    db: AsyncSession, settings: Settings, now: datetime, stats: SweepStats
) -> None:
    overdue = (
        await db.scalars(
            select(Incident)
            .where(
                Incident.filed_at.is_(None),
                Incident.escalated_at.is_(None),
                Incident.review_due_at <= now,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    for incident in overdue:
        status = triage.incident_review_escalation(incident.recorded_at, filed_at=None, now=now)
        if not status.escalate_now:
            continue
        await enqueue(
            db,
            school_id=incident.school_id,
            case_id=None,
            tier=None,
            event="incident.review_overdue",
            level=2,
            recipient_role="district_officer",
            deadline=incident.review_due_at,
            link=f"{settings.base_url.rstrip('/')}/api/v1/incidents",
            dedup_key=f"incident:{incident.id}:review_overdue",
            now=now,
            extra={"incident_id": str(incident.id)},
        )
        incident.escalated_at = now
        stats.incident_escalations += 1


# One reminder per class and school day while a campaign is open, sent in the hour from 08:00
# local time (a sweeper that is down then skips that day's reminder rather than send it late).
REMINDER_HOUR = 8


async def _reminders(
    db: AsyncSession, settings: Settings, now: datetime, stats: SweepStats
) -> None:
    """Remind head teachers of their classes' non-completers (a count and a link; no results)."""
    campaigns = (
        await db.scalars(select(Campaign).where(Campaign.opens_at <= now, Campaign.closes_at > now))
    ).all()
    for campaign in campaigns:
        school = await db.get_one(School, campaign.school_id)
        local = now.astimezone(ZoneInfo(school.timezone))
        calendar, _ = await school_calendar(db, school, now)
        if local.hour != REMINDER_HOUR or not calendar.is_school_day(local.date()):
            continue
        submitted = set(
            (
                await db.scalars(
                    select(ScreeningSession.student_id).where(
                        ScreeningSession.campaign_id == campaign.id,
                        ScreeningSession.status == "submitted",
                        ScreeningSession.respondent == "self",  # a guardian's form is not theirs
                    )
                )
            ).all()
        )
        waiting: dict[uuid.UUID, int] = {}
        heads: dict[uuid.UUID, tuple[uuid.UUID | None, str]] = {}
        for student, klass in await targets(db, campaign):
            if student.id not in submitted:
                waiting[klass.id] = waiting.get(klass.id, 0) + 1
                heads[klass.id] = (klass.head_teacher_id, klass.name)
        for class_id, count in waiting.items():
            head_id, class_name = heads[class_id]
            if head_id is None:
                continue
            key = (
                "reminder-"
                + uuid.uuid5(
                    uuid.NAMESPACE_URL, f"{campaign.id}/{class_id}/{local.date().isoformat()}"
                ).hex
            )
            if await db.scalar(select(InboxItem.id).where(InboxItem.delivery_id == key)):
                continue
            # Straight into the head teacher's in-app queue, in this transaction.
            db.add(
                InboxItem(
                    user_id=head_id,
                    delivery_id=key,
                    event="campaign.reminder",
                    content={
                        "campaign": campaign.name,
                        "class": class_name,
                        "not_completed": count,
                        "closes_at": campaign.closes_at.isoformat(),
                        "link": f"{settings.base_url.rstrip('/')}/api/v1/campaigns/"
                        f"{campaign.id}/non-completers",
                    },
                    created_at=now,
                    read_at=None,
                )
            )
            stats.reminders += 1
