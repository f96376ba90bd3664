"""Per-school channel routes in the running service, with real peers on 127.0.0.1: a WeCom
robot that refuses, the in-app queue as fallback, e-mail to the school lead over real SMTP."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message

import httpx
import pytest
from aiosmtpd.controller import Controller
from svc_support import WebhookReceiver, battery_answers, live_server, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.workers import Dispatcher

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks readiness by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


async def _dispatch(settings, now):  # type: ignore[no-untyped-def]
    engine = create_engine(settings.database_url)
    try:
        async with httpx.AsyncClient() as client:
            d = Dispatcher(create_session_factory(engine), client, settings)
            return await d.run_once(now)
    finally:
        await engine.dispose()


def test_wecom_refusal_falls_back_to_in_app_and_escalates_by_email(
    database_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, smtp_port = smtp
    settings = make_settings(database_url)
    with WebhookReceiver() as robot:
        seeded = seed(settings, now=T0)
        routes = {
            "routes": [
                {
                    "role": "counsellor",
                    "channels": [
                        {"type": "wecom", "name": "wecom", "url": robot.url + "?key=K"},
                        {"type": "inapp", "name": "queue"},
                    ],
                },
                {
                    "role": "school_lead",
                    "channels": [
                        {
                            "type": "email",
                            "name": "mail",
                            "host": "127.0.0.1",
                            "port": smtp_port,
                            "sender": "润心 <noreply@demo-a.runxin.example>",
                            "starttls": "never",
                        }
                    ],
                },
            ]
        }
        robot.bodies = [json.dumps({"errcode": 93000, "errmsg": "invalid webhook url"}).encode()]
        clock = ManualClock(T0)
        with (
            live_server(create_app(settings, clock=clock)) as base,
            httpx.Client(base_url=base, timeout=15) as http,
        ):
            lead = {
                "Authorization": "Bearer "
                + http.post(
                    "/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"}
                ).json()["access_token"]
            }
            bad = http.put(
                "/api/v1/schools/DEMO-A/notification-routes",
                headers=lead,
                json={
                    "routes": [
                        {"role": "counsellor", "channels": [{"type": "pigeon", "name": "p"}]}
                    ]
                },
            )
            assert bad.status_code == 422
            ok = http.put("/api/v1/schools/DEMO-A/notification-routes", headers=lead, json=routes)
            assert ok.status_code == 200, ok.text

            s = http.post(
                "/api/v1/student/sessions", json={"access_code": seeded.access_codes[0]}
            ).json()
            r = http.post(
                f"/api/v1/student/sessions/{s['session_id']}/submission",
                headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
                json={"answers": battery_answers({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1})},
            )
            assert r.status_code == 201

            first = run(_dispatch(settings, T0))
            assert first.failed == 1  # the robot refused (errcode 93000: permanent)
            body = json.loads(robot.deliveries[0].body)
            assert body["msgtype"] == "markdown"
            assert "红色" in body["markdown"]["content"]
            second = run(_dispatch(settings, T0))
            assert second.delivered == 2  # in-app to counsellor1, e-mail to lead1

            assert len(mailbox.messages) == 1
            mail = mailbox.messages[0]
            assert mail["To"] == "lead1@demo-a.runxin.example"
            assert mail["X-Runxin-Delivery"]
            parts = {p.get_content_type() for p in mail.walk()}
            assert {"text/plain", "text/html"} <= parts
            text = mail.as_string()
            for name in [seeded.access_codes[0]]:
                assert name not in text

            counsellor = {
                "Authorization": "Bearer "
                + http.post(
                    "/api/v1/auth/login",
                    json={"username": "counsellor1", "password": "pw-test-123"},
                ).json()["access_token"]
            }
            items = http.get("/api/v1/me/notifications?unread=true", headers=counsellor).json()
            assert len(items) == 1 and items[0]["event"] == "case.opened"
            read = http.post(
                f"/api/v1/me/notifications/{items[0]['item_id']}/read", headers=counsellor
            )
            assert read.status_code == 200 and read.json()["read_at"]
            assert http.get("/api/v1/me/notifications?unread=true", headers=counsellor).json() == []
            other = {
                "Authorization": "Bearer "
                + http.post(
                    "/api/v1/auth/login",
                    json={"username": "counsellor2", "password": "pw-test-123"},
                ).json()["access_token"]
            }
            assert (
                http.post(
                    f"/api/v1/me/notifications/{items[0]['item_id']}/read", headers=other
                ).status_code
                == 404
            )

            alerts = http.get("/api/v1/operator/alerts", headers=lead).json()
            assert len(alerts) == 1 and "wecom" in alerts[0]["detail"]
