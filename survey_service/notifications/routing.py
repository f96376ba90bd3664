"""Who gets a notification, on which channel: the school's routes, else its webhook.

A school (and a district, for district officers) may configure channels per recipient role
with fallbacks (``triage.channels``). Without a configuration the school's signed webhook is
the one channel, as in the operating contract; without a webhook either, the one channel is
:class:`~triage.channels.UnconfiguredChannel` (the dispatcher fails its rows over).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import school_in_scope
from survey_service.db import AsyncSession, District, NotificationRoutes, School, StaffUser
from survey_service.errors import NotFound, Unprocessable
from survey_service.services import audit
from triage.channels import (
    ON_CALL_ROLE,
    ChannelConfig,
    ChannelConfigError,
    EmailChannel,
    InAppChannel,
    RecipientRoute,
    SchoolChannels,
    UnconfiguredChannel,
    WebhookChannel,
    parse_route,
    parse_school_channels,
)

DEFAULT_CHANNEL = "webhook"
#: Signing secret of a webhook URL set without a secret (``runxin demo --webhook-url`` alone).
_NO_SECRET = "unconfigured"  # noqa: S105 - a placeholder, not a credential


async def route_for(db: AsyncSession, school: School, role: str) -> RecipientRoute:
    """The route for ``role`` at ``school`` (district routes for district officers).

    The on-call rota (``on_call``) is paged on any channel of the school: its route holds
    every channel of the school's routes (see :func:`school_channels`).
    """
    if role == ON_CALL_ROLE:
        return await on_call_route(db, school)
    row: NotificationRoutes | None
    if role == "district_officer":
        row = await db.scalar(
            select(NotificationRoutes).where(NotificationRoutes.district_id == school.district_id)
        )
    else:
        row = await db.scalar(
            select(NotificationRoutes).where(NotificationRoutes.school_id == school.id)
        )
    if row is not None:
        route = parse_school_channels(row.document).route_for(role)
        if route is not None:
            return route
    return await _default_route(db, school, role)


async def _default_route(db: AsyncSession, school: School, role: str) -> RecipientRoute:
    if role == "head_teacher":  # personal reminders: the in-app queue needs no set-up
        return RecipientRoute(role=role, channels=(InAppChannel(name="inapp"),))
    url, secret = school.webhook_url, school.webhook_secret
    if role == "district_officer":
        district = await db.get_one(District, school.district_id)
        if district.webhook_url:
            url, secret = district.webhook_url, district.webhook_secret
    channel: ChannelConfig
    if url:
        # A URL without a secret (a demo) is still signed, with a placeholder receivers reject.
        channel = WebhookChannel(name=DEFAULT_CHANNEL, url=url, secret=secret or _NO_SECRET)
    else:  # no route: rows are queued and failed over (fallback, next role, operator alert)
        channel = UnconfiguredChannel(name=DEFAULT_CHANNEL)
    return RecipientRoute(role=role, channels=(channel,))


def channel_named(route: RecipientRoute, name: str) -> ChannelConfig | None:
    return next((c for c in route.channels if c.name == name), None)


#: The roles whose routes make up a school's channels (the on-call rota may use any of them).
SCHOOL_ROLES = ("school_lead", "counsellor", "school_admin", "head_teacher")


async def school_routes(db: AsyncSession, school: School) -> dict[str, RecipientRoute]:
    """The school's route per school role (configured, else the default)."""
    return {role: await route_for(db, school, role) for role in SCHOOL_ROLES}


async def school_channels(db: AsyncSession, school: School) -> tuple[ChannelConfig, ...]:
    """Every channel of the school's routes, each name once (first one wins)."""
    row = await db.scalar(
        select(NotificationRoutes).where(NotificationRoutes.school_id == school.id)
    )
    configured = parse_school_channels(row.document).routes if row is not None else ()
    found: dict[str, ChannelConfig] = {}
    for route in configured:
        for channel in route.channels:
            found.setdefault(channel.name, channel)
    for role in ("school_lead", "counsellor"):  # the default routes of the default rota
        for channel in (await route_for(db, school, role)).channels:
            found.setdefault(channel.name, channel)
    return tuple(found.values())


async def on_call_route(db: AsyncSession, school: School) -> RecipientRoute:
    """The on-call rota's route: every channel of the school (fallbacks as configured)."""
    channels = await school_channels(db, school)
    try:
        return RecipientRoute(role=ON_CALL_ROLE, channels=channels)
    except ChannelConfigError:  # two routes' same-named channels disagree on fallbacks
        plain = tuple(msgspec.structs.replace(c, fallback=None) for c in channels)
        return RecipientRoute(role=ON_CALL_ROLE, channels=plain)


def on_call_fallback(route: RecipientRoute, failed: str) -> ChannelConfig | None:
    """Where an on-call page goes after ``failed`` failed for good: only its explicit
    ``fallback`` (the on-call route's order means nothing); ``None`` otherwise."""
    channel = channel_named(route, failed)
    if channel is None or channel.fallback is None:
        return None
    return channel_named(route, channel.fallback)


async def recipients(db: AsyncSession, school: School, role: str) -> list[StaffUser]:
    """Active staff holding ``role`` at ``school`` (or in its district for district officers)."""
    query = select(StaffUser).where(StaffUser.role == role, StaffUser.active.is_(True))
    if role == "district_officer":
        query = query.where(StaffUser.district_id == school.district_id)
    else:
        query = query.where(StaffUser.school_id == school.id)
    return list((await db.scalars(query.order_by(StaffUser.username))).all())


class RoutesOut(msgspec.Struct, frozen=True):
    school_code: str
    roles: list[str]
    updated_at: datetime


async def put_school_routes(
    db: AsyncSession,
    user: StaffUser,
    school_code: str,
    document: dict[str, object],
    *,
    now: datetime,
) -> RoutesOut:
    """Validate and store a school's channel routes (422 naming the problem when invalid)."""
    permissions.require(user, "routes.edit")
    school = await school_in_scope(db, user, school_code)
    try:
        parsed: SchoolChannels = parse_school_channels(document)
    except ValueError as exc:
        raise Unprocessable(
            f"the channel configuration is not valid: {exc}", code="invalid_routes"
        ) from exc
    row = await db.scalar(
        select(NotificationRoutes).where(NotificationRoutes.school_id == school.id)
    )
    before = routes_summary(row.document if row is not None else None)
    if row is None:
        row = NotificationRoutes(
            id=uuid.uuid4(),
            school_id=school.id,
            district_id=None,
            document=dict(document),
            updated_at=now,
        )
        db.add(row)
    else:
        row.document, row.updated_at = dict(document), now
    # Red alerts follow these routes: who redirected them where is audited (hosts only —
    # webhook URLs carry tokens).
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="school.routes",
        subject_type="school",
        subject_ids=[school.id],
        school_id=school.id,
        now=now,
        detail={"old": before, "new": routes_summary(document)},
    )
    return RoutesOut(school_code=school_code, roles=[r.role for r in parsed.routes], updated_at=now)


def _where(channel: ChannelConfig) -> str:
    """A channel's kind and, for a URL or server, only its host: never a path, query, token,
    secret, address or password."""
    target = getattr(channel, "url", None) or getattr(channel, "host", None)
    host = urlsplit(target).hostname if target and "//" in target else target
    return f"{channel.type}@{host}" if host else channel.type


def routes_summary(document: Mapping[str, Any] | None) -> str:
    """The routes a channel document sets, masked for the audit log:
    ``counsellor=webhook@hooks.example.org>sms@sms.example.org; school_lead=inapp``."""
    if not document:
        return "default"
    try:
        parsed = parse_school_channels(document)
    except (ValueError, TypeError, msgspec.ValidationError):
        return "invalid"
    text = "; ".join(
        f"{route.role}={'>'.join(_where(c) for c in route.channels)}" for route in parsed.routes
    )
    return text[:500]


# --- the school's routes page (issue 13) ----------------------------------------------------

#: The channel kinds a school sets on its routes page, in the order the page offers them.
ROUTE_KINDS = ("wecom", "dingtalk", "email", "sms", "webhook", "inapp")
#: Kinds whose target is a URL: robot and gateway URLs carry their token, so never shown.
_URL_KINDS = frozenset({"wecom", "dingtalk", "sms", "webhook"})
#: Kinds with a secret (a signing secret; for e-mail, the SMTP password).
_SECRET_KINDS = frozenset({"webhook", "dingtalk", "sms", "email"})
#: Settings the page does not edit, kept from the stored channel a row shows (same kind).
_KEPT_SETTINGS = ("lang", "timeout_s", "template", "headers", "starttls", "local_hostname")
_VALUE_MAX = 500
_PORT_RE = re.compile(r"(?P<host>[^\s:]+)(?::(?P<port>\d{1,5}))?")

#: The form's field names in both languages (the messages name the field the school typed).
_FIELDS = {
    "role": ("接收角色", "recipient"),
    "kind": ("通道类型", "channel kind"),
    "name": ("通道名称", "channel name"),
    "target": ("地址", "address"),
    "secret": ("密钥或密码", "secret or password"),
    "sender": ("发件人", "sender"),
    "username": ("用户名", "user name"),
    "names": ("消息中显示学生姓名", "student names in messages"),
    "fallback": ("失败后改用", "then try"),
}
#: What a target must look like, per kind.
_TARGET_HINTS = {
    "wecom": (
        "应为企业微信群机器人的 Webhook 地址（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）",
        "must be the WeCom group robot's webhook address "
        "(https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)",
    ),
    "dingtalk": (
        "应为钉钉自定义机器人的 Webhook 地址（https://oapi.dingtalk.com/robot/send?access_token=…），"
        "不含 timestamp 和 sign",
        "must be the DingTalk robot's webhook address "
        "(https://oapi.dingtalk.com/robot/send?access_token=…), without timestamp or sign",
    ),
    "sms": (
        "应为短信网关的完整地址（以 http:// 或 https:// 开头）",
        "must be the SMS gateway's full address (starting with http:// or https://)",
    ),
    "webhook": (
        "应为接收方的完整地址（以 http:// 或 https:// 开头）",
        "must be the receiver's full address (starting with http:// or https://)",
    ),
    "email": (
        "应为邮件服务器（SMTP）的主机名，可带端口，如 smtp.example.cn:587",
        "must be the mail (SMTP) server's host name, with a port if needed, "
        "like smtp.example.cn:587",
    ),
}


class ChannelShown(msgspec.Struct, frozen=True):
    """One channel of a route as the page shows it: never a secret, never a URL's path or
    query (robot and gateway URLs carry their token there), only whether one is set."""

    role: str
    key: str  # "role/name": the stored channel a form row stands for
    kind: str
    name: str
    target: str  # a URL as "https://host/…"; an SMTP server as "host:port"; else ""
    target_hidden: bool
    secret_set: bool
    sender: str
    username_set: bool
    names_enabled: bool
    fallback: str


class RoleRoute(msgspec.Struct, frozen=True):
    """The channels a school role is notified on now: configured, or the default."""

    role: str
    configured: bool
    channels: list[ChannelShown]


class RoutesPage(msgspec.Struct, frozen=True):
    school_code: str
    school_name: str
    roles: list[RoleRoute]
    stored: list[ChannelShown]
    kinds: list[str]
    role_choices: list[str]
    updated_at: datetime | None


class RouteRowIn(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the routes form as typed; ``index`` is its place in the form (from 0).

    A blank ``target``, ``secret`` or ``username`` keeps what the stored channel ``key``
    holds when the row keeps its kind (the page never shows them); ``clear_secret`` drops it.
    """

    index: int
    role: str = ""
    kind: str = ""
    name: str = ""
    target: str = ""
    secret: str = ""
    clear_secret: bool = False
    sender: str = ""
    username: str = ""
    names_enabled: bool = False
    fallback: str = ""
    key: str = ""


async def _own_school(db: AsyncSession, user: StaffUser) -> School:
    school = await db.get(School, user.school_id) if user.school_id else None
    if school is None:
        raise NotFound("This account is not attached to a school", code="school_not_found")
    return school


async def _stored_row(db: AsyncSession, school: School) -> NotificationRoutes | None:
    return await db.scalar(
        select(NotificationRoutes).where(NotificationRoutes.school_id == school.id)
    )


def _masked_url(url: str) -> str:
    host = urlsplit(url).hostname
    return f"{urlsplit(url).scheme}://{host}/…" if host else "…"


def _shown(role: str, channel: ChannelConfig) -> ChannelShown:
    if isinstance(channel, EmailChannel):
        target, hidden, secret = f"{channel.host}:{channel.port}", False, channel.password
    else:
        url = getattr(channel, "url", None)
        target, hidden = (_masked_url(url), True) if url else ("", False)
        secret = getattr(channel, "secret", None)
    return ChannelShown(
        role=role,
        key=f"{role}/{channel.name}",
        kind=channel.type,
        name=channel.name,
        target=target,
        target_hidden=hidden,
        secret_set=bool(secret) and secret != _NO_SECRET,
        sender=getattr(channel, "sender", "") or "",
        username_set=bool(getattr(channel, "username", None)),
        names_enabled=channel.names_enabled,
        fallback=channel.fallback or "",
    )


def _parsed(row: NotificationRoutes | None) -> SchoolChannels:
    if row is None:
        return SchoolChannels(routes=())
    return parse_school_channels(row.document)


async def routes_page(db: AsyncSession, user: StaffUser) -> RoutesPage:
    """The routes of the caller's own school for the page: per school role the channels it
    is notified on now (configured or the default), and the configured ones to edit. No
    secret and no URL path or query leaves this function."""
    permissions.require(user, "routes.edit")
    school = await _own_school(db, user)
    row = await _stored_row(db, school)
    parsed = _parsed(row)
    extra_roles = [r.role for r in parsed.routes if r.role not in SCHOOL_ROLES]
    roles: list[RoleRoute] = []
    for role in (*SCHOOL_ROLES, *extra_roles):
        configured = parsed.route_for(role)
        route = configured or await _default_route(db, school, role)
        roles.append(
            RoleRoute(
                role=role,
                configured=configured is not None,
                channels=[_shown(role, c) for c in route.channels],
            )
        )
    return RoutesPage(
        school_code=school.code,
        school_name=school.name,
        roles=roles,
        stored=[_shown(r.role, c) for r in parsed.routes for c in r.channels],
        kinds=list(ROUTE_KINDS),
        role_choices=[*SCHOOL_ROLES, *extra_roles],
        updated_at=row.updated_at if row is not None else None,
    )


def _bad(row: RouteRowIn, field: str, zh: str, en: str) -> Unprocessable:
    """A 422 naming the row and field, in both languages (``extra["field"]``: the form's)."""
    n = row.index + 1
    zh_field, en_field = _FIELDS[field]
    return Unprocessable(
        f"channel {n}, {en_field}: {en}",
        code="invalid_routes",
        message={
            "zh-CN": f"通道 {n} 的「{zh_field}」有误：{zh}",
            "en": f"Channel {n}, {en_field}: {en}",
        },
        extra={"field": f"{field}_{row.index}"},
    )


def _field_of(detail: str) -> str:
    """Which form field a channel's own validation error is about."""
    text = detail.lower()
    for word, field in (
        ("secret", "secret"),
        ("sender", "sender"),
        ("needs a username", "username"),
        ("fallback", "fallback"),
        ("fall back", "fallback"),
        ("names can be enabled", "names"),
        ("channel name", "name"),
    ):
        if word in text:
            return field
    return "target"


def _channel_document(row: RouteRowIn, old: Mapping[str, Any] | None) -> dict[str, Any]:
    """The channel a row describes, checked field by field (secrets kept from ``old``)."""
    kind = row.kind
    for field in ("name", "target", "secret", "sender", "username", "fallback"):
        if len(getattr(row, field)) > _VALUE_MAX:
            raise _bad(row, field, f"最多 {_VALUE_MAX} 个字符", f"at most {_VALUE_MAX} characters")
    doc: dict[str, Any] = {"type": kind, "name": row.name}
    if old is not None:
        doc.update({k: old[k] for k in _KEPT_SETTINGS if k in old})
    if row.fallback:
        doc["fallback"] = row.fallback
    if row.names_enabled:
        doc["names_enabled"] = True
    kept = old if old is not None and not row.clear_secret else {}
    secret = row.secret or kept.get("password" if kind == "email" else "secret")
    if kind in _URL_KINDS:
        url = row.target or (old or {}).get("url")
        if not url:
            raise _bad(row, "target", "请填写地址", "enter the address")
        doc["url"] = url
        if kind == "webhook" and not secret:
            raise _bad(row, "secret", "签名 Webhook 需要密钥", "a signed webhook needs a secret")
        if secret:
            doc["secret"] = secret
    elif kind == "email":
        match = _PORT_RE.fullmatch(row.target.strip())
        if match is None:
            zh, en = _TARGET_HINTS["email"]
            raise _bad(row, "target", zh, en)
        doc["host"], doc["port"] = match["host"], int(match["port"] or 587)
        if not row.sender.strip():
            raise _bad(row, "sender", "请填写发件地址", "enter the sender address")
        doc["sender"] = row.sender.strip()
        username = row.username or kept.get("username")
        if secret and not username:
            raise _bad(row, "username", "填写密码时需要用户名", "a password needs a user name")
        if username:
            doc["username"] = username
        if secret:
            doc["password"] = secret
    try:
        msgspec.convert(doc, ChannelConfig)
    except (ValueError, TypeError, msgspec.ValidationError) as exc:
        field = _field_of(str(exc))
        if field == "target" and kind in _TARGET_HINTS:
            zh, en = _TARGET_HINTS[kind]
        elif field == "name":
            zh = "只能用小写字母、数字、- 和 _，以字母或数字开头"
            en = "use lower-case letters, digits, - and _, starting with a letter or digit"
        elif field == "names":
            zh = "只有电子邮件、签名 Webhook 和站内消息可以显示学生姓名"
            en = "only e-mail, the signed webhook and in-app messages may show names"
        elif field == "fallback":
            zh, en = "应为本角色另一个通道的名称", "must name another channel of this recipient"
        else:
            zh, en = "不能为空", "must not be empty"
        raise _bad(row, field, zh, en) from exc
    return doc


def _routes_document(
    rows: Sequence[RouteRowIn], stored: Mapping[str, Mapping[str, Any]], roles: Sequence[str]
) -> dict[str, Any]:
    """The channel document the rows describe (rows of one role in form order)."""
    routes: dict[str, list[tuple[RouteRowIn, dict[str, Any]]]] = {}
    for typed in rows:
        if typed.role not in roles:
            raise _bad(typed, "role", "请选择接收角色", "choose who receives it")
        if typed.kind not in ROUTE_KINDS:
            raise _bad(typed, "kind", "请选择通道类型", "choose the channel kind")
        taken = {doc["name"] for _, doc in routes.get(typed.role, [])}
        name = typed.name.strip()
        if not name:  # the kind, numbered when the role has one already
            name = typed.kind
            n = 2
            while name in taken:
                name, n = f"{typed.kind}-{n}", n + 1
        elif name in taken:
            zh, en = "同一接收角色的通道名称不能重复", "two channels of one recipient share it"
            raise _bad(typed, "name", zh, en)
        row = msgspec.structs.replace(typed, name=name, fallback=typed.fallback.strip())
        old = stored.get(row.key)
        if old is not None and old.get("type") != row.kind:
            old = None
        routes.setdefault(row.role, []).append((row, _channel_document(row, old)))
    for entries in routes.values():
        names = {doc["name"] for _, doc in entries}
        for row, _ in entries:
            if row.fallback and row.fallback not in names:
                raise _bad(
                    row,
                    "fallback",
                    "应为本角色另一个通道的名称",
                    "must name another channel of this recipient",
                )
        try:
            parse_route({"role": entries[0][0].role, "channels": [d for _, d in entries]})
        except ValueError as exc:  # fallbacks that loop
            first = next((r for r, _ in entries if r.fallback), entries[0][0])
            raise _bad(
                first, "fallback", "失败后改用的通道绕成了一圈", "the fallbacks go round in a loop"
            ) from exc
    return {
        "routes": [
            {"role": role, "channels": [doc for _, doc in entries]}
            for role, entries in routes.items()
        ]
    }


async def put_own_routes(
    db: AsyncSession, user: StaffUser, rows: Sequence[RouteRowIn], *, now: datetime
) -> RoutesOut:
    """Set the routes of the caller's own school from the page's rows (see
    :func:`put_school_routes`). A 422 names the row and field in both languages; nothing is
    written then. A row that leaves its target, secret or user name blank keeps the stored
    one, so a secret never has to be shown to be kept."""
    permissions.require(user, "routes.edit")
    school = await _own_school(db, user)
    row = await _stored_row(db, school)
    parsed = _parsed(row)
    # The stored channels as saved (validated then), so settings the page does not edit are
    # kept exactly, defaults left out.
    stored = {
        f"{route['role']}/{channel['name']}": channel
        for route in (row.document.get("routes", []) if row is not None else [])
        for channel in route["channels"]
    }
    roles = [*SCHOOL_ROLES, *(r.role for r in parsed.routes if r.role not in SCHOOL_ROLES)]
    document = _routes_document(rows, stored, roles)
    return await put_school_routes(db, user, school.code, document, now=now)
