"""Per-school channel configuration: tagged channel Structs, routes per role, the factory.

A school's configuration is JSON like::

    {"routes": [
      {"role": "counsellor", "channels": [
        {"type": "inapp", "name": "queue", "names_enabled": true},
        {"type": "wecom", "name": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"},
        {"type": "sms", "name": "sms", "url": "https://sms.example/send", "timeout_s": 5}
      ]},
      {"role": "school_lead", "channels": [
        {"type": "email", "name": "mail", "host": "smtp.school.example", "port": 587,
         "sender": "润心 <noreply@school.example>", "username": "runxin", "password": "…",
         "fallback": "ding"},
        {"type": "dingtalk", "name": "ding",
         "url": "https://oapi.dingtalk.com/robot/send?access_token=T", "secret": "SEC…"}
      ]}
    ]}

The first channel of a route is the primary. When a channel fails for good, the next one is its
``fallback`` if it names one, else the channel after it in the list (:func:`next_channel`);
fallback chains may not loop. Names may be enabled (``names_enabled``) only on internal
channels (``inapp``, ``email``, ``webhook``): never on the WeCom/DingTalk group robots or SMS.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar

import httpx
import msgspec

from triage.channels._base import ChannelConfigError, ChannelNotifier, check_timeout
from triage.channels._dingtalk import DingTalkRobotNotifier, check_dingtalk_url
from triage.channels._email import SmtpNotifier, StartTls
from triage.channels._http import check_http_url
from triage.channels._inapp import InAppNotifier, InAppSink
from triage.channels._message import Lang
from triage.channels._sms import DEFAULT_SMS_TEMPLATE, SmsGatewayNotifier, validate_sms_template
from triage.channels._webhook import WebhookNotifier
from triage.channels._wecom import WeComRobotNotifier

__all__ = [
    "AddressKind",
    "ChannelConfig",
    "DingTalkChannel",
    "EmailChannel",
    "InAppChannel",
    "RecipientRoute",
    "SchoolChannels",
    "SmsChannel",
    "UnconfiguredChannel",
    "WeComChannel",
    "WebhookChannel",
    "build_notifier",
    "next_channel",
    "parse_route",
    "parse_school_channels",
]

#: Which of a recipient's addresses a channel needs.
AddressKind = Literal["email", "phone", "user_id"]

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_ROLE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class _Channel(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="type"
):
    """Settings every channel has.

    Parameters
    ----------
    name : str
        Unique name of the channel within its route (``[a-z0-9][a-z0-9_-]*``).
    fallback : str or None
        Name of the channel to use when this one fails for good; ``None`` means the next
        channel in the route.
    timeout_s : float
        Timeout of one attempt, in seconds (0 < ``timeout_s`` <= 120).
    lang : {"zh-CN", "en"}
        Language of the messages.
    names_enabled : bool
        The school enabled the student's name on this channel (internal channels only).
    """

    name: str
    fallback: str | None = None
    timeout_s: float = 10.0
    lang: Lang = "zh-CN"
    names_enabled: bool = False

    #: The recipient address the channel needs, if any.
    address_kind: ClassVar[AddressKind | None] = None
    #: Whether the school may enable names on it.
    internal: ClassVar[bool] = False
    #: Fields never shown by ``repr``.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or _NAME_RE.fullmatch(self.name) is None:
            raise ChannelConfigError(
                f"channel name must match [a-z0-9][a-z0-9_-]* (≤ 64), got {self.name!r}"
            )
        if self.fallback is not None and _NAME_RE.fullmatch(self.fallback) is None:
            raise ChannelConfigError(f"channel {self.name!r}: bad fallback {self.fallback!r}")
        if self.fallback == self.name:
            raise ChannelConfigError(f"channel {self.name!r} cannot fall back to itself")
        check_timeout(self.timeout_s)
        if self.lang not in ("zh-CN", "en"):
            raise ChannelConfigError(f"channel {self.name!r}: lang must be 'zh-CN' or 'en'")
        if not isinstance(self.names_enabled, bool):
            raise ChannelConfigError(f"channel {self.name!r}: names_enabled must be a boolean")
        if self.names_enabled and not self.internal:
            raise ChannelConfigError(
                f"channel {self.name!r}: names can be enabled only on internal channels "
                f"(inapp, email, webhook), not on {self.type!r}"
            )
        self._validate()

    def _validate(self) -> None:
        """Channel-specific checks (raise ``ChannelConfigError``)."""

    @property
    def type(self) -> str:
        """The channel's tag (``"wecom"``, ``"email"``, ...)."""
        return str(type(self).__struct_config__.tag)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{field}=<hidden>"
            if field in self.secret_fields and getattr(self, field)
            else f"{field}={getattr(self, field)!r}"
            for field in self.__struct_fields__
        )
        return f"{type(self).__name__}({shown})"


class WebhookChannel(_Channel, tag="webhook", frozen=True):
    """The generic signed JSON webhook (``url``, signing ``secret``)."""

    url: str
    secret: str

    internal: ClassVar[bool] = True
    secret_fields: ClassVar[frozenset[str]] = frozenset({"url", "secret"})

    def _validate(self) -> None:
        check_http_url(self.url, what="webhook")
        if not self.secret:
            raise ChannelConfigError(f"channel {self.name!r}: webhook secret must be non-empty")


class WeComChannel(_Channel, tag="wecom", frozen=True):
    """A WeCom group robot (``url`` of the ``…/webhook/send?key=KEY`` form)."""

    url: str

    secret_fields: ClassVar[frozenset[str]] = frozenset({"url"})

    def _validate(self) -> None:
        check_http_url(self.url, what="WeCom robot", query_key="key")


class DingTalkChannel(_Channel, tag="dingtalk", frozen=True):
    """A DingTalk custom robot (``url`` with ``access_token=``; optional "加签" ``secret``)."""

    url: str
    secret: str | None = None

    secret_fields: ClassVar[frozenset[str]] = frozenset({"url", "secret"})

    def _validate(self) -> None:
        check_dingtalk_url(self.url)
        if self.secret is not None and not self.secret.strip():
            raise ChannelConfigError(f"channel {self.name!r}: DingTalk secret must be non-empty")


class EmailChannel(_Channel, tag="email", frozen=True):
    """E-mail through an SMTP server (see :class:`SmtpNotifier` for the fields)."""

    host: str
    sender: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: StartTls = "auto"
    local_hostname: str | None = None

    address_kind: ClassVar[AddressKind | None] = "email"
    internal: ClassVar[bool] = True
    secret_fields: ClassVar[frozenset[str]] = frozenset({"username", "password"})

    def _validate(self) -> None:
        SmtpNotifier(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            sender=self.sender,
            starttls=self.starttls,
            timeout_s=self.timeout_s,
            lang=self.lang,
        )


class SmsChannel(_Channel, tag="sms", frozen=True):
    """SMS through a gateway webhook (``url``, JSON body ``template``, optional signing)."""

    url: str
    template: dict[str, Any] = msgspec.field(default_factory=lambda: dict(DEFAULT_SMS_TEMPLATE))
    secret: str | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)

    address_kind: ClassVar[AddressKind | None] = "phone"
    secret_fields: ClassVar[frozenset[str]] = frozenset({"url", "secret", "headers"})

    def _validate(self) -> None:
        check_http_url(self.url, what="SMS gateway")
        validate_sms_template(self.template)
        if self.secret is not None and not self.secret:
            raise ChannelConfigError(f"channel {self.name!r}: SMS secret must be non-empty")


class InAppChannel(_Channel, tag="inapp", frozen=True):
    """The recipient's queue in Runxin."""

    address_kind: ClassVar[AddressKind | None] = "user_id"
    internal: ClassVar[bool] = True


class UnconfiguredChannel(_Channel, tag="unconfigured", frozen=True):
    """No channel: the default route of a role whose school (and district) set no webhook.

    Rows are still queued on it, so nothing is dropped silently: the dispatcher fails them
    over without an attempt (the fallback, the next role up the ladder, an operator alert).
    A school cannot configure it (:func:`parse_school_channels` refuses the type).
    """


#: One recipient channel: a tagged union on ``"type"``.
ChannelConfig = (
    WebhookChannel
    | WeComChannel
    | DingTalkChannel
    | EmailChannel
    | SmsChannel
    | InAppChannel
    | UnconfiguredChannel
)


class RecipientRoute(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The channels one role is notified on, primary first.

    Parameters
    ----------
    role : str
        Recipient role (``"counsellor"``, ``"school_lead"``, ``"district_officer"`` ...).
    channels : tuple of ChannelConfig
        Ordered channels; names unique, fallbacks known, fallback chains loop-free.

    Raises
    ------
    ChannelConfigError
        If any of that does not hold.
    """

    role: str
    channels: tuple[ChannelConfig, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.role, str) or _ROLE_RE.fullmatch(self.role) is None:
            raise ChannelConfigError(f"role must be a snake_case name, got {self.role!r}")
        if not self.channels:
            raise ChannelConfigError(f"route {self.role!r} has no channels")
        names = [channel.name for channel in self.channels]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ChannelConfigError(f"route {self.role!r} repeats channel names {duplicates}")
        for channel in self.channels:
            if channel.fallback is not None and channel.fallback not in names:
                raise ChannelConfigError(
                    f"route {self.role!r}: channel {channel.name!r} falls back to unknown "
                    f"channel {channel.fallback!r}"
                )
        for start in self.channels:
            seen = [start.name]
            following = next_channel(self, start)
            while following is not None:
                if following.name in seen:
                    chain = " → ".join([*seen, following.name])
                    raise ChannelConfigError(f"route {self.role!r}: fallbacks loop: {chain}")
                seen.append(following.name)
                following = next_channel(self, following)

    @property
    def primary(self) -> ChannelConfig:
        """The first channel."""
        return self.channels[0]

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name``; ``KeyError`` if there is none."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(f"route {self.role!r} has no channel {name!r}")


class SchoolChannels(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A school's notification routes, one per role.

    Raises
    ------
    ChannelConfigError
        If a role has two routes.
    """

    routes: tuple[RecipientRoute, ...]

    def __post_init__(self) -> None:
        roles = [route.role for route in self.routes]
        duplicates = sorted({role for role in roles if roles.count(role) > 1})
        if duplicates:
            raise ChannelConfigError(f"roles with more than one route: {duplicates}")

    def route_for(self, role: str) -> RecipientRoute | None:
        """The route of ``role``, or ``None`` when the school configured none."""
        return next((route for route in self.routes if route.role == role), None)


def next_channel(route: RecipientRoute, failed_channel: str | _Channel) -> ChannelConfig | None:
    """Where to go after ``failed_channel`` failed for good (or exhausted its retries).

    Parameters
    ----------
    route : RecipientRoute
        The recipient's route.
    failed_channel : str or ChannelConfig
        The channel (or its name) that failed.

    Returns
    -------
    ChannelConfig or None
        Its ``fallback`` if it names one, else the next channel in the route; ``None`` when
        there is none (the dispatcher then escalates; nothing is dropped).

    Raises
    ------
    KeyError
        If the route has no such channel.
    """
    name = failed_channel if isinstance(failed_channel, str) else failed_channel.name
    for index, channel in enumerate(route.channels):
        if channel.name == name:
            if channel.fallback is not None:
                return route.channel(channel.fallback)
            return route.channels[index + 1] if index + 1 < len(route.channels) else None
    raise KeyError(f"route {route.role!r} has no channel {name!r}")


_T = TypeVar("_T", RecipientRoute, SchoolChannels)


def _parse(data: bytes | str | Mapping[str, Any], kind: type[_T]) -> _T:
    try:
        if isinstance(data, bytes | str):
            parsed = msgspec.json.decode(data, type=kind)
        else:
            parsed = msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise ChannelConfigError(f"bad channel configuration: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ChannelConfigError(f"channel configuration is not JSON: {exc}") from None
    routes = parsed.routes if isinstance(parsed, SchoolChannels) else (parsed,)
    for route in routes:
        for channel in route.channels:
            if isinstance(channel, UnconfiguredChannel):
                raise ChannelConfigError(
                    f"route {route.role!r}: channel {channel.name!r} has an unknown type "
                    f"{channel.type!r}"
                )
    return parsed


def parse_school_channels(data: bytes | str | Mapping[str, Any]) -> SchoolChannels:
    """Decode and validate a school's configuration (JSON text or already-decoded mapping).

    Raises
    ------
    ChannelConfigError
        On unknown fields or types, bad values, or inconsistent routes.
    """
    return _parse(data, SchoolChannels)


def parse_route(data: bytes | str | Mapping[str, Any]) -> RecipientRoute:
    """Decode and validate one route (see :func:`parse_school_channels`)."""
    return _parse(data, RecipientRoute)


def build_notifier(
    config: ChannelConfig,
    *,
    client: httpx.AsyncClient,
    inapp_sink: InAppSink | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> ChannelNotifier:
    """The adapter for one configured channel.

    Parameters
    ----------
    config : ChannelConfig
        The channel.
    client : httpx.AsyncClient
        Shared HTTP client (webhook, WeCom, DingTalk, SMS).
    inapp_sink : callable or None
        The service's queue writer; required for ``inapp`` channels.
    ssl_context : ssl.SSLContext or None
        STARTTLS context for ``email`` channels (``None``: the system's default trust).

    Returns
    -------
    ChannelNotifier

    Raises
    ------
    ChannelConfigError
        If an ``inapp`` channel has no sink, the channel is an :class:`UnconfiguredChannel`
        (nothing to deliver with), or the configuration is not a channel.
    """
    if isinstance(config, WebhookChannel):
        return WebhookNotifier(
            client, url=config.url, secret=config.secret, timeout_s=config.timeout_s
        )
    if isinstance(config, WeComChannel):
        return WeComRobotNotifier(
            client, url=config.url, lang=config.lang, timeout_s=config.timeout_s
        )
    if isinstance(config, DingTalkChannel):
        return DingTalkRobotNotifier(
            client,
            url=config.url,
            secret=config.secret,
            lang=config.lang,
            timeout_s=config.timeout_s,
        )
    if isinstance(config, EmailChannel):
        return SmtpNotifier(
            config.host,
            config.port,
            username=config.username,
            password=config.password,
            sender=config.sender,
            starttls=config.starttls,
            timeout_s=config.timeout_s,
            lang=config.lang,
            ssl_context=ssl_context,
            local_hostname=config.local_hostname,
        )
    if isinstance(config, SmsChannel):
        return SmsGatewayNotifier(
            client,
            url=config.url,
            template=config.template,
            timeout_s=config.timeout_s,
            secret=config.secret,
            headers=config.headers,
            lang=config.lang,
        )
    if isinstance(config, InAppChannel):
        if inapp_sink is None:
            raise ChannelConfigError(f"in-app channel {config.name!r} needs an inapp_sink")
        return InAppNotifier(inapp_sink, lang=config.lang, timeout_s=config.timeout_s)
    if isinstance(config, UnconfiguredChannel):
        raise ChannelConfigError(f"channel {config.name!r} is not configured")
    raise ChannelConfigError(f"not a channel configuration: {type(config).__name__}")
