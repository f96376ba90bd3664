"""One dispatcher pass records a whole batch at once: delivered rows in bulk, failed ones
through the retry and escalation rules, and never a row whose lease another worker has taken.

Real receiver (an HTTP server on 127.0.0.1 answering each delivery id with its scripted
status), real databases (both, through ``database_url``).
"""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
from sqlalchemy import event, select, update
from svc_support import make_settings, run, seed
from test_dispatcher import _make_case

from survey_service.db import (
    Case,
    CaseEvent,
    DeliveryAttempt,
    OperatorAlert,
    OutboxMessage,
    create_engine,
    create_session_factory,
)
from survey_service.settings import Settings
from survey_service.workers import Dispatcher, DispatchStats
from triage import DeliveryOutcome

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


class ScriptedReceiver:
    """Answers each delivery id with the status scripted for it (200 otherwise); records
    how many times each id arrived."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {}
        self.arrivals: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                delivery = self.headers.get("X-Runxin-Delivery", "")
                with lock:
                    receiver.arrivals[delivery] = receiver.arrivals.get(delivery, 0) + 1
                self.send_response(receiver.status.get(delivery, 200))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # a dispatcher opens many connections at once
            daemon_threads = True

        lock = threading.Lock()
        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


async def _queue(settings: Settings, school_id: uuid.UUID, n: int) -> list[str]:
    """``n`` due webhook notifications to the counsellors (no case); their delivery ids."""
    engine = create_engine(settings.database_url)
    ids = []
    try:
        async with create_session_factory(engine)() as db, db.begin():
            for i in range(n):
                delivery_id = uuid.uuid4().hex
                ids.append(delivery_id)
                db.add(
                    OutboxMessage(
                        delivery_id=delivery_id,
                        dedup_key=f"batch:{delivery_id}",
                        case_id=None,
                        school_id=school_id,
                        event="case.test",
                        channel="webhook",
                        recipient_role="counsellor",
                        tier="yellow",
                        payload={
                            "event": "case.test",
                            "delivery_id": delivery_id,
                            "n": i,
                            "deadline": (T0 + timedelta(days=1)).isoformat(),
                        },
                        status="pending",
                        attempts=0,
                        created_at=T0,
                        next_attempt_at=T0,
                    )
                )
    finally:
        await engine.dispose()
    return ids


async def _pass(
    settings: Settings, now: datetime, cls: type[Dispatcher] = Dispatcher
) -> tuple[DispatchStats, int]:
    """One pass of a fresh dispatcher ``w1``; returns its stats and the SQL statements run."""
    engine = create_engine(settings.database_url)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with httpx.AsyncClient() as client:
            d = cls(
                create_session_factory(engine),
                client,
                settings,
                worker_id="w1",
                rng=random.Random(1),
            )
            return await d.run_once(now), statements
    finally:
        await engine.dispose()


async def _state(settings: Settings) -> dict[str, Any]:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db:
            rows = (await db.scalars(select(OutboxMessage))).all()
            attempts = (await db.scalars(select(DeliveryAttempt))).all()
            by_outbox: dict[uuid.UUID, list[DeliveryAttempt]] = {}
            for a in attempts:
                by_outbox.setdefault(a.outbox_id, []).append(a)
            return {
                "rows": {r.delivery_id: r for r in rows},
                "attempts": {r.delivery_id: by_outbox.get(r.id, []) for r in rows},
                "alerts": (await db.scalars(select(OperatorAlert))).all(),
                "case_events": (await db.scalars(select(CaseEvent.kind))).all(),
            }
    finally:
        await engine.dispose()


async def _case_row(settings: Settings) -> tuple[uuid.UUID, str]:
    """The seeded case's school and its counsellor notification's delivery id."""
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db:
            case = (await db.scalars(select(Case))).one()
            delivery_id = await db.scalar(
                select(OutboxMessage.delivery_id).where(OutboxMessage.case_id == case.id)
            )
            assert delivery_id is not None
            return case.school_id, delivery_id
    finally:
        await engine.dispose()


def test_one_pass_records_a_mix_of_success_retry_and_permanent_failure(database_url: str) -> None:
    settings = make_settings(database_url)
    with ScriptedReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        school_id, case_row = run(_case_row(settings))
        ok200, ok204, retry, gone, ok_again = run(_queue(settings, school_id, 5))
        rx.status.update({ok204: 204, retry: 500, gone: 410, case_row: 410})

        stats, _ = run(_pass(settings, T0))

        assert (stats.claimed, stats.delivered, stats.retried, stats.failed) == (6, 3, 1, 2)
        state = run(_state(settings))
        rows, attempts = state["rows"], state["attempts"]
        for delivery_id, code in ((ok200, 200), (ok204, 204), (ok_again, 200)):
            row = rows[delivery_id]
            assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, code)
            assert row.delivered_at == T0 and row.last_error is None
            assert row.lease_owner is None and row.lease_expires_at is None
            [attempt] = attempts[delivery_id]
            assert (attempt.ok, attempt.status_code, attempt.worker) == (True, code, "w1")
            assert attempt.attempted_at == T0 and attempt.error is None
        # Retryable: pending again, after a backoff, its lease released.
        row = rows[retry]
        assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
        assert row.next_attempt_at > T0 and row.lease_owner is None and row.delivered_at is None
        assert [(a.ok, a.status_code) for a in attempts[retry]] == [(False, 500)]
        # Permanent: failed, an operator alert for each; the case's one is escalated.
        for delivery_id in (gone, case_row):
            assert (rows[delivery_id].status, rows[delivery_id].attempts) == ("failed", 1)
            assert [(a.ok, a.status_code) for a in attempts[delivery_id]] == [(False, 410)]
        assert len(state["alerts"]) == 2
        assert "notification_failed" in state["case_events"]
        [escalation] = [r for r in rows.values() if r.recipient_role == "school_lead"]
        assert escalation.status == "pending" and escalation.event == "case.escalated"
        assert all(n == 1 for n in rx.arrivals.values()) and len(rx.arrivals) == 6

        # The next pass at the same instant takes the escalation only (the retry is not due).
        stats, _ = run(_pass(settings, T0))
        assert (stats.claimed, stats.delivered) == (1, 1)
        assert rx.arrivals[escalation.delivery_id] == 1 and rx.arrivals[retry] == 1


class _Overtaken(Dispatcher):
    """Loses the lease of two claimed rows (one delivered, one failed) to worker ``w2``
    while it delivers, as when a pass outlives its lease and another worker claims again."""

    stolen: ClassVar[list[str]] = []

    async def _record_all(
        self, outcomes: list[tuple[uuid.UUID, DeliveryOutcome]], now: datetime
    ) -> list[str]:
        async with self._sessions() as db, db.begin():
            await db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.delivery_id.in_(self.stolen))
                .values(lease_owner="w2", lease_expires_at=now + timedelta(seconds=60))
            )
        return await super()._record_all(outcomes, now)


def test_a_row_whose_lease_was_taken_over_is_not_recorded(database_url: str) -> None:
    settings = make_settings(database_url)
    with ScriptedReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        school_id, _ = run(_case_row(settings))
        kept_ok, stolen_ok, kept_retry, stolen_retry = run(_queue(settings, school_id, 4))
        rx.status.update({kept_retry: 503, stolen_retry: 503})
        _Overtaken.stolen = [stolen_ok, stolen_retry]

        stats, _ = run(_pass(settings, T0, _Overtaken))

        # The case's own notification is delivered too.
        assert (stats.claimed, stats.delivered, stats.retried, stats.failed) == (5, 2, 1, 0)
        state = run(_state(settings))
        rows, attempts = state["rows"], state["attempts"]
        assert rows[kept_ok].status == "delivered" and len(attempts[kept_ok]) == 1
        assert rows[kept_retry].attempts == 1 and len(attempts[kept_retry]) == 1
        for delivery_id in (stolen_ok, stolen_retry):  # left to w2, as w2 claimed them
            row = rows[delivery_id]
            assert (row.status, row.attempts, row.lease_owner) == ("pending", 0, "w2")
            assert row.last_status_code is None and attempts[delivery_id] == []


def test_a_pass_costs_the_same_statements_for_3_rows_as_for_30(database_url: str) -> None:
    settings = make_settings(database_url)
    with ScriptedReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        school_id, case_row = run(_case_row(settings))
        rx.status[case_row] = 200
        run(_queue(settings, school_id, 2))
        small, small_statements = run(_pass(settings, T0))
        run(_queue(settings, school_id, 30))
        large, large_statements = run(_pass(settings, T0))
        assert (small.claimed, small.delivered) == (3, 3)
        assert (large.claimed, large.delivered) == (30, 30)
        assert large_statements == small_statements
        assert len(rx.arrivals) == 33 and all(n == 1 for n in rx.arrivals.values())
