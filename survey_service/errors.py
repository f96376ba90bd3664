"""Service errors and their RFC 9457 ``application/problem+json`` rendering."""

from __future__ import annotations

import functools
import html
import logging
import re
import socket
import sqlite3
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Scope
from sqlalchemy import exc as sa_exc

PROBLEM_JSON = "application/problem+json"


class ServiceError(Exception):
    """An error the client can act on; rendered as a problem document.

    ``code`` is a stable machine-readable slug; ``detail`` says what is wrong in English;
    ``message`` optionally carries user-facing text in ``zh-CN`` and ``en``.
    """

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str,
        message: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.message = message
        self.extra = extra or {}


class BadRequest(ServiceError):
    status, title = 400, "Bad request"


class Unauthorized(ServiceError):
    status, title = 401, "Unauthorized"


class Forbidden(ServiceError):
    status, title = 403, "Forbidden"


class NotFound(ServiceError):
    status, title = 404, "Not found"


class Conflict(ServiceError):
    status, title = 409, "Conflict"


class Gone(ServiceError):
    status, title = 410, "Gone"


class Unprocessable(ServiceError):
    status, title = 422, "Unprocessable content"


def problem(
    status: int, title: str, detail: str, code: str, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"urn:runxin:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def handle_service_error(_: Request[Any, Any, Any], exc: ServiceError) -> Response[dict[str, Any]]:
    return problem(exc.status, exc.title, exc.detail, exc.code, message=exc.message, **exc.extra)


def handle_validation_error(
    _: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else None
    if errors:
        errors = [_readable(e) for e in errors]
    detail = exc.detail or "The request is not valid"
    if errors:
        parts = [
            f"{e.get('message', '')} ({e.get('key', '')})".strip()
            for e in errors
            if isinstance(e, dict)
        ]
        detail = "; ".join(p for p in parts if p) or detail
    return problem(400, "Bad request", detail, "invalid_request", errors=errors)


def _readable(error: Any) -> Any:
    """A validation error with the text patterns said in words (a regex means nothing to a
    reader): "Expected `str` matching regex '...'" becomes "Expected text without control
    characters ..."; the field path (``key``, or ``- at `$.kind```) stays."""
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return error
    from survey_service.schemas import PATTERN_MEANINGS

    message = error["message"]
    for pattern, meaning in PATTERN_MEANINGS.items():
        message = message.replace(f"`str` matching regex {pattern!r}", meaning)
    if message.startswith("Unsupported type: <class 'str'>"):
        message = "Expected a file part, got text"
    return {**error, "message": message}


def handle_http_exception(
    _: Request[Any, Any, Any], exc: HTTPException
) -> Response[dict[str, Any]]:
    code = {
        404: "not_found",
        405: "method_not_allowed",
        413: "body_too_large",
        401: "unauthorized",
        403: "forbidden",
    }.get(exc.status_code, "http_error")
    detail = exc.detail
    if exc.status_code == 413:
        detail = "The request body is larger than this service accepts"
    return problem(exc.status_code, _title(exc.status_code), detail, code)


def handle_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # No details leak to the client; the traceback goes to the server log (log_exception),
    # under the request id the client is given to quote. A database that cannot be reached
    # (or a pool with no free connection) is not a fault of this code: 503 with Retry-After.
    from survey_service.request_id import request_id_of

    rid = request_id_of(request.scope)
    code = unavailable_code(exc)
    if code is not None:
        body, headers = unavailable_reply(
            code,
            path=request.scope.get("path", ""),
            accept=request.headers.get("accept", ""),
            request_id=rid,
        )
        media_type = headers.pop("Content-Type")
        return Response(body, status_code=503, media_type=media_type, headers=headers)
    return problem(
        500,
        "Internal server error",
        f"The server failed; nothing was saved. Request id: {rid}",
        "internal",
    )


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --- 503: the database cannot be reached, or the server is at its limit (issue 18) ---------

#: Problem codes of a 503, each with its ``Retry-After`` (seconds), English detail and
#: user-facing message. A PostgreSQL restart or fail-over takes seconds; a refusal for load
#: asks for a short pause (clients add their own jitter).
DATABASE_UNAVAILABLE = "database_unavailable"
OVERLOADED = "overloaded"
UNAVAILABLE: dict[str, tuple[int, str, dict[str, str]]] = {
    DATABASE_UNAVAILABLE: (
        5,
        "The database cannot be reached right now. Retry after Retry-After seconds; a "
        "submission retried with the same Idempotency-Key is stored exactly once",
        {
            "zh-CN": "系统暂时无法连接数据库，请稍后再试。",
            "en": "The service cannot reach its database right now. Please try again in a moment.",
        },
    ),
    OVERLOADED: (
        2,
        "The server is handling as many requests as it can; this one was not started. "
        "Retry after Retry-After seconds",
        {
            "zh-CN": "当前访问人数较多，请稍后再试。",
            "en": "The service is busy right now. Please try again in a moment.",
        },
    ),
}

#: SQLSTATEs of a failed or refused connection: class 08 (connection exception) and these.
_PG_UNAVAILABLE_STATES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: the server is starting up or in recovery
        "53300",  # too_many_connections
        # The transaction lost to another and was rolled back whole: the same request, sent
        # again (the same Idempotency-Key), goes through.
        "40P01",  # deadlock_detected
        "40001",  # serialization_failure
    }
)
#: Modules whose frames mark an OS-level error as raised by the database layer.
_DRIVER_MODULES = ("sqlalchemy.", "asyncpg.", "aiosqlite.", "sqlite3")


def unavailable_code(exc: BaseException) -> str | None:
    """The 503 problem code for a failure of the database connection, else ``None``.

    ``overloaded``: no pooled connection came free within ``pool_timeout`` (the database is
    up, every connection is busy). ``database_unavailable``: a connection-level failure —
    connection refused or lost (also mid-transaction), the server shutting down or starting up,
    too many connections, a connect timeout, SQLite's "database is locked" after its busy
    timeout, or any error SQLAlchemy marked ``connection_invalidated`` (its own disconnect
    detection). Anything else — bad SQL, a constraint, a bug that happens to be an ``OSError``
    — stays a 500: an OS-level connection error counts only when the database layer raised it.
    """
    if isinstance(exc, sa_exc.TimeoutError):  # QueuePool checkout timeout
        return OVERLOADED
    return DATABASE_UNAVAILABLE if _connection_failed(exc, 0) else None


def _connection_failed(exc: BaseException, depth: int) -> bool:
    if depth > 6:
        return False
    if isinstance(exc, BaseExceptionGroup):  # several dependencies failed while cleaning up
        return all(_connection_failed(e, depth + 1) for e in exc.exceptions) and (
            exc.__cause__ is None or _connection_failed(exc.__cause__, depth + 1)
        )
    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated) or _driver_failure(exc.orig)
    # Not wrapped by SQLAlchemy (a refused connect comes through as the driver raised it).
    return _driver_failure(exc) and _raised_by_database_layer(exc)


def _driver_failure(err: BaseException | None) -> bool:
    """A driver's error (or its cause) says the connection failed, not the statement."""
    for _ in range(4):
        if err is None:
            return False
        state = getattr(err, "sqlstate", None)  # asyncpg's, and SQLAlchemy's adapter of it
        if isinstance(state, str) and (state.startswith("08") or state in _PG_UNAVAILABLE_STATES):
            return True
        if isinstance(err, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
        if isinstance(err, sqlite3.OperationalError) and (
            (getattr(err, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_BUSY
            or "database is locked" in str(err)
        ):
            return True
        err = err.__cause__
    return False


def _raised_by_database_layer(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def _failure_name(exc: BaseException) -> str:
    """The innermost exception type of a failure, for the log (never its text: a DBAPIError's
    text carries the statement and its parameters)."""
    for _ in range(8):
        if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        elif isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
            exc = exc.orig
        elif exc.__cause__ is not None:
            exc = exc.__cause__
        else:
            break
    return type(exc).__name__


def wants_page(path: str, accept: str) -> bool:
    """A browser asking for a page (not ``/api/…``, ``Accept`` names HTML) gets an HTML error
    page; everything else the problem document."""
    return not path.startswith("/api/") and "text/html" in accept


_PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
}


def unavailable_reply(
    code: str, *, path: str, accept: str, request_id: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers (``Content-Type`` among them) of a 503 ``code`` reply: a problem
    document, or for a browser's page request a short page in both languages with the national
    help lines (a student in distress still sees where to call). Built without the database
    or the template engine: the overload middleware sends it before any handler runs."""
    retry_after, _detail, _message = UNAVAILABLE[code]
    headers = {"Cache-Control": "no-store", "Retry-After": str(retry_after)}
    if wants_page(path, accept):
        body = _page_template(code).replace("{request_id}", html.escape(request_id)).encode()
        return body, {**headers, **_PAGE_HEADERS, "Content-Type": "text/html; charset=utf-8"}
    return _problem_template(code).replace(b"{request_id}", request_id.encode("ascii")), {
        **headers,
        "Content-Type": PROBLEM_JSON,
    }


@functools.cache
def _problem_template(code: str) -> bytes:
    _retry, detail, message = UNAVAILABLE[code]
    body = {
        "type": f"urn:runxin:problem:{code}",
        "title": "Service Unavailable",
        "status": 503,
        "detail": f"{detail}. Request id: {{request_id}}",
        "message": message,
    }
    return msgspec.json.encode(body)


@functools.cache
def _page_template(code: str) -> str:
    from survey_service.screening.help_contacts import help_contacts

    _retry, _detail, message = UNAVAILABLE[code]
    lines = "".join(
        f"<li>{html.escape(c.name['zh-CN'])} · {html.escape(c.name['en'])}: "
        f"<strong>{html.escape(c.contact)}</strong></li>"
        for c in help_contacts(None)
    )
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>服务暂时不可用 · Service temporarily unavailable</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.6}small{color:#555}</style></head><body><main>"
        f"<h1>服务暂时不可用</h1><p>{html.escape(message['zh-CN'])}</p>"
        '<h2 lang="en">Service temporarily unavailable</h2>'
        f'<p lang="en">{html.escape(message["en"])}</p>'
        f"<p>需要帮助 · If you need help now:</p><ul>{lines}</ul>"
        "<p><small>Request id: {request_id}</small></p></main></body></html>\n"
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ServiceError: handle_service_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    500: handle_internal_error,
}


_log = logging.getLogger("runxin.http")
_ACCESS_CODE_IN_PATH = re.compile(r"^/s/[^/]+")


def safe_path(path: str) -> str:
    """The request path without a student's access code (``/s/{code}/…``)."""
    return _ACCESS_CODE_IN_PATH.sub("/s/{code}", path)


async def log_exception(exc: Exception, scope: Scope) -> None:
    """One log line per failed request, nothing sensitive in it.

    An expected client error (a ``ServiceError`` or an HTTP 4xx) is logged at INFO without a
    traceback: method, path (access codes redacted), status and problem code, never the detail
    (which may echo input). A database that cannot be reached (a 503, see
    :func:`unavailable_code`) is WARNING without a traceback, naming the failure's type.
    Anything else is a server fault: ERROR with the traceback.
    A refusal of a signed-in staff member is also audited (:func:`audit_denial`).
    """
    from survey_service.request_id import request_id_of

    method = scope.get("method", "-")
    path = safe_path(str(scope.get("path", "-")))
    rid = request_id_of(scope)
    status = exc.status if isinstance(exc, ServiceError) else getattr(exc, "status_code", 500)
    if isinstance(exc, (ServiceError, HTTPException)) and int(status) < 500:
        code = exc.code if isinstance(exc, ServiceError) else type(exc).__name__
        fields = {"request_id": rid, "method": method, "path": path, "status": int(status)}
        _log.info(
            "%s %s -> %s %s [request %s]",
            method,
            path,
            status,
            code,
            rid,
            extra={**fields, "code": code},
        )
        await audit_denial(exc, scope)
    elif not isinstance(exc, (ServiceError, HTTPException)) and (
        unavailable := unavailable_code(exc)
    ):
        # The database is down or every connection is busy: the operator needs to know it
        # happens, not where in the code (one line per request, no traceback).
        _log.warning(
            "%s %s -> 503 %s (%s) [request %s]",
            method,
            path,
            unavailable,
            _failure_name(exc),
            rid,
            extra={
                "request_id": rid,
                "method": method,
                "path": path,
                "status": 503,
                "code": unavailable,
            },
        )
    else:
        _log.error(
            "%s %s -> 500 %s [request %s]",
            method,
            path,
            type(exc).__name__,
            rid,
            exc_info=exc,
            extra={"request_id": rid, "method": method, "path": path, "status": 500},
        )


#: Where the staff dependencies note who is signed in (``request.state``), for :func:`audit_denial`.
ACTOR_STATE_KEY = "runxin_actor"


def note_actor(state: Any, actor_id: Any, role: str, school_id: Any) -> None:
    """Remember the signed-in staff member of this request (``request.state``)."""
    state[ACTOR_STATE_KEY] = (actor_id, role, school_id)


def _is_denial(exc: Exception) -> bool:
    if isinstance(exc, (Forbidden, NotFound)):
        return True
    return isinstance(exc, HTTPException) and exc.status_code == 403


async def audit_denial(exc: Exception, scope: Scope) -> None:
    """Audit a 403, or a 404 (another scope's object answers like a missing one), refused to a
    signed-in staff member: ``access.denied`` with the method, the route template (never the
    raw path, which may carry codes or ids), the status and the problem code.

    The request's transaction has rolled back, so the row is written in a short transaction of
    its own. A failure here is logged at ERROR and never changes the reply.
    """
    actor = (scope.get("state") or {}).get(ACTOR_STATE_KEY)
    if actor is None or not _is_denial(exc):
        return
    try:
        from survey_service.services import audit

        app = scope["app"]
        actor_id, role, school_id = actor
        status = exc.status if isinstance(exc, ServiceError) else 403
        await audit.record_apart(
            app.state.session_factory,
            actor_id=actor_id,
            actor_role=role,
            action="access.denied",
            subject_type="route",
            subject_ids=[],
            school_id=school_id,
            now=app.state.clock.now(),
            detail={
                "method": str(scope.get("method", "-")),
                "route": str(scope.get("path_template") or "-"),
                "status": int(status),
                "code": exc.code if isinstance(exc, ServiceError) else "forbidden",
            },
        )
    except Exception:
        _log.error("could not audit a denied request", exc_info=True)
