"""Staff pages over real HTTP: sign-in with CSRF and strict cookies, the queue (by deadline,
never by score), the case with its actions, the head teacher's page (no scores), scoping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from page_support import api_submit, csrf, no_scores, set_cookie_headers, sql, staff_login, uid
from svc_support import another_client, app_client, battery_answers, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
HTTPS = "https://testserver.local"  # requests that arrive over https
ROW = re.compile(r'<tr class="([^"]*)" data-case="([0-9a-f-]{36})">(.*?)</tr>', re.S)


@dataclass
class Env:
    app: TestClient[Litestar]
    codes: list[str]
    clock: ManualClock
    database_url: str

    def client(self, **kw: Any) -> AbstractContextManager[TestClient[Litestar]]:
        """A browser of its own (own cookies) on the app served in process."""
        return another_client(self.app, **{"timeout": 15, "follow_redirects": True, **kw})

    @contextmanager
    def signed_in(self, username: str) -> Iterator[httpx.Client]:
        with self.client() as http:
            r = staff_login(http, username)
            assert r.status_code == 200, r.text
            yield http

    def queue(self, http: httpx.Client, query: str = "") -> list[tuple[str, str, str]]:
        """(case id, tier, row class) per row, in the order shown."""
        page = http.get(f"/staff/queue{query}")
        assert page.status_code == 200, page.text
        return [
            (cid, re.search(r"tier-(\w+)", body).group(1), cls)  # type: ignore[union-attr]
            for cls, cid, body in ROW.findall(page.text)
        ]


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0, students=12).access_codes
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=15) as http:
        # School A: students 0-2 and 6-8 (classes 8-1, 8-2, 9-1); school B: the others.
        api_submit(http, codes[2], battery_answers(gad7=2))  # yellow, class 9-1
        api_submit(http, codes[1], battery_answers(gad7=3))  # orange, class 8-2
        api_submit(http, codes[0], battery_answers(RED))  # red, class 8-1
        api_submit(http, codes[3], battery_answers(gad7=2))  # school B
        yield Env(http, codes, clock, database_url)


def test_sign_in_cookie_and_role_homes(env: Env) -> None:
    for username, home in (
        ("counsellor1", "/staff/queue"),
        ("lead1", "/staff/queue"),
        ("headteacher1", "/staff/class"),
        ("district1", "/staff/district"),
    ):
        with env.client() as http:
            r = staff_login(http, username)
            assert r.status_code == 200 and r.url.path == home, (username, r.url)
            (cookie,) = set_cookie_headers(r, "rx_staff")
            flags = cookie.lower()
            assert "httponly" in flags and "samesite=strict" in flags and "path=/staff" in flags
            assert http.get("/staff").url.path == home
    # Over https (a TLS proxy in front; uvicorn's handling of X-Forwarded-Proto is checked over
    # a real socket in test_pages_student.py), both cookies are Secure.
    with env.client(base_url=HTTPS) as http:
        form = http.get("/staff/login")
        (login_cookie,) = set_cookie_headers(form, "rx_login")
        assert "secure" in login_cookie.lower()
    with env.client(base_url=HTTPS, follow_redirects=False) as http:
        r = http.post(
            "/staff/login",
            data={"_csrf": csrf(form.text), "username": "counsellor1", "password": "pw-test-123"},
            headers={"Cookie": login_cookie.split(";")[0]},
        )
        (cookie,) = set_cookie_headers(r, "rx_staff")
        assert r.status_code == 303 and "secure" in cookie.lower()


def test_sign_in_refuses_bad_forms_and_passwords(env: Env) -> None:
    with env.client() as http:
        wrong = staff_login(http, "counsellor1", "not-the-password")
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        assert not set_cookie_headers(wrong, "rx_staff")
    with env.client() as http:  # no double-submit cookie: a forged cross-site form
        forged = http.post(
            "/staff/login",
            data={"_csrf": "x", "username": "counsellor1", "password": "pw-test-123"},
        )
        assert forged.status_code == 403 and not set_cookie_headers(forged, "rx_staff")
    with env.client() as http:  # pages need a session; after sign-in, back where one was
        r = http.get("/staff/school")
        assert r.url.path == "/staff/login" and r.url.params["next"] == "/staff/school"
        signed = http.post(
            "/staff/login",
            data={
                "_csrf": csrf(r.text),
                "username": "counsellor1",
                "password": "pw-test-123",
                "next": "/staff/school",
            },
        )
        assert signed.url.path == "/staff/school"
        assert http.post("/staff/login", data={"next": "https://evil.example/"}).status_code == 403


def test_queue_by_deadline_then_tier_with_filters_and_overdue(env: Env) -> None:
    with env.signed_in("counsellor1") as http:
        rows = env.queue(http)
        assert [tier for _, tier, _ in rows] == ["red", "orange", "yellow"]
        ordered = sql(
            env.database_url,
            "SELECT c.id FROM cases c JOIN schools s ON s.id = c.school_id "
            "WHERE s.code = 'DEMO-A' ORDER BY c.acknowledge_by",
        )
        assert [cid for cid, _, _ in rows] == [uid(r[0]) for r in ordered]
        # No sort by score exists: a ?sort= parameter changes nothing.
        assert env.queue(http, "?sort=score") == rows
        assert [t for _, t, _ in env.queue(http, "?tier=yellow")] == ["yellow"]
        assert env.queue(http, "?state=acknowledged") == []
        page = http.get("/staff/queue").text
        class_72 = re.search(r'<option value="([0-9a-f-]{36})">八年级2班</option>', page)
        assert class_72 is not None
        assert [t for _, t, _ in env.queue(http, f"?class={class_72.group(1)}")] == ["orange"]
        # Search by name (issue 13): the orange case's student, by part of the name.
        ((name,),) = sql(
            env.database_url,
            "SELECT s.name FROM cases c JOIN students s ON s.id = c.student_id "
            "WHERE c.tier = 'orange'",
        )
        found = env.queue(http, "?" + urlencode({"q": f" {name[-2:]} "}))
        assert [t for _, t, _ in found] == ["orange"], name
        assert env.queue(http, "?" + urlencode({"q": "没有这个人"})) == []
        assert "还剩" in page and "已逾期" not in page
        env.clock.advance(timedelta(minutes=20))  # past the red case's 15 minutes
        page = http.get("/staff/queue").text
        assert "⚠ 已逾期 5 分钟" in page
        assert env.queue(http)[0][2] == "is-overdue"
        assert "score" not in page.lower()


def test_case_page_actions(env: Env) -> None:
    with env.signed_in("counsellor1") as http:
        red, orange, _ = (cid for cid, _, _ in env.queue(http))
        page = http.get(f"/staff/cases/{red}")
        assert page.status_code == 200 and 'data-state="open"' in page.text
        assert "ASQ" in page.text  # counsellors see the reasons and the scores
        # Bands and flags in Chinese, never their internal codes (issue 13).
        assert "阳性（急性风险）" in page.text and "ASQ 急性风险" in page.text
        assert not re.search(r">[^<]*\b(acute_positive|asq_acute|asq_positive)\b", page.text)
        token = csrf(page.text)
        # A post without the form token changes nothing.
        refused = http.post(f"/staff/cases/{red}/acknowledge", data={"note": "x"})
        assert refused.status_code == 403 and "表单已过期" in refused.text
        assert sql(env.database_url, "SELECT status FROM cases WHERE id = :id", id=UUID(red)) == [
            ("open",)
        ]
        acked = http.post(f"/staff/cases/{red}/acknowledge", data={"_csrf": token, "note": "在"})
        assert 'data-state="acknowledged"' in acked.text and "已保存" in acked.text
        rec = http.post(
            f"/staff/cases/{red}/records",
            data={"_csrf": token, "kind": "talk", "summary": "与学生面谈，学生情绪平稳。"},
        )
        assert "与学生面谈，学生情绪平稳。" in rec.text
        task = re.search(r"/staff/tasks/([0-9a-f-]{36})/complete", rec.text)
        assert task is not None
        done = http.post(
            f"/staff/tasks/{task.group(1)}/complete",
            data={"_csrf": token, "note": "已完成安全评估", "next": f"/staff/cases/{red}"},
        )
        assert done.url.path == f"/staff/cases/{red}" and "已完成" in done.text
        # The tier decision on the page (issue 13): lowering with a reason is recorded.
        assert 'id="tier-decision"' in done.text
        lowered = http.post(
            f"/staff/cases/{orange}/tier",
            data={"_csrf": token, "tier": "yellow", "reason": "面谈后评估，风险已降低"},
        )
        assert lowered.status_code == 200 and "已保存" in lowered.text
        ((tier_now,),) = sql(
            env.database_url, "SELECT tier FROM cases WHERE id = :c", c=UUID(orange)
        )
        assert tier_now == "yellow"
        # Open tasks first (by due time), the finished ones after them (issue 13).
        table = done.text.split('<table class="stack tasks">', 1)[1].split("</table>", 1)[0]
        states = re.findall(r'<td data-label="[^"]*">(未完成|已完成|已取消)</td>', table)
        assert "已完成" in states and "未完成" in states
        assert states == sorted(states, key=lambda s: s != "未完成"), states
        # The plan: an incomplete one comes back with the message; a complete one is saved.
        sid = re.search(r"/staff/students/([0-9a-f-]{36})", done.text).group(1)  # type: ignore[union-attr]
        bad = http.post(
            f"/staff/students/{sid}/plan",
            data={
                "_csrf": token,
                "warning_signs": "说想消失",
                "coping_steps": "",
                "means_safety": "",
                "contacts": "",
                "review_on": "2026-10-01",
            },
        )
        assert bad.status_code == 422 and "说想消失" in bad.text
        good = http.post(
            f"/staff/students/{sid}/plan",
            data={
                "_csrf": token,
                "warning_signs": "说想消失\n不吃饭",
                "coping_steps": "找班主任\n打 12356",
                "means_safety": "家长收好药品",
                "contacts": "王女士，母亲，13800000001",
                "review_on": "2026-10-01",
            },
        )
        assert good.url.path == f"/staff/students/{sid}" and "方案已保存" in good.text
        assert "家长收好药品" in good.text
        # Refer the orange case; the case moves to "referred" and the referral is listed.
        http.post(f"/staff/cases/{orange}/acknowledge", data={"_csrf": token})
        referred = http.post(
            f"/staff/cases/{orange}/refer", data={"_csrf": token, "hospital": "市精神卫生中心"}
        )
        assert 'data-state="referred"' in referred.text and "市精神卫生中心" in referred.text
        # Close: only after an assessment, with a reason of at least 10 characters.
        http.post(f"/staff/cases/{red}/action", data={"_csrf": token, "action": "start_assessment"})
        short = http.post(
            f"/staff/cases/{red}/action", data={"_csrf": token, "action": "close", "note": "好了"}
        )
        assert short.status_code == 422
        closed = http.post(
            f"/staff/cases/{red}/action",
            data={"_csrf": token, "action": "close", "note": "评估后无进一步需要，继续常规关注。"},
        )
        assert 'data-state="closed"' in closed.text


def test_head_teacher_sees_completion_and_tasks_never_scores(env: Env) -> None:
    with env.signed_in("headteacher1") as http:
        page = http.get("/staff/class")
        assert page.status_code == 200
        text = page.text
        assert "1 / 2 人已完成" in text  # class 7-1: student 0 finished, student 6 not yet
        assert "需要关注的学生" in text and "开学谈心谈话" in text  # a task asked of them
        # One task to act on per student (the next one); the later ones folded, no buttons.
        cards = text.count('class="card" id="care-')
        assert cards and len(re.findall(r"/staff/tasks/[0-9a-f-]{36}/complete", text)) <= cards
        assert "之后的任务（" in text
        assert no_scores(text) == [] and "ASQ" not in text and "一级" not in text
        student = re.search(r"/staff/students/([0-9a-f-]{36})", text).group(1)  # type: ignore[union-attr]
        file = http.get(f"/staff/students/{student}")
        assert file.status_code == 200 and no_scores(file.text) == []
        assert "ASQ" not in file.text and "phq" not in file.text.lower()
        assert http.get("/staff/queue").status_code == 403
        assert http.get("/staff/school").status_code == 403
        # A student of another class is not found (never confirmed to exist).
        other = sql(
            env.database_url,
            "SELECT s.id FROM students s JOIN classes k ON k.id = s.class_id "
            "WHERE k.name = '八年级2班' LIMIT 1",
        )[0][0]
        other = uid(other)
        assert http.get(f"/staff/students/{other}").status_code == 404
        token = csrf(text)
        task = re.search(r"/staff/tasks/([0-9a-f-]{36})/complete", text).group(1)  # type: ignore[union-attr]
        done = http.post(
            f"/staff/tasks/{task}/complete",
            data={"_csrf": token, "note": "谈话完成", "next": "/staff/class"},
        )
        assert done.url.path == "/staff/class" and "已保存" in done.text
        # An observation of imminent danger opens a case the counsellor sees at once.
        pupil = re.findall(r'<option value="([0-9a-f-]{36})">', text)
        unscreened = next(p for p in pupil if p != student)
        reported = http.post(
            "/staff/class/observations",
            data={
                "_csrf": token,
                "student_id": unscreened,
                "kind": "talk_of_death",
                "severity": "imminent_danger",
                "note": "课间说不想活了",
            },
        )
        assert "已经通知心理老师" in reported.text and no_scores(reported.text) == []
    with env.signed_in("counsellor1") as http:
        assert env.queue(http)[0][1] == "red"
        assert len(env.queue(http, "?tier=red")) == 2


def test_scoping_and_dashboards_and_exports(env: Env) -> None:
    school_b_case = uid(
        sql(
            env.database_url,
            "SELECT c.id FROM cases c JOIN schools s ON s.id = c.school_id WHERE s.code = 'DEMO-B'",
        )[0][0]
    )
    with env.signed_in("counsellor1") as http:
        assert http.get(f"/staff/cases/{school_b_case}").status_code == 404
        page = http.get("/staff/school")
        assert page.status_code == 200 and '<svg class="chart"' in page.text
        assert 'role="img"' in page.text and "<title" in page.text
        assert "不显示" in page.text  # small cells (and their complements) hidden
        assert "八年级1班" in page.text
        coverage = http.get("/staff/exports/coverage.csv")
        assert coverage.status_code == 200 and coverage.headers["content-type"].startswith(
            "text/csv"
        )
        lines = coverage.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("年级班级,班级,应参加") and len(lines) == 4
        tasks = http.get("/staff/exports/tasks.xlsx")
        from io import BytesIO

        from openpyxl import load_workbook

        sheet = load_workbook(BytesIO(tasks.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][3] == "学生" and len(rows) > 3
        assert not any("score" in str(c).lower() or "总分" in str(c) for r in rows for c in r)
        assert http.get("/staff/exports/other.csv").status_code == 404
        assert http.get("/staff/district").status_code == 403
    sql(
        env.database_url,
        "UPDATE cases SET escalation_level = 2 WHERE id = :id",
        id=UUID(school_b_case),
    )
    with env.signed_in("district1") as http:
        page = http.get("/staff/district")
        assert page.status_code == 200
        assert "润心实验中学" in page.text and "润心第二中学" in page.text
        assert f"/staff/cases/{school_b_case}" in page.text  # the escalation, to act on
        case = http.get(f"/staff/cases/{school_b_case}")
        # The district's case names no student (issue 19): the de-identified view.
        assert case.status_code == 200 and 'id="deidentified-note"' in case.text
        assert 'id="break-glass"' in case.text and "定级原因仅心理老师可见" not in case.text
        lines = http.get("/staff/exports/tasks.csv").content.decode("utf-8-sig").splitlines()
        assert "学生" not in lines[0]  # district task lists carry no names
    actions = {a for (a,) in sql(env.database_url, "SELECT action FROM audit_log")}
    # The district reads no student file from the case page any more (issue 19, no identities).
    assert {"cases.list", "case.read", "tasks.list"} <= actions


def test_logout_and_language(env: Env) -> None:
    with env.signed_in("lead1") as http:
        en = http.get("/staff/queue?lang=en")
        assert '<html lang="en">' in en.text and "Case queue" in en.text
        assert '<html lang="en">' in http.get("/staff/school").text
        out = http.post("/staff/logout", data={"_csrf": csrf(en.text)})
        assert out.url.path == "/staff/login"
        assert http.get("/staff/queue").url.path == "/staff/login"


def test_school_dashboard_has_a_campaign_selector(env: Env) -> None:
    """Issue 13: with more than one campaign the school dashboard offers a selector; an id
    that is not one of the school's campaigns answers 404."""
    with env.client() as api:
        token = api.post(
            "/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"}
        ).json()["access_token"]
        spring = api.post(
            "/api/v1/campaigns",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "name": "春季复查",
                "school_year": "2026-2027",
                "opens_at": (T0 + timedelta(days=30)).isoformat(),
                "closes_at": (T0 + timedelta(days=40)).isoformat(),
                "batteries": [{"grades": [8, 9], "instruments": ["phq9"]}],
            },
        )
        assert spring.status_code == 201, spring.text
    spring_id = spring.json()["campaign_id"]
    with env.signed_in("lead1") as http:
        page = http.get("/staff/school").text
        assert 'id="campaign-choice"' in page and "春季复查" in page
        chosen = http.get("/staff/school", params={"campaign": spring_id})
        assert chosen.status_code == 200
        assert re.search(rf'<option value="{spring_id}" selected>', chosen.text)
        assert http.get("/staff/school", params={"campaign": "nope"}).status_code == 404
    with env.signed_in("lead2") as http:  # another school's campaign is not found
        assert http.get("/staff/school", params={"campaign": spring_id}).status_code == 404
