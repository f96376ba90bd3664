"""The schools and classes administration pages (issue 13), plain HTML forms without script:

* ``/staff/admin/schools``: the district officer's schools (paged, searchable) and a form to
  add one;
* ``/staff/admin/classes``: a school's classes with head teacher and counts (a district
  officer picks the school), and a form to add a class;
* ``/staff/admin/classes/{id}``: one class: its head teacher (a form to change it) and its
  students by student number with the psychology committee members ticked (a form to change
  them; the district's view shows counts only).

Handlers are thin: the checks, the scope and the audit rows are ``schools.directory_admin``'s.
A refused form comes back with 422, the message naming the field and the values as typed.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import Unprocessable
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, redirect, request_language
from survey_service.pages.i18n import label
from survey_service.schools import directory_admin as svc
from survey_service.services.paging import page_number, search_text

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

SCHOOLS = "/staff/admin/schools"
CLASSES = "/staff/admin/classes"


def _query(request: AnyRequest) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


def _error(request: AnyRequest, exc: Unprocessable) -> dict[str, Any]:
    """The message in the page's language and the field it names."""
    lang = request_language(request)
    return {
        "error": (exc.message or {}).get(lang, exc.detail),
        "error_field": exc.extra.get("field"),
    }


def _ids(data: dict[str, str], prefix: str) -> set[uuid.UUID]:
    """The student ids of the form's ``<prefix><id>`` fields (anything else is ignored)."""
    out = set()
    for key in data:
        if key.startswith(prefix):
            try:
                out.add(uuid.UUID(key.removeprefix(prefix)))
            except ValueError:
                continue
    return out


# --- schools ---------------------------------------------------------------------------------


async def _schools(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    *,
    form: dict[str, str] | None = None,
    status: int = 200,
    **error: Any,
) -> Template:
    query = _query(request) if form is None else {}
    view = await svc.schools_page(
        db, sess.user, search=search_text(query.get("q")), query=query, path=SCHOOLS
    )
    return ss.page(
        request,
        "staff_admin_schools.html",
        sess,
        status=status,
        view=view,
        form=form or {"timezone": svc.DEFAULT_TIMEZONE},
        **error,
    )


@get("/admin/schools", opt={"permission": "schools.list"})
async def schools_list(request: AnyRequest, sess: Sess, db: Db) -> Template:
    """The district's schools by code, searchable by name or code."""
    ss.require(sess, "schools.list")
    return await _schools(request, sess, db)


@post("/admin/schools", status_code=303, opt={"permission": "schools.create"})
async def schools_create(
    request: AnyRequest, data: Form, sess: Sess, db: Db, clock: Now
) -> Template | Redirect:
    """Add a school to the officer's district; a refused form stores nothing."""
    user = ss.require(sess, "schools.create")
    try:
        await svc.create_school(
            db,
            user,
            code=data.get("code", ""),
            name=data.get("name", ""),
            timezone=data.get("timezone", ""),
            counselling_room=data.get("room", ""),
            now=clock.now(),
        )
    except Unprocessable as exc:
        return await _schools(request, sess, db, form=data, status=422, **_error(request, exc))
    return redirect(f"{SCHOOLS}?done=done_ok")


# --- classes ---------------------------------------------------------------------------------


async def _classes(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    *,
    form: dict[str, str] | None = None,
    status: int = 200,
    **error: Any,
) -> Template:
    query = _query(request) if form is None else {}
    view = await svc.classes_page(
        db,
        sess.user,
        school_code=query.get("school") or None,
        search=search_text(query.get("q")),
        query=query,
        path=CLASSES,
    )
    return ss.page(
        request,
        "staff_admin_classes.html",
        sess,
        status=status,
        view=view,
        form=form or {},
        grades=range(1, 13),
        **error,
    )


@get("/admin/classes", opt={"permission": "classes.list"})
async def classes_list(request: AnyRequest, sess: Sess, db: Db) -> Template:
    """A school's classes (``?school=CODE`` for a district officer), searchable by name."""
    ss.require(sess, "classes.list")
    return await _classes(request, sess, db)


@post("/admin/classes", status_code=303, opt={"permission": "classes.edit"})
async def classes_add(
    request: AnyRequest, data: Form, sess: Sess, db: Db, clock: Now
) -> Template | Redirect:
    """Add a class to the caller's school, then open it (to name its head teacher)."""
    user = ss.require(sess, "classes.edit")
    try:
        class_id = await svc.add_class(
            db, user, grade=data.get("grade", ""), name=data.get("name", ""), now=clock.now()
        )
    except Unprocessable as exc:
        return await _classes(request, sess, db, form=data, status=422, **_error(request, exc))
    return redirect(f"{CLASSES}/{class_id}?done=done_ok")


async def _class(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    clock: Clock,
    class_id: uuid.UUID,
    *,
    form: dict[str, str] | None = None,
    status: int = 200,
    **error: Any,
) -> Template:
    query = _query(request)
    path = f"{CLASSES}/{class_id}"
    view = await svc.class_page(
        db,
        sess.user,
        class_id,
        search=search_text(query.get("q")),
        query=query,
        path=path,
        now=clock.now(),
    )
    return ss.page(
        request,
        "staff_admin_class.html",
        sess,
        status=status,
        view=view,
        form=form or {},
        action=path,
        back=f"{CLASSES}?school={view.school.code}",
        label=label,
        **error,
    )


@get("/admin/classes/{class_id:uuid}", opt={"permission": "classes.list"})
async def class_detail(
    request: AnyRequest, class_id: FromPath[uuid.UUID], sess: Sess, db: Db, clock: Now
) -> Template:
    """One class: head teacher, counts, its students by number (audited as read)."""
    ss.require(sess, "classes.list")
    return await _class(request, sess, db, clock, class_id)


@post("/admin/classes/{class_id:uuid}/head", status_code=303, opt={"permission": "classes.edit"})
async def class_head(
    request: AnyRequest, class_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, clock: Now
) -> Template | Redirect:
    """Name the class's head teacher, or none."""
    user = ss.require(sess, "classes.edit")
    try:
        await svc.set_head_teacher(db, user, class_id, head=data.get("head", ""), now=clock.now())
    except Unprocessable as exc:
        return await _class(
            request, sess, db, clock, class_id, form=data, status=422, **_error(request, exc)
        )
    return redirect(f"{CLASSES}/{class_id}?done=done_ok")


@post(
    "/admin/classes/{class_id:uuid}/committee",
    status_code=303,
    opt={"permission": "classes.edit"},
)
async def class_committee(
    request: AnyRequest, class_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, clock: Now
) -> Redirect:
    """Tick or untick the committee members among the students the page showed; back to
    the same page of the list."""
    user = ss.require(sess, "classes.edit")
    await svc.set_committee(
        db,
        user,
        class_id,
        shown=_ids(data, "shown_"),
        members=_ids(data, "member_"),
        now=clock.now(),
    )
    kept = {"done": "done_ok", "q": search_text(data.get("q"))}
    page = page_number(data.get("page"))
    if page > 1:
        kept["page"] = str(page)
    return redirect(f"{CLASSES}/{class_id}?{urlencode({k: v for k, v in kept.items() if v})}")


ROUTES: list[Any] = [
    schools_list,
    schools_create,
    classes_list,
    classes_add,
    class_detail,
    class_head,
    class_committee,
]
