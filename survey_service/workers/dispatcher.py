"""The outbox dispatcher: claim due rows under a lease, deliver, record every attempt.

Many dispatchers may run at once, on many machines. A claim is one atomic
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` on PostgreSQL; on SQLite
the same statement runs inside ``BEGIN IMMEDIATE`` (SQLite has no row locks; the write lock
serialises claimers). A worker that dies after claiming leaves a lease that expires, and the row
is delivered again with the same delivery id, so receivers can de-duplicate.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from triage import DeliveryOutcome, Notification, Notifier, backoff_delay

from ..db import Case, CaseEvent, DeliveryAttempt, District, OutboxMessage, School
from ..services.notifications import enqueue_case_notification
from ..settings import Settings

NEXT_ROLE = {"counsellor": ("school_lead", 1), "school_lead": ("district_officer", 2)}


class DispatchStats(msgspec.Struct):
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0


class Dispatcher:
    """Delivers outbox rows through a :class:`triage.Notifier`."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        settings: Settings,
        *,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = session_factory
        self._notifier = notifier
        self._settings = settings
        self.worker_id = worker_id or f"dispatcher-{uuid.uuid4().hex[:12]}"
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    async def claim(self, now: datetime) -> list[uuid.UUID]:
        """Lease up to ``dispatch_batch`` due rows to this worker; returns their ids."""
        lease_until = now + timedelta(seconds=self._settings.dispatch_lease_s)
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.lease_expires_at.is_(None), OutboxMessage.lease_expires_at < now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
            .limit(self._settings.dispatch_batch)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(lease_owner=self.worker_id, lease_expires_at=lease_until)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as db, db.begin():
            claimed = list((await db.scalars(stmt)).all())
            if not claimed:
                return []
            # RETURNING has no order: deliver in due order (escalation steps in ladder order).
            ordered = (
                select(OutboxMessage.id)
                .where(OutboxMessage.id.in_(claimed))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
            )
            return list((await db.scalars(ordered)).all())

    async def run_once(self, now: datetime) -> DispatchStats:
        """Claim due rows and deliver each once; returns what happened."""
        stats = DispatchStats()
        ids = await self.claim(now)
        stats.claimed = len(ids)
        for outbox_id in ids:
            notification = await self._load(outbox_id)
            if notification is None:
                continue
            if notification.url:
                outcome = await self._notifier.deliver(notification, now=now)
            else:
                outcome = DeliveryOutcome(
                    ok=False,
                    retryable=False,
                    status_code=None,
                    retry_after_s=None,
                    error="no webhook is configured for this recipient",
                    latency_ms=0.0,
                )
            result = await self._record(outbox_id, outcome, now)
            if result == "delivered":
                stats.delivered += 1
            elif result == "retry":
                stats.retried += 1
            elif result == "failed":
                stats.failed += 1
        return stats

    async def _load(self, outbox_id: uuid.UUID) -> Notification | None:
        async with self._sessions() as db:
            row = await db.get(OutboxMessage, outbox_id)
            if row is None or row.lease_owner != self.worker_id:
                return None
            school = await db.get_one(School, row.school_id)
            url, secret = school.webhook_url, school.webhook_secret
            if row.recipient_role == "district_officer":
                district = await db.get_one(District, school.district_id)
                if district.webhook_url:
                    url, secret = district.webhook_url, district.webhook_secret
            return Notification(
                delivery_id=row.delivery_id,
                event=row.event,
                url=url or "",
                secret=secret or "",
                payload=row.payload,
            )

    async def _record(self, outbox_id: uuid.UUID, outcome: DeliveryOutcome, now: datetime) -> str:
        async with self._sessions() as db, db.begin():
            row = await db.scalar(
                select(OutboxMessage).where(OutboxMessage.id == outbox_id).with_for_update()
            )
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
                delay = backoff_delay(
                    row.attempts, rng=self._rng, retry_after_s=outcome.retry_after_s
                )
                row.next_attempt_at = now + timedelta(seconds=delay)
                return "retry"
            row.status = "failed"
            await self._escalate_failure(db, row, now)
            return "failed"

    async def _escalate_failure(self, db: AsyncSession, row: OutboxMessage, now: datetime) -> None:
        """A notification that finally failed is never dropped: the next role is told."""
        if row.case_id is None:
            return
        case = await db.get_one(Case, row.case_id)
        db.add(
            CaseEvent(
                case_id=case.id,
                kind="notification_failed",
                actor_id=None,
                at=now,
                note=None,
                data={
                    "delivery_id": row.delivery_id,
                    "recipient_role": row.recipient_role,
                    "status_code": row.last_status_code,
                    "error": row.last_error,
                },
            )
        )
        nxt = NEXT_ROLE.get(row.recipient_role)
        if nxt is None or case.status == "closed":
            return
        role, level = nxt
        await enqueue_case_notification(
            db,
            case=case,
            event="case.escalated",
            level=level,
            recipient_role=role,
            deadline=case.acknowledge_by,
            base_url=self._settings.base_url,
            now=now,
        )
