"""Screenshots of every main page, for a reviewer to look at (``make screenshots``).

Written to ``RUNXIN_SCREENSHOTS_DIR`` when set (the make target sets
``benchmarks/screenshots``), else to a temporary folder: the walk itself is a test that every
page renders in a real browser.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from browser_support import DESKTOP, PHONE, answer_part, login, off_loop, press
from svc_support import battery_answers, live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def _submit_api(base: str, code: str, **kw: Any) -> None:
    with httpx.Client(base_url=base, timeout=15) as http:
        s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
        r = http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": battery_answers(**kw)},
        )
        assert r.status_code == 201, r.text


def test_screenshots_of_main_pages(database_url: str, browser: Any, tmp_path: Path) -> None:
    out = Path(os.environ.get("RUNXIN_SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    settings = make_settings(database_url)
    seeded = off_loop(seed, settings, now=T0, students=18)
    codes = seeded.access_codes
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        # Cases for the staff pages: severity (orange), elevated (yellow), a non-acute ASQ.
        # Students 0-2, 6-8, 12-14 are at school A (three classes each), the rest at school B.
        _submit_api(base, codes[2], gad7=3)
        _submit_api(base, codes[6], gad7=2)
        _submit_api(base, codes[7], asq={"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0})
        for i in (8, 12, 3, 4, 5):
            _submit_api(base, codes[i])
        shots: list[str] = []

        def shot(page: Any, name: str) -> None:
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            shots.append(name)

        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        page.goto(f"{base}/")
        shot(page, "student-01-entry-phone")
        page.goto(f"{base}/s/{codes[0]}")
        shot(page, "student-02-notice-phone")
        page.get_by_role("link", name=re.compile("开始作答")).click()
        shot(page, "student-03-part1-phone")
        answer_part(page)
        press(page, "下一步")
        answer_part(page, default=1)
        press(page, "下一步")
        shot(page, "student-04-part3-asq-phone")
        answer_part(page)
        press(page, "下一步")
        shot(page, "student-05-review-phone")
        page.get_by_role("button", name="提交问卷").click()
        shot(page, "student-06-thanks-phone")
        page.goto(f"{base}/s/{codes[1]}?lang=en")
        page.get_by_role("link", name=re.compile("I understand")).click()
        shot(page, "student-07-part1-english-phone")
        for _ in range(2):
            answer_part(page)
            press(page, "Next")
        answer_part(page, {"q1": 1, "q5": 1})
        press(page, "Next")
        page.get_by_role("button", name="Submit").click()
        shot(page, "student-08-thanks-urgent-english-phone")
        page.goto(f"{base}/s/{codes[0]}?lang=zh-CN")
        shot(page, "student-09-code-used-phone")
        phone.close()

        desk = browser.new_context(**DESKTOP)
        page = desk.new_page()
        page.goto(f"{base}/staff/login")
        shot(page, "staff-01-login")
        login(page, base, "counsellor1")
        shot(page, "staff-02-counsellor-queue")
        page.locator("#queue tbody tr").first.get_by_role("link").click()
        shot(page, "staff-03-case")
        page.get_by_role("link", name="查看档案").click()
        shot(page, "staff-04-student-file")
        page.get_by_role("link", name="编辑方案").click()
        shot(page, "staff-05-plan-form")
        page.goto(f"{base}/staff/school")
        shot(page, "staff-06-school-dashboard")
        page.goto(f"{base}/staff/queue?lang=en")
        shot(page, "staff-07-queue-english")
        desk.close()

        desk = browser.new_context(**DESKTOP)
        page = desk.new_page()
        login(page, base, "headteacher1")
        shot(page, "staff-08-head-teacher")
        desk.close()

        desk = browser.new_context(**DESKTOP)
        page = desk.new_page()
        login(page, base, "district1")
        shot(page, "staff-09-district-dashboard")
        desk.close()
    assert len(shots) == 18
    assert all((out / f"{n}.png").stat().st_size > 1000 for n in shots)
