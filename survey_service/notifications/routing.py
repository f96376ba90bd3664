"""Who gets a notification, on which channel: the school's routes, else its webhook.

A school (and a district, for district officers) may configure channels per recipient role
with fallbacks (``triage.channels``). Without a configuration the school's signed webhook is
the one channel, as in the operating contract; without a webhook either, the one channel is
:class:`~triage.channels.UnconfiguredChannel` (the dispatcher fails its rows over).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import school_in_scope
from survey_service.db import AsyncSession, District, NotificationRoutes, School, StaffUser
from survey_service.errors import Unprocessable
from survey_service.services import audit
from triage.channels import (
    ON_CALL_ROLE,
    ChannelConfig,
    ChannelConfigError,
    InAppChannel,
    RecipientRoute,
    SchoolChannels,
    UnconfiguredChannel,
    WebhookChannel,
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
