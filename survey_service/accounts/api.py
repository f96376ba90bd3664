"""Staff login over the JSON API: username and password for a bearer token."""

from __future__ import annotations

from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from survey_service.accounts import auth
from survey_service.accounts.schemas import LoginRequest, LoginResponse
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.services.runtime import Runtime


@post(
    "/api/v1/auth/login",
    tags=["staff"],
    summary="Exchange username and password for a token",
    status_code=200,
)
async def login(
    data: JSONBody[LoginRequest],
    db: NamedDependency[AsyncSession],
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
) -> LoginResponse:
    return await auth.login(db, rt, username=data.username, password=data.password, now=clock.now())


ROUTES = [login]
