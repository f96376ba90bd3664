"""Deliver along a recipient's route: the primary channel first, fallbacks on permanent failure.

One call of :meth:`MultiChannelNotifier.deliver` makes one attempt on the channel it starts at
and, while attempts fail *permanently*, one attempt on each fallback in turn
(:func:`next_channel`). It stops at the first success or the first *retryable* failure: the
dispatcher owns the retry schedule (:func:`triage.backoff_delay`, honouring
``retry_after_s``) and calls again with ``start_at=outcome.channel``; when that channel has
used up its retries the dispatcher moves on with ``start_at=next_channel(route, channel)``.

A dispatcher loop, in outline::

    routed = await multi.deliver(content, recipient=r, now=now, start_at=row.channel)
    if routed.escalate:            # some channel failed for good: escalate + ops alert
        ...
    if routed.ok:                  # mark sent on routed.channel
        ...
    elif routed.retryable:         # retry routed.channel later (or its fallback when exhausted)
        ...
    else:                          # routed.exhausted: no channel left; escalate, never drop
        ...
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from datetime import datetime

import httpx
import msgspec

from triage._calendar import require_aware
from triage._notify import DeliveryOutcome
from triage.channels._base import ChannelConfigError, ChannelDelivery, ChannelNotifier, failure
from triage.channels._config import (
    AddressKind,
    RecipientRoute,
    build_notifier,
    next_channel,
)
from triage.channels._inapp import InAppSink
from triage.channels._message import NotificationContent

__all__ = ["ChannelAttempt", "MultiChannelNotifier", "Recipient", "RoutedOutcome"]


class Recipient(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A recipient's addresses; each channel uses the one it needs.

    Parameters
    ----------
    user_id : str or None
        Runxin user id (``inapp``).
    email : str or None
        E-mail address (``email``).
    phone : str or None
        Mobile number (``sms``).
    """

    user_id: str | None = None
    email: str | None = None
    phone: str | None = None

    def address(self, kind: AddressKind | None) -> str | None:
        """The address of ``kind`` (``None`` for channels that need none)."""
        if kind is None:
            return None
        value: str | None = getattr(self, kind)
        return value

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{field}={'<hidden>' if getattr(self, field) else None}"
            for field in self.__struct_fields__
        )
        return f"Recipient({shown})"


class ChannelAttempt(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One attempt on one channel."""

    channel: str
    type: str
    outcome: DeliveryOutcome


class RoutedOutcome(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every attempt one :meth:`MultiChannelNotifier.deliver` call made, in order.

    Parameters
    ----------
    attempts : tuple of ChannelAttempt
        At least one.
    next_channel : str or None
        After a permanent failure of the last attempt: ``None`` (no channel left). After a
        retryable one: the channel to fall back to once its retries are used up.
    """

    attempts: tuple[ChannelAttempt, ...]
    next_channel: str | None

    @property
    def last(self) -> ChannelAttempt:
        """The final attempt."""
        return self.attempts[-1]

    @property
    def channel(self) -> str:
        """The channel of the final attempt (to retry on, or that delivered)."""
        return self.last.channel

    @property
    def outcome(self) -> DeliveryOutcome:
        """The final attempt's outcome (``retry_after_s`` feeds :func:`triage.backoff_delay`)."""
        return self.last.outcome

    @property
    def ok(self) -> bool:
        """Delivered on :attr:`channel`."""
        return self.outcome.ok

    @property
    def retryable(self) -> bool:
        """The final attempt failed in a way worth retrying on the same channel."""
        return self.outcome.retryable

    @property
    def exhausted(self) -> bool:
        """Every channel from the start on failed for good: escalate, never drop."""
        return not self.outcome.ok and not self.outcome.retryable

    @property
    def escalate(self) -> bool:
        """Some channel failed permanently: escalate and alert, even if a fallback delivered."""
        return any(not a.outcome.ok and not a.outcome.retryable for a in self.attempts)


class MultiChannelNotifier:
    """Deliver one recipient's notifications along their route.

    Parameters
    ----------
    route : RecipientRoute
        The recipient's role route.
    notifiers : mapping of str to ChannelNotifier
        One adapter per channel name of the route (see :meth:`from_route`).

    Raises
    ------
    ChannelConfigError
        If the adapters do not match the route's channel names.
    """

    def __init__(self, route: RecipientRoute, notifiers: Mapping[str, ChannelNotifier]) -> None:
        names = {channel.name for channel in route.channels}
        if set(notifiers) != names:
            raise ChannelConfigError(
                f"notifiers {sorted(notifiers)} do not match the route's channels {sorted(names)}"
            )
        self._route = route
        self._notifiers = dict(notifiers)

    @classmethod
    def from_route(
        cls,
        route: RecipientRoute,
        *,
        client: httpx.AsyncClient,
        inapp_sink: InAppSink | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> MultiChannelNotifier:
        """Build every channel's adapter with :func:`build_notifier`."""
        notifiers = {
            channel.name: build_notifier(
                channel, client=client, inapp_sink=inapp_sink, ssl_context=ssl_context
            )
            for channel in route.channels
        }
        return cls(route, notifiers)

    @property
    def route(self) -> RecipientRoute:
        """The route delivered along."""
        return self._route

    async def deliver(
        self,
        content: NotificationContent,
        *,
        recipient: Recipient,
        now: datetime,
        start_at: str | None = None,
    ) -> RoutedOutcome:
        """Attempt delivery from ``start_at`` (default: primary); fall back on permanent failure.

        Parameters
        ----------
        content : NotificationContent
            What to say. Each channel sees it through
            :meth:`NotificationContent.for_channel` (the name only where enabled).
        recipient : Recipient
            The recipient's addresses; a channel whose address is missing fails permanently
            without being called.
        now : datetime
            Aware current instant.
        start_at : str or None
            Channel to start at (the one a retry is due on).

        Returns
        -------
        RoutedOutcome

        Raises
        ------
        ValueError
            If ``now`` is naive; ``KeyError`` if ``start_at`` is not a channel of the route.
        """
        require_aware(now, "now")
        channel = self._route.primary if start_at is None else self._route.channel(start_at)
        attempts: list[ChannelAttempt] = []
        while True:
            outcome = await self._attempt(channel.name, content, recipient, now)
            attempts.append(
                ChannelAttempt(channel=channel.name, type=channel.type, outcome=outcome)
            )
            following = next_channel(self._route, channel)
            if outcome.ok or outcome.retryable or following is None:
                upcoming = None if outcome.ok or following is None else following.name
                return RoutedOutcome(attempts=tuple(attempts), next_channel=upcoming)
            channel = following

    async def _attempt(
        self, name: str, content: NotificationContent, recipient: Recipient, now: datetime
    ) -> DeliveryOutcome:
        config = self._route.channel(name)
        address = recipient.address(config.address_kind)
        if config.address_kind is not None and not address:
            return failure(
                retryable=False,
                error=f"recipient has no {config.address_kind.replace('_', ' ')}",
                started=time.perf_counter(),
            )
        delivery = ChannelDelivery(
            delivery_id=content.delivery_id,
            content=content.for_channel(names_enabled=config.names_enabled),
            address=address,
        )
        return await self._notifiers[name].deliver(delivery, now=now)
