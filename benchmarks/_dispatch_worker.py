"""A real-time dispatcher loop for bench_dispatch.py (run as a script).

Usage: python _dispatch_worker.py DATABASE_URL SECONDS INTERVAL
Polls like ``runxin worker``: deliver while rows are due; sleep INTERVAL when none are.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

import httpx

from survey_service.db import create_engine, create_session_factory
from survey_service.settings import Settings
from survey_service.workers import Dispatcher


async def main(database_url: str, seconds: float, interval: float) -> None:
    settings = Settings(
        database_url=database_url, secret_key="bench-secret-key-0123456789", dispatch_batch=100
    )
    engine = create_engine(database_url)
    end = time.monotonic() + seconds
    delivered = 0
    try:
        async with httpx.AsyncClient() as client:
            worker = Dispatcher(create_session_factory(engine), client, settings)
            while time.monotonic() < end:
                stats = await worker.run_once(datetime.now(UTC))
                delivered += stats.delivered
                if stats.claimed == 0:
                    await asyncio.sleep(interval)
    finally:
        await engine.dispose()
    print(f"delivered={delivered}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
