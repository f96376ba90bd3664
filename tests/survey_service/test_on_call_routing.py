"""The on-call rota in the running service (issue 11), on SQLite and PostgreSQL, with real peers
on 127.0.0.1: a red suicide-pathway case opened on a Saturday pages the rota member by SMS
(no name, answers or scores); the same on a Tuesday morning goes only to the usual routes; the
rota API validates (422 naming the field, nothing written) and is scoped (403, 404); the staff
page shows and saves the rota without JavaScript."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from page_support import csrf, sql, staff_login, uid
from svc_support import WebhookReceiver, battery_answers, live_server, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.workers import Dispatcher

SATURDAY = datetime(2026, 9, 12, 3, 0, tzinfo=UTC)  # Saturday 11:00 in Shanghai
TUESDAY = datetime(2026, 9, 8, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}  # ASQ acute: red, crisis pathway


@dataclass
class Env:
    http: httpx.Client
    base: str
    codes: list[str]
    database_url: str
    settings: Any
    hook: WebhookReceiver
    sms: WebhookReceiver

    def login(self, username: str) -> dict[str, str]:
        r = self.http.post(
            "/api/v1/auth/login", json={"username": username, "password": "pw-test-123"}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@contextmanager
def service(database_url: str, now: datetime) -> Iterator[Env]:
    settings = make_settings(database_url)
    with WebhookReceiver() as hook, WebhookReceiver() as sms:
        codes = seed(settings, now=now).access_codes
        with (
            live_server(create_app(settings, clock=ManualClock(now))) as base,
            httpx.Client(base_url=base, timeout=15) as http,
        ):
            env = Env(http, base, codes, database_url, settings, hook, sms)
            lead = env.login("lead1")
            routes = {
                "routes": [
                    {
                        "role": "counsellor",
                        "channels": [
                            {"type": "webhook", "name": "hook", "url": hook.url, "secret": "s"}
                        ],
                    },
                    {
                        "role": "school_lead",
                        "channels": [
                            {"type": "webhook", "name": "hook", "url": hook.url, "secret": "s"},
                            {"type": "sms", "name": "sms", "url": sms.url},
                        ],
                    },
                ]
            }
            r = http.put("/api/v1/schools/DEMO-A/notification-routes", headers=lead, json=routes)
            assert r.status_code == 200, r.text
            yield env


def _dispatch(settings: Any, now: datetime) -> Any:
    async def go() -> Any:
        engine = create_engine(settings.database_url)
        try:
            async with httpx.AsyncClient() as client:
                d = Dispatcher(create_session_factory(engine), client, settings)
                return await d.run_once(now)
        finally:
            await engine.dispose()

    return run(go())


def _submit(env: Env, code: str, asq: dict[str, int]) -> None:
    s = env.http.post("/api/v1/student/sessions", json={"access_code": code}).json()
    r = env.http.post(
        f"/api/v1/student/sessions/{s['session_id']}/submission",
        headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
        json={"answers": battery_answers(asq)},
    )
    assert r.status_code == 201, r.text


def _lead_rota(env: Env) -> dict[str, Any]:
    """Put a rota paging lead1 by SMS outside school hours; returns lead1's record."""
    lead = env.login("lead1")
    view = env.http.get("/api/v1/schools/DEMO-A/on-call", headers=lead).json()
    lead1: dict[str, Any]
    (lead1,) = [m for m in view["members"] if m["role"] == "school_lead"]
    rota = {
        "entries": [{"user_id": lead1["user_id"], "channel": "sms", "outside_school_hours": True}]
    }
    r = env.http.put("/api/v1/schools/DEMO-A/on-call", headers=lead, json=rota)
    assert r.status_code == 200, r.text
    assert r.json()["default_applies"] is False
    assert [(m["user_id"], m["channel"]) for m in r.json()["members"]] == [
        (lead1["user_id"], "sms")
    ]
    return lead1


def test_saturday_suicide_case_pages_the_rota_member_by_sms(database_url: str) -> None:
    with service(database_url, SATURDAY) as env:
        lead1 = _lead_rota(env)
        _submit(env, env.codes[0], RED)
        stats = _dispatch(env.settings, SATURDAY)
        assert stats.delivered == 2 and stats.failed == 0
        # the usual route: the counsellor's webhook
        assert env.hook.events() == ["case.opened"]
        assert env.hook.deliveries[0].json["recipient_role"] == "counsellor"
        # the on-call member: one SMS to the school lead's phone
        (page,) = env.sms.deliveries
        body = json.loads(page.body)
        assert set(body) == {"to", "text", "delivery_id"}
        (phone,) = sql(
            database_url,
            "SELECT phone FROM staff_users WHERE username = 'lead1'",
        )[0]
        assert body["to"] == phone
        assert "红色" in body["text"]
        names = [n for (n,) in sql(database_url, "SELECT name FROM students")]
        text = page.body.decode()
        assert not [n for n in names if n in text]
        for word in ("score", "total", "answer", "phq", "asq", "q5"):
            assert word not in text.lower()
        rows = sql(
            database_url,
            "SELECT recipient_role, channel, recipient_user_id, status FROM outbox "
            "ORDER BY recipient_role",
        )
        assert [(r[0], r[1], r[3]) for r in rows] == [
            ("counsellor", "hook", "delivered"),
            ("on_call", "sms", "delivered"),
        ]
        assert uid(rows[1][2]) == lead1["user_id"]


def test_tuesday_morning_goes_only_to_the_usual_routes(database_url: str) -> None:
    with service(database_url, TUESDAY) as env:
        _lead_rota(env)
        _submit(env, env.codes[0], RED)
        stats = _dispatch(env.settings, TUESDAY)
        assert stats.delivered == 1
        assert env.hook.events() == ["case.opened"]
        assert env.sms.deliveries == []
        assert sql(
            database_url, "SELECT COUNT(*) FROM outbox WHERE recipient_role = 'on_call'"
        ) == [(0,)]


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_rota_api_validates_and_is_scoped(database_url: str) -> None:
    with service(database_url, TUESDAY) as env:
        lead, counsellor = env.login("lead1"), env.login("counsellor1")
        url = "/api/v1/schools/DEMO-A/on-call"
        view = env.http.get(url, headers=counsellor)
        assert view.status_code == 200, view.text
        body = view.json()
        assert body["default_applies"] is True and body["entries"] == []
        assert "school lead" in body["default"]["en"] and "分管校领导" in body["default"]["zh-CN"]
        # the default: lead1 on the SMS of their route, counsellor1 on their first channel
        assert sorted((m["role"], m["channel"]) for m in body["members"]) == [
            ("counsellor", "hook"),
            ("school_lead", "sms"),
        ]
        assert "sms" in body["channels"] and "hook" in body["channels"]
        audits = sql(database_url, "SELECT COUNT(*) FROM audit_log WHERE action = 'school.on_call'")

        def refused(doc: Any, field: str) -> None:
            r = env.http.put(url, headers=lead, json=doc)
            assert r.status_code == 422, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            problem = r.json()
            assert problem["field"] == field, problem
            assert field in problem["detail"]

        refused(
            {"entries": [{"role": "counsellor", "channel": "pager", "outside_school_hours": True}]},
            "entries[0].channel",
        )
        refused(
            {
                "entries": [
                    {"role": "school_lead", "outside_school_hours": True},
                    {"role": "counsellor", "windows": [{"days": ["sat"], "start": "25:00"}]},
                ]
            },
            "entries[1].windows[0].start",
        )
        refused({"entries": [{"role": "counsellor"}]}, "entries[0].windows")
        refused(
            {"entries": [{"user_id": "not-a-colleague", "outside_school_hours": True}]},
            "entries[0].user_id",
        )
        # nothing was written
        assert env.http.get(url, headers=lead).json()["entries"] == []
        assert (
            sql(database_url, "SELECT COUNT(*) FROM audit_log WHERE action = 'school.on_call'")
            == audits
        )

        good = {"entries": [{"role": "counsellor", "channel": "sms", "outside_school_hours": True}]}
        forbidden = env.http.put(url, headers=counsellor, json=good)
        assert forbidden.status_code == 403
        assert forbidden.json()["type"] == "urn:runxin:problem:forbidden_role"
        # another school: not found, whether reading or writing
        assert (
            env.http.put("/api/v1/schools/DEMO-B/on-call", headers=lead, json=good).status_code
            == 404
        )
        assert env.http.get("/api/v1/schools/DEMO-B/on-call", headers=counsellor).status_code == 404
        assert env.http.get("/api/v1/schools/NOPE/on-call", headers=lead).status_code == 404
        # the district officer may set it for a school of the district
        district = env.login("district1")
        leads = {"entries": [{"role": "school_lead", "outside_school_hours": True}]}
        r = env.http.put("/api/v1/schools/DEMO-B/on-call", headers=district, json=leads)
        assert r.status_code == 200, r.text
        r = env.http.put(url, headers=lead, json=good)
        assert r.status_code == 200, r.text
        assert r.json()["entries"] == good["entries"]
        assert sql(
            database_url, "SELECT COUNT(*) FROM audit_log WHERE action = 'school.on_call'"
        ) == [(audits[0][0] + 2,)]


@pytest.mark.sqlite_only  # a refusal or a page: the engine is not under test
def test_staff_page_shows_and_saves_the_rota_without_javascript(database_url: str) -> None:
    with service(database_url, TUESDAY) as env:
        with httpx.Client(base_url=env.base, timeout=15, follow_redirects=True) as browser:
            assert staff_login(browser, "lead1").status_code == 200
            queue = browser.get("/staff/queue")
            assert 'href="/staff/on-call"' in queue.text
            page = browser.get("/staff/on-call")
            assert page.status_code == 200, page.text
            assert "校外时间值班表" in page.text and "默认值班" in page.text
            assert "<script" not in page.text
            en = browser.get("/staff/on-call?lang=en")
            assert "On-call rota outside school hours" in en.text
            form = {
                "_csrf": csrf(page.text),
                "rows": "2",
                "who_0": "role:counsellor",
                "channel_0": "sms",
                "day_0_fri": "1",
                "day_0_sat": "1",
                "start_0": "18:00",
                "end_0": "08:00",
                "who_1": "",
            }
            saved = browser.post("/staff/on-call", data=form)
            assert saved.status_code == 200 and saved.url.path == "/staff/on-call", saved.text
            lead = env.login("lead1")
            stored = env.http.get("/api/v1/schools/DEMO-A/on-call", headers=lead).json()
            assert stored["entries"] == [
                {
                    "role": "counsellor",
                    "channel": "sms",
                    "windows": [{"days": ["fri", "sat"], "start": "18:00", "end": "08:00"}],
                }
            ]
            bad = browser.post("/staff/on-call", data={**form, "end_0": "99:00"})
            assert bad.status_code == 422
            assert "entries[0].windows[0].end" in bad.text
            assert env.http.get("/api/v1/schools/DEMO-A/on-call", headers=lead).json() == stored
        with httpx.Client(base_url=env.base, timeout=15, follow_redirects=True) as browser:
            assert staff_login(browser, "counsellor1").status_code == 200
            page = browser.get("/staff/on-call")
            assert page.status_code == 200 and 'action="/staff/on-call"' not in page.text
            refused = browser.post("/staff/on-call", data={"_csrf": csrf(page.text), "rows": "0"})
            assert refused.status_code == 403


def test_a_failed_on_call_page_alerts_operators_without_cascading(database_url: str) -> None:
    with service(database_url, SATURDAY) as env:
        _lead_rota(env)
        env.sms.statuses = [400]  # the gateway refuses for good
        _submit(env, env.codes[0], RED)
        stats = _dispatch(env.settings, SATURDAY)
        assert stats.delivered == 1 and stats.failed == 1
        assert len(env.sms.deliveries) == 1
        rows = sql(
            database_url,
            "SELECT recipient_role, channel, status FROM outbox ORDER BY recipient_role",
        )
        # no fallback (the SMS channel names none) and no escalation from the on-call page
        assert rows == [("counsellor", "hook", "delivered"), ("on_call", "sms", "failed")]
        alerts = env.http.get("/api/v1/operator/alerts", headers=env.login("lead1")).json()
        assert len(alerts) == 1 and "on_call on sms" in alerts[0]["detail"]
        assert _dispatch(env.settings, SATURDAY).claimed == 0
