"""The two kinds of client process bench_dispatch.py times against each other (run as a script).

``python _dispatch_worker.py dispatch DATABASE_URL --seconds S --interval I --concurrency C``
    A real-time dispatcher loop, polling like ``runxin worker``: deliver while rows are due;
    sleep INTERVAL when none are. Prints ``ready`` once it is connected and has polled once,
    and ``delivered=N cpu_s=T`` when it stops (after S seconds, or on SIGTERM; T is the CPU
    time the process used after ``ready``).

``python _dispatch_worker.py ceiling RECEIVER_URL --n N --prefix P --concurrency C``
    Plain httpx, the same shape as one dispatcher process: one ``AsyncClient``, at most C
    requests in flight, posting N webhook requests with the bodies and headers the dispatcher
    sends (the same payload, signed the same way; delivery ids ``P000000``…). Everything is
    built before ``ready`` is printed; the posts start when a line arrives on stdin. Prints
    ``posted=N cpu_s=T`` at the end (T: CPU time from the start of the posts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_service.db import create_engine, create_session_factory
from survey_service.settings import Settings
from survey_service.workers import Dispatcher
from triage import sign

#: The webhook secret bench_dispatch.py gives its school (the ceiling signs with it too).
SECRET = "s"


def bench_payload(delivery_id: str, created: datetime) -> dict[str, object]:
    """The payload of one benchmark notification (what the outbox row holds)."""
    return {
        "event": "case.test",
        "delivery_id": delivery_id,
        "tier": "red",
        "deadline": (created + timedelta(minutes=15)).isoformat(),
    }


async def dispatch(database_url: str, seconds: float, interval: float, concurrency: int) -> None:
    settings = Settings(
        database_url=database_url,
        secret_key="bench-secret-key-0123456789",
        dispatch_batch=100,
        dispatch_concurrency=concurrency,
    )
    engine = create_engine(database_url)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    end = time.monotonic() + seconds
    delivered = 0
    cpu = 0.0
    try:
        async with httpx.AsyncClient() as client:
            worker = Dispatcher(create_session_factory(engine), client, settings)
            ready = False
            while time.monotonic() < end and not stop.is_set():
                stats = await worker.run_once(datetime.now(UTC))
                delivered += stats.delivered
                if not ready:
                    print("ready", flush=True)
                    ready = True
                    cpu = time.process_time()
                if stats.claimed == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=interval)
    finally:
        await engine.dispose()
    print(f"delivered={delivered} cpu_s={time.process_time() - cpu:.4f}", flush=True)


async def ceiling(url: str, n: int, prefix: str, concurrency: int) -> None:
    now = datetime.now(UTC)
    timestamp = math.floor(now.timestamp())
    requests = []
    for i in range(n):
        delivery_id = f"{prefix}{i:06d}"
        body = msgspec.json.encode(bench_payload(delivery_id, now))
        headers = {
            "Content-Type": "application/json",
            "X-Runxin-Delivery": delivery_id,
            "X-Runxin-Event": "case.test",
            "X-Runxin-Timestamp": str(timestamp),
            "X-Runxin-Signature": sign(SECRET, timestamp, body),
        }
        requests.append((body, headers))
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient() as client:

        async def one(body: bytes, headers: dict[str, str]) -> None:
            async with gate:
                (await client.post(url, content=body, headers=headers)).raise_for_status()

        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        cpu = time.process_time()
        await asyncio.gather(*(one(body, headers) for body, headers in requests))
        cpu = time.process_time() - cpu
    print(f"posted={n} cpu_s={cpu:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    d = sub.add_parser("dispatch")
    d.add_argument("database_url")
    d.add_argument("--seconds", type=float, default=600)
    d.add_argument("--interval", type=float, default=0.05)
    d.add_argument("--concurrency", type=int, default=16)
    c = sub.add_parser("ceiling")
    c.add_argument("url")
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--prefix", required=True)
    c.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if args.mode == "dispatch":
        asyncio.run(dispatch(args.database_url, args.seconds, args.interval, args.concurrency))
    else:
        asyncio.run(ceiling(args.url, args.n, args.prefix, args.concurrency))


if __name__ == "__main__":
    main()
