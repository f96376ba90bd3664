"""School calendars: terms, exams, holidays and make-up workdays per school year.

Deadlines in school hours and days, and the standing care tasks (talks around exams, home
visits, re-screens) are placed on these. A school without a calendar counts weekdays.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import school_in_scope
from survey_service.db import AsyncSession, School, SchoolCalendarRecord, StaffUser
from survey_service.errors import NotFound, Unprocessable
from survey_service.schemas import single_line
from survey_service.schools.schemas import CalendarOut
from survey_service.services import audit


class ExamIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start: date
    end: date


class TermIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start: date
    end: date
    midterm_exam: ExamIn | None = None
    final_exam: ExamIn | None = None


class CalendarDocument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A school year's calendar as schools enter it."""

    terms: list[TermIn]
    holidays: list[date] = []
    makeup_workdays: list[date] = []
    day_start: Annotated[str, single_line(8)] = "08:00"
    day_end: Annotated[str, single_line(8)] = "17:00"


def build_calendar(
    timezone: str, label: str, doc: CalendarDocument
) -> tuple[triage.SchoolCalendar, triage.SchoolYear]:
    """The domain calendar and school year for ``doc``; ``CalendarError`` when inconsistent."""
    calendar = triage.SchoolCalendar(
        timezone=timezone,
        day_start=doc.day_start,
        day_end=doc.day_end,
        holidays=frozenset(doc.holidays),
        makeup_workdays=frozenset(doc.makeup_workdays),
        terms=tuple(triage.Term(start=t.start, end=t.end) for t in doc.terms),
    )
    year = triage.SchoolYear(
        label=label,
        terms=tuple(
            triage.TermSchedule(
                start=t.start,
                end=t.end,
                midterm_exam=triage.ExamPeriod(start=t.midterm_exam.start, end=t.midterm_exam.end)
                if t.midterm_exam
                else None,
                final_exam=triage.ExamPeriod(start=t.final_exam.start, end=t.final_exam.end)
                if t.final_exam
                else None,
            )
            for t in doc.terms
        ),
    )
    return calendar, year


async def put_calendar(
    db: AsyncSession,
    user: StaffUser,
    school_code: str,
    label: str,
    doc: CalendarDocument,
    *,
    now: datetime,
) -> CalendarOut:
    """Create or replace a school year's calendar (school admin or lead of that school)."""
    permissions.require(user, "calendars.edit")
    school = await school_in_scope(db, user, school_code)
    if not doc.terms:
        raise Unprocessable("a calendar needs at least one term", code="invalid_calendar")
    try:
        build_calendar(school.timezone, label, doc)
    except ValueError as exc:
        raise Unprocessable(f"the calendar is not valid: {exc}", code="invalid_calendar") from exc
    row = await db.scalar(
        select(SchoolCalendarRecord).where(
            SchoolCalendarRecord.school_id == school.id, SchoolCalendarRecord.label == label
        )
    )
    first = min(t.start for t in doc.terms)
    last = max(t.end for t in doc.terms)
    if row is None:
        row = SchoolCalendarRecord(
            school_id=school.id,
            label=label,
            first_day=first,
            last_day=last,
            document=msgspec.to_builtins(doc),
            updated_at=now,
        )
        db.add(row)
    else:
        row.first_day, row.last_day = first, last
        row.document = msgspec.to_builtins(doc)
        row.updated_at = now
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="school.calendar",
        subject_type="school",
        subject_ids=[school.id],
        school_id=school.id,
        now=now,
        detail={
            "label": label,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "terms": len(doc.terms),
        },
    )
    return CalendarOut(
        school_code=school_code,
        label=row.label,
        first_day=row.first_day.isoformat(),
        last_day=row.last_day.isoformat(),
        updated_at=row.updated_at,
    )


async def school_calendar(
    db: AsyncSession, school: School, at: datetime
) -> tuple[triage.SchoolCalendar, triage.SchoolYear | None]:
    """The calendar in force at ``at``: the school year containing that day, else the next
    one, else the last one; weekdays only when the school has entered none."""
    today = at.astimezone(ZoneInfo(school.timezone)).date()
    rows = (
        await db.scalars(
            select(SchoolCalendarRecord)
            .where(SchoolCalendarRecord.school_id == school.id)
            .order_by(SchoolCalendarRecord.first_day)
        )
    ).all()
    if not rows:
        return triage.SchoolCalendar(timezone=school.timezone), None
    chosen = next((r for r in rows if r.last_day >= today), rows[-1])
    doc = msgspec.convert(chosen.document, CalendarDocument)
    # Combine every stored year so counting never runs off the end of one year's terms.
    docs = [msgspec.convert(r.document, CalendarDocument) for r in rows]
    merged = CalendarDocument(
        terms=[t for d in docs for t in d.terms],
        holidays=sorted({h for d in docs for h in d.holidays}),
        makeup_workdays=sorted({m for d in docs for m in d.makeup_workdays}),
        day_start=doc.day_start,
        day_end=doc.day_end,
    )
    calendar, _ = build_calendar(school.timezone, chosen.label, merged)
    _, year = build_calendar(school.timezone, chosen.label, doc)
    return calendar, year


# --- the school's calendar page (issue 13) --------------------------------------------------

#: Longest span of one term or one holiday row, in days (a typo in a year is caught early).
_SPAN_MAX = 366
_LABEL_MAX = 16
_LABEL_RE = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,16}")
_YEARS_RE = re.compile(r"(\d{4})-(\d{4})")


class DayRange(msgspec.Struct, frozen=True):
    """Days from ``start`` to ``end``, both included."""

    start: date
    end: date


class TermShown(msgspec.Struct, frozen=True):
    start: date
    end: date
    midterm_exam: DayRange | None
    final_exam: DayRange | None


class CalendarYearShown(msgspec.Struct, frozen=True):
    """One stored school year as the page shows it (holidays joined into runs of days)."""

    label: str
    first_day: date
    last_day: date
    in_force: bool
    day_start: str
    day_end: str
    terms: list[TermShown]
    holidays: list[DayRange]
    holiday_days: int
    makeup_workdays: list[date]
    updated_at: datetime


class CalendarPage(msgspec.Struct, frozen=True):
    school_code: str
    school_name: str
    timezone: str
    today: date
    years: list[CalendarYearShown]
    next_label: str  # a label for a new school year, after the last stored one


class TermRowIn(msgspec.Struct, frozen=True, kw_only=True):
    """One term row of the calendar form as typed (``index``: its place in the form, from 0)."""

    index: int
    start: str = ""
    end: str = ""
    midterm_start: str = ""
    midterm_end: str = ""
    final_start: str = ""
    final_end: str = ""


class DaysRowIn(msgspec.Struct, frozen=True, kw_only=True):
    """A holiday row (``end`` blank: one day) or a make-up workday row (``start`` only)."""

    index: int
    start: str = ""
    end: str = ""


class CalendarFormIn(msgspec.Struct, frozen=True, kw_only=True):
    """The calendar form as typed; rows the school left blank are not in it."""

    label: str
    day_start: str
    day_end: str
    terms: list[TermRowIn]
    holidays: list[DaysRowIn]
    makeup_workdays: list[DaysRowIn]


def _runs(days: list[date]) -> list[DayRange]:
    """Consecutive days joined: [1, 2, 3, 5] October gives 1–3 and 5 October."""
    runs: list[DayRange] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1].end).days == 1:
            runs[-1] = DayRange(start=runs[-1].start, end=day)
        else:
            runs.append(DayRange(start=day, end=day))
    return runs


def _exam(exam: ExamIn | None) -> DayRange | None:
    return DayRange(start=exam.start, end=exam.end) if exam else None


def _year_shown(row: SchoolCalendarRecord, in_force: bool) -> CalendarYearShown:
    doc = msgspec.convert(row.document, CalendarDocument)
    return CalendarYearShown(
        label=row.label,
        first_day=row.first_day,
        last_day=row.last_day,
        in_force=in_force,
        day_start=doc.day_start,
        day_end=doc.day_end,
        terms=[
            TermShown(
                start=t.start,
                end=t.end,
                midterm_exam=_exam(t.midterm_exam),
                final_exam=_exam(t.final_exam),
            )
            for t in sorted(doc.terms, key=lambda t: t.start)
        ],
        holidays=_runs(list(doc.holidays)),
        holiday_days=len(set(doc.holidays)),
        makeup_workdays=sorted(doc.makeup_workdays),
        updated_at=row.updated_at,
    )


async def _own_school(db: AsyncSession, user: StaffUser) -> School:
    school = await db.get(School, user.school_id) if user.school_id else None
    if school is None:
        raise NotFound("This account is not attached to a school", code="school_not_found")
    return school


async def _year_rows(db: AsyncSession, school: School) -> list[SchoolCalendarRecord]:
    return list(
        (
            await db.scalars(
                select(SchoolCalendarRecord)
                .where(SchoolCalendarRecord.school_id == school.id)
                .order_by(SchoolCalendarRecord.first_day)
            )
        ).all()
    )


def _next_label(rows: list[SchoolCalendarRecord], today: date) -> str:
    match = _YEARS_RE.fullmatch(rows[-1].label) if rows else None
    first = int(match[2]) if match else (today.year if today.month >= 7 else today.year - 1)
    return f"{first}-{first + 1}"


async def calendar_page(db: AsyncSession, user: StaffUser, *, now: datetime) -> CalendarPage:
    """The calendars of the caller's own school for the page, the one in force marked (the
    school year containing today, else the next, else the last: as :func:`school_calendar`)."""
    permissions.require(user, "calendars.edit")
    school = await _own_school(db, user)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    rows = await _year_rows(db, school)
    chosen = next((r for r in rows if r.last_day >= today), rows[-1] if rows else None)
    return CalendarPage(
        school_code=school.code,
        school_name=school.name,
        timezone=school.timezone,
        today=today,
        years=[_year_shown(r, r is chosen) for r in rows],
        next_label=_next_label(rows, today),
    )


def _bad(field: str, zh: str, en: str) -> Unprocessable:
    """A 422 naming the field in both languages (``extra["field"]``: the form's name)."""
    return Unprocessable(
        f"the calendar is not valid: {en}",
        code="invalid_calendar",
        message={"zh-CN": f"校历有误：{zh}", "en": f"The calendar is not valid: {en}"},
        extra={"field": field},
    )


def _day(value: str, field: str, zh: str, en: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _bad(
            field,
            f"{zh}不是有效日期（格式如 2026-09-01）",
            f"{en} is not a valid date (like 2026-09-01)",
        ) from None


def _span(start: str, end: str, field: str, zh: str, en: str) -> DayRange:
    """Two typed dates as a range of days (``field``: the form's prefix, for the message)."""
    first = _day(start, f"{field}_start", f"{zh}的开始日期", f"{en}: the start date")
    last = _day(end, f"{field}_end", f"{zh}的结束日期", f"{en}: the end date")
    if last < first:
        raise _bad(f"{field}_end", f"{zh}的结束日期早于开始日期", f"{en} ends before it starts")
    if (last - first).days >= _SPAN_MAX:
        raise _bad(
            f"{field}_end",
            f"{zh}超过一年，请检查年份",
            f"{en} is longer than a year: check the year",
        )
    return DayRange(start=first, end=last)


def _clock(value: str, field: str, zh: str, en: str) -> str:
    text = value.strip()
    if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text) is None:
        raise _bad(field, f"{zh}应为 08:00 这样的时间", f"{en} must be a time like 08:00")
    return text


def _term(row: TermRowIn) -> TermIn:
    n, field = row.index + 1, f"term_{row.index}"
    zh, en = f"第 {n} 学期", f"Term {n}"
    span = _span(row.start, row.end, field, zh, en)
    exams: dict[str, ExamIn | None] = {}
    for key, zh_exam, en_exam in (
        ("midterm", "期中考试", "mid-term exam"),
        ("final", "期末考试", "final exam"),
    ):
        typed = (getattr(row, f"{key}_start"), getattr(row, f"{key}_end"))
        if not any(value.strip() for value in typed):  # no such exam this term
            exams[key] = None
            continue
        exam = _span(*typed, f"{field}_{key}", f"{zh}{zh_exam}", f"{en}, {en_exam}")
        if exam.start < span.start or exam.end > span.end:
            raise _bad(
                f"{field}_{key}_start",
                f"{zh}{zh_exam}不在该学期之内",
                f"{en}: the {en_exam} lies outside the term",
            )
        exams[key] = ExamIn(start=exam.start, end=exam.end)
    mid, final = exams["midterm"], exams["final"]
    if mid is not None and final is not None and mid.end >= final.start:
        raise _bad(
            f"{field}_final_start",
            f"{zh}的期中考试应在期末考试开始之前结束",
            f"{en}: the mid-term exam must end before the final exam starts",
        )
    return TermIn(start=span.start, end=span.end, midterm_exam=mid, final_exam=final)


class _FormYear(msgspec.Struct, frozen=True):
    label: str
    doc: CalendarDocument
    term_rows: list[int]  # the form's row of each term of ``doc`` (sorted by start)


def _form_year(form: CalendarFormIn) -> _FormYear:
    """The school year a page form describes, checked field by field: a 422 names the first
    wrong field in both languages."""
    label = form.label.strip()
    if _LABEL_RE.fullmatch(label) is None:
        raise _bad(
            "label",
            f"请填写学年名称（如 2026-2027，最多 {_LABEL_MAX} 个字符）",
            f"enter the school year's name (like 2026-2027, at most {_LABEL_MAX} characters)",
        )
    day_start = _clock(form.day_start, "day_start", "上课开始时间", "the start of the school day")
    day_end = _clock(form.day_end, "day_end", "放学时间", "the end of the school day")
    if day_start >= day_end:
        zh, en = "放学时间应晚于上课开始时间", "the school day must end after it starts"
        raise _bad("day_end", zh, en)
    if not form.terms:
        raise _bad("term_0_start", "至少需要一个学期", "a school year needs at least one term")
    terms = sorted(((_term(row), row.index) for row in form.terms), key=lambda p: p[0].start)
    for (before, _), (term, index) in itertools.pairwise(terms):
        if term.start <= before.end:
            raise _bad(
                f"term_{index}_start",
                f"第 {index + 1} 学期与另一个学期重叠",
                f"term {index + 1} overlaps another term",
            )
    holidays: set[date] = set()
    for days in form.holidays:
        end = days.end if days.end.strip() else days.start
        zh, en = f"第 {days.index + 1} 个假期", f"Holiday {days.index + 1}"
        span = _span(days.start, end, f"holiday_{days.index}", zh, en)
        holidays.update(
            span.start + timedelta(days=offset)
            for offset in range((span.end - span.start).days + 1)
        )
    makeup: set[date] = set()
    for days in form.makeup_workdays:
        n, field = days.index + 1, f"makeup_{days.index}"
        day = _day(days.start, field, f"第 {n} 个调休上课日", f"Make-up school day {n}")
        if day in holidays:
            zh, en = f"第 {n} 个调休上课日同时是假期", f"make-up school day {n} is also a holiday"
            raise _bad(field, zh, en)
        makeup.add(day)
    doc = CalendarDocument(
        terms=[term for term, _ in terms],
        holidays=sorted(holidays),
        makeup_workdays=sorted(makeup),
        day_start=day_start,
        day_end=day_end,
    )
    return _FormYear(label=label, doc=doc, term_rows=[index for _, index in terms])


def _check_other_years(year: _FormYear, others: list[SchoolCalendarRecord]) -> None:
    """Every stored year is combined when deadlines are counted (:func:`school_calendar`), so a
    year may not overlap another's terms nor make another's holiday a school day."""
    for other in others:
        if other.label == year.label:
            continue
        theirs = msgspec.convert(other.document, CalendarDocument)
        for term, index in zip(year.doc.terms, year.term_rows, strict=True):
            if any(term.start <= t.end and t.start <= term.end for t in theirs.terms):
                raise _bad(
                    f"term_{index}_start",
                    f"第 {index + 1} 学期与学年 {other.label} 的学期重叠",
                    f"term {index + 1} overlaps a term of the school year {other.label}",
                )
        clash = sorted(
            (set(year.doc.holidays) & set(theirs.makeup_workdays))
            | (set(year.doc.makeup_workdays) & set(theirs.holidays))
        )
        if clash:
            day = clash[0].isoformat()
            raise _bad(
                "holiday_0_start" if clash[0] in year.doc.holidays else "makeup_0",
                f"{day} 在学年 {other.label} 中是另一种日子（假期或调休上课日）",
                f"{day} is the other kind of day (holiday or make-up school day) in the "
                f"school year {other.label}",
            )


async def put_own_calendar(
    db: AsyncSession, user: StaffUser, form: CalendarFormIn, *, now: datetime
) -> CalendarOut:
    """Create or replace a school year of the caller's own school from the page's form (see
    :func:`put_calendar`). A 422 names the field in both languages; nothing is written then."""
    permissions.require(user, "calendars.edit")
    school = await _own_school(db, user)
    year = _form_year(form)
    _check_other_years(year, await _year_rows(db, school))
    return await put_calendar(db, user, school.code, year.label, year.doc, now=now)
