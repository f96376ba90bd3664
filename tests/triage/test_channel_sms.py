"""SMS gateway webhook against a real HTTP server on 127.0.0.1: templates, signing, outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import msgspec
import pytest
from channel_servers import (
    NOW,
    STUDENT,
    Reply,
    Script,
    all_text,
    assert_minimal,
    content,
    http_server,
)

from triage import DeliveryOutcome, verify_signature
from triage.channels import (
    DEFAULT_SMS_TEMPLATE,
    ChannelConfigError,
    ChannelDelivery,
    SmsGatewayNotifier,
    render_sms_text,
)

PHONE = "13800001111"
GATEWAY_TOKEN = "gw-token-abc123"


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with http_server() as running:
        yield running


def delivery(address: str | None = PHONE) -> ChannelDelivery:
    return ChannelDelivery.for_content(content(names_enabled=True), address=address)


async def _deliver(url: str, item: ChannelDelivery, kwargs: dict[str, Any]) -> DeliveryOutcome:
    async with httpx.AsyncClient() as client:
        return await SmsGatewayNotifier(client, url=url, **kwargs).deliver(item, now=NOW)


def deliver(url: str, item: ChannelDelivery | None = None, **kwargs: Any) -> DeliveryOutcome:
    kwargs.setdefault("timeout_s", 5.0)
    return asyncio.run(_deliver(url, item or delivery(), kwargs))


def test_default_template(server: tuple[str, Script]) -> None:
    base, script = server
    outcome = deliver(f"{base}/sms/send?token={GATEWAY_TOKEN}")
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (True, False, 200)
    [request] = script.requests
    assert request.path == "/sms/send"
    assert request.headers["X-Runxin-Delivery"] == "dlv_01"
    assert "X-Runxin-Signature" not in request.headers
    body = msgspec.json.decode(request.body)
    assert body == {
        "to": PHONE,
        "text": render_sms_text(content()),
        "delivery_id": "dlv_01",
    }
    assert body["text"] == (
        "【润心】七年级3班（润心实验中学）有学生需要关注：红色（一级），"
        "请于 2026-09-07 10:15 前确认。https://runxin.example/cases/c_42"
    )
    assert_minimal(all_text(request.body))  # the content enabled names; SMS still has none
    assert dict(DEFAULT_SMS_TEMPLATE) == {
        "to": "{phone}",
        "text": "{text}",
        "delivery_id": "{delivery_id}",
    }


def test_custom_template_fills_every_placeholder(server: tuple[str, Script]) -> None:
    base, script = server
    template = {
        "mobile": "{phone}",
        "signName": "润心",
        "params": {
            "tier": "{tier}",
            "school": "{school}",
            "class": "{class}",
            "deadline": "{deadline}",
            "link": "{link}",
        },
        "literal": "{{not a placeholder}}",
        "priority": 1,
        "flags": ["{delivery_id}", True, None, 0.5],
    }
    assert deliver(f"{base}/sms", template=template).ok
    body = msgspec.json.decode(script.requests[0].body)
    assert body == {
        "mobile": PHONE,
        "signName": "润心",
        "params": {
            "tier": "红色（一级）",
            "school": "润心实验中学",
            "class": "七年级3班",
            "deadline": "2026-09-07 10:15",
            "link": "https://runxin.example/cases/c_42",
        },
        "literal": "{not a placeholder}",
        "priority": 1,
        "flags": ["dlv_01", True, None, 0.5],
    }
    assert STUDENT not in all_text(script.requests[0].body)


def test_english_text(server: tuple[str, Script]) -> None:
    base, script = server
    assert deliver(f"{base}/sms", lang="en").ok
    text = msgspec.json.decode(script.requests[0].body)["text"]
    assert text.startswith(
        "[Runxin] A student in 七年级3班, 润心实验中学 needs attention: Red (level 1)."
    )


def test_signed_requests_verify_like_the_generic_webhook(server: tuple[str, Script]) -> None:
    base, script = server
    headers = {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
    assert deliver(f"{base}/sms", secret="sms-secret", headers=headers).ok
    [request] = script.requests
    assert request.headers["Authorization"] == f"Bearer {GATEWAY_TOKEN}"
    assert verify_signature(
        ["sms-secret"],
        timestamp=request.headers["X-Runxin-Timestamp"],
        signature=request.headers["X-Runxin-Signature"],
        body=request.body,
        now=int(NOW.timestamp()),
    )


@pytest.mark.parametrize(
    ("address", "sent"),
    [("+86 138-0000-1111", "+8613800001111"), ("(010) 6655 4433", "01066554433")],
)
def test_phone_numbers_are_normalised(server: tuple[str, Script], address: str, sent: str) -> None:
    base, script = server
    assert deliver(f"{base}/sms", delivery(address)).ok
    assert msgspec.json.decode(script.requests[0].body)["to"] == sent


@pytest.mark.parametrize("address", [None, "", "call me", "12", "+86 138 0000 1111 0000 9"])
def test_a_missing_or_bad_phone_is_permanent(
    server: tuple[str, Script], address: str | None
) -> None:
    base, script = server
    outcome = deliver(f"{base}/sms", delivery(address))
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert outcome.error == "recipient has no valid phone number"
    assert script.requests == []


@pytest.mark.parametrize(
    ("reply", "retryable", "retry_after"),
    [
        (Reply(status=500, body=b"{}"), True, None),
        (Reply(status=429, body=b"{}", headers={"Retry-After": "12"}), True, 12.0),
        (Reply(status=400, body=b'{"error":"bad template"}'), False, None),
        (Reply(status=401, body=b"{}"), False, None),
    ],
)
def test_classification(
    server: tuple[str, Script], reply: Reply, retryable: bool, retry_after: float | None
) -> None:
    base, script = server
    script.then(reply)
    outcome = deliver(f"{base}/sms")
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, retryable, reply.status)
    assert outcome.retry_after_s == retry_after


def test_a_gateway_slower_than_the_timeout_is_retryable(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(delay_s=10))
    outcome = deliver(f"{base}/sms", timeout_s=0.3)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, True, None)
    assert outcome.error is not None and "timeout" in outcome.error


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ({"to": "{phone}", "text": "{student_name}"}, r"unknown placeholder \{student_name\}"),
        ({"to": "{phone}", "x": {"y": ["{score}"]}}, r"\$\.x\.y\[0\].*\{score\}"),
        ({"to": "{phone}", "text": "{tier.upper}"}, r"\{tier\.upper\}"),
        ({"to": "{phone}", "text": "{tier!r}"}, "conversion"),
        ({"to": "{phone}", "text": "{tier:>9}"}, "format spec"),
        ({"to": "{phone}", "text": "{tier"}, "template"),
        ({"to": "{phone}", "text": "{}"}, r"unknown placeholder \{\}"),
        ({"text": "{text}"}, r"\{phone\}"),
        ({}, "non-empty"),
        ({"to": "{phone}", "n": float("nan")}, "JSON value"),
        ({"to": "{phone}", "s": {1, 2}}, "JSON value"),
    ],
)
def test_templates_are_validated_at_construction(template: Mapping[str, Any], match: str) -> None:
    with pytest.raises(ChannelConfigError, match=match):
        SmsGatewayNotifier(httpx.AsyncClient(), url="https://sms.example/send", template=template)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"url": "sms.example/send"}, "http"),
        ({"headers": {"X-Runxin-Delivery": "x"}}, "set by Runxin"),
        ({"headers": {"Authorization": "a\r\nb"}}, "one line"),
        ({"secret": ""}, "secret"),
        ({"timeout_s": 1000}, "timeout_s"),
    ],
)
def test_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    settings: dict[str, Any] = {"url": "https://sms.example/send"}
    settings.update(kwargs)
    with pytest.raises(ChannelConfigError, match=match):
        SmsGatewayNotifier(httpx.AsyncClient(), **settings)


def test_repr_hides_url_and_headers() -> None:
    notifier = SmsGatewayNotifier(
        httpx.AsyncClient(),
        url=f"https://sms.example/send?token={GATEWAY_TOKEN}",
        headers={"Authorization": f"Bearer {GATEWAY_TOKEN}"},
    )
    assert GATEWAY_TOKEN not in repr(notifier)
