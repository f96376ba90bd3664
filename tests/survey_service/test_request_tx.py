"""Request transactions on SQLite (issue 18): the gate, the inline driver, the retried BEGIN.

Real SQLite files; a second, plain ``sqlite3`` connection plays the other writer (the worker
process, the CLI) that holds the write lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from survey_service.db import create_engine, request_transactions
from survey_service.db._request_tx import InlineConnection


def _url(tmp_path: Path) -> str:
    path = tmp_path / "tx.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (n INTEGER)")
    return f"sqlite:///{path}"


async def _with_transactions(url: str, body, **kw):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    txs = request_transactions(url, engine, **kw)
    try:
        return await body(txs)
    finally:
        await txs.dispose()
        await engine.dispose()


def test_statements_run_inline_on_the_loop_thread(tmp_path: Path) -> None:
    url = _url(tmp_path)

    async def body(txs):  # type: ignore[no-untyped-def]
        threads_before = threading.active_count()
        async with txs.begin() as db:
            conn = await db.connection()
            raw = (await conn.get_raw_connection()).driver_connection
            assert isinstance(raw, InlineConnection)
            await db.execute(text("INSERT INTO t VALUES (1)"))
        assert threading.active_count() == threads_before  # no aiosqlite worker thread

    asyncio.run(_with_transactions(url, body))
    with sqlite3.connect(tmp_path / "tx.db") as conn:
        assert conn.execute("SELECT n FROM t").fetchall() == [(1,)]


def test_one_request_transaction_at_a_time_in_arrival_order(tmp_path: Path) -> None:
    url = _url(tmp_path)
    inside, most, order = 0, 0, []

    async def one(txs, n: int) -> None:  # type: ignore[no-untyped-def]
        nonlocal inside, most
        async with txs.begin() as db:
            inside += 1
            most = max(most, inside)
            order.append(n)
            await db.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.002)  # the handler awaits something mid-transaction
            inside -= 1

    async def body(txs):  # type: ignore[no-untyped-def]
        await asyncio.gather(*(one(txs, n) for n in range(20)))

    asyncio.run(_with_transactions(url, body))
    assert most == 1
    assert order == list(range(20))
    with sqlite3.connect(tmp_path / "tx.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (20,)


def test_a_lock_held_elsewhere_is_waited_for_without_blocking_the_loop(tmp_path: Path) -> None:
    url = _url(tmp_path)
    other = sqlite3.connect(tmp_path / "tx.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (100)")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    async def body(txs):  # type: ignore[no-untyped-def]
        tick = asyncio.create_task(ticker())
        loop = asyncio.get_running_loop()
        loop.call_later(0.15, other.execute, "COMMIT")  # the other writer finishes
        async with txs.begin() as db:
            await db.execute(text("INSERT INTO t VALUES (1)"))
        tick.cancel()

    asyncio.run(_with_transactions(url, body))
    other.close()
    assert ticks > 20  # the loop kept running while the request waited for the lock
    with sqlite3.connect(tmp_path / "tx.db") as conn:
        assert sorted(conn.execute("SELECT n FROM t").fetchall()) == [(1,), (100,)]


def test_a_lock_held_past_the_timeout_fails_and_writes_nothing(tmp_path: Path) -> None:
    url = _url(tmp_path)
    other = sqlite3.connect(tmp_path / "tx.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def body(txs):  # type: ignore[no-untyped-def]
        with pytest.raises(OperationalError, match="locked"):
            async with txs.begin() as db:
                await db.execute(text("INSERT INTO t VALUES (1)"))
        other.execute("ROLLBACK")
        async with txs.begin() as db:  # the gate was released
            await db.execute(text("INSERT INTO t VALUES (2)"))

    asyncio.run(_with_transactions(url, body, inline_busy_timeout_s=0.05))
    other.close()
    with sqlite3.connect(tmp_path / "tx.db") as conn:
        assert conn.execute("SELECT n FROM t").fetchall() == [(2,)]


def test_an_error_in_the_request_rolls_back(tmp_path: Path) -> None:
    url = _url(tmp_path)

    async def body(txs):  # type: ignore[no-untyped-def]
        with pytest.raises(RuntimeError):
            async with txs.begin() as db:
                await db.execute(text("INSERT INTO t VALUES (1)"))
                raise RuntimeError("handler failed")

    asyncio.run(_with_transactions(url, body))
    with sqlite3.connect(tmp_path / "tx.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)


@pytest.mark.parametrize(("setting", "level"), [("full", 2), ("normal", 1)])
def test_sqlite_durability_follows_the_setting_on_every_engine(
    tmp_path: Path, setting: str, level: int
) -> None:
    from survey_service.settings import Settings, engine_options

    url = _url(tmp_path)
    settings = Settings.from_env({"RUNXIN_DATABASE_URL": url, "RUNXIN_SQLITE_SYNCHRONOUS": setting})

    async def go() -> list[int]:
        engine = create_engine(url, **engine_options(settings))
        txs = request_transactions(url, engine, **engine_options(settings))
        try:
            async with engine.connect() as conn:
                app_level = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
            async with txs.begin() as db:
                request_level = (await db.execute(text("PRAGMA synchronous"))).scalar_one()
            return [app_level, request_level]
        finally:
            await txs.dispose()
            await engine.dispose()

    assert asyncio.run(go()) == [level, level]


def test_the_default_is_full_and_a_bad_level_is_refused() -> None:
    from survey_service.settings import Settings, SettingsError

    assert Settings.from_env({}).sqlite_synchronous == "full"
    with pytest.raises(
        SettingsError, match="RUNXIN_SQLITE_SYNCHRONOUS must be one of full, normal"
    ):
        Settings.from_env({"RUNXIN_SQLITE_SYNCHRONOUS": "off"})


def test_a_request_that_has_not_run_a_statement_holds_no_lock(tmp_path: Path) -> None:
    """A request refused before it reads anything (a bad CSRF token) is audited in a session of
    its own while the request's transaction is still open: that session must not wait for the
    request's lock (it would wait out the busy timeout: the request cannot end meanwhile)."""
    url = _url(tmp_path)

    async def body(txs):  # type: ignore[no-untyped-def]
        apart = create_engine(url, inline_busy_timeout_s=0.05)
        try:
            async with txs.begin() as db:
                async with apart.begin() as conn:  # BEGIN IMMEDIATE on another connection
                    await conn.execute(text("INSERT INTO t VALUES (7)"))
                await db.execute(text("INSERT INTO t VALUES (8)"))
        finally:
            await apart.dispose()

    asyncio.run(_with_transactions(url, body, inline_busy_timeout_s=1.0))
    with sqlite3.connect(tmp_path / "tx.db") as conn:
        assert sorted(conn.execute("SELECT n FROM t").fetchall()) == [(7,), (8,)]
