"""Engine and session factory built from settings (never at import time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from survey_service.db._request_tx import (
    BUSY_TIMEOUT_S,
    RequestTransactions,
    begin_immediate_yielding,
    inline_connect,
)
from survey_service.settings import database_urls

__all__ = [
    "READ_ONLY",
    "AsyncSession",
    "RequestTransactions",
    "create_engine",
    "create_session_factory",
    "request_transactions",
]

#: Execution option for a transaction that only reads (SQLite opens it DEFERRED).
READ_ONLY = "runxin_read_only"


def create_engine(
    database_url: str,
    *,
    inline: bool = False,
    sqlite_synchronous: str = "full",
    inline_busy_timeout_s: float = BUSY_TIMEOUT_S,
    **kwargs: Any,
) -> AsyncEngine:
    """Create the async engine for ``database_url``.

    On SQLite the connection runs in WAL mode with a busy timeout, foreign keys on, and every
    transaction opened with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of
    failing half-way with "database is locked". ``inline`` (SQLite, request transactions only):
    statements run on the event loop's thread and the busy timeout is 0 — the caller retries
    ``BEGIN IMMEDIATE`` without blocking, for up to ``inline_busy_timeout_s``
    (:func:`begin_immediate_yielding`). ``sqlite_synchronous``: SQLite's
    ``PRAGMA synchronous`` (``full``: every commit synced to disk; ``normal``: at checkpoints;
    see ``Settings.sqlite_synchronous``).
    """
    urls = database_urls(database_url)
    if urls.dialect == "sqlite":
        if inline:
            kwargs.setdefault("connect_args", {})["async_creator_fn"] = inline_connect
        busy_timeout_ms = 0 if inline else 30000
        synchronous = {"full": "FULL", "normal": "NORMAL"}[sqlite_synchronous.lower()]
        engine = create_async_engine(urls.async_url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Read-only peeks (``READ_ONLY`` option) take no write lock: in WAL mode they never
            # wait for, or hold up, a writer.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN DEFERRED")
            elif inline:
                begin_immediate_yielding(conn, inline_busy_timeout_s)
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(urls.async_url, **kwargs)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def request_transactions(
    database_url: str, engine: AsyncEngine, **kwargs: Any
) -> RequestTransactions:
    """How this app's requests open their transaction (see :mod:`._request_tx`): on SQLite a
    gate and an engine of inline connections of their own; on PostgreSQL ``engine``'s
    sessions. ``kwargs`` go to the inline engine (pool settings)."""
    if database_urls(database_url).dialect != "sqlite":
        return RequestTransactions(create_session_factory(engine), gated=False)
    if database_url.endswith(":memory:"):  # one private database per engine: share the app's
        return RequestTransactions(create_session_factory(engine), gated=True)
    inline = create_engine(database_url, inline=True, **kwargs)
    return RequestTransactions(create_session_factory(inline), gated=True, engine=inline)
