"""Several dispatcher processes on one database: nothing lost, nothing twice, no busy errors;
a dispatcher killed with SIGKILL after delivering is redelivered with the same delivery id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from svc_support import WebhookReceiver, make_settings, run, seed

from survey_service.db import OutboxMessage, School, create_engine, create_session_factory

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
WORKER = str(Path(__file__).with_name("dispatch_worker.py"))
# Enough for every process to claim many batches while the others hold leases (a claim takes
# at most the dispatcher's batch size); more rows only lengthen the run.
NOTIFICATIONS = 600


async def _queue(database_url: str, n: int) -> None:
    """``n`` due webhook notifications, written as the outbox would hold them."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            school = (await db.scalars(select(School).limit(1))).one()
            for i in range(n):
                delivery_id = uuid.uuid4().hex
                db.add(
                    OutboxMessage(
                        delivery_id=delivery_id,
                        dedup_key=f"load:{i}",
                        case_id=None,
                        school_id=school.id,
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


async def _status_counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            rows = (
                await db.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
            return {status: int(count) for status, count in rows}
    finally:
        await engine.dispose()


def _spawn(database_url: str, now: datetime, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, WORKER, database_url, now.isoformat(), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_four_processes_deliver_every_notification_once(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seed(settings, now=T0, students=1, webhook_url=rx.url)
        run(_queue(database_url, NOTIFICATIONS))
        workers = [_spawn(database_url, T0, "drain") for _ in range(4)]
        outputs = [w.communicate(timeout=300) for w in workers]
        for w, (_, err) in zip(workers, outputs, strict=True):
            assert w.returncode == 0, err[-2000:]
            assert "locked" not in err.lower() and "busy" not in err.lower(), err[-2000:]
        ids = [d.headers["x-runxin-delivery"] for d in rx.deliveries]
        assert len(ids) == NOTIFICATIONS and len(set(ids)) == NOTIFICATIONS
        per_worker = [int(out.split("delivered=")[-1]) for out, _ in outputs]
        assert sum(per_worker) == NOTIFICATIONS
        assert run(_status_counts(database_url)) == {"delivered": NOTIFICATIONS}


def test_killed_dispatcher_is_redelivered_with_the_same_id(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seed(settings, now=T0, students=1, webhook_url=rx.url)
        run(_queue(database_url, 1))
        doomed = _spawn(database_url, T0, "die")
        assert doomed.stdout is not None
        deadline = time.monotonic() + 60
        while not rx.deliveries and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rx.deliveries, "the first dispatcher never delivered"
        line = doomed.stdout.readline()
        assert line.strip() == "DELIVERED"
        doomed.send_signal(signal.SIGKILL)  # delivered, but the attempt was never recorded
        doomed.wait(timeout=30)
        assert run(_status_counts(database_url)) == {"pending": 1}

        # Before the lease expires, nobody else takes it.
        early = _spawn(database_url, T0 + timedelta(seconds=30), "drain")
        early.communicate(timeout=120)
        assert len(rx.deliveries) == 1
        later = _spawn(database_url, T0 + timedelta(seconds=settings.dispatch_lease_s + 1), "drain")
        _, err = later.communicate(timeout=120)
        assert later.returncode == 0, err
        ids = [d.headers["x-runxin-delivery"] for d in rx.deliveries]
        assert len(ids) == 2 and len(set(ids)) == 1  # the receiver de-duplicates on this id
        assert run(_status_counts(database_url)) == {"delivered": 1}
