"""The school's on-call rota (issue 11): who is paged outside school hours, read and set.

Red and orange suicide-pathway cases page the rota members active at the moment a case
notification is created outside school hours (``triage.channels.on_call_recipients``); the
outbox rows are written by :mod:`.notifications`. The rota is stored on the school
(``schools.on_call_rota``); an empty rota means the default: the school lead and the
counsellors, on their SMS channel if configured, else their first configured channel.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import school_in_scope
from survey_service.db import AsyncSession, School, StaffUser
from survey_service.errors import NotFound, Unprocessable
from survey_service.notifications.routing import school_channels, school_routes
from survey_service.schools.calendars import school_calendar
from survey_service.services import audit
from triage.channels import (
    OnCallEntry,
    OnCallError,
    OnCallPick,
    OnCallStaff,
    check_rota_channels,
    on_call_recipients,
    parse_rota,
    rota_members,
)

#: Which default applies to an empty rota, in both languages.
DEFAULT_ROTA = {
    "zh-CN": "默认值班：分管校领导和心理老师，在校外时间通过短信通道通知；"
    "未配置短信通道的，使用其通知路由中的第一个通道。",
    "en": "Default rota: the school lead and the counsellors, outside school hours, on their "
    "SMS channel if one is configured, else on the first channel of their route.",
}


class MemberOut(msgspec.Struct, frozen=True):
    """A member the rota names, on the channel they would be paged on."""

    user_id: str
    display_name: str
    role: str
    channel: str
    entry: int | None


class OnCallOut(msgspec.Struct, frozen=True):
    school_code: str
    entries: list[OnCallEntry]
    default_applies: bool
    default: dict[str, str] | None
    channels: list[str]
    members: list[MemberOut]


async def _staff(db: AsyncSession, school: School) -> list[StaffUser]:
    return list(
        (
            await db.scalars(
                select(StaffUser)
                .where(StaffUser.school_id == school.id, StaffUser.active.is_(True))
                .order_by(StaffUser.username)
            )
        ).all()
    )


def stored_rota(school: School) -> tuple[OnCallEntry, ...]:
    """The school's rota as stored (validated when it was set)."""
    return parse_rota(list(school.on_call_rota or []))


async def _out(db: AsyncSession, school: School, entries: tuple[OnCallEntry, ...]) -> OnCallOut:
    staff = await _staff(db, school)
    by_id = {str(s.id): s for s in staff}
    channels = await school_channels(db, school)
    members = rota_members(
        entries,
        staff=[OnCallStaff(user_id=str(s.id), role=s.role) for s in staff],
        routes=await school_routes(db, school),
        channels=channels,
    )
    return OnCallOut(
        school_code=school.code,
        entries=list(entries),
        default_applies=not entries,
        default=dict(DEFAULT_ROTA) if not entries else None,
        channels=[c.name for c in channels],
        members=[
            MemberOut(
                user_id=p.user_id,
                display_name=by_id[p.user_id].display_name,
                role=p.role,
                channel=p.channel,
                entry=p.entry,
            )
            for p in members
        ],
    )


async def get_on_call(db: AsyncSession, user: StaffUser, school_code: str) -> OnCallOut:
    """The school's rota and whom it names (school lead, counsellor, district officer)."""
    permissions.require(user, "rota.read")
    school = await school_in_scope(db, user, school_code)
    return await _out(db, school, stored_rota(school))


async def put_on_call(
    db: AsyncSession, user: StaffUser, school_code: str, data: object, *, now: datetime
) -> OnCallOut:
    """Validate and store the school's rota (school lead or district officer); audited.

    Raises ``Unprocessable`` (422) naming the field (``extra["field"]``) when the rota is not
    valid; nothing is written then.
    """
    permissions.require(user, "rota.edit")
    school = await school_in_scope(db, user, school_code)
    try:
        entries = parse_rota(data)
        check_rota_channels(entries, channels=await school_channels(db, school))
        staff_ids = {str(s.id) for s in await _staff(db, school)}
        for index, entry in enumerate(entries):
            if entry.user_id is not None and _canonical(entry.user_id) not in staff_ids:
                raise OnCallError(
                    f"entries[{index}].user_id", "no active staff member of this school has it"
                )
    except OnCallError as exc:
        raise Unprocessable(
            f"the on-call rota is not valid: {exc}",
            code="invalid_on_call",
            message={
                "zh-CN": f"值班表有误（{exc.field}）：{exc.message}",
                "en": f"The on-call rota is not valid ({exc.field}): {exc.message}",
            },
            extra={"field": exc.field},
        ) from exc
    entries = tuple(
        msgspec.structs.replace(e, user_id=_canonical(e.user_id)) if e.user_id else e
        for e in entries
    )
    before = _rota_summary(stored_rota(school))
    school.on_call_rota = msgspec.to_builtins(list(entries))
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="school.on_call",
        subject_type="school",
        subject_ids=[school.id],
        school_id=school.id,
        now=now,
        detail={"old": before, "new": _rota_summary(entries)},
    )
    return await _out(db, school, entries)


def _rota_summary(entries: tuple[OnCallEntry, ...]) -> str:
    """Who the rota pages on which channel, for the audit log (ids and channel names only)."""
    if not entries:
        return "default"
    text = "; ".join(
        f"{'user:' + e.user_id if e.user_id else 'role:' + str(e.role)}/{e.channel or 'default'}"
        for e in entries
    )
    return text[:500]


def _canonical(value: str | None) -> str:
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        return value or ""


async def on_call_picks(
    db: AsyncSession, school: School, *, now: datetime
) -> tuple[OnCallPick, ...]:
    """Whom to page at ``now`` (nobody inside school hours)."""
    calendar, _ = await school_calendar(db, school, now)
    if calendar.in_school_hours(now):
        return ()
    staff = await _staff(db, school)
    return on_call_recipients(
        stored_rota(school),
        calendar=calendar,
        now=now,
        staff=[OnCallStaff(user_id=str(s.id), role=s.role) for s in staff],
        routes=await school_routes(db, school),
        channels=await school_channels(db, school),
    )


# --- the staff page -------------------------------------------------------------------------


class StaffChoice(msgspec.Struct, frozen=True):
    user_id: str
    display_name: str
    role: str


class OnCallPage(msgspec.Struct, frozen=True):
    rota: OnCallOut
    staff: list[StaffChoice]
    can_edit: bool
    timezone: str


async def _own_school(db: AsyncSession, user: StaffUser) -> School:
    school = await db.get(School, user.school_id) if user.school_id else None
    if school is None:
        raise NotFound("This account is not attached to a school", code="school_not_found")
    return school


async def on_call_page(db: AsyncSession, user: StaffUser) -> OnCallPage:
    """The rota of the caller's own school, with the staff who may be named (for the page)."""
    permissions.require(user, "rota.page")
    school = await _own_school(db, user)
    return OnCallPage(
        rota=await get_on_call(db, user, school.code),
        staff=[
            StaffChoice(user_id=str(s.id), display_name=s.display_name, role=s.role)
            for s in await _staff(db, school)
        ],
        can_edit=permissions.allowed(user.role, "rota.page_edit"),
        timezone=school.timezone,
    )


async def put_own_on_call(
    db: AsyncSession, user: StaffUser, data: object, *, now: datetime
) -> OnCallOut:
    """Set the rota of the caller's own school (see :func:`put_on_call`)."""
    permissions.require(user, "rota.page_edit")
    school = await _own_school(db, user)
    return await put_on_call(db, user, school.code, data, now=now)
