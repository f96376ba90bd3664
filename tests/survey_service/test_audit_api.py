"""What the audit log records, and the auditor who reads it (issue 19).

One scenario on SQLite and PostgreSQL, in the running app: refused requests (403 and a scope
404) leave ``access.denied`` rows with the route template although their transaction rolled
back; a coverage download is ``export.download``; calendar, channel-route (hosts only, never a
token), on-call and roster changes are recorded; the auditor filters, pages and exports the log
(itself audited), reads no student, and the chain of everything verifies.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from page_support import sql, staff_login, uid
from svc_support import app_client, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.services import audit

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
TOKEN = "tok-9f8e7d6c5b4a"  # a webhook key that must never reach the log
ROUTES = {
    "routes": [
        {
            "role": "school_lead",
            "channels": [
                {
                    "type": "webhook",
                    "name": "hook",
                    "url": f"https://hooks.example.org/send?key={TOKEN}",
                    "secret": "s3cret-signing",
                },
                {"type": "sms", "name": "sms", "url": "https://sms.example.org/api"},
            ],
        }
    ]
}
CALENDAR = {
    "terms": [{"start": "2027-09-01", "end": "2028-01-20"}],
    "holidays": ["2027-10-01"],
}


def _auth(http: httpx.Client, user: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _rows(database_url: str, action: str) -> list[tuple[Any, ...]]:
    return sql(
        database_url,
        "SELECT actor_role, subject_ids, detail FROM audit_log WHERE action = :a ORDER BY at",
        a=action,
    )


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def test_what_is_audited_and_the_auditor_reads_it(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=4)
    (student,) = sql(
        database_url,
        "SELECT s.id FROM students s JOIN schools k ON k.id = s.school_id "
        "WHERE k.code = 'DEMO-A' ORDER BY s.student_number LIMIT 1",
    )
    student_id = uid(student[0])
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=30) as http:
        lead, other, auditor = (
            _auth(http, "lead1"),
            _auth(http, "counsellor2"),
            _auth(http, "auditor1"),
        )
        counsellor = _auth(http, "counsellor1")

        # Denials: another school's student answers 404, the auditor gets no student data.
        def tick(response: httpx.Response) -> int:
            clock.advance(timedelta(seconds=1))  # rows in a known order
            return response.status_code

        assert tick(http.get(f"/api/v1/students/{student_id}/file", headers=other)) == 404
        assert tick(http.get(f"/api/v1/students/{student_id}/file", headers=auditor)) == 403
        assert tick(http.get("/api/v1/cases", headers=auditor)) == 403
        assert tick(http.get("/api/v1/audit", headers=lead)) == 403
        denied = _rows(database_url, "access.denied")
        assert len(denied) == 4, denied
        roles = [r[0] for r in denied]
        assert roles == ["counsellor", "auditor", "auditor", "school_lead"]
        first = _json(denied[0][2])
        assert first == {
            "method": "GET",
            "route": "/api/v1/students/{student_id}/file",
            "status": 404,
            "code": first["code"],
        }
        assert all(student_id not in str(r) for r in denied)  # a template, never the raw path
        assert _json(denied[3][2])["status"] == 403

        # A read is audited with its subject; settings changes with what changed.
        assert (
            http.get(f"/api/v1/students/{student_id}/file", headers=counsellor).status_code == 200
        )
        clock.advance(timedelta(seconds=1))
        url = "/api/v1/schools/DEMO-A/calendars/2027-2028"
        assert http.put(url, headers=lead, json=CALENDAR).status_code == 200
        r = http.put("/api/v1/schools/DEMO-A/notification-routes", headers=lead, json=ROUTES)
        assert r.status_code == 200, r.text
        rota = {
            "entries": [{"role": "school_lead", "channel": "sms", "outside_school_hours": True}]
        }
        r = http.put("/api/v1/schools/DEMO-A/on-call", headers=lead, json=rota)
        assert r.status_code == 200, r.text
        roster = "学号,姓名,性别,年级,班级\n".encode()
        r = http.post(
            "/api/v1/schools/DEMO-A/roster",
            headers=lead,
            files={"data": ("roster.csv", roster, "text/csv")},
        )
        assert r.status_code in {200, 400, 422}, r.text

        (calendar,) = _rows(database_url, "school.calendar")
        assert _json(calendar[2])["first_day"] == "2027-09-01"
        (routes,) = _rows(database_url, "school.routes")
        change = _json(routes[2])
        assert change["old"] == "default"
        assert change["new"] == "school_lead=webhook@hooks.example.org>sms@sms.example.org"
        on_call = _rows(database_url, "school.on_call")
        assert _json(on_call[-1][2]) == {"old": "default", "new": "role:school_lead/sms"}
        everything = str(sql(database_url, "SELECT detail FROM audit_log"))
        assert TOKEN not in everything and "s3cret" not in everything

        # A download is an export, not a list view.
        assert staff_login(http, "lead1").status_code in {302, 303}
        dl = http.get("/staff/exports/coverage.csv")
        assert dl.status_code == 200 and dl.headers["content-type"].startswith("text/csv")
        (export,) = _rows(database_url, "export.download")
        assert export[0] == "school_lead"
        lines = list(csv.reader(io.StringIO(dl.content.decode("utf-8-sig"))))
        assert len(lines) > 1
        assert _json(export[2]) == {"export": "coverage", "format": "csv", "count": len(lines) - 1}
        assert len(_json(export[1])) == len(lines) - 1  # the classes exported, by id

        # The auditor: filters, keyset pages, export.
        def get(**params: Any) -> dict[str, Any]:
            r = http.get("/api/v1/audit", headers=auditor, params=params)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body

        assert [i["actor"] for i in get(action="access.denied")["items"]] == [
            "lead1",
            "auditor1",
            "auditor1",
            "counsellor2",
        ]  # newest first
        assert {i["actor"] for i in get(actor="counsellor2")["items"]} == {"counsellor2"}
        assert len(get(actor="counsellor2", action="access.denied")["items"]) == 1
        assert {i["action"] for i in get(action="school.*")["items"]} == {
            "school.calendar",
            "school.routes",
            "school.on_call",
        }
        about = get(subject=student_id)["items"]
        assert about and all(student_id in i["subject_ids"] for i in about)
        assert all(i["school"] == "DEMO-A" for i in get(school="DEMO-A")["items"])
        assert get(to=T0.isoformat())["items"] == []
        whole = get(limit=500)["items"]
        clock.advance(timedelta(seconds=1))  # the pages' own audit.read rows come later
        paged, cursor = [], None
        while True:
            body = get(limit=3, **({"cursor": cursor} if cursor else {}))
            paged += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        # Keyset pages hold every row up to the paging's start once, in order.
        before = get(limit=500, to=clock.now().isoformat())["items"]
        assert [i["id"] for i in paged] == [i["id"] for i in before]
        assert len(before) == len(whole) + 1 > 10  # and the read of ``whole``
        bad = http.get("/api/v1/audit", headers=auditor, params={"from": "2026-09-07T10:00"})
        assert bad.status_code == 400 and "from" in bad.json()["detail"]
        assert "name" not in str(whole).lower()  # ids only, never a student's record

        exported = http.get(
            "/api/v1/audit/export", headers=auditor, params={"format": "csv", "action": "school.*"}
        )
        assert exported.status_code == 200
        table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert table[0][:6] == ["seq", "at", "actor", "actor_id", "actor_role", "action"]
        assert sorted(r[5] for r in table[1:]) == [
            "school.calendar",
            "school.on_call",
            "school.routes",
        ]
        assert http.get("/api/v1/audit/export", headers=lead).status_code == 403
        assert _json(_rows(database_url, "export.download")[-1][2]) == {
            "export": "audit",
            "format": "csv",
            "count": 3,
        }

        # The auditor's page: lands there, filters, both languages.
        http.cookies.clear()
        landed = staff_login(http, "auditor1")
        assert landed.headers["location"].endswith("/staff/audit")
        zh = http.get("/staff/audit", params={"action": "access.denied"})
        assert zh.status_code == 200 and "审计日志" in zh.text and '<th scope="col">' in zh.text
        assert zh.text.count("access.denied") >= 4
        en = http.get(
            "/staff/audit", params={"lang": "en", "from": "2026-09-07", "to": "2026-09-07"}
        )
        assert en.status_code == 200 and "Audit log" in en.text and "Chain no." in en.text
        assert http.get("/staff/audit/export", params={"format": "json"}).status_code == 200

    async def chain() -> audit.ChainReport:
        engine = create_engine(database_url)
        try:
            sessions = create_session_factory(engine)
            await audit.seal_pending(sessions, now=T0 + timedelta(minutes=1))
            async with sessions() as db:
                return await audit.verify(db)
        finally:
            await engine.dispose()

    report = run(chain())
    assert report.ok and report.unsealed == 0 and report.sealed > 10, report
