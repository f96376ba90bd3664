"""E-mail over SMTP against a real aiosmtpd server on 127.0.0.1 (plain, STARTTLS, AUTH)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from channel_servers import NOW, STUDENT, assert_minimal, content, free_port

from triage import DeliveryOutcome
from triage.channels import ChannelConfigError, ChannelDelivery, SmtpNotifier, StartTls

SENDER = "润心 <noreply@school.example>"
TO = "counsellor@school.example"
USER, PASSWORD = "runxin", "pw-s3cret-987"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Records messages; answers ``rcpt_reply`` / ``data_reply`` when set."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None
    data_delay_s: float = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay_s:
            await asyncio.sleep(self.data_delay_s)
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                session.ssl is not None,
            )
        )
        return "250 Message accepted for delivery"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Smtp:
    handler: Handler
    port: int


def _serve(**kwargs: Any) -> Iterator[Smtp]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Smtp(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    yield from _serve()


@pytest.fixture
def smtp_auth() -> Iterator[Smtp]:
    yield from _serve(authenticator=authenticator, auth_require_tls=False)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed (needed to make a test certificate)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def smtp_tls(certificate: tuple[Path, Path]) -> Iterator[Smtp]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    yield from _serve(tls_context=context)


def delivery(*, names_enabled: bool = False, address: str | None = TO) -> ChannelDelivery:
    return ChannelDelivery.for_content(content(names_enabled=names_enabled), address=address)


def deliver(
    port: int,
    item: ChannelDelivery | None = None,
    *,
    starttls: StartTls = "auto",
    timeout_s: float = 5.0,
    ssl_context: ssl.SSLContext | None = None,
    **kwargs: Any,
) -> DeliveryOutcome:
    notifier = SmtpNotifier(
        "127.0.0.1",
        port,
        sender=SENDER,
        starttls=starttls,
        timeout_s=timeout_s,
        ssl_context=ssl_context,
        local_hostname="runxin.test",
        **kwargs,
    )
    return asyncio.run(notifier.deliver(item or delivery(), now=NOW))


def test_sends_text_and_html_parts_with_stable_headers(smtp: Smtp) -> None:
    outcome = deliver(smtp.port)
    assert (outcome.ok, outcome.retryable, outcome.error) == (True, False, None)
    [got] = smtp.handler.received
    assert got.mail_from == "noreply@school.example"
    assert got.rcpt_tos == [TO]
    assert not got.tls  # the server offers no STARTTLS; "auto" sends anyway
    message = got.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "【润心】需要关注：红色（一级）"
    assert message["To"] == TO
    assert message["From"].addresses[0].addr_spec == "noreply@school.example"
    assert message["Message-ID"] == "<runxin.dlv_01@school.example>"
    assert message["X-Runxin-Delivery"] == "dlv_01"
    assert message["X-Runxin-Event"] == "case.opened"
    assert message["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(message["Date"]) == NOW
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None and page is not None
    plain, markup = text.get_content(), page.get_content()
    assert "【润心】需要关注：红色（一级）" in plain
    assert "请于 2026-09-07 10:15 前确认" in plain
    assert '<a href="https://runxin.example/cases/c_42">' in markup
    for part in (plain, markup, got.raw.decode("utf-8", "replace")):
        assert_minimal(part)


def test_name_only_when_the_content_carries_it(smtp: Smtp) -> None:
    assert deliver(smtp.port, delivery(names_enabled=True)).ok
    message = smtp.handler.received[0].message
    text = message.get_body(("plain",))
    assert text is not None and STUDENT in text.get_content()


def test_a_retry_carries_the_same_message_id(smtp: Smtp) -> None:
    assert deliver(smtp.port).ok and deliver(smtp.port).ok
    first, second = (r.message for r in smtp.handler.received)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["X-Runxin-Delivery"] == second["X-Runxin-Delivery"] == "dlv_01"


@pytest.mark.parametrize(
    ("where", "reply", "retryable"),
    [
        ("rcpt", "550 5.1.1 Mailbox counsellor@school.example unavailable", False),
        ("rcpt", "450 4.2.1 Mailbox busy, try later", True),
        ("data", "451 4.3.0 Temporary local problem", True),
        ("data", "554 5.7.1 Message rejected", False),
    ],
)
def test_smtp_replies_4xx_retryable_5xx_permanent(
    smtp: Smtp, where: str, reply: str, retryable: bool
) -> None:
    setattr(smtp.handler, f"{where}_reply", reply)
    outcome = deliver(smtp.port)
    assert (outcome.ok, outcome.retryable, outcome.status_code) == (False, retryable, None)
    assert outcome.error is not None and outcome.error.startswith(f"SMTP {reply[:3]}")
    assert TO not in outcome.error  # the recipient's address is redacted
    assert smtp.handler.received == []


def test_a_server_slower_than_the_timeout_is_retryable(smtp: Smtp) -> None:
    smtp.handler.data_delay_s = 2.0
    outcome = deliver(smtp.port, timeout_s=0.3)
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.error is not None and "timeout" in outcome.error
    assert outcome.latency_ms < 2000


def test_refused_connection_is_retryable() -> None:
    outcome = deliver(free_port(), timeout_s=2)
    assert (outcome.ok, outcome.retryable) == (False, True)
    assert outcome.error is not None and "Refused" in outcome.error


def test_require_starttls_refuses_a_server_without_it(smtp: Smtp) -> None:
    outcome = deliver(smtp.port, starttls="require")
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert outcome.error is not None and "STARTTLS" in outcome.error
    assert smtp.handler.received == []


def test_starttls_when_offered(smtp_tls: Smtp, certificate: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    assert deliver(smtp_tls.port, ssl_context=trust).ok
    assert deliver(smtp_tls.port, starttls="require", ssl_context=trust).ok
    assert deliver(smtp_tls.port, starttls="never").ok
    assert [r.tls for r in smtp_tls.handler.received] == [True, True, False]


def test_an_untrusted_certificate_is_permanent(smtp_tls: Smtp) -> None:
    outcome = deliver(smtp_tls.port)  # default context: the self-signed cert is not trusted
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert outcome.error is not None and "certificate" in outcome.error
    assert smtp_tls.handler.received == []


def test_login(smtp_auth: Smtp) -> None:
    assert deliver(smtp_auth.port, username=USER, password=PASSWORD).ok
    wrong = deliver(smtp_auth.port, username=USER, password="wrong-password")
    assert (wrong.ok, wrong.retryable) == (False, False)
    assert wrong.error is not None and wrong.error.startswith("SMTP 535")
    assert len(smtp_auth.handler.received) == 1


def test_login_against_a_server_without_auth_is_permanent(smtp: Smtp) -> None:
    outcome = deliver(smtp.port, username=USER, password=PASSWORD)
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert outcome.error is not None and PASSWORD not in outcome.error


@pytest.mark.parametrize("address", [None, "", "not-an-address", "a@b\r\nBcc: x@y"])
def test_a_missing_or_bad_address_is_permanent_without_connecting(address: str | None) -> None:
    outcome = deliver(free_port(), delivery(address=address))
    assert (outcome.ok, outcome.retryable) == (False, False)
    assert outcome.error == "recipient has no valid e-mail address"


def test_message_id_for_unusual_delivery_ids(smtp: Smtp) -> None:
    odd = ChannelDelivery.for_content(content(delivery_id="dlv:01/x+y"), address=TO)
    assert deliver(smtp.port, odd).ok and deliver(smtp.port, odd).ok
    first, second = (r.message["Message-ID"] for r in smtp.handler.received)
    assert first == second
    assert first.startswith("<runxin.h") and first.endswith("@school.example>")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sender": "no address"}, "sender"),
        ({"sender": "a@b\nBcc: c@d"}, "sender"),
        ({"port": 0}, "port"),
        ({"starttls": "maybe"}, "starttls"),
        ({"password": "x"}, "username"),
        ({"timeout_s": -1}, "timeout_s"),
        ({"host": ""}, "host"),
    ],
)
def test_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    settings: dict[str, Any] = {"host": "smtp.example", "port": 587, "sender": SENDER}
    settings.update(kwargs)
    with pytest.raises(ChannelConfigError, match=match):
        SmtpNotifier(settings.pop("host"), settings.pop("port"), **settings)


def test_repr_hides_credentials() -> None:
    notifier = SmtpNotifier("smtp.example", 587, username=USER, password=PASSWORD, sender=SENDER)
    assert PASSWORD not in repr(notifier) and USER not in repr(notifier)
