"""The arrival model: when a province's screening submissions reach the service.

Pure and deterministic: no clock, no I/O, every random draw from one seeded
:class:`numpy.random.Generator`. All work is vectorised over classes and students (in chunks of
about a million students), so ten million students take about a second.

Model
-----
1. **Calendar.** The campaign runs on ``D`` school days, Monday to Friday, counted from a start
   date; Saturdays and Sundays are skipped (:func:`school_days`). Public holidays are not
   modelled: they only move days, they do not change a day's load.
2. **Timetable.** Every school day has the same class periods (:class:`Timetable`; default
   seven periods of 45 minutes between 08:00 and 17:00 with breaks and a lunch break, the usual
   shape of a Chinese secondary school day). Times are local to the schools.
3. **Schools and classes.** The ``N`` students are cut into schools whose sizes are drawn from a
   log-normal distribution (median 1,000, clipped to 200–4,000: "schools of a few hundred to a
   few thousand students"), and every school into classes of 45 (the last class of a school
   holds the remainder).
4. **When a class screens.** A class screens as a whole in one class period. Each class gets a
   school day and a period uniformly at random, independently of the others; a share of schools
   (default 20 %) instead screens all of its classes in the same period (issue 18's design case:
   "a school of 3,000 students may submit within one class period").
5. **When a student submits.** A class starts a few minutes into its period (uniform between 2
   and 6 minutes: walking to the computer room, handing out the access-code slips, signing in).
   Each student then takes a log-normal time :math:`T` to read the consent notice and answer the
   battery (PHQ-A, GAD-7, ASQ: 21 items, then a review page):

   .. math:: \\ln T \\sim \\mathcal{N}(\\ln m, \\sigma^2), \\quad m = 13\\ \\text{min},
             \\ \\sigma = 0.35,

   so half of the students submit 10.3–16.5 minutes after starting (the interquartile range
   :math:`m e^{\\pm 0.674\\sigma}`) and 95 % within :math:`m e^{1.645\\sigma} \\approx 23`
   minutes. The distribution is truncated to the period: a time that would fall after the
   period's end is drawn again (the student is hurried to finish; at the defaults this
   concerns between 1 student in 3,000 and 1 in 1,200, depending on the class's start).

Sources
-------
The province's size (about 10 million students screened within a few weeks) and the one-period
school are issue 18's statement of the load. The completion time is this project's estimate for
the secondary battery (21 items at a few seconds each for a young reader, plus consent and
review), not a measurement; the school and class sizes are typical of Chinese primary and
secondary schools (classes of about 45 are the national upper bound for secondary schools).
Every figure is a parameter (:class:`ArrivalModel`, :class:`Timetable`), so a district's own
numbers can replace them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

MAX_STUDENTS = 50_000_000
"""The largest ``students`` :func:`simulate_arrivals` accepts (about 5 GB of draws in all)."""
MAX_DAYS = 366
"""The largest ``days`` :func:`simulate_arrivals` accepts (the histogram holds every second of
every school day)."""

_CHUNK_STUDENTS = 1_000_000  # students drawn at a time (memory: a few tens of MB per chunk)
_MAX_REDRAWS = 32  # truncation by rejection; what is still late after this is clipped


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _clock(seconds: int) -> time:
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


@dataclass(frozen=True, slots=True)
class Timetable:
    """A school day's class periods (local time); the same on every school day.

    Parameters
    ----------
    period_starts
        Start of each class period, in order. The default is a common secondary-school day:
        four periods in the morning (a 20-minute break for eye exercises and drill after the
        second) and three in the afternoon after the lunch break.
    period_minutes
        Length of every period (45 minutes in secondary schools, 40 in primary schools).
    day_start, day_end
        The school day the rates are averaged over ("school hours"); every period must lie
        inside it.
    """

    period_starts: tuple[time, ...] = (
        time(8, 0),
        time(8, 55),
        time(10, 0),
        time(10, 55),
        time(14, 0),
        time(14, 55),
        time(15, 50),
    )
    period_minutes: int = 45
    day_start: time = time(8, 0)
    day_end: time = time(17, 0)

    def __post_init__(self) -> None:
        if not self.period_starts:
            raise ValueError("the timetable needs at least one class period")
        if self.period_minutes <= 0:
            raise ValueError(f"period_minutes must be positive, not {self.period_minutes}")
        if _seconds(self.day_end) <= _seconds(self.day_start):
            raise ValueError("the school day must end after it starts")
        starts = [_seconds(moment) for moment in self.period_starts]
        length = self.period_minutes * 60
        if starts[0] < _seconds(self.day_start) or starts[-1] + length > _seconds(self.day_end):
            raise ValueError(
                f"every period must lie between {self.day_start:%H:%M} and {self.day_end:%H:%M}"
            )
        if any(later < earlier + length for earlier, later in itertools.pairwise(starts)):
            raise ValueError("class periods must be in order and must not overlap")

    @property
    def periods(self) -> int:
        """The number of class periods a day."""
        return len(self.period_starts)

    @property
    def period_seconds(self) -> int:
        """The length of one period in seconds."""
        return self.period_minutes * 60

    @property
    def day_seconds(self) -> int:
        """The length of the school day (``day_start`` to ``day_end``) in seconds."""
        return _seconds(self.day_end) - _seconds(self.day_start)

    def period_offsets(self) -> I64:
        """Each period's start in seconds after ``day_start``."""
        start = _seconds(self.day_start)
        return np.array([_seconds(moment) - start for moment in self.period_starts], np.int64)

    def period_label(self, period: int) -> str:
        """``"3 (10:00-10:45)"`` for the 0-based ``period`` 2."""
        start = _seconds(self.period_starts[period])
        end = _clock(start + self.period_seconds)
        return f"{period + 1} ({self.period_starts[period]:%H:%M}-{end:%H:%M})"

    def describe(self) -> str:
        """One line: the periods and the school day."""
        periods = ", ".join(
            f"{moment:%H:%M}-{_clock(_seconds(moment) + self.period_seconds):%H:%M}"
            for moment in self.period_starts
        )
        return (
            f"{self.periods} periods of {self.period_minutes} min ({periods}); school hours "
            f"{self.day_start:%H:%M}-{self.day_end:%H:%M}"
        )


@dataclass(frozen=True, slots=True)
class ArrivalModel:
    """The model's parameters; the defaults and their sources are in the module docstring.

    Parameters
    ----------
    class_size
        Students per class (a class screens together, in one period).
    school_median, school_sigma, school_min, school_max
        School sizes :math:`S = \\operatorname{clip}(\\operatorname{round}(e^{X}), s_{min},
        s_{max})` with :math:`X \\sim \\mathcal{N}(\\ln \\text{median}, \\sigma^2)`.
    whole_school_share
        Probability that a school screens all of its classes in one period (instead of each
        class in a period of its own).
    start_delay_minutes
        A class starts uniformly between these many minutes into its period.
    completion_median_minutes, completion_sigma
        Log-normal time from starting to submitting: median and :math:`\\sigma` of its log.
    """

    class_size: int = 45
    school_median: float = 1000.0
    school_sigma: float = 0.6
    school_min: int = 200
    school_max: int = 4000
    whole_school_share: float = 0.2
    start_delay_minutes: tuple[float, float] = (2.0, 6.0)
    completion_median_minutes: float = 13.0
    completion_sigma: float = 0.35

    def __post_init__(self) -> None:
        if self.class_size <= 0:
            raise ValueError(f"class_size must be positive, not {self.class_size}")
        if not 0 < self.school_min <= self.school_max:
            raise ValueError("school sizes need 0 < school_min <= school_max")
        if not (self.school_median > 0 and self.school_sigma >= 0):
            raise ValueError("school_median must be positive and school_sigma not negative")
        if not 0.0 <= self.whole_school_share <= 1.0:
            raise ValueError(
                f"the whole-school share must be between 0 and 1, not {self.whole_school_share}"
            )
        low, high = self.start_delay_minutes
        if not 0.0 <= low <= high:
            raise ValueError("start_delay_minutes needs 0 <= low <= high")
        if not (self.completion_median_minutes > 0 and self.completion_sigma >= 0):
            raise ValueError("the completion time needs a positive median and sigma >= 0")

    def check(self, timetable: Timetable) -> None:
        """Raise :class:`ValueError` unless a student can start and finish inside a period."""
        if self.start_delay_minutes[1] >= timetable.period_minutes:
            raise ValueError(
                f"a class must start before its {timetable.period_minutes}-minute period ends "
                f"(start delay up to {self.start_delay_minutes[1]} min)"
            )

    def describe(self) -> str:
        """One line: the classes, schools and completion times."""
        low, high = self.start_delay_minutes
        return (
            f"classes of {self.class_size}; schools of {self.school_min:,}-{self.school_max:,} "
            f"students (median {self.school_median:,.0f}); "
            f"{self.whole_school_share:.0%} of schools screen every class in one period, "
            f"the others each class in a random day and period; a class starts {low:g}-{high:g} "
            f"min into its period, a student submits a lognormal "
            f"{self.completion_median_minutes:g} min (sigma {self.completion_sigma:g}) later, "
            "within the period"
        )


def school_days(start: date, days: int) -> tuple[date, ...]:
    """The first ``days`` school days (Monday to Friday) on or after ``start``.

    Examples
    --------
    >>> [d.isoformat() for d in school_days(date(2026, 9, 11), 3)]  # a Friday
    ['2026-09-11', '2026-09-14', '2026-09-15']
    """
    if days <= 0:
        raise ValueError(f"the number of school days must be positive, not {days}")
    found: list[date] = []
    day = start
    while len(found) < days:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class ArrivalSummary:
    """What the arrival pattern asks of the service (rates in submissions per second).

    ``peak_minute_per_s`` is the largest count in any 60-second window (sliding, not aligned to
    the clock's minutes) divided by 60; ``peak_second_per_s`` the largest count in one second.
    Times are local school time.
    """

    total: int
    mean_per_s_school_hours: float
    mean_per_s_periods: float
    peak_second_per_s: int
    peak_second_at: datetime
    peak_minute_per_s: float
    peak_minute_from: datetime
    peak_day: date
    peak_day_total: int
    peak_period_day: date
    peak_period: int
    peak_period_total: int


@dataclass(frozen=True, slots=True)
class Arrivals:
    """A simulated campaign: submissions per second of every school day's school hours.

    ``per_second[d, s]`` counts the submissions on ``dates[d]`` in the second that starts ``s``
    seconds after ``timetable.day_start``.
    """

    dates: tuple[date, ...]
    timetable: Timetable
    model: ArrivalModel
    seed: int
    schools: int
    classes: int
    per_second: I64 = field(repr=False)
    summary: ArrivalSummary

    def per_period(self) -> I64:
        """Submissions per school day and class period, shape ``(days, periods)``."""
        return _per_period(self.per_second, self.timetable)


def _per_period(per_second: I64, timetable: Timetable) -> I64:
    length = timetable.period_seconds
    return np.stack(
        [per_second[:, start : start + length].sum(axis=1) for start in timetable.period_offsets()],
        axis=1,
    )


def _school_sizes(rng: np.random.Generator, students: int, model: ArrivalModel) -> I64:
    """School sizes adding up to ``students`` (the last school takes the remainder)."""
    # ceil(N / school_min) + 1 schools always hold N students; only the prefix that does is kept.
    draws = math.ceil(students / model.school_min) + 1
    sizes = np.rint(rng.lognormal(math.log(model.school_median), model.school_sigma, draws))
    sizes = np.clip(sizes, model.school_min, model.school_max).astype(np.int64)
    total = np.cumsum(sizes)
    schools = int(np.searchsorted(total, students)) + 1
    sizes = sizes[:schools].copy()
    sizes[-1] = students - (int(total[schools - 2]) if schools > 1 else 0)
    return sizes


def _classes(sizes: I64, class_size: int) -> tuple[I64, I64]:
    """``(school of each class, size of each class)``: full classes, the remainder last."""
    per_school = -(-sizes // class_size)
    school = np.repeat(np.arange(sizes.size, dtype=np.int64), per_school)
    size = np.full(school.size, class_size, dtype=np.int64)
    last = np.cumsum(per_school) - 1
    size[last] = sizes - class_size * (per_school - 1)
    return school, size


def simulate_arrivals(
    students: int,
    days: int,
    *,
    start: date,
    seed: int = 0,
    timetable: Timetable | None = None,
    model: ArrivalModel | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Arrivals:
    """Simulate when ``students`` submissions arrive over ``days`` school days from ``start``.

    Parameters
    ----------
    students
        Students screened (each submits exactly once), 1 to :data:`MAX_STUDENTS`.
    days
        School days the campaign runs (weekends are skipped), 1 to :data:`MAX_DAYS`.
    start
        The campaign's first day (a Saturday or Sunday start begins on the Monday).
    seed
        Seed of the :class:`numpy.random.Generator` (PCG64); the same arguments give the same
        arrivals.
    timetable, model
        The school day and the model's parameters (defaults: :class:`Timetable`,
        :class:`ArrivalModel`).
    progress
        Called with ``(students placed so far, students)`` after every chunk of about a million
        students.

    Returns
    -------
    Arrivals
        The per-second histogram of every school day and its :class:`ArrivalSummary`.

    Raises
    ------
    ValueError
        For a non-positive or too large ``students`` or ``days``, a negative ``seed``, or a
        model that does not fit the timetable.
    """
    if isinstance(students, bool) or not isinstance(students, int) or students <= 0:
        raise ValueError(f"the number of students must be a positive integer, not {students!r}")
    if students > MAX_STUDENTS:
        raise ValueError(f"at most {MAX_STUDENTS:,} students, not {students:,}")
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise ValueError(f"the number of school days must be a positive integer, not {days!r}")
    if days > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} school days, not {days}")
    if seed < 0:
        raise ValueError(f"the seed must not be negative, not {seed}")
    timetable = timetable if timetable is not None else Timetable()
    model = model if model is not None else ArrivalModel()
    model.check(timetable)
    dates = school_days(start, days)
    rng = np.random.Generator(np.random.PCG64(seed))

    # Schools, classes, and the slot (school day x period) of every class.
    school_sizes = _school_sizes(rng, students, model)
    class_school, class_sizes = _classes(school_sizes, model.class_size)
    slots = days * timetable.periods
    class_slot = rng.integers(0, slots, size=class_school.size)
    whole = rng.random(school_sizes.size) < model.whole_school_share
    school_slot = rng.integers(0, slots, size=school_sizes.size)
    class_slot = np.where(whole[class_school], school_slot[class_school], class_slot)

    # Each class's start and its period's end, in seconds on one time line of the school days
    # laid end to end (day d covers [d * day_seconds, (d + 1) * day_seconds)).
    day, period = np.divmod(class_slot, timetable.periods)
    period_start = day * timetable.day_seconds + timetable.period_offsets()[period]
    period_end = (period_start + timetable.period_seconds).astype(np.float64)
    low, high = model.start_delay_minutes
    class_start = period_start + rng.uniform(low * 60.0, high * 60.0, size=class_school.size)

    counts = np.zeros(days * timetable.day_seconds, dtype=np.int64)
    mu = math.log(model.completion_median_minutes * 60.0)
    ends = np.cumsum(class_sizes)
    first = 0
    placed = 0
    while first < class_sizes.size:
        last = int(np.searchsorted(ends, placed + _CHUNK_STUDENTS, side="right"))
        last = max(last, first + 1)
        sizes = class_sizes[first:last]
        begin = np.repeat(class_start[first:last], sizes)
        finish = np.repeat(period_end[first:last], sizes)
        moment = begin + rng.lognormal(mu, model.completion_sigma, begin.size)
        late = np.flatnonzero(moment >= finish)
        for _ in range(_MAX_REDRAWS):
            if late.size == 0:
                break
            moment[late] = begin[late] + rng.lognormal(mu, model.completion_sigma, late.size)
            late = late[moment[late] >= finish[late]]
        second = np.minimum(np.floor(moment), finish - 1.0).astype(np.int64)
        counts += np.bincount(second, minlength=counts.size)
        placed += begin.size
        first = last
        if progress is not None:
            progress(placed, students)

    per_second = counts.reshape(days, timetable.day_seconds)
    per_second.flags.writeable = False
    return Arrivals(
        dates=dates,
        timetable=timetable,
        model=model,
        seed=seed,
        schools=int(school_sizes.size),
        classes=int(class_school.size),
        per_second=per_second,
        summary=_summarise(per_second, dates, timetable),
    )


def _summarise(per_second: I64, dates: tuple[date, ...], timetable: Timetable) -> ArrivalSummary:
    days = len(dates)
    total = int(per_second.sum())
    day_start = _seconds(timetable.day_start)

    def at(day: int, second: int) -> datetime:
        return datetime.combine(dates[day], _clock(day_start + second))

    flat = int(np.argmax(per_second))
    peak_second_day, peak_second = divmod(flat, timetable.day_seconds)

    # Sliding 60-second sums, one day at a time (a window never spans two days).
    window = 60  # a day holds at least one period of at least a minute
    best, best_day, best_from = -1, 0, 0
    for index in range(days):
        sums = np.concatenate(([0], np.cumsum(per_second[index])))
        moving = sums[window:] - sums[:-window]
        where = int(np.argmax(moving))
        if int(moving[where]) > best:
            best, best_day, best_from = int(moving[where]), index, where

    per_day = per_second.sum(axis=1)
    peak_day = int(np.argmax(per_day))
    per_period = _per_period(per_second, timetable)
    peak_period_day, peak_period = divmod(int(np.argmax(per_period)), timetable.periods)
    return ArrivalSummary(
        total=total,
        mean_per_s_school_hours=total / (days * timetable.day_seconds),
        mean_per_s_periods=total / (days * timetable.periods * timetable.period_seconds),
        peak_second_per_s=int(per_second[peak_second_day, peak_second]),
        peak_second_at=at(peak_second_day, peak_second),
        peak_minute_per_s=best / 60.0,
        peak_minute_from=at(best_day, best_from),
        peak_day=dates[peak_day],
        peak_day_total=int(per_day[peak_day]),
        peak_period_day=dates[peak_period_day],
        peak_period=peak_period,
        peak_period_total=int(per_period[peak_period_day, peak_period]),
    )
