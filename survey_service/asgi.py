"""The ASGI entry point for several worker processes (``runxin serve --workers N``).

uvicorn starts each worker from an import string; each builds its own app, engine and pool from
the settings ``runxin serve`` resolved (:func:`survey_service.settings.settings_for_worker`).
``uvicorn survey_service.asgi:app_from_env --factory`` also works on its own, from ``RUNXIN_*``.
"""

from __future__ import annotations

from litestar import Litestar

from survey_service.app import create_app
from survey_service.settings import settings_for_worker

__all__ = ["app_from_env"]


def app_from_env() -> Litestar:
    """The app of one worker process."""
    return create_app(settings_for_worker())
