"""The one transaction of an HTTP request, opened the fastest safe way for each database.

PostgreSQL: a session of the app's engine (asyncpg is asynchronous; row locks order writers).

SQLite has one writer at a time, and aiosqlite runs every statement on a thread of its own:
two thread switches per statement, which cost more than the statement itself (a submission has
about twenty). Request transactions on SQLite therefore:

- pass a first-come-first-served gate (an ``asyncio.Lock``): one request transaction at a time
  in this process, started the moment the previous one commits, instead of every connection
  polling the lock in SQLite's busy handler (which sleeps 1, 2, 5, ... up to 100 ms between
  tries: under load a request waited up to a second after the lock was free);
- run their statements inline on the event loop (:class:`InlineConnection`: aiosqlite's
  connection with its worker-thread queue replaced by a direct call). A local SQLite statement
  takes microseconds, so the loop is not held up — provided no statement ever waits for a lock.
  Hence the connection has no busy timeout and ``BEGIN IMMEDIATE`` is the only statement that
  can meet a lock (WAL: readers never block, and the writer holds the lock until commit); when
  another process or another connection of this one (the worker, the CLI, a short session of
  its own, such as the audit of a refused request) holds it, the request sleeps asynchronously
  and tries again (:func:`begin_immediate_yielding`), and after ``BUSY_TIMEOUT_S`` fails like
  a busy timeout does. The transaction begins with its first statement, as elsewhere.

Everything else (sign-in sessions, the workers, the CLI) keeps the app's threaded engine, which
waits in SQLite's busy handler on a thread of its own.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

try:  # SQLAlchemy 2.1
    from sqlalchemy.util import await_
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util import await_only as await_

__all__ = [
    "InlineConnection",
    "RequestTransactions",
    "begin_immediate_yielding",
    "inline_connect",
]

#: How long a request waits for another writer's lock before it fails (as the busy timeout).
BUSY_TIMEOUT_S = 30.0


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its worker thread: runs each call when it is queued
    and settles its future there and then (``await`` of a done future does not suspend)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite's thread does
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs its sqlite3 calls on the caller's thread.

    SQLAlchemy's ``sqlite+aiosqlite`` dialect drives it unchanged (``async_creator_fn``); only
    the transport differs: no worker thread, no thread switches.
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no thread to start


def inline_connect(database: str, *, iter_chunk_size: int = 64, **kwargs: Any) -> InlineConnection:
    """``aiosqlite.connect`` for :class:`InlineConnection` (SQLAlchemy's ``async_creator_fn``)."""
    kwargs["check_same_thread"] = False
    return InlineConnection(partial(sqlite3.connect, database, **kwargs), iter_chunk_size)


def begin_immediate_yielding(conn: Any, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
    """``BEGIN IMMEDIATE`` on an inline connection (no busy timeout), retried while another
    connection holds the write lock: between tries the event loop runs on (``await_`` of an
    ``asyncio.sleep`` from SQLAlchemy's greenlet), so the holder — another request's session
    of this process, the worker, the CLI — can finish. Called from the engine's ``begin``
    event. Fails like a busy timeout after ``busy_timeout_s`` of waiting (the sleeps add up to
    it: no clock is read)."""
    waited, delay = 0.0, 0.0005
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as exc:
            if not _is_locked(exc) or waited + delay > busy_timeout_s:
                raise
            await_(asyncio.sleep(delay))
            waited += delay
            delay = min(delay * 2, 0.02)
            continue
        return


def _is_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


class RequestTransactions:
    """Opens the request's transaction: ``async with txs.begin() as db: ...`` commits when the
    block ends and rolls back when it raises.

    ``gated``: SQLite's gate (see the module docstring); ``sessions`` is then a factory of an
    engine built with ``create_engine(..., inline=True)``: inline connections, no busy
    timeout, ``BEGIN IMMEDIATE`` retried without blocking.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        gated: bool,
        engine: AsyncEngine | None = None,
    ) -> None:
        self._sessions = sessions
        self._gate = asyncio.Lock() if gated else None
        self._engine = engine

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        if self._gate is None:
            async with self._sessions() as session, session.begin():
                yield session
            return
        async with self._gate, self._sessions() as session, session.begin():
            # BEGIN IMMEDIATE comes with the first statement (lazily, as on PostgreSQL: a
            # request refused before it reads anything holds no lock), through
            # :func:`begin_immediate_yielding`.
            yield session

    async def dispose(self) -> None:
        """Close the inline engine's connections (the app's own engine is disposed apart)."""
        if self._engine is not None:
            await self._engine.dispose()
