"""The staff accounts pages (issue 13), plain HTML forms without script:

* ``/staff/admin/staff``: the accounts an administrator runs (a school administrator: their
  school; a district officer: the district, with a school filter), searched and paged.
* ``/staff/admin/staff/new``: add an account; the answer shows its one-time password once.
* ``/staff/admin/staff/{id}``: one account; resetting its password (a new one-time password)
  and disabling or enabling it each ask first on a confirmation page.
* ``/staff/password``: any signed-in staff member changes their own password; an account with
  a one-time password is sent here from every other page until it has (``_staff_session``).

A one-time password is never stored in clear nor put in an address: it is the body of the
answer to the form post that made it (``Cache-Control: no-store``, like every staff page).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from litestar import get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.accounts import admin, auth
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import BadRequest, Forbidden, ServiceError, Unprocessable
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, redirect, request_language, safe_next
from survey_service.pages.i18n import TEXT, label
from survey_service.security import client_address
from survey_service.services.paging import paginate, search_text
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Rt = NamedDependency[Runtime]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

LIST = "/staff/admin/staff"


def _message(request: AnyRequest, exc: ServiceError) -> str:
    return (exc.message or {}).get(request_language(request), exc.detail)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


# --- the list ---------------------------------------------------------------------------------


@get("/admin/staff", opt={"permission": "accounts.list"})
async def staff_list(request: AnyRequest, sess: Sess, db: Db) -> Template:
    user = ss.require(sess, "accounts.list")
    query = search_text(request.query_params.get("q"))
    school = _uuid(request.query_params.get("school"))
    listing = await admin.list_accounts(db, user, search=query, school_id=school)
    paged = paginate(
        listing.rows,
        LIST,
        {
            "q": query,
            "school": str(school) if school and listing.choices.district else "",
            "page": request.query_params.get("page", ""),
        },
    )
    return ss.page(
        request,
        "staff_admin_staff.html",
        sess,
        listing=listing,
        paged=paged,
        q=query,
        f_school=school if listing.choices.district else None,
        label=label,
    )


# --- a new account ----------------------------------------------------------------------------


def _new_form(
    request: AnyRequest,
    sess: ss.StaffSession,
    choices: admin.AccountChoices,
    form: admin.NewAccount,
    *,
    error: Unprocessable | None = None,
) -> Template:
    return ss.page(
        request,
        "staff_admin_staff_new.html",
        sess,
        status=422 if error else 200,
        choices=choices,
        form=form,
        error=_message(request, error) if error else None,
        error_field=error.extra.get("field") if error else None,
        label=label,
    )


@get("/admin/staff/new", opt={"permission": "accounts.create"})
async def staff_new(request: AnyRequest, sess: Sess, db: Db) -> Template:
    user = ss.require(sess, "accounts.create")
    choices = await admin.account_choices(db, user)
    return _new_form(request, sess, choices, admin.NewAccount("", "", ""))


@post("/admin/staff/new", status_code=200, opt={"permission": "accounts.create"})
async def staff_create(request: AnyRequest, data: Form, sess: Sess, db: Db, clock: Now) -> Template:
    """Create the account and show its one-time password; a bad form comes back (422) with
    the message naming the field and the values as typed, and nothing is stored."""
    user = ss.require(sess, "accounts.create")
    form = admin.NewAccount(
        username=data.get("username", ""),
        display_name=data.get("display_name", ""),
        role=data.get("role", ""),
        school_id=data.get("school", ""),
        email=data.get("email", ""),
        phone=data.get("phone", ""),
    )
    try:
        created = await admin.create_account(db, user, form, now=clock.now())
    except Unprocessable as exc:
        return _new_form(request, sess, await admin.account_choices(db, user), form, error=exc)
    return ss.page(request, "staff_admin_staff_password.html", sess, created=created, is_new=True)


# --- one account ------------------------------------------------------------------------------


async def _account_page(
    request: AnyRequest, sess: ss.StaffSession, db: AsyncSession, user_id: uuid.UUID, confirm: str
) -> Template:
    row = await admin.account(db, sess.user, user_id)
    if confirm == "active":
        confirm = "enable" if not row.active else "disable"
    return ss.page(
        request,
        "staff_admin_staff_account.html",
        sess,
        account=row,
        own=row.user_id == sess.user.id,
        confirm=confirm,
        label=label,
    )


@get("/admin/staff/{user_id:uuid}", opt={"permission": "accounts.list"})
async def staff_account(request: AnyRequest, user_id: uuid.UUID, sess: Sess, db: Db) -> Template:
    ss.require(sess, "accounts.list")
    return await _account_page(request, sess, db, user_id, "")


@get("/admin/staff/{user_id:uuid}/password", opt={"permission": "accounts.reset_password"})
async def staff_reset_confirm(
    request: AnyRequest, user_id: uuid.UUID, sess: Sess, db: Db
) -> Template:
    ss.require(sess, "accounts.reset_password")
    return await _account_page(request, sess, db, user_id, "reset")


@post(
    "/admin/staff/{user_id:uuid}/password",
    status_code=200,
    opt={"permission": "accounts.reset_password"},
)
async def staff_reset(
    request: AnyRequest, user_id: uuid.UUID, sess: Sess, db: Db, clock: Now
) -> Template:
    """A new one-time password, shown once; the account's sessions end."""
    user = ss.require(sess, "accounts.reset_password")
    created = await admin.reset_one_time(db, user, user_id, now=clock.now())
    return ss.page(request, "staff_admin_staff_password.html", sess, created=created, is_new=False)


@get("/admin/staff/{user_id:uuid}/active", opt={"permission": "accounts.set_active"})
async def staff_active_confirm(
    request: AnyRequest, user_id: uuid.UUID, sess: Sess, db: Db
) -> Template:
    ss.require(sess, "accounts.set_active")
    return await _account_page(request, sess, db, user_id, "active")


@post(
    "/admin/staff/{user_id:uuid}/active", status_code=303, opt={"permission": "accounts.set_active"}
)
async def staff_set_active(
    user_id: uuid.UUID, data: Form, sess: Sess, db: Db, clock: Now
) -> Redirect:
    """Disable (``active=0``: every session ends) or enable (``active=1``) the account. The
    form says which, so sending it twice does not undo it."""
    user = ss.require(sess, "accounts.set_active")
    active = data.get("active") == "1"
    await admin.set_active(db, user, user_id, active=active, now=clock.now())
    done = "acct_enabled" if active else "acct_disabled"
    return redirect(f"{LIST}/{user_id}?done={done}")


# --- one's own password -------------------------------------------------------------------------


def _password_page(
    request: AnyRequest,
    sess: ss.StaffSession,
    next_path: str,
    *,
    error: str | None = None,
    error_field: str | None = None,
    status: int = 200,
) -> Template:
    return ss.page(
        request,
        "staff_password.html",
        sess,
        status=status,
        next_path=next_path,
        forced=sess.user.must_change_password,
        error=error,
        error_field=error_field,
    )


def _next(sess: ss.StaffSession, value: str | None) -> str:
    """Where to go after the change: a local staff page (never the password page), else the
    role's home page."""
    home = ss.HOME.get(sess.user.role, "/staff/none")
    target = safe_next(value, home)
    return home if target.startswith(ss.PASSWORD_PAGE) or target == "/staff" else target


@get("/password", opt={"permission": "accounts.own_password"})
async def password_form(request: AnyRequest, sess: Sess) -> Template:
    ss.require(sess, "accounts.own_password")
    return _password_page(request, sess, _next(sess, request.query_params.get("next")))


@post("/password", status_code=303, opt={"permission": "accounts.own_password"})
async def password_change(
    request: AnyRequest, data: Form, sess: Sess, state: State, rt: Rt, clock: Now
) -> Template | Redirect:
    """Change one's own password (every other session ends), then go on to ``next``. A
    refusal comes back with the message naming the field: nothing is changed."""
    user = ss.require(sess, "accounts.own_password")
    next_path = _next(sess, data.get("next"))
    lang = request_language(request)
    current = data.get("current_password", "")[: auth.MAX_PASSWORD_LENGTH]
    new = data.get("new_password", "")[: auth.MAX_PASSWORD_LENGTH]
    if not current:
        return _password_page(
            request,
            sess,
            next_path,
            error=TEXT[lang]["acct_pw_missing"],
            error_field="current_password",
            status=422,
        )
    if new != data.get("repeat_password", "")[: auth.MAX_PASSWORD_LENGTH]:
        return _password_page(
            request,
            sess,
            next_path,
            error=TEXT[lang]["acct_pw_mismatch"],
            error_field="repeat_password",
            status=422,
        )
    try:
        # No request transaction: the attempt and its audit rows are written even when the
        # current password is wrong (auth.change_password has transactions of its own).
        await auth.change_password(
            state.session_factory,
            rt,
            user=user,
            authorization=f"Bearer {sess.token}",
            current_password=current,
            new_password=new,
            address=client_address(
                request.client.host if request.client else None,
                request.headers.get("x-forwarded-for"),
                rt.settings.trusted_proxies,
            ),
            now=clock.now(),
        )
    except auth.LoginThrottled as exc:
        page = _password_page(request, sess, next_path, error=_message(request, exc), status=429)
        page.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return page
    except (BadRequest, Forbidden) as exc:
        field = "current_password" if exc.code == "wrong_password" else "new_password"
        return _password_page(
            request, sess, next_path, error=_message(request, exc), error_field=field, status=422
        )
    joiner = "&" if "?" in next_path else "?"
    return redirect(f"{next_path}{joiner}done=acct_password_changed")


ROUTES: list[Any] = [
    staff_list,
    staff_new,
    staff_create,
    staff_account,
    staff_reset_confirm,
    staff_reset,
    staff_active_confirm,
    staff_set_active,
    password_form,
    password_change,
]
