"""School calendar: concrete Chinese school-day examples and properties over random calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from triage_strategies import (
    calendars,
    instants,
    is_end_of_school_day,
    school_days_after,
    school_seconds_between,
    sh,
)

from triage import CalendarError, SchoolCalendar, Term

SH = ZoneInfo("Asia/Shanghai")
CAL = SchoolCalendar()

# 2025 National Day / Mid-Autumn: 1-8 Oct off; Sun 28 Sep and Sat 11 Oct are make-up workdays.
NATIONAL_DAY = SchoolCalendar(
    holidays=frozenset(date(2025, 10, d) for d in range(1, 9)),
    makeup_workdays=frozenset({date(2025, 9, 28), date(2025, 10, 11)}),
)
TERMS = SchoolCalendar(
    terms=(
        Term(start=date(2026, 3, 2), end=date(2026, 7, 3)),
        Term(start=date(2025, 9, 1), end=date(2026, 1, 16)),
    ),
)


def local(t: datetime) -> datetime:
    assert t.tzinfo is UTC
    return t.astimezone(SH)


# -- concrete examples --------------------------------------------------------------------------


def test_defaults() -> None:
    assert CAL.timezone == "Asia/Shanghai"
    assert (CAL.day_start, CAL.day_end) == (time(8), time(17))
    assert SchoolCalendar(day_start=time(7, 30), day_end="16:45").start_time == time(7, 30)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (sh(2025, 3, 7, 16, 30), 1, sh(2025, 3, 10, 8, 30)),  # Friday afternoon to Monday
        (sh(2025, 3, 7, 16, 0), 1, sh(2025, 3, 7, 17, 0)),  # lands on the end: same day
        (sh(2025, 3, 8, 10, 0), 1, sh(2025, 3, 10, 9, 0)),  # Saturday starts Monday 08:00
        (sh(2025, 3, 10, 7, 0), 1, sh(2025, 3, 10, 9, 0)),  # before school
        (sh(2025, 3, 10, 19, 0), 2, sh(2025, 3, 11, 10, 0)),  # after school
        (sh(2025, 3, 10, 16, 0), 2.5, sh(2025, 3, 11, 9, 30)),
        (sh(2025, 3, 10, 8, 0), 9, sh(2025, 3, 10, 17, 0)),
        (sh(2025, 3, 10, 8, 0), 18, sh(2025, 3, 11, 17, 0)),
        (sh(2025, 3, 10, 9, 0), 0, sh(2025, 3, 10, 9, 0)),
        (sh(2025, 3, 10, 17, 0), 0, sh(2025, 3, 11, 8, 0)),
    ],
)
def test_add_school_hours_examples(start: datetime, hours: float, expected: datetime) -> None:
    result = CAL.add_school_hours(start, hours)
    assert result.tzinfo is UTC
    assert result == expected


def test_other_offsets_are_accepted_and_utc_returned() -> None:
    friday_utc = datetime(2025, 3, 7, 8, 30, tzinfo=UTC)  # 16:30 in Shanghai
    assert local(CAL.add_school_hours(friday_utc, 1)) == sh(2025, 3, 10, 8, 30)


def test_national_day_holidays_and_makeup_days() -> None:
    assert NATIONAL_DAY.is_school_day(date(2025, 9, 28))  # Sunday, make-up workday
    assert NATIONAL_DAY.is_school_day(date(2025, 10, 11))  # Saturday, make-up workday
    assert not NATIONAL_DAY.is_school_day(date(2025, 10, 1))
    assert not NATIONAL_DAY.is_school_day(date(2025, 10, 12))  # ordinary Sunday
    # Tuesday 30 Sep 16:30 + 1 school hour skips the holiday week to Thursday 9 Oct.
    assert local(NATIONAL_DAY.add_school_hours(sh(2025, 9, 30, 16, 30), 1)) == sh(
        2025, 10, 9, 8, 30
    )
    # Friday 10 Oct 16:30 + 1 school hour goes to the make-up Saturday.
    assert local(NATIONAL_DAY.add_school_hours(sh(2025, 10, 10, 16, 30), 1)) == sh(
        2025, 10, 11, 8, 30
    )
    # Saturday 27 Sep + 1 school hour: the make-up Sunday.
    assert local(NATIONAL_DAY.add_school_hours(sh(2025, 9, 27, 12, 0), 1)) == sh(2025, 9, 28, 9, 0)
    assert local(NATIONAL_DAY.end_of_school_day(sh(2025, 10, 3, 9))) == sh(2025, 10, 9, 17)
    assert local(NATIONAL_DAY.add_school_days(sh(2025, 9, 29, 9), 3)) == sh(2025, 10, 10, 17)


def test_terms_skip_the_winter_vacation() -> None:
    assert TERMS.terms[0].start == date(2025, 9, 1)  # stored sorted
    assert not TERMS.is_school_day(date(2026, 2, 2))  # a Monday in the vacation
    assert not TERMS.is_school_day(date(2025, 8, 29))  # before the first term
    assert TERMS.is_school_day(date(2026, 1, 16))
    # Last Friday of term, 16:30, + 1 school hour: first Monday of the next term.
    assert local(TERMS.add_school_hours(sh(2026, 1, 16, 16, 30), 1)) == sh(2026, 3, 2, 8, 30)
    assert local(TERMS.end_of_school_day(sh(2026, 2, 10, 10))) == sh(2026, 3, 2, 17)
    assert local(TERMS.add_school_days(sh(2026, 1, 15, 10), 2)) == sh(2026, 3, 2, 17)


def test_makeup_day_outside_terms_is_not_a_school_day() -> None:
    cal = SchoolCalendar(
        makeup_workdays=frozenset({date(2026, 2, 14)}),
        terms=(Term(start=date(2026, 3, 2), end=date(2026, 7, 3)),),
    )
    assert not cal.is_school_day(date(2026, 2, 14))


def test_running_out_of_terms_raises_calendar_error() -> None:
    with pytest.raises(CalendarError, match=r"last term ends 2026-07-03"):
        TERMS.add_school_hours(sh(2026, 7, 3, 18), 1)
    assert local(TERMS.without_terms().add_school_hours(sh(2026, 7, 3, 18), 1)) == sh(2026, 7, 6, 9)


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (sh(2025, 3, 10, 9), sh(2025, 3, 10, 17)),
        (sh(2025, 3, 10, 7), sh(2025, 3, 10, 17)),  # before school: that day
        (sh(2025, 3, 10, 16, 59, 59), sh(2025, 3, 10, 17)),
        (sh(2025, 3, 10, 17), sh(2025, 3, 11, 17)),  # at the end: next school day
        (sh(2025, 3, 7, 20), sh(2025, 3, 10, 17)),  # Friday evening: Monday
        (sh(2025, 3, 9, 12), sh(2025, 3, 10, 17)),  # Sunday: Monday
    ],
)
def test_end_of_school_day_examples(t: datetime, expected: datetime) -> None:
    assert CAL.end_of_school_day(t) == expected


@pytest.mark.parametrize(
    ("t", "n", "expected"),
    [
        (sh(2025, 3, 10, 10), 0, sh(2025, 3, 10, 17)),
        (sh(2025, 3, 10, 10), 1, sh(2025, 3, 11, 17)),
        (sh(2025, 3, 10, 10), 2, sh(2025, 3, 12, 17)),
        (sh(2025, 3, 7, 10), 1, sh(2025, 3, 10, 17)),  # Friday + 1: Monday
        (sh(2025, 3, 8, 10), 1, sh(2025, 3, 10, 17)),  # Saturday + 1: Monday
        (sh(2025, 3, 10, 10), 10, sh(2025, 3, 24, 17)),
    ],
)
def test_add_school_days_examples(t: datetime, n: int, expected: datetime) -> None:
    assert CAL.add_school_days(t, n) == expected


def test_daylight_saving_zone() -> None:
    london = SchoolCalendar(timezone="Europe/London", day_start="08:30", day_end="15:30")
    # Friday 28 Mar 2025 15:00 GMT + 1 school hour: Monday 31 Mar 09:00 BST (08:00 UTC).
    result = london.add_school_hours(datetime(2025, 3, 28, 15, 0, tzinfo=UTC), 1)
    assert result == datetime(2025, 3, 31, 8, 0, tzinfo=UTC)


def test_local_day_end_and_school_day_of_a_datetime() -> None:
    assert local(CAL.end_of_local_day(sh(2025, 3, 10, 23, 50))) == sh(2025, 3, 10, 23, 59, 59)
    # 23:30 UTC on Sunday is 07:30 Monday in Shanghai.
    assert CAL.is_school_day(datetime(2025, 3, 9, 23, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"day_start": "17:00", "day_end": "08:00"}, "before day_end"),
        ({"day_start": "8am"}, "local time like"),
        ({"day_start": time(8, tzinfo=UTC)}, "without tzinfo"),
        ({"holidays": frozenset({datetime(2025, 10, 1, tzinfo=UTC)})}, "must hold dates"),
        ({"terms": ((date(2025, 9, 1), date(2026, 1, 16)),)}, "Term objects"),
        (
            {
                "holidays": frozenset({date(2025, 10, 11)}),
                "makeup_workdays": frozenset({date(2025, 10, 11)}),
            },
            "both a holiday and a make-up",
        ),
        (
            {
                "terms": (
                    Term(date(2025, 9, 1), date(2026, 1, 16)),
                    Term(date(2026, 1, 10), date(2026, 7, 1)),
                )
            },
            "overlap",
        ),
    ],
)
def test_malformed_calendars_raise(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SchoolCalendar(**kwargs)  # type: ignore[arg-type]


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        Term(start=date(2026, 1, 2), end=date(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_school_hours(datetime(2025, 3, 10, 9), 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.end_of_school_day(datetime(2025, 3, 10, 9))
    with pytest.raises(ValueError, match=">= 0"):
        CAL.add_school_hours(sh(2025, 3, 10, 9), -1)
    with pytest.raises(ValueError, match="finite"):
        CAL.add_school_hours(sh(2025, 3, 10, 9), float("nan"))
    with pytest.raises(ValueError, match="n must be"):
        CAL.add_school_days(sh(2025, 3, 10, 9), -1)


# -- properties over random calendars -----------------------------------------------------------

PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(calendars(), instants(), st.floats(0, 60, allow_nan=False))
def test_add_school_hours_counts_exactly_school_time(
    calendar: SchoolCalendar, start: datetime, hours: float
) -> None:
    result = calendar.add_school_hours(start, hours)
    assert result.tzinfo is UTC
    assert result >= start
    assert calendar.in_school_hours(result)
    counted = school_seconds_between(calendar, start, result)
    assert counted == pytest.approx(hours * 3600, abs=1e-3)


@PROPERTY
@given(calendars(), instants(), instants(), st.floats(0, 30, allow_nan=False))
def test_school_time_is_monotonic(
    calendar: SchoolCalendar, a: datetime, b: datetime, hours: float
) -> None:
    early, late = min(a, b), max(a, b)
    assert calendar.add_school_hours(early, hours) <= calendar.add_school_hours(late, hours)
    assert calendar.end_of_school_day(early) <= calendar.end_of_school_day(late)
    assert calendar.add_school_days(early, 3) <= calendar.add_school_days(late, 3)


@PROPERTY
@given(calendars(), instants(), st.integers(0, 12))
def test_school_days_end_on_the_nth_school_day(
    calendar: SchoolCalendar, t: datetime, n: int
) -> None:
    result = calendar.add_school_days(t, n)
    assert result > t
    assert is_end_of_school_day(calendar, result)
    if n:
        first = calendar.local_date(t)
        assert school_days_after(calendar, first, calendar.local_date(result)) == n
    else:
        assert result == calendar.end_of_school_day(t)


@PROPERTY
@given(calendars(), instants())
def test_end_of_school_day_is_the_first_school_day_end_after_t(
    calendar: SchoolCalendar, t: datetime
) -> None:
    result = calendar.end_of_school_day(t)
    assert result > t
    assert is_end_of_school_day(calendar, result)
    # No end of a school day lies strictly between t and the result.
    day = calendar.local_date(t)
    while True:
        if calendar.is_school_day(day):
            end = calendar.school_day_bounds(day)[1]
            if end > t:
                assert end == result
                break
        day += timedelta(days=1)
