"""Issue 13: the care workflow of the case page on a 390 px phone — the care group, an
incident and its review report (the live character counter, the 422 with the text kept), a
referral, and the district officer's transfer page: no accessibility problem on any state, and
nothing scrolls sideways at 320 and 640 px."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from browser_support import PHONE, accessibility_problems, check_reflow, login, off_loop
from svc_support import battery_answers, live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}


def _submit(base: str, code: str) -> None:
    with httpx.Client(base_url=base, timeout=15) as http:
        s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
        r = http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": battery_answers(RED)},
        )
        assert r.status_code == 201, r.text


def _clean(page: Any, state: str) -> None:
    problems = accessibility_problems(page)
    assert problems == [], (state, problems)


def test_case_care_workflow_on_a_phone(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    codes = off_loop(seed, settings, now=T0, students=12).access_codes
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        _submit(base, codes[0])
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "counsellor1")
        page.locator("#queue tbody tr").first.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/staff/cases/[0-9a-f-]{36}$"))
        case_url = page.url
        _clean(page, "case")

        # The care group: add the counsellor, shown as a card with the role.
        page.get_by_text("加入成员").click()
        page.get_by_label("教职工").select_option(label="林静（心理老师）")
        page.get_by_label("在关爱小组中的身份").select_option(label="心理老师")
        page.locator("#add-staff").get_by_role("button").click()
        page.wait_for_url(re.compile(r"done=done_ok"))
        row = page.locator("#care-group tbody tr").first
        assert "林静" in row.inner_text() and "心理老师" in row.inner_text()
        _clean(page, "care group")

        # An incident, then a report that is too short: the counter counts as the service does,
        # the refusal keeps the text.
        page.get_by_text("登记极端事件").click()
        page.get_by_label("事件类型").select_option(label="自伤")
        page.get_by_label("经过").fill("课间在走廊发现学生手臂有划伤，已陪同到医务室。")
        page.get_by_role("button", name="登记事件").click()
        page.wait_for_url(re.compile(r"done=done_ok"))
        assert "复盘报告截止" in page.inner_text("#incidents-title + p + article")
        report = page.get_by_label(re.compile("复盘报告（"))
        report.fill("  调查经过" * 20 + "  ")
        counter = page.locator("[data-count]").first
        assert counter.inner_text() == str(len(("  调查经过" * 20).strip()))
        page.get_by_role("button", name="提交复盘报告").click()
        page.wait_for_load_state()
        assert page.get_by_role("alert").first.inner_text().startswith("复盘报告至少需要 3000 字")
        assert page.get_by_label(re.compile("复盘报告（")).input_value().startswith("  调查经过")
        _clean(page, "report refused")

        # A referral, with the form for its next stage.
        page.goto(case_url)
        page.get_by_text("转介到合作医院").click()
        page.get_by_label("医院", exact=True).fill("市精神卫生中心")
        page.get_by_role("button", name="转介", exact=True).click()
        page.wait_for_url(re.compile(r"done=done_ok"))
        assert "已发出" in page.locator("#referrals tbody tr").first.inner_text()
        assert page.get_by_role("button", name=re.compile("记录：医院已接收")).is_visible()
        _clean(page, "referral")
        assert check_reflow(page, case_url) == []
        phone.close()

        # The district officer's transfer page, de-identified.
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "district1")
        page.goto(case_url)
        _clean(page, "district case")
        page.locator("#transfer-school").select_option(index=1)
        page.get_by_role("button", name="下一步：选择班级").click()
        page.wait_for_url(re.compile(r"/transfer\?school="))
        _clean(page, "transfer")
        page.get_by_label("转入班级").select_option(index=1)
        page.get_by_role("button", name="确认转学").click()  # not ticked: the browser asks
        assert "/transfer?school=" in page.url
        assert check_reflow(page, page.url) == []
        phone.close()
