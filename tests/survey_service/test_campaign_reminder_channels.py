"""Campaign reminders on the school's own channels (issue 13), end to end: a school routing
head teachers to e-mail (a real SMTP server on 127.0.0.1) and to a WeCom group robot (the real
HTTP receiver); the staff page queues one reminder per head teacher, the dispatcher delivers
it, and a robot that refuses falls back to e-mail for that head teacher only — never to every
head teacher of the school. No message names a student.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from page_support import csrf, sql, staff_login, uid
from svc_support import WebhookReceiver, app_client, make_settings, run, seed
from test_channels_integration import Mailbox, smtp  # noqa: F401 - the SMTP server fixture

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.settings import Settings
from survey_service.workers import Dispatcher
from survey_service.workers.dispatcher import DispatchStats

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
BASE = "/staff/admin/campaigns"


async def _dispatch(settings: Settings, now: datetime) -> DispatchStats:
    engine = create_engine(settings.database_url)
    try:
        async with httpx.AsyncClient() as client:
            return await Dispatcher(create_session_factory(engine), client, settings).run_once(now)
    finally:
        await engine.dispose()


def _routes(primary: dict[str, Any], smtp_port: int) -> dict[str, Any]:
    mail = {
        "type": "email",
        "name": "mail",
        "host": "127.0.0.1",
        "port": smtp_port,
        "sender": "润心 <noreply@demo-a.runxin.example>",
        "starttls": "never",
    }
    channels = [primary, mail] if primary else [mail]
    return {"routes": [{"role": "head_teacher", "channels": channels}]}


def _text_of(mail: Any) -> str:
    """Subject and every text part of a received mail, decoded."""
    parts = [str(mail["Subject"])]
    for part in mail.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            parts.append(payload.decode(part.get_content_charset() or "utf-8"))
    return "\n".join(parts)


def test_reminders_reach_exactly_the_head_teachers_on_email_and_wecom(
    database_url: str,
    smtp: tuple[Mailbox, int],  # noqa: F811 - the fixture imported above
) -> None:
    mailbox, smtp_port = smtp
    settings = make_settings(database_url)
    seed(settings, now=T0, students=12)
    # The demo's head teachers have no e-mail address: give every one of them (both schools) one.
    sql(
        database_url,
        "UPDATE staff_users SET email = username || '@school.example' WHERE role = 'head_teacher'",
    )
    camp = next(
        uid(c)
        for c, code in sql(
            database_url,
            "SELECT c.id, s.code FROM campaigns c JOIN schools s ON s.id = c.school_id",
        )
        if code == "DEMO-A"
    )
    # Every class of school A with its head teacher (username, e-mail, id).
    heads = {
        name: (user, email, uid(user_id))
        for name, user, email, user_id in sql(
            database_url,
            "SELECT k.name, u.username, u.email, u.id FROM classes k "
            "JOIN staff_users u ON u.id = k.head_teacher_id "
            "JOIN schools s ON s.id = k.school_id WHERE s.code = 'DEMO-A'",
        )
    }
    class_ids = {
        name: uid(i)
        for i, name in sql(
            database_url,
            "SELECT k.id, k.name FROM classes k JOIN schools s ON s.id = k.school_id "
            "WHERE s.code = 'DEMO-A'",
        )
    }
    assert len(heads) == 3 and len({e for _, e, _ in heads.values()}) == 3
    school_heads = {
        e for (e,) in sql(database_url, "SELECT email FROM staff_users WHERE role = 'head_teacher'")
    }
    students = [n for (n,) in sql(database_url, "SELECT name FROM students")]
    clock = ManualClock(T0)

    with WebhookReceiver() as robot, app_client(create_app(settings, clock=clock)) as http:
        assert staff_login(http, "lead1").status_code == 303
        token = csrf(http.get("/staff/admin/campaigns/" + camp).text)
        bearer = {
            "Authorization": "Bearer "
            + http.post(
                "/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"}
            ).json()["access_token"]
        }

        def set_routes(primary: dict[str, Any]) -> None:
            put = http.put(
                "/api/v1/schools/DEMO-A/notification-routes",
                headers=bearer,
                json=_routes(primary, smtp_port),
            )
            assert put.status_code == 200, put.text

        def remind(class_name: str | None) -> str:
            data = {"_csrf": token} | ({"class_id": class_ids[class_name]} if class_name else {})
            sent = http.post(f"{BASE}/{camp}/reminders", data=data)
            assert sent.status_code == 303, sent.text
            return str(sent.headers["location"])

        # 1. E-mail is the head teachers' channel: one class, its head teacher alone.
        set_routes({})
        first_class = sorted(heads)[0]
        location = remind(first_class)
        assert "reminded=1" in location and "channel=email" in location
        stats = run(_dispatch(settings, clock.now()))
        assert (stats.delivered, stats.failed) == (1, 0)
        assert [m["To"] for m in mailbox.messages] == [heads[first_class][1]]
        mail = _text_of(mailbox.messages[0])
        assert "【润心】筛查提醒" in mail and f"{first_class}：还有 2 名学生没有完成问卷。" in mail
        assert "/staff/class" in mail and mailbox.messages[0]["X-Runxin-Event"] == (
            "campaign.reminder"
        )
        assert not [n for n in students if n in mail]

        # 2. A WeCom group robot first, e-mail its fallback: every other class, one message per
        # head teacher; the robot refuses the first for good (errcode 93000).
        set_routes({"type": "wecom", "name": "wecom", "url": robot.url + "?key=K"})
        robot.bodies = [json.dumps({"errcode": 93000, "errmsg": "invalid webhook url"}).encode()]
        robot.bodies += [json.dumps({"errcode": 0, "errmsg": "ok"}).encode()] * 3
        location = remind(None)
        assert "reminded=2" in location and "skipped=1" in location and "channel=wecom" in location
        stats = run(_dispatch(settings, clock.now()))
        assert (stats.delivered, stats.failed) == (1, 1)
        bodies = [json.loads(d.body) for d in robot.deliveries]
        assert len(bodies) == 2 and {b["msgtype"] for b in bodies} == {"markdown"}
        posted = "\n".join(b["markdown"]["content"] for b in bodies)
        others = sorted(set(heads) - {first_class})
        for name in others:
            assert f"{name}：还有 2 名学生没有完成问卷。" in posted
        assert "[查看我的班级](" in posted and not [n for n in students if n in posted]
        failed = sql(
            database_url,
            "SELECT recipient_user_id, payload FROM outbox WHERE status = 'failed'",
        )
        assert len(failed) == 1
        refused_head = uid(failed[0][0])
        payload = failed[0][1] if isinstance(failed[0][1], dict) else json.loads(failed[0][1])
        refused_class = payload["classes"][0]["class"]
        assert heads[refused_class][2] == refused_head

        # The fallback: e-mail to the refused reminder's head teacher, and to nobody else.
        fallback = sql(
            database_url,
            "SELECT channel, recipient_user_id, delivery_id FROM outbox WHERE status = 'pending'",
        )
        assert [(c, uid(u)) for c, u, _ in fallback] == [("mail", refused_head)]
        stats = run(_dispatch(settings, clock.now() + timedelta(seconds=1)))
        assert (stats.delivered, stats.failed) == (1, 0)
        assert [m["To"] for m in mailbox.messages[1:]] == [heads[refused_class][1]]
        again = _text_of(mailbox.messages[1])
        assert f"{refused_class}：还有 2 名学生没有完成问卷。" in again
        assert mailbox.messages[1]["X-Runxin-Delivery"] == fallback[0][2]
        assert not [n for n in students if n in again]
        # Over both sendings: the head teachers concerned, each once; no other head teacher.
        reached = [m["To"] for m in mailbox.messages] + [
            heads[n][1] for n in others if n != refused_class
        ]
        assert sorted(reached) == sorted(e for _, e, _ in heads.values())
        assert not (set(reached) & (school_heads - {e for _, e, _ in heads.values()}))
        alerts = sql(database_url, "SELECT detail FROM operator_alerts")
        assert len(alerts) == 1 and "campaign.reminder to head_teacher on wecom" in alerts[0][0]
        assert run(_dispatch(settings, clock.now() + timedelta(minutes=5))).claimed == 0
