"""Campaign validity (issue 11) over real HTTP on SQLite and PostgreSQL: age ranges by grade
and by roster birth dates, parent-report forms, languages without text, unvalidated
translations; the language each result was given in, stored and shown to staff."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from page_support import api_submit, sql, staff_login, uid
from svc_support import (
    another_client,
    app_client,
    battery_answers,
    count_rows,
    make_settings,
    run,
    seed,
)

from survey_service.app import create_app
from survey_service.campaigns.validity import grade_ages
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
TABLES = ("campaigns", "access_codes", "audit_log")
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}


@dataclass
class Env:
    http: TestClient[Litestar]
    database_url: str
    codes: list[str]

    token: str = ""

    def lead(self) -> dict[str, str]:
        # Signing in is itself audited (auth.login), so sign in once, before any count is taken.
        if not self.token:
            r = self.http.post(
                "/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"}
            )
            self.token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.token}"}

    def create(self, batteries: list[dict[str, Any]], **fields: Any) -> httpx.Response:
        body = {
            "name": "秋季普查",
            "school_year": "2026-2027",
            "opens_at": T0.isoformat(),
            "closes_at": (T0 + timedelta(days=14)).isoformat(),
            "batteries": batteries,
            **fields,
        }
        return self.http.post("/api/v1/campaigns", headers=self.lead(), json=body)

    def counts(self) -> dict[str, int]:
        return run(count_rows(self.database_url, *TABLES))


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0, students=4).access_codes
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=30) as http:
        env = Env(http, database_url, codes)
        env.lead()
        yield env


def _refused(env: Env, response: httpx.Response, before: dict[str, int]) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert env.counts() == before, "nothing is written when a campaign is refused"
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("invalid_campaign")
    return body


def test_grade_ages_follow_school_entry_at_six() -> None:
    assert grade_ages(1) == (6, 7)
    assert grade_ages(7) == (12, 13)
    assert grade_ages(12) == (17, 18)


def test_the_demo_battery_fits_the_demo_grades_and_birth_dates() -> None:
    import random

    from instruments import default_catalogue
    from survey_service.campaigns.validity import Battery, age_on, check_batteries
    from survey_service.services.demo import CLASSES, DEMO_BATTERY, demo_birth_date

    catalogue = default_catalogue()
    grades = sorted({grade for grade, _ in CLASSES})
    rng = random.Random(1)
    ages: dict[int, list[tuple[int, int]]] = {}
    for grade in grades:
        for _ in range(200):
            birth = demo_birth_date(T0, grade, rng)
            span = (age_on(birth, T0.date()), age_on(birth, (T0 + timedelta(days=30)).date()))
            ages.setdefault(grade, []).append(span)
    validity = check_batteries(
        [Battery(0, grades, [catalogue[i] for i in DEMO_BATTERY])],
        languages=["zh-CN", "en"],
        allow_language_fallback=True,
        student_ages=ages,
    )
    assert validity.problems == []
    assert [(w.code, w.instrument) for w in validity.warnings] == [("language_fallback", "asq")]


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_an_instrument_outside_its_age_range_is_refused_naming_instrument_grade_and_range(
    env: Env,
) -> None:
    before = env.counts()
    r = env.create(
        [
            {"grades": [1], "instruments": ["k10"]},  # issue 11: K10 (adults) for grade 1
            {"grades": [7], "instruments": ["gad7"]},  # and GAD-7 for 12-year-olds
        ],
        languages=["en"],
    )
    body = _refused(env, r, before)
    detail = body["detail"]
    assert "batteries[0]: k10 is for ages 18 and over" in detail
    assert "grade 1 students are typically aged 6–7" in detail
    assert "batteries[1]: gad7 is for ages 13 and over" in detail
    assert "grade 7 students are typically aged 12–13" in detail
    errors = {(e["instrument"], e["grade"]): e for e in body["errors"]}
    assert set(errors) == {("k10", 1), ("gad7", 7)}
    gad = errors[("gad7", 7)]
    assert (gad["code"], gad["battery"], gad["min_age"], gad["max_age"]) == (
        "age_range",
        1,
        13,
        120,
    )
    assert gad["ages"] == [12, 13] and gad["basis"] == "typical_grade_age"
    assert "gad7 适用于 13 岁及以上" in gad["message"]["zh-CN"]
    assert "7 年级学生通常为 12–13 岁" in gad["message"]["zh-CN"]
    assert "gad7 适用于 13 岁及以上" in body["message"]["zh-CN"]
    # The same instrument for a grade inside its range is accepted.
    ok = env.create([{"grades": [8, 9], "instruments": ["gad7"]}], languages=["en"])
    assert ok.status_code == 201, ok.text
    assert ok.json()["warnings"] == []


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_an_upper_age_limit_is_enforced_too(env: Env) -> None:
    before = env.counts()
    r = env.create([{"grades": [11, 12], "instruments": ["phq-a"]}], languages=["en"])
    body = _refused(env, r, before)
    assert [(e["instrument"], e["grade"]) for e in body["errors"]] == [("phq-a", 12)]
    assert (
        "phq-a is for ages 11–17, but grade 12 students are typically aged 17–18"
        in (body["detail"])
    )


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_roster_birth_dates_catch_a_student_younger_than_the_grade(
    env: Env, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["学号", "姓名", "性别", "出生日期", "年级", "班级"])
        writer.writerow(["Y001", "小明", "男", "2012-10-01", "8", "1班"])  # 13 on T0
        writer.writerow(["Y002", "小红", "女", "2014-06-01", "8", "1班"])  # skipped a year: 12
    up = env.http.post(
        "/api/v1/schools/DEMO-A/roster?apply=true",
        headers=env.lead(),
        files={"data": ("roster.csv", roster.read_bytes(), "text/csv")},
    )
    assert up.status_code == 200, up.text
    before = env.counts()
    r = env.create([{"grades": [8], "instruments": ["phq9", "gad7"]}], languages=["zh-CN"])
    body = _refused(env, r, before)
    assert {(e["instrument"], e["grade"], e["basis"]) for e in body["errors"]} == {
        ("phq9", 8, "roster_birth_dates"),
        ("gad7", 8, "roster_birth_dates"),
    }
    first = body["errors"][0]
    assert first["students"] == 1 and first["ages"] == [12, 12]
    assert "1 targeted grade 8 student will be aged 12 during the campaign" in body["detail"]
    assert "花名册中 8 年级有 1 名学生在筛查期间为 12 岁" in first["message"]["zh-CN"]


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_a_parent_report_form_is_refused_in_a_student_battery(env: Env) -> None:
    before = env.counts()
    r = env.create([{"grades": [4], "instruments": ["psc17"]}], languages=["en"])
    body = _refused(env, r, before)
    assert body["errors"] == [
        {
            "code": "respondent_not_student",
            "instrument": "psc17",
            "battery": 0,
            "respondent": "parent",
            "message": body["errors"][0]["message"],
        }
    ]
    detail = body["detail"]
    assert "psc17 is a parent-report form" in detail
    assert "answered by the student's parent or guardian, not by the student" in detail
    assert "Put it in guardian_battery instead" in detail
    assert "须由学生的家长或监护人作答" in body["message"]["zh-CN"]
    assert "请把它放入 guardian_battery" in body["message"]["zh-CN"]


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_a_language_without_text_needs_the_explicit_fallback(env: Env) -> None:
    battery = [{"grades": [8, 9], "instruments": ["phq9", "asq"]}]
    before = env.counts()
    body = _refused(env, env.create(battery, languages=["zh-CN", "en"]), before)
    assert [(e["code"], e["instrument"], e["language"]) for e in body["errors"]] == [
        ("language_missing", "asq", "zh-CN")
    ]
    assert "asq has no Chinese (zh-CN) text" in body["detail"]
    assert "allow_language_fallback" in body["detail"]
    assert "asq 没有中文（zh-CN）文本" in body["message"]["zh-CN"]

    # English only: every instrument has English text, nothing to allow.
    only_en = env.create(battery, languages=["en"])
    assert only_en.status_code == 201, only_en.text
    assert only_en.json()["warnings"] == []

    allowed = env.create(battery, languages=["zh-CN", "en"], allow_language_fallback=True)
    assert allowed.status_code == 201, allowed.text
    out = allowed.json()
    assert out["allow_language_fallback"] is True and out["languages"] == ["zh-CN", "en"]
    assert [(w["code"], w["instrument"], w["language"], w["status"]) for w in out["warnings"]] == [
        ("language_fallback", "asq", "zh-CN", "validated")
    ]
    assert "in English" in out["warnings"][0]["message"]["en"]
    assert "以英文作答" in out["warnings"][0]["message"]["zh-CN"]
    stored = sql(
        env.database_url,
        "SELECT allow_language_fallback FROM campaigns WHERE id = :id",
        id=uuid.UUID(out["campaign_id"]),
    )
    assert [bool(r[0]) for r in stored] == [True]


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_an_unvalidated_translation_is_a_warning(env: Env) -> None:
    r = env.create([{"grades": [4, 5, 6], "instruments": ["scared"]}], languages=["zh-CN"])
    assert r.status_code == 201, r.text
    warnings = r.json()["warnings"]
    assert [(w["code"], w["instrument"], w["language"], w["status"]) for w in warnings] == [
        ("language_unvalidated", "scared", "zh-CN", "unvalidated")
    ]
    assert "not validated" in warnings[0]["message"]["en"]
    assert "尚未经过验证" in warnings[0]["message"]["zh-CN"]


def test_each_result_stores_and_shows_the_language_it_was_given_in(env: Env) -> None:
    # The demo battery in Chinese: PHQ-9 and GAD-7 in validated Chinese, the ASQ in English.
    api_submit(env.http, env.codes[0], battery_answers(RED))  # red: a case opens
    rows = sql(env.database_url, "SELECT instrument_id, language, language_status FROM responses")
    assert sorted(rows) == [
        ("asq", "en", "validated"),
        ("gad7", "zh-CN", "validated"),
        ("phq9", "zh-CN", "validated"),
    ]
    case_id = uid(sql(env.database_url, "SELECT id FROM cases")[0][0])
    student_id = uid(sql(env.database_url, "SELECT student_id FROM cases")[0][0])
    with another_client(env.http, timeout=30, follow_redirects=True) as http:
        assert staff_login(http, "counsellor1").status_code == 200
        page = http.get(f"/staff/cases/{case_id}")
        assert page.status_code == 200, page.text
        assert "作答语言：中文（已验证）" in page.text
        assert "作答语言：英文（已验证）" in page.text
        assert 'data-instrument="asq" data-language="en" data-language-status="validated"' in (
            page.text
        )
        english = http.get(f"/staff/students/{student_id}?lang=en")
        assert "Language: Chinese (validated)" in english.text
        assert "Language: English (validated)" in english.text
        # A result given in an unvalidated translation is marked as such.
        sql(env.database_url, "UPDATE responses SET language_status = 'unvalidated'")
        page = http.get(f"/staff/cases/{case_id}?lang=zh-CN")
        assert "⚠ 作答语言：中文（未验证）" in page.text
    # The student file API carries the same for each result.
    token = env.http.post(
        "/api/v1/auth/login", json={"username": "counsellor1", "password": "pw-test-123"}
    ).json()["access_token"]
    file = env.http.get(
        f"/api/v1/students/{student_id}/file", headers={"Authorization": f"Bearer {token}"}
    )
    assert file.status_code == 200, file.text
    results = [
        (r["instrument_id"], r["language"], r["language_status"])
        for e in file.json()["entries"]
        if e["kind"] == "screening"
        for r in e["summary"].get("results", [])
    ]
    assert sorted(results) == [
        ("asq", "en", "unvalidated"),
        ("gad7", "zh-CN", "unvalidated"),
        ("phq9", "zh-CN", "unvalidated"),
    ]
