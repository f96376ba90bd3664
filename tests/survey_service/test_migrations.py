"""The alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from svc_support import run

from survey_service.db import Base, create_engine


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    async def diff() -> list[Any]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"compare_type": True}),
                        Base.metadata,
                    )
                )
        finally:
            await engine.dispose()

    assert run(diff()) == []
