"""Capacity planning (issue 18): a synthetic province-sized arrival pattern and the app nodes
and database cores that measured capacity needs for its peak.

Pure and deterministic (numpy only, a seeded generator, no clock, no I/O): ``runxin simulate``
reads ``benchmarks/capacity.json`` and prints :func:`report`.

>>> from datetime import date
>>> arrivals = simulate_arrivals(3000, 1, start=date(2026, 9, 7), seed=1)
>>> arrivals.summary.total
3000
>>> plan = plan_capacity(
...     arrivals.summary.peak_minute_per_s, arrivals.summary.peak_second_per_s, BUILTIN_CAPACITY
... )
>>> plan.app_nodes >= 1
True
"""

from ._arrivals import (
    MAX_DAYS,
    MAX_STUDENTS,
    ArrivalModel,
    Arrivals,
    ArrivalSummary,
    Timetable,
    school_days,
    simulate_arrivals,
)
from ._plan import (
    BUILTIN_CAPACITY,
    DATABASES,
    Capacity,
    Plan,
    capacity_from_json,
    check_headroom,
    machine_line,
    plan_capacity,
    report,
    units_needed,
)

__all__ = [
    "BUILTIN_CAPACITY",
    "DATABASES",
    "MAX_DAYS",
    "MAX_STUDENTS",
    "ArrivalModel",
    "ArrivalSummary",
    "Arrivals",
    "Capacity",
    "Plan",
    "Timetable",
    "capacity_from_json",
    "check_headroom",
    "machine_line",
    "plan_capacity",
    "report",
    "school_days",
    "simulate_arrivals",
    "units_needed",
]
