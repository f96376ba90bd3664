"""The notification seam: signed webhook delivery and retry timing.

Delivery is at least once: the dispatcher (in ``survey_service``) keeps retrying a retryable
outcome with :func:`backoff_delay` and escalates one that finally fails. Receivers de-duplicate
on the stable ``X-Runxin-Delivery`` id and check ``X-Runxin-Signature`` with
:func:`verify_signature`, which signs ``f"{timestamp}." + body`` with HMAC-SHA256.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
import msgspec

from triage._calendar import require_aware

__all__ = [
    "MAX_RETRY_AFTER_S",
    "SIGNATURE_VERSION",
    "DeliveryOutcome",
    "Notification",
    "Notifier",
    "WebhookNotifier",
    "backoff_delay",
    "parse_retry_after",
    "sign",
    "verify_signature",
]

#: Prefix of every signature (the signing scheme's version).
SIGNATURE_VERSION = "v1"
#: Longest wait honoured from a ``Retry-After`` header, in seconds.
MAX_RETRY_AFTER_S = 3600.0

_TIMESTAMP_RE = re.compile(r"[0-9]{1,15}")


class Notification(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One message to deliver to one endpoint.

    Parameters
    ----------
    delivery_id : str
        Stable id of this delivery, identical on every retry (receivers de-duplicate on it).
    event : str
        Event name, e.g. ``"case.opened"`` or ``"case.escalated"``.
    url : str
        Endpoint URL.
    secret : str
        Shared signing secret of the endpoint (hidden from ``repr``).
    payload : dict
        JSON-serialisable body; must contain ``"delivery_id"`` equal to ``delivery_id``. It
        carries the minimum (tier, school/class, deadline, link), never answers or scores.
    """

    delivery_id: str
    event: str
    url: str
    secret: str
    payload: dict[str, Any]

    def __repr__(self) -> str:
        return (
            f"Notification(delivery_id={self.delivery_id!r}, event={self.event!r}, "
            f"url=<hidden>, secret=<hidden>, payload=<{len(self.payload)} keys>)"
        )


class DeliveryOutcome(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What happened to one delivery attempt.

    Parameters
    ----------
    ok : bool
        The endpoint answered 2xx.
    retryable : bool
        The attempt failed in a way worth retrying (429, 5xx, timeout, connection error).
    status_code : int or None
        HTTP status, ``None`` when no response arrived.
    error : str or None
        Short description of the failure (never the URL or the secret).
    retry_after_s : float or None
        Seconds the endpoint asked us to wait (``Retry-After``), if it did.
    latency_ms : float
        Time the attempt took, in milliseconds.
    """

    ok: bool
    retryable: bool
    status_code: int | None
    error: str | None
    retry_after_s: float | None
    latency_ms: float


class Notifier(Protocol):
    """A delivery channel (webhook, email, WeCom, DingTalk, SMS gateway)."""

    async def deliver(self, notification: Notification, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery at ``now``; report the outcome instead of raising."""
        ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Sign a webhook body.

    Parameters
    ----------
    secret : str
        Shared secret.
    timestamp : int
        Unix seconds sent in ``X-Runxin-Timestamp``.
    body : bytes
        Exact request body.

    Returns
    -------
    str
        ``"v1=" + hex(HMAC-SHA256(secret, f"{timestamp}." + body))``.
    """
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise ValueError(f"timestamp must be int Unix seconds, got {type(timestamp).__name__}")
    if not isinstance(body, bytes | bytearray):
        raise ValueError(f"body must be bytes, got {type(body).__name__}")
    message = f"{timestamp}.".encode("ascii") + bytes(body)
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(
    secrets: Sequence[str],
    *,
    timestamp: str,
    signature: str,
    body: bytes,
    now: int,
    tolerance_s: int = 300,
) -> bool:
    """Check a webhook signature, as a receiver does.

    Parameters
    ----------
    secrets : sequence of str
        Accepted secrets (two during a rotation: the new and the old one).
    timestamp : str
        ``X-Runxin-Timestamp`` header value.
    signature : str
        ``X-Runxin-Signature`` header value.
    body : bytes
        Exact request body received.
    now : int
        Receiver's current Unix seconds.
    tolerance_s : int
        Largest accepted distance between ``timestamp`` and ``now`` (replay window).

    Returns
    -------
    bool
        True if the timestamp is within tolerance and the signature matches any secret
        (compared in constant time).
    """
    if not isinstance(timestamp, str) or _TIMESTAMP_RE.fullmatch(timestamp) is None:
        return False
    if abs(now - int(timestamp)) > tolerance_s:
        return False
    try:
        received = signature.encode("ascii")
    except (AttributeError, UnicodeEncodeError):
        return False
    matched = False
    for secret in secrets:
        expected = sign(secret, int(timestamp), body).encode("ascii")
        # Check every secret, so timing does not tell which one matched.
        matched = hmac.compare_digest(expected, received) or matched
    return matched


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Parse a ``Retry-After`` header: delay seconds or an HTTP-date relative to ``now``.

    Returns
    -------
    float or None
        Seconds to wait (``>= 0``), or ``None`` when the header is absent or unreadable.
    """
    require_aware(now, "now")
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _failure(
    *,
    retryable: bool,
    error: str,
    started: float,
    status: int | None = None,
    retry_after_s: float | None = None,
) -> DeliveryOutcome:
    return DeliveryOutcome(
        ok=False,
        retryable=retryable,
        status_code=status,
        error=error,
        retry_after_s=retry_after_s,
        latency_ms=(time.perf_counter() - started) * 1000.0,
    )


class WebhookNotifier:
    """Deliver notifications as signed JSON ``POST`` requests.

    Parameters
    ----------
    client : httpx.AsyncClient
        Client to send with (owned by the caller; tests may give it a ``MockTransport``).
    timeout_s : float
        Timeout of each attempt (connect, write, read and pool), in seconds.

    Notes
    -----
    Headers: ``Content-Type: application/json``, ``X-Runxin-Delivery`` (delivery id),
    ``X-Runxin-Event``, ``X-Runxin-Timestamp`` (Unix seconds of ``now``) and
    ``X-Runxin-Signature`` (see :func:`sign`). 2xx is success; 429 and 5xx, timeouts and
    connection errors are retryable; any other status is a permanent failure. Network errors
    are reported as outcomes, never raised.
    """

    def __init__(self, client: httpx.AsyncClient, *, timeout_s: float = 10.0) -> None:
        if not math.isfinite(timeout_s) or timeout_s <= 0:
            raise ValueError(f"timeout_s must be a positive number, got {timeout_s!r}")
        self._client = client
        self._timeout = httpx.Timeout(timeout_s)

    async def deliver(self, notification: Notification, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery.

        Parameters
        ----------
        notification : Notification
            What to send and where.
        now : datetime
            Aware current instant (signs the timestamp and dates ``Retry-After``).

        Returns
        -------
        DeliveryOutcome
            The outcome; network failures are outcomes, not exceptions.

        Raises
        ------
        ValueError
            If ``now`` is naive or the payload lacks the delivery id or is not JSON-encodable.
        """
        require_aware(now, "now")
        if notification.payload.get("delivery_id") != notification.delivery_id:
            raise ValueError(
                "notification payload must contain 'delivery_id' equal to "
                f"{notification.delivery_id!r}"
            )
        try:
            body = msgspec.json.encode(notification.payload)
        except (TypeError, msgspec.EncodeError) as exc:
            raise ValueError(f"notification payload is not JSON-encodable: {exc}") from exc
        timestamp = math.floor(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Runxin-Delivery": notification.delivery_id,
            "X-Runxin-Event": notification.event,
            "X-Runxin-Timestamp": str(timestamp),
            "X-Runxin-Signature": sign(notification.secret, timestamp, body),
        }
        started = time.perf_counter()
        try:
            response = await self._client.post(
                notification.url, content=body, headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException as exc:
            return _failure(
                retryable=True, error=f"timeout ({type(exc).__name__})", started=started
            )
        except httpx.UnsupportedProtocol as exc:
            return _failure(
                retryable=False, error=f"unsupported URL ({type(exc).__name__})", started=started
            )
        except httpx.HTTPError as exc:
            return _failure(
                retryable=True, error=f"{type(exc).__name__}: {exc}"[:300], started=started
            )
        except httpx.InvalidURL as exc:
            return _failure(retryable=False, error=f"invalid URL: {exc}"[:300], started=started)
        except OSError as exc:
            return _failure(
                retryable=True, error=f"{type(exc).__name__}: {exc}"[:300], started=started
            )
        latency_ms = (time.perf_counter() - started) * 1000.0
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryOutcome(
                ok=True,
                retryable=False,
                status_code=status,
                error=None,
                retry_after_s=None,
                latency_ms=latency_ms,
            )
        retryable = status == 429 or 500 <= status < 600
        retry_after = (
            parse_retry_after(response.headers.get("Retry-After"), now=now) if retryable else None
        )
        return DeliveryOutcome(
            ok=False,
            retryable=retryable,
            status_code=status,
            error=f"HTTP {status} {response.reason_phrase}".strip(),
            retry_after_s=retry_after,
            latency_ms=latency_ms,
        )


def backoff_delay(
    attempt: int,
    *,
    rng: random.Random,
    base_s: float = 2.0,
    cap_s: float = 300.0,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt``: exponential backoff, full jitter.

    Parameters
    ----------
    attempt : int
        1 for the first retry, 2 for the second, ...
    rng : random.Random
        Source of jitter (seeded in tests).
    base_s : float
        Upper bound of the first delay.
    cap_s : float
        Largest upper bound of the jittered delay.
    retry_after_s : float or None
        The endpoint's ``Retry-After``; the delay is never shorter than it (honoured up to
        :data:`MAX_RETRY_AFTER_S`).

    Returns
    -------
    float
        ``uniform(0, min(cap_s, base_s * 2 ** (attempt - 1)))``, raised to
        ``min(retry_after_s, MAX_RETRY_AFTER_S)`` when that is longer.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be an int >= 1, got {attempt!r}")
    for name, value in (("base_s", base_s), ("cap_s", cap_s)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, 64))
    delay = rng.uniform(0.0, ceiling)
    if retry_after_s is not None:
        if math.isnan(retry_after_s) or retry_after_s < 0:
            raise ValueError(f"retry_after_s must be >= 0, got {retry_after_s!r}")
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return delay
