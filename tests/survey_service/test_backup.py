"""``runxin backup`` and ``runxin restore`` on both databases: every row comes back, a restore
goes only into an empty database of the same kind, a failed backup leaves no file, and a
SQLite backup is taken while another connection holds a write transaction."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from ops_support import ACTIVE_TABLES, T0, empty_database, screen_a_red_case, snapshot
from svc_support import make_settings, runxin, runxin_here, seed

from survey_service.db._migrate import alembic_config
from survey_service.operations.backup import libpq_connection

UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/nowhere"


def _head() -> str:
    return (
        ScriptDirectory.from_config(alembic_config("sqlite:///unused.db")).get_current_head() or ""
    )


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_a_backup_restores_every_row_of_every_table(database_url: str, tmp_path: Path) -> None:
    screen_a_red_case(database_url)
    before = snapshot(database_url)
    assert all(before[table] for table in ACTIVE_TABLES), {t: len(before[t]) for t in ACTIVE_TABLES}
    folder = tmp_path / "backups"
    folder.mkdir()
    path = folder / "runxin.backup"

    made = runxin("--database-url", database_url, "backup", str(path))  # a real process

    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backup written: {path} (")
    assert f"schema revision {_head()}" in made.stdout
    assert "backing up" in made.stderr
    assert _files(folder) == {"runxin.backup"}  # no temporary file left beside it
    assert path.stat().st_mode & 0o777 == 0o600  # children's health data: the owner only
    with empty_database(database_url, tmp_path) as target:
        restored = runxin_here("--database-url", target, "restore", str(path))
        assert restored.returncode == 0, restored.stderr
        assert f"schema revision {_head()}, the same as the backup's" in restored.stdout
        assert "db upgrade" not in restored.stdout  # already at this Runxin's schema
        after = snapshot(target)
    assert sorted(after) == sorted(before)
    for table, rows in before.items():
        assert after[table] == rows, table


def test_a_restore_into_a_database_with_tables_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "empty-schema.backup"
    assert runxin_here("--database-url", database_url, "backup", str(path)).returncode == 0
    seed(make_settings(database_url), now=T0)
    before = snapshot(database_url)

    refused = runxin_here("--database-url", database_url, "restore", str(path))

    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("runxin: ")
    assert "is not empty" in refused.stderr and "nothing was changed" in refused.stderr
    assert snapshot(database_url) == before


def test_a_failed_backup_leaves_no_file(database_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "runxin.backup"
    failed = runxin_here("--database-url", database_url, "backup", str(missing))
    assert failed.returncode == 1
    assert failed.stderr == (
        f"runxin: the directory {missing.parent} does not exist; nothing was written\n"
    )
    assert not missing.parent.exists()

    # A backup that fails after the copy has started (a database without a Runxin schema:
    # the copy is made, then found wanting) leaves nothing either, not even a temporary file.
    folder = tmp_path / "backups"
    folder.mkdir()
    with empty_database(database_url, tmp_path) as bare:
        if bare.startswith("sqlite"):
            sqlite3.connect(bare.removeprefix("sqlite:///")).close()
        failed = runxin_here("--database-url", bare, "backup", str(folder / "runxin.backup"))
    assert failed.returncode == 1
    assert "has no Runxin schema" in failed.stderr and "nothing was written" in failed.stderr
    assert _files(folder) == set()

    # An earlier backup is never overwritten.
    earlier = folder / "earlier.backup"
    earlier.write_bytes(b"an earlier backup")
    again = runxin_here("--database-url", database_url, "backup", str(earlier))
    assert again.returncode == 1 and "already exists" in again.stderr
    assert earlier.read_bytes() == b"an earlier backup"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_sqlite_backup_is_taken_while_a_write_transaction_is_open(
    database_url: str, tmp_path: Path
) -> None:
    seed(make_settings(database_url), now=T0)
    before = snapshot(database_url)
    writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # as the service
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a request would
        writer.execute("DELETE FROM students")
        writer.execute("UPDATE schools SET name = 'not committed'")
        started = time.monotonic()
        made = runxin_here("--database-url", database_url, "backup", str(tmp_path / "b.db"))
        assert made.returncode == 0, made.stderr
        assert time.monotonic() - started < 5  # did not wait for the writer
        writer.execute("COMMIT")  # the writer was not held up either
    finally:
        writer.close()
    with empty_database(database_url, tmp_path) as target:
        assert (
            runxin_here("--database-url", target, "restore", str(tmp_path / "b.db")).returncode == 0
        )
        assert snapshot(target) == before  # the committed state, none of the open transaction


def test_a_backup_restores_only_into_its_own_kind(tmp_path: Path, sqlite_template: Path) -> None:
    sqlite_backup = tmp_path / "sqlite.backup"
    shutil.copyfile(sqlite_template, sqlite_backup)
    pg_backup = tmp_path / "pg.backup"
    pg_backup.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
    target = tmp_path / "target.db"

    into_pg = runxin_here("--database-url", UNREACHABLE_PG, "restore", str(sqlite_backup))
    into_sqlite = runxin_here("--database-url", f"sqlite:///{target}", "restore", str(pg_backup))
    notes = tmp_path / "notes.sql"
    notes.write_text("-- plain SQL, not a backup of this tool\n")
    not_a_backup = runxin_here("--database-url", f"sqlite:///{target}", "restore", str(notes))

    assert into_pg.returncode == 1
    assert "is a SQLite backup but the target database is PostgreSQL" in into_pg.stderr
    assert into_sqlite.returncode == 1
    assert "is a PostgreSQL backup but the target database is SQLite" in into_sqlite.stderr
    assert not target.exists()  # nothing created
    assert not_a_backup.returncode == 1
    assert "is not a Runxin backup" in not_a_backup.stderr


def test_missing_postgresql_client_programs_are_named(tmp_path: Path) -> None:
    """Checked before any connection: the message names the program to install."""
    no_programs = {"PATH": str(tmp_path)}
    failed = runxin_here(
        "--database-url", UNREACHABLE_PG, "backup", str(tmp_path / "b.dump"), env=no_programs
    )
    assert failed.returncode == 1
    assert failed.stderr.startswith("runxin: pg_dump is not installed (not found on PATH)")
    archive = tmp_path / "a.dump"
    archive.write_bytes(b"PGDMP" + bytes(64))
    failed = runxin_here("--database-url", UNREACHABLE_PG, "restore", str(archive), env=no_programs)
    assert failed.returncode == 1
    assert failed.stderr.startswith("runxin: pg_restore is not installed (not found on PATH)")


def test_an_older_backup_asks_for_db_upgrade_and_a_newer_one_is_refused(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """A backup from before the latest migration restores as it was and says to run
    ``runxin db upgrade``; one from a release newer than this code is refused. (Only the
    revision the backup records matters here; test_migration_upgrade.py upgrades real data.)"""
    script = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    head = script.get_current_head()
    assert head is not None
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    old, newer = tmp_path / "old.backup", tmp_path / "newer.backup"
    for path, revision in ((old, previous), (newer, "f00d")):
        shutil.copyfile(sqlite_template, path)
        with contextlib.closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))

    restored = runxin_here(
        "--database-url", f"sqlite:///{tmp_path / 'restored.db'}", "restore", str(old)
    )
    refused = runxin_here(
        "--database-url", f"sqlite:///{tmp_path / 'never.db'}", "restore", str(newer)
    )

    assert restored.returncode == 0, restored.stderr
    assert f"schema revision {previous}, the same as the backup's" in restored.stdout
    assert f"this Runxin's schema is newer ({head}): run `runxin db upgrade`" in restored.stdout
    assert refused.returncode == 1
    assert "schema revision f00d, which this Runxin does not know" in refused.stderr
    assert not (tmp_path / "never.db").exists()


def test_the_postgresql_password_travels_in_the_environment_only() -> None:
    conninfo, env = libpq_connection(
        "postgresql+asyncpg://run%40xin:s3cr%2Ft@db.example:6432/runxin?ssl=require"
    )
    assert conninfo == "postgresql://run%40xin@db.example:6432/runxin?sslmode=require"
    assert env == {"PGPASSWORD": "s3cr/t"}
    assert libpq_connection("postgresql://runxin@[::1]/runxin") == (
        "postgresql://runxin@[::1]/runxin",
        {},
    )
