"""The school calendar: which days are school days and how school time is counted.

Deadlines of the ``school`` counting mode (see :mod:`triage._deadlines`) count only time inside
school hours of school days. A school day is a weekday that is not a holiday, or a weekend day
declared a make-up working day (调休); when terms are given, a day outside every term is never a
school day. All arithmetic happens on aware instants; local days are taken in the calendar's
time zone and every datetime returned is in UTC.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

__all__ = ["CalendarError", "SchoolCalendar", "Term", "require_aware"]

#: How far ahead the calendar looks for the next school day before giving up.
_MAX_SEARCH_DAYS = 400


class CalendarError(ValueError):
    """The school calendar is malformed or has no school day where one is needed."""


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise ``ValueError``.

    Parameters
    ----------
    value : datetime
        The datetime to check.
    name : str
        The parameter name used in the error message.

    Returns
    -------
    datetime
        ``value`` unchanged.

    Raises
    ------
    ValueError
        If ``value`` is not a datetime or is naive (no UTC offset).
    """
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive datetime {value.isoformat()}")
    return value


def _parse_clock_time(value: object, name: str) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise CalendarError(f"SchoolCalendar.{name} must be a local time without tzinfo")
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is not None:
            raise CalendarError(
                f"SchoolCalendar.{name} must be a local time like '08:00', got {value!r}"
            )
        return parsed
    raise CalendarError(
        f"SchoolCalendar.{name} must be a str like '08:00' or a datetime.time, "
        f"got {type(value).__name__}"
    )


class Term(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A school term, both ends inclusive.

    Parameters
    ----------
    start : date
        First day of the term.
    end : date
        Last day of the term (on or after ``start``).
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise CalendarError(f"Term.{name} must be a date, got {type(value).__name__}")
        if self.end < self.start:
            raise CalendarError(
                f"Term ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            )

    def contains(self, day: date) -> bool:
        """Return whether ``day`` falls inside the term (both ends inclusive)."""
        return self.start <= day <= self.end


class SchoolCalendar(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """School days and school hours of one school.

    Parameters
    ----------
    timezone : str
        IANA time zone of the school, ``"Asia/Shanghai"`` by default.
    day_start, day_end : str or datetime.time
        Local start and end of school hours (``"08:00"`` and ``"17:00"`` by default). Strings are
        normalised to :class:`datetime.time` on construction; ``day_start`` must be before
        ``day_end``. School hours are the half-open interval ``[day_start, day_end)``.
    holidays : frozenset of date
        Days without school (public holidays, closures), whatever their weekday.
    makeup_workdays : frozenset of date
        Weekend days that are school days (调休 make-up working days).
    terms : tuple of Term
        School terms. When given, a day outside every term is not a school day. Terms are stored
        sorted by start and must not overlap.

    Raises
    ------
    CalendarError
        (a ``ValueError``) if the time zone is unknown, the hours are malformed or empty, a day
        is both a holiday and a make-up workday, or terms overlap.
    """

    timezone: str = "Asia/Shanghai"
    day_start: str | time = "08:00"
    day_end: str | time = "17:00"
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    terms: tuple[Term, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.timezone, str) or not self.timezone:
            raise CalendarError("SchoolCalendar.timezone must be an IANA zone name")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(
                f"SchoolCalendar.timezone: unknown time zone {self.timezone!r}"
            ) from exc
        start = _parse_clock_time(self.day_start, "day_start")
        end = _parse_clock_time(self.day_end, "day_end")
        if start >= end:
            raise CalendarError(
                f"SchoolCalendar.day_start ({start.isoformat()}) must be before "
                f"day_end ({end.isoformat()})"
            )
        msgspec.structs.force_setattr(self, "day_start", start)
        msgspec.structs.force_setattr(self, "day_end", end)
        holidays = frozenset(self.holidays)
        makeup = frozenset(self.makeup_workdays)
        for name, days in (("holidays", holidays), ("makeup_workdays", makeup)):
            for day in days:
                if not isinstance(day, date) or isinstance(day, datetime):
                    raise CalendarError(
                        f"SchoolCalendar.{name} must hold dates, got {type(day).__name__}"
                    )
        both = sorted(holidays & makeup)
        if both:
            raise CalendarError(
                "SchoolCalendar: a day cannot be both a holiday and a make-up workday: "
                + ", ".join(d.isoformat() for d in both)
            )
        msgspec.structs.force_setattr(self, "holidays", holidays)
        msgspec.structs.force_setattr(self, "makeup_workdays", makeup)
        for term in self.terms:
            if not isinstance(term, Term):
                raise CalendarError("SchoolCalendar.terms must hold Term objects")
        terms = tuple(sorted(self.terms, key=lambda term: term.start))
        for previous, current in itertools.pairwise(terms):
            if current.start <= previous.end:
                raise CalendarError(
                    f"SchoolCalendar.terms overlap: {previous.start}..{previous.end} and "
                    f"{current.start}..{current.end}"
                )
        msgspec.structs.force_setattr(self, "terms", terms)

    # -- basic facts -------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def start_time(self) -> time:
        """Local start of school hours as a :class:`datetime.time`."""
        return _parse_clock_time(self.day_start, "day_start")

    @property
    def end_time(self) -> time:
        """Local end of school hours as a :class:`datetime.time`."""
        return _parse_clock_time(self.day_end, "day_end")

    def without_terms(self) -> SchoolCalendar:
        """Return the same calendar with no terms (weekdays, holidays and make-up days only)."""
        return msgspec.structs.replace(self, terms=())

    def local_date(self, t: datetime) -> date:
        """Return the local date of the aware instant ``t`` in the calendar's time zone."""
        return require_aware(t, "t").astimezone(self.zone).date()

    def is_school_day(self, d: date) -> bool:
        """Return whether ``d`` is a school day.

        Parameters
        ----------
        d : date
            The day. An aware datetime is accepted and means its local date in the calendar's
            time zone.

        Returns
        -------
        bool
            ``False`` outside every term (when terms are given) and on holidays; ``True`` on
            make-up workdays and on other weekdays.
        """
        if isinstance(d, datetime):
            d = self.local_date(d)
        elif not isinstance(d, date):
            raise ValueError(f"d must be a date, got {type(d).__name__}")
        if self.terms and not any(term.contains(d) for term in self.terms):
            return False
        if d in self.holidays:
            return False
        if d in self.makeup_workdays:
            return True
        return d.weekday() < 5

    def school_day_bounds(self, d: date) -> tuple[datetime, datetime]:
        """Return the UTC instants at which school hours of local day ``d`` start and end."""
        zone = self.zone
        start = datetime.combine(d, self.start_time, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(d, self.end_time, tzinfo=zone).astimezone(UTC)
        return start, end

    def next_school_day(self, d: date, *, include: bool = False) -> date:
        """Return the first school day after ``d`` (or on ``d`` when ``include`` is true).

        Raises
        ------
        CalendarError
            If there is no school day within the search horizon (for example after the last
            configured term).
        """
        day = d if include else d + timedelta(days=1)
        last_term_end = self.terms[-1].end if self.terms else None
        for _ in range(_MAX_SEARCH_DAYS):
            if last_term_end is not None and day > last_term_end:
                break
            if self.is_school_day(day):
                return day
            day += timedelta(days=1)
        if last_term_end is not None and day > last_term_end:
            raise CalendarError(
                f"no school day after {d.isoformat()}: the calendar's last term ends "
                f"{last_term_end.isoformat()}"
            )
        raise CalendarError(
            f"no school day within {_MAX_SEARCH_DAYS} days after {d.isoformat()} in this calendar"
        )

    # -- school-time arithmetic --------------------------------------------------------------

    def add_school_hours(self, start: datetime, hours: float) -> datetime:
        """Add ``hours`` of school time to ``start``.

        Only time inside school hours of school days counts. A ``start`` outside school hours
        begins counting at the next school-day start; a result that lands exactly on the end of
        school hours stays on that day.

        Parameters
        ----------
        start : datetime
            Aware start instant.
        hours : float
            School hours to add (finite, ``>= 0``).

        Returns
        -------
        datetime
            The UTC instant after ``hours`` of school time.

        Raises
        ------
        ValueError
            If ``start`` is naive or ``hours`` is negative or not finite.
        CalendarError
            If the calendar runs out of school days.
        """
        require_aware(start, "start")
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            raise ValueError(f"hours must be a number, got {type(hours).__name__}")
        if not math.isfinite(hours) or hours < 0:
            raise ValueError(f"hours must be finite and >= 0, got {hours!r}")
        remaining = timedelta(hours=hours)
        current = start.astimezone(UTC)
        day = self.local_date(current)
        if not self.is_school_day(day):
            day = self.next_school_day(day)
        while True:
            day_start, day_end = self.school_day_bounds(day)
            current = max(current, day_start)
            if current < day_end:
                available = day_end - current
                if remaining <= available:
                    return current + remaining
                remaining -= available
            day = self.next_school_day(day)

    def end_of_school_day(self, t: datetime) -> datetime:
        """Return the end of the school day containing ``t``.

        If ``t`` is at or after the end of school hours, or on a day that is not a school day,
        the end of the next school day is returned. A ``t`` before school hours on a school day
        belongs to that day.

        Returns
        -------
        datetime
            UTC instant, always strictly after ``t``.
        """
        require_aware(t, "t")
        day = self.local_date(t)
        if self.is_school_day(day):
            _, day_end = self.school_day_bounds(day)
            if t < day_end:
                return day_end
        return self.school_day_bounds(self.next_school_day(day))[1]

    def add_school_days(self, t: datetime, n: int) -> datetime:
        """Return the end of the ``n``-th school day after the local day of ``t``.

        ``n = 0`` means :meth:`end_of_school_day` of ``t``.

        Parameters
        ----------
        t : datetime
            Aware instant.
        n : int
            Number of school days (``>= 0``).

        Returns
        -------
        datetime
            UTC instant of the end of school hours on that day.
        """
        require_aware(t, "t")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        if n == 0:
            return self.end_of_school_day(t)
        day = self.local_date(t)
        for _ in range(n):
            day = self.next_school_day(day)
        return self.school_day_bounds(day)[1]

    def end_of_local_day(self, t: datetime) -> datetime:
        """Return 23:59:59 local time of the calendar day of ``t``, in UTC."""
        require_aware(t, "t")
        day = self.local_date(t)
        return datetime.combine(day, time(23, 59, 59), tzinfo=self.zone).astimezone(UTC)

    def in_school_hours(self, t: datetime) -> bool:
        """Return whether ``t`` lies within school hours (both ends inclusive) of a school day."""
        require_aware(t, "t")
        day = self.local_date(t)
        if not self.is_school_day(day):
            return False
        day_start, day_end = self.school_day_bounds(day)
        return day_start <= t <= day_end
