"""Care work over real HTTP: state machine, tier decisions, tasks, care group, plan,
observations, referrals, incidents, the student's file and transfers — scoped by school."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from svc_support import app_client, battery_answers, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import (
    Guardian,
    SchoolClass,
    StaffUser,
    create_engine,
    create_session_factory,
)

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai


class Env:
    def __init__(
        self, http: httpx.Client, codes: list[str], clock: ManualClock, database_url: str
    ) -> None:
        self.http = http
        self.codes = codes
        self.clock = clock
        self.database_url = database_url
        self._tokens: dict[str, str] = {}

    def auth(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.http.post(
                "/api/v1/auth/login", json={"username": username, "password": "pw-test-123"}
            )
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def screen(self, code_index: int, asq: dict[str, int | None], gad7: int = 0) -> str:
        s = self.http.post(
            "/api/v1/student/sessions", json={"access_code": self.codes[code_index]}
        ).json()
        r = self.http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": battery_answers(asq, gad7=gad7)},
        )
        assert r.status_code == 201, r.text
        cases = self.http.get("/api/v1/cases", headers=self.auth("counsellor1")).json()["items"]
        return str(cases[0]["case_id"])

    def case(self, case_id: str, user: str = "counsellor1") -> dict[str, Any]:
        r = self.http.get(f"/api/v1/cases/{case_id}", headers=self.auth(user))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def post(self, path: str, user: str, body: object | None = None) -> httpx.Response:
        return self.http.post(path, headers=self.auth(user), json=body)


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0, students=6)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=15) as http:
        yield Env(http, seeded.access_codes, clock, database_url)


def _ids(database_url: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as db:
                users = {u.username: u for u in (await db.scalars(select(StaffUser))).all()}
                classes = (await db.scalars(select(SchoolClass))).all()
                guardians = (await db.scalars(select(Guardian))).all()
                return {"users": users, "classes": classes, "guardians": guardians}
        finally:
            await engine.dispose()

    return run(go())


ACUTE = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
NON_ACUTE = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}


def test_state_machine_and_tier_decisions(env: Env) -> None:
    case_id = env.screen(0, NON_ACUTE)
    base = f"/api/v1/cases/{case_id}"
    illegal = env.post(f"{base}/actions", "counsellor1", {"action": "start_monitoring"})
    assert illegal.status_code == 409 and "open" in illegal.json()["detail"]
    for action, state in [
        ("acknowledge", "acknowledged"),
        ("start_assessment", "assessing"),
        ("start_intervention", "intervening"),
        ("start_monitoring", "monitoring"),
    ]:
        r = env.post(f"{base}/actions", "counsellor1", {"action": action, "note": "ok"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == state
    assert env.post(f"{base}/actions", "counsellor1", {"action": "close"}).status_code == 422
    # Lowering needs a counsellor and a reason; a school lead may raise.
    assert (
        env.post(f"{base}/tier", "counsellor1", {"tier": "yellow", "reason": ""}).status_code == 403
    )
    r = env.post(
        f"{base}/tier",
        "counsellor1",
        {"tier": "yellow", "reason": "Assessed in person; no current ideation."},
    )
    assert r.status_code == 200 and r.json()["tier"] == "yellow"
    assert env.post(f"{base}/tier", "lead1", {"tier": "orange", "reason": "x"}).status_code == 200
    done = env.post(
        f"{base}/actions",
        "counsellor1",
        {"action": "close", "note": "Stable for six weeks; care plan ended."},
    )
    assert done.status_code == 200 and done.json()["status"] == "closed"
    events = [e["kind"] for e in env.case(case_id)["events"]]
    assert events[:2] == ["opened", "state.acknowledge"] and "tier_decision" in events
    # Another school never sees it.
    assert env.post(f"{base}/actions", "counsellor2", {"action": "reopen"}).status_code == 404


def test_later_lower_screening_never_lowers_the_open_case(env: Env) -> None:
    case_id = env.screen(0, ACUTE)
    assert env.case(case_id)["case"]["tier"] == "red"
    # A teacher's mild concern about the same student does not lower anything.
    student_id = env.case(case_id)["case"]["student"]["student_id"]
    r = env.post(
        "/api/v1/observations",
        "counsellor1",
        {"student_id": student_id, "kind": "withdrawn", "severity": "concern"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["case_id"] == case_id
    assert env.case(case_id)["case"]["tier"] == "red"


def test_observation_imminent_danger_opens_a_red_case(env: Env) -> None:
    student_id = env.case(env.screen(0, {"q1": 0, "q2": 0, "q3": 0, "q4": 0}, gad7=2))["case"][
        "student"
    ]["student_id"]
    r = env.post(
        "/api/v1/observations",
        "counsellor1",
        {
            "student_id": student_id,
            "kind": "self_harm_talk",
            "severity": "imminent_danger",
            "note": "said goodbye to friends",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["tier"] == "red"
    assert env.case(r.json()["case_id"])["case"]["tier"] == "red"
    bad = env.post(
        "/api/v1/observations",
        "counsellor1",
        {"student_id": student_id, "kind": "x", "severity": "apocalyptic"},
    )
    assert bad.status_code == 422 and "severity" in bad.json()["detail"]
    other = env.post(
        "/api/v1/observations",
        "counsellor2",
        {"student_id": student_id, "kind": "x", "severity": "concern"},
    )
    assert other.status_code == 404


def test_tasks_records_care_group_plan_and_file(env: Env) -> None:
    ids = _ids(env.database_url)
    case_id = env.screen(0, NON_ACUTE)
    detail = env.case(case_id)
    kinds = {t["kind"] for t in detail["tasks"]}
    assert {"safety_assessment", "guardian_contact"} <= kinds
    student_id = detail["case"]["student"]["student_id"]

    task = next(t for t in _tasks(env, case_id) if t["kind"] == "safety_assessment")
    r = env.post(
        f"/api/v1/tasks/{task['task_id']}/complete",
        "counsellor1",
        {"note": "Brief safety assessment done; safe to go home with guardian."},
    )
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert (
        env.post(f"/api/v1/tasks/{task['task_id']}/complete", "counsellor1", {}).status_code == 409
    )

    head = ids["users"]["headteacher1"]
    r = env.post(
        f"/api/v1/cases/{case_id}/care-group",
        "counsellor1",
        {"role": "head_teacher", "staff_id": str(head.id)},
    )
    assert r.status_code == 201, r.text
    guardian = next(g for g in ids["guardians"] if str(g.student_id) == student_id)
    assert (
        env.post(
            f"/api/v1/cases/{case_id}/care-group",
            "counsellor1",
            {"role": "guardian", "guardian_id": str(guardian.id)},
        ).status_code
        == 201
    )
    assert (
        env.post(
            f"/api/v1/cases/{case_id}/care-group",
            "counsellor1",
            {"role": "guardian", "guardian_id": str(guardian.id)},
        ).status_code
        == 409
    )
    group = env.http.get(
        f"/api/v1/cases/{case_id}/care-group", headers=env.auth("counsellor1")
    ).json()
    assert sorted(m["role"] for m in group) == ["guardian", "head_teacher"]

    r = env.post(
        f"/api/v1/cases/{case_id}/records",
        "counsellor1",
        {"kind": "talk", "summary": "First one-to-one talk."},
    )
    assert r.status_code == 201, r.text
    assert (
        env.post(
            f"/api/v1/cases/{case_id}/records", "counsellor1", {"kind": "gossip", "summary": "x"}
        ).status_code
        == 422
    )

    plan = {
        "warning_signs": ["stops eating lunch"],
        "coping_steps": ["walk with a friend"],
        "contacts": [{"name": "Ms Wang", "relation": "counsellor", "phone": "12356"}],
        "means_safety": ["guardian keeps medicines locked"],
    }
    review = (T0 + timedelta(days=30)).date().isoformat()
    r = env.http.put(
        f"/api/v1/students/{student_id}/plan",
        headers=env.auth("counsellor1"),
        json={"content": plan, "review_on": review},
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    r = env.http.put(
        f"/api/v1/students/{student_id}/plan",
        headers=env.auth("counsellor1"),
        json={"content": plan, "review_on": review},
    )
    assert r.json()["version"] == 2
    past = env.http.put(
        f"/api/v1/students/{student_id}/plan",
        headers=env.auth("counsellor1"),
        json={"content": plan, "review_on": "2026-01-01"},
    )
    assert past.status_code == 422
    assert (
        env.http.get(f"/api/v1/students/{student_id}/plan", headers=env.auth("counsellor1")).json()[
            "version"
        ]
        == 2
    )

    file = env.http.get(f"/api/v1/students/{student_id}/file", headers=env.auth("counsellor1"))
    assert file.status_code == 200, file.text
    kinds = [e["kind"] for e in file.json()["entries"]]
    assert {"screening", "triage", "case", "case_event", "task", "care_record", "plan"} <= set(
        kinds
    )
    screening = next(e for e in file.json()["entries"] if e["kind"] == "screening")
    assert "results" in screening["summary"]
    times = [e["at"] for e in file.json()["entries"]]
    assert times == sorted(times)

    # The head teacher of the class reads the file without scores, answers or reasons.
    ht = env.http.get(f"/api/v1/students/{student_id}/file", headers=env.auth("headteacher1"))
    assert ht.status_code == 200, ht.text
    text = ht.text
    assert "results" not in text and "reasons" not in text and "band" not in text
    # …but another class's head teacher finds no such student.
    other = env.http.get(f"/api/v1/students/{student_id}/file", headers=env.auth("headteacher2"))
    assert other.status_code == 404


def test_referral_stages_in_order(env: Env) -> None:
    case_id = env.screen(0, ACUTE)
    r = env.post(
        f"/api/v1/cases/{case_id}/referrals", "counsellor1", {"hospital": "市精神卫生中心"}
    )
    assert r.status_code == 201, r.text
    ref = r.json()["referral_id"]
    assert (
        env.post(f"/api/v1/referrals/{ref}/stage", "counsellor1", {"stage": "seen"}).status_code
        == 409
    )
    for stage in ("accepted", "seen"):
        assert (
            env.post(f"/api/v1/referrals/{ref}/stage", "counsellor1", {"stage": stage}).status_code
            == 200
        )
    assert (
        env.post(f"/api/v1/referrals/{ref}/stage", "counsellor1", {"stage": "feedback"}).status_code
        == 422
    )
    r = env.post(
        f"/api/v1/referrals/{ref}/stage",
        "counsellor1",
        {"stage": "feedback", "feedback": "Seen in outpatients; follow-up in 2 weeks."},
    )
    assert r.status_code == 200 and r.json()["stage"] == "feedback"
    assert any(t["kind"].startswith("referral_") for t in _tasks(env, case_id))


def test_incident_review_needs_3000_characters(env: Env) -> None:
    r = env.post(
        "/api/v1/incidents",
        "lead1",
        {
            "kind": "self_harm",
            "description": "…",
            "occurred_at": (T0 - timedelta(hours=2)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    incident = r.json()
    assert datetime.fromisoformat(incident["review_due_at"]) == T0 + timedelta(days=14)
    short = env.post(
        f"/api/v1/incidents/{incident['incident_id']}/report", "lead1", {"report": "调" * 2999}
    )
    assert short.status_code == 422 and "2999" in short.json()["detail"].replace(",", "")
    ok = env.post(
        f"/api/v1/incidents/{incident['incident_id']}/report", "lead1", {"report": "调" * 3000}
    )
    assert ok.status_code == 200 and ok.json()["report_characters"] == 3000
    district = env.http.get("/api/v1/incidents", headers=env.auth("district1")).json()
    assert [i["incident_id"] for i in district] == [incident["incident_id"]]
    assert env.http.get("/api/v1/incidents", headers=env.auth("counsellor2")).json() == []


def test_transfer_keeps_the_file_and_moves_the_case(env: Env) -> None:
    ids = _ids(env.database_url)
    case_id = env.screen(0, NON_ACUTE)
    student_id = env.case(case_id)["case"]["student"]["student_id"]
    target = next(c for c in ids["classes"] if c.school_id != ids["users"]["counsellor1"].school_id)
    r = env.post(
        f"/api/v1/students/{student_id}/transfer",
        "district1",
        {"school_code": "DEMO-B", "class_id": str(target.id)},
    )
    assert r.status_code == 200, r.text
    assert (
        env.post(
            f"/api/v1/students/{student_id}/transfer",
            "counsellor1",
            {"school_code": "DEMO-B", "class_id": str(target.id)},
        ).status_code
        == 403
    )
    # The new school's counsellor now holds the case and the whole file; the old one does not.
    assert (
        env.http.get(f"/api/v1/cases/{case_id}", headers=env.auth("counsellor2")).status_code == 200
    )
    assert (
        env.http.get(f"/api/v1/cases/{case_id}", headers=env.auth("counsellor1")).status_code == 404
    )
    file = env.http.get(f"/api/v1/students/{student_id}/file", headers=env.auth("counsellor2"))
    assert "screening" in [e["kind"] for e in file.json()["entries"]]


def _tasks(env: Env, case_id: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = env.case(case_id)["tasks"]
    return tasks


def test_a_timestamp_without_its_zone_is_a_400_naming_the_field(env: Env) -> None:
    # A bare local time would be stored as a guess; the client is told which field lacks it.
    naive = (T0 - timedelta(hours=2)).replace(tzinfo=None).isoformat()
    r = env.post(
        "/api/v1/incidents",
        "lead1",
        {"kind": "self_harm", "description": "…", "occurred_at": naive},
    )
    assert r.status_code == 400, r.text
    assert "occurred_at" in r.json()["detail"] and "timezone" in r.json()["detail"].lower()
    listed = env.http.get("/api/v1/incidents", headers=env.auth("lead1"))
    assert listed.status_code == 200 and listed.json() == []
