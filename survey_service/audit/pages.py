"""The auditor's page: the audit log with the API's filters, newest first, 50 rows a page
(the API's cursor), and its export. On a phone each row is a card."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from survey_service.audit import service
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import BadRequest
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import DEFAULT_TZ, AnyRequest, local_time, request_language
from survey_service.pages.i18n import label
from survey_service.services.paging import PER_PAGE, page_number

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]

FILTERS = ("from", "to", "actor", "action", "school", "subject")


def _raw(request: AnyRequest, *names: str) -> dict[str, str | None]:
    """Query parameters; a bare date (the page's date fields) is that day in local time,
    ``to`` inclusive."""
    raw = {n: (request.query_params.get(n) or "").strip() or None for n in names}
    for name, extra in (("from", 0), ("to", 1)):
        value = raw.get(name)
        if value and len(value) == 10:
            try:
                day = date.fromisoformat(value) + timedelta(days=extra)
            except ValueError:
                continue
            raw[name] = datetime.combine(day, time(), ZoneInfo(DEFAULT_TZ)).isoformat()
    return raw


@get("/audit", opt={"permission": "audit.read"})
async def audit_page(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    shown = {n: request.query_params.get(n) or "" for n in FILTERS}
    raw = _raw(request, *FILTERS, "cursor")
    error, page = None, None
    try:
        filters = service.parse_filters(raw, limit=PER_PAGE)
    except BadRequest as exc:
        error = (exc.message or {}).get(request_language(request), exc.detail)
    else:
        page = await service.list_entries(db, sess.user, filters, now=clock.now())
    kept = {k: v for k, v in shown.items() if v}
    if request.query_params.get("lang"):
        kept["lang"] = request.query_params["lang"]
    # Pages go by a cursor (the log is long and grows while one reads it); ``page`` only
    # numbers them for the reader.
    number = page_number(request.query_params.get("page")) if raw.get("cursor") else 1
    return ss.page(
        request,
        "staff_audit.html",
        sess,
        status=400 if error else 200,
        page=page,
        values=shown,
        error=error,
        next_url=(
            "/staff/audit?"
            + urlencode({**kept, "cursor": page.next_cursor, "page": str(number + 1)})
            if page is not None and page.next_cursor
            else None
        ),
        newest_url=("/staff/audit?" + urlencode(kept) if kept else "/staff/audit")
        if raw.get("cursor")
        else None,
        first_index=(number - 1) * PER_PAGE + 1,
        page_no=number,
        export_query=urlencode({k: v for k, v in kept.items() if k != "lang"}),
        local_time=local_time,
        label=label,
    )


@get("/audit/export", opt={"permission": "audit.export"})
async def audit_export(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Response[bytes]:
    filters = service.parse_filters(_raw(request, *FILTERS))
    fmt = request.query_params.get("format") or "csv"
    export = await service.export_entries(db, sess.user, filters, fmt, now=clock.now())
    return Response(
        export.body,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES: list[Any] = [audit_page, audit_export]
