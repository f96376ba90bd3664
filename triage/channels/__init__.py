"""Notification channels behind one seam: webhook, WeCom, DingTalk, e-mail, SMS, in-app.

Every adapter has ``async deliver(delivery: ChannelDelivery, *, now) -> DeliveryOutcome``
(:class:`ChannelNotifier`), makes exactly one attempt and reports failures as outcomes
(``retryable`` or permanent), never as exceptions. Content is minimal: a case notice
(:class:`NotificationContent`: tier, school/class, deadline, link; the student's name only on
internal channels the school enabled it for) or a campaign reminder to a head teacher
(:class:`CampaignReminder`: the campaign, each class with how many students have not
finished, when it closes, the class-page link; never a student).

Typical use by the dispatcher (one attempt per outbox row; it owns retries and fallbacks)::

    route = parse_school_channels(document).route_for(row.recipient_role)
    config = route.channel(row.channel)
    notifier = build_notifier(config, client=http, inapp_sink=write_queue_row)
    content = content_from_payload(row.payload, names_enabled=config.names_enabled)
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
from triage.channels._inapp import InAppMessage, InAppNotice, InAppNotifier, InAppSink
from triage.channels._message import ContentError, Lang, NotificationContent, tier_label
from triage.channels._notice import (
    REMINDER_EVENT,
    CampaignReminder,
    ClassCount,
    MessageContent,
    content_from_payload,
    content_payload,
    render_html,
    render_markdown,
    render_reminder_sms,
    render_text,
    render_title,
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
    "REMINDER_EVENT",
    "WEEKDAYS",
    "AddressKind",
    "CampaignReminder",
    "ChannelConfig",
    "ChannelConfigError",
    "ChannelDelivery",
    "ChannelNotifier",
    "ClassCount",
    "ContentError",
    "DingTalkChannel",
    "DingTalkRobotNotifier",
    "EmailChannel",
    "InAppChannel",
    "InAppMessage",
    "InAppNotice",
    "InAppNotifier",
    "InAppSink",
    "Lang",
    "MessageContent",
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
    "content_from_payload",
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
    "render_reminder_sms",
    "render_sms_text",
    "render_text",
    "render_title",
    "rota_members",
    "tier_label",
    "window_text",
]
