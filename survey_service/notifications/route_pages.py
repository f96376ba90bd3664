"""The school's notification routes page, ``/staff/admin/routes`` (issue 13): where alerts go
for each school role (WeCom or DingTalk robot, e-mail, SMS gateway, signed webhook, in-app),
read and set by the school lead or administrator of their own school. Plain HTML forms.

The model is the on-call rota page: one form row per configured channel and a few blank rows;
a row whose kind is "—" is left out (that is how a channel is removed). Secrets and robot URLs
are never shown once saved (only that one is set, and a URL's host): a row that leaves them
blank keeps the stored ones. A bad row comes back as a 422 naming the channel and field, with
the rows as typed (secrets never echoed); nothing is stored then.
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
from survey_service.notifications import routing
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, redirect, request_language
from survey_service.pages.i18n import label

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

BLANK_ROWS = 2
MAX_ROWS = 40
#: The form fields of one row (``<field>_<row>``), text first, then check boxes.
_TEXT_FIELDS = ("key", "role", "kind", "name", "target", "sender", "username", "fallback")


def _stored_rows(view: routing.RoutesPage) -> list[dict[str, Any]]:
    """Form rows for the configured channels (hidden targets and every secret left blank),
    then blank rows."""
    rows: list[dict[str, Any]] = [
        {
            "key": c.key,
            "role": c.role,
            "kind": c.kind,
            "name": c.name,
            "target": "" if c.target_hidden else c.target,
            "sender": c.sender,
            "username": "",
            "fallback": c.fallback,
            "names": c.names_enabled,
            "clear": False,
        }
        for c in view.stored
    ]
    return rows + _blank_rows()


def _blank_rows() -> list[dict[str, Any]]:
    blank = {field: "" for field in _TEXT_FIELDS}
    return [{**blank, "names": False, "clear": False} for _ in range(BLANK_ROWS)]


def _typed_rows(data: dict[str, str]) -> list[dict[str, Any]]:
    """The rows as typed, to save and to show again with an error (never a secret)."""
    try:
        count = min(int(data.get("rows", "0")), MAX_ROWS)
    except ValueError:
        count = 0
    return [
        {
            **{field: data.get(f"{field}_{i}", "").strip() for field in _TEXT_FIELDS},
            "names": bool(data.get(f"names_{i}")),
            "clear": bool(data.get(f"clear_{i}")),
        }
        for i in range(count)
    ]


def _rows_in(data: dict[str, str], typed: list[dict[str, Any]]) -> list[routing.RouteRowIn]:
    """The rows to save: those with a channel kind ("—" leaves a row out)."""
    return [
        routing.RouteRowIn(
            index=i,
            role=row["role"],
            kind=row["kind"],
            name=row["name"],
            target=row["target"],
            secret=data.get(f"secret_{i}", "").strip(),
            clear_secret=row["clear"],
            sender=row["sender"],
            username=row["username"],
            names_enabled=row["names"],
            fallback=row["fallback"],
            key=row["key"],
        )
        for i, row in enumerate(typed)
        if row["kind"]
    ]


def _render(
    request: AnyRequest,
    sess: ss.StaffSession,
    view: routing.RoutesPage,
    *,
    rows: list[dict[str, Any]] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    status: int = 200,
) -> Template:
    return ss.page(
        request,
        "staff_admin_routes.html",
        sess,
        status=status,
        view=view,
        rows=rows if rows is not None else _stored_rows(view),
        stored={c.key: c for c in view.stored},
        secret_kinds=("webhook", "dingtalk", "sms", "email"),
        error=error,
        error_field=error_field,
        label=label,
    )


@get("/admin/routes", opt={"permission": "routes.edit"})
async def routes_page(request: AnyRequest, sess: Sess, db: Db) -> Template:
    user = ss.require(sess, "routes.edit")
    return _render(request, sess, await routing.routes_page(db, user))


@post("/admin/routes", status_code=303, opt={"permission": "routes.edit"})
async def routes_save(
    request: AnyRequest, data: Form, sess: Sess, db: Db, clock: Now
) -> Template | Redirect:
    """Save the school's routes; an invalid row comes back with the message (naming the
    channel and field) and the rows as typed. Nothing is stored then."""
    user = ss.require(sess, "routes.edit")
    typed = _typed_rows(data)
    try:
        await routing.put_own_routes(db, user, _rows_in(data, typed), now=clock.now())
    except Unprocessable as exc:
        lang = request_language(request)
        return _render(
            request,
            sess,
            await routing.routes_page(db, user),
            rows=typed or _blank_rows(),
            error=(exc.message or {}).get(lang, exc.detail),
            error_field=exc.extra.get("field"),
            status=422,
        )
    return redirect("/staff/admin/routes?done=done_ok")


ROUTES: list[Any] = [routes_page, routes_save]
