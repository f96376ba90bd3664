"""Faults (issue 18): the database going away and overload answer 503 with ``Retry-After``.

- A private, throwaway PostgreSQL cluster (never the shared one other tests use) is stopped
  with ``-m immediate`` under a live server: the API, the staff guard and the pages answer 503
  ``database_unavailable`` at once, the log has one WARNING line per request and no traceback,
  and when the cluster is started again the same client succeeds without restarting the app.
- A connection killed in the middle of a submission's transaction leaves nothing half-written;
  the same ``Idempotency-Key`` afterwards lands exactly once.
- Above ``max_in_flight`` requests are refused at once with 503 ``overloaded`` while the held
  ones finish normally; ``/healthz`` answers throughout; a refused submission retried with its
  key lands exactly once.
- A programming error, even one raised by the database, is still a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import logging
import os
import pwd
import shlex
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from svc_support import app_client, battery_answers, live_server, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, upgrade
from survey_service.errors import unavailable_code
from survey_service.overload import IN_FLIGHT_STATE, InFlightLimit
from survey_service.screening import service as screening
from survey_service.settings import Settings, SettingsError, engine_options

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
STAFF = {"username": "counsellor1", "password": "pw-test-123"}
PROBLEM_JSON = "application/problem+json"


# --- log capture ----------------------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """Everything logged meanwhile: the root logger (where ``runxin.http``, SQLAlchemy and
    asyncpg propagate) and uvicorn's own, which does not propagate. Attached after the app
    and the server configured logging (litestar's set-up replaces the root handlers, which is
    why pytest's ``caplog`` sees nothing here)."""
    handler = _Capture()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("runxin.http")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger("runxin.http").setLevel(logging.INFO)
    try:
        yield handler.records
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _unique(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """Each record once (the handler sits on loggers that propagate to one another)."""
    return list({id(r): r for r in records}.values())


def _no_traceback(records: list[logging.LogRecord]) -> None:
    for record in _unique(records):
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None and record.exc_text is None, record.getMessage()
        assert record.stack_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()


def _http_lines(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in _unique(records) if r.name == "runxin.http"]


# --- a private PostgreSQL cluster -----------------------------------------------------------


def _pg_bindir() -> str | None:
    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)
    if dirs and Path(dirs[-1], "initdb").exists():
        return dirs[-1]
    found = shutil.which("initdb")
    return str(Path(found).parent) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivatePostgres:
    """A throwaway cluster in a temporary folder on a free port of 127.0.0.1 (trust auth).

    As root, its commands run as the ``postgres`` user (PostgreSQL refuses root), as
    ``.ci/postgres.sh`` does. ``fsync`` is off (nothing in it must survive the machine), but
    commits are synchronous: a commit acknowledged before an immediate stop survives it.
    """

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.folder = tempfile.mkdtemp(prefix="runxin-pg-")
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self.port = _free_port()
        self.data = f"{self.folder}/data"
        self.running = False

    def _run(self, *args: str) -> None:
        command = [f"{self.bindir}/{args[0]}", *args[1:]]
        if self.as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = Path(self.folder, "log")
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}{tail}")

    def init(self) -> None:
        self._run("initdb", "-A", "trust", "-U", "postgres", "-D", self.data, "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            "-c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", self.data, "-l", f"{self.folder}/log", "-w", "-o", options, "start"
        )
        self.running = True

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        self.running = False

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        name = f"runxin_f_{uuid.uuid4().hex[:10]}"
        statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        run(_pg_exec(self.url("postgres"), statement))
        return name

    def remove(self) -> None:
        if self.running:
            with contextlib.suppress(RuntimeError):
                self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


async def _pg_exec(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1), timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def private_pg() -> Iterator[tuple[PrivatePostgres, str]]:
    """A started private cluster and the name of a migrated template database in it."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
    cluster = PrivatePostgres(bindir)
    try:
        cluster.init()
        cluster.start()
        template = cluster.new_database()
        upgrade(cluster.url(template))
        yield cluster, template
    finally:
        cluster.remove()


# --- helpers ----------------------------------------------------------------------------------


def _start(http: httpx.Client, code: str) -> dict[str, Any]:
    r = http.post("/api/v1/student/sessions", json={"access_code": code})
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def _submit(http: httpx.Client, session: dict[str, Any], key: str) -> httpx.Response:
    return http.post(
        f"/api/v1/student/sessions/{session['session_id']}/submission",
        headers={"Authorization": f"Bearer {session['session_token']}", "Idempotency-Key": key},
        json={"answers": battery_answers()},
    )


def _unavailable(r: httpx.Response, code: str, retry_after: str) -> dict[str, Any]:
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == retry_after
    assert r.headers["content-type"] == PROBLEM_JSON
    assert r.headers["cache-control"] == "no-store"
    body: dict[str, Any] = r.json()
    assert body["type"] == f"urn:runxin:problem:{code}" and body["status"] == 503
    assert set(body["message"]) == {"zh-CN", "en"} and all(body["message"].values())
    assert r.headers["x-request-id"] in body["detail"]
    assert "Traceback" not in r.text and 'File "' not in r.text and "SELECT" not in r.text
    return body


def _unavailable_page(r: httpx.Response, retry_after: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == retry_after
    assert r.headers["content-type"].startswith("text/html")
    assert "服务暂时不可用" in r.text and "Service temporarily unavailable" in r.text
    assert "12356" in r.text, "the national help line is on the page"
    assert r.headers["x-request-id"] in r.text and "Traceback" not in r.text


# --- PostgreSQL stopped and started again ------------------------------------------------------


@contextmanager
def _started_again(cluster: PrivatePostgres) -> Iterator[None]:
    try:
        yield
    finally:
        if not cluster.running:
            cluster.start()


def test_postgres_stopped_answers_503_and_the_app_recovers_by_itself(
    private_pg: tuple[PrivatePostgres, str],
) -> None:
    cluster, template = private_pg
    settings = make_settings(cluster.url(cluster.new_database(template)), db_pool_timeout_s=2.0)
    codes = seed(settings, now=T0).access_codes
    app = create_app(settings, clock=ManualClock(T0))
    with (
        live_server(app) as base,
        httpx.Client(base_url=base, timeout=10) as http,
        _started_again(cluster),  # even when an assertion fails: the next test needs it
    ):
        token = http.post("/api/v1/auth/login", json=STAFF).json()["access_token"]
        staff = {"Authorization": f"Bearer {token}"}
        session = _start(http, codes[0])
        assert http.get("/api/v1/cases", headers=staff).status_code == 200
        with captured_logs() as records:
            cluster.stop()
            down = [
                http.post("/api/v1/student/sessions", json={"access_code": codes[1]}),
                _submit(http, session, "key-1"),  # a write
                http.get("/api/v1/cases", headers=staff),  # the staff guard's own session
            ]
            for r in down:
                _unavailable(r, "database_unavailable", "5")
            page = http.get(f"/s/{codes[1]}", headers={"Accept": "text/html"})
            _unavailable_page(page, "5")
            assert http.get("/healthz").status_code == 200
        lines = _http_lines(records)
        assert [r.levelno for r in lines] == [logging.WARNING] * 4, [r.getMessage() for r in lines]
        assert all("-> 503 database_unavailable" in r.getMessage() for r in lines)
        _no_traceback(records)

        cluster.start()  # the same app and client, no restart: the pool reconnects
        assert _start(http, codes[1])["session_id"]
        assert _submit(http, session, "key-1").status_code == 201
        assert http.get("/api/v1/cases", headers=staff).status_code == 200
        assert http.get(f"/s/{codes[2]}", headers={"Accept": "text/html"}).status_code in (
            200,
            303,
        )


# --- a connection lost in the middle of a transaction -----------------------------------------

WRITTEN = ("responses", "scores", "triage_results", "idempotency_records")


async def _counts(conn: Any, session_id: uuid.UUID) -> dict[str, int]:
    out = {}
    for table in WRITTEN:
        out[table] = int(
            await conn.fetchval(f"SELECT COUNT(*) FROM {table} WHERE session_id = $1", session_id)
        )
    return out


def test_a_connection_lost_mid_transaction_writes_nothing_and_the_retry_lands_once(
    private_pg: tuple[PrivatePostgres, str],
) -> None:
    import asyncpg

    cluster, template = private_pg
    url = cluster.url(cluster.new_database(template))
    settings = make_settings(url, db_pool_timeout_s=2.0)
    codes = seed(settings, now=T0).access_codes
    app = create_app(settings, clock=ManualClock(T0))
    dsn = url.replace("postgresql://", "postgres://", 1)

    async def scenario(base: str) -> list[logging.LogRecord]:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            r = await http.post("/api/v1/student/sessions", json={"access_code": codes[0]})
            session = r.json()
            sid = uuid.UUID(session["session_id"])
            headers = {
                "Authorization": f"Bearer {session['session_token']}",
                "Idempotency-Key": "key-1",
            }
            body = {"answers": battery_answers()}
            path = f"/api/v1/student/sessions/{sid}/submission"
            admin = await asyncpg.connect(dsn)
            holder = await asyncpg.connect(dsn)
            try:
                # Hold the access code's row: the submission writes its rows, then waits to
                # mark the code used — in the middle of its transaction.
                hold = holder.transaction()
                await hold.start()
                await holder.execute(
                    "SELECT 1 FROM access_codes WHERE id = (SELECT access_code_id FROM"
                    " screening_sessions WHERE id = $1) FOR UPDATE",
                    sid,
                )
                with captured_logs() as records:
                    pending = asyncio.create_task(http.post(path, headers=headers, json=body))
                    pid = await _lock_waiter(admin, exclude=holder.get_server_pid())
                    written = {
                        row["relation"]
                        for row in await admin.fetch(
                            "SELECT relation::regclass::text AS relation FROM pg_locks "
                            "WHERE pid = $1 AND mode = 'RowExclusiveLock' AND relation IS NOT NULL",
                            pid,
                        )
                    }
                    assert {"responses", "scores", "triage_results"} <= written, written
                    assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
                    lost = await pending
                _unavailable(lost, "database_unavailable", "5")
                # Nothing half-written: the rows it had inserted went with its transaction.
                assert await _counts(admin, sid) == dict.fromkeys(WRITTEN, 0)
                status = "SELECT status FROM screening_sessions WHERE id = $1"
                assert await admin.fetchval(status, sid) != "submitted"
                await hold.rollback()

                first = await http.post(path, headers=headers, json=body)
                again = await http.post(path, headers=headers, json=body)
                assert first.status_code == again.status_code == 201, first.text
                assert first.json() == again.json()
                counts = await _counts(admin, sid)
                assert counts["idempotency_records"] == 1 and counts["triage_results"] == 1
                assert counts["responses"] == counts["scores"] == 3  # one per instrument
                assert await admin.fetchval(status, sid) == "submitted"
            finally:
                await holder.close()
                await admin.close()
            return records

    with live_server(app) as base:
        records = asyncio.run(scenario(base))
    lines = _http_lines(records)
    assert [r.levelno for r in lines] == [logging.WARNING], [r.getMessage() for r in lines]
    assert "-> 503 database_unavailable" in lines[0].getMessage()
    _no_traceback(records)


async def _lock_waiter(admin: Any, *, exclude: int) -> int:
    """The backend of this database waiting for a row lock (the request's)."""
    for _ in range(500):
        pid = await admin.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> $1 LIMIT 1",
            exclude,
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.02)
    raise AssertionError("the submission never waited for the held row")


# --- overload ---------------------------------------------------------------------------------


def test_overload_is_refused_at_once_while_held_requests_finish(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "runxin.db"
    shutil.copyfile(sqlite_template, path)
    settings = make_settings(f"sqlite:///{path}", max_in_flight=4)
    codes = seed(settings, now=T0).access_codes
    app = create_app(settings, clock=ManualClock(T0))
    limit: InFlightLimit = app.state[IN_FLIGHT_STATE]
    with live_server(app) as base, httpx.Client(base_url=base, timeout=20) as http:
        sessions = [_start(http, code) for code in codes[:5]]
        # Another connection holds SQLite's write lock: submissions queue for it, in flight.
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        released = False
        with ThreadPoolExecutor(4) as pool, captured_logs() as records:
            try:

                def submit(i: int) -> httpx.Response:
                    with httpx.Client(base_url=base, timeout=20) as own:
                        return _submit(own, sessions[i], f"key-{i}")

                held = [pool.submit(submit, i) for i in range(4)]
                for _ in range(500):
                    if limit.in_flight == 4:
                        break
                    time.sleep(0.02)
                assert limit.in_flight == 4 and not any(f.done() for f in held)

                refused = _submit(http, sessions[4], "key-4")
                _unavailable(refused, "overloaded", "2")
                page = http.get("/", headers={"Accept": "text/html"})
                _unavailable_page(page, "2")
                for _ in range(3):
                    assert http.get("/healthz").json() == {"status": "ok"}
                assert limit.in_flight == 4 and limit.refused == 2
                assert not any(f.done() for f in held), "the held requests are still waiting"
            finally:
                blocker.execute("ROLLBACK")
                released = True
            assert [f.result().status_code for f in held] == [201] * 4
            # A reply reaches the client just before its request leaves the count.
            for _ in range(500):
                if limit.in_flight == 0:
                    break
                time.sleep(0.01)
        assert released and limit.in_flight == 0

        retried = _submit(http, sessions[4], "key-4")  # the refused one, same key
        replay = _submit(http, sessions[4], "key-4")
        assert retried.status_code == replay.status_code == 201
        assert retried.json() == replay.json()
    with sqlite3.connect(path) as db:
        for session in sessions:
            sid = uuid.UUID(session["session_id"]).hex
            rows = db.execute(
                "SELECT (SELECT COUNT(*) FROM idempotency_records WHERE session_id = ?),"
                " (SELECT COUNT(*) FROM triage_results WHERE session_id = ?)",
                (sid, sid),
            ).fetchone()
            assert rows == (1, 1), (session["session_id"], rows)
    lines = _http_lines(records)
    # One WARNING when refusing began (the 2nd refusal adds none), one INFO when it ended.
    assert [r.levelno for r in lines] == [logging.WARNING, logging.INFO]
    assert "-> 503 overloaded" in lines[0].getMessage()
    assert "2 were refused" in lines[1].getMessage()
    _no_traceback(records)


# --- what is not a database outage --------------------------------------------------------------


def test_a_programming_error_is_still_a_500(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad SQL reaches the handler as the database's own error (SQLite: OperationalError, like
    a locked database; PostgreSQL: ProgrammingError); a bug that raises an OS-level connection
    error outside the database layer is no outage either. Both stay 500, logged at ERROR with
    their traceback."""
    settings = make_settings(database_url)
    codes = seed(settings, now=T0).access_codes

    async def bad_sql(db: Any, *_: Any, **__: Any) -> Any:
        await db.execute(text("SELECT * FROM no_such_table"))

    async def not_the_database(*_: Any, **__: Any) -> Any:
        raise ConnectionRefusedError("raised by the application, not by a driver")

    app = create_app(settings, clock=ManualClock(T0))
    with app_client(app) as http, captured_logs() as records:
        for broken in (bad_sql, not_the_database):
            monkeypatch.setattr(screening, "start_session", broken)
            r = http.post("/api/v1/student/sessions", json={"access_code": codes[0]})
            assert r.status_code == 500, r.text
            assert r.json()["type"] == "urn:runxin:problem:internal"
            assert "retry-after" not in r.headers
    lines = _http_lines(records)
    assert [r.levelno for r in lines] == [logging.ERROR] * 2
    assert all(r.exc_info is not None for r in lines)


def test_which_failures_are_a_database_outage(tmp_path: Path) -> None:
    """Real errors from the real drivers, classified."""
    path = tmp_path / "x.db"
    engine = sqlalchemy.create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": 0},
        poolclass=sqlalchemy.pool.QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.01,
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")

    def error_of(statement: str) -> BaseException:
        with pytest.raises(sa_exc.DBAPIError) as caught, engine.begin() as conn:
            conn.exec_driver_sql(statement)
        return caught.value

    # Programming errors and constraint violations: not an outage.
    assert unavailable_code(error_of("SELECT * FROM no_such_table")) is None
    assert unavailable_code(error_of("INSERT INTO t VALUES (1)")) is None
    assert unavailable_code(ValueError("a bug")) is None
    assert unavailable_code(FileNotFoundError("a bug that is an OSError")) is None
    try:
        raise ConnectionResetError("raised outside the database layer")
    except ConnectionResetError as exc:
        assert unavailable_code(exc) is None

    # SQLite's write lock held past the busy timeout (here 0).
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        locked = error_of("INSERT INTO t VALUES (2)")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert unavailable_code(locked) == "database_unavailable"

    # Every pooled connection busy past pool_timeout: overloaded, not down.
    with engine.connect():
        with pytest.raises(sa_exc.TimeoutError) as timeout:
            engine.connect()
        assert unavailable_code(timeout.value) == "overloaded"
    engine.dispose()

    # PostgreSQL not listening: the connection is refused (asyncpg, through SQLAlchemy).
    async def refused() -> Exception:
        pg = create_engine(f"postgresql://postgres@127.0.0.1:{_free_port()}/x")
        try:
            async with pg.connect():
                pass
        except Exception as exc:
            return exc
        finally:
            await pg.dispose()
        raise AssertionError("connected to a port nobody listens on")

    down = run(refused())
    assert unavailable_code(down) == "database_unavailable"
    assert unavailable_code(ExceptionGroup("cleanup", [down])) == "database_unavailable"
    assert unavailable_code(ExceptionGroup("cleanup", [down, ValueError("bug")])) is None


def test_the_settings_and_the_engine_options() -> None:
    env = {"RUNXIN_MAX_IN_FLIGHT": "32", "RUNXIN_DB_POOL_TIMEOUT_S": "2.5"}
    settings = Settings.from_env(env)
    assert (settings.max_in_flight, settings.db_pool_timeout_s) == (32, 2.5)
    defaults = Settings.from_env({})
    assert (defaults.max_in_flight, defaults.db_pool_timeout_s) == (256, 5.0)
    for bad in (
        {"RUNXIN_MAX_IN_FLIGHT": "0"},
        {"RUNXIN_MAX_IN_FLIGHT": "many"},
        {"RUNXIN_DB_POOL_TIMEOUT_S": "0"},
        {"RUNXIN_DB_POOL_TIMEOUT_S": "soon"},
    ):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            Settings.from_env(bad)
    pg = Settings(database_url="postgresql://u@h/d", db_pool_timeout_s=3)
    assert engine_options(pg) == {"pool_timeout": 3, "connect_args": {"timeout": 3}}
    assert engine_options(Settings(database_url="sqlite:///:memory:")) == {
        "sqlite_synchronous": "full"
    }  # no pool to time out; SQLite's durability level (see test_request_tx.py)
    with pytest.raises(ValueError, match="at least 1"):
        InFlightLimit(0)
