"""Dispatch throughput and commit-to-first-attempt latency, beside the plain-httpx ceiling.

Run: .venv/bin/python benchmarks/bench_dispatch.py [--n 5000] [--rounds 3] [--db both]
     [--workers 1,4] [--concurrency 16] [--postgres URL]

For each database (a SQLite file; PostgreSQL when it answers) and 1 and 4 client processes,
``--rounds`` times: first the ceiling — plain httpx in the same number of processes, each one
``AsyncClient`` with the dispatcher's in-flight limit, posting the same signed bodies and
headers the dispatcher sends (built before the clock starts) — then the dispatcher: N due
webhook notifications are committed while the worker processes are already polling, and the
clock runs from the commit until the receiver has every one. Both rates are timed the same
way (from the go signal to the last arrival at the receiver, the processes started and
connected beforehand), so their ratio is the dispatcher's own cost: the database round trips
and bookkeeping around each delivery. After every dispatch run the benchmark checks that each
row is delivered with exactly one recorded attempt and that no delivery id reached the
receiver twice. Then, with 4 workers polling in real time, red notifications are committed
one at a time and commit → first delivery attempt at the receiver is measured (p50/p99).

The last line is machine-readable (PostgreSQL, 4 workers, median ratio over the rounds).
Goals (issue 18): ≥ 0.9 × the ceiling with 4 workers on PostgreSQL; red first attempt
p99 < 2 s; no double delivery.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _dispatch_worker import SECRET, bench_payload

from survey_service.db import (
    DeliveryAttempt,
    District,
    OutboxMessage,
    School,
    create_engine,
    create_session_factory,
    upgrade,
)
from survey_service.settings import Settings

WORKER = str(Path(__file__).with_name("_dispatch_worker.py"))
RECEIVER = str(Path(__file__).with_name("_receiver.py"))


class Receiver:
    """The webhook receiver in its own process (``_receiver.py``); arrivals come back over a
    pipe and are collected by a thread: delivery id → first arrival time, and how many times
    each id arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self._waiting: set[str] = set()
        self._done = threading.Event()
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
                self.counts[delivery] = self.counts.get(delivery, 0) + 1
                if delivery in self._waiting:
                    self._waiting.discard(delivery)
                    if not self._waiting:
                        self._done.set()

    def wait_for(self, ids: list[str], timeout: float) -> float:
        """Wait until every id in ``ids`` has arrived; return the last one's arrival time."""
        with self.lock:
            self._waiting = {i for i in ids if i not in self.arrivals}
            if self._waiting:
                self._done.clear()
            else:
                self._done.set()
        if not self._done.wait(timeout):
            with self.lock:
                missing = len(self._waiting)
            raise SystemExit(f"{missing} of {len(ids)} deliveries did not arrive in {timeout} s")
        with self.lock:
            return max(self.arrivals[i] for i in ids)

    def duplicates(self, ids: list[str]) -> int:
        with self.lock:
            return sum(self.counts.get(i, 0) - 1 for i in ids if self.counts.get(i, 0) > 1)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _spawn(*args: str, stdin: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, *args],
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _await_ready(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        assert p.stdout is not None
        line = p.stdout.readline().strip()
        if line != "ready":
            p.kill()
            _, err = p.communicate()
            raise SystemExit(f"a benchmark process failed to start: {line!r}\n{err[-3000:]}")


def _stop(procs: list[subprocess.Popen[str]], *, wait: bool = False) -> float:
    """Stop the processes (or, with ``wait``, let them end by themselves); returns the CPU
    seconds they report (``cpu_s=``) in all."""
    if not wait:
        for p in procs:
            p.terminate()
    cpu = 0.0
    for p in procs:
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        if "cpu_s=" in out:
            cpu += float(out.rsplit("cpu_s=", 1)[1].split()[0])
    return cpu


def _pg_backend_cpu(admin_url: str | None, database: str) -> dict[int, float] | None:
    """CPU seconds used so far by each PostgreSQL backend connected to ``database`` (from
    ``/proc/PID/schedstat``: works only with the server on this machine); None if unknown."""
    if admin_url is None:
        return None
    import asyncpg

    async def pids() -> list[int]:
        conn = await asyncpg.connect(admin_url.replace("postgresql://", "postgres://"))
        try:
            rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
            return [int(r["pid"]) for r in rows]
        finally:
            await conn.close()

    try:
        found = {}
        for pid in asyncio.run(pids()):
            with open(f"/proc/{pid}/schedstat") as f:
                found[pid] = int(f.read().split()[0]) / 1e9
        return found
    except (OSError, ValueError, IndexError):
        return None


def ceiling(rx: Receiver, n: int, processes: int, concurrency: int) -> tuple[float, float]:
    """Plain httpx: ``processes`` processes, each one client with ``concurrency`` requests in
    flight, posting n/processes signed requests; returns (deliveries/s from go to the last
    arrival, client CPU seconds per delivery)."""
    prefixes = [uuid.uuid4().hex[:26] for _ in range(processes)]
    share = n // processes
    procs = [
        _spawn(
            "ceiling",
            rx.url,
            "--n",
            str(share),
            "--prefix",
            p,
            "--concurrency",
            str(concurrency),
            stdin=True,
        )
        for p in prefixes
    ]
    try:
        _await_ready(procs)
        ids = [f"{p}{i:06d}" for p in prefixes for i in range(share)]
        start = time.time()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        last = rx.wait_for(ids, timeout=600)
    except BaseException:
        _stop(procs)
        raise
    cpu = _stop(procs, wait=True)
    return len(ids) / (last - start), cpu / len(ids)


async def prepare(database_url: str, url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            if await db.scalar(select(School.id).limit(1)) is None:
                district = District(
                    code="BENCH", name="bench", webhook_url=url, webhook_secret=SECRET
                )
                db.add(district)
                await db.flush()
                db.add(
                    School(
                        district_id=district.id,
                        code="BENCH-1",
                        name="bench",
                        timezone="Asia/Shanghai",
                        webhook_url=url,
                        webhook_secret=SECRET,
                    )
                )
    finally:
        await engine.dispose()


async def queue(database_url: str, n: int) -> tuple[list[str], float]:
    """Commit ``n`` due red webhook notifications; returns their delivery ids and the time
    just before the commit (the clock starts there)."""
    engine = create_engine(database_url)
    created = datetime.now(UTC)
    ids = [uuid.uuid4().hex for _ in range(n)]
    try:
        async with create_session_factory(engine)() as db, db.begin():
            school_id = await db.scalar(select(School.id).limit(1))
            rows = [
                {
                    "id": uuid.uuid4(),
                    "delivery_id": delivery,
                    "dedup_key": delivery,
                    "case_id": None,
                    "school_id": school_id,
                    "event": "case.test",
                    "channel": "webhook",
                    "recipient_role": "counsellor",
                    "recipient_user_id": None,
                    "tier": "red",
                    "payload": bench_payload(delivery, created),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": created,
                    "next_attempt_at": created,
                }
                for delivery in ids
            ]
            await db.execute(insert(OutboxMessage), rows)
            committing = time.time()
    finally:
        await engine.dispose()
    return ids, committing


async def check(database_url: str, ids: list[str]) -> int:
    """How many of ``ids`` are not delivered with exactly one recorded attempt (0 is right)."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            wrong = 0
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                attempts = (
                    select(DeliveryAttempt.outbox_id, func.count().label("n"))
                    .group_by(DeliveryAttempt.outbox_id)
                    .subquery()
                )
                good = await db.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .join(attempts, attempts.c.outbox_id == OutboxMessage.id)
                    .where(
                        OutboxMessage.delivery_id.in_(chunk),
                        OutboxMessage.status == "delivered",
                        OutboxMessage.attempts == 1,
                        attempts.c.n == 1,
                    )
                )
                wrong += len(chunk) - int(good or 0)
            return wrong
    finally:
        await engine.dispose()


def _dispatchers(
    database_url: str, workers: int, concurrency: int, interval: float
) -> list[subprocess.Popen[str]]:
    procs = [
        _spawn(
            "dispatch",
            database_url,
            "--interval",
            str(interval),
            "--concurrency",
            str(concurrency),
        )
        for _ in range(workers)
    ]
    _await_ready(procs)
    return procs


class Run(NamedTuple):
    rate: float  # deliveries/s from the commit to the last arrival
    cpu: float  # the workers' CPU seconds per delivery
    db_cpu: float | None  # the PostgreSQL backends' CPU seconds per delivery
    wrong: int  # rows not delivered with exactly one recorded attempt
    twice: int  # delivery ids that reached the receiver more than once


def throughput(
    database_url: str,
    rx: Receiver,
    n: int,
    workers: int,
    concurrency: int,
    *,
    admin_url: str | None,
) -> Run:
    procs = _dispatchers(database_url, workers, concurrency, 0.05)
    database = database_url.rsplit("/", 1)[-1]
    try:
        before = _pg_backend_cpu(admin_url, database)
        ids, start = asyncio.run(queue(database_url, n))
        last = rx.wait_for(ids, timeout=600)
        after = _pg_backend_cpu(admin_url, database)
    finally:
        cpu = _stop(procs)
    db_cpu = None
    if before is not None and after is not None:
        db_cpu = sum(t - before.get(pid, 0.0) for pid, t in after.items()) / n
    wrong = asyncio.run(check(database_url, ids))
    return Run(n / (last - start), cpu / n, db_cpu, wrong, rx.duplicates(ids))


def latency(database_url: str, rx: Receiver, samples: int, concurrency: int) -> tuple[float, float]:
    procs = _dispatchers(database_url, 4, concurrency, 0.1)
    waits = []
    try:
        for _ in range(samples):
            (delivery,), committed_at = asyncio.run(queue(database_url, 1))
            waits.append(rx.wait_for([delivery], timeout=60) - committed_at)
            time.sleep(0.1)
    finally:
        _stop(procs)
    waits.sort()
    return statistics.median(waits), waits[min(len(waits) - 1, int(len(waits) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="notifications per run")
    parser.add_argument("--rounds", type=int, default=3, help="ceiling/dispatch pairs per row")
    parser.add_argument("--samples", type=int, default=100, help="latency samples")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--workers", default="1,4", help="dispatcher (and ceiling) process counts, e.g. 4"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=Settings().dispatch_concurrency,
        help="requests in flight per process (the dispatcher's dispatch_concurrency)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "RUNXIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()

    rx = Receiver()
    databases = []
    if args.db in ("sqlite", "both"):
        databases.append(("SQLite", f"sqlite:///{tempfile.mkdtemp()}/bench.db"))
    pg_db = f"runxin_bench_{uuid.uuid4().hex[:8]}"
    if args.db in ("postgresql", "both"):
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

    print(
        f"{args.n} notifications per run, {args.concurrency} requests in flight per process, "
        f"{args.rounds} round(s); ceiling = plain httpx, same processes, bodies and headers",
        flush=True,
    )
    print(
        "CPU columns: µs per delivery of the client processes (ceiling, dispatcher) and of the "
        "PostgreSQL backends serving the dispatcher",
        flush=True,
    )
    print(
        f"{'database':<11} {'workers':>7} {'deliveries/s':>13} {'ceiling/s':>10} "
        f"{'× ceiling':>10} {'cpu ceil':>9} {'cpu disp':>9} {'cpu db':>7} "
        f"{'wrong':>6} {'twice':>6}",
        flush=True,
    )
    medians: dict[tuple[str, int], tuple[float, float, float]] = {}
    bad = 0
    latencies = []
    try:
        for name, url in databases:
            upgrade(url)
            asyncio.run(prepare(url, rx.url))
            for workers in [int(w) for w in args.workers.split(",")]:
                ratios = []
                admin = args.postgres if name == "PostgreSQL" else None
                for _ in range(args.rounds):
                    ref, ref_cpu = ceiling(rx, args.n, workers, args.concurrency)
                    run = throughput(url, rx, args.n, workers, args.concurrency, admin_url=admin)
                    bad += run.wrong + run.twice
                    ratios.append((run.rate / ref, run.rate, ref))
                    db_cpu = "-" if run.db_cpu is None else f"{run.db_cpu * 1e6:.0f}"
                    print(
                        f"{name:<11} {workers:>7} {run.rate:>13,.0f} {ref:>10,.0f} "
                        f"{run.rate / ref:>10.2f} {ref_cpu * 1e6:>9.0f} {run.cpu * 1e6:>9.0f} "
                        f"{db_cpu:>7} {run.wrong:>6} {run.twice:>6}",
                        flush=True,
                    )
                medians[(name, workers)] = sorted(ratios)[len(ratios) // 2]
            latencies.append((name, *latency(url, rx, args.samples, args.concurrency)))
    finally:
        rx.close()
        if any(name == "PostgreSQL" for name, _ in databases):
            import asyncpg

            async def drop() -> None:
                conn = await asyncpg.connect(args.postgres.replace("postgresql://", "postgres://"))
                await conn.execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
                await conn.close()

            asyncio.run(drop())

    for (name, workers), (ratio, rate, ref) in medians.items():
        print(
            f"{name}, {workers} worker(s), median of {args.rounds}: {rate:,.0f}/s against "
            f"{ref:,.0f}/s = {ratio:.2f} × ceiling"
        )
    for name, p50, p99 in latencies:
        print(
            f"{name}: commit → first attempt, 4 workers polling every 0.1 s idle: "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms  (goal p99 < 2000 ms)"
        )
    key = ("PostgreSQL", 4) if ("PostgreSQL", 4) in medians else next(iter(medians), None)
    if key is not None:
        ratio, rate, ref = medians[key]
        p99 = next(p for n, _, p in latencies if n == key[0])
        print(
            f"db={key[0].lower()} workers={key[1]} dispatch_per_s={rate:.0f} "
            f"ceiling_per_s={ref:.0f} ratio={ratio:.2f} red_p99_ms={p99 * 1000:.0f} "
            f"not_exactly_once={bad}"
        )
    if bad:
        raise SystemExit(f"{bad} deliveries were lost, left unrecorded or sent twice")


if __name__ == "__main__":
    main()
