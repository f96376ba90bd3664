"""Campaigns over real HTTP and the CLI: rosters, consent, batteries per grade, slips with
one-time codes, autosave and resume, quality flags, coverage and reminders."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from svc_support import app_client, make_settings, run, seed
from svc_support import runxin_here as runxin

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.services.runtime import load_runtime
from survey_service.workers import sweep

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
HEADER = ["学号", "姓名", "性别", "出生日期", "年级", "班级", "监护人电话", "心理委员"]


def _roster(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _rows(n: int, grade: int, prefix: str, birth_year: int) -> list[list[str]]:
    out = []
    for i in range(n):
        klass = f"{i % 2 + 1}班"
        out.append(
            [
                f"{prefix}{i:04d}",
                f"学生{prefix}{i}",
                "男" if i % 2 else "女",
                f"{birth_year}-03-0{i % 9 + 1}",
                str(grade),
                klass,
                f"1380013{i:04d}",
                "是" if i < 4 else "否",
            ]
        )
    return out


class Env:
    def __init__(self, http: httpx.Client, clock: ManualClock, database_url: str) -> None:
        self.http, self.clock, self.database_url = http, clock, database_url

    def auth(self, user: str) -> dict[str, str]:
        r = self.http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=2)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=30) as http:
        yield Env(http, clock, database_url)


def test_roster_cli_preview_apply_and_second_year(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=1)
    env = {"RUNXIN_DATABASE_URL": database_url}
    bad = _roster(
        tmp_path / "bad.csv",
        [
            ["S0001", "张三", "男", "2013-05-02", "初一", "1班", "13800138000", "是"],
            ["S0002", "", "女", "2013-05-02", "7", "1班", "13800138001", "否"],
            ["S0003", "王五", "X", "2013-05-02", "7", "1班", "123", "否"],
            ["S0001", "重复", "男", "2013-05-02", "7", "1班", "13800138002", "否"],
        ],
    )
    r = runxin("roster", "import", str(bad), "--school", "DEMO-A", env=env)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert any(re.match(r"row 3, column 姓名: ", x) for x in lines), lines
    assert any(re.match(r"row 4, column 性别: ", x) for x in lines), lines
    assert any(re.match(r"row 4, column 监护人电话: ", x) for x in lines), lines
    assert any(re.match(r"row 5, column 学号: ", x) for x in lines), lines
    assert "nothing was imported" in r.stderr
    # The count says what it counts: errors, and the rows they are in (issue 13).
    assert re.search(r"\b4 error\(s\) in 3 row\(s\)", r.stderr), r.stderr

    year1 = _roster(tmp_path / "y1.csv", _rows(6, 7, "S", 2013))
    preview = runxin("roster", "import", str(year1), "--school", "DEMO-A", "--json", env=env)
    assert preview.returncode == 0, preview.stderr
    assert json.loads(preview.stdout)["counts"]["create"] == 6
    applied = runxin("roster", "import", str(year1), "--school", "DEMO-A", "--apply", env=env)
    assert applied.returncode == 0 and "6 new" in applied.stdout
    again = runxin("roster", "import", str(year1), "--school", "DEMO-A", "--apply", env=env)
    assert "0 new" in again.stdout and "6 unchanged" in again.stdout

    # Next year: everyone moves up a grade, S0005 transferred out, one new student.
    rows = _rows(6, 8, "S", 2013)[:5]
    rows[0][1] = "学生S0改名"
    rows.append(["S0100", "新同学", "女", "2012-01-01", "8", "1班", "13800139999", "否"])
    year2 = _roster(tmp_path / "y2.csv", rows)
    # Incremental (issue 13): the same file, previewed, names no leaver at all.
    r = runxin(
        "roster",
        "import",
        str(year2),
        "--school",
        "DEMO-A",
        "--mode",
        "incremental",
        "--json",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["leavers"] == [] and json.loads(r.stdout)["mode"] == "incremental"
    r = runxin("roster", "import", str(year2), "--school", "DEMO-A", "--apply", "--json", env=env)
    report = json.loads(r.stdout)
    counts = report["counts"]
    assert counts["create"] == 1 and counts["update"] == 5
    # S0005 and the seeded student are missing from the file: listed, but marked as left
    # only when confirmed.
    assert counts["mark_left"] == 0 and report["leavers_unconfirmed"] == 2
    assert {x["student_number"] for x in report["leavers"]} == {"S0005", "202600001"}
    confirm = ["--apply", "--confirm-leavers", report["confirm_leavers"]]
    r = runxin("roster", "import", str(year2), "--school", "DEMO-A", *confirm, env=env)
    assert r.returncode == 0 and "2 marked as left" in r.stdout, r.stdout + r.stderr


def test_campaign_consent_batteries_slips_autosave_flags_coverage(env: Env, tmp_path: Path) -> None:
    lead = env.auth("lead1")
    # A roster with a grade 5 class (age 11: consent needed) and a grade 8 class.
    rows = _rows(4, 5, "P", 2015) + _rows(4, 8, "J", 2012)
    path = _roster(tmp_path / "roster.csv", rows)
    file = {"data": ("roster.csv", path.read_bytes(), "text/csv")}
    # The seeded students are not in the file: marked as left with the preview's confirmation.
    preview = env.http.post("/api/v1/schools/DEMO-A/roster", headers=lead, files=file)
    up = env.http.post(
        "/api/v1/schools/DEMO-A/roster",
        headers=lead,
        params={"apply": "true", "confirm_leavers": preview.json()["confirm_leavers"]},
        files=file,
    )
    assert up.status_code == 200, up.text
    assert up.json()["counts"]["create"] == 8
    bad = env.http.post(
        "/api/v1/campaigns",
        headers=lead,
        json={
            "name": "x",
            "school_year": "2026-2027",
            "opens_at": T0.isoformat(),
            "closes_at": (T0 - timedelta(days=1)).isoformat(),
            "batteries": [{"grades": [5], "instruments": ["nope"]}],
        },
    )
    assert bad.status_code == 422
    assert "closes_at" in bad.json()["detail"] and "nope" in bad.json()["detail"]
    created = env.http.post(
        "/api/v1/campaigns",
        headers=lead,
        json={
            "name": "2026 秋季普查",
            "school_year": "2026-2027",
            "opens_at": T0.isoformat(),
            "closes_at": (T0 + timedelta(days=14)).isoformat(),
            # Each battery fits its grades' ages (grades 4-6 are 9-12: no PHQ/GAD, set from 13);
            # WHO-5 and the ASQ have no Chinese text: given in English, as allowed here.
            "batteries": [
                {"grades": [4, 5, 6], "instruments": ["who5", "asq"]},
                {"grades": [8, 9], "instruments": ["phq9", "gad7", "asq"]},
            ],
            "consent_rule": "guardian_under_14",
            "allow_language_fallback": True,
        },
    )
    assert created.status_code == 201, created.text
    campaign = created.json()["campaign_id"]
    assert created.json()["allow_language_fallback"] is True
    assert {(w["code"], w["instrument"]) for w in created.json()["warnings"]} == {
        ("language_fallback", "who5"),
        ("language_fallback", "asq"),
    }

    classes = env.http.get(
        "/api/v1/coverage", headers=lead, params={"campaign_id": campaign}
    ).json()["classes"]
    by_name = {(c["grade"], c["class_name"]): c for c in classes}
    g5 = by_name[(5, "1班")]
    slips = env.http.post(
        f"/api/v1/campaigns/{campaign}/classes/{g5['class_id']}/slips", headers=lead
    )
    assert slips.status_code == 200 and slips.headers["content-type"].startswith("text/html")
    codes = re.findall(r"[23456789A-HJKMNP-Z]{5}-[23456789A-HJKMNP-Z]{5}", slips.text)
    codes = list(dict.fromkeys(codes))
    assert len(codes) == 2 and "<svg" in slips.text

    # Under 14 without consent: refused with a clear message.
    r = env.http.post("/api/v1/student/sessions", json={"access_code": codes[0]})
    assert r.status_code == 403 and r.json()["type"].endswith("consent_required")
    non = env.http.get(f"/api/v1/campaigns/{campaign}/non-completers", headers=lead).json()
    pupils = {n["student_number"]: n for n in non}
    first_number = next(
        n for n in pupils if pupils[n]["class_name"] == "1班" and pupils[n]["grade"] == 5
    )
    student_id = pupils[first_number]["student_id"]
    ok = env.http.post(
        f"/api/v1/campaigns/{campaign}/consents",
        headers=lead,
        json={"student_id": student_id, "status": "granted"},
    )
    assert ok.status_code == 201, ok.text

    started = None
    for code in codes:
        r = env.http.post("/api/v1/student/sessions", json={"access_code": code})
        if r.status_code == 201:
            started = r.json()
    assert started is not None
    assert [b["instrument_id"] for b in started["battery"]] == ["who5", "asq"]

    # Autosave, then resume on another device: the answers come back.
    auth = {"Authorization": f"Bearer {started['session_token']}"}
    url = f"/api/v1/student/sessions/{started['session_id']}"
    bad_save = env.http.put(
        f"{url}/answers", headers=auth, json={"answers": {"who5": {"item1": 9}}}
    )
    assert bad_save.status_code == 422 and "item1" in bad_save.json()["detail"]
    saved = env.http.put(
        f"{url}/answers", headers=auth, json={"answers": {"who5": {"item1": 1, "item2": 0}}}
    )
    assert saved.status_code == 200 and saved.json()["answers"]["who5"]["item1"] == 1
    code_used = next(
        c
        for c in codes
        if env.http.post("/api/v1/student/sessions", json={"access_code": c}).status_code
        in (200, 201)
    )
    resumed = env.http.post("/api/v1/student/sessions", json={"access_code": code_used}).json()
    assert resumed["resumed"] is True and resumed["saved_answers"]["who5"] == {
        "item1": 1,
        "item2": 0,
    }

    # Submit at once (speeding) — the result still triages.
    answers: dict[str, Any] = {
        "who5": {"item1": 3, "item2": 3, "item3": 3, "item4": 3, "item5": 3},  # 15: green
        "asq": {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": None},
    }
    sub = env.http.post(
        f"{url}/submission",
        headers={"Authorization": f"Bearer {resumed['session_token']}", "Idempotency-Key": "k"},
        json={"answers": answers},
    )
    assert sub.status_code == 201, sub.text
    file = env.http.get(f"/api/v1/students/{student_id}/file", headers=env.auth("counsellor1"))
    screening = next(
        e
        for e in file.json()["entries"]
        if e["kind"] == "screening" and e["summary"]["status"] == "submitted"
    )
    assert "speeding" in screening["summary"]["quality_flags"]

    # Reprinting would void the unused codes printed before: it says how many and asks first.
    unused = [c for c in codes if c != code_used]
    reprint = f"/api/v1/campaigns/{campaign}/classes/{g5['class_id']}/slips"
    asked = env.http.post(reprint, headers=lead)
    assert asked.status_code == 409 and asked.json()["type"].endswith("slips_would_void")
    assert (
        asked.json()["unused_codes"] == len(unused) and "失效" in asked.json()["message"]["zh-CN"]
    )
    r = env.http.post("/api/v1/student/sessions", json={"access_code": unused[0]})
    assert r.status_code != 404, "asking voids nothing"
    env.http.post(reprint, headers=lead, params={"void_unused": "true"})
    r = env.http.post("/api/v1/student/sessions", json={"access_code": unused[0]})
    assert r.status_code == 404

    report = env.http.get("/api/v1/coverage", headers=lead, params={"campaign_id": campaign}).json()
    school = report["schools"][0]
    assert (school["invited"], school["submitted"], school["started"]) == (8, 1, 1)
    assert school["consented"] == 1 + 4  # one grade-5 consent; grade 8 (age 14) needs none
    assert school["tiers"]["green"] is None  # 1 student: a small cell, suppressed
    district = env.http.get("/api/v1/coverage", headers=env.auth("district1")).json()
    assert district["scope"] == "district" and district["classes"] == []
    assert {s["school_code"] for s in district["schools"]} == {"DEMO-A", "DEMO-B"}


def test_morning_reminders_reach_head_teachers_once_a_day(env: Env) -> None:
    async def remind(at: datetime) -> int:
        settings = make_settings(env.database_url)
        engine = create_engine(env.database_url)
        try:
            stats = await sweep(
                create_session_factory(engine), settings, now=at, runtime=load_runtime(settings)
            )
            return stats.reminders
        finally:
            await engine.dispose()

    assert run(remind(T0)) == 0  # 10:00: not the reminder hour
    morning = datetime(2026, 9, 8, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai, a school day
    assert run(remind(morning)) == 2  # two demo classes with a non-completer each
    assert run(remind(morning + timedelta(minutes=10))) == 0
    saturday = datetime(2026, 9, 12, 0, 30, tzinfo=UTC)
    assert run(remind(saturday)) == 0
    items = env.http.get("/api/v1/me/notifications", headers=env.auth("headteacher1")).json()
    assert [i["event"] for i in items] == ["campaign.reminder"]
    assert items[0]["content"]["not_completed"] == 1
    assert "score" not in json.dumps(items).lower()
