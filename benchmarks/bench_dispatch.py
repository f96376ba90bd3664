"""Dispatch throughput and commit-to-first-attempt latency, beside the HTTP ceiling.

Run: .venv/bin/python benchmarks/bench_dispatch.py [--n 2000] [--postgres URL]

For each database (a SQLite file; PostgreSQL when it answers) and 1 and 4 dispatcher
processes: queue N due webhook notifications, start the workers, and time until the local
receiver has them all (deliveries/s). Then, with 4 workers polling in real time, commit red
notifications one at a time and measure commit → first delivery attempt at the receiver
(p50/p99). The ceiling is plain httpx posting the same bodies to the same receiver (16
requests in flight, 1 and 4 client loops), measured in the same run; the ratio is printed.
Goals (issue 5): first attempt p99 < 2 s for red; ≥ 500 deliveries/s with 4 workers on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_service.db import (
    District,
    OutboxMessage,
    School,
    create_engine,
    create_session_factory,
    upgrade,
)

WORKER = str(Path(__file__).with_name("_dispatch_worker.py"))
RECEIVER = str(Path(__file__).with_name("_receiver.py"))


class Receiver:
    """The webhook receiver in its own process (``_receiver.py``); arrivals come back over a
    pipe and are collected by a thread: (delivery id → arrival time)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, RECEIVER], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.proc.stdout is not None
        port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{port}/hook"
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            delivery, _, at = line.strip().partition(" ")
            with self.lock:
                self.arrivals.setdefault(delivery, float(at))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


async def ceiling(url: str, n: int, concurrency: int) -> float:
    body = b'{"event":"case.test","tier":"red"}'
    gate = asyncio.Semaphore(16)

    async def one(client: httpx.AsyncClient) -> None:
        async with gate:
            await client.post(url, content=body, headers={"Content-Type": "application/json"})

    async def client_loop(count: int) -> None:
        # The same shape as a dispatcher process: one client, 16 requests in flight.
        async with httpx.AsyncClient() as client:
            await asyncio.gather(*(one(client) for _ in range(count)))

    start = time.perf_counter()
    await asyncio.gather(*(client_loop(n // concurrency) for _ in range(concurrency)))
    return n / (time.perf_counter() - start)


async def prepare(database_url: str, url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            if await db.scalar(select(School.id).limit(1)) is None:
                district = District(code="BENCH", name="bench", webhook_url=url, webhook_secret="s")
                db.add(district)
                await db.flush()
                db.add(
                    School(
                        district_id=district.id,
                        code="BENCH-1",
                        name="bench",
                        timezone="Asia/Shanghai",
                        webhook_url=url,
                        webhook_secret="s",
                    )
                )
    finally:
        await engine.dispose()


async def queue(database_url: str, n: int, created: datetime) -> list[str]:
    engine = create_engine(database_url)
    ids = []
    try:
        async with create_session_factory(engine)() as db, db.begin():
            school = (await db.scalars(select(School).limit(1))).one()
            for _ in range(n):
                delivery = uuid.uuid4().hex
                ids.append(delivery)
                db.add(
                    OutboxMessage(
                        delivery_id=delivery,
                        dedup_key=delivery,
                        case_id=None,
                        school_id=school.id,
                        event="case.test",
                        channel="webhook",
                        recipient_role="counsellor",
                        tier="red",
                        payload={
                            "event": "case.test",
                            "delivery_id": delivery,
                            "tier": "red",
                            "deadline": (created + timedelta(minutes=15)).isoformat(),
                        },
                        status="pending",
                        attempts=0,
                        created_at=created,
                        next_attempt_at=created,
                    )
                )
    finally:
        await engine.dispose()
    return ids


def spawn(database_url: str, seconds: float, interval: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, database_url, str(seconds), str(interval)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def throughput(database_url: str, rx: Receiver, n: int, workers: int) -> float:
    ids = asyncio.run(queue(database_url, n, datetime.now(UTC)))
    start = time.time()
    procs = [spawn(database_url, 600, 0.05) for _ in range(workers)]
    try:
        while True:
            with rx.lock:
                done = sum(1 for i in ids if i in rx.arrivals)
            if done == n:
                break
            if time.time() - start > 600:
                raise SystemExit("throughput run did not finish in 600 s")
            time.sleep(0.01)
        with rx.lock:
            last = max(rx.arrivals[i] for i in ids)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return n / (last - start)


def latency(database_url: str, rx: Receiver, samples: int) -> tuple[float, float]:
    procs = [spawn(database_url, samples * 0.3 + 30, 0.1) for _ in range(4)]
    time.sleep(3)  # let the workers start
    waits = []
    try:
        for _ in range(samples):
            committed_at = time.time()
            (delivery,) = asyncio.run(queue(database_url, 1, datetime.now(UTC)))
            committed_at = time.time()
            while True:
                with rx.lock:
                    arrived = rx.arrivals.get(delivery)
                if arrived is not None:
                    waits.append(arrived - committed_at)
                    break
                time.sleep(0.002)
            time.sleep(0.1)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    waits.sort()
    return statistics.median(waits), waits[min(len(waits) - 1, int(len(waits) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "RUNXIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()

    rx = Receiver()
    print(f"measuring the HTTP ceiling with {args.n} posts…", flush=True)
    c1 = asyncio.run(ceiling(rx.url, args.n, 1))
    c4 = asyncio.run(ceiling(rx.url, args.n, 4))
    print(f"ceiling: plain httpx → receiver: {c1:,.0f}/s (1 client), {c4:,.0f}/s (4 clients)")

    databases = []
    tmp = tempfile.mkdtemp()
    databases.append(("SQLite", f"sqlite:///{tmp}/bench.db"))
    pg_db = f"runxin_bench_{uuid.uuid4().hex[:8]}"
    try:
        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(args.postgres.replace("postgresql://", "postgres://"))
            await conn.execute(f'CREATE DATABASE "{pg_db}"')
            await conn.close()

        asyncio.run(create())
        databases.append(("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/" + pg_db))
    except Exception as exc:
        print(f"PostgreSQL not measured: {exc}")

    print(f"{'database':<11} {'workers':>7} {'deliveries/s':>13} {'× ceiling':>10}")
    results = []
    for name, url in databases:
        upgrade(url)
        asyncio.run(prepare(url, rx.url))
        for workers in (1, 4):
            rate = throughput(url, rx, args.n, workers)
            ref = c1 if workers == 1 else c4
            print(f"{name:<11} {workers:>7} {rate:>13,.0f} {rate / ref:>10.2f}", flush=True)
        p50, p99 = latency(url, rx, args.samples)
        results.append((name, p50, p99))
    rx.close()
    for name, p50, p99 in results:
        print(
            f"{name}: commit → first attempt, 4 workers polling every 0.1 s idle: "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms  (goal p99 < 2000 ms)"
        )

    if len(databases) > 1:
        import asyncpg

        async def drop() -> None:
            conn = await asyncpg.connect(args.postgres.replace("postgresql://", "postgres://"))
            await conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            await conn.close()

        asyncio.run(drop())


if __name__ == "__main__":
    main()
