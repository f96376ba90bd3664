"""A student in a real browser: a phone-sized screen, resuming half-way, keyboard only, and
accessibility checks of every student page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from browser_support import (
    DESKTOP,
    PHONE,
    accessibility_problems,
    answer_part,
    check_reflow,
    off_loop,
    press,
)
from svc_support import live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _setup(database_url: str, students: int = 6) -> tuple[Any, list[str]]:
    settings = make_settings(database_url)
    codes = off_loop(seed, settings, now=T0, students=students).access_codes
    return create_app(settings, clock=ManualClock(T0)), codes


def test_phone_completes_the_battery_with_a_resume(database_url: str, browser: Any) -> None:
    app, codes = _setup(database_url)
    code = codes[0]
    problems: dict[str, list[str]] = {}
    with live_server(app) as base:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.goto(f"{base}/")
        problems["entry"] = accessibility_problems(page)
        page.get_by_label("登录码").fill(code.lower())
        page.get_by_role("button", name="开始").click()
        page.wait_for_url(re.compile(r"/start(\?fresh=1)?$"))
        problems["notice"] = accessibility_problems(page)
        page.get_by_role("link", name="我已了解，开始作答").click()
        page.wait_for_url(re.compile(r"/q/1$"))
        assert page.get_by_text("第 1 部分，共 3 部分").is_visible()
        problems["part 1"] = accessibility_problems(page)
        answer_part(page)
        press(page, "下一步")
        page.wait_for_url(re.compile(r"/q/2(\?fresh=1)?$"))
        problems["part 2"] = accessibility_problems(page)
        # Two answers of part 2 (saved as they are chosen), then the tab is closed.
        with page.expect_response(lambda r: r.request.method == "POST") as saved:
            page.locator("label[for='i-item1-2']").click()
        assert saved.value.status == 204
        with page.expect_response(lambda r: r.request.method == "POST"):
            page.locator("label[for='i-item2-1']").click()
        page.close()

        # Reopening the access link (the QR code) resumes at part 2 with both answers.
        page = context.new_page()
        page.goto(f"{base}/s/{code}")
        page.wait_for_url(re.compile(r"/q/2(\?fresh=1)?$"))
        assert page.locator("#i-item1-2").is_checked() and page.locator("#i-item2-1").is_checked()
        answer_part(page, {"item1": 2, "item2": 1}, default=1)
        press(page, "下一步")
        page.wait_for_url(re.compile(r"/q/3$"))
        problems["part 3"] = accessibility_problems(page)
        assert page.locator("div[lang=en] h1").inner_text().startswith("Ask Suicide")
        answer_part(page)
        press(page, "下一步")
        page.wait_for_url(re.compile(r"/review$"))
        problems["review"] = accessibility_problems(page)
        assert page.get_by_text("已答 7 / 7 题").is_visible()
        page.get_by_role("button", name="提交问卷").click()
        page.wait_for_url(re.compile(r"/thanks$"))
        problems["thanks"] = accessibility_problems(page)
        body = page.inner_text("body")
        assert "谢谢你" in body and "12356" in body and "12355" in body and "心理辅导室" in body
        assert not any(w in body.lower() for w in ("得分", "score", "分段", "band"))
        page.goto(f"{base}/s/NOPE0-NOPE0")
        problems["error"] = accessibility_problems(page)
        context.close()
    assert {k: v for k, v in problems.items() if v} == {}


def test_keyboard_only_with_red_flag_and_zoom(database_url: str, browser: Any) -> None:
    """Tab and Space only; ASQ question 5 answered yes; the urgent help text shows. The
    pages reflow at 200 % and 400 % zoom without sideways scrolling."""
    app, codes = _setup(database_url)
    code = codes[1]
    with live_server(app) as base:
        context = browser.new_context(**DESKTOP)
        page = context.new_page()
        page.goto(f"{base}/?lang=en")
        assert page.get_attribute("html", "lang") == "en"
        focused = lambda: page.evaluate(  # noqa: E731
            "() => [document.activeElement.tagName, document.activeElement.id, "
            "document.activeElement.name, document.activeElement.textContent.trim()]"
        )
        for _ in range(10):
            page.keyboard.press("Tab")
            if focused()[1] == "access_code":
                break
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/start(\?fresh=1)?$"))
        for _ in range(10):
            page.keyboard.press("Tab")
            if focused()[3].startswith("I understand"):
                break
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/q/1$"))
        for part in (1, 2, 3):
            groups = 0
            for _ in range(200):
                page.keyboard.press("Tab")
                tag, _, name, text = focused()
                if tag == "INPUT" and name.startswith("item-"):
                    # Arrow keys move within a group; Space selects. ASQ q5 gets "yes"
                    # (the first option), every other item the first option too, except
                    # ASQ q1-q4 which get "no" (the second).
                    if part == 3 and name != "item-q5":
                        page.keyboard.press("ArrowDown")
                    page.keyboard.press("Space")
                    groups += 1
                elif tag == "BUTTON" and text == "Next":
                    outline = page.evaluate(
                        "() => getComputedStyle(document.activeElement).outlineStyle"
                    )
                    assert outline != "none"  # a visible focus indicator
                    with page.expect_navigation():
                        page.keyboard.press("Enter")
                    break
            assert groups >= 5
        page.wait_for_url(re.compile(r"/review$"))
        for _ in range(40):
            page.keyboard.press("Tab")
            if focused()[3] == "Submit":
                break
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/thanks$"))
        alert = page.get_by_role("alert")
        assert "stay with them" in alert.inner_text()
        assert "counsellor is being told now" in alert.inner_text()
        assert accessibility_problems(page) == []
        problems = []
        for path in ("/", f"/s/{code}/thanks", f"/s/{codes[2]}"):
            problems += check_reflow(page, f"{base}{path}")
        context.close()
    assert problems == []


def test_the_accessibility_checks_find_problems(database_url: str, browser: Any) -> None:
    """The checks above are only worth their zero if they catch what they look for."""
    page = browser.new_page()
    page.set_content(
        "<html><head><title>x</title></head><body>"
        "<h3>skipped levels</h3><input type=text name=unlabelled>"
        "<p style='color:#aaa;background:#fff'>faint text</p>"
        "<button style='height:20px;width:20px;padding:0'>x</button><button></button>"
        "<img src='data:,'><ul><div>bad child</div></ul>"
        "<div id=a></div><div id=a></div></body></html>"
    )
    found = " | ".join(accessibility_problems(page))
    page.close()
    for expected in (
        "html lang",
        "without a label: unlabelled",
        "contrast",
        "target smaller than 44px",
        "control without a name",
        "image without alt",
        "list child DIV",
        "duplicate id a",
        "needs exactly one h1",
    ):
        assert expected in found, expected
