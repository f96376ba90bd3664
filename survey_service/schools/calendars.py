"""School calendars: terms, exams, holidays and make-up workdays per school year.

Deadlines in school hours and days, and the standing care tasks (talks around exams, home
visits, re-screens) are placed on these. A school without a calendar counts weekdays.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.accounts.access import school_in_scope
from survey_service.db import AsyncSession, School, SchoolCalendarRecord, StaffUser
from survey_service.errors import Unprocessable
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
