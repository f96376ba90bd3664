"""Issue 19, data rights (PIPL, minors): guardian consent as a record with history, withdrawal
that stops processing (but never closes a child's open case), and the export of everything
held about one student — complete by construction, scoped and audited.

Real parts: the app in process on a manual clock, the sweeper, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from page_support import sql, staff_login, uid
from svc_support import app_client, battery_answers, make_settings, run, seed

from survey_service.app import create_app
from survey_service.cases.export import exported_tables
from survey_service.clock import ManualClock
from survey_service.db import Base, create_engine, create_session_factory
from survey_service.services.runtime import load_runtime
from survey_service.settings import Settings
from survey_service.workers import sweep

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai, in the demo autumn term
CRITICAL = {"q1": 1, "q2": 0, "q3": 0, "q4": 0}  # ASQ: a suicide-risk answer


def _login(http: httpx.Client, user: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _start(http: httpx.Client, code: str) -> httpx.Response:
    return http.post("/api/v1/student/sessions", json={"access_code": code, "language": "en"})


def _student_of(database_url: str, session_id: str) -> str:
    import uuid

    ((student,),) = sql(
        database_url,
        "SELECT student_id FROM screening_sessions WHERE id = :s",
        s=uuid.UUID(session_id),
    )
    return uid(student)


def _student_where(database_url: str, session_id: str) -> Any:
    """The bound id of the student of a session (hex text on SQLite, uuid on PostgreSQL)."""
    import uuid

    return uuid.UUID(_student_of(database_url, session_id))


async def _sweep(settings: Settings, now: datetime) -> None:
    engine = create_engine(settings.database_url)
    try:
        await sweep(
            create_session_factory(engine), settings, now=now, runtime=load_runtime(settings)
        )
    finally:
        await engine.dispose()


def test_withdrawal_stops_processing_keeps_history_and_the_open_case(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    campaign = seeded.campaign_ids[0]
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        staff = _login(http, "counsellor1")
        # Student A is answering: a critical answer saved, not submitted.
        a = _start(http, seeded.access_codes[0])
        assert a.status_code == 201, a.text
        a_session, a_token = a.json()["session_id"], a.json()["session_token"]
        a_student = _student_where(database_url, a_session)
        saved = http.put(
            f"/api/v1/student/sessions/{a_session}/answers",
            headers={"Authorization": f"Bearer {a_token}"},
            json={"answers": {"asq": CRITICAL}},
        )
        assert saved.status_code == 200, saved.text
        # Student B submitted a critical answer: an open case.
        b = _start(http, seeded.access_codes[2])
        b_session = b.json()["session_id"]
        b_student = _student_where(database_url, b_session)
        r = http.post(
            f"/api/v1/student/sessions/{b_session}/submission",
            headers={
                "Authorization": f"Bearer {b.json()['session_token']}",
                "Idempotency-Key": "b-1",
            },
            json={"answers": battery_answers(CRITICAL)},
        )
        assert r.status_code == 201, r.text
        ((b_case,),) = sql(database_url, "SELECT id FROM cases WHERE student_id = :s", s=b_student)

        # The guardian's decision is recorded with its evidence; a change keeps the earlier one.
        r = http.post(
            f"/api/v1/campaigns/{campaign}/consents",
            headers=staff,
            json={
                "student_id": str(a_student),
                "status": "granted",
                "guardian_name": "A's mother",
                "notice_version": "2026.2",
                "verification_method": "phone_call",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["notice_version"] == "2026.2"
        assert r.json()["verification_method"] == "phone_call"
        assert r.json()["verified_by"] is not None
        bad = http.post(
            f"/api/v1/campaigns/{campaign}/consents",
            headers=staff,
            json={"student_id": str(a_student), "status": "granted", "verification_method": "sms"},
        )
        assert bad.status_code == 422 and "verification_method" in bad.json()["detail"]

        clock.advance(timedelta(minutes=5))
        withdraw = f"/api/v1/campaigns/{campaign}/consents/{a_student}/withdrawal"
        r = http.post(
            withdraw, headers=staff, json={"channel": "phone_call", "reason": "changed mind"}
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "withdrawn" and r.json()["sessions_stopped"] == 1
        # Safety first: A's critical answer, saved five minutes ago (the sweeper would wait
        # 30), is triaged before the saved answers are erased: a case opens and is kept.
        ((a_case, a_tier),) = sql(
            database_url, "SELECT id, tier FROM cases WHERE student_id = :s", s=a_student
        )
        assert a_tier in {"orange", "red"}
        assert r.json()["open_cases_kept"] == [uid(a_case)]
        ((source,),) = sql(
            database_url, "SELECT source FROM triage_results WHERE student_id = :s", s=a_student
        )
        assert source == "saved_answers"
        again = http.post(withdraw, headers=staff, json={"channel": "phone_call"})
        assert again.status_code == 409
        assert again.json()["type"].endswith("consent_already_withdrawn")
        # Another school's counsellor cannot tell it exists.
        other = http.post(
            withdraw, headers=_login(http, "counsellor2"), json={"channel": "in_person"}
        )
        assert other.status_code == 404

        # History: the grant and the withdrawal, each with who, how and which notice.
        history = sql(
            database_url,
            "SELECT decision, method, notice_version, reason, recorded_by FROM consent_events "
            "WHERE student_id = :s ORDER BY at",
            s=a_student,
        )
        assert [(d, m, n, why) for d, m, n, why, _ in history] == [
            ("granted", "phone_call", "2026.2", None),
            ("withdrawn", "phone_call", "2026.2", "changed mind"),
        ]
        ((status, withdrawn_at, channel),) = sql(
            database_url,
            "SELECT status, withdrawn_at, withdrawal_channel FROM consents WHERE student_id = :s",
            s=a_student,
        )
        assert (status, channel) == ("withdrawn", "phone_call") and withdrawn_at is not None

        # Processing stops: the code, the saves and the submission are refused, bilingually.
        for refused in (
            _start(http, seeded.access_codes[0]),
            http.put(
                f"/api/v1/student/sessions/{a_session}/answers",
                headers={"Authorization": f"Bearer {a_token}"},
                json={"answers": {"asq": {"q2": 1}}},
            ),
            http.post(
                f"/api/v1/student/sessions/{a_session}/submission",
                headers={"Authorization": f"Bearer {a_token}", "Idempotency-Key": "a-1"},
                json={"answers": battery_answers(CRITICAL)},
            ),
        ):
            assert refused.status_code == 403, refused.text
            body = refused.json()
            assert body["type"].endswith("consent_withdrawn")
            assert "撤回" in body["message"]["zh-CN"] and "withdrawn" in body["message"]["en"]
        ((partial, status),) = sql(
            database_url,
            "SELECT partial_answers, status FROM screening_sessions WHERE student_id = :s",
            s=a_student,
        )
        assert (json.loads(partial) if isinstance(partial, str) else partial) == {}
        assert status == "withdrawn"
        # Not a non-completer to chase.
        chase = http.get(f"/api/v1/campaigns/{campaign}/non-completers", headers=staff)
        assert str(a_student) not in {s["student_id"] for s in chase.json()}

        # C saved only ordinary answers: the withdrawal erases them and triages nothing.
        c = _start(http, seeded.access_codes[1])
        c_session, c_token = c.json()["session_id"], c.json()["session_token"]
        c_student = _student_where(database_url, c_session)
        saved = http.put(
            f"/api/v1/student/sessions/{c_session}/answers",
            headers={"Authorization": f"Bearer {c_token}"},
            json={"answers": {"asq": {"q1": 0, "q2": 0}}},
        )
        assert saved.status_code == 200, saved.text
        r = http.post(
            f"/api/v1/campaigns/{campaign}/consents/{c_student}/withdrawal",
            headers=staff,
            json={"channel": "paper_slip"},
        )
        assert r.status_code == 201 and r.json()["open_cases_kept"] == [], r.text
        for table in ("triage_results", "cases"):
            assert (
                sql(database_url, f"SELECT id FROM {table} WHERE student_id = :s", s=c_student)
                == []
            )

        # B's guardian withdraws too: B's open case stays open with the counsellor, who is told.
        r = http.post(
            f"/api/v1/campaigns/{campaign}/consents/{b_student}/withdrawal",
            headers=staff,
            json={"channel": "paper_slip"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["open_cases_kept"] == [uid(b_case)]

    # An hour on, the sweeper finds nothing more of A's to triage: the saved answers are gone,
    # nothing was scored or stored as a response, and the one triage record stays the one.
    run(_sweep(settings, T0 + timedelta(hours=1)))
    for table in ("responses", "scores"):
        assert sql(database_url, f"SELECT id FROM {table} WHERE student_id = :s", s=a_student) == []
    assert (
        len(sql(database_url, "SELECT id FROM triage_results WHERE student_id = :s", s=a_student))
        == 1
    )
    ((b_status,),) = sql(
        database_url, "SELECT status FROM cases WHERE student_id = :s", s=b_student
    )
    assert b_status != "closed"
    assert sql(
        database_url,
        "SELECT kind FROM case_events WHERE case_id = :c AND kind = 'consent_withdrawn'",
        c=_uuid(b_case),
    )
    told = sql(
        database_url,
        "SELECT recipient_role FROM outbox WHERE case_id = :c AND event = 'consent.withdrawn'",
        c=_uuid(b_case),
    )
    assert told and {r for (r,) in told} <= {"counsellor", "on_call"}


def _uuid(value: Any) -> Any:
    import uuid

    return uuid.UUID(uid(value))


def _about_students(table: Any) -> bool:
    """A table that holds rows about a student: a student_id, or a reference to a student,
    a case, a screening session or a notification about them."""
    return "student_id" in table.c or any(
        fk.column.table.name in {"students", "cases", "screening_sessions", "outbox"}
        for fk in table.foreign_keys
    )


def test_export_is_complete_scoped_audited_and_printable(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        started = _start(http, seeded.access_codes[0])
        session = started.json()["session_id"]
        student = _student_of(database_url, session)
        r = http.post(
            f"/api/v1/student/sessions/{session}/submission",
            headers={
                "Authorization": f"Bearer {started.json()['session_token']}",
                "Idempotency-Key": "k-1",
            },
            json={"answers": battery_answers(CRITICAL)},
        )
        assert r.status_code == 201, r.text
        staff = _login(http, "counsellor1")
        ((case,),) = sql(
            database_url, "SELECT id FROM cases WHERE student_id = :s", s=_uuid(student)
        )
        r = http.post(
            f"/api/v1/cases/{uid(case)}/records",
            headers=staff,
            json={"kind": "talk", "summary": "Talked about sleep and school."},
        )
        assert r.status_code == 201, r.text

        r = http.get(f"/api/v1/students/{student}/export", headers=staff)
        assert r.status_code == 200, r.text
        body = r.json()
        tables = body["tables"]
        # Complete by construction: every table about students is in the export ...
        about = {t.name for t in Base.metadata.sorted_tables if _about_students(t)}
        assert about - set(tables) == set(), "tables missing from the export"
        assert set(exported_tables()) == set(tables)
        assert {"inbox_items", "audit_log"} <= set(tables)
        # ... and holds what is there.
        for name in (
            "guardians",
            "consents",
            "access_codes",
            "screening_sessions",
            "responses",
            "scores",
            "triage_results",
            "cases",
            "case_events",
            "case_tasks",
            "care_records",
            "outbox",
        ):
            assert tables[name], f"{name} is empty in the export"
        assert body["student"]["id"] == student
        answers = {r["instrument_id"]: r["answers"] for r in tables["responses"]}
        assert answers["asq"]["q1"] == 1
        assert tables["care_records"][0]["summary"] == "Talked about sleep and school."
        # No secret: code and token digests are withheld.
        ((code_digest, token_digest),) = sql(
            database_url,
            "SELECT c.code_digest, s.token_digest FROM access_codes c "
            "JOIN screening_sessions s ON s.access_code_id = c.id WHERE s.id = :s",
            s=_uuid(session),
        )
        assert code_digest not in r.text and token_digest not in r.text
        assert tables["access_codes"][0]["code_digest"] == "[withheld]"
        # Only this student's rows.
        assert {row["student_id"] for row in tables["responses"]} == {student}

        # Scoped: another school's counsellor gets 404, roles without the right 403.
        assert (
            http.get(
                f"/api/v1/students/{student}/export", headers=_login(http, "counsellor2")
            ).status_code
            == 404
        )
        for role_user in ("district1", "headteacher1"):
            got = http.get(f"/api/v1/students/{student}/export", headers=_login(http, role_user))
            assert got.status_code in (403, 404), (role_user, got.status_code)
        by_lead = http.get(f"/api/v1/students/{student}/export", headers=_login(http, "lead1"))
        assert by_lead.status_code == 200
        # The first export is among the audit rows about the student that the next one lists.
        actions = [a["action"] for a in by_lead.json()["tables"]["audit_log"]]
        assert actions.count("student.export") == 1

        # The printable page, in both languages.
        assert staff_login(http, "counsellor1").status_code in (200, 303)
        file_page = http.get(f"/staff/students/{student}")
        assert f'href="/staff/students/{student}/export"' in file_page.text
        page = http.get(f"/staff/students/{student}/export")
        assert page.status_code == 200, page.text
        assert "学生个人信息副本" in page.text and "Talked about sleep and school." in page.text
        page_en = http.get(f"/staff/students/{student}/export?lang=en")
        assert page_en.status_code == 200
        assert "Copy of a student" in page_en.text and "Care records" in page_en.text

    # Every export is audited, with the student as its subject.
    rows = sql(
        database_url,
        "SELECT subject_ids, actor_role FROM audit_log WHERE action = 'student.export'",
    )
    assert len(rows) == 4  # counsellor1 (JSON), lead1 (JSON), counsellor1 (page zh, en)
    for subjects, _role in rows:
        ids = json.loads(subjects) if isinstance(subjects, str) else subjects
        assert ids == [student]
