"""One campaign's page (issue 13): progress per class, the slip-printing preview, a class's
non-completers, and reminders to the head teachers of classes that have not finished.

Counts and states only: nothing here reads an answer, a score or a tier, and no list is ordered
by anything but class and student number.

Reminders go to the head teachers of the classes that still have students to finish, ONE
notification per head teacher (a head teacher of two such classes gets one message naming
both), through the school's route for head teachers (``notifications.routing.route_for``; the
in-app queue when the school set none): one outbox row per head teacher on the route's first
channel, whatever its kind — WeCom or DingTalk group robot, e-mail, SMS, generic webhook or
in-app. The dispatcher delivers it like a case notice (retries, the same delivery id on every
attempt, signing, de-duplication) and renders it per channel, in the channel's language, from
``triage.channels.CampaignReminder``; when the channel fails for good the reminder is queued on
the route's fallback for the same head teacher only, never for every head teacher.

A message names the school, the campaign, each class, how many of its students have not
finished, when the screening closes and the link to the head teacher's class page: never a
student's name, an answer or a result (the content type has no field for one). Each
sending is audited (``campaign.reminder``, the classes as subjects); the audit log is also what
says when a class was last reminded, and a class reminded in the last hour is not reminded
again (409 ``reminder_too_soon``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from survey_service.accounts import permissions
from survey_service.accounts.access import campaign_in_scope, class_in_scope, scope_of
from survey_service.campaigns import service as campaigns
from survey_service.db import (
    AccessCode,
    AsyncSession,
    AuditEntry,
    Campaign,
    Consent,
    OutboxMessage,
    School,
    SchoolClass,
    ScreeningSession,
    StaffUser,
)
from survey_service.errors import Conflict, NotFound, Unprocessable
from survey_service.notifications.routing import route_for
from survey_service.services import audit
from triage.channels import (
    REMINDER_EVENT,
    CampaignReminder,
    ChannelConfig,
    ClassCount,
    ContentError,
    content_payload,
    render_text,
    render_title,
)

#: A class is reminded at most once in this time (a second click, a second admin).
REMINDER_GAP = timedelta(hours=1)
AUDIT_ACTION = "campaign.reminder"
HEAD_TEACHER = "head_teacher"

# --------------------------------------------------------------------------- the campaign


@dataclass(frozen=True)
class CampaignSummary:
    """What every page of the campaign shows in its heading."""

    campaign_id: uuid.UUID
    name: str
    school_year: str
    school_name: str
    opens_at: datetime
    closes_at: datetime
    status: str  # upcoming | open | closed
    consent_rule: str
    timezone: str
    guardian_slips: bool  # the campaign has a guardian battery (guardian slips to print)


def campaign_status(campaign: Campaign, now: datetime) -> str:
    """``upcoming`` before the window, ``open`` in it, ``closed`` after it."""
    if now < campaign.opens_at:
        return "upcoming"
    return "open" if now < campaign.closes_at else "closed"


async def summary(db: AsyncSession, campaign: Campaign, now: datetime) -> CampaignSummary:
    school = await db.get_one(School, campaign.school_id)
    return CampaignSummary(
        campaign_id=campaign.id,
        name=campaign.name,
        school_year=campaign.school_year,
        school_name=school.name,
        opens_at=campaign.opens_at,
        closes_at=campaign.closes_at,
        status=campaign_status(campaign, now),
        consent_rule=campaign.consent_rule,
        timezone=school.timezone,
        guardian_slips=bool(campaigns.guardian_battery(campaign)),
    )


# --------------------------------------------------------------------------- progress per class


@dataclass(frozen=True)
class ClassProgress:
    """One class in one campaign: counts only.

    ``declined``: the guardian refused or withdrew (and the student has not submitted);
    ``awaiting_consent``: consent is needed and not on file; ``not_completed``: the students
    still to finish — neither submitted nor declined (those awaiting consent included).
    """

    class_id: uuid.UUID
    grade: int
    class_name: str
    head_teacher_id: uuid.UUID | None
    head_teacher_name: str | None
    students: int
    consented: int
    declined: int
    awaiting_consent: int
    completed: int
    not_completed: int
    last_reminded: datetime | None
    remind_again_at: datetime | None = None  # reminded in the last hour: not before this


@dataclass(frozen=True)
class CampaignProgress:
    campaign: CampaignSummary
    classes: list[ClassProgress]
    totals: dict[str, int] = field(default_factory=dict)


@dataclass
class _Tally:
    klass: SchoolClass
    students: int = 0
    consented: int = 0
    declined: int = 0
    awaiting: int = 0
    completed: int = 0
    not_completed: int = 0


async def _progress(
    db: AsyncSession, campaign: Campaign, now: datetime, *, head: StaffUser | None
) -> list[ClassProgress]:
    """Per targeted class (by grade, then name), its counts; ``head``: only their classes."""
    school = await db.get_one(School, campaign.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    submitted = set(
        (
            await db.scalars(
                select(ScreeningSession.student_id).where(
                    ScreeningSession.campaign_id == campaign.id,
                    ScreeningSession.respondent == "self",  # a guardian's form is not theirs
                    ScreeningSession.status == "submitted",
                )
            )
        ).all()
    )
    decisions = {
        c.student_id: c.status
        for c in (await db.scalars(select(Consent).where(Consent.campaign_id == campaign.id))).all()
    }
    tallies: dict[uuid.UUID, _Tally] = {}
    for student, klass in await campaigns.targets(db, campaign):
        if head is not None and klass.head_teacher_id != head.id:
            continue
        tally = tallies.setdefault(klass.id, _Tally(klass))
        tally.students += 1
        decision = decisions.get(student.id)
        needed = campaigns.consent_needed(campaign, student, today)
        if decision in ("refused", "withdrawn"):
            tally.declined += 1
        elif decision == "granted" or not needed:
            tally.consented += 1
        else:
            tally.awaiting += 1
        if student.id in submitted:
            tally.completed += 1
        elif decision not in ("refused", "withdrawn"):
            tally.not_completed += 1
    heads = await _staff_names(db, [t.klass.head_teacher_id for t in tallies.values()])
    reminded = await last_reminded(db, campaign)
    return [
        ClassProgress(
            class_id=t.klass.id,
            grade=t.klass.grade,
            class_name=t.klass.name,
            head_teacher_id=t.klass.head_teacher_id if t.klass.head_teacher_id in heads else None,
            head_teacher_name=heads.get(t.klass.head_teacher_id)
            if t.klass.head_teacher_id
            else None,
            students=t.students,
            consented=t.consented,
            declined=t.declined,
            awaiting_consent=t.awaiting,
            completed=t.completed,
            not_completed=t.not_completed,
            last_reminded=reminded.get(t.klass.id),
            remind_again_at=_again(reminded.get(t.klass.id), now),
        )
        for t in tallies.values()  # ``targets`` is ordered by grade, class name, number
    ]


def _again(last: datetime | None, now: datetime) -> datetime | None:
    """When a class reminded at ``last`` may be reminded again, if that is still to come."""
    if last is None or now - last >= REMINDER_GAP:
        return None
    return last + REMINDER_GAP


async def _staff_names(
    db: AsyncSession, ids: list[uuid.UUID | None]
) -> dict[uuid.UUID | None, str]:
    """Display names of the active accounts among ``ids`` (a disabled head teacher is none)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = (
        await db.scalars(
            select(StaffUser).where(StaffUser.id.in_(wanted), StaffUser.active.is_(True))
        )
    ).all()
    return {u.id: u.display_name for u in rows}


async def last_reminded(db: AsyncSession, campaign: Campaign) -> dict[uuid.UUID, datetime]:
    """When each class of the campaign was last reminded (from the audit log)."""
    rows = (
        await db.execute(
            select(AuditEntry.at, AuditEntry.subject_ids, AuditEntry.detail).where(
                AuditEntry.action == AUDIT_ACTION, AuditEntry.school_id == campaign.school_id
            )
        )
    ).all()
    out: dict[uuid.UUID, datetime] = {}
    for at, subjects, detail in rows:
        if not isinstance(detail, dict) or detail.get("campaign_id") != str(campaign.id):
            continue
        for subject in subjects or []:
            class_id = uuid.UUID(str(subject))
            if class_id not in out or at > out[class_id]:
                out[class_id] = at
    return out


async def campaign_progress(
    db: AsyncSession, user: StaffUser, campaign_id: uuid.UUID, *, now: datetime
) -> CampaignProgress:
    """The campaign page: its window and status, and per class the counts (no names)."""
    permissions.require(user, "campaigns.page")
    campaign = await campaign_in_scope(db, user, campaign_id)
    head = user if scope_of(user) == "class" else None
    classes = await _progress(db, campaign, now, head=head)
    keys = ("students", "consented", "declined", "awaiting_consent", "completed", "not_completed")
    totals = {k: sum(int(getattr(c, k)) for c in classes) for k in keys}
    return CampaignProgress(await summary(db, campaign, now), classes, totals)


# --------------------------------------------------------------------------- slips


@dataclass(frozen=True)
class SlipPreview:
    """What printing a class's slips would do, before anything is printed or voided."""

    campaign: CampaignSummary
    class_id: uuid.UUID
    class_name: str
    grade: int
    respondent: str  # self | parent
    to_print: int  # new slips (one per targeted student without a used code)
    to_void: int  # unused codes printed earlier that printing voids
    already_used: int  # students whose code was used for a submission: no new slip


async def slip_preview(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    class_id: uuid.UUID,
    *,
    respondent: str,
    now: datetime,
) -> SlipPreview:
    """The numbers the confirmation page shows: the same students and codes
    ``service.class_slips`` prints and voids (its own count of unused codes). Reads only."""
    permissions.require(user, "slips.print")
    if respondent not in campaigns.RESPONDENTS:
        raise Unprocessable(
            f"respondent must be one of {', '.join(campaigns.RESPONDENTS)}, got {respondent!r}",
            code="invalid_respondent",
        )
    campaign = await campaign_in_scope(db, user, campaign_id)
    klass = await class_in_scope(db, user, class_id)  # a head teacher: their own classes
    if klass.school_id != campaign.school_id:
        raise NotFound("No such class", code="class_not_found")
    info = await summary(db, campaign, now)
    if respondent == "parent" and not info.guardian_slips:
        raise Conflict(
            "this campaign has no guardian_battery, so there are no guardian slips to print",
            code="no_guardian_battery",
            message={
                "zh-CN": "本次筛查没有家长问卷，无需打印家长登录条。",
                "en": "This campaign has no guardian questionnaire: there are no guardian "
                "slips to print.",
            },
        )
    students = [s.id for s, k in await campaigns.targets(db, campaign) if k.id == class_id]
    used = 0
    if students:
        used = int(
            await db.scalar(
                select(func.count())
                .select_from(AccessCode)
                .where(
                    AccessCode.campaign_id == campaign.id,
                    AccessCode.respondent == respondent,
                    AccessCode.used_at.is_not(None),
                    AccessCode.student_id.in_(students),
                )
            )
            or 0
        )
    # The slips service's own count, so the page says exactly what printing will void.
    unused = await campaigns._unused_codes(db, campaign.id, class_id, respondent)
    return SlipPreview(
        campaign=info,
        class_id=klass.id,
        class_name=klass.name,
        grade=klass.grade,
        respondent=respondent,
        to_print=len(students) - used,
        to_void=unused,
        already_used=used,
    )


# --------------------------------------------------------------------------- non-completers


@dataclass(frozen=True)
class ClassNonCompleters:
    campaign: CampaignSummary
    class_id: uuid.UUID
    class_name: str
    grade: int
    rows: list[campaigns.NonCompleter]  # by student number
    last_reminded: datetime | None
    remind_again_at: datetime | None = None


async def class_non_completers(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    class_id: uuid.UUID,
    *,
    now: datetime,
) -> ClassNonCompleters:
    """The students of one class without a submission (``service.non_completers``, audited
    there), by student number. A head teacher: their own classes only (404 otherwise)."""
    permissions.require(user, "completion.read")
    campaign = await campaign_in_scope(db, user, campaign_id)
    klass = await class_in_scope(db, user, class_id)
    if klass.school_id != campaign.school_id:
        raise NotFound("No such class", code="class_not_found")
    rows = [
        r
        for r in await campaigns.non_completers(db, user, campaign.id, now=now)
        if r.grade == klass.grade and r.class_name == klass.name
    ]
    reminded = await last_reminded(db, campaign)
    return ClassNonCompleters(
        campaign=await summary(db, campaign, now),
        class_id=klass.id,
        class_name=klass.name,
        grade=klass.grade,
        rows=sorted(rows, key=lambda r: r.student_number),
        last_reminded=reminded.get(klass.id),
        remind_again_at=_again(reminded.get(klass.id), now),
    )


# --------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class ReminderResult:
    head_teachers: int  # notifications sent: one per head teacher
    classes: int  # classes named in them
    skipped_recent: int  # classes reminded in the last hour (all-classes reminder only)
    without_head: int  # classes with students to finish but no active head teacher
    channel: str  # the kind of channel they were queued on: inapp, webhook, wecom, dingtalk, ...


def _local(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _too_soon(klass: ClassProgress, tz: str) -> Conflict:
    assert klass.last_reminded is not None
    at = _local(klass.last_reminded, tz)
    again = _local(klass.last_reminded + REMINDER_GAP, tz)
    return Conflict(
        f"{klass.class_name} was reminded at {at}; remind a class at most once an hour",
        code="reminder_too_soon",
        message={
            "zh-CN": f"{klass.class_name} 已在 {at} 提醒过班主任。同一个班级 1 小时内只能提醒一次，"
            f"请在 {again} 之后再试。",
            "en": f"The head teacher of {klass.class_name} was reminded at {at}. A class is "
            f"reminded at most once an hour: try again after {again}.",
        },
    )


async def send_reminders(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    class_id: uuid.UUID | None,
    *,
    base_url: str,
    now: datetime,
) -> ReminderResult:
    """Remind the head teachers of one class (``class_id``) or of every class with students
    still to finish (``None``), one notification per head teacher; audited.

    409 ``reminder_too_soon`` for a class reminded in the last hour (the all-classes reminder
    skips those classes, and answers 409 only when nothing else is left to remind), 409
    ``campaign_not_open`` outside the window, 409 ``nothing_to_remind`` when every student
    has finished or the classes have no head teacher.
    """
    permissions.require(user, "reminders.send")
    campaign = await campaign_in_scope(db, user, campaign_id)
    if class_id is not None:
        klass = await class_in_scope(db, user, class_id)
        if klass.school_id != campaign.school_id:
            raise NotFound("No such class", code="class_not_found")
    info = await summary(db, campaign, now)
    if info.status != "open":
        raise Conflict(
            "reminders are sent only while the campaign is open",
            code="campaign_not_open",
            message={
                "zh-CN": "只有在筛查进行期间才能提醒班主任。",
                "en": "Head teachers can be reminded only while the screening is open.",
            },
        )
    progress = await _progress(db, campaign, now, head=None)
    chosen = [p for p in progress if class_id is None or p.class_id == class_id]
    if class_id is not None and not chosen:
        raise NotFound("The class is not part of this campaign", code="class_not_found")
    recent = [
        p for p in chosen if p.last_reminded is not None and now - p.last_reminded < REMINDER_GAP
    ]
    if class_id is not None and recent:
        raise _too_soon(recent[0], info.timezone)
    waiting = [p for p in chosen if p.not_completed > 0 and p not in recent]
    due = [p for p in waiting if p.head_teacher_id is not None]
    if not due:
        if recent and class_id is None:
            raise _too_soon(recent[0], info.timezone)
        raise Conflict(
            "no class has students to finish and a head teacher to remind",
            code="nothing_to_remind",
            message={
                "zh-CN": "没有需要提醒的班级：学生都已完成，或者班级没有指定班主任。",
                "en": "There is no class to remind: every student has finished, or the class "
                "has no head teacher.",
            },
        )
    by_head: dict[uuid.UUID, list[ClassProgress]] = defaultdict(list)
    for p in due:
        assert p.head_teacher_id is not None
        by_head[p.head_teacher_id].append(p)
    school = await db.get_one(School, campaign.school_id)
    config = (await route_for(db, school, HEAD_TEACHER)).channels[0]
    link = f"{base_url.rstrip('/')}/staff/class"
    sending = uuid.uuid4().hex  # this sending's rows share a de-duplication stem
    for head_id, classes in by_head.items():
        _queue(
            db,
            info=info,
            school=school,
            config=config,
            head_id=head_id,
            classes=classes,
            link=link,
            sending=sending,
            now=now,
        )
    channel = config.type
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action=AUDIT_ACTION,
        subject_type="class",
        subject_ids=[p.class_id for p in due],
        school_id=campaign.school_id,
        now=now,
        detail={
            "campaign_id": str(campaign.id),
            "head_teachers": len(by_head),
            "channel": channel,
        },
    )
    return ReminderResult(
        head_teachers=len(by_head),
        classes=len(due),
        skipped_recent=len(recent),
        without_head=len(waiting) - len(due),
        channel=channel,
    )


def reminder_content(
    info: CampaignSummary,
    *,
    school_name: str,
    classes: list[ClassProgress],
    link: str,
    delivery_id: str,
) -> CampaignReminder:
    """What one head teacher's reminder says (``triage.channels`` renders it per channel).

    422 ``reminder_not_sendable`` when a name is too long for a message or a head teacher
    has more classes than one message names (nothing is queued then).
    """
    try:
        return CampaignReminder(
            delivery_id=delivery_id,
            school_name=school_name,
            campaign_name=info.name,
            classes=tuple(ClassCount(c.class_name, c.not_completed) for c in classes),
            closes_at=info.closes_at,
            link=link,
            recipient_role=HEAD_TEACHER,
            timezone=info.timezone,
        )
    except ContentError as exc:
        raise Unprocessable(
            f"the reminder cannot be sent: {exc}",
            code="reminder_not_sendable",
            message={
                "zh-CN": "这条提醒无法发送：筛查或班级名称过长，或一位班主任负责的班级过多。",
                "en": "This reminder cannot be sent: a screening or class name is too long, "
                "or one head teacher has too many classes.",
            },
        ) from exc


def _queue(
    db: AsyncSession,
    *,
    info: CampaignSummary,
    school: School,
    config: ChannelConfig,
    head_id: uuid.UUID,
    classes: list[ClassProgress],
    link: str,
    sending: str,
    now: datetime,
) -> None:
    """One outbox row for one head teacher on ``config``: the dispatcher delivers it (a
    webhook gets the payload as it is, signed; every other channel its rendering)."""
    delivery_id = uuid.uuid4().hex
    content = reminder_content(
        info, school_name=school.name, classes=classes, link=link, delivery_id=delivery_id
    )
    payload: dict[str, object] = {
        **content_payload(content),
        "school_id": str(school.id),
        "campaign_id": str(info.campaign_id),
        "recipient_user_id": str(head_id),
        # For webhook receivers: the text the other channels show, in the channel's language.
        "title": render_title(content, config.lang),
        "text": render_text(content, config.lang),
        "created_at": now.isoformat().replace("+00:00", "Z"),
    }
    db.add(
        OutboxMessage(
            delivery_id=delivery_id,
            # ``{stem}:{channel}:{person}`` like every queued row: a fallback of this row is
            # queued once per channel and person (``workers.dispatcher``).
            dedup_key=f"{REMINDER_EVENT}:{info.campaign_id}:{sending}:{config.name}:{head_id}",
            case_id=None,
            school_id=school.id,
            event=REMINDER_EVENT,
            channel=config.name,
            recipient_role=HEAD_TEACHER,
            recipient_user_id=head_id,
            tier=None,
            payload=payload,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
