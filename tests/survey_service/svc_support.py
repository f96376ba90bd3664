"""Real parts for service tests: a live HTTP server, a webhook receiver, a seeded database."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from litestar import Litestar

from survey_service.services.demo import DemoSeed, seed_demo
from survey_service.services.runtime import load_runtime
from survey_service.settings import Settings

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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


def make_settings(database_url: str, **kw: Any) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key-0123456789", **kw)


def seed(
    settings: Settings,
    *,
    now: datetime,
    students: int = 6,
    webhook_url: str | None = None,
    webhook_secret: str | None = "whsec-test",
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
                    staff_password="pw-test-123",
                    webhook_url=webhook_url,
                    webhook_secret=webhook_secret,
                    now=now,
                )
        finally:
            await engine.dispose()

    return run(go())


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
