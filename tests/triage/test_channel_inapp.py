"""In-app delivery: the message goes to the service's queue sink; sink failures are retryable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from channel_servers import NOW, STUDENT, assert_minimal, content

from triage import DeliveryOutcome
from triage.channels import (
    ChannelConfigError,
    ChannelDelivery,
    InAppMessage,
    InAppNotifier,
    render_text,
)


class Queue:
    def __init__(self, *, error: Exception | None = None, delay_s: float = 0.0) -> None:
        self.rows: dict[str, InAppMessage] = {}
        self.calls = 0
        self.error = error
        self.delay_s = delay_s

    async def __call__(self, message: InAppMessage) -> None:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        self.rows.setdefault(message.delivery_id, message)  # idempotent on the delivery id


def deliver(
    queue: Queue,
    *,
    names_enabled: bool = False,
    address: str | None = "u_counsellor_7",
    timeout_s: float = 5.0,
    lang: str = "zh-CN",
) -> DeliveryOutcome:
    notifier = InAppNotifier(queue, timeout_s=timeout_s, lang=lang)  # type: ignore[arg-type]
    item = ChannelDelivery.for_content(content(names_enabled=names_enabled), address=address)
    return asyncio.run(notifier.deliver(item, now=NOW))


def test_the_message_lands_in_the_recipients_queue() -> None:
    queue = Queue()
    outcome = deliver(queue)
    assert (outcome.ok, outcome.retryable, outcome.status_code, outcome.error) == (
        True,
        False,
        None,
        None,
    )
    message = queue.rows["dlv_01"]
    assert message.recipient == "u_counsellor_7"
    assert message.tier == "red" and message.event == "case.opened"
    assert message.title == "【润心】需要关注：红色（一级）"
    assert message.body == render_text(content())
    assert message.link == "https://runxin.example/cases/c_42"
    assert message.deadline == datetime(2026, 9, 7, 2, 15, tzinfo=UTC)
    assert message.action == "acknowledge" and message.escalation_level == 0
    assert message.recipient_role == "counsellor"
    assert message.student_name is None
    assert_minimal(message.title + message.body + repr(message))


def test_name_only_when_enabled_and_retries_do_not_duplicate() -> None:
    queue = Queue()
    assert deliver(queue, names_enabled=True).ok
    assert deliver(queue, names_enabled=True).ok
    assert len(queue.rows) == 1 and queue.calls == 2
    message = queue.rows["dlv_01"]
    assert message.student_name == STUDENT and STUDENT in message.body


def test_english() -> None:
    queue = Queue()
    assert deliver(queue, lang="en").ok
    assert queue.rows["dlv_01"].title == "[Runxin] Needs attention: Red (level 1)"


def test_a_failing_sink_is_retryable_and_its_message_is_not_echoed() -> None:
    queue = Queue(error=RuntimeError(f"insert failed for {STUDENT}"))
    outcome = deliver(queue, names_enabled=True)
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.error == "in-app sink failed: RuntimeError"


def test_a_slow_sink_times_out_retryably() -> None:
    outcome = deliver(Queue(delay_s=2.0), timeout_s=0.05)
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.error is not None and "timeout" in outcome.error
    assert outcome.latency_ms < 1500


@pytest.mark.parametrize("address", [None, "", "   "])
def test_no_user_id_is_permanent(address: str | None) -> None:
    queue = Queue()
    outcome = deliver(queue, address=address)
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert queue.calls == 0


def test_configuration_errors() -> None:
    with pytest.raises(ChannelConfigError, match="callable"):
        InAppNotifier("not a sink")  # type: ignore[arg-type]
    with pytest.raises(ChannelConfigError, match="timeout_s"):
        InAppNotifier(Queue(), timeout_s=float("inf"))
    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(
            InAppNotifier(Queue()).deliver(
                ChannelDelivery.for_content(content(), address="u"), now=NOW.replace(tzinfo=None)
            )
        )
