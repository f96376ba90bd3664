"""The student pages over real HTTP, without JavaScript: code → form → thank-you."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from svc_support import count_rows, live_server, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def test_student_completes_the_screening_with_plain_forms(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    with (
        live_server(create_app(settings, clock=ManualClock(T0))) as base,
        httpx.Client(base_url=base, timeout=10, follow_redirects=True) as http,
    ):
        entry = http.get("/")
        assert entry.status_code == 200 and '<html lang="zh-CN">' in entry.text
        assert "12356" in entry.text and "12355" in entry.text
        form = http.post(
            "/s", data={"access_code": seeded.access_codes[0].lower(), "lang": "zh-CN"}
        )
        assert form.status_code == 200
        assert "感觉紧张，焦虑或急切" in form.text  # GAD-7 item 1, published Chinese wording
        assert 'lang="en"' in form.text  # ASQ has no published Chinese version: marked English
        fields = {
            name: _hidden(form.text, name)
            for name in ("lang", "session_id", "session_token", "idempotency_key", "instruments")
        }
        answers = {f"phq-a:item{i}": "0" for i in range(1, 10)}
        answers.update({f"gad7:item{i}": "1" for i in range(1, 8)})
        answers.update({"asq:q1": "0", "asq:q2": "0", "asq:q3": "0", "asq:q4": "0"})
        done = http.post(f"/s/{seeded.access_codes[0]}/submit", data={**fields, **answers})
        assert done.status_code == 200, done.text
        assert "谢谢" in done.text and "12356" in done.text
        for word in ("score", "tier", "得分", "风险"):
            assert word not in done.text.lower()
        # A second post of the same form (double click) changes nothing.
        again = http.post(f"/s/{seeded.access_codes[0]}/submit", data={**fields, **answers})
        assert again.status_code == 200
        assert run(count_rows(database_url, "responses"))["responses"] == 3
        used = http.get(f"/s/{seeded.access_codes[0]}?lang=en")
        assert used.status_code == 409 and '<html lang="en">' in used.text
        assert "already been used" in used.text


def test_unknown_code_page_is_clear(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        r = httpx.get(f"{base}/s/NOPE0-NOPE0")
        assert r.status_code == 404 and "登录码无效" in r.text
        escaped = httpx.get(f"{base}/s/%3Cscript%3E")
        assert "<script>" not in escaped.text
