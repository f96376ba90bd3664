"""Parts for the operations tests (backup and restore, upgrades): a database with real
activity in it, a row-by-row picture of every table, and an empty database beside another."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import MetaData, select
from svc_support import _pg_admin, app_client, battery_answers, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine
from survey_service.settings import database_urls

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai, a school day
#: Tables the activity of :func:`screen_a_red_case` must have filled.
ACTIVE_TABLES = (
    "schools",
    "students",
    "responses",
    "scores",
    "triage_results",
    "cases",
    "case_events",
    "outbox",
    "audit_log",
)


def screen_a_red_case(database_url: str) -> None:
    """Seed the demo, then through the real app: a student submits a battery with an acute
    ASQ (a red case, its notifications in the outbox), and the counsellor signs in and
    acknowledges the case (audit rows)."""
    settings = make_settings(database_url)
    demo = seed(settings, now=T0, webhook_url="http://127.0.0.1:9/hook")
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=10) as http:
        started = http.post(
            "/api/v1/student/sessions",
            json={"access_code": demo.access_codes[0], "language": "zh-CN"},
        )
        assert started.status_code == 201, started.text
        session = started.json()
        submitted = http.post(
            f"/api/v1/student/sessions/{session['session_id']}/submission",
            headers={
                "Authorization": f"Bearer {session['session_token']}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
            json={"answers": battery_answers({"q1": 1, "q2": 0, "q3": 1, "q4": 0, "q5": 1})},
        )
        assert submitted.status_code == 201, submitted.text
        login = http.post(
            "/api/v1/auth/login", json={"username": "counsellor1", "password": "pw-test-123"}
        )
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        (case,) = http.get("/api/v1/cases", headers=auth).json()["items"]
        assert case["tier"] == "red"
        ack = http.post(
            f"/api/v1/cases/{case['case_id']}/acknowledge",
            headers=auth,
            json={"note": "spoke with the student"},
        )
        assert ack.status_code == 200, ack.text


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(database_url: str) -> Snapshot:
    """Every table (reflected from the database itself) and its rows, sorted."""

    def grab(sync: Any) -> Snapshot:
        metadata = MetaData()
        metadata.reflect(sync)
        return {
            name: sorted((tuple(row) for row in sync.execute(select(table))), key=repr)
            for name, table in metadata.tables.items()
        }

    async def go() -> Snapshot:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(grab)
        finally:
            await engine.dispose()

    return run(go())


@contextmanager
def empty_database(beside: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database of the same kind as ``beside``: a SQLite file not
    created yet in ``folder``, or a PostgreSQL database created (and dropped afterwards) on
    the same server."""
    if database_urls(beside).dialect == "sqlite":
        yield f"sqlite:///{folder / f'empty-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"runxin_t_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(beside)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    run(
        _pg_admin(
            beside,
            f'CREATE DATABASE "{name}"',
            f'ALTER DATABASE "{name}" SET synchronous_commit = off',
        )
    )
    try:
        yield url
    finally:
        run(_pg_admin(beside, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
