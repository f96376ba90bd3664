"""The generic signed webhook as a channel: :class:`triage.WebhookNotifier` behind the seam."""

from __future__ import annotations

from datetime import datetime

import httpx

from triage._notify import DeliveryOutcome, Notification, WebhookNotifier
from triage.channels._base import ChannelConfigError, ChannelDelivery, check_timeout
from triage.channels._http import check_http_url
from triage.channels._message import content_payload

__all__ = ["WebhookChannelNotifier"]


class WebhookChannelNotifier:
    """Deliver :class:`ChannelDelivery` objects through the generic signed webhook.

    The body is :func:`content_payload` of the content (the student's name only when the
    content carries it); headers, signature and classification are exactly
    :class:`triage.WebhookNotifier`'s, which does the sending unchanged.

    Parameters
    ----------
    client : httpx.AsyncClient
        Client to send with (owned by the caller).
    url : str
        The receiver's endpoint.
    secret : str
        Current signing secret (receivers accept the old and the new one during a rotation).
    timeout_s : float
        Timeout of each attempt, in seconds (0 < ``timeout_s`` <= 120).

    Raises
    ------
    ChannelConfigError
        If the URL is not http(s), the secret is empty or the timeout is out of range.
    """

    def __init__(
        self, client: httpx.AsyncClient, *, url: str, secret: str, timeout_s: float = 10.0
    ) -> None:
        self._url = check_http_url(url, what="webhook")
        if not isinstance(secret, str) or not secret:
            raise ChannelConfigError("webhook secret must be a non-empty string")
        self._secret = secret
        self._inner = WebhookNotifier(client, timeout_s=check_timeout(timeout_s))

    def __repr__(self) -> str:
        return "WebhookChannelNotifier(url=<hidden>, secret=<hidden>)"

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery (see :meth:`triage.WebhookNotifier.deliver`)."""
        notification = Notification(
            delivery_id=delivery.delivery_id,
            event=delivery.content.event,
            url=self._url,
            secret=self._secret,
            payload=content_payload(delivery.content),
        )
        return await self._inner.deliver(notification, now=now)
