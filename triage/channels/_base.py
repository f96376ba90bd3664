"""The channel seam: one delivery, one protocol, outcome helpers shared by the adapters.

Every channel — the signed webhook, WeCom and DingTalk robots, e-mail, SMS gateway, in-app —
is a :class:`ChannelNotifier`; the dispatcher knows no other.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import msgspec

from triage._notify import DeliveryOutcome
from triage.channels._message import ContentError
from triage.channels._notice import MessageContent, content_payload

__all__ = [
    "ChannelConfigError",
    "ChannelDelivery",
    "ChannelNotifier",
    "check_timeout",
    "failure",
    "redact",
    "success",
]

#: Longest error text kept in an outcome.
_MAX_ERROR = 300
#: Longest accepted per-attempt timeout, in seconds.
MAX_TIMEOUT_S = 120.0


class ChannelConfigError(ValueError):
    """A channel, route or adapter is configured wrongly (raised at construction)."""


class ChannelDelivery(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One notification to deliver on one channel to one recipient.

    Parameters
    ----------
    delivery_id : str
        Stable id of the delivery, identical on every retry; equals ``payload["delivery_id"]``
        (and ``content.delivery_id``).
    payload : dict
        The notification as queued (the outbox payload: event, tier, school, deadline, link,
        ...; never answers or scores). The generic webhook posts it unchanged (README,
        "Webhooks"); it must carry ``"delivery_id"`` and a string ``"event"``.
    content : NotificationContent, CampaignReminder or None
        What channels that render a message say (already reduced to what this channel may
        show): a case notice, or a campaign reminder to a head teacher; ``None`` for a
        delivery only the webhook can carry (e.g. an incident review without a tier).
    address : str or None
        The recipient's address on this channel: an e-mail address (``email``), a phone
        number (``sms``), a user id (``inapp``); ``None`` for channels whose endpoint is the
        address (webhook, WeCom and DingTalk robots post to a configured URL).

    Raises
    ------
    ValueError
        If the delivery id differs from the payload's or the content's, or the payload has no
        event.
    """

    delivery_id: str
    payload: dict[str, Any]
    content: MessageContent | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if self.payload.get("delivery_id") != self.delivery_id:
            raise ValueError(f"payload must contain 'delivery_id' equal to {self.delivery_id!r}")
        if not isinstance(self.payload.get("event"), str):
            raise ValueError("payload must contain the 'event' name as a string")
        if self.content is not None and self.delivery_id != self.content.delivery_id:
            raise ValueError(
                f"delivery_id {self.delivery_id!r} differs from the content's "
                f"{self.content.delivery_id!r}"
            )

    @classmethod
    def for_content(cls, content: MessageContent, *, address: str | None = None) -> ChannelDelivery:
        """A delivery of ``content`` (its payload is :func:`content_payload` of it)."""
        return cls(
            delivery_id=content.delivery_id,
            payload=content_payload(content),
            content=content,
            address=address,
        )

    @property
    def event(self) -> str:
        """The event name (``payload["event"]``)."""
        return str(self.payload["event"])

    @property
    def required_content(self) -> MessageContent:
        """The content, for channels that render a message.

        Raises
        ------
        ContentError
            If the delivery carries none (a programming error: the dispatcher gives such
            deliveries only to the webhook).
        """
        if self.content is None:
            raise ContentError(
                f"delivery {self.delivery_id!r} has no message content for this channel"
            )
        return self.content

    def __repr__(self) -> str:
        address = "None" if self.address is None else "<hidden>"
        return (
            f"ChannelDelivery(delivery_id={self.delivery_id!r}, "
            f"payload=<{len(self.payload)} keys>, content={self.content!r}, address={address})"
        )


class ChannelNotifier(Protocol):
    """A delivery channel: webhook, WeCom robot, DingTalk robot, e-mail, SMS gateway, in-app.

    ``deliver`` makes exactly one attempt and reports it as a
    :class:`~triage.DeliveryOutcome`; network, server and recipient failures are outcomes,
    never exceptions (only a programming error such as a naive ``now`` raises ``ValueError``).
    Retrying, backing off and falling back are the dispatcher's job.
    """

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery at ``now``; report the outcome instead of raising."""
        ...


def check_timeout(timeout_s: float, *, error: type[ValueError] = ChannelConfigError) -> float:
    """Return ``timeout_s`` as a float if it is positive, finite and at most 120 s."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float):
        raise error(f"timeout_s must be a number, got {type(timeout_s).__name__}")
    value = float(timeout_s)
    if not math.isfinite(value) or value <= 0 or value > MAX_TIMEOUT_S:
        raise error(f"timeout_s must be in (0, {MAX_TIMEOUT_S:g}] seconds, got {timeout_s!r}")
    return value


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``<redacted>``, cut to 300 chars."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text[:_MAX_ERROR]


def success(*, started: float, status: int | None = None) -> DeliveryOutcome:
    """A successful attempt that began at ``started`` (a ``time.perf_counter`` value)."""
    return DeliveryOutcome(
        ok=True,
        retryable=False,
        status_code=status,
        error=None,
        retry_after_s=None,
        latency_ms=(time.perf_counter() - started) * 1000.0,
    )


def failure(
    *,
    retryable: bool,
    error: str,
    started: float,
    status: int | None = None,
    retry_after_s: float | None = None,
) -> DeliveryOutcome:
    """A failed attempt that began at ``started`` (a ``time.perf_counter`` value)."""
    return DeliveryOutcome(
        ok=False,
        retryable=retryable,
        status_code=status,
        error=error[:_MAX_ERROR],
        retry_after_s=retry_after_s,
        latency_ms=(time.perf_counter() - started) * 1000.0,
    )
