"""Issue 13: one campaign's pages on a 390 px phone, in a real browser: the campaign page, the
slip confirmation, the printed slips, a consent spreadsheet with an error, the non-completers
and a reminder — with the accessibility checks on every state."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from browser_support import PHONE, accessibility_problems, login, off_loop, press
from page_support import sql, uid
from svc_support import live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai


def test_campaign_pages_on_a_phone(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    off_loop(seed, settings, now=T0, students=12)
    ((found,),) = off_loop(
        sql,
        database_url,
        "SELECT c.id FROM campaigns c JOIN schools s ON s.id = c.school_id WHERE s.code = 'DEMO-A'",
    )
    campaign_id = uid(found)
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "admin1")

        # The campaign page: per class counts as cards.
        page.goto(f"{base}/staff/admin/campaigns/{campaign_id}")
        assert page.locator("#campaign-status").inner_text() == "进行中"
        assert page.locator("#campaign-classes tbody tr").count() == 3
        assert accessibility_problems(page) == []

        # The slip confirmation says what printing voids, and asks.
        page.locator("#campaign-classes tbody tr").first.get_by_role(
            "link", name="打印登录条"
        ).click()
        page.wait_for_url(re.compile(r"/slips$"))
        assert "还有 2 个没有使用" in page.locator("#slips-void").inner_text()
        assert accessibility_problems(page) == []
        page.get_by_label(re.compile("我知道这 2 个没有使用的登录码会失效")).check()
        press(page, "打印登录条")
        assert page.locator("article.slip").count() == 2
        problems = accessibility_problems(page)
        assert problems == []

        # A consent spreadsheet with an error: every row shown with its problem.
        page.goto(f"{base}/staff/admin/campaigns/{campaign_id}/consents")
        assert accessibility_problems(page) == []
        csv = "学号,同意\n202600001,同意\n999,不同意\n202600007,也许\n".encode()
        page.get_by_label("表格文件（.csv 或 .xlsx）").set_input_files(
            {"name": "consents.csv", "mimeType": "text/csv", "buffer": csv}
        )
        press(page, "上传并预览")
        assert "有 2 行有问题" in page.locator("#preview-errors").inner_text()
        assert page.locator("#preview-rows tr.has-problem").count() == 2
        assert page.locator("#confirm-import").count() == 0
        assert accessibility_problems(page) == []

        # The non-completers of a class, and a reminder to its head teacher.
        page.goto(f"{base}/staff/admin/campaigns/{campaign_id}")
        page.locator("#campaign-classes tbody tr").first.get_by_role(
            "link", name="未完成名单"
        ).click()
        page.wait_for_url(re.compile(r"/non-completers$"))
        assert page.locator("#non-completers tbody tr").count() == 2
        assert accessibility_problems(page) == []
        press(page, "提醒八年级1班班主任")
        assert "已提醒 1 位班主任" in page.locator("#reminded").inner_text()
        assert accessibility_problems(page) == []
        phone.close()
