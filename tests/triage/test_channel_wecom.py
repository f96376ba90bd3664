"""WeCom group robot against a real HTTP server on 127.0.0.1 impersonating qyapi.weixin.qq.com."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

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
    ChannelNotifier,
    WeComRobotNotifier,
    render_markdown,
)

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
PATH = f"/cgi-bin/webhook/send?key={KEY}"


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    with http_server() as running:
        yield running


def delivery(*, names_enabled: bool = False) -> ChannelDelivery:
    return ChannelDelivery.for_content(content(names_enabled=names_enabled))


async def _deliver(url: str, item: ChannelDelivery, timeout_s: float, lang: str) -> DeliveryOutcome:
    async with httpx.AsyncClient() as client:
        notifier: ChannelNotifier = WeComRobotNotifier(
            client,
            url=url,
            timeout_s=timeout_s,
            lang=lang,  # type: ignore[arg-type]
        )
        return await notifier.deliver(item, now=NOW)


def deliver(
    url: str, item: ChannelDelivery | None = None, *, timeout_s: float = 5.0, lang: str = "zh-CN"
) -> DeliveryOutcome:
    return asyncio.run(_deliver(url, item or delivery(), timeout_s, lang))


def test_posts_the_documented_markdown_message(server: tuple[str, Script]) -> None:
    base, script = server
    outcome = deliver(base + PATH)
    assert (outcome.ok, outcome.retryable, outcome.status_code, outcome.error) == (
        True,
        False,
        200,
        None,
    )
    [request] = script.requests
    assert request.path == "/cgi-bin/webhook/send"
    assert request.query == {"key": [KEY]}
    assert request.headers["Content-Type"].startswith("application/json")
    body = msgspec.json.decode(request.body)
    assert body == {"msgtype": "markdown", "markdown": {"content": render_markdown(content())}}
    text = body["markdown"]["content"]
    assert text.startswith("**【润心】需要关注：红色（一级）**")
    assert "请于 **2026-09-07 10:15** 前确认" in text
    assert "[查看详情](https://runxin.example/cases/c_42)" in text
    assert len(text.encode()) <= 4096


def test_english_message(server: tuple[str, Script]) -> None:
    base, script = server
    assert deliver(base + PATH, lang="en").ok
    text = msgspec.json.decode(script.requests[0].body)["markdown"]["content"]
    assert "Needs attention: Red (level 1)" in text


def test_group_chat_never_gets_the_name_answers_or_scores(server: tuple[str, Script]) -> None:
    base, script = server
    assert deliver(base + PATH, delivery(names_enabled=True)).ok
    seen = all_text(script.requests[0].body)
    assert_minimal(seen)
    assert STUDENT not in seen


@pytest.mark.parametrize(
    ("reply", "retryable", "retry_after"),
    [
        (Reply(body=b'{"errcode":45009,"errmsg":"api freq out of limit"}'), True, 60.0),
        (Reply(body=b'{"errcode":-1,"errmsg":"system busy"}'), True, None),
        (Reply(body=b'{"errcode":93000,"errmsg":"invalid webhook url"}'), False, None),
        (Reply(body=b'{"errcode":40008,"errmsg":"invalid message type"}'), False, None),
        (Reply(body=b"<html>proxy</html>"), True, None),
    ],
)
def test_errcodes_in_a_200_answer(
    server: tuple[str, Script], reply: Reply, retryable: bool, retry_after: float | None
) -> None:
    base, script = server
    script.then(reply)
    outcome = deliver(base + PATH)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, retryable, 200)
    assert outcome.retry_after_s == retry_after
    assert outcome.error is not None and "WeCom" in outcome.error
    assert KEY not in outcome.error


@pytest.mark.parametrize(
    ("reply", "retryable", "retry_after"),
    [
        (Reply(status=500, body=b"{}"), True, None),
        (Reply(status=502, body=b""), True, None),
        (Reply(status=429, body=b"{}", headers={"Retry-After": "7"}), True, 7.0),
        (Reply(status=404, body=b"{}"), False, None),
        (Reply(status=400, body=b"{}", headers={"Retry-After": "7"}), False, None),
    ],
)
def test_http_statuses(
    server: tuple[str, Script], reply: Reply, retryable: bool, retry_after: float | None
) -> None:
    base, script = server
    script.then(reply)
    outcome = deliver(base + PATH)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, retryable, reply.status)
    assert outcome.retry_after_s == retry_after


def test_a_robot_slower_than_the_timeout_is_retryable(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(delay_s=10))
    outcome = deliver(base + PATH, timeout_s=0.3)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, True, None)
    assert outcome.error is not None and "timeout" in outcome.error
    assert 250 <= outcome.latency_ms < 5000


def test_retry_after_a_throttle_sends_the_same_message(server: tuple[str, Script]) -> None:
    base, script = server
    script.then(Reply(body=b'{"errcode":45009,"errmsg":"api freq out of limit"}'))
    assert deliver(base + PATH).retryable
    assert deliver(base + PATH).ok
    first, second = script.requests
    assert first.body == second.body


def test_refused_connection_is_retryable_and_hides_the_key() -> None:
    outcome = deliver(f"http://127.0.0.1:{free_port()}{PATH}", timeout_s=2)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, True, None)
    assert outcome.error is not None and KEY not in outcome.error


def test_configuration_errors() -> None:
    client = httpx.AsyncClient()
    with pytest.raises(ChannelConfigError, match="key="):
        WeComRobotNotifier(client, url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
    with pytest.raises(ChannelConfigError, match="http"):
        WeComRobotNotifier(client, url="ftp://qyapi.weixin.qq.com/send?key=k")
    with pytest.raises(ChannelConfigError, match="timeout_s"):
        WeComRobotNotifier(client, url="https://q.example/send?key=k", timeout_s=0)
    with pytest.raises(ChannelConfigError, match="lang"):
        WeComRobotNotifier(client, url="https://q.example/send?key=k", lang="fr")  # type: ignore[arg-type]
    notifier = WeComRobotNotifier(client, url=f"https://qyapi.weixin.qq.com{PATH}")
    assert KEY not in repr(notifier)
    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(notifier.deliver(delivery(), now=NOW.replace(tzinfo=None)))
