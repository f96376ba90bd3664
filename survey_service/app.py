"""The application factory. Nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from survey_service.api.dependencies import DEPENDENCIES
from survey_service.api.routes import API_ROUTES
from survey_service.clock import Clock, SystemClock
from survey_service.db import create_engine, create_session_factory
from survey_service.errors import EXCEPTION_HANDLERS, log_exception
from survey_service.pages.routes import PAGE_ROUTES
from survey_service.services.instrument_library import installed_instruments
from survey_service.services.runtime import Runtime, load_runtime
from survey_service.settings import Settings


@get("/healthz", tags=["ops"], summary="Liveness", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _no_store_by_default(response: Response[Any]) -> Response[Any]:
    """Replies carry children's data (names, tiers, answers): no cache keeps them unless the
    handler said otherwise (the page script sets ``public``)."""
    if not any(name.lower() == "cache-control" for name in response.headers):
        response.headers["Cache-Control"] = "no-store"
    return response


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
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        app.state.session_factory = sessions
        if runtime is None:
            async with sessions() as db:
                app.state.runtime = load_runtime(settings, await installed_instruments(db))
        try:
            yield
        finally:
            await engine.dispose()

    return Litestar(
        route_handlers=[healthz, *API_ROUTES, *PAGE_ROUTES],
        template_config=TemplateConfig(
            directory=Path(__file__).resolve().parent / "templates", engine=JinjaTemplateEngine
        ),
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        # Litestar logs no exception itself: errors.log_exception writes one line per failed
        # request (expected 4xx at INFO without a traceback, server faults at ERROR with it).
        logging_config=LoggingConfig(log_exceptions="never"),
        after_exception=[log_exception],
        after_request=_no_store_by_default,
        openapi_config=OpenAPIConfig(title="Runxin 润心", version="0.1.0", path="/schema"),
        state=State({"runtime": runtime, "clock": clock or SystemClock()}),
    )
