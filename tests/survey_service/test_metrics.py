"""``GET /metrics`` (issue 14): Prometheus text from the official client, counts that move with
what happens, labels that never name a person, and the optional bearer token."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from svc_support import WebhookReceiver, app_client, battery_answers, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.observability.metrics import PROCESS_REGISTRY
from survey_service.settings import Settings
from survey_service.workers import Dispatcher

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
RED: dict[str, int | None] = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _process_value(name: str, **labels: str) -> float:
    return PROCESS_REGISTRY.get_sample_value(name, labels) or 0.0


async def _dispatch(settings: Settings, now: datetime) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with httpx.AsyncClient() as client:
            sessions = create_session_factory(engine)
            return (await Dispatcher(sessions, client, settings).run_once(now)).delivered
    finally:
        await engine.dispose()


async def _identities(database_url: str) -> list[str]:
    """Every student's id, number and name, and every school's id, code and name."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            students = await conn.execute(text("SELECT id, student_number, name FROM students"))
            schools = await conn.execute(text("SELECT id, code, name FROM schools"))
            return [str(v) for row in [*students, *schools] for v in row]
    finally:
        await engine.dispose()


def test_a_red_case_moves_the_counts_and_no_label_names_anyone(database_url: str) -> None:
    with WebhookReceiver() as rx:
        settings = make_settings(database_url)
        demo = seed(settings, now=T0, students=2, webhook_url=rx.url)
        accepted = _process_value("runxin_submissions_accepted_total")
        refused = _process_value(
            "runxin_submissions_rejected_total", reason="idempotency_key_required"
        )
        clock = ManualClock(T0)
        with app_client(create_app(settings, clock=clock)) as http:
            session = http.post(
                "/api/v1/student/sessions", json={"access_code": demo.access_codes[0]}
            ).json()
            url = f"/api/v1/student/sessions/{session['session_id']}/submission"
            auth = {"Authorization": f"Bearer {session['session_token']}"}
            body = {"answers": battery_answers(RED)}
            assert http.post(url, headers=auth, json=body).status_code == 400  # no key
            keyed = {**auth, "Idempotency-Key": "k1"}
            assert http.post(url, headers=keyed, json=body).status_code == 201
            assert http.post(url, headers=keyed, json=body).status_code == 201  # a replay

            clock.advance(timedelta(seconds=90))  # the notification waits 90 s
            before = _samples(http.get("/metrics").text)
            assert before[("runxin_outbox_pending", (("tier", "red"),))] >= 1
            assert before[("runxin_outbox_oldest_pending_age_seconds", (("tier", "red"),))] == 90
            assert before[("runxin_cases_open", (("tier", "red"),))] == 1
            assert before[("runxin_cases_unacknowledged", (("tier", "red"),))] == 1
            assert before[("runxin_ready", ())] == 0  # no worker has beaten
            assert before[("runxin_worker_heartbeat_age_seconds", ())] == float("inf")

            assert run(_dispatch(settings, clock.now())) >= 1
            scrape = http.get("/metrics")
            after = _samples(scrape.text)
            # Nobody acknowledges the red case within its 15 minutes: a breach, overdue now.
            acknowledge = (("deadline", "acknowledge"), ("tier", "red"))
            assert after[("runxin_deadlines_overdue", acknowledge)] == 0
            clock.set(T0 + timedelta(minutes=16))
            late = _samples(http.get("/metrics").text)
            assert late[("runxin_deadlines_overdue", acknowledge)] == 1
            assert late[("runxin_deadline_breaches", acknowledge)] == 1
            assert (
                late[
                    ("runxin_deadline_breaches", (("deadline", "acknowledge"), ("tier", "orange")))
                ]
                == 0
            )
        assert scrape.headers["content-type"].startswith("text/plain")
    assert _process_value("runxin_submissions_accepted_total") == accepted + 1
    assert _process_value("runxin_submissions_replayed_total") >= 1
    assert (
        _process_value("runxin_submissions_rejected_total", reason="idempotency_key_required")
        == refused + 1
    )
    assert after[("runxin_outbox_pending", (("tier", "red"),))] == 0
    assert after[("runxin_outbox_oldest_pending_age_seconds", (("tier", "red"),))] == 0
    delivered = [
        v
        for (name, labels), v in after.items()
        if name == "runxin_delivery_attempts" and ("outcome", "ok") in labels
    ]
    assert sum(delivered) >= 1
    route = "/api/v1/student/sessions/{session_id}/submission"
    count = (
        "runxin_http_request_duration_seconds_count",
        (("method", "POST"), ("route", route), ("status_class", "2xx")),
    )
    assert after[count] >= 2
    # Labels are tiers, routes, channels and outcomes: never a code, token, name or id.
    secrets = [
        demo.access_codes[0],
        session["session_id"],
        session["session_token"],
        *run(_identities(database_url)),
    ]
    assert not [s for s in secrets if s in scrape.text or s.replace("-", "") in scrape.text]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_token_guards_the_scrape_when_set(database_url: str) -> None:
    settings = make_settings(database_url, metrics_token="scrape-secret-0123")
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        assert http.get("/metrics").status_code == 401
        wrong = http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "scrape-secret" not in wrong.text
        ok = http.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123"})
        assert ok.status_code == 200 and "runxin_ready" in ok.text


_BUMP = """
from survey_service.observability import metrics
metrics.submission_accepted(replayed=False)
metrics.submission_rejected("campaign_closed")
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_server_processes_add_up_in_multiprocess_mode(database_url: str, tmp_path: Path) -> None:
    """Two processes count into PROMETHEUS_MULTIPROC_DIR (as ``runxin serve --workers 2``
    does); any process's scrape answers their sum."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    workers = [
        subprocess.Popen([sys.executable, "-c", _BUMP], env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err.decode()
    settings = make_settings(database_url, metrics_multiproc_dir=str(folder))
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        samples = _samples(http.get("/metrics").text)
    assert samples[("runxin_submissions_accepted_total", ())] == 2
    assert samples[("runxin_submissions_rejected_total", (("reason", "campaign_closed"),))] == 2
    assert ("runxin_ready", ()) in samples  # the database part is there too
