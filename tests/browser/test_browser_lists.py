"""Long lists on a 390 px phone (issue 13): the queue (paged, searched), the head teacher's
page, the school and district dashboards (with the campaign selector) and the audit log are
cards that never scroll sideways, with no accessibility problem in any state."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from browser_support import PHONE, accessibility_problems, check_reflow, login, off_loop
from page_support import sql, staff_login, uid
from svc_support import battery_answers, live_server, make_settings, seed
from test_lists_pages import add_cases

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}

# Any table, or anything in it, wider than the screen (a .table-wrap scrolls inside itself,
# which the page's own width does not show).
WIDE = """() => [...document.querySelectorAll('.table-wrap, table, form, nav, .card')]
  .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right >
          window.innerWidth + 1)
  .map(el => (el.id || el.className || el.tagName) + ' ' + el.scrollWidth)"""


def _api_submit(base: str, code: str, **kw: Any) -> None:
    with httpx.Client(base_url=base, timeout=15) as http:
        s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
        r = http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": battery_answers(**kw)},
        )
        assert r.status_code == 201, r.text


def test_long_lists_on_a_phone(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    codes = off_loop(seed, settings, now=T0, students=12).access_codes
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        _api_submit(base, codes[0], asq=RED)  # school A, red: then 59 more by SQL
        _api_submit(base, codes[3], gad7=3)  # school B
        off_loop(add_cases, database_url)
        b_case = off_loop(
            sql,
            database_url,
            "SELECT c.id FROM cases c JOIN schools s ON s.id = c.school_id WHERE s.code = 'DEMO-B'",
        )[0][0]
        off_loop(
            sql,
            database_url,
            "UPDATE cases SET escalation_level = 1 WHERE id = :id",
            id=uuid.UUID(uid(b_case)),
        )
        campaign = off_loop(sql, database_url, "SELECT id FROM campaigns LIMIT 1")[0][0]
        number = off_loop(
            sql, database_url, "SELECT student_number FROM students ORDER BY student_number"
        )[0][0]
        with httpx.Client(base_url=base, timeout=15, follow_redirects=True) as http:
            staff_login(http, "lead1")
            for _ in range(50):  # audit rows: the audit log runs to a second page
                http.get("/staff/queue")
        visits = {
            "counsellor1": [
                "/staff/queue",
                "/staff/queue?page=2",
                f"/staff/queue?q={number}",
                "/staff/queue?q=nobody",
            ],
            "lead1": ["/staff/school"],
            "headteacher1": ["/staff/class", "/staff/class?q=nobody"],
            "district1": [
                "/staff/district",
                f"/staff/district?campaign={uid(campaign)}",
                "/staff/queue",
            ],
            "auditor1": ["/staff/audit"],
        }
        problems: list[str] = []
        for username, paths in visits.items():
            phone = browser.new_context(**PHONE)
            page = phone.new_page()
            login(page, base, username)
            for path in paths:
                page.set_viewport_size(PHONE["viewport"])
                page.goto(f"{base}{path}")
                assert page.locator("h1").count() == 1, path
                problems += [f"{path}: {p}" for p in accessibility_problems(page)]
                problems += [f"{path}: wide {w}" for w in page.evaluate(WIDE)]
                if path == "/staff/queue" and username == "counsellor1":
                    # A card's first line is the deadline, then the tier, then the student.
                    card = page.locator("#queue tbody tr").first
                    deadline = card.locator("td").first.bounding_box()
                    student = card.locator("th").bounding_box()
                    assert deadline and student and deadline["y"] < student["y"]
                    assert "还剩" in card.locator("td").first.inner_text()
                    assert page.get_by_role("navigation", name="翻页").is_visible()
                if path == "/staff/audit":
                    page.get_by_role("link", name="更早的记录").click()
                    page.wait_for_url(re.compile(r"cursor="))
                    problems += [f"audit p2: {p}" for p in accessibility_problems(page)]
                    problems += [f"audit p2: wide {w}" for w in page.evaluate(WIDE)]
                if "?" not in path:  # each page at 640 and 320 px too (its states at 390)
                    problems += check_reflow(page, f"{base}{path}")
            phone.close()
        assert problems == []
