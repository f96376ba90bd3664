"""Channel configuration, the adapter factory, and delivery along a route with fallbacks.

The routed deliveries go to a real HTTP server on 127.0.0.1 that plays the WeCom robot, the
DingTalk robot, the SMS gateway and a generic webhook receiver, and to an in-app queue sink.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from channel_servers import (
    NOW,
    OK_BODY,
    STUDENT,
    Reply,
    Script,
    all_text,
    assert_minimal,
    content,
    http_server,
)

from triage import backoff_delay, verify_signature
from triage.channels import (
    ChannelConfigError,
    ChannelNotifier,
    DingTalkChannel,
    DingTalkRobotNotifier,
    EmailChannel,
    InAppChannel,
    InAppMessage,
    InAppNotifier,
    MultiChannelNotifier,
    Recipient,
    RecipientRoute,
    RoutedOutcome,
    SchoolChannels,
    SmsChannel,
    SmsGatewayNotifier,
    SmtpNotifier,
    WebhookChannel,
    WebhookChannelNotifier,
    WeComChannel,
    WeComRobotNotifier,
    build_notifier,
    content_payload,
    next_channel,
    parse_route,
    parse_school_channels,
)

WECOM_KEY = "wecom-key-0001"
SMTP_PASSWORD = "smtp-pw-0002"
DING_SECRET = "SECding-0003"
SMS_TOKEN = "sms-token-0004"
HOOK_SECRET = "whsec-0005"

EXAMPLE = {
    "routes": [
        {
            "role": "counsellor",
            "channels": [
                {"type": "inapp", "name": "queue", "names_enabled": True},
                {
                    "type": "wecom",
                    "name": "wecom",
                    "url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
                },
                {
                    "type": "sms",
                    "name": "sms",
                    "url": "https://sms.example/send",
                    "timeout_s": 5,
                    "headers": {"Authorization": f"Bearer {SMS_TOKEN}"},
                },
            ],
        },
        {
            "role": "school_lead",
            "channels": [
                {
                    "type": "email",
                    "name": "mail",
                    "host": "smtp.school.example",
                    "sender": "润心 <noreply@school.example>",
                    "username": "runxin",
                    "password": SMTP_PASSWORD,
                    "fallback": "ding",
                },
                {
                    "type": "webhook",
                    "name": "hook",
                    "url": "https://sis.example/hook",
                    "secret": HOOK_SECRET,
                },
                {
                    "type": "dingtalk",
                    "name": "ding",
                    "url": "https://oapi.dingtalk.com/robot/send?access_token=T",
                    "secret": DING_SECRET,
                    "lang": "en",
                },
            ],
        },
    ]
}


# -- configuration -------------------------------------------------------------------------------


def test_parse_the_documented_example() -> None:
    school = parse_school_channels(json.dumps(EXAMPLE, ensure_ascii=False))
    assert school == parse_school_channels(EXAMPLE)
    counsellor = school.route_for("counsellor")
    assert counsellor is not None and school.route_for("district_officer") is None
    assert [c.type for c in counsellor.channels] == ["inapp", "wecom", "sms"]
    assert counsellor.primary.name == "queue"
    assert [c.address_kind for c in counsellor.channels] == ["user_id", None, "phone"]
    sms = counsellor.channel("sms")
    assert isinstance(sms, SmsChannel)
    assert sms.template == {"to": "{phone}", "text": "{text}", "delivery_id": "{delivery_id}"}
    lead = school.route_for("school_lead")
    assert lead is not None
    mail = lead.primary
    assert isinstance(mail, EmailChannel)
    assert (mail.port, mail.starttls, mail.timeout_s, mail.lang) == (587, "auto", 10.0, "zh-CN")
    ding = lead.channel("ding")
    assert isinstance(ding, DingTalkChannel) and ding.lang == "en"
    # round trip
    assert parse_school_channels(msgspec.json.encode(school)) == school


def test_repr_hides_every_secret() -> None:
    text = repr(parse_school_channels(EXAMPLE))
    for secret in (WECOM_KEY, SMTP_PASSWORD, DING_SECRET, SMS_TOKEN, HOOK_SECRET, "access_token"):
        assert secret not in text
    assert "<hidden>" in text and "counsellor" in text


def _route(*channels: dict[str, Any]) -> dict[str, Any]:
    return {"role": "counsellor", "channels": list(channels)}


INAPP = {"type": "inapp", "name": "queue"}
WECOM = {"type": "wecom", "name": "wecom", "url": "https://q.example/send?key=k"}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_route({"type": "pager", "name": "p"}), "pager"),
        (_route({**INAPP, "colour": "red"}), "colour"),
        (_route({**WECOM, "names_enabled": True}), "internal channels"),
        (
            _route({"type": "sms", "name": "s", "url": "https://s.example", "names_enabled": True}),
            "internal",
        ),
        (
            _route(
                {
                    "type": "dingtalk",
                    "name": "d",
                    "url": "https://d.example/r?access_token=t",
                    "names_enabled": True,
                }
            ),
            "internal",
        ),
        (_route(INAPP, INAPP), "repeats channel names"),
        (_route({**INAPP, "fallback": "nowhere"}), "unknown channel 'nowhere'"),
        (_route({**INAPP, "fallback": "queue"}), "itself"),
        (_route({**INAPP, "fallback": "wecom"}, {**WECOM, "fallback": "queue"}), "loop"),
        (_route(), "no channels"),
        ({"role": "Head Teacher", "channels": [INAPP]}, "role"),
        (_route({**INAPP, "name": "Queue 1"}), "channel name"),
        (_route({**INAPP, "timeout_s": 0}), "timeout_s"),
        (_route({**INAPP, "lang": "fr"}), "lang"),
        (_route({"type": "wecom", "name": "w", "url": "https://q.example/send"}), "key="),
        (_route({"type": "dingtalk", "name": "d", "url": "https://d.example/r"}), "access_token"),
        (
            _route(
                {
                    "type": "sms",
                    "name": "s",
                    "url": "https://s.example",
                    "template": {"to": "{phone}", "t": "{answers}"},
                }
            ),
            r"\{answers\}",
        ),
        (
            _route({"type": "email", "name": "m", "host": "smtp.example", "sender": "nobody"}),
            "sender",
        ),
        (
            _route(
                {
                    "type": "email",
                    "name": "m",
                    "host": "smtp.example",
                    "sender": "a@b.example",
                    "starttls": "yes",
                }
            ),
            "starttls",
        ),
        (
            _route({"type": "webhook", "name": "h", "url": "https://h.example", "secret": ""}),
            "secret",
        ),
    ],
)
def test_bad_configurations_are_rejected(data: dict[str, Any], match: str) -> None:
    with pytest.raises(ChannelConfigError, match=match):
        parse_route(data)


def test_duplicate_roles_and_non_json_are_rejected() -> None:
    with pytest.raises(ChannelConfigError, match="more than one route"):
        parse_school_channels({"routes": [_route(INAPP), _route(WECOM)]})
    with pytest.raises(ChannelConfigError, match="not JSON"):
        parse_school_channels("{routes: nope")
    with pytest.raises(ChannelConfigError, match="fallback"):
        InAppChannel(name="queue", fallback="Bad Name")
    assert issubclass(ChannelConfigError, ValueError)


def test_next_channel_follows_fallbacks_then_order() -> None:
    route = parse_route(
        _route(
            {**INAPP, "fallback": "sms"},
            WECOM,
            {"type": "sms", "name": "sms", "url": "https://s.example"},
        )
    )
    after_queue = next_channel(route, "queue")
    assert after_queue is not None and after_queue.name == "sms"  # explicit fallback
    after_wecom = next_channel(route, route.channel("wecom"))
    assert after_wecom is not None and after_wecom.name == "sms"  # next in order
    assert next_channel(route, "sms") is None  # the last channel
    with pytest.raises(KeyError):
        next_channel(route, "pager")


def test_build_notifier_gives_each_channel_its_adapter() -> None:
    school = parse_school_channels(EXAMPLE)
    client = httpx.AsyncClient()

    async def sink(message: InAppMessage) -> None:
        """Accept everything."""

    kinds = {
        "queue": InAppNotifier,
        "wecom": WeComRobotNotifier,
        "sms": SmsGatewayNotifier,
        "mail": SmtpNotifier,
        "hook": WebhookChannelNotifier,
        "ding": DingTalkRobotNotifier,
    }
    for route in school.routes:
        for channel in route.channels:
            notifier: ChannelNotifier = build_notifier(channel, client=client, inapp_sink=sink)
            assert isinstance(notifier, kinds[channel.name])
    with pytest.raises(ChannelConfigError, match="inapp_sink"):
        build_notifier(InAppChannel(name="queue"), client=client)
    with pytest.raises(ChannelConfigError, match="do not match"):
        MultiChannelNotifier(parse_route(_route(INAPP)), {})


# -- delivery along a route --------------------------------------------------------------------


class Queue:
    def __init__(self) -> None:
        self.messages: list[InAppMessage] = []

    async def __call__(self, message: InAppMessage) -> None:
        self.messages.append(message)


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with http_server() as running:
        yield running


def counsellor_route(base: str) -> RecipientRoute:
    """WeCom robot, then SMS gateway, then the in-app queue (the only one with names)."""
    channels = [
        {"type": "wecom", "name": "wecom", "url": f"{base}/wecom/send?key={WECOM_KEY}"},
        {"type": "sms", "name": "sms", "url": f"{base}/sms"},
        {"type": "inapp", "name": "queue", "names_enabled": True, "timeout_s": 1},
    ]
    return parse_route({"role": "counsellor", "channels": channels})


RECIPIENT = Recipient(user_id="u_7", email="c@school.example", phone="13800001111")


def route_deliver(
    route: RecipientRoute,
    queue: Queue,
    *,
    recipient: Recipient = RECIPIENT,
    start_at: str | None = None,
) -> RoutedOutcome:
    async def run() -> RoutedOutcome:
        async with httpx.AsyncClient() as client:
            multi = MultiChannelNotifier.from_route(route, client=client, inapp_sink=queue)
            assert multi.route is route
            return await multi.deliver(
                content(names_enabled=True), recipient=recipient, now=NOW, start_at=start_at
            )

    return asyncio.run(run())


def paths(script: Script) -> list[str]:
    return [r.path for r in script.requests]


def test_primary_delivers(server: tuple[str, Script]) -> None:
    base, script = server
    routed = route_deliver(counsellor_route(base), Queue())
    assert routed.ok and not routed.escalate and not routed.exhausted
    assert (routed.channel, routed.next_channel, len(routed.attempts)) == ("wecom", None, 1)
    assert routed.attempts[0].type == "wecom"
    assert paths(script) == ["/wecom/send"]
    assert_minimal(all_text(script.requests[0].body))  # names enabled only on the queue


def test_permanent_failure_falls_back_at_once_and_escalates(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(body=b'{"errcode":93000,"errmsg":"invalid webhook url"}'))
    routed = route_deliver(counsellor_route(base), Queue())
    assert routed.ok and routed.escalate and not routed.exhausted
    assert [a.channel for a in routed.attempts] == ["wecom", "sms"]
    assert not routed.attempts[0].outcome.retryable
    assert paths(script) == ["/wecom/send", "/sms"]
    assert_minimal(all_text(script.requests[1].body))


def test_retryable_failure_stops_for_the_dispatcher(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(body=b'{"errcode":45009,"errmsg":"api freq out of limit"}'))
    routed = route_deliver(counsellor_route(base), Queue())
    assert not routed.ok and routed.retryable and not routed.escalate
    assert (routed.channel, routed.next_channel) == ("wecom", "sms")
    assert routed.outcome.retry_after_s == 60.0
    assert paths(script) == ["/wecom/send"]


def test_every_channel_failing_for_good_is_exhausted_never_silent(
    server: tuple[str, Script],
) -> None:
    base, script = server
    script.default = Reply(status=404, body=b"{}")
    queue = Queue()
    routed = route_deliver(counsellor_route(base), queue, recipient=Recipient(phone="13800001111"))
    assert routed.exhausted and routed.escalate and not routed.ok
    assert [a.channel for a in routed.attempts] == ["wecom", "sms", "queue"]
    assert routed.next_channel is None
    assert routed.attempts[-1].outcome.error == "recipient has no user id"
    assert queue.messages == []  # never called without an address


def test_missing_phone_skips_sms_and_the_queue_gets_the_name(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(status=410, body=b"{}"))
    queue = Queue()
    routed = route_deliver(counsellor_route(base), queue, recipient=Recipient(user_id="u_7"))
    assert routed.ok and routed.channel == "queue" and routed.escalate
    assert routed.attempts[1].outcome.error == "recipient has no phone"
    assert paths(script) == ["/wecom/send"]
    [message] = queue.messages
    assert message.recipient == "u_7" and message.student_name == STUDENT


def test_start_at_the_channel_a_retry_is_due_on(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(status=503, body=b"", headers={"Retry-After": "20"}))
    routed = route_deliver(counsellor_route(base), Queue(), start_at="sms")
    assert (routed.channel, routed.retryable, routed.next_channel) == ("sms", True, "queue")
    assert routed.outcome.retry_after_s == 20.0
    assert paths(script) == ["/sms"]


def test_a_dispatcher_loop_retries_then_moves_to_the_fallback(
    server: tuple[str, Script],
) -> None:
    """The documented contract: retry one channel with backoff; when its retries are used up,
    continue at ``next_channel``; escalate whatever fails for good."""
    base, script = server
    script.then(*[Reply(status=500, body=b"{}")] * 3)
    route = counsellor_route(base)
    rng = random.Random(7)
    channel: str | None = None
    attempt, max_attempts, waits = 0, 3, []
    while True:
        routed = route_deliver(route, Queue(), start_at=channel)
        if routed.ok or routed.exhausted:
            break
        attempt += 1
        if attempt >= max_attempts:
            following = next_channel(route, routed.channel)
            assert following is not None
            channel, attempt = following.name, 0
        else:
            channel = routed.channel
            waits.append(
                backoff_delay(attempt, rng=rng, retry_after_s=routed.outcome.retry_after_s)
            )
    assert routed.ok and routed.channel == "sms"
    assert paths(script) == ["/wecom/send"] * 3 + ["/sms"]
    assert len(waits) == 2 and all(0 <= w <= 4 for w in waits)


def test_webhook_and_dingtalk_channels_on_a_route(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(status=400, body=b"{}"), Reply(body=OK_BODY))
    route = parse_route(
        {
            "role": "school_lead",
            "channels": [
                {"type": "webhook", "name": "hook", "url": f"{base}/hook", "secret": HOOK_SECRET,
                 "names_enabled": True},
                {"type": "dingtalk", "name": "ding", "url": f"{base}/robot/send?access_token=T",
                 "secret": DING_SECRET},
            ],
        }
    )  # fmt: skip
    routed = route_deliver(route, Queue())
    assert routed.ok and routed.channel == "ding" and routed.escalate
    hook, ding = script.requests
    assert msgspec.json.decode(hook.body) == content_payload(content(names_enabled=True))
    assert hook.headers["X-Runxin-Delivery"] == "dlv_01"
    assert verify_signature(
        [HOOK_SECRET],
        timestamp=hook.headers["X-Runxin-Timestamp"],
        signature=hook.headers["X-Runxin-Signature"],
        body=hook.body,
        now=int(NOW.timestamp()),
    )
    assert set(ding.query) == {"access_token", "timestamp", "sign"}
    assert STUDENT not in all_text(ding.body)


def test_recipient_and_school_channels_reprs_hide_addresses() -> None:
    text = repr(RECIPIENT)
    assert "13800001111" not in text and "c@school.example" not in text and "u_7" not in text
    assert RECIPIENT.address("phone") == "13800001111" and RECIPIENT.address(None) is None
    assert SchoolChannels(routes=()).route_for("counsellor") is None


def test_naive_now_and_unknown_start_are_errors(server: tuple[str, Script]) -> None:
    base, _ = server
    route = counsellor_route(base)

    async def run(**kwargs: Any) -> RoutedOutcome:
        async with httpx.AsyncClient() as client:
            multi = MultiChannelNotifier.from_route(route, client=client, inapp_sink=Queue())
            return await multi.deliver(content(), recipient=RECIPIENT, **kwargs)

    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(run(now=NOW.replace(tzinfo=None)))
    with pytest.raises(KeyError):
        asyncio.run(run(now=NOW, start_at="pager"))


def test_every_channel_type_is_covered() -> None:
    tags = {
        cls.__struct_config__.tag
        for cls in (
            WebhookChannel,
            WeComChannel,
            DingTalkChannel,
            EmailChannel,
            SmsChannel,
            InAppChannel,
        )
    }
    assert tags == {"webhook", "wecom", "dingtalk", "email", "sms", "inapp"}
