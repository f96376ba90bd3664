"""Request-scoped dependencies: one transaction per request, the runtime, the clock, the user."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from survey_service.accounts import auth
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.services.runtime import Runtime


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """Open a session and a transaction; commit when the handler returns, roll back on error.

    The commit happens before the response is sent, so a 201 means the data is stored.
    """
    async with state.session_factory() as session, session.begin():
        yield session


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def provide_clock(state: State) -> Clock:
    clock: Clock = state.clock
    return clock


async def provide_staff(
    request: Request[Any, Any, Any],
    state: State,
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
) -> StaffUser:
    """The signed-in staff member, checked in a short read-only session of its own.

    Authentication must not share the request's transaction: when it refuses a token, the
    request's session would otherwise stay open (holding SQLite's write lock).
    """
    async with state.session_factory() as db:
        return await auth.authenticate(
            db, rt, authorization=request.headers.get("authorization"), now=clock.now()
        )


DEPENDENCIES = {
    "db": Provide(provide_db),
    "rt": Provide(provide_runtime, sync_to_thread=False),
    "clock": Provide(provide_clock, sync_to_thread=False),
    "staff": Provide(provide_staff),
}
