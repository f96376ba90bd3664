"""One JSON ``POST`` over httpx, classified the way the generic webhook classifies it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec

from triage._notify import DeliveryOutcome, parse_retry_after
from triage.channels._base import ChannelConfigError, failure, redact, success

__all__ = ["RobotReply", "check_http_url", "post_json", "robot_outcome", "status_outcome"]


class RobotReply(msgspec.Struct, frozen=True):
    """The JSON body WeCom and DingTalk robots answer with (HTTP 200 even on errors)."""

    errcode: int
    errmsg: str = ""


def check_http_url(url: str, *, what: str, query_key: str | None = None) -> str:
    """Validate an ``http(s)`` endpoint URL (and that it carries ``query_key``); return it.

    Raises
    ------
    ChannelConfigError
        If ``url`` is not an absolute http(s) URL or lacks a non-empty ``query_key``.
    """
    if not isinstance(url, str) or any(ch.isspace() for ch in url):
        raise ChannelConfigError(f"{what} URL must be a string without whitespace")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelConfigError(f"{what} URL must be an absolute http(s) URL")
    if query_key is not None:
        values = parse_qs(parts.query).get(query_key, [])
        if len(values) != 1 or not values[0]:
            raise ChannelConfigError(f"{what} URL must carry exactly one non-empty {query_key}=")
    return url


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout,
    started: float,
    secrets: Collection[str | None] = (),
) -> httpx.Response | DeliveryOutcome:
    """Send ``body`` as JSON; return the response, or a failure outcome if none arrived.

    ``started`` is the ``time.perf_counter()`` value the attempt's latency counts from.
    Timeouts and connection errors are retryable failures; an unsupported or invalid URL is
    permanent. The URL and every string in ``secrets`` are removed from error texts.
    """
    sent = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    scrub = (url, *secrets)
    try:
        response = await client.post(url, content=body, headers=sent, timeout=timeout)
    except httpx.TimeoutException as exc:
        return failure(retryable=True, error=f"timeout ({type(exc).__name__})", started=started)
    except httpx.UnsupportedProtocol as exc:
        error = f"unsupported URL ({type(exc).__name__})"
        return failure(retryable=False, error=error, started=started)
    except httpx.HTTPError as exc:
        error = redact(f"{type(exc).__name__}: {exc}", scrub)
        return failure(retryable=True, error=error, started=started)
    except httpx.InvalidURL:
        return failure(retryable=False, error="invalid URL", started=started)
    except OSError as exc:
        error = redact(f"{type(exc).__name__}: {exc}", scrub)
        return failure(retryable=True, error=error, started=started)
    return response


def status_outcome(response: httpx.Response, *, started: float, now: datetime) -> DeliveryOutcome:
    """Classify an HTTP status: 2xx ok; 429 and 5xx retryable (with Retry-After); else permanent."""
    status = response.status_code
    if 200 <= status < 300:
        return success(started=started, status=status)
    retryable = status == 429 or 500 <= status < 600
    retry_after = (
        parse_retry_after(response.headers.get("Retry-After"), now=now) if retryable else None
    )
    return failure(
        retryable=retryable,
        error=f"HTTP {status} {response.reason_phrase}".strip(),
        started=started,
        status=status,
        retry_after_s=retry_after,
    )


def robot_outcome(
    response: httpx.Response,
    *,
    started: float,
    now: datetime,
    platform: str,
    retryable_errcodes: Collection[int],
    throttle_errcodes: Collection[int],
    throttle_wait_s: float,
    secrets: Collection[str | None] = (),
) -> DeliveryOutcome:
    """Classify a robot's answer: the HTTP status first, then the ``errcode`` of a 2xx body.

    ``errcode == 0`` is success; an errcode in ``retryable_errcodes`` is retryable (one in
    ``throttle_errcodes`` also suggests waiting ``throttle_wait_s``); any other errcode is
    permanent. A 2xx body that is not the robot's JSON is retryable (a proxy answered).
    """
    if not 200 <= response.status_code < 300:
        return status_outcome(response, started=started, now=now)
    status = response.status_code
    try:
        reply = msgspec.json.decode(response.content, type=RobotReply)
    except msgspec.DecodeError:
        return failure(
            retryable=True,
            error=f"{platform}: HTTP {status} without a JSON errcode",
            started=started,
            status=status,
        )
    if reply.errcode == 0:
        return success(started=started, status=status)
    retryable = reply.errcode in retryable_errcodes
    return failure(
        retryable=retryable,
        error=redact(f"{platform} errcode {reply.errcode}: {reply.errmsg}", secrets),
        started=started,
        status=status,
        retry_after_s=throttle_wait_s if reply.errcode in throttle_errcodes else None,
    )
