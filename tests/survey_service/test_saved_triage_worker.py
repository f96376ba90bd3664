"""The abandoned-session case through the real commands (issue 11): a student saves a critical
answer and never submits; ``runxin sweep --at`` before the idle time does nothing, then
``runxin worker --once`` (the worker process, on the system clock) opens exactly one case and
delivers its notification, and a second pass adds nothing. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from page_support import sql
from svc_support import WebhookReceiver, live_server, make_settings, runxin, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.screening.saved_triage import SAVED_TRIAGE_AFTER

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def test_the_worker_process_triages_an_abandoned_critical_answer(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        code = seed(settings, now=T0, webhook_url=rx.url).access_codes[0]
        with (
            live_server(create_app(settings, clock=ManualClock(T0))) as base,
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            start = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
            saved = http.put(
                f"/api/v1/student/sessions/{start['session_id']}/answers",
                headers={"Authorization": f"Bearer {start['session_token']}"},
                json={"answers": {"phq9": {"item1": 1, "item9": 2}}},
            )
            assert saved.status_code == 200, saved.text
        db = ["--database-url", database_url]
        early = T0 + SAVED_TRIAGE_AFTER - timedelta(minutes=1)
        swept = runxin("sweep", "--at", early.isoformat(), *db)
        assert swept.returncode == 0, swept.stderr
        assert sql(database_url, "SELECT COUNT(*) FROM cases") == [(0,)]

        for _ in range(2):  # the worker process; the second pass must add nothing
            worker = runxin("worker", "--once", *db)
            assert worker.returncode == 0, worker.stderr
        cases = sql(database_url, "SELECT tier, pathway, status FROM cases")
        assert cases == [("orange", "suicide", "open")]
        records = sql(database_url, "SELECT source FROM triage_results")
        assert records == [("saved_answers",)]
        opened = [d.json for d in rx.deliveries if d.json["event"] == "case.opened"]
        assert len(opened) >= 1 and {d["tier"] for d in opened} == {"orange"}
        assert len({d["delivery_id"] for d in opened}) == len(
            sql(database_url, "SELECT id FROM outbox WHERE event = 'case.opened'")
        )
