"""Issue 13: one campaign's pages — the progress per class, slip printing that says what it
voids and asks first, consent entry (one student and a spreadsheet), the non-completers of a
class and reminders to head teachers.

Real parts: the app in process, SQLite and PostgreSQL, the demo district (12 students: two in
each of school A's three classes, every one with an unused code and consent on file).
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from page_support import csrf, hidden, sql, staff_login, uid
from svc_support import app_client, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.settings import Settings
from survey_service.workers import Dispatcher

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
BASE = "/staff/admin/campaigns"


def _ids(database_url: str) -> dict[str, Any]:
    """Campaign, class and student ids of the seeded district, by school code / class name /
    student number."""
    campaigns = {
        code: uid(cid)
        for cid, code in sql(
            database_url,
            "SELECT c.id, s.code FROM campaigns c JOIN schools s ON s.id = c.school_id",
        )
    }
    classes = {
        (code, name): uid(cid)
        for cid, name, code in sql(
            database_url,
            "SELECT k.id, k.name, s.code FROM classes k JOIN schools s ON s.id = k.school_id",
        )
    }
    students = {
        number: (uid(sid), name)
        for sid, number, name in sql(database_url, "SELECT id, student_number, name FROM students")
    }
    return {"campaigns": campaigns, "classes": classes, "students": students}


def _digests(database_url: str, student_ids: list[str]) -> list[str]:
    rows = sql(database_url, "SELECT student_id, code_digest FROM access_codes")
    return sorted(d for s, d in rows if uid(s) in student_ids)


async def _dispatch(settings: Settings, now: datetime) -> int:
    """Deliver what is queued (the reminders go through the outbox); how many went out."""
    engine = create_engine(settings.database_url)
    try:
        async with httpx.AsyncClient() as client:
            stats = await Dispatcher(create_session_factory(engine), client, settings).run_once(now)
            return stats.delivered
    finally:
        await engine.dispose()


def _client(http: httpx.Client, username: str) -> httpx.Client:
    assert staff_login(http, username).status_code == 303
    return http


def test_campaign_page_and_slips_say_what_they_void_and_ask_first(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=12)
    ids = _ids(database_url)
    camp = ids["campaigns"]["DEMO-A"]
    class_81 = ids["classes"][("DEMO-A", "八年级1班")]
    in_81 = [ids["students"]["202600001"][0], ids["students"]["202600007"][0]]
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        _client(http, "admin1")
        page = http.get(f"{BASE}/{camp}")
        assert page.status_code == 200, page.text
        assert "八年级1班" in page.text and "进行中" in page.text
        row = re.search(rf'<tr data-class="{class_81}">(.*?)</tr>', page.text, re.S)
        assert row and 'data-label="学生数">2<' in row.group(1)
        assert 'data-label="已同意">2<' in row.group(1) and "未提醒过" in row.group(1)
        # Another school's campaign, or a missing one: 404 like each other.
        other = ids["campaigns"]["DEMO-B"]
        assert http.get(f"{BASE}/{other}").status_code == 404
        assert http.get(f"{BASE}/{other}/classes/{class_81}/slips").status_code == 404

        # The confirmation says how many it prints and voids; GET voids nothing.
        before = _digests(database_url, in_81)
        url = f"{BASE}/{camp}/classes/{class_81}/slips"
        confirm = http.get(url)
        assert confirm.status_code == 200
        assert "将为 2 名学生打印新的登录条" in confirm.text
        assert "还有 2 个没有使用" in confirm.text and hidden(confirm.text, "seen_void") == "2"
        assert _digests(database_url, in_81) == before
        # Without the confirmation field, or with numbers the user did not see: the
        # confirmation page again, nothing printed or voided.
        token = csrf(confirm.text)
        again = http.post(url, data={"_csrf": token, "seen_void": "2"})
        assert again.status_code == 422 and "请先勾选确认" in again.text
        stale = http.post(url, data={"_csrf": token, "confirm": "yes", "seen_void": "1"})
        assert stale.status_code == 422 and "数字已经更新" in stale.text
        assert _digests(database_url, in_81) == before
        # Confirmed: the printable slips, as the API returns them; the old codes are void.
        printed = http.post(url, data={"_csrf": token, "confirm": "yes", "seen_void": "2"})
        assert printed.status_code == 200, printed.text
        assert printed.headers["content-type"].startswith("text/html")
        assert (
            "心理健康问卷登录条" in printed.text
            and printed.text.count('<article class="slip">') == 2
        )
        assert "no-store" in printed.headers["cache-control"]
        after = _digests(database_url, in_81)
        assert len(after) == 2 and set(after).isdisjoint(before)
        assert http.get(url).text.count("还有 2 个没有使用") == 1  # the new, unused ones
        # A head teacher prints their own class; another class is not theirs (404).
        with app_client(create_app(settings, clock=ManualClock(T0))) as head:
            _client(head, "headteacher1")
            assert head.get(url).status_code == 200
            class_82 = ids["classes"][("DEMO-A", "八年级2班")]
            assert head.get(f"{BASE}/{camp}/classes/{class_82}/slips").status_code == 404
            assert head.get(f"{BASE}/{camp}").status_code == 403  # the campaign page: admins


def _xlsx(rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _consents(database_url: str, camp: str) -> dict[str, str]:
    rows = sql(database_url, "SELECT campaign_id, student_id, status FROM consents")
    return {uid(s): status for c, s, status in rows if uid(c) == camp}


def test_consent_one_student_and_a_spreadsheet_all_or_nothing(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=12)
    ids = _ids(database_url)
    camp = ids["campaigns"]["DEMO-A"]
    s1, s7, s2 = (ids["students"][n] for n in ("202600001", "202600007", "202600002"))
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        _client(http, "counsellor1")
        url = f"{BASE}/{camp}/consents"
        found = http.get(url, params={"q": "600007"})
        assert found.status_code == 200
        assert s7[1] in found.text and s1[1] not in found.text  # the search narrows
        form = http.get(url, params={"q": "600007", "student": s7[0]})
        assert "为 " + s7[1] in form.text and 'name="decision" value="withdrawn"' in form.text
        token = csrf(form.text)
        # A bad decision: 422 with the message, nothing stored.
        bad = http.post(
            url,
            data={"_csrf": token, "student_id": s7[0], "decision": "maybe", "method": "paper_slip"},
        )
        assert bad.status_code == 422 and "请选择监护人的决定" in bad.text
        events = len(sql(database_url, "SELECT id FROM consent_events"))
        assert events == 0
        saved = http.post(
            url,
            data={
                "_csrf": token,
                "student_id": s7[0],
                "decision": "refused",
                "guardian_name": "张女士",
                "method": "phone_call",
                "q": "600007",
            },
        )
        assert saved.status_code == 303
        assert s7[1] not in saved.headers["location"]  # an id in the address, never a name
        shown = http.get(saved.headers["location"])
        assert "已登记：" + s7[1] in shown.text and "不同意" in shown.text
        assert _consents(database_url, camp)[s7[0]] == "refused"
        # Withdrawal (consent.withdraw) from the same form.
        withdrawn = http.post(
            url,
            data={
                "_csrf": token,
                "student_id": s2[0],
                "decision": "withdrawn",
                "method": "in_person",
            },
        )
        assert withdrawn.status_code == 303
        assert _consents(database_url, camp)[s2[0]] == "withdrawn"
        # A student of another school is not one of this campaign's: 404.
        other = ids["students"]["202600004"][0]
        assert (
            http.post(
                url,
                data={
                    "_csrf": token,
                    "student_id": other,
                    "decision": "granted",
                    "method": "paper_slip",
                },
            ).status_code
            == 404
        )

        # A spreadsheet with errors: every row previewed with its problem, nothing written.
        events = len(sql(database_url, "SELECT id FROM consent_events"))
        csv_bad = (
            "学号,姓名,同意\n202600001,x,不同意\n999,y,同意\n202600007,z,也许\n202600001,x,同意\n"
        )
        preview = http.post(
            f"{url}/preview",
            data={"_csrf": token},
            files={"file": ("c.csv", csv_bad.encode(), "text/csv")},
        )
        assert preview.status_code == 422
        for problem in (
            "这个学号不是本次筛查中你可以登记的学生",
            "“同意”一列只能填写",
            "出现了不止一次",
        ):
            assert problem in preview.text
        assert 'action="' + url + '/import"' not in preview.text  # no confirmation offered
        # Even a forged confirmation of those rows writes nothing.
        forged = http.post(
            f"{url}/import",
            data={"_csrf": token, "rows": "2", "r0": "2:refused:202600001", "r1": "3:granted:999"},
        )
        assert forged.status_code == 422
        assert len(sql(database_url, "SELECT id FROM consent_events")) == events
        assert _consents(database_url, camp)[s1[0]] == "granted"

        # A clean workbook (declined/granted, numbers stored as numbers): previewed, confirmed,
        # every changed row written in one go; the unchanged one left alone.
        book = _xlsx(
            [["学号", "同意"], [202600001, "declined"], [202600007, "同意"], [202600008, "granted"]]
        )
        preview = http.post(
            f"{url}/preview",
            data={"_csrf": token},
            files={"file": ("c.xlsx", book, "application/octet-stream")},
        )
        assert preview.status_code == 200, preview.text
        assert (
            "共 3 行：登记为同意 1 行，登记为不同意 1 行，与现在相同 1 行，有问题 0 行"
            in preview.text
        )
        carried = dict(re.findall(r'name="(rows|r\d+)" value="([^"]*)"', preview.text))
        done = http.post(f"{url}/import", data={"_csrf": token, **carried})
        assert done.status_code == 303 and "imported=2" in done.headers["location"]
        now = _consents(database_url, camp)
        assert (now[s1[0]], now[s7[0]]) == ("refused", "granted")
        assert len(sql(database_url, "SELECT id FROM consent_events")) == events + 2
        audit = sql(database_url, "SELECT detail FROM audit_log WHERE action = 'consent.import'")
        assert len(audit) == 1


def test_non_completers_and_one_reminder_per_head_teacher(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=12)
    ids = _ids(database_url)
    camp = ids["campaigns"]["DEMO-A"]
    class_81 = ids["classes"][("DEMO-A", "八年级1班")]
    clock = ManualClock(T0)
    names = [name for _, name in ids["students"].values()]
    with app_client(create_app(settings, clock=clock)) as http:
        _client(http, "lead1")
        nc_url = f"{BASE}/{camp}/classes/{class_81}/non-completers"
        listed = http.get(nc_url)
        assert listed.status_code == 200
        numbers = re.findall(r'<th scope="row">(2026\d+)</th>', listed.text)
        assert numbers == ["202600001", "202600007"]  # by student number
        only = http.get(nc_url, params={"q": ids["students"]["202600007"][1]})
        assert re.findall(r'<th scope="row">(2026\d+)</th>', only.text) == ["202600007"]
        token = csrf(listed.text)

        sent = http.post(
            f"{BASE}/{camp}/reminders", data={"_csrf": token, "class_id": class_81, "back": "class"}
        )
        assert sent.status_code == 303 and "reminded=1" in sent.headers["location"]
        assert "已提醒 1 位班主任（1 个班级）" in http.get(sent.headers["location"]).text
        # Queued in the outbox; the dispatcher puts it in the head teacher's in-app queue
        # (the head teachers' default route).
        assert sql(database_url, "SELECT channel, status FROM outbox") == [("inapp", "pending")]
        assert run(_dispatch(settings, T0)) == 1
        items = sql(database_url, "SELECT user_id, event, content FROM inbox_items")
        heads = {
            uid(u): u
            for (u,) in sql(
                database_url, "SELECT id FROM staff_users WHERE username = 'headteacher1'"
            )
        }
        assert [uid(u) for u, _, _ in items] == list(heads) and items[0][1] == "campaign.reminder"
        content = items[0][2] if isinstance(items[0][2], dict) else json.loads(items[0][2])
        text = json.dumps(content, ensure_ascii=False)
        assert "八年级1班" in text and "还有 2 名学生没有完成" in text and "/staff/class" in text
        assert not [n for n in names if n in text]  # no student's name
        assert (
            len(sql(database_url, "SELECT id FROM audit_log WHERE action = 'campaign.reminder'"))
            == 1
        )

        # The same class again within the hour: a 409 page saying when.
        again = http.post(f"{BASE}/{camp}/reminders", data={"_csrf": token, "class_id": class_81})
        assert again.status_code == 409 and "1 小时内只能提醒一次" in again.text
        # All classes: the two others (one head teacher each); the recent one skipped.
        everyone = http.post(f"{BASE}/{camp}/reminders", data={"_csrf": token})
        assert everyone.status_code == 303
        assert "reminded=2" in everyone.headers["location"]
        assert "skipped=1" in everyone.headers["location"]
        assert run(_dispatch(settings, T0)) == 2
        assert len(sql(database_url, "SELECT id FROM inbox_items")) == 3
        assert http.post(f"{BASE}/{camp}/reminders", data={"_csrf": token}).status_code == 409
        page = http.get(f"{BASE}/{camp}")
        assert "未提醒过" not in page.text and "2026-09-07 10:00" in page.text
        # After the hour: allowed again (signed in afresh: the session has idled out).
        clock.advance(timedelta(minutes=61))
        _client(http, "lead1")
        token = csrf(http.get(nc_url).text)
        later = http.post(f"{BASE}/{camp}/reminders", data={"_csrf": token, "class_id": class_81})
        assert later.status_code == 303

    with app_client(create_app(settings, clock=clock)) as head:
        _client(head, "headteacher1")
        assert head.get(nc_url).status_code == 200
        class_82 = ids["classes"][("DEMO-A", "八年级2班")]
        assert head.get(f"{BASE}/{camp}/classes/{class_82}/non-completers").status_code == 404
        token = csrf(head.get(nc_url).text)
        refused = head.post(f"{BASE}/{camp}/reminders", data={"_csrf": token})
        assert refused.status_code == 403  # reminders are the school's, not a head teacher's
