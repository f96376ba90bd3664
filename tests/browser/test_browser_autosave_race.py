"""Autosave raced against navigation in a real browser (issue 17).

Playwright holds back every autosave request the page's script sends, lets the student press
Next, and releases the held requests only once the next page has loaded — newest first, so
they reach the server late and out of order. Every answer the student clicked, the last one
per item, must be what is stored and scored.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from browser_support import PHONE, off_loop, press
from page_support import sql
from svc_support import live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)

# Per part: the clicks in order (item, value); an item clicked twice keeps its last value.
CLICKS: list[list[tuple[str, int]]] = [
    [(f"item{i}", 1) for i in range(1, 10)]
    + [("item9", 3), ("item9", 0), ("item2", 2), ("difficulty", 1), ("difficulty", 0)],
    [(f"item{i}", 2) for i in range(1, 8)] + [("item3", 0), ("item3", 3)],
    [("q1", 0), ("q5", 0), ("q5", 1), ("q2", 1), ("q2", 0)],
]


def _expected() -> list[dict[str, int]]:
    return [dict(clicks) for clicks in CLICKS]


def test_late_and_reordered_autosaves_never_change_a_clicked_answer(
    database_url: str, browser: Any
) -> None:
    settings = make_settings(database_url)
    code = off_loop(seed, settings, now=T0).access_codes[0]
    held: list[Any] = []

    def hold_autosave(route: Any) -> None:
        request = route.request
        if request.method == "POST" and "nav=stay" in (request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    def release_newest_first() -> int:
        released = 0
        while held:
            held.pop().continue_()
            released += 1
        return released

    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.route(re.compile(r".*/s/[^/]+/q/\d+$"), hold_autosave)
        page.goto(f"{base}/s/{code}")
        page.get_by_role("link", name="我已了解，开始作答").click()
        page.wait_for_url(re.compile(r"/q/1$"))
        released = 0
        for n, clicks in enumerate(CLICKS, start=1):
            for item, value in clicks:
                page.locator(f"label[for='i-{item}-{value}']").click()
            press(page, "下一步")
            if n == len(CLICKS):
                # ASQ questions left blank are asked about once (issue 11): Next again.
                page.wait_for_url(re.compile(r"/q/3\?ask=1"))
                released += release_newest_first()
                press(page, "下一步")
            page.wait_for_url(re.compile(r"/review$" if n == len(CLICKS) else rf"/q/{n + 1}$"))
            released += release_newest_first()
        assert released == sum(len(c) for c in CLICKS)  # every click sent an autosave, held
        # The review page reads what will be submitted: re-open it after the late saves.
        page.reload()
        for n, clicks in enumerate(_expected(), start=1):
            assert (
                f"已答 {len(clicks)} /" in page.locator(f"#review-{n}").locator("..").inner_text()
            )
        page.get_by_role("button", name="提交问卷").click()
        page.wait_for_url(re.compile(r"/thanks$"))
        context.close()

    rows = off_loop(sql, database_url, "SELECT instrument_id, answers FROM responses")
    stored = {r[0]: json.loads(r[1]) if isinstance(r[1], str) else dict(r[1]) for r in rows}
    for instrument_id, clicked in zip(("phq9", "gad7", "asq"), _expected(), strict=True):
        answered = {k: v for k, v in stored[instrument_id].items() if v is not None}
        assert answered == clicked, instrument_id
    tiers = [t[0] for t in off_loop(sql, database_url, "SELECT tier FROM triage_results")]
    assert tiers == ["red"]  # ASQ q5 "yes" (the last click) is acute
