"""Delivery outcomes, webhook signatures and retry timing, shared by every channel.

Delivery is at least once: the dispatcher (in ``survey_service``) keeps retrying a retryable
outcome with :func:`backoff_delay` and escalates one that finally fails. The channels
themselves (the signed webhook among them) sit behind one seam,
:class:`triage.channels.ChannelNotifier`. Webhook receivers de-duplicate on the stable
``X-Runxin-Delivery`` id and check ``X-Runxin-Signature`` with :func:`verify_signature`,
which signs ``f"{timestamp}." + body`` with HMAC-SHA256 (:func:`sign`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import msgspec

from triage._calendar import require_aware

__all__ = [
    "MAX_RETRY_AFTER_S",
    "SIGNATURE_VERSION",
    "DeliveryOutcome",
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
