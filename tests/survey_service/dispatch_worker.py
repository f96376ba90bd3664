"""A dispatcher process for the multi-process tests (run as a script, not collected).

Usage: python dispatch_worker.py DATABASE_URL NOW_ISO MODE
MODE ``drain``: deliver until two passes in a row claim nothing.
MODE ``die``: deliver the claimed rows, print DELIVERED, then hang before recording (the
test kills the process with SIGKILL there).
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from survey_service.db import OutboxMessage, create_engine, create_session_factory
from survey_service.settings import Settings
from survey_service.workers import Dispatcher
from triage import DeliveryOutcome


class HangingDispatcher(Dispatcher):
    async def _record_all(
        self, outcomes: list[tuple[uuid.UUID, DeliveryOutcome]], now: datetime
    ) -> list[str]:
        print("DELIVERED", flush=True)
        await asyncio.sleep(3600)
        return []


async def _waiting(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, datetime | None]:
    """(pending rows, earliest retry time among rows nobody holds a lease on)."""
    async with sessions() as db:
        pending = await db.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
        retry_at = await db.scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == "pending", OutboxMessage.lease_owner.is_(None)
            )
        )
        return int(pending or 0), retry_at


async def main(database_url: str, now: datetime, mode: str) -> int:
    settings = Settings(database_url=database_url, secret_key="test-secret-key-0123456789")
    engine = create_engine(database_url)
    try:
        sessions = create_session_factory(engine)
        async with httpx.AsyncClient() as client:
            cls = HangingDispatcher if mode == "die" else Dispatcher
            worker = cls(sessions, client, settings)
            delivered = 0
            idle_since: float | None = None
            while True:
                stats = await worker.run_once(now)
                delivered += stats.delivered
                if stats.claimed:
                    idle_since = None
                    continue
                pending, retry_at = await _waiting(sessions)
                if mode == "die" or not pending:
                    break
                if retry_at is not None and retry_at > now:
                    now = retry_at  # rows waiting for a retry: move the clock to it
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > 1:
                    break  # the rest is leased by others (alive or dead): not ours to take
                else:
                    await asyncio.sleep(0.1)
            print(f"done delivered={delivered}", flush=True)
    finally:
        await engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3])))
