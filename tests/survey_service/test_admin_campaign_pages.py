"""Issue 13: the campaign list, the campaign wizard and the roster upload with its preview, as a
school lead and a school administrator use them in a browser without JavaScript.

Real parts: the app in process, SQLite and PostgreSQL, the demo school DEMO-A (3 students in
grades 8 and 9, one open campaign), the same services as the API.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from page_support import api_submit, csrf, hidden, sql, staff_login, text_of
from svc_support import app_client, battery_answers, make_settings, roster_csv, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def _campaigns(database_url: str) -> int:
    return int(sql(database_url, "SELECT COUNT(*) FROM campaigns")[0][0])


def _wizard(http: httpx.Client, **fields: Any) -> httpx.Response:
    page = http.get("/staff/admin/campaigns/new")
    assert page.status_code == 200, page.text
    form: dict[str, Any] = {
        "_csrf": csrf(page.text),
        "name": "秋季筛查",
        "opens_on": "2026-09-08",
        "closes_on": "2026-09-21",
        "consent_rule": "guardian_under_14",
        "languages": ["zh-CN", "en"],
    }
    form.update(fields)
    return http.post("/staff/admin/campaigns/new", data=form)


def test_campaign_list_and_wizard(database_url: str) -> None:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0).access_codes
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        api_submit(http, codes[0], battery_answers())  # one DEMO-A student has finished
        staff_login(http, "lead1")
        listed = http.get("/staff/admin/campaigns")
        assert listed.status_code == 200, listed.text
        ((demo_id,),) = sql(
            database_url,
            "SELECT c.id FROM campaigns c JOIN schools s ON s.id = c.school_id "
            "WHERE s.code = 'DEMO-A'",
        )
        demo_hex = str(demo_id).replace("-", "")
        rows = re.findall(r'<tr data-campaign="([^"]+)">(.*?)</tr>', listed.text, re.S)
        assert [r[0].replace("-", "") for r in rows] == [demo_hex]  # DEMO-B's is not listed
        row = text_of(rows[0][1])
        assert "进行中" in row and "学生本人" in row and "33%" in row
        assert f'href="/staff/admin/campaigns/{rows[0][0]}"' in listed.text

        # The wizard offers, per grade of the roster (8 and 9), the instruments the service
        # accepts for those ages: the PHQ-9, not the adults' K10.
        page = http.get("/staff/admin/campaigns/new")
        assert 'id="grade-8"' in page.text and 'id="grade-9"' in page.text
        assert 'id="grade-7"' not in page.text
        assert 'value="phq9"' in page.text and 'value="k10"' not in page.text
        assert 'id="gb-psc17"' in page.text  # the guardian questionnaire

        # Refusals: 422, the message names the field, the values come back as typed, nothing
        # is stored.
        before = _campaigns(database_url)
        cases: list[tuple[dict[str, Any], str]] = [
            ({}, "各年级问卷：请至少为一个年级勾选量表"),
            (
                {"grade_8": ["asq"]},
                "8 年级问卷：Ask Suicide-Screening Questions (ASQ) 没有中文版本",
            ),
            (
                {"grade_8": ["phq9"], "consent_rule": "statutory_basis"},
                "法定依据：选择“依法定依据开展”时必须写明法定依据",
            ),
            ({"grade_8": ["phq9"], "closes_on": "2026-09-01"}, "结束日期：不能早于开始日期"),
            ({"grade_8": ["phq9"], "opens_on": "9/8"}, "开始日期：“9/8”不是有效日期"),
            ({"grade_8": ["phq9"], "name": " "}, "活动名称：请填写"),
        ]
        for fields, message in cases:
            refused = _wizard(http, **{"name": "秋季筛查（草稿）", **fields})
            assert refused.status_code == 422, (fields, refused.text[-2000:])
            assert message in refused.text, (fields, text_of(refused.text)[-1500:])
            if "name" not in fields:
                assert 'value="秋季筛查（草稿）"' in refused.text
        assert 'id="g8-phq9" name="grade_8" value="phq9" checked' in refused.text
        assert _campaigns(database_url) == before

        # Success: the campaign's page; the window is school days in school time.
        done = _wizard(
            http,
            grade_8=["phq9", "gad7"],
            grade_9=["phq9"],
            guardian=["psc17"],  # English only: with the fallback allowed
            allow_fallback="1",
            consent_rule="guardian_all",
        )
        assert done.status_code == 303, done.text
        location = done.headers["location"]
        assert location.startswith("/staff/admin/campaigns/") and location.endswith("done=done_ok")
        new_id = location.split("/")[-1].split("?")[0]
        ((name, rule, batteries, guardian),) = sql(
            database_url,
            "SELECT name, consent_rule, grade_batteries, guardian_battery FROM campaigns "
            "WHERE id = :i",
            i=uuid.UUID(new_id),
        )
        assert (name, rule) == ("秋季筛查", "guardian_all")
        assert "gad7" in str(batteries) and "psc17" in str(guardian)
        listed = http.get("/staff/admin/campaigns?lang=en")
        rows = re.findall(r'<tr data-campaign="([^"]+)">(.*?)</tr>', listed.text, re.S)
        assert len(rows) == 2 and rows[0][0] == new_id  # the newest window first
        first = text_of(rows[0][1])
        assert "2026-09-08 to 2026-09-21" in first and "upcoming" in first
        assert "students, guardians" in first and "0%" in first


def _upload(http: httpx.Client, body: bytes, mode: str, name: str = "roster.csv") -> httpx.Response:
    page = http.get("/staff/admin/roster")
    return http.post(
        "/staff/admin/roster",
        data={"_csrf": csrf(page.text), "mode": mode},
        files={"file": (name, body, "text/csv")},
    )


def _confirm(http: httpx.Client, preview: str, **change: str) -> httpx.Response:
    fields = {
        k: hidden(preview, k) for k in ("_csrf", "mode", "suffix", "sha256", "seal", "content")
    }
    fields.update(change)
    return http.post(
        "/staff/admin/roster/apply", files={k: (None, v) for k, v in fields.items() if v}
    )


def _students(database_url: str) -> dict[str, str]:
    rows = sql(
        database_url,
        "SELECT st.student_number, st.status FROM students st JOIN schools s "
        "ON s.id = st.school_id WHERE s.code = 'DEMO-A'",
    )
    return {str(n): str(s) for n, s in rows}


def test_roster_preview_confirm_incremental_and_errors(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        staff_login(http, "admin1")
        page = http.get("/staff/admin/roster")
        assert page.status_code == 200
        assert "全国学籍号" in page.text and 'name="mode" value="incremental"' in page.text

        before = _students(database_url)
        kept = sorted(before)[0]
        rows = sql(
            database_url,
            "SELECT st.name, st.gender, k.grade, k.name FROM students st JOIN classes k ON k.id = "
            "st.class_id WHERE st.student_number = :n",
            n=kept,
        )
        name, gender, grade, klass = rows[0]
        body = roster_csv(
            [
                [kept, name, "男" if gender == "male" else "女", str(grade), klass],
                ["N001", "新同学甲", "女", "8", "八年级1班"],
                ["N002", "新同学乙", "男", "9", "九年级1班"],
            ]
        )
        # Full replace: the preview counts and lists the 2 missing students, writes nothing.
        preview = _upload(http, body, "replace")
        assert preview.status_code == 200, text_of(preview.text)[-1500:]
        seen = text_of(preview.text)
        assert re.search(r'data-count="create">2<', preview.text)
        assert re.search(r'data-count="left">2<', preview.text)
        assert "同时把文件中没有的 2 名在读学生标记为离校" in seen
        assert _students(database_url) == before

        # A confirmation that is not the previewed file is refused, nothing written.
        forged = _confirm(http, preview.text, sha256="0" * 64)
        assert forged.status_code == 400 and "与预览的不一致" in forged.text
        assert _students(database_url) == before

        # Confirmed with the leavers: exactly the previewed file is applied.
        applied = _confirm(
            http, preview.text, confirm_leavers=hidden(preview.text, "confirm_leavers")
        )
        assert applied.status_code == 303, applied.text
        result = http.get(applied.headers["location"])
        assert "名册已导入" in result.text
        counts = dict(re.findall(r"<li>(\w+)：<strong>(\d+)</strong></li>", result.text))
        # The kept student is "updated": the parser reads the demo's class 八年级1班 as 1班.
        assert counts == {"新增学生": "2", "更新学生": "1", "没有变化": "0", "标记离校或转出": "2"}
        after = _students(database_url)
        assert after["N001"] == after["N002"] == "active" and after[kept] == "active"
        assert sorted(n for n, s in after.items() if s == "left") == sorted(set(before) - {kept})

        # Incremental: adds without marking anyone as left (nothing to confirm).
        preview = _upload(
            http, roster_csv([["N003", "新同学丙", "女", "8", "八年级2班"]]), "incremental"
        )
        assert preview.status_code == 200
        assert re.search(r'data-count="create">1<', preview.text)
        assert re.search(r'data-count="left">0<', preview.text)
        assert 'name="confirm_leavers"' not in preview.text
        assert _confirm(http, preview.text).status_code == 303
        now = _students(database_url)
        assert now["N003"] == "active" and {n: s for n, s in now.items() if n != "N003"} == after

        # A confirmation whose leavers changed since its preview: 409, nothing written.
        stale = _upload(http, body, "replace")  # N003 is now missing from this file
        assert "同时把文件中没有的 1 名在读学生标记为离校" in text_of(stale.text)
        more = _upload(
            http, roster_csv([["N006", "新同学丁", "男", "9", "九年级1班"]]), "incremental"
        )
        assert _confirm(http, more.text).status_code == 303
        now = _students(database_url)
        refused = _confirm(http, stale.text, confirm_leavers=hidden(stale.text, "confirm_leavers"))
        assert refused.status_code == 409 and "学生名单有变化" in refused.text
        assert _students(database_url) == now and now["N003"] == "active"

        # Errors: each row's number and what is wrong, in the page's language; no confirmation.
        bad = roster_csv([["N004", "甲", "X", "8", "1班"], ["N005", "乙", "女", "2023级", "1班"]])
        preview = _upload(http, bad, "incremental")
        assert preview.status_code == 422
        seen = text_of(preview.text)
        assert "第 2 行" in seen and "无法识别性别“x”" in seen
        assert "第 3 行" in seen and "入学年级" in seen
        assert 'id="confirm-form"' not in preview.text and 'name="seal"' not in preview.text
        english = _upload(http, bad, "incremental").text  # the language cookie: zh-CN still
        assert "无法识别性别" in english
        http.get("/staff/admin/roster?lang=en")
        english = _upload(http, bad, "incremental").text
        assert "Row 2" in english and "gender “X” is not recognised" in english
        assert _students(database_url) == now

        # Over the request size limit the API uses: the form again, saying the limit.
        huge = roster_csv([[f"S{i:06d}", f"学生{i}", "男", "8", "1班"] for i in range(9000)])
        assert len(huge) > settings.max_body_bytes
        refused = _upload(http, huge, "incremental")
        assert refused.status_code == 413 and "too large for the web upload" in refused.text
        assert 'id="upload-form"' in refused.text

        # Not a roster file at all, and an unknown mode: the form again, nothing written.
        wrong = _upload(http, b"%PDF-1.4", "replace", name="roster.pdf")
        assert wrong.status_code == 422 and "“.pdf” files are not taken" in wrong.text
        odd = _upload(http, body, "everything")
        assert odd.status_code == 422 and 'id="upload-form"' in odd.text
        assert _students(database_url) == now
