"""Webhook delivery (a ChannelNotifier) against a real HTTP server on 127.0.0.1, signatures,
and retry timing."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage import (
    DeliveryOutcome,
    backoff_delay,
    parse_retry_after,
    sign,
    verify_signature,
)
from triage.channels import ChannelConfigError, ChannelDelivery, ChannelNotifier, WebhookNotifier

NOW = datetime(2025, 3, 10, 2, 0, 0, tzinfo=UTC)
SECRET = "whsec_new_0123456789"
OLD_SECRET = "whsec_old_9876543210"


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """What each path answers: (status, extra headers)."""

    routes: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    script: Script

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.script.requests.append(Recorded(self.path, dict(self.headers.items()), body))
        if self.path == "/hang":
            self.script.release.wait(10)
            return
        status, extra = self.script.routes.get(self.path, (404, {}))
        payload = b'{"received": true}'
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    handler = type("ScriptedHandler", (Handler,), {"script": script})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    try:
        yield f"http://{host!s}:{port}", script
    finally:
        script.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def delivery(delivery_id: str = "dlv_01") -> ChannelDelivery:
    return ChannelDelivery(
        delivery_id=delivery_id,
        payload={
            "delivery_id": delivery_id,
            "event": "case.opened",
            "tier": "orange",
            "school": "S-001",
            "class": "7-3",
            "acknowledge_by": "2025-03-10T03:00:00Z",
            "link": "https://runxin.example/cases/c_42",
        },
    )


async def deliver(
    url: str, *, timeout_s: float = 5.0, secret: str = SECRET, delivery_id: str = "dlv_01"
) -> DeliveryOutcome:
    async with httpx.AsyncClient() as client:
        notifier: ChannelNotifier = WebhookNotifier(
            client, url=url, secret=secret, timeout_s=timeout_s
        )
        return await notifier.deliver(delivery(delivery_id), now=NOW)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- delivery -------------------------------------------------------------------------------------


def test_success_sends_signed_json(server: tuple[str, Script]) -> None:
    base, script = server
    script.routes["/hook"] = (200, {})
    outcome = asyncio.run(deliver(f"{base}/hook"))
    assert outcome.ok and not outcome.retryable
    assert outcome.status_code == 200
    assert outcome.error is None and outcome.retry_after_s is None
    assert outcome.latency_ms >= 0

    [request] = script.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["x-runxin-delivery"] == "dlv_01"
    assert headers["x-runxin-event"] == "case.opened"
    assert headers["x-runxin-timestamp"] == str(int(NOW.timestamp()))
    body = msgspec.json.decode(request.body)
    assert body["delivery_id"] == "dlv_01"
    assert body == delivery().payload  # the payload as queued, unchanged
    assert headers["x-runxin-signature"] == sign(SECRET, int(NOW.timestamp()), request.body)

    stamp, signature = headers["x-runxin-timestamp"], headers["x-runxin-signature"]
    now = int(NOW.timestamp())

    def check(secrets: list[str], body: bytes = request.body, at: int = now) -> bool:
        return verify_signature(secrets, timestamp=stamp, signature=signature, body=body, now=at)

    assert check([SECRET])
    assert check([OLD_SECRET, SECRET])  # rotation: the new secret among several
    assert not check([OLD_SECRET])
    assert not check([])
    assert not check([SECRET], body=request.body.replace(b"orange", b"yellow"))
    assert not check([SECRET], at=now + 301)
    assert not check([SECRET], at=now - 301)
    assert check([SECRET], at=now + 300)


def test_the_same_delivery_id_on_every_retry(server: tuple[str, Script]) -> None:
    base, script = server
    script.routes["/hook"] = (500, {})
    asyncio.run(deliver(f"{base}/hook"))
    asyncio.run(deliver(f"{base}/hook"))
    ids = {r.headers["X-Runxin-Delivery"] for r in script.requests}
    assert ids == {"dlv_01"}


def test_old_secret_still_verifies_during_rotation(server: tuple[str, Script]) -> None:
    base, script = server
    script.routes["/hook"] = (204, {})
    assert asyncio.run(deliver(f"{base}/hook", secret=OLD_SECRET)).ok
    [request] = script.requests
    assert verify_signature(
        [SECRET, OLD_SECRET],
        timestamp=request.headers["X-Runxin-Timestamp"],
        signature=request.headers["X-Runxin-Signature"],
        body=request.body,
        now=int(NOW.timestamp()),
    )


def test_server_error_is_retryable(server: tuple[str, Script]) -> None:
    base, script = server
    script.routes["/hook"] = (500, {})
    outcome = asyncio.run(deliver(f"{base}/hook"))
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, True, 500)
    assert outcome.error is not None and "500" in outcome.error
    assert outcome.retry_after_s is None


def test_429_retry_after_seconds(server: tuple[str, Script]) -> None:
    base, script = server
    script.routes["/hook"] = (429, {"Retry-After": "7"})
    outcome = asyncio.run(deliver(f"{base}/hook"))
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, True, 429)
    assert outcome.retry_after_s == 7.0


def test_503_retry_after_http_date_is_relative_to_now(server: tuple[str, Script]) -> None:
    base, script = server
    when = format_datetime(NOW + timedelta(seconds=120), usegmt=True)
    script.routes["/hook"] = (503, {"Retry-After": when})
    outcome = asyncio.run(deliver(f"{base}/hook"))
    assert (outcome.retryable, outcome.status_code) == (True, 503)
    assert outcome.retry_after_s == 120.0


def test_gone_is_permanent(server: tuple[str, Script]) -> None:
    base, script = server
    script.routes["/hook"] = (410, {"Retry-After": "7"})
    outcome = asyncio.run(deliver(f"{base}/hook"))
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, False, 410)
    assert outcome.retry_after_s is None


def test_hang_past_the_timeout_is_retryable(server: tuple[str, Script]) -> None:
    base, script = server
    outcome = asyncio.run(deliver(f"{base}/hang", timeout_s=0.3))
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, True, None)
    assert outcome.error is not None and "timeout" in outcome.error
    assert 250 <= outcome.latency_ms < 5000
    assert len(script.requests) == 1


def test_refused_connection_is_retryable_and_does_not_raise() -> None:
    outcome = asyncio.run(deliver(f"http://127.0.0.1:{free_port()}/hook", timeout_s=2))
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, True, None)
    assert outcome.error is not None and "Connect" in outcome.error


def test_a_non_http_url_is_refused_when_configured() -> None:
    with pytest.raises(ChannelConfigError, match="http"):
        WebhookNotifier(httpx.AsyncClient(), url="ftp://127.0.0.1/hook", secret=SECRET)
    with pytest.raises(ChannelConfigError, match="secret"):
        WebhookNotifier(httpx.AsyncClient(), url="http://127.0.0.1/hook", secret="")


def test_a_payload_that_is_no_case_notice_is_posted_unchanged(server: tuple[str, Script]) -> None:
    base, script = server
    script.routes["/hook"] = (200, {})
    payload = {"delivery_id": "dlv_9", "event": "incident.review_overdue", "tier": None}

    async def run() -> DeliveryOutcome:
        async with httpx.AsyncClient() as client:
            notifier = WebhookNotifier(client, url=f"{base}/hook", secret=SECRET)
            item = ChannelDelivery(delivery_id="dlv_9", payload=payload)
            return await notifier.deliver(item, now=NOW)

    assert asyncio.run(run()).ok
    [request] = script.requests
    assert request.body == msgspec.json.encode(payload)
    assert request.headers["X-Runxin-Event"] == "incident.review_overdue"


def test_transport_errors_from_a_mock_transport() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    async def run() -> DeliveryOutcome:
        async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as client:
            notifier = WebhookNotifier(client, url="http://x/h", secret=SECRET)
            return await notifier.deliver(delivery(), now=NOW)

    outcome = asyncio.run(run())
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.error is not None and "ReadError" in outcome.error


def test_payload_must_carry_the_delivery_id_and_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="delivery_id"):
        ChannelDelivery(delivery_id="dlv_01", payload={"event": "case.opened", "tier": "red"})
    with pytest.raises(ValueError, match="event"):
        ChannelDelivery(delivery_id="dlv_01", payload={"delivery_id": "dlv_01"})

    async def run(now: datetime) -> DeliveryOutcome:
        async with httpx.AsyncClient() as client:
            notifier = WebhookNotifier(client, url="http://x/h", secret=SECRET)
            return await notifier.deliver(delivery(), now=now)

    with pytest.raises(ValueError, match="timezone-aware"):
        asyncio.run(run(NOW.replace(tzinfo=None)))
    with pytest.raises(ValueError, match="timeout_s"):
        WebhookNotifier(httpx.AsyncClient(), url="http://x/h", secret=SECRET, timeout_s=0)


def test_repr_hides_the_secret_and_url() -> None:
    notifier = WebhookNotifier(
        httpx.AsyncClient(), url="https://hooks.example/abc?key=topsecret", secret=SECRET
    )
    text = repr(notifier) + repr(delivery())
    assert SECRET not in text and "topsecret" not in text
    assert "dlv_01" in text


# -- signatures --------------------------------------------------------------------------------


def test_sign_matches_the_documented_scheme() -> None:
    import hashlib
    import hmac

    body = b'{"delivery_id":"d1"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1700000000, body) == "v1=" + expected


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "-5", "1700000000.5", " 1700000000", "99999999999999999999"]
)
def test_malformed_timestamps_fail(timestamp: str) -> None:
    body = b"{}"
    signature = sign(SECRET, 1700000000, body)
    assert not verify_signature(
        [SECRET], timestamp=timestamp, signature=signature, body=body, now=1700000000
    )


def test_non_ascii_signature_fails_cleanly() -> None:
    assert not verify_signature(
        [SECRET], timestamp="1700000000", signature="v1=签名", body=b"{}", now=1700000000
    )


# -- retry timing ------------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0
    assert parse_retry_after(None, now=NOW) is None
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(format_datetime(NOW - timedelta(hours=1), usegmt=True), now=NOW) == 0


@given(
    st.integers(1, 200),
    st.integers(0, 2**32),
    st.one_of(st.none(), st.floats(0, 10**6, allow_nan=False)),
)
def test_backoff_is_jittered_exponential_and_honours_retry_after(
    attempt: int, seed: int, retry_after: float | None
) -> None:
    delay = backoff_delay(attempt, rng=random.Random(seed), retry_after_s=retry_after)
    ceiling = min(300.0, 2.0 * 2 ** min(attempt - 1, 64))
    floor = 0.0 if retry_after is None else min(retry_after, 3600.0)
    assert 0.0 <= delay <= max(ceiling, floor)
    assert delay >= floor


def test_backoff_is_deterministic_for_a_seed_and_jittered() -> None:
    delays = [backoff_delay(3, rng=random.Random(s)) for s in range(50)]
    assert all(0 <= d <= 8 for d in delays)
    assert len(set(delays)) > 40
    assert backoff_delay(3, rng=random.Random(1)) == backoff_delay(3, rng=random.Random(1))
    assert backoff_delay(5, rng=random.Random(1), retry_after_s=30) >= 30
    assert backoff_delay(1, rng=random.Random(1), retry_after_s=10**9) == 3600


@pytest.mark.parametrize(
    "kwargs",
    [{"attempt": 0}, {"attempt": 1, "base_s": -1}, {"attempt": 1, "retry_after_s": -1.0}],
)
def test_backoff_rejects_bad_input(kwargs: dict[str, float]) -> None:
    attempt = int(kwargs.pop("attempt"))
    with pytest.raises(ValueError):
        backoff_delay(attempt, rng=random.Random(0), **kwargs)
