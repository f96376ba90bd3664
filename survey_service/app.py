"""The application factory. Nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from survey_service.accounts import permissions
from survey_service.api.dependencies import DEPENDENCIES, REQUEST_TX_STATE, api_guard
from survey_service.api.routes import API_ROUTES
from survey_service.clock import Clock, SystemClock
from survey_service.db import create_engine, create_session_factory, request_transactions
from survey_service.errors import EXCEPTION_HANDLERS, Forbidden, log_exception
from survey_service.log_format import formatter_config
from survey_service.observability.endpoints import METRICS_STATE, MetricsConfig
from survey_service.observability.endpoints import ROUTES as OPS_ROUTES
from survey_service.observability.metrics import http_metrics_middleware
from survey_service.overload import IN_FLIGHT_STATE, InFlightLimit
from survey_service.pages._staff_session import page_guard
from survey_service.pages._web import SECURE_COOKIES_STATE, check_form_input
from survey_service.pages.routes import PAGE_ROUTES
from survey_service.request_id import request_id_middleware
from survey_service.security import is_https, is_local_http
from survey_service.services.instrument_library import installed_instruments
from survey_service.services.runtime import Runtime, load_runtime
from survey_service.settings import Settings, engine_options


@get("/healthz", tags=["ops"], summary="Liveness", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _no_store_by_default(response: Response[Any]) -> Response[Any]:
    """Replies carry children's data (names, tiers, answers): no cache keeps them unless the
    handler said otherwise (the page script sets ``public``)."""
    if not any(name.lower() == "cache-control" for name in response.headers):
        response.headers["Cache-Control"] = "no-store"
    return response


#: Loggers that would write children's data at DEBUG: aiosqlite logs every statement with its
#: parameters (names, notes). Pinned to INFO, so turning the root logger to DEBUG is safe.
QUIET_LOGGERS: dict[str, dict[str, Any]] = {"aiosqlite": {"level": "INFO"}}

#: Browsers that once reached the service over https never try plain http again (a year).
HSTS = "max-age=31536000"


async def _no_store_and_hsts(response: Response[Any]) -> Response[Any]:
    """:func:`_no_store_by_default`, and HSTS on every reply (an https public address)."""
    response = await _no_store_by_default(response)
    response.headers["Strict-Transport-Security"] = HSTS
    return response


async def access_guard(
    connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
) -> None:
    """Every route, before its dependencies and handler: deny by default.

    A route in ``permissions.PUBLIC_ROUTES`` is open to anyone; every other route declares
    its operation (``opt={"permission": ...}``) and the staff member must be signed in (API:
    bearer token, 401; pages: session cookie, the sign-in page) with a role that may perform
    it (403 ``forbidden_role``). A route with neither is refused.
    """
    if connection.scope.get("method") == "OPTIONS":
        return  # litestar's automatic OPTIONS answers: no data
    template = str(connection.scope.get("path_template") or connection.scope["path"])
    if permissions.operation_of(route_handler.opt) is None:
        if permissions.is_public(template):
            return
        raise Forbidden(f"The route {template} declares no permission", code="forbidden_route")
    if template == "/staff" or template.startswith("/staff/"):
        await page_guard(connection, route_handler)
    else:
        await api_guard(connection, route_handler)


def create_app(
    settings: Settings, *, clock: Clock | None = None, runtime: Runtime | None = None
) -> Litestar:
    """Build the Runxin ASGI app for ``settings``.

    The database engine is created when the app starts and disposed when it stops; the
    instrument catalogue (shipped plus installed definitions) and the triage policy are loaded
    then too, unless a ready ``runtime`` is given.
    """

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        # A short wait for a pooled connection (and a connect timeout): 503, never a hang.
        engine = create_engine(settings.database_url, **engine_options(settings))
        sessions = create_session_factory(engine)
        app.state.session_factory = sessions
        transactions = request_transactions(
            settings.database_url, engine, **engine_options(settings)
        )
        app.state[REQUEST_TX_STATE] = transactions
        if runtime is None:
            async with sessions() as db:
                app.state.runtime = load_runtime(settings, await installed_instruments(db))
        try:
            yield
        finally:
            await transactions.dispose()
            await engine.dispose()

    in_flight = InFlightLimit(settings.max_in_flight)
    return Litestar(
        route_handlers=[healthz, *OPS_ROUTES, *API_ROUTES, *PAGE_ROUTES],
        template_config=TemplateConfig(
            directory=Path(__file__).resolve().parent / "templates", engine=JinjaTemplateEngine
        ),
        dependencies=DEPENDENCIES,
        guards=[access_guard],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        # Litestar logs no exception itself: errors.log_exception writes one line per failed
        # request (expected 4xx at INFO without a traceback, server faults at ERROR with it).
        # Lines in RUNXIN_LOG_FORMAT (JSON by default: log_format.py).
        logging_config=LoggingConfig(
            log_exceptions="never",
            loggers=dict(QUIET_LOGGERS),
            formatters={"standard": formatter_config(settings.log_format)},
        ),
        after_exception=[log_exception],
        # Every reply carries X-Request-Id; a failed request's log line names it. Above
        # max_in_flight a request is refused at once (503 overloaded, Retry-After); /healthz never.
        # Every request is timed for /metrics, a refused one included.
        middleware=[request_id_middleware, http_metrics_middleware, in_flight.middleware],
        # Page forms with control characters or over-long values: a 400 before any handler.
        before_request=check_form_input,
        after_request=_no_store_and_hsts if is_https(settings.base_url) else _no_store_by_default,
        openapi_config=OpenAPIConfig(title="Runxin 润心", version="0.1.0", path="/schema"),
        state=State(
            {
                "runtime": runtime,
                "clock": clock or SystemClock(),
                SECURE_COOKIES_STATE: not is_local_http(settings.base_url),
                IN_FLIGHT_STATE: in_flight,
                METRICS_STATE: MetricsConfig.from_settings(settings),
            }
        ),
    )
