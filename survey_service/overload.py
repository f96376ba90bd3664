"""Load shedding: refuse a request at once when this process already has enough in flight.

Without a limit, every request that arrives is accepted and waits — for a database connection,
for SQLite's write gate, for the one event loop — so under overload latency grows without
bound and clients time out on work the server then still does. :class:`InFlightLimit` counts
the requests in flight in this process (an ASGI middleware around every route) and answers one
more at once with 503, problem code ``overloaded``, ``Retry-After`` and a message in both
languages (a short page for a browser's page request; see
:func:`survey_service.errors.unavailable_reply`). Nothing of a refused request ran: a client
retries it, a submission with the same ``Idempotency-Key``, and it lands exactly once.
``/healthz``, ``/readyz`` and ``/metrics`` are never refused, so a load balancer does not take a
busy node for a dead one and monitoring sees the overload it is there to see.

Why 256 by default (``Settings.max_in_flight``, ``RUNXIN_MAX_IN_FLIGHT``):

- A request held in flight beyond what the database can serve only waits. By Little's law the
  wait is ``in_flight / throughput``: 256 in flight at the slowest rate measured for one
  process (about 30 to 55 submissions/s before issue 18's work) is 5 to 9 s of queue, already
  more than a student should wait; at the rates of the fast paths (hundreds to thousands per
  second) it is well under a second. A deployment that knows its rate sets the limit to
  rate × acceptable wait.
- It is four times the 64 connections of the load benchmark, so an ordinary class-period peak
  is never refused; a load balancer spreads more than that over more processes.
- Memory stays bounded: 256 requests with the largest accepted body (``max_body_bytes``,
  256 KiB) are 64 MiB.

uvicorn's own ``--limit-concurrency`` is no substitute: it counts connections and tasks (the
health check too) and answers a plain-text 503 without ``Retry-After``.
"""

from __future__ import annotations

import logging

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from survey_service.errors import OVERLOADED, safe_path, unavailable_reply
from survey_service.request_id import request_id_of

__all__ = ["EXEMPT_PATHS", "IN_FLIGHT_STATE", "InFlightLimit"]

#: Paths never refused (a probe must see a busy process as alive; a scrape must see it busy).
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: Where the app keeps its :class:`InFlightLimit` (``app.state``), for operators and tests.
IN_FLIGHT_STATE = "in_flight_limit"

_log = logging.getLogger("runxin.http")


class InFlightLimit:
    """Counts the HTTP requests in flight in one process and refuses those above ``limit``.

    One instance per app; :meth:`middleware` wraps each route (litestar builds the stack per
    route, so all of them share this counter). The counter needs no lock: one event loop runs
    every request of the process, and nothing awaits between the check and the increment.

    Attributes
    ----------
    limit:
        The most requests handled at once.
    in_flight:
        Requests now being handled (refused ones are never counted).
    refused:
        Requests refused since the app started.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the in-flight limit must be at least 1, got {limit}")
        self.limit = limit
        self.in_flight = 0
        self.refused = 0
        self._episode = 0  # refused since refusing began; 0: not refusing

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware (litestar calls it with ``app=``) counting against this limit."""

        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["path"] in EXEMPT_PATHS:
                await app(scope, receive, send)
                return
            if self.in_flight >= self.limit:
                await self._refuse(scope, send)
                return
            self.in_flight += 1
            try:
                await app(scope, receive, send)
            finally:
                self.in_flight -= 1
                if self._episode and self.in_flight <= self.limit // 2:
                    self._episode_over()

        return limited

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.refused += 1
        self._note_refusal(scope)
        accept = next((v for k, v in scope.get("headers", ()) if k == b"accept"), b"")
        body, headers = unavailable_reply(
            OVERLOADED,
            path=str(scope["path"]),
            accept=accept.decode("latin-1"),
            request_id=request_id_of(scope),
        )
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode("ascii")))
        await send({"type": "http.response.start", "status": 503, "headers": raw})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _note_refusal(self, scope: Scope) -> None:
        """Log the 1st, 10th, 100th, ... refusal of an episode at WARNING: a line per refusal
        would add to the overload (and no clock is read for a rate). The episode ends, with one
        INFO line, once the requests in flight have fallen to half the limit, so a load that
        hovers at the limit is one episode, not a line per request."""
        self._episode += 1
        count = self._episode
        if count != 10 ** (len(str(count)) - 1):
            return
        _log.warning(
            "%s %s -> 503 overloaded: %d requests in flight (limit %d); %d refused since "
            "refusing began [request %s]",
            scope.get("method", "-"),
            safe_path(str(scope["path"])),
            self.in_flight,
            self.limit,
            count,
            request_id_of(scope),
        )

    def _episode_over(self) -> None:
        _log.info(
            "overload over: %d requests in flight (limit %d); %d were refused",
            self.in_flight,
            self.limit,
            self._episode,
        )
        self._episode = 0
