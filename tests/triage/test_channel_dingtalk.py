"""DingTalk custom robot against a real HTTP server on 127.0.0.1; the signed-URL variant.

The signature formula is the one in DingTalk's "自定义机器人安全设置" (custom robot security
settings): ``sign = urlEncode(base64(HmacSHA256(key=secret, msg=timestamp + "\\n" + secret)))``
with ``timestamp`` in milliseconds. The tests recompute it here with ``hmac`` and, where the
binary exists, with the ``openssl`` command line (an implementation independent of Python's).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote_plus

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
    free_port,
    http_server,
)

from triage import DeliveryOutcome
from triage.channels import (
    ChannelConfigError,
    ChannelDelivery,
    DingTalkRobotNotifier,
    dingtalk_sign,
    dingtalk_signed_url,
    render_markdown,
    render_title,
)

TOKEN = "b2f1c9e3a7d64f0e8c5a1b2c3d4e5f60"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
PATH = f"/robot/send?access_token={TOKEN}"
NOW_MS = int(NOW.timestamp()) * 1000


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with http_server() as running:
        yield running


def delivery(*, names_enabled: bool = False) -> ChannelDelivery:
    return ChannelDelivery.for_content(content(names_enabled=names_enabled))


async def _deliver(url: str, secret: str | None, timeout_s: float) -> DeliveryOutcome:
    async with httpx.AsyncClient() as client:
        notifier = DingTalkRobotNotifier(client, url=url, secret=secret, timeout_s=timeout_s)
        return await notifier.deliver(delivery(names_enabled=True), now=NOW)


def deliver(url: str, *, secret: str | None = None, timeout_s: float = 5.0) -> DeliveryOutcome:
    return asyncio.run(_deliver(url, secret, timeout_s))


def independent_sign(secret: str, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_posts_the_documented_markdown_message(server: tuple[str, Script]) -> None:
    base, script = server
    outcome = deliver(base + PATH)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (True, False, 200)
    [request] = script.requests
    assert request.path == "/robot/send"
    assert request.query == {"access_token": [TOKEN]}  # unsigned: no timestamp, no sign
    body = msgspec.json.decode(request.body)
    plain = content()
    assert body == {
        "msgtype": "markdown",
        "markdown": {"title": render_title(plain), "text": render_markdown(plain)},
    }
    assert body["markdown"]["title"] == "【润心】需要关注：红色（一级）"  # carries the keyword 润心
    seen = all_text(request.body)
    assert_minimal(seen)
    assert STUDENT not in seen  # a group chat never gets the name


def test_signed_url_carries_timestamp_and_signature(server: tuple[str, Script]) -> None:
    base, script = server
    assert deliver(base + PATH, secret=SECRET).ok
    [request] = script.requests
    assert request.query["access_token"] == [TOKEN]
    assert request.query["timestamp"] == [str(NOW_MS)]
    expected = independent_sign(SECRET, NOW_MS)
    assert request.query["sign"] == [expected]
    # On the wire the base64 is URL-encoded ('+', '/', '=' escaped), as the docs require.
    assert request.raw_query.endswith(f"&timestamp={NOW_MS}&sign={quote_plus(expected)}")
    assert SECRET not in request.raw_query


def test_sign_matches_an_independent_computation() -> None:
    for stamp in (0, 1552920546388, NOW_MS, NOW_MS + 123):
        assert dingtalk_sign("this is secret", stamp) == independent_sign("this is secret", stamp)
    url = dingtalk_signed_url(
        "https://oapi.dingtalk.com/robot/send?access_token=T",
        "s",
        now=NOW + timedelta(microseconds=123_999),
    )
    stamp = NOW_MS + 123  # milliseconds, truncated
    assert url == (
        "https://oapi.dingtalk.com/robot/send?access_token=T"
        f"&timestamp={stamp}&sign={quote_plus(independent_sign('s', stamp))}"
    )
    with pytest.raises(ValueError):
        dingtalk_sign("s", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        dingtalk_signed_url("https://x/robot?access_token=T", "s", now=NOW.replace(tzinfo=None))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_sign_matches_openssl() -> None:
    message = f"{NOW_MS}\n{SECRET}".encode()
    result = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", SECRET, "-binary"],
        input=message,
        capture_output=True,
        check=True,
    )
    assert dingtalk_sign(SECRET, NOW_MS) == base64.b64encode(result.stdout).decode()


@pytest.mark.parametrize(
    ("reply", "retryable", "retry_after"),
    [
        (Reply(body=b'{"errcode":130101,"errmsg":"send too fast"}'), True, 60.0),
        (Reply(body=b'{"errcode":-1,"errmsg":"system busy"}'), True, None),
        (Reply(body=b'{"errcode":310000,"errmsg":"sign not match"}'), False, None),
        (Reply(body=b'{"errcode":300001,"errmsg":"token is not exist"}'), False, None),
        (Reply(status=503, body=b"", headers={"Retry-After": "30"}), True, 30.0),
        (Reply(status=429, body=b""), True, None),
        (Reply(status=403, body=b"{}"), False, None),
    ],
)
def test_classification(
    server: tuple[str, Script], reply: Reply, retryable: bool, retry_after: float | None
) -> None:
    base, script = server
    script.then(reply)
    outcome = deliver(base + PATH, secret=SECRET)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (
        False,
        retryable,
        reply.status,
    )
    assert outcome.retry_after_s == retry_after
    assert outcome.error is not None
    assert TOKEN not in outcome.error and SECRET not in outcome.error


def test_timeout_and_refused_connection_are_retryable(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(delay_s=10))
    slow = deliver(base + PATH, secret=SECRET, timeout_s=0.3)
    assert (slow.ok, slow.retryable, slow.status_code) == (False, True, None)
    assert slow.error is not None and "timeout" in slow.error
    refused = deliver(f"http://127.0.0.1:{free_port()}{PATH}", secret=SECRET, timeout_s=2)
    assert (refused.ok, refused.retryable) == (False, True)
    assert refused.error is not None
    assert TOKEN not in refused.error and SECRET not in refused.error


def test_configuration_errors() -> None:
    client = httpx.AsyncClient()
    with pytest.raises(ChannelConfigError, match="access_token"):
        DingTalkRobotNotifier(client, url="https://oapi.dingtalk.com/robot/send")
    with pytest.raises(ChannelConfigError, match="sign"):
        DingTalkRobotNotifier(
            client, url="https://oapi.dingtalk.com/robot/send?access_token=T&sign=x"
        )
    with pytest.raises(ChannelConfigError, match="secret"):
        DingTalkRobotNotifier(client, url="https://o.example/send?access_token=T", secret=" ")
    notifier = DingTalkRobotNotifier(client, url=f"https://oapi.dingtalk.com{PATH}", secret=SECRET)
    assert TOKEN not in repr(notifier) and SECRET not in repr(notifier)
