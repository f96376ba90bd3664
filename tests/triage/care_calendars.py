"""A concrete 2026-2027 school year and hypothesis strategies for the care-duty tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from triage_strategies import calendars

from triage import ExamPeriod, SchoolCalendar, SchoolYear, TermSchedule

SH = ZoneInfo("Asia/Shanghai")


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(first: str, last: str) -> frozenset[date]:
    start, end = d(first), d(last)
    return frozenset(start + timedelta(days=n) for n in range((end - start).days + 1))


#: Autumn 2026 with the National Day holiday (1-7 Oct) and its make-up working days (Sunday
#: 20 Sep and Saturday 10 Oct), Mid-Autumn on 25 Sep; spring 2027 with New Year, Qingming and
#: May Day. Modelled on the State Council's holiday notices; the test only needs the shape.
AUTUMN_2026 = TermSchedule(
    start=d("2026-09-01"),
    end=d("2027-01-22"),
    midterm_exam=ExamPeriod(d("2026-11-09"), d("2026-11-10")),
    final_exam=ExamPeriod(d("2027-01-18"), d("2027-01-20")),
)
SPRING_2027 = TermSchedule(
    start=d("2027-02-22"),
    end=d("2027-07-02"),
    midterm_exam=ExamPeriod(d("2027-04-19"), d("2027-04-20")),
    final_exam=ExamPeriod(d("2027-06-28"), d("2027-06-30")),
)
YEAR_2026 = SchoolYear(label="2026-2027", terms=(AUTUMN_2026, SPRING_2027))
HOLIDAYS = (
    days("2026-10-01", "2026-10-07")
    | {d("2026-09-25"), d("2027-01-01"), d("2027-04-05")}
    | days("2027-05-03", "2027-05-05")
)
MAKEUP = frozenset({d("2026-09-20"), d("2026-10-10")})
CAL_2026 = SchoolCalendar(
    holidays=HOLIDAYS,
    makeup_workdays=MAKEUP,
    terms=(AUTUMN_2026.as_term(), SPRING_2027.as_term()),
)


def sh(*fields: int) -> datetime:
    """Shanghai wall-clock time: ``sh(2026, 9, 15, 10)``."""
    year, month, day, *rest = fields
    hour, minute, second = (*rest, 0, 0, 0)[:3]
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


@st.composite
def _exam(draw: st.DrawFn, first: date, last: date) -> ExamPeriod | None:
    if (last - first).days < 0 or not draw(st.booleans()):
        return None
    start = first + timedelta(days=draw(st.integers(0, (last - first).days)))
    end = start + timedelta(days=draw(st.integers(0, min(3, (last - start).days))))
    return ExamPeriod(start, end)


@st.composite
def term_schedule(draw: st.DrawFn, start: date, end: date) -> TermSchedule:
    """A term on ``start..end`` with random (possibly missing) mid-term and final exams."""
    middle = start + (end - start) / 2
    midterm = draw(_exam(start, middle - timedelta(days=1)))
    final_from = middle if midterm is None else max(middle, midterm.end + timedelta(days=1))
    final = draw(_exam(final_from, end))
    return TermSchedule(start=start, end=end, midterm_exam=midterm, final_exam=final)


@st.composite
def calendar_and_year(draw: st.DrawFn) -> tuple[SchoolCalendar, SchoolYear]:
    """A random calendar and a school year of one or two terms that fits inside it."""
    calendar = draw(calendars())
    if calendar.terms:
        index = draw(st.integers(0, len(calendar.terms) - 1))
        chosen = calendar.terms[index : index + draw(st.integers(1, 2))]
        spans = [(term.start, term.end) for term in chosen]
    else:
        start = date(2025, 2, 1) + timedelta(days=draw(st.integers(0, 500)))
        first_end = start + timedelta(days=draw(st.integers(30, 150)))
        second_start = first_end + timedelta(days=draw(st.integers(1, 60)))
        spans = [(start, first_end), (second_start, second_start + timedelta(days=120))]
        spans = spans[: draw(st.integers(1, 2))]
    terms = tuple(draw(term_schedule(a, b)) for a, b in spans)
    return calendar, SchoolYear(label="year", terms=terms)


def opened_in(calendar: SchoolCalendar, year: SchoolYear) -> st.SearchStrategy[datetime]:
    """Instants from 60 days before the year starts to its last local day."""
    zone = ZoneInfo(calendar.timezone)
    lo = datetime.combine(year.start - timedelta(days=60), datetime.min.time(), tzinfo=zone)
    hi = datetime.combine(year.end, datetime.max.time(), tzinfo=zone).replace(microsecond=0)
    span = int((hi - lo).total_seconds())
    return st.integers(0, span).map(lambda s: (lo + timedelta(seconds=s)).astimezone(UTC))
