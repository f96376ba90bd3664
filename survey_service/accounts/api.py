"""Staff sign-in and accounts over the JSON API: login, logout, one's own password, and the
administrators' actions on staff accounts."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from survey_service.accounts import admin, auth
from survey_service.accounts.schemas import (
    LoginRequest,
    LoginResponse,
    MoveSchoolRequest,
    PasswordChangeRequest,
    PasswordResetRequest,
    StaffAccountView,
)
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.errors import handle_service_error
from survey_service.security import client_address
from survey_service.services.runtime import Runtime

AnyRequest = Request[Any, Any, Any]
Db = NamedDependency[AsyncSession]
Rt = NamedDependency[Runtime]
Now = NamedDependency[Clock]
Staff = NamedDependency[StaffUser]


def _address(request: AnyRequest, rt: Runtime) -> str:
    return client_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        rt.settings.trusted_proxies,
    )


def _throttled(request: AnyRequest, exc: auth.LoginThrottled) -> Response[dict[str, Any]]:
    """429 with ``Retry-After``: the seconds until the window has passed."""
    response = handle_service_error(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


THROTTLED: dict[Any, Any] = {auth.LoginThrottled: _throttled}


@post(
    "/api/v1/auth/login",
    tags=["staff"],
    summary="Exchange username and password for a token",
    description="Throttled: after repeated failures for one account or from one address the "
    "answer is 429 with Retry-After (seconds), even for the right password.",
    status_code=200,
    exception_handlers=THROTTLED,
)
async def login(
    request: AnyRequest, data: JSONBody[LoginRequest], state: State, rt: Rt, clock: Now
) -> LoginResponse:
    # No request transaction: the attempt and its audit rows persist although the answer is
    # 401 (auth.login writes them in short transactions of its own).
    return await auth.login(
        state.session_factory,
        rt,
        username=data.username,
        password=data.password,
        address=_address(request, rt),
        now=clock.now(),
    )


@post(
    "/api/v1/auth/logout",
    tags=["staff"],
    summary="Revoke this bearer token",
    status_code=204,
    opt={"permission": "session.own"},
)
async def logout(request: AnyRequest, staff: Staff, db: Db, rt: Rt, clock: Now) -> None:
    await auth.sign_out(
        db, rt, user=staff, authorization=request.headers.get("authorization"), now=clock.now()
    )


@post(
    "/api/v1/auth/password",
    tags=["staff"],
    summary="Change one's own password (ends one's other sessions)",
    status_code=204,
    exception_handlers=THROTTLED,
    opt={"permission": "accounts.own_password"},
)
async def change_password(
    request: AnyRequest,
    data: JSONBody[PasswordChangeRequest],
    staff: Staff,
    state: State,
    rt: Rt,
    clock: Now,
) -> None:
    await auth.change_password(
        state.session_factory,
        rt,
        user=staff,
        authorization=request.headers.get("authorization"),
        current_password=data.current_password,
        new_password=data.new_password,
        address=_address(request, rt),
        now=clock.now(),
    )


@post(
    "/api/v1/staff/{user_id:uuid}/password",
    tags=["staff"],
    summary="Set a staff member's new password (ends their sessions)",
    status_code=200,
    opt={"permission": "accounts.reset_password"},
)
async def reset_password(
    user_id: uuid.UUID, data: JSONBody[PasswordResetRequest], staff: Staff, db: Db, clock: Now
) -> StaffAccountView:
    return await admin.reset_password(
        db, staff, user_id, new_password=data.new_password, now=clock.now()
    )


@post(
    "/api/v1/staff/{user_id:uuid}/disable",
    tags=["staff"],
    summary="Disable a staff account (ends its sessions)",
    status_code=200,
    opt={"permission": "accounts.set_active"},
)
async def disable(user_id: uuid.UUID, staff: Staff, db: Db, clock: Now) -> StaffAccountView:
    return await admin.set_active(db, staff, user_id, active=False, now=clock.now())


@post(
    "/api/v1/staff/{user_id:uuid}/enable",
    tags=["staff"],
    summary="Enable a disabled staff account",
    status_code=200,
    opt={"permission": "accounts.set_active"},
)
async def enable(user_id: uuid.UUID, staff: Staff, db: Db, clock: Now) -> StaffAccountView:
    return await admin.set_active(db, staff, user_id, active=True, now=clock.now())


@post(
    "/api/v1/staff/{user_id:uuid}/school",
    tags=["staff"],
    summary="Move a staff account to another school of the district (ends its sessions)",
    status_code=200,
    opt={"permission": "accounts.move_school"},
)
async def move_school(
    user_id: uuid.UUID, data: JSONBody[MoveSchoolRequest], staff: Staff, db: Db, clock: Now
) -> StaffAccountView:
    return await admin.move_school(db, staff, user_id, school_id=data.school_id, now=clock.now())


ROUTES = [login, logout, change_password, reset_password, disable, enable, move_school]
