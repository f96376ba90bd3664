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

from survey_service.settings import database_urls

__all__ = ["READ_ONLY", "AsyncSession", "create_engine", "create_session_factory"]

#: Execution option for a transaction that only reads (SQLite opens it DEFERRED).
READ_ONLY = "runxin_read_only"


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Create the async engine for ``database_url``.

    On SQLite the connection runs in WAL mode with a busy timeout, foreign keys on, and every
    transaction opened with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of
    failing half-way with "database is locked".
    """
    urls = database_urls(database_url)
    if urls.dialect == "sqlite":
        engine = create_async_engine(urls.async_url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Read-only peeks (``READ_ONLY`` option) take no write lock: in WAL mode they never
            # wait for, or hold up, a writer.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN DEFERRED")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(urls.async_url, **kwargs)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
