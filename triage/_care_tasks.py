"""Standing care duties of a student under care, placed on the school calendar.

Besides the deadlines a case opens with (:func:`~triage.compute_deadlines`), a student under
care has standing duties (Jiangsu checklist items 14 and 17, DESIGN.md):

* a home visit at least once a school year, or once a term, as the policy's
  ``care.home_visit.cadence`` says per tier;
* one-to-one talks with the head teacher at the start of each term and before and after the
  mid-term and final exams, in windows of school days (``care.talks``);
* a re-screen in the first school days of the next term (``care.rescreen``);
* referral follow-up, ``sent → accepted → seen → feedback`` (``care.referral``).

Windows are whole school days: a task opens at the start of school hours of its first day and
is due at the end of school hours of its last day. The term and exam dates come from a
:class:`SchoolYear`; which days are school days from the :class:`~triage.SchoolCalendar`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

import msgspec

from triage._calendar import CalendarError, SchoolCalendar, Term, require_aware
from triage._deadlines import TaskDeadline, resolve_due
from triage._policy import CaseTier, HomeVisitCadence, Policy, parse_duration

__all__ = [
    "CARE_TASK_KINDS",
    "REFERRAL_STAGES",
    "CareTask",
    "CareTaskKind",
    "ExamPeriod",
    "ReferralStage",
    "ReferralStageError",
    "SchoolYear",
    "TermSchedule",
    "check_case_tier",
    "check_referral_advance",
    "generate_care_tasks",
    "referral_follow_up",
    "referral_stage_next",
]

CareTaskKind = Literal[
    "home_visit",
    "talk_start_of_term",
    "talk_before_midterm",
    "talk_after_midterm",
    "talk_before_final",
    "talk_after_final",
    "rescreen",
    "plan_review",
    "referral_accepted",
    "referral_seen",
    "referral_feedback",
]
#: Every kind of standing care task.
CARE_TASK_KINDS: tuple[CareTaskKind, ...] = get_args(CareTaskKind)

ReferralStage = Literal["sent", "accepted", "seen", "feedback"]
#: The stages of a referral to the partner hospital, in order.
REFERRAL_STAGES: tuple[ReferralStage, ...] = get_args(ReferralStage)


def _check_date(value: object, name: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise CalendarError(f"{name} must be a date, got {type(value).__name__}")
    return value


class ExamPeriod(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The days of an exam, both ends inclusive (a one-day exam has ``start == end``)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        _check_date(self.start, "ExamPeriod.start")
        _check_date(self.end, "ExamPeriod.end")
        if self.end < self.start:
            raise CalendarError(
                f"exam ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            )


class TermSchedule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One term of a school year with its exam dates.

    Parameters
    ----------
    start, end : date
        First and last day of the term (inclusive).
    midterm_exam, final_exam : ExamPeriod or None
        Exam days, inside the term, the mid-term before the final. A term without an exam has
        no talks around it.

    Raises
    ------
    CalendarError
        (a ``ValueError``) if the dates are not dates, out of order, or an exam lies outside
        the term.
    """

    start: date
    end: date
    midterm_exam: ExamPeriod | None = None
    final_exam: ExamPeriod | None = None

    def __post_init__(self) -> None:
        Term(start=_check_date(self.start, "start"), end=_check_date(self.end, "end"))
        for name in ("midterm_exam", "final_exam"):
            exam = getattr(self, name)
            if exam is None:
                continue
            if not isinstance(exam, ExamPeriod):
                raise CalendarError(f"TermSchedule.{name} must be an ExamPeriod")
            if exam.start < self.start or exam.end > self.end:
                raise CalendarError(
                    f"TermSchedule.{name} {exam.start}..{exam.end} lies outside the term "
                    f"{self.start}..{self.end}"
                )
        if (
            self.midterm_exam is not None
            and self.final_exam is not None
            and self.midterm_exam.end >= self.final_exam.start
        ):
            raise CalendarError(
                f"the mid-term exam ({self.midterm_exam.start}..{self.midterm_exam.end}) must end "
                f"before the final exam starts ({self.final_exam.start})"
            )

    def as_term(self) -> Term:
        """Return the term's dates as a calendar :class:`~triage.Term`."""
        return Term(start=self.start, end=self.end)


class SchoolYear(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A school year: its label and its terms (stored sorted, never overlapping).

    Parameters
    ----------
    label : str
        E.g. ``"2026-2027"``; used in task keys.
    terms : tuple of TermSchedule
        At least one term.

    Raises
    ------
    CalendarError
        If the label is empty, there is no term, or terms overlap.
    """

    label: str
    terms: tuple[TermSchedule, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise CalendarError("SchoolYear.label must be a non-empty string")
        if not self.terms:
            raise CalendarError("SchoolYear.terms needs at least one term")
        for term in self.terms:
            if not isinstance(term, TermSchedule):
                raise CalendarError("SchoolYear.terms must hold TermSchedule objects")
        terms = tuple(sorted(self.terms, key=lambda term: term.start))
        for previous, current in itertools.pairwise(terms):
            if current.start <= previous.end:
                raise CalendarError(
                    f"SchoolYear.terms overlap: {previous.start}..{previous.end} and "
                    f"{current.start}..{current.end}"
                )
        msgspec.structs.force_setattr(self, "terms", terms)

    @property
    def start(self) -> date:
        """First day of the first term."""
        return self.terms[0].start

    @property
    def end(self) -> date:
        """Last day of the last term."""
        return self.terms[-1].end


class CareTask(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A standing care task with its window.

    Parameters
    ----------
    kind : CareTaskKind
        What is to be done.
    key : str
        Stable id of the task within the case (kind plus the term, year or stage it belongs
        to): generating the tasks again yields the same keys, so the caller can upsert.
    opens_at : datetime
        UTC instant from which the task can be done (never before the case opened).
    due_at : datetime
        UTC instant by which it is due (after ``opens_at``).
    """

    kind: CareTaskKind
    key: str
    opens_at: datetime
    due_at: datetime

    def as_deadline(self) -> TaskDeadline:
        """Return the task as a :class:`~triage.TaskDeadline` (kind and due time)."""
        return TaskDeadline(kind=self.kind, due_at=self.due_at)


class ReferralStageError(ValueError):
    """An unknown referral stage, or a stage reached out of order."""


def check_case_tier(tier: object) -> CaseTier:
    """Return ``tier`` if it is a case tier (yellow, orange, red), else raise ``ValueError``."""
    if tier not in ("yellow", "orange", "red"):
        raise ValueError(
            f"standing care duties need a case tier (yellow, orange, red), got {tier!r}"
        )
    return tier


# -- windows -------------------------------------------------------------------------------


def _covering_calendar(calendar: SchoolCalendar, term: TermSchedule, year: SchoolYear) -> None:
    if calendar.terms and not any(
        t.start <= term.start and term.end <= t.end for t in calendar.terms
    ):
        raise CalendarError(
            f"term {term.start}..{term.end} of school year {year.label!r} is not inside any term "
            "of the school calendar"
        )


def _school_days(calendar: SchoolCalendar, first: date, last: date) -> list[date]:
    days: list[date] = []
    day = first
    while day <= last:
        if calendar.is_school_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _window(
    calendar: SchoolCalendar, kind: CareTaskKind, key: str, days: Sequence[date]
) -> CareTask:
    opens_at = calendar.school_day_bounds(days[0])[0]
    due_at = calendar.school_day_bounds(days[-1])[1]
    return CareTask(kind=kind, key=key, opens_at=opens_at, due_at=due_at)


def _exam_windows(
    calendar: SchoolCalendar,
    days: list[date],
    exam: ExamPeriod,
    *,
    kinds: tuple[CareTaskKind, CareTaskKind],
    key_suffix: str,
    before_n: int,
    after_n: int,
) -> list[CareTask]:
    before = [d for d in days if d < exam.start][-before_n:] or days[:1]
    after = [d for d in days if d > exam.end][:after_n] or days[-1:]
    before_kind, after_kind = kinds
    return [
        _window(calendar, before_kind, f"{before_kind}:{key_suffix}", before),
        _window(calendar, after_kind, f"{after_kind}:{key_suffix}", after),
    ]


_EXAM_KINDS: tuple[tuple[str, tuple[CareTaskKind, CareTaskKind]], ...] = (
    ("midterm_exam", ("talk_before_midterm", "talk_after_midterm")),
    ("final_exam", ("talk_before_final", "talk_after_final")),
)


def _rescreen(
    calendar: SchoolCalendar,
    policy: Policy,
    year: SchoolYear,
    opened_at: datetime,
) -> CareTask:
    care = policy.care_policy()
    within = care.rescreen.within_school_days
    opened_day = calendar.local_date(opened_at)
    candidates = [t.as_term() for t in year.terms if t.start > opened_day]
    candidates += [t for t in calendar.terms if t.start > max(opened_day, year.end)]
    for term in candidates:
        days = _school_days(calendar, term.start, term.end)[:within]
        if days:
            return _window(calendar, "rescreen", f"rescreen:{term.start.isoformat()}", days)
    # No next term known: the clock fallback after opening, but never before the school year
    # is over, counted on weekdays, holidays and make-up days.
    fallback_days, clock = parse_duration(care.rescreen.fallback)
    plain = calendar.without_terms()
    start = plain.local_date(opened_at + timedelta(days=fallback_days) + clock)
    first = plain.next_school_day(max(start, year.end + timedelta(days=1)), include=True)
    days = [first]
    while len(days) < within:
        days.append(plain.next_school_day(days[-1]))
    return _window(plain, "rescreen", f"rescreen:{first.isoformat()}", days)


def generate_care_tasks(
    tier: CaseTier,
    *,
    opened_at: datetime,
    calendar: SchoolCalendar,
    policy: Policy,
    school_year: SchoolYear,
) -> tuple[CareTask, ...]:
    """Place the standing care duties of a student under care in ``school_year``.

    Parameters
    ----------
    tier : {"yellow", "orange", "red"}
        The case's tier (chooses the home-visit cadence).
    opened_at : datetime
        Aware instant the case opened (or from which the duties are generated, e.g. the start
        of a new school year for a case carried over). No task is due before it; a window
        that has already started opens at ``opened_at``; a window already over is left out.
    calendar : SchoolCalendar
        The school's calendar; when it has terms, every term of ``school_year`` must lie
        inside one of them.
    policy : Policy
        The policy; its ``care`` section gives the cadence and the windows.
    school_year : SchoolYear
        Term and exam dates of the school year.

    Returns
    -------
    tuple of CareTask
        Sorted by ``due_at`` then ``key``:

        * ``home_visit``: cadence ``school_year``, one task from ``opened_at`` to the end of
          the year's last school day; cadence ``term``, one per term, due at the end of the
          term's last school day;
        * ``talk_start_of_term``: the first ``start_of_term_school_days`` school days of each
          term;
        * ``talk_before_midterm`` / ``talk_before_final``: the last ``before_exam_school_days``
          school days of the term before the exam's first day (the term's first school day
          when none is left before it);
        * ``talk_after_midterm`` / ``talk_after_final``: the first ``after_exam_school_days``
          school days after the exam's last day (the term's last school day when none is
          left after it);
        * ``rescreen``: the first ``within_school_days`` school days of the next term after
          ``opened_at`` (from the school year, else the calendar; else, counted on weekdays,
          from the policy's clock ``fallback`` after ``opened_at`` but not before the school
          year ends).

        Every talk and home-visit window starts and ends on school days inside its term;
        the re-screen window lies in the next term, or on weekdays after the school year.

    Raises
    ------
    ValueError
        If ``tier`` is not a case tier, ``opened_at`` is naive or after the school year, or
        the policy has no care section.
    CalendarError
        If a term of the school year lies outside the calendar's terms or has no school day.
    """
    tier = check_case_tier(tier)
    require_aware(opened_at, "opened_at")
    if not isinstance(school_year, SchoolYear):
        raise ValueError(f"school_year must be a SchoolYear, got {type(school_year).__name__}")
    care = policy.care_policy()
    opened_day = calendar.local_date(opened_at)
    if opened_day > school_year.end:
        raise ValueError(
            f"opened_at ({opened_day.isoformat()}) is after school year {school_year.label!r} "
            f"ends ({school_year.end.isoformat()})"
        )
    talks = care.talks
    cadence: HomeVisitCadence = getattr(care.home_visit.cadence, tier)

    windows: list[CareTask] = []
    term_days: list[list[date]] = []
    for term in school_year.terms:
        _covering_calendar(calendar, term, school_year)
        days = _school_days(calendar, term.start, term.end)
        if not days:
            raise CalendarError(
                f"term {term.start}..{term.end} of school year {school_year.label!r} has no "
                "school day in the calendar"
            )
        term_days.append(days)
        suffix = term.start.isoformat()
        windows.append(
            _window(
                calendar,
                "talk_start_of_term",
                f"talk_start_of_term:{suffix}",
                days[: talks.start_of_term_school_days],
            )
        )
        for attribute, kinds in _EXAM_KINDS:
            exam: ExamPeriod | None = getattr(term, attribute)
            if exam is not None:
                windows += _exam_windows(
                    calendar,
                    days,
                    exam,
                    kinds=kinds,
                    key_suffix=suffix,
                    before_n=talks.before_exam_school_days,
                    after_n=talks.after_exam_school_days,
                )
        if cadence == "term":
            windows.append(_window(calendar, "home_visit", f"home_visit:{suffix}", days))
    if cadence == "school_year":
        year_days = [term_days[0][0], term_days[-1][-1]]
        windows.append(
            _window(calendar, "home_visit", f"home_visit:{school_year.label}", year_days)
        )
    windows.append(_rescreen(calendar, policy, school_year, opened_at))

    start = opened_at.astimezone(UTC)
    tasks = [
        msgspec.structs.replace(task, opens_at=max(task.opens_at, start))
        for task in windows
        if task.due_at > start
    ]
    return tuple(sorted(tasks, key=lambda task: (task.due_at, task.key)))


# -- referral follow-up ----------------------------------------------------------------------


def referral_stage_next(stage: ReferralStage) -> ReferralStage | None:
    """Return the referral stage after ``stage`` (``None`` after ``feedback``).

    Raises
    ------
    ReferralStageError
        If ``stage`` is not one of ``sent``, ``accepted``, ``seen``, ``feedback``.
    """
    if stage not in REFERRAL_STAGES:
        raise ReferralStageError(
            f"unknown referral stage {stage!r}; stages are {' → '.join(REFERRAL_STAGES)}"
        )
    index = REFERRAL_STAGES.index(stage)
    return REFERRAL_STAGES[index + 1] if index + 1 < len(REFERRAL_STAGES) else None


def check_referral_advance(current: ReferralStage, reached: ReferralStage) -> ReferralStage:
    """Check that a referral at ``current`` may record ``reached`` (its next stage).

    Returns
    -------
    ReferralStage
        ``reached``.

    Raises
    ------
    ReferralStageError
        If either stage is unknown or ``reached`` is not the stage right after ``current``.
    """
    expected = referral_stage_next(current)
    referral_stage_next(reached)
    if reached != expected:
        after = f"the next stage is {expected!r}" if expected else "the referral is complete"
        raise ReferralStageError(
            f"a referral at stage {current!r} cannot record {reached!r}: {after} "
            f"({' → '.join(REFERRAL_STAGES)})"
        )
    return reached


def referral_follow_up(
    stage: ReferralStage,
    *,
    reached_at: datetime,
    calendar: SchoolCalendar,
    policy: Policy,
) -> CareTask | None:
    """Return the follow-up task of a referral that has just reached ``stage``.

    Parameters
    ----------
    stage : ReferralStage
        The stage reached (``sent`` when the referral is made).
    reached_at : datetime
        Aware instant the stage was reached.
    calendar : SchoolCalendar
        The school's calendar, for school-time deadlines.
    policy : Policy
        The policy; ``care.referral.<next stage>`` gives the deadline, counted from
        ``reached_at``.

    Returns
    -------
    CareTask or None
        A task of kind ``referral_<next stage>`` (e.g. ``referral_accepted`` after ``sent``)
        open from ``reached_at``; ``None`` once feedback has arrived.

    Raises
    ------
    ReferralStageError
        If ``stage`` is unknown.
    ValueError
        If ``reached_at`` is naive or the policy has no care section.
    """
    require_aware(reached_at, "reached_at")
    following = referral_stage_next(stage)
    if following is None:
        return None
    due = getattr(policy.care_policy().referral, following)
    start = reached_at.astimezone(UTC)
    kind: CareTaskKind = f"referral_{following}"  # type: ignore[assignment]
    return CareTask(
        kind=kind,
        key=f"{kind}:{start.isoformat()}",
        opens_at=start,
        due_at=resolve_due(due, start, calendar),
    )
