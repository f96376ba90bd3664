"""Channel configuration, the adapter factory, and delivery along a route with fallbacks.

The routed deliveries go to a real HTTP server on 127.0.0.1 that plays the WeCom robot, the
DingTalk robot, the SMS gateway and a generic webhook receiver, and to an in-app queue sink.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import msgspec
import pytest

from triage.channels import (
    ChannelConfigError,
    ChannelNotifier,
    DingTalkChannel,
    DingTalkRobotNotifier,
    EmailChannel,
    InAppChannel,
    InAppMessage,
    InAppNotifier,
    RecipientRoute,
    SmsChannel,
    SmsGatewayNotifier,
    SmtpNotifier,
    UnconfiguredChannel,
    WebhookChannel,
    WebhookNotifier,
    WeComChannel,
    WeComRobotNotifier,
    build_notifier,
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
        "hook": WebhookNotifier,
        "ding": DingTalkRobotNotifier,
    }
    for route in school.routes:
        for channel in route.channels:
            notifier: ChannelNotifier = build_notifier(channel, client=client, inapp_sink=sink)
            assert isinstance(notifier, kinds[channel.name])
    with pytest.raises(ChannelConfigError, match="inapp_sink"):
        build_notifier(InAppChannel(name="queue"), client=client)


# -- delivery along a route --------------------------------------------------------------------


class Queue:
    def __init__(self) -> None:
        self.messages: list[InAppMessage] = []

    async def __call__(self, message: InAppMessage) -> None:
        self.messages.append(message)


# Delivering along a route (primary, retries, fallbacks, escalation) is the dispatcher's job
# and is tested on the real path: tests/survey_service/test_channels_integration.py and
# test_dispatcher.py.


def test_the_unconfigured_channel_is_no_school_setting() -> None:
    route = RecipientRoute(role="counsellor", channels=(UnconfiguredChannel(name="webhook"),))
    assert route.primary.type == "unconfigured" and route.primary.address_kind is None
    with pytest.raises(ChannelConfigError, match="unconfigured"):
        parse_route(_route({"type": "unconfigured", "name": "webhook"}))
    with pytest.raises(ChannelConfigError, match="unconfigured"):
        parse_school_channels({"routes": [_route({"type": "unconfigured", "name": "x"})]})
    with pytest.raises(ChannelConfigError, match="not configured"):
        build_notifier(route.primary, client=httpx.AsyncClient())


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
