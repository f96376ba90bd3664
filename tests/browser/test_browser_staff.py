"""Staff in a real browser: the counsellor acknowledges the new case at the top of the queue;
the head teacher sees completion and never a score."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from browser_support import (
    DESKTOP,
    PHONE,
    accessibility_problems,
    answer_part,
    login,
    off_loop,
    press,
)
from svc_support import battery_answers, live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _api_submit(base: str, code: str, **kw: Any) -> None:
    with httpx.Client(base_url=base, timeout=15) as http:
        s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
        r = http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": battery_answers(**kw)},
        )
        assert r.status_code == 201, r.text


def test_counsellor_acknowledges_the_new_case(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    codes = off_loop(seed, settings, now=T0, students=12).access_codes
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        _api_submit(base, codes[2], gad7=2)  # an older, elevated case of the same school
        # A student answers ASQ question 5 "yes" on a phone.
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        page.goto(f"{base}/s/{codes[0]}")
        page.get_by_role("link", name="我已了解，开始作答").click()
        for values in (None, None, {"q5": 1}):
            answer_part(page, values)
            press(page, "下一步")
        page.get_by_role("button", name="提交问卷").click()
        page.wait_for_url(re.compile(r"/thanks$"))
        phone.close()

        desk = browser.new_context(**DESKTOP)
        page = desk.new_page()
        login(page, base, "counsellor1")
        page.wait_for_url(re.compile(r"/staff/queue$"))
        rows = page.locator("#queue tbody tr")
        assert rows.count() == 2
        top = rows.first
        assert "一级 · 危机" in top.inner_text() and "待确认" in top.inner_text()
        assert "还剩 15 分钟" in top.inner_text()
        assert accessibility_problems(page) == []
        top.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/staff/cases/"))
        assert page.locator("#case-state").inner_text() == "待确认"
        assert accessibility_problems(page) == []
        page.get_by_label("备注（可选）").fill("已到班级接学生")
        page.get_by_role("button", name="确认接案", exact=True).click()
        page.wait_for_url(re.compile(r"done=done_ok"))
        assert page.locator("#case-state").inner_text() == "已确认"
        assert page.get_by_role("status").inner_text().endswith("已保存。")
        page.get_by_role("link", name="工作队列").click()
        assert "已确认" in page.locator("#queue tbody tr").first.inner_text()
        desk.close()


def test_head_teacher_sees_completion_but_no_scores(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    codes = off_loop(seed, settings, now=T0, students=12).access_codes
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        # Students 0 and 6 are in headteacher1's class; 0 finishes (with a red flag).
        _api_submit(base, codes[0], asq={"q1": 1, "q2": 1, "q3": 0, "q4": 0, "q5": 1}, gad7=3)
        desk = browser.new_context(**DESKTOP)
        page = desk.new_page()
        login(page, base, "headteacher1")
        page.wait_for_url(re.compile(r"/staff/class$"))
        body = page.inner_text("body")
        assert "1 / 2 人已完成" in body
        not_done = page.locator("table.not-done tbody tr")
        assert not_done.count() == 1 and "未开始" in not_done.first.inner_text()
        assert "需要关注的学生" in body and "开学谈心谈话" in body
        for word in ("得分", "总分", "分数", "score", "PHQ", "GAD", "ASQ", "一级", "危机", "原因"):
            assert word not in body, word
        assert accessibility_problems(page) == []
        page.get_by_role("link", name=re.compile("查看档案")).first.click()
        page.wait_for_url(re.compile(r"/staff/students/"))
        body = page.inner_text("body")
        for word in ("得分", "总分", "score", "phq", "gad7", "asq", "minimal", "moderate"):
            assert word not in body.lower(), word
        assert "筛查结果仅心理老师可见" in body
        desk.close()
