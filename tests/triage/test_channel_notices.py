"""A campaign reminder (no tier, no case, no student) on every channel kind: its wording in
both languages, and one real delivery per adapter against servers on 127.0.0.1 (WeCom and
DingTalk robots, an SMS gateway and the signed webhook over HTTP, e-mail over aiosmtpd, the
in-app sink), retried with the same delivery id. Case notices render as before."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import httpx
import msgspec
import pytest
from aiosmtpd.controller import Controller
from channel_servers import (
    ANSWER_CANARY,
    NOW,
    SCORE_CANARY,
    STUDENT,
    all_text,
    assert_minimal,
    content,
    free_port,
    http_server,
)

from triage import verify_signature
from triage.channels import (
    CampaignReminder,
    ChannelDelivery,
    ClassCount,
    ContentError,
    InAppMessage,
    InAppNotice,
    NotificationContent,
    build_notifier,
    content_from_payload,
    content_payload,
    parse_school_channels,
    render_html,
    render_markdown,
    render_reminder_sms,
    render_text,
    render_title,
)
from triage.channels import _message as case_renderers

CLOSES = datetime(2026, 9, 18, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
LINK = "https://runxin.example/staff/class"


def reminder_payload(**overrides: Any) -> dict[str, Any]:
    """A reminder's outbox payload, with a student's name, answers and scores planted."""
    base: dict[str, Any] = {
        "delivery_id": "rmd_01",
        "event": "campaign.reminder",
        "case_id": None,
        "tier": None,
        "school": "润心实验中学",
        "campaign": "2026 秋季筛查",
        "classes": [
            {"class": "七年级3班", "not_completed": 5},
            {"class": "七年级4班", "not_completed": 1},
        ],
        "deadline": "2026-09-18T09:00:00Z",
        "link": LINK,
        "recipient_role": "head_teacher",
        "recipient_user_id": "u_head_3",
        "timezone": "Asia/Shanghai",
        "student_name": STUDENT,
        "students": [STUDENT],
        "answers": {"phq9_9": ANSWER_CANARY},
        "scores": {"phq9": SCORE_CANARY},
    }
    base.update(overrides)
    return base


def test_reminder_wording_in_both_languages_never_names_a_student() -> None:
    reminder = content_from_payload(reminder_payload(), names_enabled=True)
    assert isinstance(reminder, CampaignReminder)
    assert reminder.for_channel(names_enabled=True) is reminder is reminder.without_name()
    assert render_text(reminder).splitlines() == [
        "【润心】筛查提醒",
        "学校：润心实验中学",
        "筛查：2026 秋季筛查",
        "七年级3班：还有 5 名学生没有完成问卷。",
        "七年级4班：还有 1 名学生没有完成问卷。",
        "筛查将于 2026-09-18 17:00 结束。",
        f"查看：{LINK}",
    ]
    assert render_text(reminder, "en").splitlines() == [
        "[Runxin] Screening reminder",
        "School: 润心实验中学",
        "Screening: 2026 秋季筛查",
        "七年级3班: 5 student(s) have not finished yet.",
        "七年级4班: 1 student(s) have not finished yet.",
        "The screening closes at 2026-09-18 17:00 (Asia/Shanghai).",
        f"Open: {LINK}",
    ]
    assert render_title(reminder) == "【润心】筛查提醒"
    assert render_text(reminder, tz="Europe/Paris").splitlines()[5] == (
        "筛查将于 2026-09-18 11:00（Europe/Paris） 结束。"
    )
    markdown = render_markdown(reminder)
    assert markdown.startswith("**【润心】筛查提醒**\n\n学校：润心实验中学")
    assert "筛查将于 **2026-09-18 17:00** 结束。" in markdown
    assert markdown.endswith(f"[查看我的班级]({LINK})")
    assert render_reminder_sms(reminder) == (
        "【润心】筛查提醒：2026 秋季筛查。七年级3班还有 5 人，七年级4班还有 1 人未完成。"
        f"筛查将于 2026-09-18 17:00 结束。{LINK}"
    )
    assert render_reminder_sms(reminder, "en") == (
        "[Runxin] Screening reminder: 2026 秋季筛查. Not finished yet: 七年级3班 (5), "
        f"七年级4班 (1). Closes 2026-09-18 17:00 (Asia/Shanghai). {LINK}"
    )
    # Names are inert: markdown lookalikes in robots, escaped in HTML, one line everywhere.
    tricky = content_from_payload(
        reminder_payload(
            campaign="<b>秋季</b>\n[筛查](http://evil.example)",
            classes=[{"class": "**七年级**3班", "not_completed": 2}],
            link="https://runxin.example/staff/class?x=(1)",
        )
    )
    assert "[筛查](" not in render_markdown(tricky) and "＊＊七年级＊＊3班" in render_markdown(
        tricky
    )
    assert "%281%29)" in render_markdown(tricky)
    assert "<b>" not in render_html(tricky) and "&lt;b&gt;秋季&lt;/b&gt;" in render_html(tricky)
    assert "筛查：<b>秋季</b> [筛查](http://evil.example)" in render_text(tricky)
    rendered = [
        f(reminder, lang)  # type: ignore[operator]
        for f in (render_text, render_markdown, render_html, render_reminder_sms, render_title)
        for lang in ("zh-CN", "en")
    ]
    assert_minimal(all_text(*rendered, repr(reminder), json.dumps(content_payload(reminder))))
    # The webhook body of a reminder, and back: nothing but what it shows.
    body = content_payload(reminder)
    assert body["classes"] == [
        {"class": "七年级3班", "not_completed": 5},
        {"class": "七年级4班", "not_completed": 1},
    ]
    assert (body["tier"], body["case_id"], body["deadline"]) == (None, None, "2026-09-18T09:00:00Z")
    assert CampaignReminder.from_payload(body) == reminder
    # A case notice is still a case notice, rendered exactly as by its own module.
    notice = content_from_payload(reminder_payload(event="case.opened", tier="red"))
    assert isinstance(notice, NotificationContent)
    for either, own in [
        (render_text, case_renderers.render_text),
        (render_markdown, case_renderers.render_markdown),
        (render_html, case_renderers.render_html),
        (render_title, case_renderers.render_title),
    ]:
        for lang in ("zh-CN", "en"):
            assert either(content(), lang) == own(content(), lang)  # type: ignore[operator]
    assert content_payload(content()) == case_renderers.content_payload(content())

    # What a reminder refuses to be.
    too_many = [{"class": f"{i}班", "not_completed": 1} for i in range(41)]
    for bad, match in [
        ({"classes": []}, "1 to 40 classes"),
        ({"classes": too_many}, "1 to 40 classes"),
        ({"classes": "七年级3班"}, "list of"),
        ({"classes": [{"class": "七年级3班", "not_completed": 0}]}, ">= 1"),
        ({"classes": [{"class": "七年级3班", "not_completed": True}]}, "not_completed"),
        ({"classes": [{"class": " ", "not_completed": 2}]}, "class name"),
        ({"campaign": "筛" * 201}, "campaign_name"),
        ({"campaign": None}, "lacks required keys: campaign_name"),
        ({"deadline": "2026-09-18T09:00:00"}, "closes_at"),
        ({"link": "javascript:alert(1)"}, "http"),
        ({"timezone": "Mars/Base"}, "time zone"),
        ({"delivery_id": "含中文"}, "delivery_id"),
        ({"recipient_role": "Head Teacher"}, "recipient_role"),
    ]:
        with pytest.raises(ContentError, match=match):
            content_from_payload(reminder_payload(**bad))
    with pytest.raises(ContentError, match="event must be"):
        CampaignReminder(
            delivery_id="x",
            event="case.opened",
            school_name="s",
            campaign_name="c",
            classes=(ClassCount("七年级3班", 2),),
            closes_at=CLOSES,
            link=LINK,
        )
    with pytest.raises(ContentError, match="tier"):  # no event: it is read as a case notice
        content_from_payload(reminder_payload(event="case.opened"))


class Queue:
    """The service's in-app sink: idempotent on the delivery id."""

    def __init__(self) -> None:
        self.rows: dict[str, InAppMessage | InAppNotice] = {}

    async def __call__(self, message: InAppMessage | InAppNotice) -> None:
        self.rows.setdefault(message.delivery_id, message)


class Mailbox:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content or envelope.content)
        return "250 OK"


def test_every_channel_kind_delivers_a_reminder_and_a_retry_keeps_its_delivery_id() -> None:
    mailbox, port = Mailbox(), free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    queue = Queue()
    try:
        with http_server() as (base, script):
            school = parse_school_channels(
                {
                    "routes": [
                        {
                            "role": "head_teacher",
                            "channels": [
                                {"type": "wecom", "name": "wecom", "url": f"{base}/wx?key=K1"},
                                {
                                    "type": "dingtalk",
                                    "name": "ding",
                                    "url": f"{base}/dd?access_token=T1",
                                    "secret": "SEC-ding",
                                    "lang": "en",
                                },
                                {
                                    "type": "sms",
                                    "name": "sms",
                                    "url": f"{base}/sms",
                                    "secret": "sms-secret",
                                    "template": {
                                        "mobile": "{phone}",
                                        "params": {"tier": "{tier}", "class": "{class}"},
                                        "content": "{text}",
                                        "until": "{deadline}",
                                    },
                                },
                                {
                                    "type": "webhook",
                                    "name": "hook",
                                    "url": f"{base}/hook",
                                    "secret": "hook-secret",
                                    "names_enabled": True,
                                },
                                {
                                    "type": "email",
                                    "name": "mail",
                                    "host": "127.0.0.1",
                                    "port": port,
                                    "sender": "润心 <noreply@school.example>",
                                    "starttls": "never",
                                    "names_enabled": True,
                                    "lang": "en",
                                },
                                {"type": "inapp", "name": "queue", "names_enabled": True},
                            ],
                        }
                    ]
                }
            ).routes[0]
            addresses = {"sms": "138 0013 8000", "mail": "head3@school.example", "queue": "u3"}
            clean = content_payload(content_from_payload(reminder_payload()))

            async def deliver_all() -> list[bool]:
                oks = []
                async with httpx.AsyncClient() as client:
                    for config in school.channels:
                        # The webhook posts its payload as queued (the service queues it
                        # clean); the others render only what the content keeps.
                        payload = clean if config.name == "hook" else reminder_payload()
                        notifier = build_notifier(config, client=client, inapp_sink=queue)
                        for _attempt in range(2):  # a retry: the same delivery, again
                            delivery = ChannelDelivery(
                                delivery_id="rmd_01",
                                payload=payload,
                                content=content_from_payload(
                                    payload, names_enabled=config.names_enabled
                                ),
                                address=addresses.get(config.name),
                            )
                            outcome = await notifier.deliver(delivery, now=NOW)
                            oks.append(outcome.ok)
                return oks

            assert asyncio.run(deliver_all()) == [True] * 12
            by_path: dict[str, list[Any]] = {}
            for request in script.requests:
                by_path.setdefault(request.path, []).append(request)
            assert {p: len(r) for p, r in by_path.items()} == {
                "/wx": 2,
                "/dd": 2,
                "/sms": 2,
                "/hook": 2,
            }
            wecom = json.loads(by_path["/wx"][0].body)
            assert wecom["msgtype"] == "markdown"
            assert wecom["markdown"]["content"] == render_markdown(
                content_from_payload(reminder_payload())
            )
            ding = json.loads(by_path["/dd"][0].body)
            assert ding["markdown"]["title"] == "[Runxin] Screening reminder"
            assert "5 student(s) have not finished yet." in ding["markdown"]["text"]
            assert by_path["/dd"][0].query["sign"] and by_path["/dd"][0].query["timestamp"]
            sms = json.loads(by_path["/sms"][0].body)
            assert sms == {
                "mobile": "13800138000",
                "params": {"tier": "", "class": "七年级3班、七年级4班"},
                "content": render_reminder_sms(content_from_payload(reminder_payload())),
                "until": "2026-09-18 17:00",
            }
            for path, secret in (("/sms", "sms-secret"), ("/hook", "hook-secret")):
                first, again = by_path[path]
                assert first.headers["X-Runxin-Delivery"] == again.headers["X-Runxin-Delivery"]
                assert verify_signature(
                    [secret],
                    timestamp=first.headers["X-Runxin-Timestamp"],
                    signature=first.headers["X-Runxin-Signature"],
                    body=first.body,
                    now=int(NOW.timestamp()),
                )
            hook = by_path["/hook"][0]
            assert hook.headers["X-Runxin-Event"] == "campaign.reminder"
            assert msgspec.json.decode(hook.body) == clean

            assert len(mailbox.raw) == 2
            mails = [message_from_bytes(raw, policy=policy.default) for raw in mailbox.raw]
            assert mails[0]["Message-ID"] == mails[1]["Message-ID"]
            assert mails[0]["Subject"] == "[Runxin] Screening reminder"
            assert (mails[0]["To"], mails[0]["X-Runxin-Event"]) == (
                "head3@school.example",
                "campaign.reminder",
            )
            text_part = mails[0].get_body(("plain",))
            assert text_part is not None and "Open: " + LINK in text_part.get_content()

            assert list(queue.rows) == ["rmd_01"]  # the retry did not add a second row
            item = queue.rows["rmd_01"]
            assert isinstance(item, InAppNotice) and item.recipient == "u3"
            assert item.title == "【润心】筛查提醒" and "七年级3班：还有 5 名学生" in item.body
            stored = msgspec.to_builtins(item)
            assert stored["classes"][0] == {"class": "七年级3班", "not_completed": 5}
            assert stored["deadline"] == "2026-09-18T09:00:00Z"

            parts = [
                p.get_content()
                for m in mails
                for p in m.walk()
                if p.get_content_maintype() == "text"
            ]
            seen = all_text(*(r.body for r in script.requests), *parts, json.dumps(stored))
            assert_minimal(seen)  # names enabled or not: a reminder names no student
            assert "七年级4班" in seen and LINK in seen
    finally:
        smtp.stop()
