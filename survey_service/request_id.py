"""One id per HTTP request, so that a reported failure can be found in the log.

A client (or a reverse proxy) may send ``X-Request-Id``; a value of 1–64 letters, digits,
``.``, ``_`` or ``-`` is kept, anything else is replaced by a fresh random id. The id is
echoed in the reply's ``X-Request-Id`` header and named in the failed-request log line
(:func:`survey_service.errors.log_exception`), so an operator can match a user's report ("the
page said request id …") to the one log line with its traceback. It carries nothing about the
user or the request.

The middleware also writes the request's access line (logger ``runxin.access``, INFO): method,
the route's template (``/api/v1/cases/{case_id}``, never the ids or a student's access
code in the path), status, duration and the id — see :mod:`survey_service.log_format`.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from survey_service.clock import monotonic_s

HEADER = b"x-request-id"
#: Where the id is kept in the ASGI scope's ``state`` for the rest of the request.
STATE_KEY = "runxin_request_id"
_SAFE = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
_access = logging.getLogger("runxin.access")


def request_id_of(scope: Scope | dict[str, Any]) -> str:
    """The request's id, or ``-`` outside a request that passed the middleware."""
    state = scope.get("state") or {}
    return str(state.get(STATE_KEY, "-"))


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: give every HTTP request an id and echo it in the reply."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k == HEADER), b"")
        rid = given.decode("ascii") if _SAFE.match(given) else uuid.uuid4().hex
        state: Any = scope.setdefault("state", {})
        state[STATE_KEY] = rid
        status = 0
        started = monotonic_s()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                headers.append((HEADER, rid.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            if _access.isEnabledFor(logging.INFO):
                _log_access(scope, rid, status, monotonic_s() - started)

    return middleware


def _log_access(scope: Scope, rid: str, status: int, seconds: float) -> None:
    from survey_service.errors import safe_path

    method = str(scope.get("method", "-"))
    path = str(scope.get("path_template") or safe_path(str(scope.get("path", "-"))))
    duration_ms = round(seconds * 1000, 1)
    _access.info(
        "%s %s -> %s in %.1f ms [request %s]",
        method,
        path,
        status or "-",
        duration_ms,
        rid,
        extra={
            "request_id": rid,
            "method": method,
            "path": path,
            "status": status or None,
            "duration_ms": duration_ms,
        },
    )
