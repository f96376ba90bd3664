"""The student pages over real HTTP, without JavaScript: code → notice → one part at a time →
review → submit → thank-you."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from page_support import answer, item_names, no_scores
from svc_support import another_client, app_client, count_rows, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def test_student_completes_the_screening_with_plain_forms(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    code = seeded.access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=10, follow_redirects=True
    ) as http:
        entry = http.get("/")
        assert entry.status_code == 200 and '<html lang="zh-CN">' in entry.text
        assert "12356" in entry.text and "12355" in entry.text
        notice = http.post("/s", data={"access_code": code.lower(), "lang": "zh-CN"})
        assert notice.status_code == 200 and notice.url.path == f"/s/{code.lower()}/start"
        assert "只有学校心理老师能看到" in notice.text
        pages = []
        for n in (1, 2, 3):
            page = http.get(f"/s/{code}/q/{n}")
            assert f"第 {n} 部分，共 3 部分" in page.text and "<progress" in page.text
            pages.append(page.text)
            nxt = answer(http, code, n, default=1 if n == 2 else 0)
            assert nxt.status_code == 200
        assert "感觉紧张，焦虑或急切" in pages[1]  # GAD-7 item 1, published Chinese wording
        assert 'lang="en"' in pages[2]  # ASQ has no published Chinese version: marked English
        assert len(item_names(pages[2])) == 5
        review = http.get(f"/s/{code}/review")
        assert "检查你的答案" in review.text and "已答 7 / 7 题" in review.text
        done = http.post(f"/s/{code}/submit")
        assert done.status_code == 200 and done.url.path == f"/s/{code}/thanks", done.text
        assert "谢谢" in done.text and "12356" in done.text and "12355" in done.text
        assert "心理辅导室" in done.text  # the school's counselling room, hours and place
        assert "现在请找" not in done.text  # no urgent text without a red flag
        assert no_scores(done.text) == [] and no_scores(review.text) == []
        # A second post (double click, back button) changes nothing.
        again = http.post(f"/s/{code}/submit")
        assert again.status_code == 200 and again.url.path == f"/s/{code}/thanks"
        assert run(count_rows(database_url, "responses"))["responses"] == 3
        # Opening the link again in the same browser shows the thank-you page again.
        assert http.get(f"/s/{code}").url.path == f"/s/{code}/thanks"
        # Another device (no cookie): the code is used up.
        with another_client(http, follow_redirects=True) as device:
            used = device.get(f"/s/{code}?lang=en")
        assert used.status_code == 409 and '<html lang="en">' in used.text
        assert "already been used" in used.text


def test_unknown_code_page_is_clear(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        r = http.get("/s/NOPE0-NOPE0")
        assert r.status_code == 404 and "登录码无效" in r.text
        escaped = http.get("/s/%3Cscript%3E")
        assert "<script>" not in escaped.text
