"""Issue 13 in a real browser on a 390 px phone: the school lead sets a WeCom robot for the
counsellors (first with an address that lacks its key) and changes the school calendar (first
with a term that ends before it starts). The robot's key is never shown once saved. Every page
state passes the accessibility checks and nothing scrolls sideways."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from browser_support import PHONE, accessibility_problems, login, off_loop, press
from svc_support import live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=PHONEKEY-31"


def _fine(page: Any) -> None:
    assert accessibility_problems(page) == [], page.url
    assert page.evaluate(SIDEWAYS) <= 1, page.url


def test_lead_sets_a_robot_and_the_calendar_on_a_phone(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    off_loop(seed, settings, now=T0, webhook_url="https://hooks.example.org/hook")
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "lead1")
        page.goto(f"{base}/staff/admin")
        page.get_by_role("link", name="通知渠道").click()
        page.wait_for_url(re.compile(r"/staff/admin/routes$"))
        assert "签名 Webhook" in page.locator("#routes-now").inner_text()
        _fine(page)

        page.locator("#role-0").select_option("counsellor")
        page.locator("#kind-0").select_option("wecom")
        page.locator("#target-0").fill(WECOM.partition("?")[0])
        press(page, "保存通知路由")
        assert "通道 1 的「地址」有误" in page.get_by_role("alert").inner_text()
        assert page.locator("#target-0").get_attribute("aria-invalid") == "true"
        _fine(page)

        page.locator("#target-0").fill(WECOM)
        press(page, "保存通知路由")
        page.wait_for_url(re.compile(r"/staff/admin/routes\?done=done_ok$"))
        assert page.get_by_role("status").inner_text().endswith("已保存。")
        assert "https://qyapi.weixin.qq.com/…" in page.locator("#routes-now").inner_text()
        assert "PHONEKEY-31" not in page.content()
        _fine(page)

        page.goto(f"{base}/staff/admin")
        page.get_by_role("link", name="校历").click()
        page.wait_for_url(re.compile(r"/staff/admin/calendar$"))
        assert "正在使用" in page.locator("#calendar-years").inner_text()
        _fine(page)

        page.locator("#term-0-end").fill("2026-08-01")
        page.locator("#holiday-2-start").fill("2026-09-25")
        press(page, "保存校历")
        assert "第 1 学期的结束日期早于开始日期" in page.get_by_role("alert").inner_text()
        assert page.locator("#holiday-2-start").input_value() == "2026-09-25"
        _fine(page)

        page.locator("#term-0-end").fill("2027-01-22")
        press(page, "保存校历")
        page.wait_for_url(re.compile(r"/staff/admin/calendar\?done=done_ok&year=2026-2027$"))
        assert page.get_by_role("status").inner_text().endswith("已保存。")
        assert "13 天" in page.locator("#calendar-years").inner_text()
        _fine(page)
        phone.close()
