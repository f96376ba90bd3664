"""Request-scoped dependencies: one transaction per request, the runtime, the clock, the user;
and the API's access guard (the signed-in user and their operation, before anything runs)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from survey_service.accounts import auth, permissions
from survey_service.clock import Clock
from survey_service.db import AsyncSession, StaffUser
from survey_service.errors import note_actor
from survey_service.services.runtime import Runtime


async def provide_db(state: State) -> AsyncGenerator[AsyncSession, None]:
    """Open a session and a transaction; commit when the handler returns, roll back on error.

    The commit happens before the response is sent, so a 201 means the data is stored.
    The app's ``RequestTransactions`` (``survey_service.db``) opens it (on SQLite: one request
    transaction at a time, in arrival order, its statements run inline).
    """
    async with state[REQUEST_TX_STATE].begin() as session:
        yield session


#: Where the app keeps its :class:`RequestTransactions` (``app.state``).
REQUEST_TX_STATE = "request_transactions"


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
    """The signed-in staff member: the one the access guard authenticated (every staff route
    has it), else checked here the same way."""
    cached = request.scope.get("state", {}).get(STAFF_USER_KEY)
    if isinstance(cached, StaffUser):
        return cached
    return await _authenticate(request, state, rt, clock)


#: Where the access guard keeps the authenticated staff member (``scope["state"]``).
STAFF_USER_KEY = "runxin.staff_user"


async def _authenticate(
    connection: ASGIConnection[Any, Any, Any, Any], state: State, rt: Runtime, clock: Clock
) -> StaffUser:
    """The staff member behind the bearer token, checked in a short session of its own.

    Authentication must not share the request's transaction: when it refuses a token, the
    request's session would otherwise stay open (holding SQLite's write lock).
    """
    async with state.session_factory() as db, db.begin():  # commits the last-use mark
        user = await auth.authenticate(
            db, rt, authorization=connection.headers.get("authorization"), now=clock.now()
        )
    note_actor(connection.state, user.id, user.role, user.school_id)  # a refusal is audited
    connection.scope.setdefault("state", {})[STAFF_USER_KEY] = user
    return user


async def api_guard(
    connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
) -> None:
    """Refuse a JSON API call before its dependencies and handler run: 401 without a valid
    bearer token, 403 ``forbidden_role`` when the role may not perform the route's operation
    (``opt["permission"]``, see ``accounts.permissions``). Routes without one are public
    (the app's guard lets only the listed public routes through)."""
    operation = permissions.operation_of(route_handler.opt)
    if operation is None:
        return
    state = connection.app.state
    user = await _authenticate(connection, state, state.runtime, state.clock)
    auth.check_password_changed(user, operation)  # issue 13: a one-time password
    permissions.require(user, operation)


DEPENDENCIES = {
    "db": Provide(provide_db),
    "rt": Provide(provide_runtime, sync_to_thread=False),
    "clock": Provide(provide_clock, sync_to_thread=False),
    "staff": Provide(provide_staff),
}
