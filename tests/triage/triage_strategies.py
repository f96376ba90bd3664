"""Hypothesis strategies and an independent school-time oracle for the triage tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from triage import SchoolCalendar, Term

ZONES = ["Asia/Shanghai", "UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]
FIRST_DAY = date(2025, 1, 1)
LAST_TERM_END = date(2028, 6, 30)
#: Submissions are drawn well before LAST_TERM_END, so no deadline runs out of terms.
SUBMIT_FROM = datetime(2025, 1, 1, tzinfo=UTC)
SUBMIT_TO = datetime(2026, 12, 31, tzinfo=UTC)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*fields: int) -> datetime:
    """Shanghai wall-clock time: ``sh(2025, 3, 7, 16, 30)``."""
    year, month, day, *rest = fields
    hour, minute, second = (*rest, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@st.composite
def terms(draw: st.DrawFn) -> tuple[Term, ...]:
    """Alternating terms and gaps from 2025-01-01, the last term ending 2028-06-30."""
    result: list[Term] = []
    start = FIRST_DAY + timedelta(days=draw(st.integers(0, 20)))
    while True:
        end = start + timedelta(days=draw(st.integers(40, 150)))
        if end >= LAST_TERM_END - timedelta(days=60):
            result.append(Term(start=start, end=LAST_TERM_END))
            return tuple(result)
        result.append(Term(start=start, end=end))
        start = end + timedelta(days=draw(st.integers(1, 60)))


@st.composite
def calendars(draw: st.DrawFn) -> SchoolCalendar:
    """Random school calendars: zone, hours, holidays, make-up days and (maybe) terms."""
    zone = draw(st.sampled_from(ZONES))
    start_minutes = draw(st.integers(6 * 60, 10 * 60))
    length_minutes = draw(st.integers(3 * 60, 10 * 60))
    end_minutes = min(start_minutes + length_minutes, 21 * 60)
    day = st.dates(min_value=FIRST_DAY, max_value=date(2027, 12, 31))
    holidays = draw(st.frozensets(day, max_size=60))
    makeup = draw(st.frozensets(day.filter(lambda d: d.weekday() >= 5), max_size=15))
    use_terms = draw(st.booleans())
    return SchoolCalendar(
        timezone=zone,
        day_start=time(start_minutes // 60, start_minutes % 60),
        day_end=time(end_minutes // 60, end_minutes % 60),
        holidays=holidays,
        makeup_workdays=makeup - holidays,
        terms=draw(terms()) if use_terms else (),
    )


def instants(lo: datetime = SUBMIT_FROM, hi: datetime = SUBMIT_TO) -> st.SearchStrategy[datetime]:
    """Aware instants (UTC) between ``lo`` and ``hi``, with second resolution."""
    span = int((hi - lo).total_seconds())
    return st.integers(0, span).map(lambda s: lo + timedelta(seconds=s))


def school_seconds_between(calendar: SchoolCalendar, a: datetime, b: datetime) -> float:
    """Seconds of school time in ``[a, b]``, counted day by day (independent of the code)."""
    zone = ZoneInfo(calendar.timezone)
    total = 0.0
    day = a.astimezone(zone).date() - timedelta(days=1)
    last = b.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if calendar.is_school_day(day):
            start = datetime.combine(day, calendar.start_time, tzinfo=zone)
            end = datetime.combine(day, calendar.end_time, tzinfo=zone)
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def school_days_after(calendar: SchoolCalendar, first: date, last: date) -> int:
    """School days in ``(first, last]``."""
    count = 0
    day = first + timedelta(days=1)
    while day <= last:
        count += calendar.is_school_day(day)
        day += timedelta(days=1)
    return count


def is_end_of_school_day(calendar: SchoolCalendar, t: datetime) -> bool:
    """Whether ``t`` is exactly the end of school hours of a school day."""
    local = t.astimezone(ZoneInfo(calendar.timezone))
    return (
        calendar.is_school_day(local.date())
        and local.timetz().replace(tzinfo=None) == calendar.end_time
    )
