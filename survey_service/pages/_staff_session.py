"""Staff sign-in for the pages: a staff bearer token in a signed cookie, CSRF per session.

* The cookie holds the token that ``services.auth.login`` issued (stored as a digest in
  ``staff_tokens``), signed with the service key; HttpOnly, SameSite=Strict, Secure (unless
  the service runs on plain http on localhost), and only sent to ``/staff`` addresses.
* Every form carries a hidden ``_csrf`` field: an HMAC of the token, so it is fixed for one
  sign-in and useless without it. Every unsafe request (POST) is refused without it, before the
  handler runs. The sign-in form itself is protected by a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template

from survey_service.accounts import auth, permissions
from survey_service.accounts.permissions import PERMISSIONS, Role
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.errors import Forbidden, ServiceError, Unauthorized, note_actor
from survey_service.pages._web import (
    AnyRequest,
    redirect,
    render,
    request_language,
    secret_cookie,
    sign,
    unsign,
)
from survey_service.pages.i18n import TEXT, label
from survey_service.services.runtime import Runtime

STAFF_COOKIE = "rx_staff"
LOGIN_COOKIE = "rx_login"
_PURPOSE = "staff-session"
CSRF_FIELD = "_csrf"

# The staff navigation: each page with the operation it needs (``accounts.permissions``). A
# role's navigation is the pages it may open, in this order; it lands on the first one.
NAV_ITEMS = (
    ("/staff/district", "nav_district", "dashboards.district"),
    ("/staff/queue", "nav_queue", "cases.list"),
    ("/staff/school", "nav_school", "dashboards.school"),
    ("/staff/class", "nav_class", "classes.read"),
    ("/staff/audit", "nav_audit", "audit.read"),
    ("/staff/admin", "nav_admin", "admin.page"),
)
NAV = {
    role.value: [(path, key) for path, key, op in NAV_ITEMS if role in PERMISSIONS.get(op, ())]
    for role in Role
}
HOME = {role: items[0][0] for role, items in NAV.items() if items}


AnyConnection = ASGIConnection[Any, Any, Any, Any]


class LoginRequired(Unauthorized):
    """No valid staff cookie: go to the sign-in page (logged as an expected 4xx)."""

    def __init__(self) -> None:
        super().__init__("Sign in to open this page", code="login_required")


class CsrfFailed(Forbidden):
    """A form post without the session's CSRF token (logged, and audited, as a refusal)."""

    def __init__(self) -> None:
        super().__init__("The form's CSRF token is missing or wrong", code="csrf_failed")


@dataclass(frozen=True)
class StaffSession:
    user: StaffUser
    token: str
    csrf: str


def csrf_token(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def session_cookie(request: AnyRequest, rt: Runtime, token: str) -> Any:
    return secret_cookie(
        request,
        STAFF_COOKIE,
        sign(rt.settings.secret_key, _PURPOSE, token),
        path="/staff",
        max_age=rt.settings.staff_token_ttl_s,
        samesite="strict",
    )


def _token(request: AnyConnection, rt: Runtime) -> str | None:
    return unsign(rt.settings.secret_key, _PURPOSE, request.cookies.get(STAFF_COOKIE))


async def current(
    request: AnyConnection, db: AsyncSession, rt: Runtime, clock: Clock
) -> StaffSession | None:
    token = _token(request, rt)
    if token is None:
        return None
    try:
        user = await auth.authenticate(db, rt, authorization=f"Bearer {token}", now=clock.now())
    except Unauthorized:
        return None
    return StaffSession(user=user, token=token, csrf=csrf_token(rt.settings.secret_key, token))


async def provide_session(
    request: AnyRequest,
    state: State,
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
) -> StaffSession:
    """The signed-in staff member (the access guard's); a form post must carry the
    session's CSRF token."""
    session = await _signed_in(request, state, rt, clock)
    if request.method not in {"GET", "HEAD", "OPTIONS"}:
        form = await request.form()
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
            raise CsrfFailed
    return session


#: Where the access guard keeps the signed-in staff session (``scope["state"]``).
SESSION_KEY = "runxin.staff_session"


async def _signed_in(
    connection: AnyConnection, state: State, rt: Runtime, clock: Clock
) -> StaffSession:
    """The staff session of the cookie (the guard's, when it ran), or ``LoginRequired``.

    The token is checked in a short session of its own: litestar does not clean up the
    request's ``db`` dependency when another dependency raises, so this one must not raise
    after the request's transaction has started (on SQLite it would hold the write lock).
    """
    held = connection.scope.get("state", {}).get(SESSION_KEY)
    if isinstance(held, StaffSession):
        return held
    async with state.session_factory() as own, own.begin():  # commits the last-use mark
        session = await current(connection, own, rt, clock)
    if session is None:
        raise LoginRequired
    note_actor(connection.state, session.user.id, session.user.role, session.user.school_id)
    connection.scope.setdefault("state", {})[SESSION_KEY] = session
    return session


async def page_guard(connection: AnyConnection, route_handler: BaseRouteHandler) -> None:
    """Refuse a staff page before its dependencies and handler run: the sign-in page without
    a valid session cookie, the password page while the account still has a one-time password
    (issue 13: every page but that one and signing out), a 403 page (``forbidden_role``) when
    the role may not perform the page's operation (``opt["permission"]``, see
    ``accounts.permissions``). The CSRF token of a form post is checked after it, by
    :func:`provide_session`."""
    operation = permissions.operation_of(route_handler.opt)
    if operation is None:
        return
    state = connection.app.state
    session = await _signed_in(connection, state, state.runtime, state.clock)
    # Signing out stays open; the landing page ``/staff/none`` (session.own too) does not.
    if (
        session.user.must_change_password
        and operation != "accounts.own_password"
        and connection.url.path != LOGOUT_PAGE
    ):
        raise auth.PasswordChangeRequired
    permissions.require(session.user, operation)


def require(session: StaffSession, operation: str) -> StaffUser:
    """The user, if their role may perform ``operation`` (a 403 page otherwise)."""
    permissions.require(session.user, operation)
    return session.user


def page(
    request: AnyRequest, name: str, session: StaffSession, *, status: int = 200, **context: Any
) -> Template:
    """A staff page: navigation for the role, the CSRF token for its forms, and ``can(op)``
    (whether the role may perform an operation: which links and buttons to show)."""
    lang = request_language(request)
    flash_key = request.query_params.get("done")
    flash = TEXT[lang].get(flash_key) if flash_key in FLASHES else None
    return render(
        request,
        name,
        lang,
        status=status,
        user=session.user,
        role_label=label("role", session.user.role, lang),
        csrf=session.csrf,
        nav=NAV.get(session.user.role, []),
        can=lambda operation: permissions.allowed(permissions.role_of(session.user), operation),
        flash=flash,
        **context,
    )


FLASHES = {
    "done_ok",
    "plan_saved",
    "obs_done",
    "obs_done_case",
    # issue 13: staff accounts and one's own password
    "acct_password_changed",
    "acct_disabled",
    "acct_enabled",
}


def login_page(
    request: AnyRequest,
    *,
    error: str | None = None,
    status: int = 200,
    next_path: str = "",
    error_args: tuple[object, ...] = (),
) -> Template:
    """The sign-in form with a fresh double-submit token (cookie and hidden field);
    ``error_args`` fill the error text's ``{}`` slots."""
    lang = request_language(request)
    token = secrets.token_urlsafe(24)
    return render(
        request,
        "staff_login.html",
        lang,
        status=status,
        cookies=[
            secret_cookie(
                request, LOGIN_COOKIE, token, path="/staff", max_age=3600, samesite="strict"
            )
        ],
        login_csrf=token,
        error=TEXT[lang][error].format(*error_args) if error else None,
        next_path=next_path,
        nav=[],
        user=None,
    )


def login_csrf_ok(request: AnyRequest, sent: str | None) -> bool:
    held = request.cookies.get(LOGIN_COOKIE)
    return bool(held and sent and hmac.compare_digest(held, sent))


def on_login_required(request: AnyRequest, _: LoginRequired) -> Redirect:
    target = request.url.path if request.method == "GET" else "/staff"
    return redirect(f"/staff/login?next={target}")


LOGOUT_PAGE = "/staff/logout"
#: The page where an account changes its own password (``accounts.admin_pages``).
PASSWORD_PAGE = "/staff/password"  # noqa: S105 - a page address, not a secret


def on_password_change_required(request: AnyRequest, _: auth.PasswordChangeRequired) -> Redirect:
    """A one-time password is still in use: to the password page, and back afterwards (a
    form post goes back to the staff home)."""
    target = request.url.path if request.method == "GET" else "/staff"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return redirect(f"{PASSWORD_PAGE}?next={quote(target, safe='/')}")


def on_csrf_failed(request: AnyRequest, _: CsrfFailed) -> Template:
    lang = request_language(request)
    return _error(request, lang, TEXT[lang]["csrf_failed"], 403)


def on_service_error(request: AnyRequest, exc: ServiceError) -> Template:
    """Service errors as a page: the localized message, or the service's (English) detail."""
    lang = request_language(request)
    message = (exc.message or {}).get(lang)
    if message is None:
        message = {403: TEXT[lang]["forbidden"], 404: TEXT[lang]["not_found"]}.get(
            exc.status, exc.detail
        )
    return _error(request, lang, message, exc.status)


def _error(request: AnyRequest, lang: str, message: str, status: int) -> Template:
    back = request.headers.get("referer") or "/staff"
    if not back.startswith(("/staff", str(request.base_url).rstrip("/") + "/staff")):
        back = "/staff"
    return render(
        request,
        "staff_error.html",
        lang,
        status=status,
        message=message,
        back=back,
        nav=[],
        user=None,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    LoginRequired: on_login_required,
    auth.PasswordChangeRequired: on_password_change_required,
    CsrfFailed: on_csrf_failed,
    ServiceError: on_service_error,
}


async def sign_out(db: AsyncSession, rt: Runtime, session: StaffSession) -> None:
    """Revoke the staff token; the cookie is cleared by the caller."""
    await auth.logout(db, rt, token=session.token)


def home(session: StaffSession | None) -> Redirect:
    if session is None:
        return redirect("/staff/login")
    return redirect(HOME.get(session.user.role, "/staff/none"))
