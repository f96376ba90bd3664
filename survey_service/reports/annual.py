"""The annual screening report of a school and of a district (issue 15): the figures only.

This module gathers what a principal signs and a district files upward for one school year —
coverage, tier counts, timeliness against the deadlines, care duties done, incident reviews,
staffing — as frozen msgspec Structs. It renders nothing (``annual_render`` does) and returns
no ORM row, so the same figures can feed an HTML page, a PDF or an aggregate export.

Rules every figure follows:

- **Aggregates only.** No student is named, listed or ranked; rows are grades, classes, tiers,
  duties and schools.
- **Small cells suppressed.** Counts of students by health state (tiers, cases per tier,
  referrals by outcome) go through :func:`survey_service.campaigns.suppression.suppress`
  (``k = 5``, complementary cells), and a timeliness statistic is shown only for a tier whose
  case count is shown and at least ``k``: a median of two cases is two students' care.
- **Nothing invented.** A figure the schema does not record is listed in
  :attr:`Staffing.not_recorded`, never estimated.

School year: ``"2026-2027"`` runs from 1 August 2026 to 31 July 2027 in the school's time zone
(the rule of ``pages._web.school_year_of``); the campaigns of a year are those whose
``school_year`` label names it (an en dash and a hyphen are the same). See ``docs/reports.md``.
"""

from __future__ import annotations

import math
import re
import statistics
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import school_in_scope, scope_of
from survey_service.campaigns import coverage, suppression
from survey_service.db import (
    AsyncSession,
    Campaign,
    CareRecord,
    Case,
    CaseTask,
    CrisisPlan,
    District,
    Incident,
    Referral,
    School,
    SchoolClass,
    StaffUser,
    Student,
    TriageRecord,
)
from survey_service.errors import NotFound
from survey_service.services import audit

MIN_CELL = suppression.MIN_CELL
TIERS = ("red", "orange", "yellow", "green")
CASE_TIERS = ("red", "orange", "yellow")
#: Students per mental-health teacher (full- or part-time): Jiangsu checklist item 10,
#: 苏教办函〔2023〕10号 "根据师生比1:500配备兼职心理健康教育教师".
STUDENTS_PER_COUNSELLOR = 500
#: Psychology committee members per class from grade 4, at least one boy and one girl:
#: Jiangsu checklist item 12 "自小学四年级起配备学生心理委员，每班不少于2名（男、女生各不少于1名）".
COMMITTEE_PER_CLASS = 2
COMMITTEE_FROM_GRADE = 4
#: Which task kinds measure each deadline (the policy's pathways, triage/policies/default.json):
#: the safety assessment (red, orange suicide), the counsellor assessment (orange severity) and
#: the counsellor interview (yellow) are each tier's assessment.
MEASURES: dict[str, tuple[str, ...]] = {
    "acknowledge": ("acknowledge",),
    "assess": ("safety_assessment", "counsellor_assessment", "counsellor_interview"),
    "guardian_contact": ("guardian_contact",),
}
#: The standing care duties and the task kinds / care-record kinds behind each.
DUTIES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "home_visit": (("home_visit",), "home_visit"),
    "talk": (
        (
            "talk_start_of_term",
            "talk_before_midterm",
            "talk_after_midterm",
            "talk_before_final",
            "talk_after_final",
        ),
        "talk",
    ),
    "plan_review": (("plan_review",), None),
}
_LABEL = re.compile(r"^\s*(\d{4})\s*[-–—]\s*(\d{4})\s*$")

Measure = Literal["acknowledge", "assess", "guardian_contact"]


# --- the figures ------------------------------------------------------------------------------


class Funnel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """invited → consented → started → submitted (``refused``: refused or withdrawn)."""

    invited: int
    consented: int
    started: int
    submitted: int
    refused: int

    @property
    def coverage(self) -> float:
        """``submitted / invited`` (0 when nobody was invited)."""
        return self.submitted / self.invited if self.invited else 0.0


class FunnelRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One grade (``class_name`` None) or one class of the coverage table."""

    grade: int
    class_name: str | None
    funnel: Funnel


class TierCounts(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Screenings by tier; ``None`` for a suppressed cell. ``total`` is always shown."""

    red: int | None
    orange: int | None
    yellow: int | None
    green: int | None
    total: int

    def cell(self, tier: str) -> int | None:
        value: int | None = getattr(self, tier)
        return value


class Timeliness(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How fast one deadline was met for one tier's cases of the year.

    Attributes
    ----------
    tier, measure : str
        ``red``/``orange``/``yellow``; ``acknowledge``, ``assess`` or ``guardian_contact``.
    shown : bool
        False when the tier's case count is suppressed or 1 to ``k - 1``: then every figure
        below is None.
    due : int or None
        Deadlines that have passed or were met: ``done + late``. Deadlines still ahead and not
        met yet are not counted.
    within : int or None
        Met by the deadline.
    late : int or None
        Met after the deadline, or not met and past it.
    median_hours, p90_hours : float or None
        Of the elapsed time from the screening (or observation) that set the case's tier to
        the deadline being met, over the deadlines met; the 90th percentile is Hyndman and
        Fan's definition 7 (``statistics.quantiles(method="inclusive")``, numpy's default).
    share_within : float or None
        ``within / due``.
    """

    tier: str
    measure: str
    shown: bool
    due: int | None = None
    within: int | None = None
    late: int | None = None
    median_hours: float | None = None
    p90_hours: float | None = None
    share_within: float | None = None


class Duty(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A standing care duty (home visits, one-to-one talks, plan reviews) over the year.

    ``due``: tasks due in the year; ``done``/``on_time``: of those, completed / by their due
    time; ``overdue``: still open past due; ``records``: care records of the kind written in
    the year (a visit or talk recorded without a task counts here); ``plans``: plan versions
    written in the year (plan reviews only).
    """

    kind: str
    due: int
    done: int
    on_time: int
    overdue: int
    records: int | None
    plans: int | None = None


class Referrals(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Referrals sent in the year, by the stage each has reached now (suppressed cells None).

    ``sent`` (not yet accepted), ``accepted``, ``seen``, ``feedback`` (the hospital's feedback
    received) partition ``total``.
    """

    total: int
    sent: int | None
    accepted: int | None
    seen: int | None
    feedback: int | None


class Incidents(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Extreme-incident reviews of incidents recorded in the year (checklist item 5: 14 days).

    ``recorded`` = ``on_time + late + overdue + pending``.
    """

    recorded: int
    on_time: int
    late: int
    overdue: int
    pending: int


class Staffing(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Staffing checks as recorded today (the schema keeps no history of staff or rosters).

    ``counsellors_required``: ceil(enrolment / 500) (checklist item 10); ``committee_*``: the
    classes from grade 4 (checklist item 12) and how many of them have at least two members
    with at least one boy and one girl; ``not_recorded``: checklist figures Runxin does not
    record (shown as such, never estimated).
    """

    enrolment: int
    counsellors_full_time: int
    counsellors_part_time: int
    counsellors_required: int
    ratio_met: bool
    classes: int
    committee_members: int
    committee_classes_met: int
    counselling_room: bool
    not_recorded: tuple[str, ...]

    @property
    def students_per_counsellor(self) -> float | None:
        staff = self.counsellors_full_time + self.counsellors_part_time
        return round(self.enrolment / staff, 1) if staff else None

    @property
    def committee_per_class(self) -> float | None:
        return round(self.committee_members / self.classes, 2) if self.classes else None


class YearFigures(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything of one school (or a whole district) for one school year."""

    label: str
    first_day: date
    last_day: date
    campaigns: tuple[str, ...]
    funnel: Funnel
    grades: tuple[FunnelRow, ...]
    classes: tuple[FunnelRow, ...]
    tiers: TierCounts
    cases: TierCounts  # cases whose tier was set in the year (green: always 0)
    timeliness: tuple[Timeliness, ...]
    duties: tuple[Duty, ...]
    referrals: Referrals
    incidents: Incidents


class SchoolReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A school's annual report: this year, the previous year beside it, staffing today."""

    school_code: str
    school_name: str
    district_name: str
    timezone: str
    generated_at: datetime
    year: YearFigures
    previous: YearFigures
    staffing: Staffing
    suppressed_below: int = MIN_CELL


class SchoolRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One school's line of the district report (its tier cells suppressed in the table)."""

    school_code: str
    school_name: str
    funnel: Funnel
    previous_funnel: Funnel
    tiers: TierCounts
    acknowledged: Timeliness  # every tier of the school together
    duties_due: int
    duties_on_time: int
    incidents: Incidents
    staffing: Staffing


class DistrictReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A district's annual report: the district's totals (this and the previous year) and one
    row per school. No class, no student."""

    district_code: str
    district_name: str
    timezone: str
    generated_at: datetime
    year: YearFigures
    previous: YearFigures
    schools: tuple[SchoolRow, ...]
    staffing: Staffing  # every school's together
    suppressed_below: int = MIN_CELL


# --- school years -------------------------------------------------------------------------------


def school_year_label(at: datetime, tz: str) -> str:
    """The school year ``at`` falls in, as ``"2026-2027"``: a year starts on 1 August."""
    local = at.astimezone(ZoneInfo(tz))
    start = local.year if local.month >= 8 else local.year - 1
    return f"{start}-{start + 1}"


def parse_year(label: str) -> int:
    """The first calendar year of a school-year label (``"2026-2027"`` or ``"2026–2027"``).

    Raises
    ------
    ValueError
        When ``label`` is not two consecutive four-digit years.
    """
    found = _LABEL.match(label)
    if found is None or int(found.group(2)) != int(found.group(1)) + 1:
        raise ValueError(
            f"{label!r} is not a school year: write it as two consecutive years, e.g. 2026-2027"
        )
    return int(found.group(1))


def previous_label(label: str) -> str:
    start = parse_year(label)
    return f"{start - 1}-{start}"


def year_bounds(label: str, tz: str) -> tuple[datetime, datetime]:
    """[1 August, next 1 August) of the school year ``label`` in ``tz``, as UTC instants."""
    start = parse_year(label)
    zone = ZoneInfo(tz)
    return (
        datetime.combine(date(start, 8, 1), time(0), zone).astimezone(UTC),
        datetime.combine(date(start + 1, 8, 1), time(0), zone).astimezone(UTC),
    )


def _same_label(a: str, b: str) -> bool:
    try:
        return parse_year(a) == parse_year(b)
    except ValueError:
        return False


# --- helpers ------------------------------------------------------------------------------------


def _suppressed_row(values: Sequence[int]) -> tuple[int | None, ...]:
    """One published row with its total: small cells and their complements hidden."""
    if sum(values) == 0:
        return tuple(values)
    return suppression.suppress([list(values)], k=MIN_CELL).cells[0]


def _tier_counts(counts: Counter[str], tiers: Sequence[str] = TIERS) -> TierCounts:
    values = [counts.get(t, 0) for t in tiers]
    cells = dict(zip(tiers, _suppressed_row(values), strict=True))
    return TierCounts(
        red=cells.get("red"),
        orange=cells.get("orange"),
        yellow=cells.get("yellow"),
        green=cells.get("green", 0),
        total=sum(values),
    )


def _percentile_90(values: Sequence[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class _Deadline:
    """One case's deadline: when counting started, when due, when met (None: not yet)."""

    tier: str
    measure: str
    start: datetime
    due: datetime
    met: datetime | None


def _timeliness(
    deadlines: Iterable[_Deadline], cases: TierCounts, now: datetime
) -> tuple[Timeliness, ...]:
    out = []
    rows = list(deadlines)
    for tier in CASE_TIERS:
        shown_n = cases.cell(tier)
        for measure in MEASURES:
            if shown_n is None or 0 < shown_n < MIN_CELL:
                out.append(Timeliness(tier=tier, measure=measure, shown=False))
                continue
            mine = [d for d in rows if d.tier == tier and d.measure == measure]
            met = [d for d in mine if d.met is not None]
            within = sum(1 for d in met if d.met is not None and d.met <= d.due)
            missed = sum(1 for d in mine if d.met is None and d.due < now)
            due = len(met) + missed
            hours = sorted(_hours(d.met - d.start) for d in met if d.met is not None)
            out.append(
                Timeliness(
                    tier=tier,
                    measure=measure,
                    shown=True,
                    due=due,
                    within=within,
                    late=due - within,
                    median_hours=round(statistics.median(hours), 2) if hours else None,
                    p90_hours=round(_percentile_90(hours), 2) if hours else None,
                    share_within=within / due if due else None,
                )
            )
    return tuple(out)


def _sum_funnels(funnels: Iterable[Funnel]) -> Funnel:
    items = list(funnels)
    return Funnel(
        invited=sum(f.invited for f in items),
        consented=sum(f.consented for f in items),
        started=sum(f.started for f in items),
        submitted=sum(f.submitted for f in items),
        refused=sum(f.refused for f in items),
    )


# --- gathering ----------------------------------------------------------------------------------


@dataclass
class _Raw:
    """One school's year before suppression (the district sums these, then suppresses)."""

    campaigns: list[str]
    classes: list[FunnelRow]
    tiers: Counter[str]
    cases: Counter[str]
    deadlines: list[_Deadline]
    duties: dict[str, list[int]]  # kind -> [due, done, on_time, overdue, records, plans]
    referrals: Counter[str]
    incidents: Counter[str]


async def _gather(db: AsyncSession, school: School, label: str, now: datetime) -> _Raw:
    start, end = year_bounds(label, school.timezone)
    campaigns = [
        c
        for c in (
            await db.scalars(
                select(Campaign)
                .where(Campaign.school_id == school.id)
                .order_by(Campaign.opens_at, Campaign.name)
            )
        ).all()
        if _same_label(c.school_year, label)
    ]
    per_class: dict[tuple[int, str], list[int]] = {}
    tiers: Counter[str] = Counter()
    for campaign in campaigns:
        _total, classes, counted = await coverage._campaign_counts(db, campaign, now, None)
        tiers.update(counted)
        for c in classes:
            acc = per_class.setdefault((c.grade, c.class_name), [0, 0, 0, 0, 0])
            for i, v in enumerate((c.invited, c.consented, c.started, c.submitted, c.refused)):
                acc[i] += v
    class_rows = [
        FunnelRow(grade=g, class_name=name, funnel=Funnel(*acc))
        for (g, name), acc in sorted(per_class.items())
    ]

    # Cases whose tier was set in the year (by the triage result they carry now).
    case_rows = (
        await db.execute(
            select(Case, TriageRecord.evaluated_at)
            .join(TriageRecord, TriageRecord.id == Case.triage_id)
            .where(
                Case.school_id == school.id,
                TriageRecord.evaluated_at >= start,
                TriageRecord.evaluated_at < end,
            )
        )
    ).all()
    cases: Counter[str] = Counter(c.tier for c, _ in case_rows)
    deadlines: list[_Deadline] = []
    set_at = {c.id: (c, at) for c, at in case_rows}
    task_rows = (
        (
            await db.scalars(
                select(CaseTask).where(
                    CaseTask.case_id.in_(list(set_at)),
                    CaseTask.kind.in_(MEASURES["assess"] + MEASURES["guardian_contact"]),
                    CaseTask.status.in_(("open", "done")),
                )
            )
        ).all()
        if set_at
        else []
    )
    tasks_of: dict[uuid.UUID, list[CaseTask]] = {}
    for t in task_rows:
        tasks_of.setdefault(t.case_id, []).append(t)
    for case, at in set_at.values():
        deadlines.append(
            _Deadline(case.tier, "acknowledge", at, case.acknowledge_by, case.acknowledged_at)
        )
        for measure in ("assess", "guardian_contact"):
            # The first deadline of the kind set with (or after) the case's current tier.
            mine = sorted(
                (
                    t
                    for t in tasks_of.get(case.id, [])
                    if t.kind in MEASURES[measure] and t.due_at >= at
                ),
                key=lambda t: t.due_at,
            )
            if mine:
                task = mine[0]
                done = task.completed_at if task.status == "done" else None
                deadlines.append(_Deadline(case.tier, measure, at, task.due_at, done))

    duties: dict[str, list[int]] = {}
    for kind, (task_kinds, record_kind) in DUTIES.items():
        tasks = (
            await db.scalars(
                select(CaseTask)
                .join(Case, Case.id == CaseTask.case_id)
                .where(
                    Case.school_id == school.id,
                    CaseTask.kind.in_(task_kinds),
                    CaseTask.status.in_(("open", "done")),
                    CaseTask.due_at >= start,
                    CaseTask.due_at < end,
                )
            )
        ).all()
        completed = [t for t in tasks if t.status == "done" and t.completed_at is not None]
        records = plans = -1
        if record_kind is not None:
            records = int(
                await db.scalar(
                    select(func.count())
                    .select_from(CareRecord)
                    .join(Student, Student.id == CareRecord.student_id)
                    .where(
                        Student.school_id == school.id,
                        CareRecord.kind == record_kind,
                        CareRecord.at >= start,
                        CareRecord.at < end,
                    )
                )
                or 0
            )
        else:
            plans = int(
                await db.scalar(
                    select(func.count())
                    .select_from(CrisisPlan)
                    .join(Student, Student.id == CrisisPlan.student_id)
                    .where(
                        Student.school_id == school.id,
                        CrisisPlan.created_at >= start,
                        CrisisPlan.created_at < end,
                    )
                )
                or 0
            )
        duties[kind] = [
            len(tasks),
            len(completed),
            sum(1 for t in completed if t.completed_at is not None and t.completed_at <= t.due_at),
            sum(1 for t in tasks if t.status == "open" and t.due_at < now),
            records,
            plans,
        ]

    referrals: Counter[str] = Counter(
        (
            await db.scalars(
                select(Referral.stage)
                .join(Case, Case.id == Referral.case_id)
                .where(
                    Case.school_id == school.id,
                    Referral.sent_at >= start,
                    Referral.sent_at < end,
                )
            )
        ).all()
    )
    incidents: Counter[str] = Counter()
    for inc in (
        await db.scalars(
            select(Incident).where(
                Incident.school_id == school.id,
                Incident.recorded_at >= start,
                Incident.recorded_at < end,
            )
        )
    ).all():
        if inc.filed_at is not None:
            incidents["on_time" if inc.filed_at <= inc.review_due_at else "late"] += 1
        else:
            incidents["overdue" if inc.review_due_at < now else "pending"] += 1
    return _Raw(
        campaigns=[c.name for c in campaigns],
        classes=class_rows,
        tiers=tiers,
        cases=cases,
        deadlines=deadlines,
        duties=duties,
        referrals=referrals,
        incidents=incidents,
    )


def _figures(raw: _Raw, label: str, tz: str, now: datetime, *, with_classes: bool) -> YearFigures:
    start, end = year_bounds(label, tz)
    zone = ZoneInfo(tz)
    grades: dict[int, list[Funnel]] = {}
    for row in raw.classes:
        grades.setdefault(row.grade, []).append(row.funnel)
    cases = _tier_counts(raw.cases, CASE_TIERS)
    referral_cells = _suppressed_row([raw.referrals.get(s, 0) for s in triage.REFERRAL_STAGES])
    return YearFigures(
        label=label,
        first_day=start.astimezone(zone).date(),
        last_day=(end.astimezone(zone) - timedelta(days=1)).date(),
        campaigns=tuple(raw.campaigns),
        funnel=_sum_funnels(r.funnel for r in raw.classes),
        grades=tuple(
            FunnelRow(grade=g, class_name=None, funnel=_sum_funnels(fs))
            for g, fs in sorted(grades.items())
        ),
        classes=tuple(raw.classes) if with_classes else (),
        tiers=_tier_counts(raw.tiers),
        cases=cases,
        timeliness=_timeliness(raw.deadlines, cases, now),
        duties=tuple(
            Duty(
                kind=kind,
                due=v[0],
                done=v[1],
                on_time=v[2],
                overdue=v[3],
                records=v[4] if v[4] >= 0 else None,
                plans=v[5] if v[5] >= 0 else None,
            )
            for kind, v in raw.duties.items()
        ),
        referrals=Referrals(
            sum(raw.referrals.values()),
            referral_cells[0],
            referral_cells[1],
            referral_cells[2],
            referral_cells[3],
        ),
        incidents=Incidents(
            recorded=sum(raw.incidents.values()),
            on_time=raw.incidents["on_time"],
            late=raw.incidents["late"],
            overdue=raw.incidents["overdue"],
            pending=raw.incidents["pending"],
        ),
    )


def _merge(raws: Sequence[_Raw]) -> _Raw:
    """The district's year: every school's counts together (classes become grade rows)."""
    classes: list[FunnelRow] = []
    for r in raws:
        classes.extend(r.classes)
    duties: dict[str, list[int]] = {}
    for kind in DUTIES:
        values = [r.duties[kind] for r in raws if kind in r.duties]
        duties[kind] = [
            sum(v[i] for v in values) if all(v[i] >= 0 for v in values) else -1 for i in range(6)
        ]
        if not values:
            duties[kind] = [0, 0, 0, 0, -1 if DUTIES[kind][1] is None else 0, 0]
    out = _Raw(
        campaigns=sorted({c for r in raws for c in r.campaigns}),
        classes=classes,
        tiers=sum((r.tiers for r in raws), Counter()),
        cases=sum((r.cases for r in raws), Counter()),
        deadlines=[d for r in raws for d in r.deadlines],
        duties=duties,
        referrals=sum((r.referrals for r in raws), Counter()),
        incidents=sum((r.incidents for r in raws), Counter()),
    )
    return out


async def _staffing(db: AsyncSession, school: School) -> Staffing:
    enrolment = int(
        await db.scalar(
            select(func.count())
            .select_from(Student)
            .where(Student.school_id == school.id, Student.status == "active")
        )
        or 0
    )
    counsellors = (
        await db.scalars(
            select(StaffUser).where(
                StaffUser.school_id == school.id,
                StaffUser.role == "counsellor",
                StaffUser.active.is_(True),
            )
        )
    ).all()
    part = sum(1 for u in counsellors if u.part_time)
    classes = (
        await db.scalars(
            select(SchoolClass).where(
                SchoolClass.school_id == school.id, SchoolClass.grade >= COMMITTEE_FROM_GRADE
            )
        )
    ).all()
    members = (
        await db.execute(
            select(Student.class_id, Student.gender).where(
                Student.school_id == school.id,
                Student.status == "active",
                Student.psychology_committee.is_(True),
            )
        )
    ).all()
    by_class: dict[uuid.UUID, Counter[str]] = {}
    for class_id, gender in members:
        by_class.setdefault(class_id, Counter())[gender or ""] += 1
    met = 0
    for klass in classes:
        mine = by_class.get(klass.id, Counter())
        if sum(mine.values()) >= COMMITTEE_PER_CLASS and mine["male"] >= 1 and mine["female"] >= 1:
            met += 1
    required = math.ceil(enrolment / STUDENTS_PER_COUNSELLOR) if enrolment else 0
    return Staffing(
        enrolment=enrolment,
        counsellors_full_time=len(counsellors) - part,
        counsellors_part_time=part,
        counsellors_required=required,
        ratio_met=len(counsellors) >= required and len(counsellors) > 0,
        classes=len(classes),
        committee_members=sum(sum(by_class.get(k.id, Counter()).values()) for k in classes),
        committee_classes_met=met,
        counselling_room=bool((school.counselling_room or "").strip()),
        not_recorded=("room_hours", "training", "parent_lessons"),
    )


def _sum_staffing(rows: Sequence[Staffing]) -> Staffing:
    return Staffing(
        enrolment=sum(s.enrolment for s in rows),
        counsellors_full_time=sum(s.counsellors_full_time for s in rows),
        counsellors_part_time=sum(s.counsellors_part_time for s in rows),
        counsellors_required=sum(s.counsellors_required for s in rows),
        ratio_met=all(s.ratio_met for s in rows),
        classes=sum(s.classes for s in rows),
        committee_members=sum(s.committee_members for s in rows),
        committee_classes_met=sum(s.committee_classes_met for s in rows),
        counselling_room=all(s.counselling_room for s in rows),
        not_recorded=rows[0].not_recorded if rows else (),
    )


# --- the reports ---------------------------------------------------------------------------------


async def build_school_report(
    db: AsyncSession, school: School, *, year: str | None, now: datetime
) -> SchoolReport:
    """The annual report of ``school`` for ``year`` (default: the school year of ``now``).

    No permission check and no audit row: callers are :func:`school_report` (a signed-in
    staff member) and the operator's ``runxin report`` command, which record the read.

    Raises
    ------
    ValueError
        ``year`` is not a school-year label.
    """
    label = _canonical(year) if year else school_year_label(now, school.timezone)
    district = await db.get_one(District, school.district_id)
    this = await _gather(db, school, label, now)
    before = await _gather(db, school, previous_label(label), now)
    return SchoolReport(
        school_code=school.code,
        school_name=school.name,
        district_name=district.name,
        timezone=school.timezone,
        generated_at=now,
        year=_figures(this, label, school.timezone, now, with_classes=True),
        previous=_figures(before, previous_label(label), school.timezone, now, with_classes=True),
        staffing=await _staffing(db, school),
    )


def _canonical(label: str) -> str:
    start = parse_year(label)
    return f"{start}-{start + 1}"


def _district_tier_table(raws: Sequence[_Raw]) -> list[TierCounts]:
    """Each school's tier row, protected together with the district's column totals."""
    table = [[r.tiers.get(t, 0) for t in TIERS] for r in raws]
    cells: Sequence[Sequence[int | None]]
    if len(table) > 1 and any(any(row) for row in table):
        # The district's totals per tier are published too: protect rows and columns together.
        try:
            cells = suppression.suppress(
                table, k=MIN_CELL, row_totals=True, column_totals=True
            ).cells
        except ValueError:  # no protection without hiding a total: hide every non-zero cell
            cells = [[None if v else 0 for v in row] for row in table]
    else:
        cells = tuple(_suppressed_row(row) for row in table)
    return [
        TierCounts(red=row[0], orange=row[1], yellow=row[2], green=row[3], total=sum(table[i]))
        for i, row in enumerate(cells)
    ]


async def build_district_report(
    db: AsyncSession, district: District, *, year: str | None, now: datetime
) -> DistrictReport:
    """The annual report of every school of ``district`` for ``year`` (default: the school
    year of ``now`` in the first school's time zone). No class rows, no student. Not audited
    here (see :func:`build_school_report`)."""
    schools = list(
        (
            await db.scalars(
                select(School).where(School.district_id == district.id).order_by(School.code)
            )
        ).all()
    )
    tz = schools[0].timezone if schools else "Asia/Shanghai"
    label = _canonical(year) if year else school_year_label(now, tz)
    this = [await _gather(db, s, label, now) for s in schools]
    before = [await _gather(db, s, previous_label(label), now) for s in schools]
    tier_rows = _district_tier_table(this)
    rows = []
    for school, raw, prev, tiers in zip(schools, this, before, tier_rows, strict=True):
        figures = _figures(raw, label, school.timezone, now, with_classes=False)
        acknowledged = _pooled_acknowledgement(raw, figures.cases, now)
        duties_due = sum(d.due for d in figures.duties)
        rows.append(
            SchoolRow(
                school_code=school.code,
                school_name=school.name,
                funnel=figures.funnel,
                previous_funnel=_sum_funnels(r.funnel for r in prev.classes),
                tiers=tiers,
                acknowledged=acknowledged,
                duties_due=duties_due,
                duties_on_time=sum(d.on_time for d in figures.duties),
                incidents=figures.incidents,
                staffing=await _staffing(db, school),
            )
        )
    return DistrictReport(
        district_code=district.code,
        district_name=district.name,
        timezone=tz,
        generated_at=now,
        year=_figures(_merge(this), label, tz, now, with_classes=False),
        previous=_figures(_merge(before), previous_label(label), tz, now, with_classes=False),
        schools=tuple(rows),
        staffing=_sum_staffing([r.staffing for r in rows]),
    )


def _pooled_acknowledgement(raw: _Raw, cases: TierCounts, now: datetime) -> Timeliness:
    """Acknowledgement over a school's cases of every tier together; shown from ``k`` cases."""
    total = cases.total
    pooled = TierCounts(red=total, orange=0, yellow=0, green=0, total=total)
    if 0 < total < MIN_CELL:
        pooled = TierCounts(red=None, orange=0, yellow=0, green=0, total=total)
    merged = [
        _Deadline("red", d.measure, d.start, d.due, d.met)
        for d in raw.deadlines
        if d.measure == "acknowledge"
    ]
    first = _timeliness(merged, pooled, now)[0]
    return Timeliness(
        tier="all",
        measure="acknowledge",
        shown=first.shown,
        due=first.due,
        within=first.within,
        late=first.late,
        median_hours=first.median_hours,
        p90_hours=first.p90_hours,
        share_within=first.share_within,
    )


# --- for signed-in staff (pages) and the operator (CLI) ------------------------------------------


async def school_report(
    db: AsyncSession, user: StaffUser, *, year: str | None, fmt: str, now: datetime
) -> SchoolReport:
    """The caller's school's report (``reports.school``); the download is audited."""
    permissions.require(user, "reports.school")
    if user.school_id is None:
        raise NotFound("This account is not attached to a school", code="school_not_found")
    school = await db.get_one(School, user.school_id)
    school = await school_in_scope(db, user, school.code)
    report = await build_school_report(db, school, year=year, now=now)
    record_download(db, user, "school", school.id, label=report.year.label, fmt=fmt, now=now)
    return report


async def district_report(
    db: AsyncSession, user: StaffUser, *, year: str | None, fmt: str, now: datetime
) -> DistrictReport:
    """The caller's district's report (``reports.district``); the download is audited."""
    permissions.require(user, "reports.district")
    if scope_of(user) != "district":  # pragma: no cover - the permission table decides
        raise NotFound("No district", code="district_not_found")
    district = await db.get_one(District, user.district_id)
    report = await build_district_report(db, district, year=year, now=now)
    record_download(db, user, "district", district.id, label=report.year.label, fmt=fmt, now=now)
    return report


def record_download(
    db: AsyncSession,
    user: StaffUser | None,
    scope: str,
    subject_id: uuid.UUID,
    *,
    label: str,
    fmt: str,
    now: datetime,
) -> None:
    """Audit one report download (``report.download``): who, which school or district, which
    year and format. ``user`` None: the operator's command line."""
    audit.record(
        db,
        actor_id=user.id if user is not None else None,
        actor_role=user.role if user is not None else "cli",
        action="report.download",
        subject_type=scope,
        subject_ids=[subject_id],
        school_id=subject_id if scope == "school" else None,
        now=now,
        detail={"report": f"annual_{scope}", "year": label, "format": fmt},
    )


async def find_school(db: AsyncSession, code: str) -> School:
    school = await db.scalar(select(School).where(School.code == code))
    if school is None:
        raise NotFound(f"no school with code {code!r}", code="school_not_found")
    return school


async def find_district(db: AsyncSession, code: str) -> District:
    district = await db.scalar(select(District).where(District.code == code))
    if district is None:
        raise NotFound(f"no district with code {code!r}", code="district_not_found")
    return district
