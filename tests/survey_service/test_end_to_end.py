"""The whole loop over real HTTP: screening → case → signed webhook → escalation → acknowledge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from svc_support import WebhookReceiver, live_server, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.workers import Dispatcher, sweep
from triage import verify_signature

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai, a school day
SECRET = "whsec-e2e"


def _answers(asq: dict[str, int | None]) -> dict[str, dict[str, int | None]]:
    phq = {f"item{i}": 0 for i in range(1, 10)}
    phq.update(difficulty=0)
    return {"phq9": phq, "gad7": {f"item{i}": 0 for i in range(1, 8)}, "asq": asq}


async def _worker_pass(settings, now):  # type: ignore[no-untyped-def]
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        swept = await sweep(sessions, settings, now=now)
        async with httpx.AsyncClient() as client:
            stats = await Dispatcher(sessions, client, settings).run_once(now)
        return swept, stats
    finally:
        await engine.dispose()


def test_acute_asq_is_signed_escalated_and_stopped_by_acknowledge(database_url: str) -> None:
    clock = ManualClock(T0)
    settings = make_settings(database_url)
    with WebhookReceiver() as receiver:
        seeded = seed(settings, now=T0, webhook_url=receiver.url, webhook_secret=SECRET)
        with (
            live_server(create_app(settings, clock=clock)) as base,
            httpx.Client(base_url=base, timeout=10) as http,
        ):
            started = http.post(
                "/api/v1/student/sessions",
                json={"access_code": seeded.access_codes[0], "language": "zh-CN"},
            )
            assert started.status_code == 201, started.text
            session = started.json()
            assert [b["instrument_id"] for b in session["battery"]] == ["phq9", "gad7", "asq"]

            submitted = http.post(
                f"/api/v1/student/sessions/{session['session_id']}/submission",
                headers={
                    "Authorization": f"Bearer {session['session_token']}",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
                json={"answers": _answers({"q1": 1, "q2": 0, "q3": 1, "q4": 0, "q5": 1})},
            )
            assert submitted.status_code == 201, submitted.text
            receipt = submitted.json()
            assert receipt["status"] == "received"
            assert not {"tier", "score", "scores", "band", "total"} & set(receipt)

            # The case is committed before the 201: the dispatcher delivers it at once.
            swept, stats = run(_worker_pass(settings, clock.now()))
            assert stats.delivered == 1
            opened = receiver.deliveries[0]
            assert opened.json["event"] == "case.opened"
            assert opened.json["tier"] == "red"
            assert opened.json["recipient_role"] == "counsellor"
            for field in ("case_id", "school_id", "deadline", "delivery_id"):
                assert opened.json[field]
            assert opened.headers["x-runxin-delivery"] == opened.json["delivery_id"]
            assert verify_signature(
                [SECRET],
                timestamp=opened.headers["x-runxin-timestamp"],
                signature=opened.headers["x-runxin-signature"],
                body=opened.body,
                now=int(T0.timestamp()),
            )
            assert opened.headers["x-runxin-signature"].startswith("v1=")
            assert not verify_signature(
                ["wrong-secret"],
                timestamp=opened.headers["x-runxin-timestamp"],
                signature=opened.headers["x-runxin-signature"],
                body=opened.body,
                now=int(T0.timestamp()),
            )
            deadline = datetime.fromisoformat(opened.json["deadline"])
            assert deadline == T0 + timedelta(minutes=15)
            # Nothing sensitive goes out: no names, answers or scores.
            assert b"answers" not in opened.body and b"total" not in opened.body

            # Before the acknowledge deadline nothing escalates.
            clock.set(T0 + timedelta(minutes=14))
            swept, stats = run(_worker_pass(settings, clock.now()))
            assert swept.escalations == 0 and stats.claimed == 0

            # Past it, the school lead is told.
            clock.set(T0 + timedelta(minutes=16))
            swept, stats = run(_worker_pass(settings, clock.now()))
            assert swept.escalations == 1 and stats.delivered == 1
            escalated = receiver.deliveries[-1].json
            assert escalated["event"] == "case.escalated"
            assert escalated["recipient_role"] == "school_lead"
            assert escalated["case_id"] == opened.json["case_id"]

            # The counsellor logs in, sees the case first, acknowledges it.
            login = http.post(
                "/api/v1/auth/login", json={"username": "counsellor1", "password": "pw-test-123"}
            )
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            queue = http.get("/api/v1/cases", headers=auth).json()
            assert queue["items"][0]["case_id"] == opened.json["case_id"]
            assert queue["items"][0]["tier"] == "red"
            assert queue["items"][0]["overdue"] is True
            assert "answers" not in queue["items"][0]
            ack = http.post(
                f"/api/v1/cases/{opened.json['case_id']}/acknowledge",
                headers=auth,
                json={"note": "spoke with the student"},
            )
            assert ack.status_code == 200, ack.text
            assert ack.json()["status"] == "acknowledged"

            # After acknowledgement the case's own ladder stops, even a day later…
            clock.set(T0 + timedelta(minutes=20))
            swept, stats = run(_worker_pass(settings, clock.now()))
            assert swept.escalations == 0 and stats.claimed == 0
            assert receiver.events() == ["case.opened", "case.escalated"]
            # …but the same-day safety assessment and guardian contact, still not done the
            # next day, re-notify the counsellor and then climb the ladder, once each.
            clock.set(T0 + timedelta(days=1))
            swept, stats = run(_worker_pass(settings, clock.now()))
            assert swept.escalations == 0 and swept.task_escalations > 0
            later = receiver.events()[2:]
            assert later and set(later) <= {"task.overdue", "task.escalated"}
            assert "case.escalated" not in later
            swept, stats = run(_worker_pass(settings, clock.now()))
            assert swept.task_escalations == 0 and stats.claimed == 0


def test_unacknowledged_red_case_climbs_the_whole_ladder_once(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as receiver:
        seeded = seed(settings, now=T0, webhook_url=receiver.url, webhook_secret=SECRET)
        clock = ManualClock(T0)
        with (
            live_server(create_app(settings, clock=clock)) as base,
            httpx.Client(base_url=base, timeout=10) as http,
        ):
            s = http.post(
                "/api/v1/student/sessions", json={"access_code": seeded.access_codes[1]}
            ).json()
            r = http.post(
                f"/api/v1/student/sessions/{s['session_id']}/submission",
                headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k1"},
                json={"answers": _answers({"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 1})},
            )
            assert r.status_code == 201
        # The clock jumps two days forward: every step fires once, in order.
        run(_worker_pass(settings, T0 + timedelta(days=2)))
        run(_worker_pass(settings, T0 + timedelta(days=2, minutes=5)))
        run(_worker_pass(settings, T0 + timedelta(hours=1)))  # and back: nothing fires early
        roles = [(d.json["event"], d.json["recipient_role"]) for d in receiver.deliveries]
        assert roles == [
            ("case.opened", "counsellor"),
            ("case.escalated", "school_lead"),
            ("case.escalated", "district_officer"),
        ]
        assert len({d.json["delivery_id"] for d in receiver.deliveries}) == 3
