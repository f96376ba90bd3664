"""``GET /readyz`` and ``GET /metrics``: thin handlers over :mod:`.readiness` and
:mod:`.metrics` (no sign-in; never refused by the overload limit; no data about anyone)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from survey_service.db import code_migrations
from survey_service.observability.metrics import CONTENT_TYPE, MetricsConfig, scrape
from survey_service.observability.readiness import check_readiness

#: Where the app keeps its :class:`MetricsConfig` (``app.state``).
METRICS_STATE = "runxin_metrics_config"
NO_STORE = {"Cache-Control": "no-store"}


@get("/readyz", tags=["ops"], summary="Readiness", include_in_schema=False)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    state = request.app.state
    readiness = await check_readiness(
        state.session_factory,
        migrations=code_migrations(),
        now=state.clock.now(),
        heartbeat_max_age_s=state[METRICS_STATE].heartbeat_max_age_s,
    )
    return Response(readiness.body(), status_code=200 if readiness.ready else 503, headers=NO_STORE)


@get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    state = request.app.state
    body = await scrape(
        state.session_factory,
        config=state[METRICS_STATE],
        migrations=code_migrations(),
        now=state.clock.now(),
        authorization=request.headers.get("authorization"),
    )
    return Response(body, media_type=CONTENT_TYPE, headers=NO_STORE)


ROUTES = [readyz, metrics]
__all__ = ["METRICS_STATE", "ROUTES", "MetricsConfig"]
