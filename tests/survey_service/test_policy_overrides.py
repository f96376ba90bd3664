"""District and school policy layers in the running service."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from svc_support import app_client, battery_answers, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import Case, CaseTask, School, create_engine, create_session_factory
from survey_service.services.runtime import load_runtime
from triage import PolicyError

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
FORMAT = "runxin.triage-policy-override/1"


def _interview_layer(version: str, days: int) -> dict[str, object]:
    return {
        "format": FORMAT,
        "version": version,
        "tiers": [
            {
                "tier": "yellow",
                "pathways": [
                    {
                        "id": "elevated",
                        "tasks": [
                            {
                                "kind": "counsellor_interview",
                                "due": {"counting": "school", "duration": f"P{days}D"},
                            }
                        ],
                    }
                ],
            }
        ],
    }


def test_a_school_layer_changes_only_that_school(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "DEMO-A.json").write_text(json.dumps(_interview_layer("demo-a.1", 3)))
    settings = make_settings(database_url, policy_overrides_dir=str(tmp_path))
    rt = load_runtime(settings)
    assert rt.policy_for("DEMO-A").version.endswith("+demo-a.1")
    assert rt.policy_for("DEMO-B").version == rt.policy.version
    seeded = seed(settings, now=T0, students=4)  # codes 0 → DEMO-A, 3 → DEMO-B
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        for code in (seeded.access_codes[0], seeded.access_codes[3]):
            s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
            r = http.post(
                f"/api/v1/student/sessions/{s['session_id']}/submission",
                headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
                json={"answers": battery_answers(gad7=2)},
            )
            assert r.status_code == 201

    async def interview_due() -> dict[str, datetime]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as db:
                rows = (
                    await db.execute(
                        select(School.code, CaseTask.due_at)
                        .join(Case, Case.school_id == School.id)
                        .join(CaseTask, CaseTask.case_id == Case.id)
                        .where(CaseTask.kind == "counsellor_interview")
                    )
                ).all()
                return {code: due for code, due in rows}
        finally:
            await engine.dispose()

    due = run(interview_due())
    assert due["DEMO-A"] < due["DEMO-B"]  # 3 school days instead of 10


def test_a_malformed_layer_fails_start_up_naming_file_and_field(tmp_path: Path) -> None:
    bad = _interview_layer("x.1", 3)
    bad["colour"] = "red"
    (tmp_path / "DEMO-A.json").write_text(json.dumps(bad))
    with pytest.raises(PolicyError) as info:
        load_runtime(make_settings("sqlite:///unused.db", policy_overrides_dir=str(tmp_path)))
    assert "DEMO-A.json" in str(info.value) and "colour" in str(info.value)
