"""Staff sign-in pages: the login form, sign-out and the landing redirect by role."""

from __future__ import annotations

import math
from typing import Any

from litestar import get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.accounts import auth
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import Unauthorized
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import (
    AnyRequest,
    expired_cookie,
    redirect,
    safe_next,
)
from survey_service.security import client_address
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Rt = NamedDependency[Runtime]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

# --- sign-in -----------------------------------------------------------------------------


@get("/login")
async def login_form(request: AnyRequest, db: Db, rt: Rt, clock: Now) -> Template | Redirect:
    if await ss.current(request, db, rt, clock) is not None:
        return redirect(safe_next(request.query_params.get("next")))
    return ss.login_page(request, next_path=safe_next(request.query_params.get("next"), ""))


@post("/login", status_code=303)
async def login_submit(
    request: AnyRequest, data: Form, state: State, rt: Rt, clock: Now
) -> Template | Redirect:
    next_path = safe_next(data.get("next"), "")
    if not ss.login_csrf_ok(request, data.get(ss.CSRF_FIELD)):
        return ss.login_page(request, error="login_cookie", status=403, next_path=next_path)
    # No request transaction: auth.login writes the attempt and its audit rows itself.
    try:
        issued = await auth.login(
            state.session_factory,
            rt,
            username=data.get("username", "").strip()[:200],
            password=data.get("password", "")[: auth.MAX_PASSWORD_LENGTH],
            address=client_address(
                request.client.host if request.client else None,
                request.headers.get("x-forwarded-for"),
                rt.settings.trusted_proxies,
            ),
            now=clock.now(),
        )
    except auth.LoginThrottled as exc:
        page = ss.login_page(
            request,
            error="login_throttled",
            status=429,
            next_path=next_path,
            error_args=(max(1, math.ceil(exc.retry_after / 60)),),
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except Unauthorized:
        return ss.login_page(request, error="login_failed", status=401, next_path=next_path)
    return redirect(
        next_path or ss.HOME.get(issued.role, "/staff/none"),
        cookies=[
            ss.session_cookie(request, rt, issued.access_token),
            expired_cookie(request, ss.LOGIN_COOKIE, path="/staff"),
        ],
    )


@get("/logout", opt={"permission": "session.own"})
async def logout_form(request: AnyRequest, sess: Sess) -> Template:
    return ss.page(request, "staff_logout.html", sess)


@post("/logout", status_code=303, opt={"permission": "session.own"})
async def logout(request: AnyRequest, sess: Sess, db: Db, rt: Rt) -> Redirect:
    await ss.sign_out(db, rt, sess)
    return redirect(
        "/staff/login", cookies=[expired_cookie(request, ss.STAFF_COOKIE, path="/staff")]
    )


@get("/")
async def home(request: AnyRequest, db: Db, rt: Rt, clock: Now) -> Redirect:
    return ss.home(await ss.current(request, db, rt, clock))


@get("/none", opt={"permission": "session.own"})
async def no_page(request: AnyRequest, sess: Sess) -> Template:
    return ss.page(request, "staff_none.html", sess)


ROUTES: list[Any] = [login_form, login_submit, logout_form, logout, home, no_page]
