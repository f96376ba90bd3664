"""Installing a school's own definition, listing and showing instruments, re-scoring."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from svc_support import app_client, battery_answers, make_settings, run, seed
from svc_support import runxin_here as runxin

from survey_service.campaigns.rescore import rescore_campaign
from survey_service.db import Campaign, Score, create_engine, create_session_factory
from survey_service.services.instrument_library import installed_instruments
from survey_service.services.runtime import load_runtime

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _own_definition(
    tmp_path: Path,
    *,
    instrument_id: str = "school-gad",
    version: str = "1.0.0",
    title: str = "School anxiety check",
) -> Path:
    import instruments

    source = Path(instruments.__file__).parent / "definitions" / "gad7.json"
    doc = json.loads(source.read_text(encoding="utf-8"))
    doc["id"], doc["version"] = instrument_id, version
    doc["title"]["en"] = title
    path = tmp_path / f"{instrument_id}-{version}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_add_list_show_and_refusals(database_url: str, tmp_path: Path) -> None:
    env = {"RUNXIN_DATABASE_URL": database_url}
    own = _own_definition(tmp_path)
    added = runxin("instruments", "add", str(own), env=env)
    assert added.returncode == 0, added.stderr
    assert "school-gad version 1.0.0: installed" in added.stdout
    assert "already installed" in runxin("instruments", "add", str(own), env=env).stdout

    changed = _own_definition(tmp_path, title="Changed title")
    r = runxin("instruments", "add", str(changed), env=env)
    assert r.returncode == 1 and "raise the version" in r.stderr
    r = runxin("instruments", "add", str(_own_definition(tmp_path, instrument_id="gad7")), env=env)
    assert r.returncode == 1 and "shipped instrument" in r.stderr
    broken = tmp_path / "broken.json"
    doc = json.loads(own.read_text(encoding="utf-8"))
    doc["items"][0]["surprise"] = 1
    broken.write_text(json.dumps(doc), encoding="utf-8")
    r = runxin("instruments", "add", str(broken), env=env)
    assert r.returncode == 1 and "broken.json" in r.stderr and "items" in r.stderr
    r = runxin("instruments", "add", str(tmp_path / "missing.json"), env=env)
    assert r.returncode == 1 and "cannot read" in r.stderr

    newer = _own_definition(tmp_path, version="1.1.0", title="Newer")
    assert runxin("instruments", "add", str(newer), env=env).returncode == 0

    listed = runxin("instruments", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    by_id = {i["id"]: i for i in json.loads(listed.stdout)}
    assert {"phq-a", "gad7", "asq", "phq9", "school-gad"} <= set(by_id)
    assert by_id["school-gad"]["version"] == "1.1.0"  # the newest installed version is current
    shown = runxin("instruments", "show", "school-gad", "--json", env=env)
    assert json.loads(shown.stdout)["title"]["en"] == "Newer"
    text = runxin("instruments", "show", "gad7", env=env)
    assert "感觉紧张，焦虑或急切" in text.stdout and "licence" in text.stdout
    missing = runxin("instruments", "show", "nope", env=env)
    assert missing.returncode == 1 and "nope" in missing.stderr

    async def catalogue_ids() -> set[str]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as db:
                installed = await installed_instruments(db)
        finally:
            await engine.dispose()
        return set(load_runtime(make_settings(database_url), installed).catalogue.ids())

    assert "school-gad" in run(catalogue_ids())


def test_rescore_reports_changes_and_keeps_old_versions(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0, students=3)
    from survey_service.app import create_app
    from survey_service.clock import ManualClock

    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        s = http.post(
            "/api/v1/student/sessions", json={"access_code": seeded.access_codes[0]}
        ).json()
        answers = battery_answers(gad7=2)  # GAD-7 total 14: moderate
        r = http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": answers},
        )
        assert r.status_code == 201

    async def go(apply: bool, tamper: bool = False):  # type: ignore[no-untyped-def]
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as db, db.begin():
                if tamper:  # as if scored by an older definition with a different band
                    await db.execute(
                        update(Score)
                        .where(Score.instrument_id == "gad7")
                        .values(band="mild", instrument_version="0.9.0")
                    )
                campaign = (await db.scalars(select(Campaign).limit(1))).one()
                report = await rescore_campaign(
                    db, load_runtime(settings), campaign.id, apply=apply, now=T0
                )
                versions = sorted(
                    (
                        await db.scalars(
                            select(Score.instrument_version).where(Score.instrument_id == "gad7")
                        )
                    ).all()
                )
                return report, versions
        finally:
            await engine.dispose()

    report, _ = run(go(apply=False))
    assert report.responses == 3 and report.unchanged == 3 and not report.changed

    report, versions = run(go(apply=False, tamper=True))
    assert [c.instrument_id for c in report.changed] == ["gad7"]
    change = report.changed[0]
    assert (change.before.version, change.before.band) == ("0.9.0", "mild")
    assert (change.after.version, change.after.band) == ("1.0.0", "moderate")
    assert versions == ["0.9.0"]  # a dry run stores nothing

    report, versions = run(go(apply=True))
    assert len(report.changed) == 1 and report.applied
    assert versions == ["0.9.0", "1.0.0"]  # the old result keeps its version
    report, _ = run(go(apply=False))
    assert not report.changed


def test_rescore_cli_errors(database_url: str) -> None:
    env = {"RUNXIN_DATABASE_URL": database_url}
    r = runxin("rescore", "--campaign", "not-a-uuid", env=env)
    assert r.returncode == 1 and "UUID" in r.stderr
    r = runxin("rescore", "--campaign", str(uuid.uuid4()), env=env)
    assert r.returncode == 1 and "No campaign" in r.stderr
