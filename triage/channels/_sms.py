"""SMS through a gateway webhook: a JSON body rendered from a configurable template.

Gateways differ in the field names they want, so the body is a JSON template whose string
values may hold placeholders: ``{phone}`` (the recipient's number), ``{delivery_id}``,
``{tier}`` (``红色（一级）``), ``{school}``, ``{class}``, ``{deadline}`` (school time, to the
minute), ``{link}`` and ``{text}`` (the standard short SMS text). ``{{`` and ``}}`` are
literal braces. The default template is :data:`DEFAULT_SMS_TEMPLATE`.

A campaign reminder (:class:`~triage.channels.CampaignReminder`) fills the same template:
``{tier}`` is empty, ``{class}`` lists its classes, ``{deadline}`` is when the screening
closes and ``{text}`` is the reminder's short text.

An SMS never carries the student's name, whatever the content holds: it passes through the
gateway and the carrier, and sits on a phone's lock screen.

Each request carries ``X-Runxin-Delivery`` (the gateway may de-duplicate on it) and, when a
secret is configured, ``X-Runxin-Timestamp`` and ``X-Runxin-Signature`` exactly as the
generic webhook (:func:`triage.sign`). Classification: 2xx ok; 429 and 5xx (with
``Retry-After``), timeouts and connection errors retryable; other statuses permanent; a
missing or malformed phone number is permanent (the dispatcher falls back).
"""

from __future__ import annotations

import math
import re
import string
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
import msgspec

from triage._calendar import require_aware
from triage._notify import DeliveryOutcome, sign
from triage.channels._base import ChannelConfigError, ChannelDelivery, check_timeout, failure
from triage.channels._http import check_http_url, post_json, status_outcome
from triage.channels._message import (
    Lang,
    NotificationContent,
    _clean,
    format_deadline,
    tier_label,
)
from triage.channels._notice import CampaignReminder, MessageContent, render_reminder_sms

__all__ = [
    "DEFAULT_SMS_TEMPLATE",
    "SMS_PLACEHOLDERS",
    "SmsGatewayNotifier",
    "render_sms_body",
    "render_sms_text",
    "validate_sms_template",
]

#: Placeholders a template may use.
SMS_PLACEHOLDERS = frozenset(
    {"phone", "delivery_id", "tier", "school", "class", "deadline", "link", "text"}
)
#: Body sent when a channel names no template.
DEFAULT_SMS_TEMPLATE: Mapping[str, Any] = {
    "to": "{phone}",
    "text": "{text}",
    "delivery_id": "{delivery_id}",
}
_PHONE_RE = re.compile(r"\+?[0-9]{5,15}")
_FORMATTER = string.Formatter()
_MAX_DEPTH = 8


def _placeholders(template: str, where: str) -> set[str]:
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ChannelConfigError(f"SMS template {where}: {exc}") from None
    found: set[str] = set()
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in SMS_PLACEHOLDERS:
            raise ChannelConfigError(
                f"SMS template {where}: unknown placeholder {{{field}}}; "
                f"allowed: {', '.join(sorted(SMS_PLACEHOLDERS))}"
            )
        if spec or conversion:
            raise ChannelConfigError(
                f"SMS template {where}: placeholder {{{field}}} must not carry a format "
                "spec or conversion"
            )
        found.add(field)
    return found


def validate_sms_template(template: Mapping[str, Any]) -> Mapping[str, Any]:
    """Check a body template; return it unchanged.

    Raises
    ------
    ChannelConfigError
        If the template is not a JSON object of JSON values, a string uses an unknown
        placeholder (the message names it), a format spec or conversion, unbalanced braces,
        or no string uses ``{phone}``.
    """
    if not isinstance(template, Mapping) or not template:
        raise ChannelConfigError("SMS template must be a non-empty JSON object")
    used: set[str] = set()

    def walk(value: Any, where: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise ChannelConfigError(f"SMS template {where}: nested too deep")
        if isinstance(value, str):
            used.update(_placeholders(value, where))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ChannelConfigError(f"SMS template {where}: keys must be strings")
                walk(item, f"{where}.{key}", depth + 1)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]", depth + 1)
        elif not (
            value is None
            or isinstance(value, bool | int)
            or (isinstance(value, float) and math.isfinite(value))
        ):
            raise ChannelConfigError(
                f"SMS template {where}: {type(value).__name__} is not a JSON value"
            )

    walk(template, "$", 0)
    if "phone" not in used:
        raise ChannelConfigError("SMS template must use {phone} somewhere")
    return template


def render_sms_text(content: MessageContent, lang: Lang = "zh-CN") -> str:
    """The standard short SMS text, never with the student's name.

    ``【润心】七年级3班（XX中学）有学生需要关注：红色（一级），请于 2026-09-07 10:15 前确认。``
    followed by the link; a campaign reminder's text is
    :func:`~triage.channels._notice.render_reminder_sms`.
    """
    if isinstance(content, CampaignReminder):
        return render_reminder_sms(content, lang)
    return _case_sms_text(content, lang)


def _case_sms_text(content: NotificationContent, lang: Lang) -> str:
    place = _clean(content.school_name, limit=24)
    tier = tier_label(content.tier, lang)
    when = format_deadline(content.deadline, lang, tz=content.timezone)
    if lang == "zh-CN":
        if content.class_name is not None:
            place = f"{_clean(content.class_name, limit=16)}（{place}）"
        verb = {"acknowledge": "确认", "contact": "联系家长", "assess": "完成评估"}[content.action]
        return f"【润心】{place}有学生需要关注：{tier}，请于 {when} 前{verb}。{content.link}"
    if content.class_name is not None:
        place = f"{_clean(content.class_name, limit=16)}, {place}"
    verb = {"acknowledge": "acknowledge", "contact": "contact the guardian", "assess": "assess"}[
        content.action
    ]
    return (
        f"[Runxin] A student in {place} needs attention: {tier}. "
        f"Please {verb} by {when}. {content.link}"
    )


def _reminder_values(content: CampaignReminder, lang: Lang) -> dict[str, str]:
    return {
        "tier": "",
        "school": _clean(content.school_name),
        "class": ("、" if lang == "zh-CN" else ", ").join(_clean(c.name) for c in content.classes),
        "deadline": format_deadline(content.closes_at, lang, tz=content.timezone),
    }


def render_sms_body(
    template: Mapping[str, Any], content: MessageContent, *, phone: str, lang: Lang = "zh-CN"
) -> dict[str, Any]:
    """Fill a (validated) template for ``content``; the name is never available to it."""
    content = content.without_name()
    if isinstance(content, CampaignReminder):
        fields = _reminder_values(content, lang)
    else:
        fields = {
            "tier": tier_label(content.tier, lang),
            "school": _clean(content.school_name),
            "class": "" if content.class_name is None else _clean(content.class_name),
            "deadline": format_deadline(content.deadline, lang, tz=content.timezone),
        }
    values = {
        "phone": phone,
        "delivery_id": content.delivery_id,
        **fields,
        "link": content.link,
        "text": render_sms_text(content, lang),
    }

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format_map(values)
        if isinstance(value, Mapping):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [fill(item) for item in value]
        return value

    body: dict[str, Any] = fill(template)
    return body


def _phone(address: str | None) -> str | None:
    if address is None:
        return None
    compact = "".join(ch for ch in address if ch not in " -()")
    return compact if _PHONE_RE.fullmatch(compact) else None


class SmsGatewayNotifier:
    """Send SMS through an HTTP gateway that takes a JSON ``POST``.

    Parameters
    ----------
    client : httpx.AsyncClient
        Client to send with (owned by the caller).
    url : str
        The gateway's endpoint (may embed a token: never in ``repr`` or error texts).
    template : mapping
        JSON body template (see the module docs); validated here.
    timeout_s : float
        Timeout of each attempt, in seconds (0 < ``timeout_s`` <= 120).
    secret : str or None
        When given, requests are signed like the generic webhook.
    headers : mapping of str to str or None
        Extra headers (e.g. ``Authorization``); hidden from ``repr``.
    lang : {"zh-CN", "en"}
        Language of the rendered values.

    Raises
    ------
    ChannelConfigError
        If the URL, the template (an unknown placeholder is named), the timeout or the
        headers are invalid.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str,
        template: Mapping[str, Any] = DEFAULT_SMS_TEMPLATE,
        timeout_s: float = 10.0,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        lang: Lang = "zh-CN",
    ) -> None:
        self._url = check_http_url(url, what="SMS gateway")
        self._template = validate_sms_template(template)
        if lang not in ("zh-CN", "en"):
            raise ChannelConfigError(f"lang must be 'zh-CN' or 'en', got {lang!r}")
        if secret is not None and not secret:
            raise ChannelConfigError("SMS gateway secret must be non-empty or None")
        extra = dict(headers or {})
        for name, value in extra.items():
            if not isinstance(name, str) or not isinstance(value, str):
                raise ChannelConfigError("SMS gateway headers must map strings to strings")
            if name.lower().startswith("x-runxin-") or name.lower() == "content-type":
                raise ChannelConfigError(f"SMS gateway header {name!r} is set by Runxin")
            if any(ch in name + value for ch in "\r\n"):
                raise ChannelConfigError(f"SMS gateway header {name!r} must be one line")
        self._client = client
        self._timeout = httpx.Timeout(check_timeout(timeout_s))
        self._secret = secret
        self._headers = extra
        self._lang: Lang = lang

    def __repr__(self) -> str:
        return (
            f"SmsGatewayNotifier(url=<hidden>, headers=<{len(self._headers)} hidden>, "
            f"signed={self._secret is not None})"
        )

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Attempt one delivery.

        Parameters
        ----------
        delivery : ChannelDelivery
            What to send; ``address`` is the recipient's phone number (digits, optional
            leading ``+``; spaces, hyphens and parentheses are ignored).
        now : datetime
            Aware current instant (the signature's timestamp, the date of ``Retry-After``).

        Returns
        -------
        DeliveryOutcome

        Raises
        ------
        ValueError
            If ``now`` is naive or the delivery carries no content.
        """
        require_aware(now, "now")
        started = time.perf_counter()
        phone = _phone(delivery.address)
        if phone is None:
            return failure(
                retryable=False, error="recipient has no valid phone number", started=started
            )
        body = msgspec.json.encode(
            render_sms_body(self._template, delivery.required_content, phone=phone, lang=self._lang)
        )
        headers = {**self._headers, "X-Runxin-Delivery": delivery.delivery_id}
        if self._secret is not None:
            timestamp = math.floor(now.timestamp())
            headers["X-Runxin-Timestamp"] = str(timestamp)
            headers["X-Runxin-Signature"] = sign(self._secret, timestamp, body)
        result = await post_json(
            self._client,
            self._url,
            body,
            headers=headers,
            timeout=self._timeout,
            started=started,
            secrets=(self._secret, phone, *self._headers.values()),
        )
        if isinstance(result, DeliveryOutcome):
            return result
        return status_outcome(result, started=started, now=now)
