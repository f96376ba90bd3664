"""Notification channels behind one seam: webhook, WeCom, DingTalk, e-mail, SMS, in-app.

Every adapter has ``async deliver(delivery: ChannelDelivery, *, now) -> DeliveryOutcome``
(:class:`ChannelNotifier`), makes exactly one attempt and reports failures as outcomes
(``retryable`` or permanent), never as exceptions. Content is minimal (tier, school/class,
deadline, link; the student's name only on internal channels the school enabled it for).

Typical use by the dispatcher (one attempt per outbox row; it owns retries and fallbacks)::

    route = parse_school_channels(document).route_for(row.recipient_role)
    config = route.channel(row.channel)
    notifier = build_notifier(config, client=http, inapp_sink=write_queue_row)
    content = NotificationContent.from_payload(row.payload, names_enabled=config.names_enabled)
    delivery = ChannelDelivery(delivery_id=row.delivery_id, payload=row.payload,
                               content=content, address=user.email)
    outcome = await notifier.deliver(delivery, now=now)
    if not outcome.ok and not outcome.retryable:
        fallback = next_channel(route, config)   # None: escalate, never drop
"""

from triage.channels._base import ChannelConfigError, ChannelDelivery, ChannelNotifier
from triage.channels._config import (
    AddressKind,
    ChannelConfig,
    DingTalkChannel,
    EmailChannel,
    InAppChannel,
    RecipientRoute,
    SchoolChannels,
    SmsChannel,
    UnconfiguredChannel,
    WebhookChannel,
    WeComChannel,
    build_notifier,
    next_channel,
    parse_route,
    parse_school_channels,
)
from triage.channels._dingtalk import DingTalkRobotNotifier, dingtalk_sign, dingtalk_signed_url
from triage.channels._email import SmtpNotifier, StartTls
from triage.channels._inapp import InAppMessage, InAppNotifier, InAppSink
from triage.channels._message import (
    ContentError,
    Lang,
    NotificationContent,
    content_payload,
    render_html,
    render_markdown,
    render_text,
    render_title,
    tier_label,
)
from triage.channels._on_call import (
    ON_CALL_ROLE,
    WEEKDAYS,
    OnCallEntry,
    OnCallError,
    OnCallPick,
    OnCallStaff,
    OnCallWindow,
    check_rota_channels,
    needs_on_call,
    on_call_recipients,
    parse_rota,
    rota_members,
    window_text,
)
from triage.channels._sms import DEFAULT_SMS_TEMPLATE, SmsGatewayNotifier, render_sms_text
from triage.channels._webhook import WebhookNotifier
from triage.channels._wecom import WeComRobotNotifier

__all__ = [
    "DEFAULT_SMS_TEMPLATE",
    "ON_CALL_ROLE",
    "WEEKDAYS",
    "AddressKind",
    "ChannelConfig",
    "ChannelConfigError",
    "ChannelDelivery",
    "ChannelNotifier",
    "ContentError",
    "DingTalkChannel",
    "DingTalkRobotNotifier",
    "EmailChannel",
    "InAppChannel",
    "InAppMessage",
    "InAppNotifier",
    "InAppSink",
    "Lang",
    "NotificationContent",
    "OnCallEntry",
    "OnCallError",
    "OnCallPick",
    "OnCallStaff",
    "OnCallWindow",
    "RecipientRoute",
    "SchoolChannels",
    "SmsChannel",
    "SmsGatewayNotifier",
    "SmtpNotifier",
    "StartTls",
    "UnconfiguredChannel",
    "WeComChannel",
    "WeComRobotNotifier",
    "WebhookChannel",
    "WebhookNotifier",
    "build_notifier",
    "check_rota_channels",
    "content_payload",
    "dingtalk_sign",
    "dingtalk_signed_url",
    "needs_on_call",
    "next_channel",
    "on_call_recipients",
    "parse_rota",
    "parse_route",
    "parse_school_channels",
    "render_html",
    "render_markdown",
    "render_sms_text",
    "render_text",
    "render_title",
    "rota_members",
    "tier_label",
    "window_text",
]
