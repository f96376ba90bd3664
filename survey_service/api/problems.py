"""The error replies of the JSON API, documented in its OpenAPI schema.

Every operation may answer with an RFC 9457 problem document (``application/problem+json``,
see :mod:`survey_service.errors`); :func:`document_errors` declares those replies on every
handler when the API routes are gathered, so the published schema lists every status a route
can return. A handler's own declaration of a status (e.g. the roster upload's 422 report) wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from survey_service.errors import PROBLEM_JSON

__all__ = ["ERROR_STATUSES", "Problem", "document_errors"]


class Problem(msgspec.Struct, frozen=True):
    """An error reply. ``type`` is ``urn:runxin:problem:<code>``; ``detail`` says what is wrong
    (naming the field, e.g. ``$.kind``); ``message`` is user-facing text in ``zh-CN`` and
    ``en`` where there is some; ``errors`` lists each invalid field of a 400. Some problems carry
    more members (e.g. ``field``)."""

    type: str
    title: str
    status: int
    detail: str
    message: dict[str, str] | None = None
    errors: list[dict[str, Any]] | None = None


#: The statuses every API operation may answer with a problem document, and what they mean.
ERROR_STATUSES: dict[int, str] = {
    400: "Bad request: a field is missing, too long, of the wrong type or has control characters",
    401: "Unauthorized: no valid bearer token (staff) or session token (student)",
    403: "Forbidden: the role may not do this",
    404: "Not found (also what another school's objects answer)",
    409: "Conflict with the current state",
    410: "Gone: the access code or session is no longer valid",
    413: "The request body is larger than this service accepts",
    422: "Unprocessable: well-formed but not acceptable (the detail says why)",
    429: "Too many requests: try again later",
}


def document_errors(handlers: Iterable[Any]) -> None:
    """Declare the problem replies of :data:`ERROR_STATUSES` on each route handler."""
    for handler in handlers:
        declared = dict(getattr(handler, "responses", None) or {})
        for status, description in ERROR_STATUSES.items():
            declared.setdefault(
                status,
                ResponseSpec(
                    data_container=Problem,
                    description=description,
                    media_type=PROBLEM_JSON,
                    generate_examples=False,
                ),
            )
        handler.responses = declared
