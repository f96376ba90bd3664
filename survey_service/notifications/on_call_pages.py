"""The on-call rota page (issue 11): the school lead views and edits who is paged about a
suicide-pathway case outside school hours; counsellors read it. Plain HTML forms, no script.

The form has one row per rota entry (an entry with several weekly windows shows as one row per
window, which pages the same people at the same hours) and a few blank rows; a row without a
"who" is ignored, and a form without rows restores the default rota.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import Unprocessable
from survey_service.notifications import on_call
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, redirect, request_language
from survey_service.pages.i18n import label
from triage.channels import WEEKDAYS, OnCallEntry

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

BLANK_ROWS = 3
MAX_ROWS = 50


def _rows(entries: list[OnCallEntry]) -> list[dict[str, Any]]:
    """Form rows for the rota: one per (entry, window), then blank rows."""
    rows: list[dict[str, Any]] = []
    for entry in entries:
        who = f"user:{entry.user_id}" if entry.user_id else f"role:{entry.role}"
        base = {
            "who": who,
            "channel": entry.channel or "",
            "outside": entry.outside_school_hours,
        }
        if not entry.windows:
            rows.append({**base, "days": [], "start": "", "end": ""})
        for window in entry.windows:
            rows.append(
                {**base, "days": list(window.days), "start": window.start, "end": window.end}
            )
    blank = {"who": "", "channel": "", "outside": False, "days": [], "start": "", "end": ""}
    return rows + [dict(blank) for _ in range(BLANK_ROWS)]


def _entries(data: dict[str, str]) -> list[dict[str, Any]]:
    """The rota the form describes (checked by the service, which names any bad field)."""
    try:
        count = min(int(data.get("rows", "0")), MAX_ROWS)
    except ValueError:
        count = 0
    entries: list[dict[str, Any]] = []
    for i in range(count):
        who = data.get(f"who_{i}", "").strip()
        if not who:
            continue
        kind, _, value = who.partition(":")
        entry: dict[str, Any] = {"user_id" if kind == "user" else "role": value}
        channel = data.get(f"channel_{i}", "").strip()
        if channel:
            entry["channel"] = channel
        if data.get(f"outside_{i}"):
            entry["outside_school_hours"] = True
        days = [d for d in WEEKDAYS if data.get(f"day_{i}_{d}")]
        start, end = data.get(f"start_{i}", "").strip(), data.get(f"end_{i}", "").strip()
        if days or start or end:
            entry["windows"] = [{"days": days, "start": start or "00:00", "end": end or "24:00"}]
        entries.append(entry)
    return entries


def _form_rows(data: dict[str, str]) -> list[dict[str, Any]]:
    """The rows as typed (to show them again with an error)."""
    try:
        count = min(int(data.get("rows", "0")), MAX_ROWS)
    except ValueError:
        count = 0
    return [
        {
            "who": data.get(f"who_{i}", ""),
            "channel": data.get(f"channel_{i}", ""),
            "outside": bool(data.get(f"outside_{i}")),
            "days": [d for d in WEEKDAYS if data.get(f"day_{i}_{d}")],
            "start": data.get(f"start_{i}", ""),
            "end": data.get(f"end_{i}", ""),
        }
        for i in range(count)
    ]


def _render(
    request: AnyRequest,
    sess: ss.StaffSession,
    view: on_call.OnCallPage,
    *,
    rows: list[dict[str, Any]] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Template:
    lang = request_language(request)
    staff_names = {s.user_id: s.display_name for s in view.staff}
    return ss.page(
        request,
        "staff_on_call.html",
        sess,
        status=status,
        view=view,
        rows=rows if rows is not None else _rows(view.rota.entries),
        staff_names=staff_names,
        weekdays=WEEKDAYS,
        default_text=(view.rota.default or {}).get(lang),
        error=error,
        label=label,
    )


@get("/on-call", opt={"permission": "rota.page"})
async def on_call_page(request: AnyRequest, sess: Sess, db: Db) -> Template:
    ss.require(sess, "rota.page")
    return _render(request, sess, await on_call.on_call_page(db, sess.user))


@post("/on-call", status_code=303, opt={"permission": "rota.page_edit"})
async def on_call_save(
    request: AnyRequest, data: Form, sess: Sess, db: Db, clock: Now
) -> Template | Redirect:
    """Save the rota; an invalid one comes back with the message (naming the field) and the
    rows as typed. Nothing is stored then."""
    ss.require(sess, "rota.page_edit")
    try:
        await on_call.put_own_on_call(db, sess.user, {"entries": _entries(data)}, now=clock.now())
    except Unprocessable as exc:
        lang = request_language(request)
        view = await on_call.on_call_page(db, sess.user)
        rows = _form_rows(data)
        return _render(
            request,
            sess,
            view,
            rows=rows or _rows([]),
            error=(exc.message or {}).get(lang, exc.detail),
            status=422,
        )
    return redirect("/staff/on-call?done=done_ok")


ROUTES: list[Any] = [on_call_page, on_call_save]
