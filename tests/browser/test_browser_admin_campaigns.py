"""Issue 13 in a real browser on a 390 px phone: the school administrator lists the campaigns,
sends the campaign wizard with a battery the service refuses, previews a roster file with an
error and a clean one, and imports it — no accessibility problem on any of these states."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from browser_support import PHONE, accessibility_problems, login, off_loop, press
from svc_support import live_server, make_settings, roster_csv, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _upload(page: Any, name: str, body: bytes, mode: str) -> None:
    page.set_input_files(
        "#roster-file", files=[{"name": name, "mimeType": "text/csv", "buffer": body}]
    )
    page.locator(f"label[for='mode-{mode}']").click()
    press(page, "预览（不写入）")


def test_campaigns_and_roster_on_a_phone(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    off_loop(seed, settings, now=T0)
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "admin1")

        page.goto(f"{base}/staff/admin/campaigns")
        rows = page.locator("#campaigns tbody tr")
        assert rows.count() == 1 and "进行中" in rows.first.inner_text()
        assert accessibility_problems(page) == []

        page.get_by_role("link", name="新建筛查活动").click()
        page.wait_for_url(re.compile(r"/staff/admin/campaigns/new$"))
        page.locator("label[for='g8-asq']").click()  # English only, no fallback allowed
        press(page, "创建筛查活动")
        alert = page.get_by_role("alert")
        assert "8 年级问卷" in alert.inner_text() and "没有中文版本" in alert.inner_text()
        assert page.locator("#g8-asq").is_checked()  # the values as typed
        assert accessibility_problems(page) == []

        page.goto(f"{base}/staff/admin/roster")
        assert accessibility_problems(page) == []
        _upload(page, "bad.csv", roster_csv([["N1", "甲", "X", "8", "1班"]]), "incremental")
        assert "第 2 行" in page.locator("#row-errors").inner_text()
        assert page.locator("#confirm-form").count() == 0
        assert accessibility_problems(page) == []

        page.get_by_role("link", name="重新选择文件").click()
        _upload(
            page, "new.csv", roster_csv([["N2", "新同学", "女", "8", "八年级1班"]]), "incremental"
        )
        assert page.locator("[data-count=create]").inner_text() == "1"
        assert accessibility_problems(page) == []
        press(page, "确认导入")
        result = page.locator("#roster-result")
        assert "名册已导入" in result.inner_text()
        assert accessibility_problems(page) == []
        phone.close()
