"""In-app delivery: the notification appears in the recipient's queue in Runxin.

Delivery means handing an :class:`InAppMessage` (a case notice) or an :class:`InAppNotice`
(a campaign reminder) to a sink the service provides (it writes one
row into the recipient's queue, keyed by ``delivery_id`` so a retry does not duplicate it).
Any exception from the sink, or a sink slower than the timeout, is a retryable failure (its
error text names only the exception type: a database error's message can quote row values);
a missing recipient id is permanent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import msgspec

from triage._calendar import require_aware
from triage._notify import DeliveryOutcome
from triage.channels._base import (
    ChannelConfigError,
    ChannelDelivery,
    check_timeout,
    failure,
    success,
)
from triage.channels._message import DeadlineAction, Lang, NotifiableTier
from triage.channels._notice import CampaignReminder, ClassCount, render_text, render_title

__all__ = ["InAppMessage", "InAppNotice", "InAppNotifier", "InAppSink", "inapp_message"]


class InAppMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One entry of a recipient's in-app queue.

    Parameters
    ----------
    delivery_id : str
        Stable delivery id; the sink stores at most one row per id.
    recipient : str
        The recipient's user id.
    event : str
        Event name.
    tier : {"yellow", "orange", "red"}
        The case's tier.
    title : str
        One-line title (``【润心】需要关注：红色（一级）``).
    body : str
        Short plain-text body.
    link : str
        Link to the case.
    deadline : datetime
        When action is due (UTC).
    action : {"acknowledge", "contact", "assess"}
        What is due.
    escalation_level : int
        0, or the escalation step.
    recipient_role : str
        Role the recipient is notified in.
    student_name : str or None
        Only when the school enabled names for the in-app channel.
    """

    delivery_id: str
    recipient: str
    event: str
    tier: NotifiableTier
    title: str
    body: str
    link: str
    deadline: datetime
    action: DeadlineAction
    escalation_level: int
    recipient_role: str
    student_name: str | None = None


class InAppNotice(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One campaign reminder in a head teacher's in-app queue (no tier, no case, no student).

    Parameters
    ----------
    delivery_id : str
        Stable delivery id; the sink stores at most one row per id.
    recipient : str
        The recipient's user id.
    event : str
        ``"campaign.reminder"``.
    title : str
        One-line title (``【润心】筛查提醒``).
    body : str
        Short plain-text body (the classes and how many have not finished, the link).
    link : str
        Link to the head teacher's class page.
    deadline : datetime
        When the screening closes (UTC).
    recipient_role : str
        Role the recipient is notified in.
    campaign : str
        The campaign's name.
    classes : tuple of ClassCount
        Each class named and how many of its students have not finished
        (``[{"class": …, "not_completed": …}]`` when stored).
    """

    delivery_id: str
    recipient: str
    event: str
    title: str
    body: str
    link: str
    deadline: datetime
    recipient_role: str
    campaign: str
    classes: tuple[ClassCount, ...]


#: What the service provides: store one message in the recipient's queue.
InAppSink = Callable[[InAppMessage | InAppNotice], Awaitable[None]]


def inapp_message(
    delivery: ChannelDelivery, *, recipient: str, lang: Lang = "zh-CN"
) -> InAppMessage | InAppNotice:
    """The queue entry for ``delivery``: an :class:`InAppNotice` for a campaign reminder."""
    content = delivery.required_content
    if isinstance(content, CampaignReminder):
        return InAppNotice(
            delivery_id=delivery.delivery_id,
            recipient=recipient,
            event=content.event,
            title=render_title(content, lang),
            body=render_text(content, lang),
            link=content.link,
            deadline=content.closes_at.astimezone(UTC),
            recipient_role=content.recipient_role,
            campaign=content.campaign_name,
            classes=content.classes,
        )
    return InAppMessage(
        delivery_id=delivery.delivery_id,
        recipient=recipient,
        event=content.event,
        tier=content.tier,
        title=render_title(content, lang),
        body=render_text(content, lang),
        link=content.link,
        deadline=content.deadline.astimezone(UTC),
        action=content.action,
        escalation_level=content.escalation_level,
        recipient_role=content.recipient_role,
        student_name=content.student_name,
    )


class InAppNotifier:
    """Put notifications into recipients' in-app queues through a service-provided sink.

    Parameters
    ----------
    sink : callable
        ``async def sink(message: InAppMessage | InAppNotice) -> None``; it should be
        idempotent on ``message.delivery_id``.
    lang : {"zh-CN", "en"}
        Language of title and body.
    timeout_s : float
        Longest wait for the sink, in seconds (0 < ``timeout_s`` <= 120).

    Raises
    ------
    ChannelConfigError
        If ``sink`` is not callable or the timeout is out of range.
    """

    def __init__(self, sink: InAppSink, *, lang: Lang = "zh-CN", timeout_s: float = 10.0) -> None:
        if not callable(sink):
            raise ChannelConfigError("in-app sink must be an async callable")
        if lang not in ("zh-CN", "en"):
            raise ChannelConfigError(f"lang must be 'zh-CN' or 'en', got {lang!r}")
        self._sink = sink
        self._lang: Lang = lang
        self._timeout_s = check_timeout(timeout_s)

    async def deliver(self, delivery: ChannelDelivery, *, now: datetime) -> DeliveryOutcome:
        """Hand one message to the sink.

        Parameters
        ----------
        delivery : ChannelDelivery
            What to send; ``address`` is the recipient's user id.
        now : datetime
            Aware current instant.

        Returns
        -------
        DeliveryOutcome
            ``retryable`` when the sink raised or timed out.

        Raises
        ------
        ValueError
            If ``now`` is naive or the delivery carries no content.
        """
        require_aware(now, "now")
        started = time.perf_counter()
        recipient = (delivery.address or "").strip()
        if not recipient:
            return failure(retryable=False, error="recipient has no user id", started=started)
        message = inapp_message(delivery, recipient=recipient, lang=self._lang)
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._sink(message)
        except TimeoutError:
            return failure(retryable=True, error="timeout (in-app sink)", started=started)
        except Exception as exc:  # the sink's failure is an outcome, not a crash
            # Only the type: a database error's text can quote row values.
            error = f"in-app sink failed: {type(exc).__name__}"
            return failure(retryable=True, error=error, started=started)
        return success(started=started)
