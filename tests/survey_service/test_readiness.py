"""``GET /readyz`` (issue 14): ready only with the database, the schema at head and a live
worker heartbeat; otherwise 503 naming the failing check, and no data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import select
from svc_support import app_client, make_settings, run

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import WorkerHeartbeat, create_engine, create_session_factory, upgrade
from survey_service.db._migrate import MIGRATIONS_DIR
from survey_service.observability.heartbeat import PRUNE_AFTER, Heartbeat
from survey_service.settings import Settings, SettingsError

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


async def _beat(database_url: str, now: datetime) -> None:
    engine = create_engine(database_url)
    try:
        beat = Heartbeat("worker-test", started_at=now, max_age_s=120)
        assert await beat.beat(create_session_factory(engine), now)
    finally:
        await engine.dispose()


def test_ready_only_while_a_worker_beats(database_url: str) -> None:
    settings = make_settings(database_url)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        r = http.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {
            "status": "not_ready",
            "checks": {"database": "ok", "migrations": "ok", "dispatcher": "never_beat"},
            "failing": ["dispatcher"],
        }
        run(_beat(database_url, T0))
        r = http.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ready" and r.headers["cache-control"] == "no-store"
        clock.advance(timedelta(seconds=121))
        r = http.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["dispatcher"] == "stale"
        assert http.get("/healthz").status_code == 200  # alive all along


def test_a_database_behind_the_code_is_not_ready(tmp_path: Path) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    previous = ScriptDirectory.from_config(config).get_revision(head).down_revision
    assert isinstance(previous, str)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, previous)
    with app_client(create_app(make_settings(url), clock=ManualClock(T0))) as http:
        r = http.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"] == {
        "database": "ok",
        "migrations": "behind",
        "dispatcher": "not_checked",
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreachable_database_is_named_and_nothing_else_leaks(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "no-such-dir"
    folder.mkdir()
    gone = create_engine(f"sqlite:///{folder / 'runxin.db'}")
    folder.rmdir()  # the database's folder disappears (a lost mount): nothing can be opened
    # The app starts on a good database (it loads its catalogue), then loses it.
    app = create_app(make_settings(database_url), clock=ManualClock(T0))
    with app_client(app) as http:
        app.state.session_factory = create_session_factory(gone)
        r = http.get("/readyz")
    run(gone.dispose())
    assert r.status_code == 503
    body = r.json()
    assert body["checks"]["database"] == "unreachable" and body["failing"][0] == "database"
    assert "no-such-dir" not in r.text and "sqlite" not in r.text.lower()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_busy_worker_beats_at_most_every_quarter_of_the_age(database_url: str) -> None:
    """One upserted row per worker, written at most every max_age / 4; rows of workers gone
    a week are pruned by a live worker's beat."""

    async def scenario() -> list[tuple[str, datetime]]:
        engine = create_engine(database_url)
        try:
            sessions = create_session_factory(engine)
            gone = Heartbeat("worker-gone", started_at=T0, max_age_s=120)
            assert await gone.beat(sessions, T0)
            beat = Heartbeat("worker-1", started_at=T0, max_age_s=120)
            later = T0 + PRUNE_AFTER + timedelta(seconds=1)
            assert await beat.beat(sessions, later)
            assert not await beat.beat(sessions, later + timedelta(seconds=29))  # every 30 s
            assert await beat.beat(sessions, later + timedelta(seconds=30))
            async with sessions() as db:
                rows = await db.execute(
                    select(WorkerHeartbeat.worker_id, WorkerHeartbeat.last_beat_at)
                )
                return [(w, at) for w, at in rows]
        finally:
            await engine.dispose()

    rows = run(scenario())
    assert rows == [("worker-1", T0 + PRUNE_AFTER + timedelta(seconds=31))]


def test_the_heartbeat_age_setting_is_checked() -> None:
    env = {"RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S": "300"}
    assert Settings.from_env(env).worker_heartbeat_max_age_s == 300
    assert Settings.from_env({}).worker_heartbeat_max_age_s == 120
    for bad in ("5", "two minutes"):
        with pytest.raises(SettingsError, match="RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S"):
            Settings.from_env({"RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S": bad})
