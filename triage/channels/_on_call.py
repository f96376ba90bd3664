"""The on-call rota: who is told of a suicide-pathway case outside school hours, on which channel.

Red and orange suicide-pathway deadlines run on the wall clock (issue 11). When such a case's
notification is created outside the school's school hours (nights, weekends, holidays, days
outside every term; 调休 make-up days are school days), it goes also to the members of the
school's on-call rota active at that moment, on their rota channel. Inside school hours nothing
changes. A rota is a list of entries::

    [
      {"role": "school_lead", "channel": "sms", "outside_school_hours": true},
      {"user_id": "6f1c…", "channel": "sms",
       "windows": [{"days": ["fri", "sat", "sun"], "start": "17:00", "end": "08:00"}]}
    ]

``who`` is either ``user_id`` (a staff member of the school) or ``role`` (every active staff
member holding it). ``channel`` is a channel name of the school's routes, or a channel type
(``"sms"``, ``"email"`` …; ``"phone"`` means the SMS channel); left out, the member's own SMS
channel, else the first channel of their role's route. ``hours``: ``outside_school_hours``
(whenever school is out) and/or weekly ``windows`` (days, local ``start``–``end``; an ``end``
at or before ``start`` runs overnight into the next day; ``"24:00"`` is midnight). An empty rota
means the default: the school lead and the counsellors, outside school hours, on their SMS
channel if configured, else their first configured channel.

Everything here is pure: the calendar and the instant are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Literal

import msgspec

from triage._calendar import SchoolCalendar, require_aware
from triage.channels._config import ChannelConfig, RecipientRoute

__all__ = [
    "DEFAULT_ROTA_ROLES",
    "ON_CALL_PATHWAYS",
    "ON_CALL_ROLE",
    "ON_CALL_TIERS",
    "ROTA_ROLES",
    "WEEKDAYS",
    "OnCallEntry",
    "OnCallError",
    "OnCallPick",
    "OnCallStaff",
    "OnCallWindow",
    "Weekday",
    "check_rota_channels",
    "entry_active",
    "needs_on_call",
    "on_call_recipients",
    "parse_rota",
    "resolve_channel",
    "rota_members",
    "window_text",
]

#: ``recipient_role`` of the outbox rows that page the on-call rota.
ON_CALL_ROLE = "on_call"
#: Tiers and pathways whose deadlines never pause: the suicide pathways of red and orange.
ON_CALL_TIERS = frozenset({"red", "orange"})
ON_CALL_PATHWAYS = frozenset({"crisis", "suicide"})
#: Roles a rota entry may name.
ROTA_ROLES = ("school_lead", "counsellor", "school_admin", "head_teacher")
#: Who the empty rota pages.
DEFAULT_ROTA_ROLES = ("school_lead", "counsellor")

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Channel types a rota may name; ``phone`` stands for the SMS channel (the phone number).
_TYPE_ALIASES = {"phone": "sms"}
_CHANNEL_TYPES = frozenset({"webhook", "wecom", "dingtalk", "email", "sms", "inapp"})
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_MAX_ENTRIES = 50
_MAX_WINDOWS = 14


class OnCallError(ValueError):
    """A rota is not valid; ``field`` names the offending field (``entries[0].channel``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class OnCallWindow(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """A weekly window: on ``days``, from local ``start`` to ``end`` (overnight if not after)."""

    days: tuple[Weekday, ...]
    start: str = "00:00"
    end: str = "24:00"


class OnCallEntry(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """One rota entry: who (``user_id`` or ``role``), on which channel, in which hours."""

    user_id: str | None = None
    role: str | None = None
    channel: str | None = None
    outside_school_hours: bool = False
    windows: tuple[OnCallWindow, ...] = ()


class OnCallStaff(msgspec.Struct, frozen=True, kw_only=True):
    """An active staff member of the school who may be on call."""

    user_id: str
    role: str


class OnCallPick(msgspec.Struct, frozen=True, kw_only=True):
    """One member to page, on one channel (``entry``: the rota entry; ``None``: the default)."""

    user_id: str
    role: str
    channel: str
    entry: int | None


def _clock(value: str) -> time | None:
    """``HH:MM`` as a time; ``24:00`` as ``None`` (midnight at the end of the day)."""
    if value == "24:00":
        return None
    return time.fromisoformat(value)


def parse_rota(data: object) -> tuple[OnCallEntry, ...]:
    """Decode and check a rota (a list of entries, or ``{"entries": [...]}``).

    Raises
    ------
    OnCallError
        Naming the field: unknown or ill-typed fields, neither or both of ``user_id`` and
        ``role``, an unknown role, no hours, a malformed window.
    """
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"entries"})
        if unknown:
            raise OnCallError(unknown[0], 'unknown field (send {"entries": [...]})')
        data = data.get("entries", [])
    if not isinstance(data, list | tuple):
        raise OnCallError("entries", "must be a list of rota entries")
    if len(data) > _MAX_ENTRIES:
        raise OnCallError("entries", f"at most {_MAX_ENTRIES} entries")
    try:
        entries = msgspec.convert(list(data), tuple[OnCallEntry, ...])
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).rpartition(" - at `$")
        if not message:
            message, where = str(exc), ""
        raise OnCallError("entries" + where.rstrip("`"), message) from None
    for index, entry in enumerate(entries):
        _check_entry(entry, f"entries[{index}]")
    return entries


def _check_entry(entry: OnCallEntry, at: str) -> None:
    if (entry.user_id is None) == (entry.role is None):
        raise OnCallError(f"{at}.user_id", "give exactly one of user_id and role")
    if entry.user_id is not None and not entry.user_id.strip():
        raise OnCallError(f"{at}.user_id", "must not be empty")
    if entry.role is not None and entry.role not in ROTA_ROLES:
        raise OnCallError(f"{at}.role", f"must be one of {', '.join(ROTA_ROLES)}")
    if entry.channel is not None and not entry.channel.strip():
        raise OnCallError(f"{at}.channel", "must not be empty (leave it out for the default)")
    if not entry.outside_school_hours and not entry.windows:
        raise OnCallError(
            f"{at}.windows", "give weekly windows and/or set outside_school_hours to true"
        )
    if len(entry.windows) > _MAX_WINDOWS:
        raise OnCallError(f"{at}.windows", f"at most {_MAX_WINDOWS} windows")
    for w, window in enumerate(entry.windows):
        where = f"{at}.windows[{w}]"
        if not window.days:
            raise OnCallError(f"{where}.days", "name at least one day (mon … sun)")
        for name in ("start", "end"):
            if _HHMM.fullmatch(getattr(window, name)) is None:
                raise OnCallError(f"{where}.{name}", "must be a local time HH:MM (00:00–24:00)")
        if window.start == "24:00":
            raise OnCallError(f"{where}.start", "must be before 24:00")
        if window.start == window.end:
            raise OnCallError(f"{where}.end", "must differ from start")


def _in_window(window: OnCallWindow, local: datetime) -> bool:
    start = _clock(window.start) or time(0)
    end = _clock(window.end)
    now = local.time().replace(tzinfo=None)
    today = WEEKDAYS[local.weekday()]
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    if end is None or end > start:  # same day: [start, end)
        return today in window.days and start <= now and (end is None or now < end)
    # overnight: [start, 24:00) on a listed day, [00:00, end) on the day after one
    return (today in window.days and now >= start) or (yesterday in window.days and now < end)


def entry_active(entry: OnCallEntry, *, calendar: SchoolCalendar, now: datetime) -> bool:
    """Whether ``entry`` is on call at ``now`` (never inside school hours)."""
    require_aware(now, "now")
    if calendar.in_school_hours(now):
        return False
    if entry.outside_school_hours:
        return True
    local = now.astimezone(calendar.zone)
    return any(_in_window(window, local) for window in entry.windows)


def needs_on_call(tier: str | None, pathway: str | None) -> bool:
    """Red and orange suicide-pathway cases page the on-call rota outside school hours."""
    return tier in ON_CALL_TIERS and pathway in ON_CALL_PATHWAYS


def resolve_channel(
    wanted: str | None,
    *,
    role_route: RecipientRoute | None,
    channels: Sequence[ChannelConfig],
) -> ChannelConfig | None:
    """The channel a member is paged on.

    ``wanted`` is a channel name of the school, else a channel type (``phone`` = ``sms``),
    preferring the member's own route's channel of that type; ``None`` means the member's own
    SMS channel, else the first of their route. ``None`` when nothing matches.
    """
    own = tuple(role_route.channels) if role_route is not None else ()
    if wanted is None:
        sms = next((c for c in own if c.type == "sms"), None)
        return sms or (own[0] if own else None)
    named = next((c for c in (*own, *channels) if c.name == wanted), None)
    if named is not None:
        return named
    kind = _TYPE_ALIASES.get(wanted, wanted)
    return next((c for c in (*own, *channels) if c.type == kind), None)


def check_rota_channels(
    entries: Sequence[OnCallEntry],
    *,
    channels: Sequence[ChannelConfig],
) -> None:
    """Every named channel is one of the school's channels (by name or type).

    Raises
    ------
    OnCallError
        ``entries[i].channel`` naming the configured channels.
    """
    names = sorted({c.name for c in channels})
    for index, entry in enumerate(entries):
        if entry.channel is None:
            continue
        if resolve_channel(entry.channel, role_route=None, channels=channels) is None:
            kind = _TYPE_ALIASES.get(entry.channel, entry.channel)
            what = "type" if kind in _CHANNEL_TYPES else "channel"
            raise OnCallError(
                f"entries[{index}].channel",
                f"no {what} {entry.channel!r} is configured for this school "
                f"(configured: {', '.join(names) or 'none'})",
            )


def rota_members(
    entries: Sequence[OnCallEntry],
    *,
    staff: Sequence[OnCallStaff],
    routes: Mapping[str, RecipientRoute],
    channels: Sequence[ChannelConfig],
) -> tuple[OnCallPick, ...]:
    """Everybody the rota names, on their channel, whatever the hour (the default if empty).

    Members whose channel cannot be resolved are left out; a member named twice on the same
    channel appears once.
    """
    chosen: list[tuple[int | None, OnCallEntry]] = [(i, e) for i, e in enumerate(entries)]
    if not entries:
        chosen = [
            (None, OnCallEntry(role=role, outside_school_hours=True)) for role in DEFAULT_ROTA_ROLES
        ]
    picks: list[OnCallPick] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in chosen:
        for person in staff:
            if entry.user_id is not None and person.user_id != entry.user_id:
                continue
            if entry.role is not None and person.role != entry.role:
                continue
            config = resolve_channel(
                entry.channel, role_route=routes.get(person.role), channels=channels
            )
            if config is None or (person.user_id, config.name) in seen:
                continue
            seen.add((person.user_id, config.name))
            picks.append(
                OnCallPick(
                    user_id=person.user_id, role=person.role, channel=config.name, entry=index
                )
            )
    return tuple(picks)


def on_call_recipients(
    entries: Sequence[OnCallEntry],
    *,
    calendar: SchoolCalendar,
    now: datetime,
    staff: Sequence[OnCallStaff],
    routes: Mapping[str, RecipientRoute],
    channels: Sequence[ChannelConfig],
) -> tuple[OnCallPick, ...]:
    """Who is paged at ``now``: nobody inside school hours; else the active rota members.

    Parameters
    ----------
    entries : sequence of OnCallEntry
        The school's rota (:func:`parse_rota`); empty means the default rota.
    calendar : SchoolCalendar
        The school's calendar (holidays, 调休 make-up days, terms, school hours).
    now : datetime
        Aware instant the notification is created at.
    staff : sequence of OnCallStaff
        The school's active staff.
    routes : mapping of str to RecipientRoute
        The school's route per role (for each member's own channels).
    channels : sequence of ChannelConfig
        Every channel of the school (rota channels are looked up here by name or type).

    Returns
    -------
    tuple of OnCallPick
        In rota order, each (member, channel) once.
    """
    require_aware(now, "now")
    if calendar.in_school_hours(now):
        return ()
    members = rota_members(entries, staff=staff, routes=routes, channels=channels)
    if not entries:
        return members
    return tuple(
        pick
        for pick in members
        if pick.entry is not None and entry_active(entries[pick.entry], calendar=calendar, now=now)
    )


def window_text(window: OnCallWindow) -> str:
    """``fri,sat,sun 17:00–08:00`` (for listings)."""
    return f"{','.join(window.days)} {window.start}–{window.end}"
