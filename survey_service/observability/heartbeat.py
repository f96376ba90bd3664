"""The dispatcher's heartbeat: each ``runxin worker`` process says it is alive (issue 14).

Every loop of the worker (sweep, then one dispatch pass) calls :meth:`Heartbeat.beat`, which
upserts the process's row in ``worker_heartbeats`` — at most once every
:attr:`Heartbeat.every_s`, a quarter of ``RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S``, so a busy
worker that loops without pausing does not write a row per pass. ``/readyz`` and ``/metrics``
read the freshest beat (:func:`worker_liveness`). A worker stuck in a pass (a hung delivery, a
database that does not answer) stops beating, which is the point: then no alert goes out.

Rows hold an id, a host and process label and two times — nothing about students. A worker's
beat also prunes the rows of workers silent for :data:`PRUNE_AFTER`, so the table stays a
handful of rows.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from survey_service.db import WorkerHeartbeat

__all__ = ["PRUNE_AFTER", "Heartbeat", "Liveness", "process_label", "worker_liveness"]

#: Rows of workers that have not beaten for this long are deleted by any live worker's beat.
PRUNE_AFTER = timedelta(days=7)
#: A worker beats at least this often, whatever the maximum age (a quarter of it) says.
MAX_BEAT_EVERY_S = 30.0


def process_label() -> str:
    """``host:pid`` of this process: which machine and process a heartbeat came from."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


class Heartbeat:
    """One worker process's heartbeat.

    Parameters
    ----------
    worker_id:
        The dispatcher's id (``Dispatcher.worker_id``), unique per process.
    started_at:
        When the process started (the clock's ``now`` at start).
    max_age_s:
        ``Settings.worker_heartbeat_max_age_s``: the worker beats at least four times within it.
    label:
        Host and process; :func:`process_label` by default.
    """

    def __init__(
        self,
        worker_id: str,
        *,
        started_at: datetime,
        max_age_s: float,
        label: str | None = None,
    ) -> None:
        if max_age_s <= 0:
            raise ValueError(f"the heartbeat's maximum age must be positive, got {max_age_s}")
        self.worker_id = worker_id
        self.label = label or process_label()
        self.started_at = started_at
        self.every_s = min(max_age_s / 4, MAX_BEAT_EVERY_S)
        self._last: datetime | None = None

    async def beat(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> bool:
        """Record that the worker is alive at ``now`` (one short transaction), unless it beat
        less than :attr:`every_s` ago; returns whether a row was written."""
        last = self._last
        if last is not None and last <= now < last + timedelta(seconds=self.every_s):
            return False
        async with sessions() as db, db.begin():
            updated = await db.execute(
                update(WorkerHeartbeat)
                .where(WorkerHeartbeat.worker_id == self.worker_id)
                .values(last_beat_at=now, label=self.label)
            )
            if not getattr(updated, "rowcount", 0):
                db.add(
                    WorkerHeartbeat(
                        worker_id=self.worker_id,
                        label=self.label,
                        started_at=self.started_at,
                        last_beat_at=now,
                    )
                )
            await db.execute(
                delete(WorkerHeartbeat).where(WorkerHeartbeat.last_beat_at < now - PRUNE_AFTER)
            )
        self._last = now
        return True


@dataclass(frozen=True)
class Liveness:
    """The workers' heartbeats as seen at one moment.

    Attributes
    ----------
    age_s:
        Seconds since the freshest beat of any worker; ``None`` when no worker ever beat.
    alive:
        Workers that beat within the maximum age.
    """

    age_s: float | None
    alive: int


async def worker_liveness(db: AsyncSession, *, now: datetime, max_age_s: float) -> Liveness:
    """The freshest heartbeat's age at ``now`` and the count of workers fresher than
    ``max_age_s`` (one query)."""
    row = (
        await db.execute(
            select(
                func.max(WorkerHeartbeat.last_beat_at),
                func.count(WorkerHeartbeat.worker_id).filter(
                    WorkerHeartbeat.last_beat_at >= now - timedelta(seconds=max_age_s)
                ),
            )
        )
    ).one()
    latest, alive = row
    if latest is None:
        return Liveness(None, 0)
    return Liveness(max(0.0, (now - latest).total_seconds()), int(alive or 0))
