"""Issue 13 in a real browser on a 390 px phone: a school administrator adds a staff account
(first with a username already taken), reads its one-time password, and the new counsellor is
made to choose their own password at first sign-in. Every page state passes the accessibility
checks and nothing scrolls sideways."""

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


def _fine(page: Any) -> None:
    assert accessibility_problems(page) == [], page.url
    assert page.evaluate(SIDEWAYS) <= 1, page.url


def test_admin_adds_an_account_that_changes_its_one_time_password(
    database_url: str, browser: Any
) -> None:
    settings = make_settings(database_url)
    off_loop(seed, settings, now=T0)
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "admin1")
        page.goto(f"{base}/staff/admin/staff")
        assert page.locator("#accounts tbody tr").count() >= 4
        assert "心理老师" in page.locator("#accounts").inner_text()
        _fine(page)

        page.get_by_role("link", name="新增账号").click()
        page.wait_for_url(re.compile(r"/staff/admin/staff/new$"))
        page.get_by_label("用户名").fill("counsellor1")
        page.get_by_label("姓名").fill("张敏")
        page.get_by_label("角色").select_option("counsellor")
        press(page, "创建账号")
        assert "已被使用" in page.get_by_role("alert").inner_text()
        assert page.get_by_label("姓名").input_value() == "张敏"
        _fine(page)

        page.get_by_label("用户名").fill("zhang.min")
        press(page, "创建账号")
        password = page.locator("#one-time-password").inner_text().strip()
        assert len(password) >= 10 and "只显示这一次" in page.inner_text("main")
        _fine(page)
        phone.close()

        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "zhang.min", password)
        page.wait_for_url(re.compile(r"/staff/password\?next="))
        assert page.locator("#forced-change").is_visible()
        _fine(page)
        page.get_by_label("当前密码").fill(password)
        page.get_by_label("新密码", exact=True).fill("zhang-min-own-pw")
        page.get_by_label("再次输入新密码").fill("zhang-min-typo")
        press(page, "修改密码")
        assert "不一致" in page.get_by_role("alert").inner_text()
        _fine(page)
        page.get_by_label("当前密码").fill(password)
        page.get_by_label("新密码", exact=True).fill("zhang-min-own-pw")
        page.get_by_label("再次输入新密码").fill("zhang-min-own-pw")
        press(page, "修改密码")
        page.wait_for_url(re.compile(r"/staff/queue\?done=acct_password_changed$"))
        assert page.get_by_role("status").first.inner_text().endswith("密码已修改。")
        phone.close()
