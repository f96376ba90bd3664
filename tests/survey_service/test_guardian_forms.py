"""Parent-report forms through a guardian link (issue 11), over real HTTP on SQLite and
PostgreSQL: a campaign's guardian_battery, guardian slips with their own codes, the guardian's
session through the API and the no-JavaScript pages, results attributed to the student and
triaged into the student's case, and the student's own session and completion kept apart."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from page_support import answer, no_scores, sql, text_of, uid
from svc_support import app_client, count_rows, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
PSC17_POSITIVE = {f"item{i}": 2 for i in range(1, 18)}  # total 34: screens positive
SLIP = re.compile(r"(?:学号|Student no\.) (\S+)</div>.*?<div class=\"code\">([^<]+)</div>", re.S)
AUDIENCE_ZH = "本问卷由家长/监护人填写，关于您的孩子"
AUDIENCE_EN = "This questionnaire is for the parent or guardian, about your child"


@dataclass
class Env:
    http: httpx.Client
    database_url: str
    _token: str | None = None

    def lead(self) -> dict[str, str]:
        if self._token is None:
            r = self.http.post(
                "/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"}
            )
            self._token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def create(self, batteries: list[dict[str, Any]], **fields: Any) -> httpx.Response:
        body = {
            "name": "秋季普查（含家长问卷）",
            "school_year": "2026-2027",
            "opens_at": T0.isoformat(),
            "closes_at": (T0 + timedelta(days=14)).isoformat(),
            "batteries": batteries,
            "languages": ["en"],
            **fields,
        }
        return self.http.post("/api/v1/campaigns", headers=self.lead(), json=body)

    def slips(self, campaign: str, class_id: str, **params: str) -> dict[str, str]:
        """Print a class's slips; returns student number → code."""
        r = self.http.post(
            f"/api/v1/campaigns/{campaign}/classes/{class_id}/slips",
            headers=self.lead(),
            params=params,
        )
        assert r.status_code == 200, r.text
        return dict(SLIP.findall(r.text))

    def coverage(self, campaign: str) -> dict[str, Any]:
        r = self.http.get("/api/v1/coverage", headers=self.lead(), params={"campaign_id": campaign})
        assert r.status_code == 200, r.text
        school: dict[str, Any] = r.json()["schools"][0]
        return school

    def non_completers(self, campaign: str) -> dict[str, dict[str, Any]]:
        r = self.http.get(f"/api/v1/campaigns/{campaign}/non-completers", headers=self.lead())
        assert r.status_code == 200, r.text
        return {n["student_number"]: n for n in r.json()}


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=12)  # DEMO-A: two students in each of its three classes
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=30, follow_redirects=True
    ) as http:
        yield Env(http, database_url)


def _campaign(env: Env) -> tuple[str, str]:
    """A campaign with PHQ-9 for the students and the PSC-17 for their guardians; consent
    from every guardian (recorded); returns (campaign id, a class id with two students)."""
    created = env.create(
        [{"grades": [8, 9], "instruments": ["phq9"]}],
        guardian_battery=["psc17"],
        consent_rule="guardian_all",
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["guardian_battery"] == ["psc17"]
    campaign: str = body["campaign_id"]
    for pupil in env.non_completers(campaign).values():
        r = env.http.post(
            f"/api/v1/campaigns/{campaign}/consents",
            headers=env.lead(),
            json={"student_id": pupil["student_id"], "status": "granted"},
        )
        assert r.status_code == 201, r.text
    classes = env.http.get(
        "/api/v1/coverage", headers=env.lead(), params={"campaign_id": campaign}
    ).json()["classes"]
    class_id = next(c["class_id"] for c in classes if c["invited"] == 2)
    return campaign, class_id


def _start(env: Env, code: str) -> dict[str, Any]:
    r = env.http.post("/api/v1/student/sessions", json={"access_code": code, "language": "en"})
    assert r.status_code in (200, 201), r.text
    started: dict[str, Any] = r.json()
    return started


def _submit(env: Env, started: dict[str, Any], answers: dict[str, Any]) -> httpx.Response:
    return env.http.post(
        f"/api/v1/student/sessions/{started['session_id']}/submission",
        headers={"Authorization": f"Bearer {started['session_token']}", "Idempotency-Key": "k1"},
        json={"answers": answers},
    )


def test_guardian_battery_is_accepted_and_checked(env: Env) -> None:
    before = run(count_rows(env.database_url, "campaigns"))
    # A self-report form in the guardian battery: refused, pointing back to batteries.
    r = env.create([{"grades": [8, 9], "instruments": ["phq9"]}], guardian_battery=["phq9"])
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
    errors = r.json()["errors"]
    assert [(e["code"], e["instrument"], e["in"]) for e in errors] == [
        ("respondent_not_parent", "phq9", "guardian_battery")
    ]
    assert "holds parent-report forms only" in r.json()["detail"]
    assert "put it in batteries instead" in r.json()["detail"]
    # The PSC-17 is for ages 4-16: refused for grade 11 (typically 16-17), like a student form.
    r = env.create([{"grades": [11], "instruments": ["who5"]}], guardian_battery=["psc17"])
    assert r.status_code == 422
    assert [(e["code"], e["instrument"], e["grade"], e["in"]) for e in r.json()["errors"]] == [
        ("age_range", "psc17", 11, "guardian_battery")
    ]
    # Languages: the PSC-17 has no Chinese text, so zh-CN needs the explicit fallback.
    r = env.create(
        [{"grades": [8], "instruments": ["phq9"]}],
        guardian_battery=["psc17"],
        languages=["zh-CN", "en"],
    )
    assert r.status_code == 422
    assert ("language_missing", "psc17") in {
        (e["code"], e["instrument"]) for e in r.json()["errors"]
    }
    # Unknown and repeated ids are named.
    r = env.create(
        [{"grades": [8], "instruments": ["phq9"]}], guardian_battery=["psc17", "psc17", "nope"]
    )
    assert r.status_code == 422
    assert "'psc17' is listed twice" in r.json()["detail"]
    assert "guardian_battery: unknown instrument 'nope'" in r.json()["detail"]
    # A parent form in the student battery stays refused, with the pointer.
    r = env.create([{"grades": [8], "instruments": ["psc17"]}])
    assert r.status_code == 422
    assert "Put it in guardian_battery instead" in r.json()["detail"]
    assert run(count_rows(env.database_url, "campaigns")) == before, "nothing written"

    ok = env.create(
        [{"grades": [8, 9], "instruments": ["phq9"]}],
        guardian_battery=["psc17"],
        languages=["zh-CN", "en"],
        allow_language_fallback=True,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["guardian_battery"] == ["psc17"]
    assert ("language_fallback", "psc17") in {
        (w["code"], w["instrument"]) for w in ok.json()["warnings"]
    }
    # No guardian battery: no guardian slips to print; an unknown respondent is a 422.
    plain = env.create([{"grades": [8, 9], "instruments": ["phq9"]}])
    classes = env.http.get(
        "/api/v1/coverage", headers=env.lead(), params={"campaign_id": plain.json()["campaign_id"]}
    ).json()["classes"]
    url = f"/api/v1/campaigns/{plain.json()['campaign_id']}/classes/{classes[0]['class_id']}/slips"
    r = env.http.post(url, headers=env.lead(), params={"respondent": "parent"})
    assert r.status_code == 409 and r.json()["type"].endswith("no_guardian_battery")
    r = env.http.post(url, headers=env.lead(), params={"respondent": "teacher"})
    assert r.status_code == 422 and "respondent must be one of self, parent" in r.json()["detail"]


def test_a_guardian_answers_the_psc17_through_the_api(env: Env) -> None:
    campaign, class_id = _campaign(env)
    students = env.slips(campaign, class_id)
    guardians = env.slips(campaign, class_id, respondent="parent", lang="en")
    assert set(students) == set(guardians) and len(students) == 2
    assert not set(students.values()) & set(guardians.values()), "separate codes"
    slip = env.http.post(
        f"/api/v1/campaigns/{campaign}/classes/{class_id}/slips",
        headers=env.lead(),
        params={"respondent": "parent", "void_unused": "true"},
    ).text
    assert AUDIENCE_ZH in slip and AUDIENCE_EN in slip and "家长问卷登录条" in slip
    guardians = dict(SLIP.findall(slip))  # printing again voids the unused guardian codes...
    number = sorted(students)[0]
    pupil = env.non_completers(campaign)[number]
    student_id = pupil["student_id"]

    # ...and never the students' codes: the student's own session starts as before.
    own = _start(env, students[number])
    assert own["respondent"] == "self" and [b["instrument_id"] for b in own["battery"]] == ["phq9"]

    started = _start(env, guardians[number])
    assert started["respondent"] == "parent" and started["resumed"] is False
    assert [b["instrument_id"] for b in started["battery"]] == ["psc17"]
    assert started["session_id"] != own["session_id"] and started["saved_answers"] == {}

    # The guardian's token opens neither the student's session nor its answers, and back.
    saved = env.http.put(
        f"/api/v1/student/sessions/{own['session_id']}/answers",
        headers={"Authorization": f"Bearer {started['session_token']}"},
        json={"answers": {"phq9": {"item1": 3}}},
    )
    assert saved.status_code == 401
    wrong = env.http.post(
        f"/api/v1/student/sessions/{started['session_id']}/submission",
        headers={"Authorization": f"Bearer {own['session_token']}", "Idempotency-Key": "x"},
        json={"answers": {"psc17": PSC17_POSITIVE}},
    )
    assert wrong.status_code == 401
    # A student battery's answers do not fit the guardian's session.
    mixed = _submit(env, started, {"phq9": {"item1": 0}})
    assert mixed.status_code == 422

    sub = _submit(env, started, {"psc17": PSC17_POSITIVE})
    assert sub.status_code == 201, sub.text
    assert "about your child" in sub.json()["message"]["en"]
    assert not {"score", "tier", "band"} & set(sub.json())
    # Used: the guardian code cannot start again.
    again = env.http.post("/api/v1/student/sessions", json={"access_code": guardians[number]})
    assert again.status_code == 409

    rows = sql(
        env.database_url,
        "SELECT r.student_id, r.respondent, s.respondent, s.student_id FROM responses r "
        "JOIN screening_sessions s ON s.id = r.session_id WHERE r.instrument_id = 'psc17'",
    )
    assert [(uid(a), b, c, uid(d)) for a, b, c, d in rows] == [
        (student_id, "parent", "parent", student_id)
    ]
    scores = sql(env.database_url, "SELECT student_id, positive FROM scores")
    assert [(uid(a), bool(b)) for a, b in scores] == [(student_id, True)]
    cases = sql(
        env.database_url,
        "SELECT c.student_id, c.tier, t.session_id FROM cases c "
        "JOIN triage_results t ON t.id = c.triage_id",
    )
    assert [(uid(a), b, uid(c)) for a, b, c in cases] == [
        (student_id, "yellow", started["session_id"])
    ]

    # The student's completion is unaffected: still a non-completer, not counted as submitted.
    assert env.non_completers(campaign)[number]["state"] == "started"
    cover = env.coverage(campaign)
    assert (cover["started"], cover["submitted"]) == (1, 0)
    assert (cover["guardian_started"], cover["guardian_submitted"]) == (1, 1)

    # The counsellor's student file says who answered the parent-report form.
    token = env.http.post(
        "/api/v1/auth/login", json={"username": "counsellor1", "password": "pw-test-123"}
    ).json()["access_token"]
    file = env.http.get(
        f"/api/v1/students/{student_id}/file", headers={"Authorization": f"Bearer {token}"}
    )
    assert file.status_code == 200, file.text
    screenings = [e["summary"] for e in file.json()["entries"] if e["kind"] == "screening"]
    assert sorted(s["respondent"] for s in screenings) == ["parent", "self"]

    # The student's own answers, then: their case is the same one, updated.
    own_sub = _submit(env, own, {"phq9": {f"item{i}": 0 for i in range(1, 10)} | {"difficulty": 0}})
    assert own_sub.status_code == 201, own_sub.text
    assert number not in env.non_completers(campaign)
    cover = env.coverage(campaign)
    assert (cover["submitted"], cover["guardian_submitted"]) == (1, 1)
    open_cases = sql(
        env.database_url,
        "SELECT COUNT(*) FROM cases WHERE student_id = :s AND status <> 'closed'",
        s=uuid.UUID(student_id),
    )
    assert open_cases == [(1,)]


def test_a_guardian_answers_through_the_pages(env: Env) -> None:
    campaign, class_id = _campaign(env)
    students = env.slips(campaign, class_id)
    guardians = env.slips(campaign, class_id, respondent="parent")
    number = sorted(guardians)[1]
    student_id = env.non_completers(campaign)[number]["student_id"]
    code = guardians[number]

    notice = env.http.get(f"/s/{code}")
    assert notice.status_code == 200 and notice.url.path == f"/s/{code}/start"
    assert AUDIENCE_ZH in notice.text and "家长/监护人：开始前请阅读" in notice.text
    assert "不要让孩子代为填写" in notice.text
    english = env.http.get(f"/s/{code}/start?lang=en")
    assert AUDIENCE_EN in english.text and "Parent or guardian: before you start" in english.text
    assert "do not want to answer" in text_of(english.text)

    page = answer(env.http, code, 1, default=2)  # every PSC-17 item "Often"
    assert page.status_code == 200 and page.url.path == f"/s/{code}/review"
    assert AUDIENCE_EN in page.text
    thanks = env.http.post(f"/s/{code}/submit")
    assert thanks.status_code == 200 and thanks.url.path == f"/s/{code}/thanks"
    assert AUDIENCE_EN in thanks.text and "Your answers about your child have been received" in (
        thanks.text
    )
    assert no_scores(thanks.text) == []
    assert "Please go to an adult you trust now" not in thanks.text
    zh = env.http.get(f"/s/{code}/thanks?lang=zh-CN")
    assert AUDIENCE_ZH in zh.text and "谢谢您！" in zh.text

    rows = sql(
        env.database_url,
        "SELECT r.student_id, r.respondent FROM responses r WHERE r.instrument_id = 'psc17'",
    )
    assert [(uid(a), b) for a, b in rows] == [(student_id, "parent")]
    cases = sql(env.database_url, "SELECT student_id, tier, status FROM cases")
    assert [(uid(a), b) for a, b, _ in cases] == [(student_id, "yellow")]

    # In the same browser, the student's own code opens the student's session, not the
    # guardian's: the PHQ-9, no guardian wording, nothing of the guardian's answers.
    own = env.http.get(f"/s/{students[number]}?lang=en")
    assert own.status_code == 200 and own.url.path == f"/s/{students[number]}/start"
    assert "Before you start" in own.text and AUDIENCE_EN not in own.text
    part = env.http.get(f"/s/{students[number]}/q/1")
    assert part.status_code == 200 and "PHQ" in part.text and "psc" not in part.text.lower()
    assert 'value="2" checked' not in part.text  # none of the guardian's answers
    assert env.non_completers(campaign)[number]["state"] == "started"
    assert env.coverage(campaign)["submitted"] == 0
