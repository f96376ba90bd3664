"""``GET /readyz``: may this process take traffic, and will the alerts it causes go out?

Three checks, in order, over one short database session bounded by :data:`DB_TIMEOUT_S`:

``database``
    A ``SELECT 1`` answers: ``ok``, ``unreachable`` (the connection or the query failed) or
    ``timeout``.
``migrations``
    The database's ``alembic_version`` is the code's head (read once per process from the
    packaged migrations, :func:`survey_service.db.code_migrations`): ``ok``; ``behind`` (an
    older revision: run ``runxin db upgrade``); ``ahead`` (a revision this code does not know:
    the database was migrated by a newer release, so this older process must not serve it);
    ``not_migrated`` (no ``alembic_version``).
``dispatcher``
    Some ``runxin worker`` beat within ``RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S``
    (:mod:`survey_service.observability.heartbeat`): ``ok``, ``stale`` or ``never_beat``.
    No worker ever having beaten is *not ready*: a submission would open a case whose
    notifications nobody sends — the failure this check exists to catch.

A check after a failed one is ``not_checked``. The reply names only checks and their state
(no revision, host, count or time), needs no sign-in and is never refused by the overload
limit. 200 ``{"status": "ready", "checks": {...}}`` or 503 with ``"status": "not_ready"``
and ``"failing": [...]``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from survey_service.db import MigrationHeads
from survey_service.observability.heartbeat import worker_liveness

__all__ = ["CHECKS", "DB_TIMEOUT_S", "Readiness", "check_readiness"]

#: The checks, in the order they run.
CHECKS = ("database", "migrations", "dispatcher")
#: The longest the three checks together wait for the database (seconds).
DB_TIMEOUT_S = 2.0
OK = "ok"
NOT_CHECKED = "not_checked"

_log = logging.getLogger("runxin.readiness")


@dataclass(frozen=True)
class Readiness:
    """The outcome of one readiness check: each check's state (``ok`` or why not)."""

    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(self.checks.get(name) == OK for name in CHECKS)

    @property
    def failing(self) -> list[str]:
        return [name for name in CHECKS if self.checks.get(name) != OK]

    def body(self) -> dict[str, Any]:
        """The JSON reply."""
        if self.ready:
            return {"status": "ready", "checks": dict(self.checks)}
        return {"status": "not_ready", "checks": dict(self.checks), "failing": self.failing}


async def check_readiness(
    sessions: async_sessionmaker[AsyncSession],
    *,
    migrations: MigrationHeads,
    now: datetime,
    heartbeat_max_age_s: float,
    timeout_s: float = DB_TIMEOUT_S,
) -> Readiness:
    """Run the checks against the database behind ``sessions`` at ``now``."""
    checks = dict.fromkeys(CHECKS, NOT_CHECKED)
    current = "database"
    try:
        async with asyncio.timeout(timeout_s), sessions() as db:
            await db.execute(text("SELECT 1"))
            checks["database"] = OK
            current = "migrations"
            checks["migrations"] = await _migrations(db, migrations)
            if checks["migrations"] != OK:
                return Readiness(checks)
            current = "dispatcher"
            liveness = await worker_liveness(db, now=now, max_age_s=heartbeat_max_age_s)
            if liveness.age_s is None:
                checks["dispatcher"] = "never_beat"
            elif liveness.age_s > heartbeat_max_age_s:
                checks["dispatcher"] = "stale"
            else:
                checks["dispatcher"] = OK
    except TimeoutError:
        checks[current] = "timeout"
    except (SQLAlchemyError, OSError) as exc:
        # The type only: a driver's message may carry a host or a database name.
        _log.warning("readiness: the %s check failed: %s", current, type(exc).__name__)
        checks[current] = "unreachable" if current == "database" else "failed"
    return Readiness(checks)


async def _migrations(db: AsyncSession, code: MigrationHeads) -> str:
    try:
        versions = set((await db.scalars(text("SELECT version_num FROM alembic_version"))).all())
    except SQLAlchemyError:
        return "not_migrated"
    if not versions:
        return "not_migrated"
    if versions == set(code.heads):
        return OK
    if versions - code.known:
        return "ahead"
    return "behind"
