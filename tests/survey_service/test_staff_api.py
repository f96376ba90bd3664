"""Staff API over real HTTP: login, scoping between schools, queue order, acknowledge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from page_support import sql
from svc_support import app_client, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _answers(asq: dict[str, int | None], phq9: int = 0, gad: int = 0) -> dict[str, object]:
    phq: dict[str, int | None] = {f"item{i}": 0 for i in range(1, 10)}
    phq.update(difficulty=0)
    for i in range(1, 10):
        if phq9 > 0:
            take = min(3, phq9) if i != 9 else 0
            phq[f"item{i}"] = take
            phq9 -= take
    g: dict[str, int | None] = {f"item{i}": 0 for i in range(1, 8)}
    for i in range(1, 8):
        take = min(3, gad)
        g[f"item{i}"] = take
        gad -= take
    return {"answers": {"phq9": phq, "gad7": g, "asq": asq}}


def _screen(http: httpx.Client, code: str, body: object) -> None:
    s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
    r = http.post(
        f"/api/v1/student/sessions/{s['session_id']}/submission",
        headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
        json=body,
    )
    assert r.status_code == 201, r.text


def _login(http: httpx.Client, username: str, password: str = "pw-test-123") -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_queue_scoping_order_and_acknowledge(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0, students=8)
    clock = ManualClock(T0)
    # codes[0..2] are school A (DEMO-A), codes[3..5] school B, codes[6..7] school A again.
    with app_client(create_app(settings, clock=clock), timeout=10) as http:
        _screen(
            http, seeded.access_codes[0], _answers({"q1": 0, "q2": 0, "q3": 0, "q4": 0}, gad=11)
        )  # yellow
        clock.advance(timedelta(minutes=1))
        _screen(
            http, seeded.access_codes[1], _answers({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0})
        )  # orange (suicide)
        clock.advance(timedelta(minutes=1))
        _screen(
            http, seeded.access_codes[2], _answers({"q1": 1, "q2": 1, "q3": 1, "q4": 0, "q5": 1})
        )  # red
        _screen(http, seeded.access_codes[6], _answers({"q1": 0, "q2": 0, "q3": 0, "q4": 0}))
        _screen(
            http, seeded.access_codes[3], _answers({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1})
        )  # school B red

        a = _login(http, "counsellor1")
        queue = http.get("/api/v1/cases", headers=a).json()
        tiers = [c["tier"] for c in queue["items"]]
        assert tiers == ["red", "orange", "yellow"]  # by deadline, then tier — never by score
        deadlines = [c["acknowledge_by"] for c in queue["items"]]
        assert deadlines == sorted(deadlines)
        assert "score" not in str(queue).lower()
        assert all(c["reasons"] for c in queue["items"])

        b = _login(http, "counsellor2")
        b_queue = http.get("/api/v1/cases", headers=b).json()
        assert [c["tier"] for c in b_queue["items"]] == ["red"]
        # Another school's case does not exist for this counsellor: 404, not 403.
        foreign = queue["items"][0]["case_id"]
        r = http.post(f"/api/v1/cases/{foreign}/acknowledge", headers=b)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert http.post(f"/api/v1/cases/{uuid.uuid4()}/acknowledge", headers=a).status_code == 404

        district = http.get("/api/v1/cases", headers=_login(http, "district1")).json()
        assert district["count"] == 4

        assert http.get(f"/api/v1/cases/{foreign}", headers=b).status_code == 404
        detail = http.get(f"/api/v1/cases/{foreign}", headers=a).json()
        assert detail["case"]["tier"] == "red"
        assert [t["kind"] for t in detail["tasks"]]  # deadlines from the policy
        assert [e["kind"] for e in detail["events"]] == ["opened"]
        assert "answers" not in str(detail)

        ok = http.post(f"/api/v1/cases/{foreign}/acknowledge", headers=a)
        assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"
        again = http.post(f"/api/v1/cases/{foreign}/acknowledge", headers=a)
        assert again.status_code == 409

        actions = [a for (a,) in sql(database_url, "SELECT action FROM audit_log")]
        reads = [a for a in actions if a != "access.denied" and not a.startswith("login")]
        assert len(reads) == 5  # every list, read and acknowledge; refused ones read nothing
        assert actions.count("access.denied") == 3  # each refusal is audited as a denial


def test_login_and_token_errors(database_url: str) -> None:
    settings = make_settings(database_url, staff_token_ttl_s=60)
    seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=10) as http:
        bad = http.post("/api/v1/auth/login", json={"username": "counsellor1", "password": "no"})
        assert bad.status_code == 401
        assert bad.headers["content-type"].startswith("application/problem+json")
        ghost = http.post("/api/v1/auth/login", json={"username": "ghost", "password": "no"})
        assert ghost.status_code == 401 and ghost.json()["detail"] == bad.json()["detail"]
        assert http.get("/api/v1/cases").status_code == 401
        assert (
            http.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
        )
        auth = _login(http, "counsellor1")
        assert http.get("/api/v1/cases", headers=auth).status_code == 200
        clock.advance(timedelta(seconds=61))
        assert http.get("/api/v1/cases", headers=auth).status_code == 401
