"""Deadlines of a new case, computed from the policy, the submission time and the calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from triage._calendar import CalendarError, SchoolCalendar, require_aware
from triage._policy import Due, Policy, parse_duration
from triage._result import TriageResult

__all__ = ["Deadlines", "TaskDeadline", "compute_deadlines", "resolve_due"]


class TaskDeadline(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A task of a case and when it is due.

    ``kind`` is ``acknowledge``, ``safety_assessment``, ``guardian_contact``,
    ``counsellor_assessment``, ``counsellor_interview``, ``rescreen`` or another kind the
    policy declares; ``due_at`` is a UTC-aware datetime.
    """

    kind: str
    due_at: datetime


class Deadlines(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """All deadlines of a new case.

    ``acknowledge_by`` is repeated as the first task (kind ``acknowledge``); tasks are sorted
    by ``due_at``, ties kept in policy order.
    """

    acknowledge_by: datetime
    tasks: tuple[TaskDeadline, ...]


def _resolve(due: Due, start: datetime, calendar: SchoolCalendar) -> datetime:
    if due.counting == "clock":
        if due.until == "end_of_day":
            return calendar.end_of_local_day(start)
        if due.until == "before_going_home":
            return _before_going_home(start, calendar)
        if due.duration is None:
            raise ValueError(f"clock deadline needs a duration or until=end_of_day: {due!r}")
        days, clock = parse_duration(due.duration)
        return (start + timedelta(days=days) + clock).astimezone(UTC)
    if due.until == "end_of_day":
        return calendar.end_of_school_day(start)
    if due.until == "next_term":
        return _next_term_start(due, start, calendar)
    if due.duration is None:
        raise ValueError(f"school deadline needs a duration or an until: {due!r}")
    days, clock = parse_duration(due.duration)
    if days and clock:
        raise ValueError(f"school duration {due.duration!r} mixes days and hours")
    if clock:
        return calendar.add_school_hours(start, clock.total_seconds() / 3600)
    return calendar.add_school_days(start, days)


def _before_going_home(start: datetime, calendar: SchoolCalendar) -> datetime:
    """End of today's school hours if ``start`` is before it on a school day, else end of day.

    Wall-clock counting: never later than the end of the local day of ``start``, whatever the
    weekday, holiday or term.
    """
    day = calendar.local_date(start)
    end_of_day = calendar.end_of_local_day(start)
    if calendar.is_school_day(day):
        _, school_end = calendar.school_day_bounds(day)
        if start < school_end:
            return min(school_end.astimezone(UTC), end_of_day)
    return end_of_day


def _next_term_start(due: Due, start: datetime, calendar: SchoolCalendar) -> datetime:
    local_day = calendar.local_date(start)
    for term in calendar.terms:
        if term.start > local_day:
            try:
                first = calendar.next_school_day(term.start, include=True)
            except CalendarError:
                first = term.start
            if first > term.end:
                first = term.start
            return calendar.school_day_bounds(first)[0]
    fallback = due.fallback or "P120D"
    days, clock = parse_duration(fallback)
    return (start + timedelta(days=days) + clock).astimezone(UTC)


def resolve_due(due: Due, start: datetime, calendar: SchoolCalendar) -> datetime:
    """Return when ``due`` falls, counted from ``start`` on ``calendar``.

    When school counting runs past the calendar's last term, it continues on the same
    calendar without terms (weekdays, holidays and make-up days), so a case opened at the end
    of a school year still gets deadlines (earlier rather than later ones). The result is
    never before ``start``.

    Parameters
    ----------
    due : Due
        The deadline rule from the policy.
    start : datetime
        Aware instant counting starts from.
    calendar : SchoolCalendar
        The school's calendar.

    Returns
    -------
    datetime
        A UTC-aware datetime.
    """
    require_aware(start, "start")
    try:
        result = _resolve(due, start, calendar)
    except CalendarError:
        if not calendar.terms:
            raise
        result = _resolve(due, start, calendar.without_terms())
    return max(result, start.astimezone(UTC))


def compute_deadlines(
    result: TriageResult,
    *,
    submitted_at: datetime,
    calendar: SchoolCalendar,
    policy: Policy,
) -> Deadlines:
    """Compute the acknowledge-by deadline and task deadlines of the case ``result`` opens.

    The pathway's deadlines are taken from the policy (``result.pathway``, or the tier's
    default pathway when the result's pathway is not one of the tier's, e.g. an open case
    that kept its tier). ``clock`` deadlines count elapsed time (any hour); ``school``
    deadlines count school hours or school days on ``calendar``. The acknowledgement is never
    due after a task marked ``acknowledge_before`` (a same-day safety assessment), and no
    deadline is before ``submitted_at``.

    Parameters
    ----------
    result : TriageResult
        The triage result (tier yellow, orange or red).
    submitted_at : datetime
        Aware submission instant.
    calendar : SchoolCalendar
        The school's calendar.
    policy : Policy
        The policy that produced ``result`` (same version).

    Returns
    -------
    Deadlines
        UTC-aware deadlines.

    Raises
    ------
    ValueError
        If the tier is green (no case), ``submitted_at`` is naive, or ``policy`` is not the
        version that produced ``result``.
    """
    require_aware(submitted_at, "submitted_at")
    if result.tier == "green":
        raise ValueError("a green result opens no case and has no deadlines")
    if result.policy_version != policy.version:
        raise ValueError(
            f"result was produced by policy {result.policy_version!r} but deadlines were asked "
            f"of policy {policy.version!r}"
        )
    pathway = policy.tier_policy(result.tier).pathway(result.pathway)
    acknowledge_by = resolve_due(pathway.acknowledge, submitted_at, calendar)
    tasks: list[TaskDeadline] = []
    for task in pathway.tasks:
        due_at = resolve_due(task.due, submitted_at, calendar)
        if task.acknowledge_before:
            acknowledge_by = min(acknowledge_by, due_at)
        tasks.append(TaskDeadline(kind=task.kind, due_at=due_at))
    ordered = sorted(
        [TaskDeadline(kind="acknowledge", due_at=acknowledge_by), *tasks],
        key=lambda task: task.due_at,
    )
    return Deadlines(acknowledge_by=acknowledge_by, tasks=tuple(ordered))
