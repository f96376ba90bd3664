"""Sizing: how many app nodes and database cores a peak arrival rate needs.

Pure: the measured figures come in as text (:func:`capacity_from_json`, the caller reads the
file) or as the built-in numbers (:data:`BUILTIN_CAPACITY`); the plan is arithmetic and the
report is a list of lines.

Sizing rule
-----------
For a peak rate :math:`\\lambda` (submissions per second), a headroom factor :math:`h` and a
capacity :math:`c` (submissions per second per app node, or per database core)

.. math:: n = \\max\\left(1, \\left\\lceil \\frac{h \\lambda}{c} \\right\\rceil\\right).

The plan is sized at the **peak minute** (the busiest sliding 60-second window): a burst
within one second is absorbed by the request queues of the nodes (a submission takes tens of
milliseconds of server time), while a minute-long excess is not. The same arithmetic at the
peak second is reported beside it. The headroom (default 2) covers what the model leaves out:
campaigns that start on the same day, a node lost during the peak, retries after errors, the
dashboards and notification dispatch sharing the database.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ._arrivals import Arrivals

DATABASES = ("sqlite", "postgresql")
"""The values of ``db`` in ``benchmarks/capacity.json``."""


@dataclass(frozen=True, slots=True)
class Capacity:
    """Measured (or assumed) throughput of one app node and of one database core.

    Parameters
    ----------
    node_per_s
        Submissions per second one app node sustains (one worker process per core), each
        submission being the student flow of issue 18's benchmark: start a session, save the
        answers, submit the secondary battery.
    db_per_core_per_s
        Submissions per second one database core sustains.
    db
        The database the node figure was measured on (``sqlite``, ``postgresql``, or ``None``
        when unknown).
    node_source, db_source
        Where each figure comes from, for the report.
    """

    node_per_s: float
    db_per_core_per_s: float
    db: str | None
    node_source: str
    db_source: str

    def __post_init__(self) -> None:
        for name in ("node_per_s", "db_per_core_per_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, not {value!r}")

    def with_overrides(
        self, *, node_per_s: float | None = None, db_per_core_per_s: float | None = None
    ) -> Capacity:
        """This capacity with the figures given on the command line put in."""
        given = "given on the command line"
        return replace(
            self,
            node_per_s=self.node_per_s if node_per_s is None else node_per_s,
            node_source=self.node_source if node_per_s is None else given,
            db_per_core_per_s=(
                self.db_per_core_per_s if db_per_core_per_s is None else db_per_core_per_s
            ),
            db_source=self.db_source if db_per_core_per_s is None else given,
        )


BUILTIN_NODE_PER_S = 25.0
"""Built-in submissions/s per app node: below issue 18's first measurement on a 2-core machine
(28.9/s on SQLite, 53.7/s on PostgreSQL, before any optimisation)."""
BUILTIN_DB_PER_CORE_PER_S = 25.0
"""Built-in submissions/s per database core: the 53.7/s measured on PostgreSQL in issue 18 used
at most the machine's 2 cores for the database, so one core carries at least 26.85/s."""

_BUILTIN = "built-in conservative figure, not measured"
BUILTIN_CAPACITY = Capacity(
    node_per_s=BUILTIN_NODE_PER_S,
    db_per_core_per_s=BUILTIN_DB_PER_CORE_PER_S,
    db=None,
    node_source=_BUILTIN,
    db_source=_BUILTIN,
)
"""What the plan uses when ``benchmarks/capacity.json`` is absent."""


def _positive(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: {key} must be a number, not {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{where}: {key} must be positive, not {value!r}")
    return float(value)


def _text(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def capacity_from_json(text: str, *, where: str) -> Capacity:
    """The capacity recorded by the submit benchmark (the text of ``benchmarks/capacity.json``).

    Parameters
    ----------
    text
        A JSON object with ``submissions_per_s_per_node`` (required, positive), ``db``
        (``sqlite`` or ``postgresql``), ``measured_at``, ``command`` and ``machine`` (for the
        report), and optionally ``db_submissions_per_s_per_core``; other keys are ignored.
        Without ``db_submissions_per_s_per_core`` the database figure is the built-in one.
    where
        The file's name, for messages and the report.

    Raises
    ------
    ValueError
        If the text is not such an object.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where} must hold a JSON object")
    if "submissions_per_s_per_node" not in data:
        raise ValueError(f"{where} has no submissions_per_s_per_node")
    node = _positive(data, "submissions_per_s_per_node", where)
    db = data.get("db")
    if db is not None and db not in DATABASES:
        raise ValueError(f"{where}: db must be one of {', '.join(DATABASES)}, not {db!r}")
    measured = (
        f"measured by `{_text(data.get('command'))}` at {_text(data.get('measured_at'))} "
        f"on {_text(data.get('machine'))}, {db or 'database unknown'} ({where})"
    )
    if "db_submissions_per_s_per_core" in data:
        db_per_core = _positive(data, "db_submissions_per_s_per_core", where)
        db_source = measured
    else:
        db_per_core, db_source = BUILTIN_DB_PER_CORE_PER_S, f"{_BUILTIN} ({where} has none)"
    return Capacity(
        node_per_s=node,
        db_per_core_per_s=db_per_core,
        db=db,
        node_source=measured,
        db_source=db_source,
    )


def units_needed(rate_per_s: float, capacity_per_s: float, headroom: float) -> int:
    """:math:`\\max(1, \\lceil h \\lambda / c \\rceil)`: nodes or cores for ``rate_per_s``.

    A relative tolerance of :math:`10^{-9}` keeps an exact multiple from being rounded up by
    floating-point error (``ceil(2 * 100 / 25)`` is 8, not 9).

    Examples
    --------
    >>> units_needed(100.0, 25.0, 2.0), units_needed(101.0, 25.0, 2.0)
    (8, 9)
    """
    if not (math.isfinite(rate_per_s) and rate_per_s >= 0):
        raise ValueError(f"the rate must be a non-negative number, not {rate_per_s!r}")
    if not (math.isfinite(capacity_per_s) and capacity_per_s > 0):
        raise ValueError(f"the capacity must be positive, not {capacity_per_s!r}")
    check_headroom(headroom)
    need = headroom * rate_per_s / capacity_per_s
    return max(1, math.ceil(need * (1 - 1e-9)))


def check_headroom(headroom: float) -> None:
    """Raise :class:`ValueError` unless ``headroom`` is a finite number of at least 1."""
    if not (math.isfinite(headroom) and headroom >= 1):
        raise ValueError(f"the headroom must be a number >= 1, not {headroom!r}")


@dataclass(frozen=True, slots=True)
class Plan:
    """App nodes and database cores for a peak, at the peak minute and at the peak second."""

    capacity: Capacity
    headroom: float
    peak_minute_per_s: float
    peak_second_per_s: float
    app_nodes: int
    db_cores: int
    app_nodes_peak_second: int
    db_cores_peak_second: int


def plan_capacity(
    peak_minute_per_s: float,
    peak_second_per_s: float,
    capacity: Capacity,
    *,
    headroom: float = 2.0,
) -> Plan:
    """Size the service for a peak (see the module docstring for the rule).

    Raises
    ------
    ValueError
        For a negative rate or a headroom below 1.
    """
    check_headroom(headroom)
    return Plan(
        capacity=capacity,
        headroom=headroom,
        peak_minute_per_s=peak_minute_per_s,
        peak_second_per_s=peak_second_per_s,
        app_nodes=units_needed(peak_minute_per_s, capacity.node_per_s, headroom),
        db_cores=units_needed(peak_minute_per_s, capacity.db_per_core_per_s, headroom),
        app_nodes_peak_second=units_needed(peak_second_per_s, capacity.node_per_s, headroom),
        db_cores_peak_second=units_needed(peak_second_per_s, capacity.db_per_core_per_s, headroom),
    )


def _wrapped(label: str, text: str, width: int = 100) -> list[str]:
    return textwrap.wrap(
        text,
        width,
        initial_indent=label,
        subsequent_indent=" " * len(label),
        break_on_hyphens=False,
    )


def machine_line(plan: Plan) -> str:
    """The report's last line, for scripts: the peaks and the plan at the peak minute."""
    return (
        f"peak_per_s={plan.peak_second_per_s:.0f} peak_minute_per_s={plan.peak_minute_per_s:.2f} "
        f"app_nodes={plan.app_nodes} db_cores={plan.db_cores}"
    )


def report(arrivals: Arrivals, plan: Plan) -> list[str]:
    """The plan as lines of text for an operator; the last line is :func:`machine_line`."""
    s = arrivals.summary
    tt = arrivals.timetable
    days = arrivals.dates
    cap = plan.capacity

    def when(moment: datetime) -> str:
        return f"{moment:%a %Y-%m-%d %H:%M:%S}"

    lines = [
        f"Capacity plan: {s.total:,} students over {len(days)} school days "
        f"({days[0]:%a %Y-%m-%d} to {days[-1]:%a %Y-%m-%d}, weekends skipped), seed "
        f"{arrivals.seed}",
        "",
        "Assumptions (synthetic model, see survey_service/capacity/_arrivals.py):",
        *_wrapped("  timetable  ", tt.describe()),
        *_wrapped(
            "  schools    ",
            f"{arrivals.schools:,} schools, {arrivals.classes:,} classes: "
            f"{arrivals.model.describe()}",
        ),
        "",
        "Arrivals (local school time):",
        f"  total submissions          {s.total:,}",
        f"  mean over school hours     {s.mean_per_s_school_hours:,.2f}/s",
        f"  mean over class periods    {s.mean_per_s_periods:,.2f}/s",
        f"  peak minute                {s.peak_minute_per_s:,.2f}/s "
        f"({round(s.peak_minute_per_s * 60):,} in the 60 s from {when(s.peak_minute_from)})",
        f"  peak second                {s.peak_second_per_s:,}/s (at {when(s.peak_second_at)})",
        f"  busiest day                {s.peak_day:%a %Y-%m-%d}: {s.peak_day_total:,} submissions",
        f"  busiest period             {s.peak_period_day:%a %Y-%m-%d} period "
        f"{tt.period_label(s.peak_period)}: {s.peak_period_total:,} submissions",
        "",
        "Capacity:",
        *_wrapped(
            f"  {'app node':27}",
            f"{cap.node_per_s:,.1f} submissions/s (one worker per core); {cap.node_source}",
        ),
        *_wrapped(
            f"  {'database':27}",
            f"{cap.db_per_core_per_s:,.1f} submissions/s per core; {cap.db_source}",
        ),
        f"  headroom                   {plan.headroom:g}x",
        "",
        "Plan (ceil(headroom x rate / capacity)):",
        f"{'':27}{'at peak minute':>16}{'at peak second':>17}",
        f"  {'app nodes':25}{plan.app_nodes:>16}{plan.app_nodes_peak_second:>17}",
        f"  {'database cores':25}{plan.db_cores:>16}{plan.db_cores_peak_second:>17}",
        "  Size for the peak minute; the peak second is absorbed by the nodes' request queues.",
    ]
    if cap.db == "sqlite":
        lines.append(
            "  Note: the node figure was measured on SQLite, which serves one node only; more "
            "than one app node needs PostgreSQL, so measure there before relying on this plan."
        )
    if plan.app_nodes == 1:
        lines.append("  Note: run at least two app nodes anyway, so that losing one stops nothing.")
    lines.append(machine_line(plan))
    return lines
