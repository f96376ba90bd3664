"""Student pages in depth: resuming from the cookie without a new token, saving as the student
goes, the red-flag thank-you page, cookies and headers, language, consent notice, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from page_support import answer, complete, item_names, no_scores, set_cookie_headers, sql
from svc_support import another_client, app_client, live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
RED = [None, None, {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}]


def _token(http: httpx.Client) -> tuple[str, str]:
    """(session id, token) from the student's signed cookie."""
    value = http.cookies.get("rx_s", path="/s")
    assert value, "no student cookie"
    sid, _, token = value.rpartition(".")[0].partition(":")
    return sid, token


def test_resume_keeps_the_token_and_the_answers(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=10, follow_redirects=True
    ) as tab:
        tab.get(f"/s/{code}")
        sid, token = _token(tab)
        answer(tab, code, 1)
        # One answer of part 2 saved as it is chosen (the page's script), then the tab closes.
        saved = tab.post(f"/s/{code}/q/2", data={"item-item1": "2", "nav": "stay"})
        assert saved.status_code == 204
        reopened = tab.get(f"/s/{code}")
        assert reopened.url.path == f"/s/{code}/q/2" and not reopened.url.query
        assert 'id="i-item1-2" name="item-item1" value="2" checked' in reopened.text
        assert _token(tab) == (sid, token)  # not rotated: an open second tab keeps working
        with another_client(tab) as script:
            api = script.put(
                f"/api/v1/student/sessions/{sid}/answers",
                headers={"Authorization": f"Bearer {token}"},
                json={"answers": {"gad7": {"item2": 1}}},
            )
        assert api.status_code == 200, api.text

        # "Save and continue later" keeps the student on the unfinished part.
        later = answer(tab, code, 2, {"item3": 1}, default=None, nav="exit")
        assert later.url.path == f"/s/{code}/saved"
        assert tab.get(f"/s/{code}").url.path == f"/s/{code}/q/2"

        # Another device: the service issues a new token; the saved answers come along.
        with another_client(tab, timeout=10, follow_redirects=True) as phone:
            there = phone.get(f"/s/{code}")
            assert there.url.path == f"/s/{code}/q/2"
            assert 'value="1" checked' in there.text
            assert _token(phone)[1] != token
            # Skipping the rest of part 2 on purpose (Next) moves on to part 3.
            assert answer(phone, code, 2, default=None).url.path == f"/s/{code}/q/3"
        # The first tab's token is now stale: it starts over (new token), answers intact.
        back = tab.get(f"/s/{code}")
        assert back.url.path == f"/s/{code}/q/3" and _token(tab)[1] != token
        review = tab.get(f"/s/{code}/review")
        assert "已答 3 / 7 题" in review.text  # gad7: item1, item2 (API), item3


def test_red_flag_case_exists_before_the_thank_you_page(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[1]
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=10) as http:
        http.get(f"/s/{code}", follow_redirects=True)
        for n, values in enumerate(RED, start=1):
            answer_r = http.post(
                f"/s/{code}/q/{n}",
                data={
                    name: str((values or {}).get(name[5:], 0))
                    for name in item_names(http.get(f"/s/{code}/q/{n}").text)
                }
                | {"nav": "next"},
            )
            assert answer_r.status_code == 303
        posted = http.post(f"/s/{code}/submit")
        assert posted.status_code == 303 and posted.headers["location"] == f"/s/{code}/thanks"
        # The case is stored (committed) before the thank-you page is even asked for.
        assert sql(database_url, "SELECT tier, status FROM cases") == [("red", "open")]
        thanks = http.get(f"/s/{code}/thanks")
        assert thanks.status_code == 200
        assert "现在请找一位你信任的大人" in thanks.text and "心理老师已经收到通知" in thanks.text
        # The help box names a person after the role, not the role twice.
        assert "心理老师 心理老师" not in thanks.text
        assert 'role="alert"' in thanks.text
        assert no_scores(thanks.text) == []


def test_cookies_headers_and_https(database_url: str) -> None:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0).access_codes
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        r = httpx.get(f"{base}/s/{codes[0]}", follow_redirects=True)
        (cookie,) = set_cookie_headers(r, "rx_s")
        flags = cookie.lower()
        assert "httponly" in flags and "samesite=lax" in flags and "path=/s" in flags
        assert "secure" not in flags
        page = r.headers
        assert page["cache-control"] == "no-store" and page["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page["content-security-policy"]
        # Behind a TLS proxy (X-Forwarded-Proto from a trusted address) the cookie is Secure.
        s = httpx.get(
            f"{base}/s/{codes[1]}", headers={"X-Forwarded-Proto": "https"}, follow_redirects=False
        )
        (secure,) = set_cookie_headers(s, "rx_s")
        assert "secure" in secure.lower()
        # A tampered cookie is ignored (a fresh start), never trusted.
        with httpx.Client(base_url=base, follow_redirects=True) as http:
            http.get(f"/s/{codes[2]}")
            good = http.cookies.get("rx_s", path="/s")
            assert good
            http.cookies.set("rx_s", good[:-3] + "abc", domain="127.0.0.1", path="/s")
            again = http.get(f"/s/{codes[2]}")
            assert again.status_code == 200 and set_cookie_headers(again, "rx_s")
        # A browser that keeps no cookies is told so, not sent round in circles.
        first = httpx.get(f"{base}/s/{codes[3]}")
        assert first.status_code == 303 and first.headers["location"].endswith("?fresh=1")
        stuck = httpx.get(base + first.headers["location"])
        assert stuck.status_code == 400 and "Cookie" in stuck.text


def test_language_switch_and_lang_attributes(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=10, follow_redirects=True
    ) as http:
        assert '<html lang="zh-CN">' in http.get("/").text
        en = http.get("/?lang=en")
        assert '<html lang="en">' in en.text and "Start the questionnaire" in en.text
        assert '<html lang="en">' in http.get("/").text  # remembered in a cookie
        part = http.get(f"/s/{code}").text
        assert "I understand, start" in part
        gad = http.get(f"/s/{code}/q/2?lang=zh-CN").text
        assert '<html lang="zh-CN">' in gad and "感觉紧张，焦虑或急切" in gad
        asq = http.get(f"/s/{code}/q/3").text
        assert '<div lang="en">' in asq and 'lang="zh-CN"><strong>提示' in asq


def test_consent_notice_only_where_the_campaign_asks_for_consent(database_url: str) -> None:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0).access_codes
    sql(database_url, "UPDATE campaigns SET consent_rule = 'statutory_basis'")
    with app_client(create_app(settings, clock=ManualClock(T0)), follow_redirects=True) as http:
        r = http.get(f"/s/{codes[0]}")
        assert r.url.path == f"/s/{codes[0]}/q/1"
        sql(database_url, "UPDATE campaigns SET consent_rule = 'guardian_all'")
        http.cookies.clear()  # each visit from a browser without cookies
        r = http.get(f"/s/{codes[1]}")
        assert r.url.path == f"/s/{codes[1]}/start"
        http.cookies.clear()
        declined = http.get(f"/s/{codes[1]}/declined", follow_redirects=False)
        assert declined.status_code == 200 and "没关系" in declined.text


def test_bad_answers_and_steps_give_clear_pages(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=10, follow_redirects=True
    ) as http:
        http.get(f"/s/{code}")
        bad = http.post(f"/s/{code}/q/1", data={"item-item1": "7", "nav": "next"})
        assert bad.status_code == 422 and '<html lang="zh-CN">' in bad.text
        assert "12356" in bad.text  # help lines on every student page, errors too
        assert http.get(f"/s/{code}/q/9").url.path == f"/s/{code}/start"
        # Without the cookie, a step sends the student back to the access link.
        with another_client(http) as no_cookie:
            r = no_cookie.get(f"/s/{code}/review")
        assert r.status_code == 303 and r.headers["location"] == f"/s/{code}"
        done = complete(http, code)
        assert done.url.path == f"/s/{code}/thanks"
