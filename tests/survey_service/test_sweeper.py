"""The sweeper on real databases: overdue tasks, plan reviews, late incident reviews,
and school calendars that move deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from svc_support import WebhookReceiver, app_client, battery_answers, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import CaseTask, create_engine, create_session_factory
from survey_service.services.runtime import load_runtime
from survey_service.workers import Dispatcher, sweep

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai, in the demo autumn term


async def _pass(settings, now):  # type: ignore[no-untyped-def]
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        stats = await sweep(sessions, settings, now=now, runtime=load_runtime(settings))
        async with httpx.AsyncClient() as client:
            await Dispatcher(sessions, client, settings).run_once(now)
        return stats
    finally:
        await engine.dispose()


async def _tasks(database_url: str) -> list[CaseTask]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            return list((await db.scalars(select(CaseTask).order_by(CaseTask.due_at))).all())
    finally:
        await engine.dispose()


def _login(http: httpx.Client, user: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_care_tasks_follow_the_calendar_and_overdue_tasks_escalate(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seeded = seed(settings, now=T0, webhook_url=rx.url)
        clock = ManualClock(T0)
        with app_client(create_app(settings, clock=clock), timeout=15) as http:
            s = http.post(
                "/api/v1/student/sessions", json={"access_code": seeded.access_codes[0]}
            ).json()
            r = http.post(
                f"/api/v1/student/sessions/{s['session_id']}/submission",
                headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
                json={"answers": battery_answers(gad7=2)},  # GAD-7 14: yellow
            )
            assert r.status_code == 201
            tasks = run(_tasks(database_url))
            kinds = [t.kind for t in tasks]
            # Standing duties from the school calendar (checklist items 14 and 17).
            assert "home_visit" in kinds and "talk_before_midterm" in kinds
            assert "counsellor_interview" in kinds
            talk = next(t for t in tasks if t.kind == "talk_before_midterm")
            assert talk.assignee_role == "head_teacher"
            # Midterm exams are 9–10 November in the demo calendar: the talk is due before.
            assert talk.due_at < datetime(2026, 11, 9, tzinfo=UTC)

            auth = _login(http, "counsellor1")
            case_id = http.get("/api/v1/cases", headers=auth).json()["items"][0]["case_id"]
            ack = http.post(f"/api/v1/cases/{case_id}/acknowledge", headers=auth)
            assert ack.status_code == 200

        interview = next(t for t in tasks if t.kind == "counsellor_interview")
        before = len(rx.deliveries)
        run(_pass(settings, interview.due_at - timedelta(seconds=1)))
        assert not [d for d in rx.deliveries if d.json.get("task_id") == str(interview.id)]
        # Tasks already overdue by then (e.g. the start-of-term talk) were re-notified.
        early = {d.json["task_id"] for d in rx.deliveries[before:] if "task_id" in d.json}
        due_before = {
            str(t.id) for t in tasks if t.due_at < interview.due_at and t.kind != "acknowledge"
        }
        assert early <= due_before
        # Days late: re-notify the counsellor, then the school lead — each once, in order.
        late = interview.due_at + timedelta(days=20)
        stats = run(_pass(settings, late))
        assert stats.task_escalations >= 2
        overdue = [
            d.json for d in rx.deliveries[before:] if d.json.get("task_id") == str(interview.id)
        ]
        assert [(d["event"], d["recipient_role"]) for d in overdue][:2] == [
            ("task.overdue", "counsellor"),
            ("task.escalated", "school_lead"),
        ]
        again = run(_pass(settings, late + timedelta(minutes=1)))
        assert again.task_escalations == 0


def test_plan_review_and_late_incident_review(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seeded = seed(settings, now=T0, webhook_url=rx.url)
        clock = ManualClock(T0)
        with app_client(create_app(settings, clock=clock), timeout=15) as http:
            s = http.post(
                "/api/v1/student/sessions", json={"access_code": seeded.access_codes[0]}
            ).json()
            http.post(
                f"/api/v1/student/sessions/{s['session_id']}/submission",
                headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
                json={"answers": battery_answers({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0})},
            )
            auth = _login(http, "counsellor1")
            case = http.get("/api/v1/cases", headers=auth).json()["items"][0]
            plan = {
                "warning_signs": ["a"],
                "coping_steps": ["b"],
                "contacts": [{"name": "Ms Li", "relation": "counsellor", "phone": "12356"}],
                "means_safety": ["c"],
            }
            r = http.put(
                f"/api/v1/students/{case['student']['student_id']}/plan",
                headers=auth,
                json={"content": plan, "review_on": "2026-09-21"},
            )
            assert r.status_code == 200, r.text
            lead = _login(http, "lead1")
            inc = http.post(
                "/api/v1/incidents",
                headers=lead,
                json={
                    "kind": "self_harm",
                    "description": "x",
                    "occurred_at": (T0 - timedelta(hours=1)).isoformat(),
                },
            ).json()

        stats = run(_pass(settings, datetime(2026, 9, 20, 2, tzinfo=UTC)))
        assert stats.plan_reviews == 0 and stats.incident_escalations == 0
        stats = run(_pass(settings, datetime(2026, 9, 21, 2, tzinfo=UTC)))
        assert stats.plan_reviews == 1 and stats.incident_escalations == 1
        assert "plan_review" in [t.kind for t in run(_tasks(database_url))]
        late = [d.json for d in rx.deliveries if d.json["event"] == "incident.review_overdue"]
        assert len(late) == 1 and late[0]["recipient_role"] == "district_officer"
        assert late[0]["incident_id"] == inc["incident_id"]
        stats = run(_pass(settings, datetime(2026, 9, 22, 2, tzinfo=UTC)))
        assert stats.plan_reviews == 0 and stats.incident_escalations == 0


def test_school_calendar_api(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=15) as http:
        doc = {
            "terms": [
                {
                    "start": "2027-09-01",
                    "end": "2028-01-20",
                    "midterm_exam": {"start": "2027-11-08", "end": "2027-11-09"},
                }
            ],
            "holidays": ["2027-10-01", "2027-10-02"],
            "makeup_workdays": ["2027-09-26"],
        }
        url = "/api/v1/schools/DEMO-A/calendars/2027-2028"
        r = http.put(url, headers=_login(http, "lead1"), json=doc)
        assert r.status_code == 200, r.text
        assert r.json()["first_day"] == "2027-09-01"
        assert http.put(url, headers=_login(http, "counsellor1"), json=doc).status_code == 403
        assert (
            http.put(
                "/api/v1/schools/DEMO-B/calendars/2027-2028",
                headers=_login(http, "lead1"),
                json=doc,
            ).status_code
            == 404
        )
        bad = {**doc, "terms": [{"start": "2028-01-20", "end": "2027-09-01"}]}
        r = http.put(url, headers=_login(http, "lead1"), json=bad)
        assert r.status_code == 422 and "calendar" in r.json()["detail"]
