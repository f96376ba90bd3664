"""Run alembic migrations programmatically (``runxin db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from survey_service.settings import database_urls

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An alembic ``Config`` pointing at the packaged migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_urls(database_url).async_url)
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate the database at ``database_url`` to ``revision`` (sync; call outside a loop)."""
    command.upgrade(alembic_config(database_url), revision)
