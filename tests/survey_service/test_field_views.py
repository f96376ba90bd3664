"""Field views per role (issue 19): the district sees no student identity, answers, scores or
reasons, on any route, API or page; counts per school are right; head teachers never see
answers or scores; a district officer's break-glass read is reasoned, time-boxed, audited and
notified, and ends on time. Over the in-process app on real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from page_support import api_submit, csrf, no_scores, sql, staff_login, uid
from svc_support import another_client, app_client, battery_answers, make_settings, run, seed

from survey_service.accounts.permissions import Role
from survey_service.accounts.views import (
    ROLE_VIEWS,
    Lens,
    View,
    role_shows_identity,
    view_of,
)
from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import Case, StaffUser, create_engine, create_session_factory
from survey_service.notifications.service import enqueue_case_notification
from survey_service.settings import Settings, SettingsError

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
REASON = "School A cannot be reached and the red case is unacknowledged"


@dataclass
class Env:
    app: TestClient[Litestar]
    clock: ManualClock
    database_url: str
    red_case: str
    student_id: str
    secrets: list[str]  # the red student's name, number, class name and triage reason texts
    _tokens: dict[str, str]

    def auth(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            r = self.app.post(
                "/api/v1/auth/login", json={"username": username, "password": "pw-test-123"}
            )
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[username]}"}

    def advance(self, delta: timedelta) -> None:
        """Move the clock; sign in again afterwards (staff sessions end when idle)."""
        self.clock.advance(delta)
        self._tokens.clear()

    def get(self, path: str, user: str) -> httpx.Response:
        return self.app.get(path, headers=self.auth(user))

    def post(self, path: str, user: str, body: object | None = None) -> httpx.Response:
        return self.app.post(path, headers=self.auth(user), json=body)

    def leaks(self, body: str) -> list[str]:
        """The red student's identities or reasons found in a raw response body."""
        return [s for s in self.secrets if s in body]

    @contextmanager
    def browser(self, username: str) -> Iterator[httpx.Client]:
        """A signed-in browser of its own (own cookies) on the app served in process."""
        with another_client(self.app, timeout=15, follow_redirects=True) as http:
            r = staff_login(http, username)
            assert r.status_code == 200, r.text
            yield http


def _json_text(value: Any) -> str:
    """A JSON column as readable text (SQLite hands back escaped text, PostgreSQL a dict)."""
    return json.dumps(json.loads(value) if isinstance(value, str) else value, ensure_ascii=False)


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0, students=12).access_codes
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=15) as http:
        # School A: students 0-2 and 6-8; school B: the others.
        api_submit(http, codes[0], battery_answers(RED))  # red, school A
        api_submit(http, codes[2], battery_answers(gad7=2))  # yellow, school A
        api_submit(http, codes[3], battery_answers(gad7=2))  # yellow, school B
        env = Env(http, clock, database_url, "", "", [], {})
        queue = env.get("/api/v1/cases", "counsellor1").json()["items"]
        red = next(c for c in queue if c["tier"] == "red")
        env.red_case, env.student_id = red["case_id"], red["student"]["student_id"]
        ((name, number, class_name),) = sql(
            database_url,
            "SELECT s.name, s.student_number, k.name FROM students s "
            "JOIN classes k ON k.id = s.class_id WHERE s.id = :id",
            id=UUID(env.student_id),
        )
        reasons = [r["text"][lang] for r in red["reasons"] for lang in ("zh-CN", "en")]
        assert name and number and class_name and reasons
        env.secrets = [name, number, class_name, *reasons]
        yield env


def test_the_district_sees_counts_and_deidentified_cases_never_a_student(env: Env) -> None:
    # The counsellor's view carries what the district's must not: the test can fail.
    full = env.get(f"/api/v1/cases/{env.red_case}", "counsellor1")
    assert set(env.leaks(full.text)) == set(env.secrets) - {env.secrets[1]}  # no number there

    queue = env.get("/api/v1/cases", "district1")
    assert queue.status_code == 200 and queue.json()["count"] == 3
    assert env.leaks(queue.text) == []
    red = next(c for c in queue.json()["items"] if c["case_id"] == env.red_case)
    assert red["student"] is None and red["reasons"] == [] and red["view"] == "aggregate"
    assert red["tier"] == "red" and red["school_name"] and red["acknowledge_by"]

    detail = env.get(f"/api/v1/cases/{env.red_case}", "district1")
    assert detail.status_code == 200 and env.leaks(detail.text) == []
    body = detail.json()
    assert body["case"]["student"] is None and body["tasks"]
    # Whom to call and who was told: the school's care staff, by name and phone.
    assert {c["role"] for c in body["contacts"]} == {"school_lead", "counsellor"}
    assert all(c["phone"] for c in body["contacts"])
    assert body["notified"] and body["notified"][0]["recipient_role"] == "counsellor"

    file = env.get(f"/api/v1/students/{env.student_id}/file", "district1")
    assert file.status_code == 200 and env.leaks(file.text) == []
    assert file.json()["name"] is None and file.json()["student_number"] is None
    assert {e["kind"] for e in file.json()["entries"]} <= {"case", "case_event", "task"}
    for text in (queue.text, detail.text, file.text):
        assert not re.search(r'"(total|band|results|answers|reasons_text|quality_flags)"', text)

    group = env.get(f"/api/v1/cases/{env.red_case}/care-group", "district1")
    assert group.status_code == 200 and env.leaks(group.text) == []

    # Counts per school: open cases by tier and state, overdue acknowledgements, reviews.
    summary = env.get("/api/v1/district/case-summary", "district1")
    assert summary.status_code == 200 and env.leaks(summary.text) == []
    by_code = {s["school_code"]: s for s in summary.json()["schools"]}
    assert by_code["DEMO-A"]["open_by_tier"] == {"red": 1, "orange": 0, "yellow": 1}
    assert by_code["DEMO-A"]["open_by_status"]["open"] == 2
    assert by_code["DEMO-B"]["open_by_tier"] == {"red": 0, "orange": 0, "yellow": 1}
    assert by_code["DEMO-A"]["overdue_acknowledgements"] == 0
    assert env.get("/api/v1/district/case-summary", "counsellor1").status_code == 403
    env.advance(timedelta(hours=3))  # the red case's acknowledgement deadline passed
    late = env.get("/api/v1/district/case-summary", "district1").json()["schools"]
    assert {s["school_code"]: s["overdue_acknowledgements"] for s in late}["DEMO-A"] >= 1

    with env.browser("district1") as http:
        pages = {
            path: http.get(path)
            for path in (
                "/staff/queue",
                f"/staff/cases/{env.red_case}",
                f"/staff/students/{env.student_id}",
                "/staff/district",
                "/staff/exports/tasks.csv",
                "/staff/exports/coverage.csv",
            )
        }
    for path, page in pages.items():
        assert page.status_code == 200, (path, page.text[:300])
        assert env.leaks(page.content.decode("utf-8-sig")) == [], path
    case_page = pages[f"/staff/cases/{env.red_case}"].text
    assert 'id="break-glass"' in case_page and 'id="contacts"' in case_page
    assert 'id="district-summary"' in pages["/staff/queue"].text
    assert env.red_case in pages["/staff/queue"].text  # the row to act on, by case

    # Auditors read the access log only: no case, no file.
    assert env.get("/api/v1/cases", "auditor1").status_code == 403
    assert env.get(f"/api/v1/students/{env.student_id}/file", "auditor1").status_code in (403, 404)
    assert env.get(f"/api/v1/cases/{env.red_case}", "auditor1").status_code in (403, 404)

    # A transfer named by school code and student number echoes no identity back.
    target = sql(
        env.database_url,
        "SELECT k.id FROM classes k JOIN schools s ON s.id = k.school_id "
        "WHERE s.code = 'DEMO-B' ORDER BY k.name LIMIT 1",
    )[0][0]
    body = {
        "from_school_code": "DEMO-A",
        "student_number": env.secrets[1],
        "school_code": "DEMO-B",
        "class_id": uid(target),
    }
    unknown = env.post("/api/v1/students/transfer", "district1", {**body, "student_number": "x9"})
    assert unknown.status_code == 404 and "x9" not in unknown.text
    moved = env.post("/api/v1/students/transfer", "district1", body)
    assert moved.status_code == 200, moved.text
    assert set(moved.json()) == {"student_id", "school_id", "class_id"}
    assert env.leaks(moved.text) == [] and moved.json()["student_id"] == env.student_id
    assert env.post("/api/v1/students/transfer", "counsellor1", body).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_head_teacher_never_sees_answers_or_scores(env: Env) -> None:
    ((head,),) = sql(
        env.database_url,
        "SELECT u.username FROM staff_users u JOIN classes k ON k.head_teacher_id = u.id "
        "JOIN students s ON s.class_id = k.id WHERE s.id = :id",
        id=UUID(env.student_id),
    )
    file = env.get(f"/api/v1/students/{env.student_id}/file", head)
    assert file.status_code == 200 and file.json()["view"] == "care"
    assert env.secrets[0] in file.text  # the head teacher knows their student
    assert not re.search(r'"(total|band|results|flags|reasons|quality_flags)"', file.text)
    assert [r for r in env.secrets[3:] if r in file.text] == []  # no triage reason
    assert env.get("/api/v1/cases", head).status_code == 403
    assert env.get(f"/api/v1/cases/{env.red_case}", head).status_code == 403
    with env.browser(head) as http:
        for path in ("/staff/class", f"/staff/students/{env.student_id}"):
            page = http.get(path)
            assert page.status_code == 200, path
            assert [r for r in env.secrets[3:] if r in page.text] == [], path
            assert 'class="stack results"' not in page.text, path
        assert no_scores(http.get("/staff/class").text) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_break_glass_is_reasoned_audited_notified_and_ends(env: Env) -> None:
    path = f"/api/v1/cases/{env.red_case}/break-glass"
    for bad in ({"reason": "urgent"}, {"reason": "   " + "x" * 14 + "   "}, {}):
        r = env.post(path, "district1", bad)
        assert r.status_code == 400, (bad, r.text)
    assert "15" in env.post(path, "district1", {"reason": "urgent"}).json()["detail"]
    assert env.post(path, "counsellor1", {"reason": REASON}).status_code == 403
    missing = env.post(f"/api/v1/cases/{UUID(int=7)}/break-glass", "district1", {"reason": REASON})
    assert missing.status_code == 404
    assert sql(env.database_url, "SELECT count(*) FROM break_glass_grants") == [(0,)]

    env.advance(timedelta(minutes=5))
    grant = env.post(path, "district1", {"reason": REASON})
    assert grant.status_code == 201, grant.text
    g = grant.json()
    opened = datetime.fromisoformat(g["opened_at"])
    assert datetime.fromisoformat(g["expires_at"]) - opened == timedelta(minutes=30)
    assert g["student_id"] == env.student_id and env.leaks(grant.text) == []

    detail = env.get(f"/api/v1/cases/{env.red_case}", "district1").json()
    assert detail["case"]["student"]["name"] == env.secrets[0]
    assert detail["case"]["view"] == "full" and detail["case"]["break_glass_until"]
    file = env.get(f"/api/v1/students/{env.student_id}/file", "district1").json()
    assert file["name"] == env.secrets[0] and file["student_number"] == env.secrets[1]
    # Only that case: the queue and other cases stay de-identified.
    assert env.leaks(env.get("/api/v1/cases", "district1").text) == []

    actions = [a for (a,) in sql(env.database_url, "SELECT action FROM audit_log")]
    assert actions.count("break_glass.open") == 1
    assert "case.read" in actions and "student.file" in actions
    ((reason, who),) = sql(env.database_url, "SELECT reason, user_id FROM break_glass_grants")
    assert reason == REASON

    # The school's lead and counsellors are told who opened which case; nothing about the
    # student. School B's staff are not told.
    rows = sql(
        env.database_url,
        "SELECT u.username, i.content FROM inbox_items i JOIN staff_users u ON u.id = i.user_id "
        "WHERE i.event = 'case.break_glass'",
    )
    told = {name for name, _ in rows}
    assert "lead1" in told and "counsellor1" in told and "counsellor2" not in told
    for _, content in rows:
        text = _json_text(content)
        assert env.red_case in text and "区教育局值班员" in text
        assert env.leaks(text) == [] and REASON not in text
    inbox = env.get("/api/v1/me/notifications", "lead1").json()
    assert any(i["event"] == "case.break_glass" for i in inbox)

    env.advance(timedelta(minutes=31))  # the grant has expired
    again = env.get(f"/api/v1/cases/{env.red_case}", "district1")
    assert again.json()["case"]["student"] is None and env.leaks(again.text) == []
    assert env.leaks(env.get(f"/api/v1/students/{env.student_id}/file", "district1").text) == []

    # The page form: a short reason comes back with the message, a real one opens the case.
    with env.browser("district1") as http:
        page = http.get(f"/staff/cases/{env.red_case}")
        short = http.post(
            f"/staff/cases/{env.red_case}/break-glass",
            data={"_csrf": csrf(page.text), "reason": "too short"},
        )
        assert 'id="break-glass-error"' in short.text and env.leaks(short.text) == []
        opened_page = http.post(
            f"/staff/cases/{env.red_case}/break-glass",
            data={"_csrf": csrf(page.text), "reason": REASON},
        )
        assert opened_page.status_code == 200
        assert env.secrets[0] in opened_page.text and 'id="break-glass-active"' in opened_page.text
    assert sql(env.database_url, "SELECT count(*) FROM break_glass_grants") == [(2,)]
    assert uid(who) == uid(
        sql(env.database_url, "SELECT id FROM staff_users WHERE username = 'district1'")[0][0]
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_notifications_to_the_district_carry_no_class(env: Env) -> None:
    async def go() -> list[dict[str, Any]]:
        engine = create_engine(env.database_url)
        try:
            async with create_session_factory(engine)() as db, db.begin():
                case = await db.get_one(Case, UUID(env.red_case))
                rows = await enqueue_case_notification(
                    db,
                    case=case,
                    event="case.escalated",
                    level=2,
                    recipient_role="district_officer",
                    deadline=T0 + timedelta(hours=2),
                    base_url="http://x",
                    now=T0 + timedelta(hours=2),
                )
                return [r.payload for r in rows]
        finally:
            await engine.dispose()

    payloads = run(go())
    assert payloads and all("class" not in p for p in payloads)
    assert all(env.leaks(json.dumps(p, ensure_ascii=False)) == [] for p in payloads)
    ((counsellor_payload,),) = sql(
        env.database_url,
        "SELECT payload FROM outbox WHERE recipient_role = 'counsellor' LIMIT 1",
    )
    assert '"class"' in _json_text(counsellor_payload)  # the school's own staff still get the class


def test_one_view_per_role_and_the_break_glass_setting() -> None:
    assert set(ROLE_VIEWS) == set(Role)
    assert {r for r, v in ROLE_VIEWS.items() if v is View.AGGREGATE} == {
        Role.DISTRICT_OFFICER,
        Role.AUDITOR,
    }
    for role in Role:
        lens = Lens(view=ROLE_VIEWS[role], role=role.value)
        if role in (Role.HEAD_TEACHER, Role.TEACHER, Role.SCHOOL_ADMIN):
            assert not any(lens.sees(p) for p in ("answers", "scores", "reasons")), role
        if lens.view is View.AGGREGATE:
            assert not lens.identity and not any(
                lens.sees(p) for p in ("answers", "scores", "reasons", "talk_notes", "plan")
            )
    assert view_of(StaffUser(role="someone_new")) is View.AGGREGATE
    assert not role_shows_identity("district_officer") and role_shows_identity("counsellor")
    assert not role_shows_identity("on_call")
    assert Settings.from_env({}).break_glass_minutes == 30
    assert Settings.from_env({"RUNXIN_BREAK_GLASS_MINUTES": "240"}).break_glass_minutes == 240
    for bad in ("0", "241"):
        with pytest.raises(SettingsError, match="RUNXIN_BREAK_GLASS_MINUTES"):
            Settings.from_env({"RUNXIN_BREAK_GLASS_MINUTES": bad})
    with pytest.raises(SettingsError, match="RUNXIN_BREAK_GLASS_MINUTES"):
        Settings.from_env({"RUNXIN_BREAK_GLASS_MINUTES": "soon"})
