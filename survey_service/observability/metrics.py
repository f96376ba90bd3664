"""Prometheus metrics at ``GET /metrics`` (issue 14): counts and latencies, never a person.

Two kinds of metric, every name prefixed ``runxin_`` (the full list with meanings:
docs/operations.md):

Per process (counters and a histogram kept by ``prometheus_client``)
    Submissions accepted, replayed (the same ``Idempotency-Key`` again) and rejected by
    reason (the problem code, e.g. ``campaign_closed``), counted where every submission is
    decided (:func:`survey_service.screening.service.submit`, for the API and the pages
    alike); the latency of every request by route *template* (``/s/{code:str}``, never the
    path with its access code), method and status class (``2xx`` ...), measured by
    :func:`http_metrics_middleware` from before the overload limit (a refused request counts).
    With ``PROMETHEUS_MULTIPROC_DIR`` set (``Settings.metrics_multiproc_dir``;
    ``prometheus_client`` reads the variable itself when it is imported) every server process
    writes its counts to files in that folder and any process's ``/metrics`` adds them all up
    (``prometheus_client.multiprocess.MultiProcessCollector``); without it they are this
    process's own.

From the database, computed at each scrape (the same whichever process answers)
    A few aggregate queries (:func:`database_families`): the outbox's undelivered and failed
    notifications and the oldest undelivered one's age per tier, delivery attempts by channel
    and outcome, escalations fired, acknowledgement and task deadlines breached and overdue per
    tier, cases open and unacknowledged per tier, the freshest worker heartbeat's age, and the
    readiness checks of ``/readyz`` (``runxin_ready``). Their labels are tiers, channel names
    (``[a-z0-9_-]``, validated when a school's routes are saved), outcomes and deadline kinds:
    never a student, school, staff member or id. If the database does not answer, the scrape
    still succeeds with the per-process metrics, ``runxin_ready 0`` and
    ``runxin_metrics_database_ok 0``.

Access: with ``RUNXIN_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer
<token>`` (401 otherwise); unset, ``/metrics`` is open and must only be reachable from the
internal network. Like ``/healthz`` it is never refused by the overload limit.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from survey_service.clock import monotonic_s
from survey_service.db import Case, CaseTask, DeliveryAttempt, MigrationHeads, OutboxMessage
from survey_service.errors import Unauthorized
from survey_service.observability.heartbeat import worker_liveness
from survey_service.observability.readiness import CHECKS, OK, Readiness, check_readiness
from survey_service.settings import Settings

__all__ = [
    "CONTENT_TYPE",
    "PROCESS_REGISTRY",
    "MetricsConfig",
    "database_families",
    "http_metrics_middleware",
    "scrape",
    "submission_accepted",
    "submission_rejected",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: The longest the database part of a scrape waits (seconds); past it only the per-process
#: metrics and ``runxin_metrics_database_ok 0`` are answered.
DB_SCRAPE_TIMEOUT_S = 5.0

# No ``*_created`` series (each counter's start time): the multi-process mode has none either,
# so a scrape reads the same whether one process answers or several add up.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: The per-process metrics (not ``prometheus_client``'s global registry: nothing else's
#: metrics, and an app built twice in one process registers nothing twice).
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)

SUBMISSIONS_ACCEPTED = Counter(
    "runxin_submissions_accepted",
    "Screening submissions stored (the first time; API and student pages alike).",
    registry=PROCESS_REGISTRY,
)
SUBMISSIONS_REPLAYED = Counter(
    "runxin_submissions_replayed",
    "Submissions answered again from their Idempotency-Key (a retry; nothing stored twice).",
    registry=PROCESS_REGISTRY,
)
SUBMISSIONS_REJECTED = Counter(
    "runxin_submissions_rejected",
    "Submissions refused, by reason (the problem code, e.g. campaign_closed, invalid_answer).",
    ["reason"],
    registry=PROCESS_REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "runxin_http_request_duration_seconds",
    "Time to answer a request, by route template, method and status class.",
    ["route", "method", "status_class"],
    registry=PROCESS_REGISTRY,
)

#: Tiers a label may carry; anything else reads ``other`` (a label never carries free text).
CASE_TIERS = ("yellow", "orange", "red")
OUTBOX_TIERS = ("red", "orange", "yellow", "none")  # none: a campaign reminder
_KNOWN_TIERS = frozenset({"green", *CASE_TIERS})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

_log = logging.getLogger("runxin.metrics")


def _slug(value: object) -> str:
    """A label value from stored text: a short lower-case slug as it is, else ``other``."""
    return value if isinstance(value, str) and _SLUG.fullmatch(value) else "other"


def _tier(value: object) -> str:
    if value is None:
        return "none"
    return value if value in _KNOWN_TIERS else "other"


# --- per process ----------------------------------------------------------------------------


def submission_accepted(*, replayed: bool) -> None:
    """Count a stored submission, or a replayed one (``replayed``)."""
    (SUBMISSIONS_REPLAYED if replayed else SUBMISSIONS_ACCEPTED).inc()


def submission_rejected(reason: str) -> None:
    """Count a refused submission by its problem code."""
    SUBMISSIONS_REJECTED.labels(reason=_slug(reason)).inc()


def http_metrics_middleware(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: time every routed HTTP request into ``REQUEST_SECONDS``.

    Labels: the route's path template (a path no route matches never gets here), the method
    and the status class of the reply (``5xx`` when the app raised before replying)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = monotonic_s()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_status)
        finally:
            method = str(scope.get("method", ""))
            REQUEST_SECONDS.labels(
                route=str(scope.get("path_template") or "unmatched"),
                method=method if method in _METHODS else "other",
                status_class=f"{status // 100}xx",
            ).observe(monotonic_s() - started)

    return middleware


# --- the scrape -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsConfig:
    """What ``/metrics`` and ``/readyz`` need from the settings."""

    heartbeat_max_age_s: float
    token: str | None
    multiproc_dir: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> MetricsConfig:
        return cls(
            heartbeat_max_age_s=float(settings.worker_heartbeat_max_age_s),
            token=settings.metrics_token or None,
            multiproc_dir=settings.metrics_multiproc_dir or None,
        )


def check_token(config: MetricsConfig, authorization: str | None) -> None:
    """Refuse (401) a scrape without the configured bearer token; nothing to check when none
    is configured."""
    if config.token is None:
        return
    given = ""
    if authorization and authorization[:7].lower() == "bearer ":
        given = authorization[7:].strip()
    if not hmac.compare_digest(given.encode(), config.token.encode()):
        raise Unauthorized(
            "GET /metrics needs Authorization: Bearer with RUNXIN_METRICS_TOKEN",
            code="metrics_token_required",
        )


async def scrape(
    sessions: async_sessionmaker[AsyncSession],
    *,
    config: MetricsConfig,
    migrations: MigrationHeads,
    now: datetime,
    authorization: str | None,
) -> bytes:
    """The text exposition of every metric at ``now`` (after :func:`check_token`)."""
    check_token(config, authorization)
    readiness = await check_readiness(
        sessions,
        migrations=migrations,
        now=now,
        heartbeat_max_age_s=config.heartbeat_max_age_s,
    )
    families = _readiness_families(readiness)
    database_ok = False
    if readiness.checks["migrations"] == OK:
        try:
            async with asyncio.timeout(DB_SCRAPE_TIMEOUT_S), sessions() as db:
                families += await database_families(
                    db, now=now, heartbeat_max_age_s=config.heartbeat_max_age_s
                )
            database_ok = True
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            _log.warning("metrics: the database part failed: %s", type(exc).__name__)
    families.append(
        _gauge(
            "runxin_metrics_database_ok",
            "1 when this scrape's database-derived metrics are present, else 0.",
            value=1.0 if database_ok else 0.0,
        )
    )
    registry = CollectorRegistry(auto_describe=False)
    if config.multiproc_dir:
        MultiProcessCollector(registry, path=config.multiproc_dir)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Families(PROCESS_REGISTRY.collect()))
    registry.register(_Families(families))
    return generate_latest(registry)


class _Families(Collector):
    """A collector that yields metric families computed before the scrape's registry ran."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def _gauge(
    name: str, documentation: str, *, value: float | None = None, labels: tuple[str, ...] = ()
) -> GaugeMetricFamily:
    if value is not None:
        return GaugeMetricFamily(name, documentation, value=value)
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def _readiness_families(readiness: Readiness) -> list[Metric]:
    ready = _gauge(
        "runxin_ready",
        "1 when /readyz would answer 200 (database, migrations, dispatcher heartbeat), else 0.",
        value=1.0 if readiness.ready else 0.0,
    )
    checks = _gauge(
        "runxin_ready_check",
        "1 when the readiness check passes, else 0 (checks: database, migrations, dispatcher).",
        labels=("check",),
    )
    for name in CHECKS:
        checks.add_metric([name], 1.0 if readiness.checks.get(name) == OK else 0.0)
    return [ready, checks]


async def database_families(
    db: AsyncSession, *, now: datetime, heartbeat_max_age_s: float
) -> list[Metric]:
    """The database-derived gauges at ``now``: five aggregate queries (the outbox's
    undelivered rows by the ``(status, next_attempt_at)`` index; delivery attempts, cases and
    tasks are read whole, one grouped scan each)."""
    families: list[Metric] = []
    families += await _outbox(db, now)
    families += await _attempts(db)
    families += _case_families(await _case_counts(db, now), await _task_counts(db, now))
    liveness = await worker_liveness(db, now=now, max_age_s=heartbeat_max_age_s)
    families.append(
        _gauge(
            "runxin_worker_heartbeat_age_seconds",
            "Seconds since the freshest heartbeat of any runxin worker (+Inf: none ever beat).",
            value=float("inf") if liveness.age_s is None else liveness.age_s,
        )
    )
    families.append(
        _gauge(
            "runxin_workers_alive",
            "runxin worker processes that beat within RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S.",
            value=float(liveness.alive),
        )
    )
    return families


def _now_param(now: datetime, column: Any) -> Any:
    return bindparam("now", value=now, type_=column.type)


async def _outbox(db: AsyncSession, now: datetime) -> list[Metric]:
    rows = await db.execute(
        select(
            OutboxMessage.status,
            OutboxMessage.tier,
            func.count(),
            func.min(OutboxMessage.created_at),
        )
        .where(OutboxMessage.status.in_(("pending", "failed")))
        .group_by(OutboxMessage.status, OutboxMessage.tier)
    )
    pending = dict.fromkeys(OUTBOX_TIERS, 0.0)
    failed = dict.fromkeys(OUTBOX_TIERS, 0.0)
    oldest = dict.fromkeys(OUTBOX_TIERS, 0.0)
    for status, tier, count, first in rows:
        label = _tier(tier)
        if status == "pending":
            pending[label] = pending.get(label, 0.0) + count
            age = max(0.0, (now - first).total_seconds()) if first is not None else 0.0
            oldest[label] = max(oldest.get(label, 0.0), age)
        else:
            failed[label] = failed.get(label, 0.0) + count
    out: list[Metric] = []
    for name, doc, values in (
        (
            "runxin_outbox_pending",
            "Notifications not yet delivered (queued or retrying), by case tier "
            "(none: campaign reminders).",
            pending,
        ),
        (
            "runxin_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered notification, by tier (0 when none waits).",
            oldest,
        ),
        (
            "runxin_outbox_failed",
            "Notifications that failed for good on their channel (a fallback was queued and "
            "an operator alert raised), by tier.",
            failed,
        ),
    ):
        family = _gauge(name, doc, labels=("tier",))
        for tier, value in values.items():
            family.add_metric([tier], value)
        out.append(family)
    return out


async def _attempts(db: AsyncSession) -> list[Metric]:
    rows = await db.execute(
        select(OutboxMessage.channel, DeliveryAttempt.ok, func.count())
        .join(OutboxMessage, OutboxMessage.id == DeliveryAttempt.outbox_id)
        .group_by(OutboxMessage.channel, DeliveryAttempt.ok)
    )
    counts: dict[tuple[str, str], float] = {}
    for channel, ok, count in rows:
        key = (_slug(channel), "ok" if ok else "error")
        counts[key] = counts.get(key, 0.0) + count
    family = _gauge(
        "runxin_delivery_attempts",
        "Delivery attempts recorded (kept as long as notifications are), by channel name and "
        "outcome (ok, error).",
        labels=("channel", "outcome"),
    )
    for (channel, outcome), value in sorted(counts.items()):
        family.add_metric([channel, outcome], value)
    return [family]


def _per_tier(*measures: str) -> dict[str, dict[str, float]]:
    return {measure: dict.fromkeys(CASE_TIERS, 0.0) for measure in measures}


def _add(counts: dict[str, dict[str, float]], measure: str, tier: str, value: object) -> None:
    into = counts[measure]
    into[tier] = into.get(tier, 0.0) + float(value or 0)  # type: ignore[arg-type]


async def _case_counts(db: AsyncSession, now: datetime) -> dict[str, dict[str, float]]:
    """Per tier: cases open (not closed) and unacknowledged, escalation steps fired,
    acknowledgement deadlines breached (acknowledged — or closed — late, or still not
    acknowledged past the deadline) and overdue now (unacknowledged past the deadline)."""
    at = _now_param(now, Case.acknowledge_by)
    late = case(
        (Case.acknowledge_by < func.coalesce(Case.acknowledged_at, Case.closed_at, at), 1),
        else_=0,
    )
    overdue = case((and_(Case.status == "open", Case.acknowledge_by < at), 1), else_=0)
    rows = await db.execute(
        select(
            Case.tier,
            Case.status,
            func.count(),
            func.sum(Case.escalation_level),
            func.sum(late),
            func.sum(overdue),
        ).group_by(Case.tier, Case.status)
    )
    counts = _per_tier("open", "unacknowledged", "escalations", "breaches", "overdue")
    for tier, status, count, levels, late_count, overdue_count in rows:
        label = _tier(tier)
        _add(counts, "escalations", label, levels)
        _add(counts, "breaches", label, late_count)
        _add(counts, "overdue", label, overdue_count)
        if status != "closed":
            _add(counts, "open", label, count)
        if status == "open":
            _add(counts, "unacknowledged", label, count)
    return counts


async def _task_counts(db: AsyncSession, now: datetime) -> dict[str, dict[str, float]]:
    """Per tier of their case: escalation steps fired on overdue tasks, task deadlines
    breached (done late, or not done past the deadline while the case is open) and tasks
    overdue now (a case's safety assessment, guardian contact, follow-ups ...)."""
    at = _now_param(now, CaseTask.due_at)
    still_open = and_(CaseTask.status == "open", Case.status != "closed")
    late = case(
        (and_(CaseTask.status == "done", CaseTask.due_at < CaseTask.completed_at), 1),
        (and_(still_open, CaseTask.due_at < at), 1),
        else_=0,
    )
    overdue = case((and_(still_open, CaseTask.due_at < at), 1), else_=0)
    rows = await db.execute(
        select(Case.tier, func.sum(CaseTask.escalation_level), func.sum(late), func.sum(overdue))
        .join(Case, Case.id == CaseTask.case_id)
        .group_by(Case.tier)
    )
    counts = _per_tier("escalations", "breaches", "overdue")
    for tier, levels, late_count, overdue_count in rows:
        label = _tier(tier)
        _add(counts, "escalations", label, levels)
        _add(counts, "breaches", label, late_count)
        _add(counts, "overdue", label, overdue_count)
    return counts


def _case_families(
    cases: dict[str, dict[str, float]], tasks: dict[str, dict[str, float]]
) -> list[Metric]:
    cases_open = _gauge("runxin_cases_open", "Cases not closed, by tier.", labels=("tier",))
    unacknowledged = _gauge(
        "runxin_cases_unacknowledged",
        "Cases waiting for a counsellor's acknowledgement, by tier.",
        labels=("tier",),
    )
    escalations = _gauge(
        "runxin_escalations",
        "Escalation steps fired on the current ladders, by tier and kind (case: an "
        "unacknowledged case climbed its ladder; task: an overdue task did).",
        labels=("tier", "kind"),
    )
    breaches = _gauge(
        "runxin_deadline_breaches",
        "Deadlines missed, by tier and deadline (acknowledge: a case acknowledged late or not "
        "at all; task: a task done late or still not done); a gauge over the rows kept.",
        labels=("tier", "deadline"),
    )
    overdue = _gauge(
        "runxin_deadlines_overdue",
        "Deadlines passed and still not met now, by tier and deadline (acknowledge, task).",
        labels=("tier", "deadline"),
    )
    for tier in sorted(set(cases["open"]) | set(tasks["breaches"])):
        cases_open.add_metric([tier], cases["open"].get(tier, 0.0))
        unacknowledged.add_metric([tier], cases["unacknowledged"].get(tier, 0.0))
        for kind, source in (("case", cases), ("task", tasks)):
            escalations.add_metric([tier, kind], source["escalations"].get(tier, 0.0))
        for deadline, source in (("acknowledge", cases), ("task", tasks)):
            breaches.add_metric([tier, deadline], source["breaches"].get(tier, 0.0))
            overdue.add_metric([tier, deadline], source["overdue"].get(tier, 0.0))
    return [cases_open, unacknowledged, escalations, breaches, overdue]
