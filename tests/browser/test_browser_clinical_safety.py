"""The clinical-safety pages in a real browser, with the accessibility checks (issue 11):
the gentle question about a blank critical item, the thank-you page of a student on the suicide
pathway, and the school lead's on-call rota page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from browser_support import DESKTOP, PHONE, accessibility_problems, answer_part, login, off_loop
from browser_support import press as press_button
from page_support import SCORE_WORDS
from svc_support import live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def test_a_blank_suicide_question_is_asked_once_then_help_is_shown(
    database_url: str, browser: Any
) -> None:
    settings = make_settings(database_url)
    code = off_loop(seed, settings, now=T0).access_codes[0]
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.goto(f"{base}/s/{code}")
        page.get_by_role("link", name="我已了解，开始作答").click()
        page.wait_for_url(re.compile(r"/q/1$"))
        answer_part(page, {"item9": None})  # everything but PHQ-9 item 9
        press_button(page, "下一步")
        # Asked once, gently, at that question; the part keeps the answers given.
        page.wait_for_url(re.compile(r"/q/1\?ask=1"))
        note = page.locator("#ask-item9")
        assert note.is_visible() and "这道题对我们很重要" in note.inner_text()
        assert page.locator("input[name=item-item1][value='0']").is_checked()
        assert accessibility_problems(page) == []
        press_button(page, "下一步")  # still blank: the student may leave it
        page.wait_for_url(re.compile(r"/q/2$"))
        for step in (2, 3):
            answer_part(page)
            press_button(page, "下一步")
            if step == 3:
                page.wait_for_url(re.compile(r"/review$"))
        page.get_by_role("button", name="提交问卷").click()
        page.wait_for_url(re.compile(r"/thanks$"))
        # A blank critical question is the suicide pathway: the help lines come first.
        support = page.locator("#support")
        assert support.is_visible() and "12356" in support.inner_text()
        body = page.inner_text("body").lower()
        assert [w for w in SCORE_WORDS if w in body] == []
        assert accessibility_problems(page) == []
        context.close()


def test_the_school_lead_edits_the_on_call_rota(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    off_loop(seed, settings, now=T0)
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        context = browser.new_context(**DESKTOP)
        page = context.new_page()
        login(page, base, "lead1")
        page.goto(f"{base}/staff/on-call")
        assert page.get_by_role("heading", name=re.compile("校外时间值班表")).is_visible()
        assert page.locator("#on-call-default").is_visible()  # no rota yet: the default
        assert accessibility_problems(page) == []
        page.locator("#who-0").select_option("role:counsellor")
        page.locator("input[name=outside_0]").check()
        page.get_by_role("button", name="保存", exact=True).click()
        page.wait_for_load_state()
        assert page.locator("#on-call-default").count() == 0
        assert "心理" in page.locator("#on-call-members").inner_text()
        assert accessibility_problems(page) == []
        context.close()
