"""The outbox dispatcher: claim due rows under a lease, deliver, record every attempt.

Many dispatchers may run at once, on many machines. A claim is one atomic
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` on PostgreSQL; on SQLite
the same statement runs inside ``BEGIN IMMEDIATE`` (SQLite has no row locks; the write lock
serialises claimers). A worker that dies after claiming leaves a lease that expires, and the row
is delivered again with the same delivery id, so receivers can de-duplicate.

A delivery that fails for good on its channel — a permanent error, or retries that would run
past the notification's deadline or the attempt limit — is never dropped: the recipient's
fallback channel is queued, the next role up the ladder is told, and an operator alert raised.
A fallback never widens the audience: a row addressed to one person (a personal channel, or a
campaign reminder, which names that head teacher's classes) is queued again for that person
only; a row to a group channel (the role's robot or webhook) falls back to the role's people.

Rows carry a case notice or, for ``campaign.reminder``, a campaign reminder to a head teacher
(:func:`triage.channels.content_from_payload` tells which); both go out on every channel kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import httpx
import msgspec
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    TextClause,
    Uuid,
    bindparam,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from survey_service.cases.events import case_event
from survey_service.cases.service import ladder_steps
from survey_service.db import (
    READ_ONLY,
    Case,
    DeliveryAttempt,
    InboxItem,
    OperatorAlert,
    OutboxMessage,
    School,
    StaffUser,
)
from survey_service.notifications.routing import channel_named, on_call_fallback, route_for
from survey_service.notifications.service import enqueue, requeue_on_call
from survey_service.settings import Settings
from triage import CASE_RECIPIENT_ROLES, DeliveryOutcome, backoff_delay, next_rung
from triage.channels import (
    ON_CALL_ROLE,
    REMINDER_EVENT,
    ChannelConfig,
    ChannelDelivery,
    ChannelNotifier,
    ContentError,
    InAppMessage,
    InAppNotice,
    RecipientRoute,
    UnconfiguredChannel,
    WebhookChannel,
    build_notifier,
    content_from_payload,
    next_channel,
)


class _Claim(NamedTuple):
    """What a claim returns of each row: everything a delivery needs, and the due order."""

    id: uuid.UUID
    case_id: uuid.UUID | None
    school_id: uuid.UUID
    delivery_id: str
    event: str
    channel: str
    recipient_role: str
    recipient_user_id: uuid.UUID | None
    payload: dict[str, Any]
    next_attempt_at: datetime
    created_at: datetime


_CLAIMED = tuple(getattr(OutboxMessage, name) for name in _Claim._fields)

#: PostgreSQL records a pass's delivered rows in one statement: the rows this worker still
#: leases are marked delivered and their attempts inserted (the same guard and columns as the
#: portable path in ``Dispatcher._record_delivered``); returns the ids recorded.
_PG_RECORD_DELIVERED: TextClause = text(
    """
    WITH done AS (
        UPDATE outbox
        SET status = 'delivered', delivered_at = :now, attempts = outbox.attempts + 1,
            last_status_code = v.status_code, last_error = NULL,
            lease_owner = NULL, lease_expires_at = NULL
        FROM unnest(:ids, :status_codes, :latencies, :attempt_ids)
            AS v(id, status_code, latency_ms, attempt_id)
        WHERE outbox.id = v.id AND outbox.lease_owner = :worker AND outbox.status = 'pending'
        RETURNING outbox.id, v.status_code, v.latency_ms, v.attempt_id
    )
    INSERT INTO delivery_attempts
        (id, outbox_id, worker, attempted_at, ok, status_code, latency_ms, error)
    SELECT attempt_id, id, :worker, :now, true, status_code, latency_ms, NULL FROM done
    RETURNING outbox_id
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid)),
    bindparam("status_codes", type_=ARRAY(Integer)),
    bindparam("latencies", type_=ARRAY(Float)),
    bindparam("attempt_ids", type_=ARRAY(Uuid)),
    bindparam("now", type_=OutboxMessage.delivered_at.type),
)


class DispatchStats(msgspec.Struct):
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


class _Job(msgspec.Struct, frozen=True):
    outbox_id: uuid.UUID
    case_id: uuid.UUID | None
    delivery_id: str
    event: str
    payload: dict[str, object]
    channel: ChannelConfig | None
    address: str | None
    problem: str | None = None


class Dispatcher:
    """Delivers outbox rows on each row's channel (signed webhook, WeCom, DingTalk, e-mail,
    SMS gateway or in-app), every one through :class:`triage.channels.ChannelNotifier`.

    ``client`` is the process's one long-lived HTTP client (``runxin worker`` creates and
    closes it; tests may give one a mock transport): the dispatcher never creates its own.

    One pass (:meth:`run_once`) costs a fixed number of statements whatever the batch size:
    the claim returns everything the deliveries need (one ``UPDATE … RETURNING``), one read
    session looks up the routes (per school and role, not per row), and the pass is recorded
    at once: on PostgreSQL one statement marks the delivered rows and inserts their attempts,
    elsewhere one ``UPDATE`` per status code and one multi-row ``INSERT``. Statements that
    stand alone run without ``BEGIN``/``COMMIT`` round trips on PostgreSQL. Only failed
    attempts — rare, and where the retry and escalation rules live — go through the ORM, one
    row at a time, in a transaction with the rest of the pass.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        client: httpx.AsyncClient,
        settings: Settings,
        *,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = session_factory
        self._client = client
        self._settings = settings
        self.worker_id = worker_id or f"dispatcher-{uuid.uuid4().hex[:12]}"
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # The last claim filled a whole batch: more rows are probably due, so the next claim
        # goes straight to the write (no peek first).
        self._backlog = False
        # The pass's statements, built once (the clock comes in as bound parameters).
        now = bindparam("now", type_=OutboxMessage.next_attempt_at.type)
        self._peek = select(OutboxMessage.id).where(*self._due(now)).limit(1)
        due = (
            select(OutboxMessage.id)
            .where(*self._due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
            .limit(settings.dispatch_batch)
            .with_for_update(skip_locked=True)
        )
        self._claim_stmt = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(lease_owner=self.worker_id, lease_expires_at=bindparam("lease_until"))
            .returning(*_CLAIMED)
        )

    @staticmethod
    def _due(now: datetime | ColumnElement[datetime]) -> tuple[ColumnElement[bool], ...]:
        return (
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_expires_at.is_(None), OutboxMessage.lease_expires_at < now),
        )

    @contextlib.asynccontextmanager
    async def _session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """A session for work that is one statement, or only reads: no ``BEGIN``/``COMMIT``
        round trips on PostgreSQL (autocommit: a statement is atomic by itself). SQLite runs it
        in a transaction as its engine opens them: ``BEGIN IMMEDIATE`` for a write,
        ``BEGIN DEFERRED`` (no write lock) for reads."""
        async with self._sessions() as db:
            if db.get_bind().dialect.name == "postgresql":
                await db.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                yield db
            elif write:
                async with db.begin():
                    yield db
            else:
                await db.connection(execution_options={READ_ONLY: True})
                yield db

    async def claim(self, now: datetime) -> list[uuid.UUID]:
        """Lease up to ``dispatch_batch`` due rows to this worker; returns their ids in due
        order."""
        return [row.id for row in await self._claim(now)]

    async def _claim(self, now: datetime) -> list[_Claim]:
        """Lease up to ``dispatch_batch`` due rows to this worker, in one ``UPDATE … WHERE id
        IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``; returns the rows in due order."""
        if not self._backlog:
            # Peek first without a write lock: idle polls of many workers must not queue up
            # behind each other (or behind the submissions) on SQLite's single writer.
            async with self._session(write=False) as db:
                if await db.scalar(self._peek, {"now": now}) is None:
                    return []
        lease_until = now + timedelta(seconds=self._settings.dispatch_lease_s)
        async with self._session(write=True) as db:
            # Core on the session's connection: the rows come back as plain tuples.
            conn = await db.connection()
            result = await conn.execute(self._claim_stmt, {"now": now, "lease_until": lease_until})
            claimed = [_Claim._make(row) for row in result]
        self._backlog = len(claimed) >= self._settings.dispatch_batch
        # RETURNING has no order: deliver in due order (escalation steps in ladder order).
        claimed.sort(key=lambda r: (r.next_attempt_at, r.created_at))
        return claimed

    async def run_once(self, now: datetime) -> DispatchStats:
        """Claim due rows, deliver them (concurrently, up to ``dispatch_concurrency`` at a
        time) and record every outcome in one transaction; returns what happened."""
        stats = DispatchStats()
        rows = await self._claim(now)
        stats.claimed = len(rows)
        if not rows:
            return stats
        jobs = await self._load_all(rows)
        gate = asyncio.Semaphore(self._settings.dispatch_concurrency)
        # One notifier per channel for the pass (the jobs of one route share its configs).
        notifiers: dict[int, ChannelNotifier] = {}
        # Different cases go out concurrently; one case's notifications go out in due order
        # (the counsellor hears of a case before the school lead hears it was escalated).
        lanes: dict[object, list[_Job]] = {}
        for job in jobs:
            lanes.setdefault(job.case_id or job.outbox_id, []).append(job)

        async def lane(queue: list[_Job]) -> list[tuple[uuid.UUID, DeliveryOutcome]]:
            done = []
            for job in queue:
                async with gate:
                    done.append((job.outbox_id, await self._deliver(job, now, notifiers)))
            return done

        outcomes = [
            o for group in await asyncio.gather(*(lane(q) for q in lanes.values())) for o in group
        ]
        for result in await self._record_all(outcomes, now):
            if result == "delivered":
                stats.delivered += 1
            elif result == "retry":
                stats.retried += 1
            elif result == "failed":
                stats.failed += 1
        return stats

    async def _load_all(self, rows: list[_Claim]) -> list[_Job]:
        """Everything needed to deliver the claimed rows, read in one session (in due order):
        each school's route for each role once, and the recipients of personal channels."""
        async with self._session(write=False) as db:
            schools: dict[uuid.UUID, School] = {}
            routes: dict[tuple[uuid.UUID, str], RecipientRoute] = {}
            jobs = []
            for row in rows:
                if row.school_id not in schools:
                    schools[row.school_id] = await db.get_one(School, row.school_id)
                key = (row.school_id, row.recipient_role)
                if key not in routes:
                    routes[key] = await route_for(db, schools[row.school_id], row.recipient_role)
                jobs.append(await self._job(db, row, routes[key]))
            return jobs

    async def _job(self, db: AsyncSession, row: _Claim, route: RecipientRoute) -> _Job:
        config = channel_named(route, row.channel)
        problem = None
        address = None
        if config is None:
            problem = f"channel {row.channel!r} is no longer configured for this role"
        elif isinstance(config, UnconfiguredChannel):
            problem = "no webhook is configured for this recipient"
        elif config.address_kind is not None:
            user = await db.get(StaffUser, row.recipient_user_id) if row.recipient_user_id else None
            if user is None:
                problem = f"no {row.recipient_role} with an account to notify"
            elif config.address_kind == "email":
                address = user.email
            elif config.address_kind == "phone":
                address = user.phone
            else:
                address = str(user.id)
            if user is not None and not address:
                problem = f"the {row.recipient_role} has no {config.address_kind} on file"
        return _Job(
            outbox_id=row.id,
            case_id=row.case_id,
            delivery_id=row.delivery_id,
            event=row.event,
            payload=dict(row.payload),
            channel=config,
            address=address,
            problem=problem,
        )

    async def _deliver(
        self, job: _Job, now: datetime, notifiers: dict[int, ChannelNotifier] | None = None
    ) -> DeliveryOutcome:
        if job.problem is not None or job.channel is None:
            return DeliveryOutcome(
                ok=False,
                retryable=False,
                status_code=None,
                retry_after_s=None,
                error=job.problem,
                latency_ms=0.0,
            )
        config = job.channel
        content = None
        if not isinstance(config, WebhookChannel):  # the webhook posts the payload as it is
            try:
                content = content_from_payload(job.payload, names_enabled=config.names_enabled)
            except ContentError as exc:
                return DeliveryOutcome(
                    ok=False,
                    retryable=False,
                    status_code=None,
                    retry_after_s=None,
                    error=str(exc),
                    latency_ms=0.0,
                )
        # Keyed by identity: the pass's jobs hold their configs, so no id is reused meanwhile.
        notifier = None if notifiers is None else notifiers.get(id(config))
        if notifier is None:
            notifier = build_notifier(
                config,
                client=self._client,
                inapp_sink=functools.partial(self._store_inapp, now=now),
            )
            if notifiers is not None:
                notifiers[id(config)] = notifier
        delivery = ChannelDelivery(
            delivery_id=job.delivery_id, payload=job.payload, content=content, address=job.address
        )
        return await notifier.deliver(delivery, now=now)

    async def _store_inapp(self, message: InAppMessage | InAppNotice, *, now: datetime) -> None:
        """Store an in-app notification in the recipient's queue (once per delivery id)."""
        async with self._sessions() as db, db.begin():
            exists = await db.scalar(
                select(InboxItem.id).where(InboxItem.delivery_id == message.delivery_id)
            )
            if exists is None:
                db.add(
                    InboxItem(
                        user_id=uuid.UUID(message.recipient),
                        delivery_id=message.delivery_id,
                        event=message.event,
                        content=msgspec.to_builtins(message),
                        created_at=now,
                        read_at=None,
                    )
                )

    async def _record_all(
        self, outcomes: list[tuple[uuid.UUID, DeliveryOutcome]], now: datetime
    ) -> list[str]:
        """Record every attempt of one pass at once (one transaction; one statement on
        PostgreSQL when every attempt succeeded); returns, per outcome, ``delivered``,
        ``retry``, ``failed`` or ``lost_lease``.

        Delivered rows are recorded in bulk (:meth:`_record_delivered`); failed attempts one
        by one through the ORM (:meth:`_record`), which decides retry or fail-over.
        """
        delivered = [(i, o) for i, o in outcomes if o.ok]
        failed = [(i, o) for i, o in outcomes if not o.ok]
        results: dict[uuid.UUID, str] = {}
        if not failed:  # the usual pass: one statement on PostgreSQL, needing no transaction
            async with self._session(write=True) as db:
                recorded = await self._record_delivered(db, delivered, now)
            return ["delivered" if i in recorded else "lost_lease" for i, _ in outcomes]
        async with self._sessions() as db, db.begin():
            # Lock the pass's rows in id order before writing any, as one statement: two
            # recording transactions (ours and a worker that took over an expired lease) then
            # never wait on each other in a cycle.
            await db.execute(
                select(OutboxMessage.id)
                .where(OutboxMessage.id.in_([i for i, _ in outcomes]))
                .order_by(OutboxMessage.id)
                .with_for_update()
            )
            if delivered:
                recorded = await self._record_delivered(db, delivered, now)
                for outbox_id, _ in delivered:
                    results[outbox_id] = "delivered" if outbox_id in recorded else "lost_lease"
            ids = [outbox_id for outbox_id, _ in failed]
            rows = {
                r.id: r
                for r in (
                    await db.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids))
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            }
            for outbox_id, outcome in failed:
                results[outbox_id] = await self._record(db, rows.get(outbox_id), outcome, now)
        return [results[outbox_id] for outbox_id, _ in outcomes]

    async def _record_delivered(
        self, db: AsyncSession, delivered: list[tuple[uuid.UUID, DeliveryOutcome]], now: datetime
    ) -> set[uuid.UUID]:
        """Mark delivered the rows this worker still leases and insert their attempts;
        returns the ids recorded. A row whose lease another worker has taken over (or that is
        no longer pending) is left alone, as :meth:`_record` leaves it.

        PostgreSQL does it in one statement (:data:`_PG_RECORD_DELIVERED`); elsewhere one
        ``UPDATE … RETURNING`` per status code and one multi-row ``INSERT``.
        """
        conn = await db.connection()
        if conn.dialect.name == "postgresql":
            result = await conn.execute(
                _PG_RECORD_DELIVERED,
                {
                    "ids": [outbox_id for outbox_id, _ in delivered],
                    "status_codes": [outcome.status_code for _, outcome in delivered],
                    "latencies": [outcome.latency_ms for _, outcome in delivered],
                    "attempt_ids": [uuid.uuid4() for _ in delivered],
                    "worker": self.worker_id,
                    "now": now,
                },
            )
            return set(result.scalars().all())
        by_status: dict[int | None, list[uuid.UUID]] = {}
        for outbox_id, outcome in delivered:
            by_status.setdefault(outcome.status_code, []).append(outbox_id)
        recorded: set[uuid.UUID] = set()
        for status_code, ids in by_status.items():
            stmt = (
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(ids),
                    OutboxMessage.lease_owner == self.worker_id,
                    OutboxMessage.status == "pending",
                )
                .values(
                    status="delivered",
                    delivered_at=now,
                    attempts=OutboxMessage.attempts + 1,
                    last_status_code=status_code,
                    last_error=None,
                    lease_owner=None,
                    lease_expires_at=None,
                )
                .returning(OutboxMessage.id)
            )
            recorded.update((await conn.execute(stmt)).scalars().all())
        attempts = [
            {
                "outbox_id": outbox_id,
                "worker": self.worker_id,
                "attempted_at": now,
                "ok": True,
                "status_code": outcome.status_code,
                "latency_ms": outcome.latency_ms,
                "error": None,
            }
            for outbox_id, outcome in delivered
            if outbox_id in recorded
        ]
        if attempts:
            await conn.execute(insert(DeliveryAttempt), attempts)
        return recorded

    async def _record(
        self,
        db: AsyncSession,
        row: OutboxMessage | None,
        outcome: DeliveryOutcome,
        now: datetime,
    ) -> str:
        if row is None or row.lease_owner != self.worker_id or row.status != "pending":
            return "lost_lease"  # another worker took over after our lease expired
        db.add(
            DeliveryAttempt(
                outbox_id=row.id,
                worker=self.worker_id,
                attempted_at=now,
                ok=outcome.ok,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
            )
        )
        row.attempts += 1
        row.last_status_code = outcome.status_code
        row.last_error = outcome.error
        row.lease_owner = None
        row.lease_expires_at = None
        if outcome.ok:
            row.status = "delivered"
            row.delivered_at = now
            return "delivered"
        exhausted = row.attempts >= self._settings.dispatch_max_attempts
        if outcome.retryable and not exhausted:
            delay = backoff_delay(row.attempts, rng=self._rng, retry_after_s=outcome.retry_after_s)
            retry_at = now + timedelta(seconds=delay)
            deadline = _deadline(row.payload)
            if deadline is None or retry_at <= deadline or now > deadline:
                row.next_attempt_at = retry_at
                return "retry"
            # Waiting would pass the deadline: switch channel and escalate now.
        row.status = "failed"
        await self._fail_over(db, row, now)
        return "failed"

    async def _fail_over(self, db: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        """Never drop: queue the fallback channel, tell the next role, alert operators."""
        db.add(
            OperatorAlert(
                at=now,
                kind="delivery_failed",
                school_id=row.school_id,
                outbox_id=row.id,
                detail=f"{row.event} to {row.recipient_role} on {row.channel} "
                f"failed after {row.attempts} attempt(s): {row.last_error}",
                resolved_at=None,
            )
        )
        school = await db.get_one(School, row.school_id)
        route = await route_for(db, school, row.recipient_role)
        on_call = row.recipient_role == ON_CALL_ROLE
        fallback = (
            on_call_fallback(route, row.channel) if on_call else next_channel(route, row.channel)
        )
        deadline = _deadline(row.payload) or now
        base_key = row.dedup_key.rsplit(":", 2)[0]
        if fallback is not None and on_call:  # the same member, on the channel's fallback
            await requeue_on_call(db, row, channel=fallback.name, now=now)
        elif fallback is not None and _same_recipient(row, fallback):
            await _requeue(db, row, channel=fallback.name, now=now)
        elif fallback is not None:  # a group row: the role's people on the fallback
            await enqueue(
                db,
                school_id=row.school_id,
                case_id=row.case_id,
                tier=row.tier,
                event=row.event,
                level=int(str(row.payload.get("escalation_level", 0))),
                recipient_role=row.recipient_role,
                deadline=deadline,
                link=str(row.payload.get("link", "")),
                dedup_key=base_key,
                now=now,
                channel=fallback.name,
                class_name=_opt(row.payload.get("class")),
                extra=_extra(row.payload),
            )
        if row.case_id is None:
            return
        case = await db.get_one(Case, row.case_id)
        db.add(
            case_event(
                case.id,
                "notification_failed",
                at=now,
                data={
                    "delivery_id": row.delivery_id,
                    "recipient_role": row.recipient_role,
                    "channel": row.channel,
                    "fallback": fallback.name if fallback else None,
                    "status_code": row.last_status_code,
                    "error": row.last_error,
                },
            )
        )
        # The next role up comes from the case's ladder: its tier's escalation in the policy.
        failed = next((r for r in CASE_RECIPIENT_ROLES if r == row.recipient_role), None)
        rung = None if failed is None else next_rung(ladder_steps(case), failed=failed)
        if rung is None or case.status == "closed":
            return
        role, level = rung.role, rung.level
        await enqueue(
            db,
            school_id=case.school_id,
            case_id=case.id,
            tier=case.tier,
            event="case.escalated",
            level=level,
            recipient_role=role,
            deadline=deadline,
            link=str(row.payload.get("link", "")),
            dedup_key=f"{case.id}:case.escalated:{level}:{role}",
            now=now,
            class_name=_opt(row.payload.get("class")),
        )


def _same_recipient(row: OutboxMessage, fallback: ChannelConfig) -> bool:
    """Whether ``row``'s fallback goes to its own recipient only (never the whole role).

    A campaign reminder names one head teacher's classes: it goes to that head teacher on any
    channel. A case notice to one person on a personal channel stays with that person on a
    personal fallback; on a group fallback (robot, webhook) it goes to the role's group.
    """
    if row.event == REMINDER_EVENT and row.case_id is None:
        return row.recipient_user_id is not None
    return row.recipient_user_id is not None and fallback.address_kind is not None


async def _requeue(db: AsyncSession, row: OutboxMessage, *, channel: str, now: datetime) -> None:
    """Queue ``row`` again on ``channel`` for the same recipient: the same payload under a new
    delivery id, once per (notification, channel, recipient) like every queued row."""
    base_key = row.dedup_key.rsplit(":", 2)[0]
    person = row.recipient_user_id
    key = f"{base_key}:{channel}:{person or '-'}"
    if await db.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)):
        return
    delivery_id = uuid.uuid4().hex
    payload = {
        **row.payload,
        "delivery_id": delivery_id,
        "created_at": now.isoformat().replace("+00:00", "Z"),
    }
    db.add(
        OutboxMessage(
            delivery_id=delivery_id,
            dedup_key=key,
            case_id=row.case_id,
            school_id=row.school_id,
            event=row.event,
            channel=channel,
            recipient_role=row.recipient_role,
            recipient_user_id=person,
            tier=row.tier,
            payload=payload,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )


def _deadline(payload: dict[str, object]) -> datetime | None:
    value = payload.get("deadline")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _extra(payload: dict[str, object]) -> dict[str, str]:
    return {k: str(v) for k, v in payload.items() if k in ("task_id", "incident_id") and v}
