"""Run alembic migrations programmatically (``runxin db upgrade``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

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


class MigrationHeads(NamedTuple):
    """What the code's migrations say: the head revision(s) and every revision they know."""

    heads: frozenset[str]
    known: frozenset[str]


@functools.cache
def code_migrations() -> MigrationHeads:
    """The head(s) of the packaged migrations and all their revisions, read once per process
    (``/readyz`` compares a database's ``alembic_version`` with them)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    return MigrationHeads(
        heads=frozenset(script.get_heads()),
        known=frozenset(rev.revision for rev in script.walk_revisions()),
    )
