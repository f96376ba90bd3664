"""The generic signed JSON webhook (README, "Webhooks"), one channel behind the seam."""

from __future__ import annotations

import math
import time
from datetime import datetime

import httpx
import msgspec

from triage._calendar import require_aware
from triage._notify import DeliveryOutcome, sign
from triage.channels._base import ChannelConfigError, ChannelDelivery, check_timeout
from triage.channels._http import check_http_url, post_json, status_outcome

__all__ = ["WebhookNotifier"]


class WebhookNotifier:
    """Deliver notifications as signed JSON ``POST`` requests to one endpoint.

    Parameters
    ----------
    client : httpx.AsyncClient
        Client to send with (owned by the caller; tests may give it a ``MockTransport``).
    url : str
        The receiver's endpoint.
    secret : str
        Current signing secret (receivers accept the old and the new one during a rotation).
    timeout_s : float
        Timeout of each attempt (connect, write, read and pool), in seconds
        (0 < ``timeout_s`` <= 120).

    Raises
    ------
    ChannelConfigError
        If the URL is not http(s), the secret is empty or the timeout is out of range.

    Notes
    -----
    The body is the delivery's ``payload`` as JSON, unchanged. Headers:
    ``Content-Type: application/json``, ``X-Runxin-Delivery`` (delivery id),
    ``X-Runxin-Event``, ``X-Runxin-Timestamp`` (Unix seconds of ``now``) and
    ``X-Runxin-Signature`` (see :func:`triage.sign`). 2xx is success; 429 and 5xx, timeouts
    and connection errors are retryable; any other status is a permanent failure. Network
    errors are reported as outcomes, never raised.
    """

    def __init__(
        self, client: httpx.AsyncClient, *, url: str, secret: str, timeout_s: float = 10.0
    ) -> None:
        self._url = check_http_url(url, what="webhook")
        if not isinstance(secret, str) or not secret:
            raise ChannelConfigError("webhook secret must be a non-empty string")
        self._secret = secret
        self._client = client
        self._timeout = httpx.Timeout(check_timeout(timeout_s))

    def __repr__(self) -> str:
        return "WebhookNotifier(url=<hidden>, secret=<hidden>)"

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery.

        Parameters
        ----------
        delivery : ChannelDelivery
            What to send (its ``payload``; ``content`` and ``address`` are unused).
        now : datetime
            Aware current instant (signs the timestamp and dates ``Retry-After``).

        Returns
        -------
        DeliveryOutcome
            The outcome; network failures are outcomes, not exceptions.

        Raises
        ------
        ValueError
            If ``now`` is naive or the payload is not JSON-encodable.
        """
        require_aware(now, "now")
        try:
            body = msgspec.json.encode(delivery.payload)
        except (TypeError, msgspec.EncodeError) as exc:
            raise ValueError(f"notification payload is not JSON-encodable: {exc}") from exc
        timestamp = math.floor(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Runxin-Delivery": delivery.delivery_id,
            "X-Runxin-Event": delivery.event,
            "X-Runxin-Timestamp": str(timestamp),
            "X-Runxin-Signature": sign(self._secret, timestamp, body),
        }
        started = time.perf_counter()
        result = await post_json(
            self._client,
            self._url,
            body,
            headers=headers,
            timeout=self._timeout,
            started=started,
            secrets=(self._secret,),
        )
        if isinstance(result, DeliveryOutcome):
            return result
        return status_outcome(result, started=started, now=now)
