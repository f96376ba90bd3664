"""Shared fixtures: one parametrised database fixture that runs on SQLite and PostgreSQL.

PostgreSQL comes from ``RUNXIN_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Where it does not answer, the PostgreSQL half is
skipped and the run says so plainly at the end — except under ``CI=true``, where that is an
error: CI never skips PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# Test databases are thrown away, so their commits (and the CREATE DATABASE that copies a
# template) need not wait for the WAL to reach the disk: ~140 ms -> ~20 ms a copy on this
# machine. A crash of the server would lose the last commits, never corrupt anything; the
# outage tests run a private server of their own (test_faults.py).
NO_FSYNC_WAIT = "SET synchronous_commit = off"


def no_fsync_wait_for(name: str) -> str:
    """The statement that makes every later connection to database ``name`` commit without
    waiting for the disk (not copied by ``CREATE DATABASE ... TEMPLATE``)."""
    return f'ALTER DATABASE "{name}" SET synchronous_commit = off'


_PG_STATE: dict[str, object] = {"checked": False, "ok": False, "error": "", "skipped": 0}


def pg_url() -> str:
    return os.environ.get("RUNXIN_TEST_POSTGRES_URL", DEFAULT_PG)


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def _pg_exec(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql://", "postgres://", 1), timeout=5)
    try:
        await conn.execute(NO_FSYNC_WAIT)
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _pg_available() -> bool:
    if not _PG_STATE["checked"]:
        _PG_STATE["checked"] = True
        try:
            asyncio.run(_pg_exec(pg_url(), "SELECT 1"))
            _PG_STATE["ok"] = True
        except Exception as exc:  # any failure to connect means "not available"
            _PG_STATE["error"] = f"{type(exc).__name__}: {exc}"
    if not _PG_STATE["ok"] and os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true but PostgreSQL at {pg_url()} does not answer ({_PG_STATE['error']}); "
            "CI never skips the PostgreSQL half",
            pytrace=False,
        )
    return bool(_PG_STATE["ok"])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from survey_service.db import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    if not _pg_available():
        yield None
        return
    from survey_service.db import upgrade

    name = f"runxin_tmpl_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(pg_url(), f'CREATE DATABASE "{name}"', no_fsync_wait_for(name)))
    upgrade(_with_db(pg_url(), name))
    yield name
    asyncio.run(_pg_exec(pg_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A freshly migrated, empty database of each kind, private to one test."""
    if request.param == "sqlite":
        path = tmp_path / "runxin.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    if template is None:
        _PG_STATE["skipped"] = int(str(_PG_STATE["skipped"])) + 1
        pytest.skip(f"PostgreSQL not reachable at {pg_url()}: {_PG_STATE['error']}")
    name = f"runxin_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(
        _pg_exec(
            pg_url(), f'CREATE DATABASE "{name}" TEMPLATE "{template}"', no_fsync_wait_for(name)
        )
    )
    yield _with_db(pg_url(), name)
    asyncio.run(_pg_exec(pg_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.hookimpl(tryfirst=True)  # before the fixture manager parametrizes ``database_url``
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``sqlite_only`` gets the SQLite database alone.

    For tests of what a page shows or how input is refused, where the engine is not what is
    under test; every staff read still runs on PostgreSQL in
    ``test_access_matrix.test_every_page_and_read_answers_on_postgresql``, and every write path
    in the API tests, which run on both."""
    if "database_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("sqlite_only") is None:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "database_url" in (
            names.replace(" ", "").split(",") if isinstance(names, str) else names
        ):
            return  # the test already chose its databases
    # As a mark, so that pytest's own hooks (which run after this one) apply it and the fixture
    # manager does not parametrize ``database_url`` a second time.
    metafunc.definition.add_marker(
        pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    )


def pytest_configure(config: pytest.Config) -> None:
    """Cheap argon2 for the whole test run (production keeps the library's defaults): every
    seeded user and every login would otherwise pay a production-cost hash."""
    from survey_service.security import configure_password_hashing

    configure_password_hashing(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session", autouse=True)
def _drop_seeded_templates() -> Iterator[None]:
    """At the end of the session, drop the seeded-demo templates that
    ``svc_support.seed`` kept (one per distinct seed)."""
    yield
    support = sys.modules.get("svc_support")
    if support is not None:
        support.drop_seeded_templates()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if int(str(_PG_STATE["skipped"])):
        terminalreporter.write_line(
            f"NOTE: the PostgreSQL half was NOT run ({_PG_STATE['skipped']} tests skipped): "
            f"{pg_url()} did not answer ({_PG_STATE['error']}). "
            "Set RUNXIN_TEST_POSTGRES_URL or start PostgreSQL to run it.",
            yellow=True,
            bold=True,
        )
