"""Service errors and their RFC 9457 ``application/problem+json`` rendering."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import Scope

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


def handle_internal_error(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]]:
    # No details leak to the client; the traceback goes to the server log (log_exception),
    # under the request id the client is given to quote.
    from survey_service.request_id import request_id_of

    rid = request_id_of(request.scope)
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


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ServiceError: handle_service_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    500: handle_internal_error,
}


_log = logging.getLogger("runxin.http")
_ACCESS_CODE_IN_PATH = re.compile(r"^/s/[^/]+")


def _safe_path(path: str) -> str:
    """The request path without a student's access code (``/s/{code}/…``)."""
    return _ACCESS_CODE_IN_PATH.sub("/s/{code}", path)


async def log_exception(exc: Exception, scope: Scope) -> None:
    """One log line per failed request, nothing sensitive in it.

    An expected client error (a ``ServiceError`` or an HTTP 4xx) is logged at INFO without a
    traceback: method, path (access codes redacted), status and problem code, never the detail
    (which may echo input). Anything else is a server fault: ERROR with the traceback.
    A refusal of a signed-in staff member is also audited (:func:`audit_denial`).
    """
    from survey_service.request_id import request_id_of

    method = scope.get("method", "-")
    path = _safe_path(str(scope.get("path", "-")))
    rid = request_id_of(scope)
    status = exc.status if isinstance(exc, ServiceError) else getattr(exc, "status_code", 500)
    if isinstance(exc, (ServiceError, HTTPException)) and int(status) < 500:
        code = exc.code if isinstance(exc, ServiceError) else type(exc).__name__
        _log.info("%s %s -> %s %s [request %s]", method, path, status, code, rid)
        await audit_denial(exc, scope)
    else:
        _log.error(
            "%s %s -> 500 %s [request %s]", method, path, type(exc).__name__, rid, exc_info=exc
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
