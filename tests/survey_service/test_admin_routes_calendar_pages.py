"""Issue 13: the school's notification routes and its calendar, set from pages.

The school lead or administrator sees where each role's alerts go and sets the channels (rows
plus blank rows); a secret or a robot URL is never shown once saved, and leaving it blank keeps
it. The calendar page shows the school years and sets one. A bad form is a 422 naming the field
with everything as typed, and nothing is stored; the school always comes from the account.
Real parts: the app in process, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from page_support import csrf, sql, staff_login
from svc_support import another_client, app_client, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
ROUTES, CALENDAR = "/staff/admin/routes", "/staff/admin/calendar"
HOOK_TOKEN, HOOK_SECRET = "hookpath-Tk9", "whsec-Sc9"
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY-7f3"
DING = "https://oapi.dingtalk.com/robot/send?access_token=DINGTOKEN-4a1"
SECRETS = (HOOK_TOKEN, HOOK_SECRET, "WECOMKEY-7f3", "DINGTOKEN-4a1", "DINGSEC-88", "SMTPPW-55")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _routes(database_url: str, school: str) -> Any:
    rows = sql(
        database_url,
        "SELECT r.document FROM notification_routes r JOIN schools s ON s.id = r.school_id "
        "WHERE s.code = :c",
        c=school,
    )
    return _json(rows[0][0]) if rows else None


def _calendars(database_url: str, school: str) -> dict[str, Any]:
    rows = sql(
        database_url,
        "SELECT c.label, c.document FROM school_calendars c JOIN schools s ON s.id = c.school_id "
        "WHERE s.code = :c",
        c=school,
    )
    return {label: _json(doc) for label, doc in rows}


def _post(http: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return http.post(path, data={"_csrf": csrf(http.get(path).text), **data})


def _no_secret(html: str) -> None:
    for secret in SECRETS:
        assert secret not in html, secret


def test_routes_page_sets_channels_never_shows_a_secret_and_keeps_it(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(
        settings,
        now=T0,
        webhook_url=f"https://hooks.example.org/{HOOK_TOKEN}",
        webhook_secret=HOOK_SECRET,
    )
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        assert staff_login(http, "admin1").status_code == 303
        # The default in force: the school's signed webhook, its host only and "secret set".
        page = http.get(ROUTES)
        assert page.status_code == 200, page.text
        assert "心理老师" in page.text and "新个案（一级、二级、三级）" in page.text
        assert "签名 Webhook" in page.text and "https://hooks.example.org/…" in page.text
        assert "密钥已设置" in page.text and "站内消息" in page.text  # head teachers: in-app
        _no_secret(page.text)
        assert "Where" not in page.text and "counsellor<" not in page.text
        assert "New cases (tiers 1, 2 and 3)" in http.get(ROUTES, params={"lang": "en"}).text
        http.cookies.delete("rx_lang")

        rows = {
            "rows": "4",
            "role_0": "counsellor",
            "kind_0": "wecom",
            "target_0": WECOM,
            "role_1": "counsellor",
            "kind_1": "email",
            "target_1": "smtp.school.example:465",
            "sender_1": "润心 <noreply@school.example>",
            "username_1": "mailer-7",
            "secret_1": "SMTPPW-55",
            "names_1": "1",
            "role_2": "school_lead",
            "kind_2": "dingtalk",
            "name_2": "ding",
            "target_2": DING,
            "secret_2": "DINGSEC-88",
            "role_3": "school_lead",  # no kind: a blank row, left out
            "target_3": "https://ignored.example/",
        }
        # Bad rows: each a 422 naming the channel and field, rows as typed, nothing stored.
        audits = sql(database_url, "SELECT count(*) FROM audit_log")
        for change, words, field in (
            ({"target_0": WECOM.partition("?")[0]}, "通道 1 的「地址」有误", "target-0"),
            ({"kind_0": "webhook"}, "签名 Webhook 需要密钥", "secret-0"),
            ({"names_0": "1"}, "只有电子邮件、签名 Webhook 和站内消息可以显示学生姓名", "names-0"),
            ({"sender_1": ""}, "通道 2 的「发件人」有误", "sender-1"),
            ({"role_2": ""}, "请选择接收角色", "role-2"),
            ({"fallback_2": "nope"}, "应为本角色另一个通道的名称", "fallback-2"),
            ({"name_2": "Ding Dong"}, "通道 3 的「通道名称」有误", "name-2"),
        ):
            bad = _post(http, ROUTES, {**rows, **change})
            assert bad.status_code == 422, (change, bad.text)
            assert words in bad.text and 'role="alert"' in bad.text, change
            tag = bad.text.split(f'id="{field}"', 1)[1].split(">", 1)[0]
            assert 'aria-invalid="true"' in tag, (change, tag)
            assert 'value="smtp.school.example:465"' in bad.text  # as typed
            assert "SMTPPW-55" not in bad.text and "DINGSEC-88" not in bad.text
        assert _routes(database_url, "DEMO-A") is None
        assert sql(database_url, "SELECT count(*) FROM audit_log") == audits

        saved = _post(http, ROUTES, rows)
        assert saved.status_code == 303
        assert saved.headers["location"] == f"{ROUTES}?done=done_ok"
        stored = _routes(database_url, "DEMO-A")
        by_role = {r["role"]: r["channels"] for r in stored["routes"]}
        assert [c["type"] for c in by_role["counsellor"]] == ["wecom", "email"]
        assert by_role["counsellor"][0] == {"type": "wecom", "name": "wecom", "url": WECOM}
        mail = by_role["counsellor"][1]
        assert (mail["host"], mail["port"], mail["password"]) == (
            "smtp.school.example",
            465,
            "SMTPPW-55",
        )
        assert mail["username"] == "mailer-7" and mail["names_enabled"] is True
        assert by_role["school_lead"] == [
            {"type": "dingtalk", "name": "ding", "url": DING, "secret": "DINGSEC-88"}
        ]
        page = http.get(saved.headers["location"])
        assert "已保存" in page.text and "https://qyapi.weixin.qq.com/…" in page.text
        assert "https://oapi.dingtalk.com/…" in page.text and "mailer-7" not in page.text
        assert page.text.count("已设置（不显示）") >= 2
        _no_secret(page.text)

        # Saving the rows as shown (secrets and robot URLs blank) keeps every one of them;
        # "remove the saved secret" drops DingTalk signing; an order change is kept.
        again = {
            "rows": "3",
            "key_0": "counsellor/email",
            "role_0": "counsellor",
            "kind_0": "email",
            "name_0": "email",
            "target_0": "smtp.school.example:465",
            "sender_0": "润心 <noreply@school.example>",
            "names_0": "1",
            "key_1": "counsellor/wecom",
            "role_1": "counsellor",
            "kind_1": "wecom",
            "name_1": "wecom",
            "key_2": "school_lead/ding",
            "role_2": "school_lead",
            "kind_2": "dingtalk",
            "name_2": "ding",
            "clear_2": "1",
        }
        assert _post(http, ROUTES, again).status_code == 303
        by_role = {r["role"]: r["channels"] for r in _routes(database_url, "DEMO-A")["routes"]}
        assert by_role["counsellor"] == [mail, by_role["counsellor"][1]]
        assert by_role["counsellor"][1]["url"] == WECOM
        assert by_role["school_lead"] == [{"type": "dingtalk", "name": "ding", "url": DING}]
        # A row whose kind changed keeps nothing: the SMS gateway needs its own address.
        changed = _post(http, ROUTES, {**again, "kind_1": "sms"})
        assert changed.status_code == 422 and "请填写地址" in changed.text
        actions = sql(database_url, "SELECT action FROM audit_log WHERE action = 'school.routes'")
        assert len(actions) == 2

        # Another school's lead sets their own school's routes, whatever the form says.
        with another_client(http) as other:
            assert staff_login(other, "lead2").status_code == 303
            theirs = other.get(ROUTES)
            assert "qyapi" not in theirs.text and "oapi.dingtalk" not in theirs.text
            sms = {
                "rows": "1",
                "school": "DEMO-A",
                "school_code": "DEMO-A",
                "key_0": "counsellor/wecom",
                "role_0": "counsellor",
                "kind_0": "sms",
                "target_0": "https://sms.b.example/send",
            }
            assert _post(other, ROUTES, sms).status_code == 303
        assert _routes(database_url, "DEMO-B")["routes"][0]["channels"][0]["url"] == (
            "https://sms.b.example/send"
        )
        assert {r["role"]: r["channels"] for r in _routes(database_url, "DEMO-A")["routes"]} == (
            by_role
        )
        # Roles without routes.edit: a 403 page, nothing stored.
        for username in ("counsellor1", "district1", "headteacher1"):
            with another_client(http) as other:
                staff_login(other, username)
                assert other.get(ROUTES).status_code == 403, username
                assert other.get(CALENDAR).status_code == 403, username


def test_calendar_page_shows_the_years_and_saves_one(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        assert staff_login(http, "lead1").status_code == 303
        page = http.get(CALENDAR)
        assert page.status_code == 200, page.text
        assert "2026-2027" in page.text and "正在使用" in page.text
        assert "跳过周末、假期和停课日" in page.text and "值班表" in page.text
        assert 'name="term_0_start" value="2026-09-01"' in page.text
        assert 'name="holiday_0_start" value="2026-10-01"' in page.text
        assert 'name="holiday_0_end" value="2026-10-07"' in page.text
        en = http.get(CALENDAR, params={"lang": "en"}).text
        assert "Why the calendar matters" in en and "on-call rota" in en
        http.cookies.delete("rx_lang")
        before = _calendars(database_url, "DEMO-A")
        assert set(before) == {"2026-2027"}

        year = {
            "label": "2026-2027",
            "day_start": "07:50",
            "day_end": "17:30",
            "terms": "3",
            "term_0_start": "2026-09-01",
            "term_0_end": "2027-01-22",
            "term_0_midterm_start": "2026-11-09",
            "term_0_midterm_end": "2026-11-10",
            "term_1_start": "2027-02-22",
            "term_1_end": "2027-07-02",
            "holidays": "3",
            "holiday_0_start": "2026-10-01",
            "holiday_0_end": "2026-10-07",
            "holiday_1_start": "2026-09-25",
            "makeup": "2",
            "makeup_0": "2026-09-27",
        }
        audits = sql(database_url, "SELECT count(*) FROM audit_log")
        for change, words, field in (
            ({"term_0_end": "2026-08-01"}, "第 1 学期的结束日期早于开始日期", "term-0-end"),
            ({"term_1_start": "2027-13-01"}, "第 2 学期的开始日期不是有效日期", "term-1-start"),
            (
                {"term_0_midterm_start": "2026-08-09"},
                "期中考试不在该学期之内",
                "term-0-midterm-start",
            ),
            ({"term_1_start": "2027-01-10"}, "第 2 学期与另一个学期重叠", "term-1-start"),
            (
                {"term_0_final_end": "2027-01-20"},
                "第 1 学期期末考试的开始日期",
                "term-0-final-start",
            ),
            ({"holiday_1_end": "2026-09-20"}, "第 2 个假期的结束日期早于开始日期", "holiday-1-end"),
            ({"makeup_0": "2026-10-02"}, "第 1 个调休上课日同时是假期", "makeup-0"),
            ({"day_end": "25:00"}, "放学时间应为 08:00 这样的时间", "day-end"),
            ({"day_end": "07:00"}, "放学时间应晚于上课开始时间", "day-end"),
            ({"label": ""}, "请填写学年名称", "label"),
            (
                {
                    "term_0_start": "",
                    "term_0_end": "",
                    "term_0_midterm_start": "",
                    "term_0_midterm_end": "",
                    "term_1_start": "",
                    "term_1_end": "",
                },
                "至少需要一个学期",
                "term-0-start",
            ),
        ):
            bad = _post(http, CALENDAR, {**year, **change})
            assert bad.status_code == 422, (change, bad.text)
            assert words in bad.text and 'role="alert"' in bad.text, (change, bad.text)
            tag = bad.text.split(f'id="{field}"', 1)[1].split(">", 1)[0]
            assert 'aria-invalid="true"' in tag, (change, tag)
            assert 'name="day_start" value="07:50"' in bad.text  # as typed
        assert _calendars(database_url, "DEMO-A") == before
        assert sql(database_url, "SELECT count(*) FROM audit_log") == audits

        saved = _post(http, CALENDAR, year)
        assert saved.status_code == 303
        assert saved.headers["location"] == f"{CALENDAR}?done=done_ok&year=2026-2027"
        doc = _calendars(database_url, "DEMO-A")["2026-2027"]
        assert (doc["day_start"], doc["day_end"]) == ("07:50", "17:30")
        assert "2026-09-25" in doc["holidays"] and len(doc["holidays"]) == 8
        assert doc["makeup_workdays"] == ["2026-09-27"]
        assert doc["terms"][0]["midterm_exam"] == {"start": "2026-11-09", "end": "2026-11-10"}
        assert doc["terms"][1]["final_exam"] is None
        shown = http.get(saved.headers["location"]).text
        assert "已保存" in shown and 'name="makeup_0" value="2026-09-27"' in shown
        assert "8 天" in shown and "07:50–17:30" in shown

        # A new school year, which may not overlap the one before.
        new = http.get(CALENDAR, params={"year": "new"}).text
        assert 'name="label" value="2027-2028"' in new and "新增学年" in new
        next_year = {
            "label": "2027-2028",
            "day_start": "08:00",
            "day_end": "17:00",
            "terms": "1",
            "term_0_start": "2027-06-01",
            "term_0_end": "2028-01-21",
            "holidays": "1",
            "holiday_0_start": "2027-10-01",
            "holiday_0_end": "2027-10-07",
            "makeup": "0",
        }
        clash = _post(http, CALENDAR, next_year)
        assert clash.status_code == 422 and "与学年 2026-2027 的学期重叠" in clash.text
        ok = _post(http, CALENDAR, {**next_year, "term_0_start": "2027-09-01"})
        assert ok.status_code == 303
        assert set(_calendars(database_url, "DEMO-A")) == {"2026-2027", "2027-2028"}
        listed = http.get(CALENDAR).text
        assert "修改 2027-2028" in listed and listed.count("正在使用") == 1

        # Another school's administrator saves the same label: their own school only.
        mine = _calendars(database_url, "DEMO-A")
        with another_client(http) as other:
            assert staff_login(other, "admin2").status_code == 303
            theirs = {**next_year, "school": "DEMO-A", "term_0_start": "2027-09-01"}
            assert _post(other, CALENDAR, theirs).status_code == 303
        assert "2027-2028" in _calendars(database_url, "DEMO-B")
        assert _calendars(database_url, "DEMO-A") == mine
