"""E-mail delivery over SMTP (stdlib ``smtplib`` in a worker thread), STARTTLS where offered.

Each message is ``multipart/alternative`` with a plain-text and an HTML part, a
``Message-ID`` derived from the delivery id (a retry carries the same id, so a mailbox or a
person can recognise a duplicate), and ``X-Runxin-Delivery`` / ``X-Runxin-Event`` headers.

Classification: connection errors, timeouts, a dropped connection and 4xx replies (RFC 5321
"transient negative completion") are retryable; 5xx replies ("permanent negative completion",
e.g. 550 mailbox unavailable, 535 authentication failed), a server without STARTTLS under
``starttls="require"``, an unsupported command and a certificate that does not verify are
permanent. ``DeliveryOutcome.status_code`` stays ``None`` (it holds HTTP statuses); the SMTP
reply code leads the ``error`` text (``"SMTP 550 ..."``).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import smtplib
import ssl
import time
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal

from triage._calendar import require_aware
from triage._notify import DeliveryOutcome
from triage.channels._base import (
    ChannelConfigError,
    ChannelDelivery,
    check_timeout,
    failure,
    redact,
    success,
)
from triage.channels._message import Lang
from triage.channels._notice import render_html, render_text, render_title

__all__ = ["SmtpNotifier", "StartTls", "build_email", "message_id_for"]

#: STARTTLS policy: upgrade when offered, insist on it, or never upgrade.
StartTls = Literal["auto", "require", "never"]

_ADDRESS_RE = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+")
_DOT_ATOM_RE = re.compile(r"[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}")


class _StartTlsMissing(Exception):
    """The server did not offer STARTTLS and the notifier requires it."""


def _address(value: str, what: str) -> str:
    """The bare address of ``value`` (``"Name <a@b>"`` or ``"a@b"``), or raise."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise ChannelConfigError(f"{what} must be a one-line e-mail address")
    bare = parseaddr(value)[1]
    if _ADDRESS_RE.fullmatch(bare) is None:
        raise ChannelConfigError(f"{what} is not an e-mail address: {value!r}")
    return bare


def message_id_for(delivery_id: str, sender: str) -> str:
    """``<runxin.{delivery_id}@{sender's domain}>``, identical for every retry.

    A delivery id that is not a dot-atom of at most 64-character parts is replaced by
    ``h`` + the first 32 hex digits of its SHA-256, so the id stays valid and stable.
    """
    domain = parseaddr(sender)[1].rpartition("@")[2] or "runxin.invalid"
    local = delivery_id
    if _DOT_ATOM_RE.fullmatch(delivery_id) is None:
        local = "h" + hashlib.sha256(delivery_id.encode("utf-8")).hexdigest()[:32]
    return f"<runxin.{local}@{domain}>"


def build_email(
    delivery: ChannelDelivery, *, sender: str, to: str, now: datetime, lang: Lang = "zh-CN"
) -> EmailMessage:
    """The message sent for ``delivery``: ``multipart/alternative`` of text and HTML.

    Parameters
    ----------
    delivery : ChannelDelivery
        What to send: a case notice or a campaign reminder.
    sender : str
        ``From`` (``"润心 <noreply@school.example>"`` or a bare address).
    to : str
        The recipient's address.
    now : datetime
        Aware instant written as ``Date``.
    lang : {"zh-CN", "en"}
        Language of subject and body.

    Returns
    -------
    EmailMessage
    """
    require_aware(now, "now")
    content = delivery.required_content
    message = EmailMessage()
    message["Subject"] = render_title(content, lang)
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id_for(delivery.delivery_id, sender)
    message["X-Runxin-Delivery"] = delivery.delivery_id
    message["X-Runxin-Event"] = content.event
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = lang
    message.set_content(render_text(content, lang), charset="utf-8")
    message.add_alternative(render_html(content, lang), subtype="html", charset="utf-8")
    return message


class SmtpNotifier:
    """Send notifications by e-mail through one SMTP server.

    Parameters
    ----------
    host : str
        SMTP server (a submission server, usually port 587).
    port : int
        Its port.
    username, password : str or None
        Credentials; ``AUTH`` is used only when ``username`` is given.
    sender : str
        ``From`` address, e.g. ``"润心 <noreply@school.example>"``.
    starttls : {"auto", "require", "never"}
        ``auto`` upgrades with STARTTLS when the server offers it; ``require`` refuses to send
        (a permanent failure) when it does not; ``never`` sends in clear text.
    timeout_s : float
        Timeout of every socket operation, in seconds (0 < ``timeout_s`` <= 120).
    lang : {"zh-CN", "en"}
        Language of the message.
    ssl_context : ssl.SSLContext or None
        Context for STARTTLS; ``None`` uses ``ssl.create_default_context()`` (verifies the
        server's certificate and host name).
    local_hostname : str or None
        Name given in ``EHLO``; ``None`` lets ``smtplib`` use this host's FQDN.

    Raises
    ------
    ChannelConfigError
        On a bad host, port, sender, STARTTLS mode, timeout, or a password without a username.

    Notes
    -----
    ``delivery.address`` is the recipient's e-mail address; a missing or malformed one is a
    permanent failure (the dispatcher falls back). The student's name is included only when
    the content carries it (the school enabled names for this channel).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        sender: str,
        starttls: StartTls = "auto",
        timeout_s: float = 10.0,
        lang: Lang = "zh-CN",
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if not isinstance(host, str) or not host or any(ch.isspace() for ch in host):
            raise ChannelConfigError(f"SMTP host must be a host name, got {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ChannelConfigError(f"SMTP port must be in 1..65535, got {port!r}")
        if starttls not in ("auto", "require", "never"):
            raise ChannelConfigError(
                f"starttls must be 'auto', 'require' or 'never', got {starttls!r}"
            )
        if password is not None and username is None:
            raise ChannelConfigError("an SMTP password needs a username")
        if lang not in ("zh-CN", "en"):
            raise ChannelConfigError(f"lang must be 'zh-CN' or 'en', got {lang!r}")
        self._sender_address = _address(sender, "sender")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._sender = sender
        self._starttls: StartTls = starttls
        self._timeout_s = check_timeout(timeout_s)
        self._lang: Lang = lang
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname

    def __repr__(self) -> str:
        return (
            f"SmtpNotifier(host={self._host!r}, port={self._port}, starttls={self._starttls!r}, "
            f"username={'<hidden>' if self._username else None}, password=<hidden>)"
        )

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery (the blocking SMTP dialogue runs in a worker thread).

        Parameters
        ----------
        delivery : ChannelDelivery
            What to send; ``address`` is the recipient's e-mail address.
        now : datetime
            Aware current instant (the ``Date`` header).

        Returns
        -------
        DeliveryOutcome
            Failures are outcomes, never exceptions.

        Raises
        ------
        ValueError
            If ``now`` is naive or the delivery carries no content.
        """
        require_aware(now, "now")
        started = time.perf_counter()
        try:
            to = _address(delivery.address or "", "recipient address")
        except ChannelConfigError:
            return failure(
                retryable=False, error="recipient has no valid e-mail address", started=started
            )
        message = build_email(delivery, sender=self._sender, to=to, now=now, lang=self._lang)
        scrub = (to, self._username, self._password)
        try:
            await asyncio.to_thread(self._send, message, to)
        except _StartTlsMissing:
            return failure(
                retryable=False,
                error="SMTP server does not offer STARTTLS (starttls='require')",
                started=started,
            )
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            return _reply_failure(code, reply, started=started, scrub=scrub)
        except smtplib.SMTPResponseException as exc:
            return _reply_failure(exc.smtp_code, exc.smtp_error, started=started, scrub=scrub)
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):  # smtplib re-raises a read timeout so
                return failure(retryable=True, error="timeout (SMTP)", started=started)
            error = redact(f"SMTP connection lost: {exc}", scrub)
            return failure(retryable=True, error=error, started=started)
        except smtplib.SMTPException as exc:
            # SMTPNotSupportedError, "no suitable authentication method", ...: configuration.
            error = redact(f"{type(exc).__name__}: {exc}", scrub)
            return failure(retryable=False, error=error, started=started)
        except TimeoutError:
            return failure(retryable=True, error="timeout (SMTP)", started=started)
        except ssl.SSLCertVerificationError as exc:
            error = redact(f"TLS certificate not verified: {exc.verify_message}", scrub)
            return failure(retryable=False, error=error, started=started)
        except OSError as exc:
            error = redact(f"{type(exc).__name__}: {exc}", scrub)
            return failure(retryable=True, error=error, started=started)
        return success(started=started)

    def _send(self, message: EmailMessage, to: str) -> None:
        """The blocking SMTP dialogue (runs in a worker thread)."""
        # Connects and reads the greeting (SMTPConnectError unless 220); it also keeps the host
        # name that STARTTLS checks the certificate against.
        smtp = smtplib.SMTP(
            self._host, self._port, timeout=self._timeout_s, local_hostname=self._local_hostname
        )
        try:
            smtp.ehlo()
            if self._starttls != "never":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                elif self._starttls == "require":
                    raise _StartTlsMissing
            if self._username is not None:
                smtp.login(self._username, self._password or "")
            smtp.send_message(message, from_addr=self._sender_address, to_addrs=[to])
        except BaseException:
            smtp.close()
            raise
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _reply_failure(
    code: int, reply: bytes | str, *, started: float, scrub: tuple[str | None, ...]
) -> DeliveryOutcome:
    """4xx replies are retryable, 5xx permanent; anything else (no code) retryable."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    error = redact(f"SMTP {code} {' '.join(text.split())}".strip(), scrub)
    return failure(retryable=not 500 <= code < 600, error=error, started=started)
