"""Parts for service tests: a live server or the app in process, a webhook receiver, a seed."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from litestar import Litestar
from litestar.testing import TestClient

from survey_service.services.demo import DemoSeed, seed_demo
from survey_service.services.runtime import load_runtime
from survey_service.settings import Settings, database_urls

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Delivery:
    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body
        self.json: dict[str, Any] = json.loads(body)


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records every POST and answers 200."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses: list[int] = []  # scripted answers, consumed first; then 200
        self.bodies: list[bytes] = []  # scripted bodies, consumed first; then empty
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.deliveries.append(
                    Delivery({k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                reply = receiver.bodies.pop(0) if receiver.bodies else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                return

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many dispatcher connections at once
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def events(self) -> list[str]:
        return [d.json["event"] for d in self.deliveries]


@contextmanager
def live_server(app: Litestar) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1; yields the base URL."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then; without it every response waits
    # ~40 ms for the client's delayed ACK (uvicorn writes headers and body separately).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def app_client(
    app: Litestar, *, timeout: float = 15, follow_redirects: bool = False
) -> Iterator[TestClient[Litestar]]:
    """Serve ``app`` in process, without a socket: litestar's test client (an ``httpx.Client``)
    with the app's lifespan run. For tests that only call the app; tests where a browser, a
    subprocess or a real peer must reach the app over TCP use :func:`live_server`."""
    with TestClient(app, timeout=timeout) as client:
        client.follow_redirects = follow_redirects
        yield client


@contextmanager
def another_client(
    client: TestClient[Litestar],
    *,
    timeout: float = 15,
    follow_redirects: bool = False,
    base_url: str | None = None,
) -> Iterator[TestClient[Litestar]]:
    """One more client (its own cookies) of the app that ``client`` serves, on the same event
    loop and without running the lifespan again. ``base_url`` ``https://...`` makes requests
    arrive as HTTPS, as behind a TLS proxy."""
    other: TestClient[Litestar] = TestClient(
        client.app, base_url=base_url or str(client.base_url), timeout=timeout
    )
    other.blocking_portal = client.blocking_portal
    other.follow_redirects = follow_redirects
    yield other  # nothing to close: the transport calls the app, the portal is ``client``'s


def make_settings(database_url: str, **kw: Any) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key-0123456789", **kw)


# Seeded templates, one per distinct seed (database kind and server, students, now, secret):
# the first ``seed`` seeds the test's database and keeps a copy; later ones copy it back.
_STAFF_PASSWORD = "pw-test-123"
_SeedKey = tuple[str, str, int, datetime, str]
_SEEDED: dict[_SeedKey, tuple[str, DemoSeed]] = {}
_SQLITE_TEMPLATES: list[tempfile.TemporaryDirectory[str]] = []


def seed(
    settings: Settings,
    *,
    now: datetime,
    students: int = 6,
    webhook_url: str | None = None,
    webhook_secret: str | None = "whsec-test",
) -> DemoSeed:
    """Seed the demo district into the test's (fresh) database; returns what
    :func:`seed_demo` returned.

    Seeding once per distinct (database kind, students, ``now``, secret key) into a template
    and copying that template (SQLite: the file; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``)
    gives every test its own copy at a fraction of the cost; the webhook URL and secret are
    then set on the copy. A database that is not fresh is seeded as before.
    """
    dialect = database_urls(settings.database_url).dialect
    key: _SeedKey = (
        dialect,
        _server_of(settings.database_url),
        students,
        now,
        settings.secret_key,
    )
    cached = _SEEDED.get(key)
    if not run(_is_fresh(settings.database_url)):
        return _seed_now(settings, now, students, webhook_url, webhook_secret)
    if cached is not None:
        template, demo = cached
        if dialect == "sqlite":
            _copy_sqlite(template, _sqlite_path(settings.database_url))
        else:
            name = _pg_name(settings.database_url)
            run(
                _pg_admin(
                    settings.database_url,
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
                    f'ALTER DATABASE "{name}" SET synchronous_commit = off',  # see conftest.py
                )
            )
        run(_set_webhook(settings.database_url, webhook_url, webhook_secret))
        return copy.deepcopy(demo)
    demo = _seed_now(settings, now, students, None, None)
    if dialect == "sqlite":
        folder = tempfile.TemporaryDirectory(prefix="runxin-seeded-")
        _SQLITE_TEMPLATES.append(folder)
        template = str(Path(folder.name) / "seeded.db")
        _copy_sqlite(_sqlite_path(settings.database_url), template)
    else:
        template = f"runxin_tmpl_seed_{uuid.uuid4().hex[:10]}"
        run(
            _pg_admin(
                settings.database_url,
                f'CREATE DATABASE "{template}" TEMPLATE "{_pg_name(settings.database_url)}"',
            )
        )
    _SEEDED[key] = (template, copy.deepcopy(demo))
    run(_set_webhook(settings.database_url, webhook_url, webhook_secret))
    return demo


def drop_seeded_templates() -> None:
    """Remove the seeded templates of this process (tests/conftest.py calls it at the end)."""
    for (dialect, _server, *_rest), (template, _demo) in list(_SEEDED.items()):
        if dialect == "postgresql":
            url = f"{_server}/{template}"
            with contextlib.suppress(Exception):  # best effort at the end of the session
                run(_pg_admin(url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    _SEEDED.clear()
    while _SQLITE_TEMPLATES:
        _SQLITE_TEMPLATES.pop().cleanup()


def _seed_now(
    settings: Settings,
    now: datetime,
    students: int,
    webhook_url: str | None,
    webhook_secret: str | None,
) -> DemoSeed:
    from survey_service.db import create_engine, create_session_factory

    async def go() -> DemoSeed:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as db, db.begin():
                return await seed_demo(
                    db,
                    load_runtime(settings),
                    students=students,
                    staff_password=_STAFF_PASSWORD,
                    webhook_url=webhook_url,
                    webhook_secret=webhook_secret,
                    now=now,
                )
        finally:
            await engine.dispose()

    return run(go())


def _server_of(database_url: str) -> str:
    """The URL without the database name (PostgreSQL) or ``sqlite``."""
    if database_urls(database_url).dialect == "sqlite":
        return "sqlite"
    return database_url.rsplit("/", 1)[0]


def _sqlite_path(database_url: str) -> str:
    return database_url.split(":///", 1)[1]


def _pg_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def _copy_sqlite(source: str, target: str) -> None:
    for suffix in ("-wal", "-shm"):
        Path(target + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, target)
    if Path(source + "-wal").exists():  # normally checkpointed when the engine closed
        shutil.copyfile(source + "-wal", target + "-wal")


async def _pg_admin(database_url: str, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database (outside any transaction)."""
    import asyncpg

    parts = urlsplit(database_url)
    admin = urlunsplit(("postgres", parts.netloc, "/postgres", parts.query, parts.fragment))
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        await conn.execute("SET synchronous_commit = off")  # throwaway databases: conftest.py
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _is_fresh(database_url: str) -> bool:
    """True when no table (but Alembic's) holds a row: a freshly migrated database."""
    from sqlalchemy import inspect, text

    from survey_service.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            probes = [
                f"SELECT 1 FROM {t}"  # table names from the schema itself
                for t in tables
                if t != "alembic_version"
            ]
            if not probes:
                return True
            found = await conn.execute(text(f"SELECT EXISTS ({' UNION ALL '.join(probes)})"))
            return not found.scalar_one()
    finally:
        await engine.dispose()


async def _set_webhook(
    database_url: str, webhook_url: str | None, webhook_secret: str | None
) -> None:
    """What ``seed_demo(webhook_url=..., webhook_secret=...)`` stores: the district's and
    every demo school's webhook."""
    if webhook_url is None and webhook_secret is None:
        return
    from sqlalchemy import text

    from survey_service.db import create_engine
    from survey_service.services.demo import DEMO_DISTRICT

    values = {"u": webhook_url, "s": webhook_secret, "d": DEMO_DISTRICT}
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE schools SET webhook_url = :u, webhook_secret = :s "
                    "WHERE district_id IN (SELECT id FROM districts WHERE code = :d)"
                ),
                values,
            )
            await conn.execute(
                text("UPDATE districts SET webhook_url = :u, webhook_secret = :s WHERE code = :d"),
                values,
            )
    finally:
        await engine.dispose()


async def count_rows(database_url: str, *tables: str) -> dict[str, int]:
    from sqlalchemy import text

    from survey_service.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {
                t: int((await conn.execute(text(f"SELECT COUNT(*) FROM {t}"))).scalar_one())
                for t in tables
            }
    finally:
        await engine.dispose()


RUNXIN = str(Path(sys.executable).parent / "runxin")


def runxin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``runxin`` command as a separate process."""
    full_env = {**os.environ, "RUNXIN_SECRET_KEY": "cli-test-secret", **(env or {})}
    return subprocess.run(
        [RUNXIN, *args], capture_output=True, text=True, timeout=120, env=full_env, check=False
    )


_ENV_LOCK = threading.Lock()


def runxin_here(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``runxin`` in this process (``survey_service.cli.main``): the same parser and code
    paths as the installed command, without a new interpreter's start-up (about a second per
    call). The environment is set for the call only. An unexpected exception propagates (the
    test fails with its traceback); tests of process-level behaviour (one-line errors instead of
    tracebacks, signals, the worker) use :func:`runxin`."""
    from survey_service import cli

    full_env = {"RUNXIN_SECRET_KEY": "cli-test-secret", **(env or {})}
    out, err = io.StringIO(), io.StringIO()

    outcome: list[int | BaseException] = []

    def call() -> None:
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                outcome.append(cli.main(list(args)))
        except SystemExit as exc:  # argparse: --help, a bad argument
            outcome.append(exc.code if isinstance(exc.code, int) else 1)
        except BaseException as exc:  # re-raised in the test's thread
            outcome.append(exc)

    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in full_env}
        os.environ.update(full_env)
        try:
            # A thread of its own: the command runs its own event loop (asyncio.run).
            worker = threading.Thread(target=call)
            worker.start()
            worker.join()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    (code,) = outcome
    if isinstance(code, BaseException):
        raise code
    return subprocess.CompletedProcess(
        ["runxin", *args], code, stdout=out.getvalue(), stderr=err.getvalue()
    )


def battery_answers(
    asq: dict[str, int | None] | None = None, *, gad7: int = 0
) -> dict[str, dict[str, int | None]]:
    """Answers for the demo battery: PHQ-9 all 0, GAD-7 every item ``gad7``, ASQ as given."""
    phq: dict[str, int | None] = {f"item{i}": 0 for i in range(1, 10)}
    phq.update(difficulty=0)
    return {
        "phq9": phq,
        "gad7": {f"item{i}": gad7 for i in range(1, 8)},
        "asq": asq if asq is not None else {"q1": 0, "q2": 0, "q3": 0, "q4": 0},
    }


def roster_csv(rows: list[list[str]]) -> bytes:
    """A minimal roster file (学号, 姓名, 性别, 年级, 班级) as Excel writes it: UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["学号", "姓名", "性别", "年级", "班级"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")
