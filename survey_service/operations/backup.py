"""Back up a Runxin database to one file and restore it into an empty database.

``runxin backup PATH`` and ``runxin restore PATH`` call :func:`backup_database` and
:func:`restore_database`; ``docs/backup.md`` is the operator's guide.

* **SQLite**: SQLite's online backup API (``sqlite3.Connection.backup``) copies the database
  page by page inside one read transaction: a consistent snapshot, taken while the service
  keeps serving (in WAL mode a reader never blocks a writer, nor waits for one). The copy is a
  single self-contained file (rollback-journal mode, no ``-wal`` beside it), checked with
  ``PRAGMA quick_check`` before it gets its name.
* **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot of the database),
  restored with ``pg_restore --no-owner --exit-on-error --single-transaction``: all or nothing.
  The password travels in ``PGPASSWORD``, never on a command line.

A backup is written beside ``PATH`` under a temporary name and renamed only when complete, so a
failed or interrupted backup leaves no file that looks like a backup. A restore goes only into
an empty database (a missing SQLite file, or a database without tables) and never across kinds
(a SQLite backup into PostgreSQL or the other way round); a refused restore changes nothing.
Both functions block (files, child processes): call them outside an event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlencode

from survey_service.settings import child_environment, database_urls

__all__ = [
    "PG_CUSTOM_HEADER",
    "SQLITE_HEADER",
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "backup_database",
    "backup_kind",
    "libpq_connection",
    "restore_database",
]

#: The first bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: The first bytes of a ``pg_dump --format=custom`` archive.
PG_CUSTOM_HEADER = b"PGDMP"

Kind = Literal["sqlite", "postgresql"]
Progress = Callable[[str], None]

_KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: How long the SQLite side waits for a lock another process holds (a checkpoint, a writer
#: on a database not in WAL mode), in milliseconds.
_SQLITE_BUSY_MS = 30_000


class BackupError(ValueError):
    """A backup or restore that cannot be done; the message says why in one line, and nothing
    was written or changed."""


@dataclass(frozen=True)
class BackupResult:
    """A backup written to ``path``.

    Attributes
    ----------
    path:
        The backup file.
    kind:
        ``"sqlite"`` or ``"postgresql"``: the kind of database it restores into.
    revisions:
        The database's schema (alembic) revisions at the moment of the backup.
    size_bytes:
        The size of the file.
    """

    path: Path
    kind: Kind
    revisions: tuple[str, ...]
    size_bytes: int


@dataclass(frozen=True)
class RestoreResult:
    """A backup restored into an empty database.

    Attributes
    ----------
    kind:
        ``"sqlite"`` or ``"postgresql"``.
    revisions:
        The schema revisions of the backup, which the restored database now has (checked).
    code_heads:
        The schema revisions this Runxin's migrations end at.
    """

    kind: Kind
    revisions: tuple[str, ...]
    code_heads: tuple[str, ...]

    @property
    def upgrade_needed(self) -> bool:
        """True when this Runxin's schema is newer than the restored one: run
        ``runxin db upgrade`` before starting the service."""
        return set(self.revisions) != set(self.code_heads)


def _quiet(_message: str) -> None:
    return None


# --- shared -------------------------------------------------------------------------------


def backup_kind(path: Path) -> Kind:
    """The kind of database the backup file at ``path`` holds, from its first bytes.

    Raises
    ------
    BackupError
        When the file cannot be read or is neither a SQLite database nor a PostgreSQL
        custom-format archive.
    """
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_HEADER):
        return "sqlite"
    if head.startswith(PG_CUSTOM_HEADER):
        return "postgresql"
    raise BackupError(
        f"{path} is not a Runxin backup: neither a SQLite database nor a PostgreSQL "
        "custom-format archive (pg_dump --format=custom)"
    )


def _dialect(database_url: str) -> Kind:
    return "sqlite" if database_urls(database_url).dialect == "sqlite" else "postgresql"


def _code_heads(database_url: str) -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    from survey_service.db._migrate import alembic_config

    return tuple(sorted(ScriptDirectory.from_config(alembic_config(database_url)).get_heads()))


def _check_known(database_url: str, revisions: tuple[str, ...], path: Path) -> None:
    """Refuse a backup whose schema is newer than this Runxin's migrations know."""
    from alembic.script import ScriptDirectory

    from survey_service.db._migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config(database_url))
    for revision in revisions:
        try:
            known = script.get_revision(revision) is not None
        except Exception:  # alembic's "no such revision" (several exception types)
            known = False
        if not known:
            raise BackupError(
                f"{path} has schema revision {revision}, which this Runxin does not know (the "
                "backup comes from a newer release): restore it with that release; "
                "nothing was changed"
            )


def _revisions_text(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions)


def _temp_beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")


def _check_target(target: Path) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist; nothing was written")
    if target.exists():
        raise BackupError(
            f"{target} already exists; choose a new name (an earlier backup is never "
            "overwritten); nothing was written"
        )


@contextlib.contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """Yield a new, empty temporary file beside ``target`` (mode 0600); when the block
    succeeds, sync the file and rename it to ``target``, otherwise remove it (and anything
    SQLite left beside it)."""
    temp = _temp_beside(target)
    try:
        # Readable by its owner only, from the first byte: it holds children's health data.
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        yield temp
        with temp.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(temp, target)
        _sync_directory(target.parent)
    finally:
        for leftover in (temp, *(Path(f"{temp}{s}") for s in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)


def _sync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows opening a directory)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_file(database_url: str) -> Path:
    url = database_urls(database_url).async_url
    path = url.removeprefix("sqlite+aiosqlite:///").split("?", 1)[0]
    if path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(path).expanduser().absolute()


def _sqlite_open(path: Path, mode: Literal["ro", "rw", "rwc"]) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True)
    conn.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
    return conn


def _sqlite_revisions(conn: sqlite3.Connection) -> tuple[str, ...]:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        return ()
    return tuple(sorted(str(row[0]) for row in rows))


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _sqlite_backup(database_url: str, target: Path, progress: Progress) -> BackupResult:
    source_path = _sqlite_file(database_url)
    if not source_path.is_file():
        raise BackupError(f"the SQLite database {source_path} does not exist; nothing was written")
    progress(f"backing up the SQLite database {source_path} to {target}…")
    with _written_atomically(target) as temp:
        source = _sqlite_open(source_path, "rw")
        try:
            copy = _sqlite_open(temp, "rwc")
            try:
                # One step (pages=-1): a single read transaction, so the copy is one consistent
                # snapshot; in WAL mode the service's writers carry on meanwhile.
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                revisions = _sqlite_revisions(copy)
                check = copy.execute("PRAGMA quick_check").fetchone()
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise BackupError(
                f"cannot back up the SQLite database {source_path} ({exc}); nothing was written"
            ) from None
        finally:
            source.close()
        if not revisions:
            raise BackupError(
                f"{source_path} has no Runxin schema (no alembic_version); nothing was written"
            )
        if check is None or check[0] != "ok":
            raise BackupError(
                f"the copy of {source_path} failed SQLite's quick_check "
                f"({check[0] if check else 'no answer'}); nothing was written"
            )
    return BackupResult(target, "sqlite", revisions, target.stat().st_size)


def _sqlite_restore(database_url: str, path: Path, progress: Progress) -> RestoreResult:
    target = _sqlite_file(database_url)
    try:
        backup = _sqlite_open(path, "ro")
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open the backup {path} ({exc}); nothing was changed") from None
    try:
        revisions = _sqlite_revisions(backup)
        if not revisions:
            raise BackupError(
                f"{path} holds no Runxin schema (no alembic_version); nothing was changed"
            )
        _check_known(database_url, revisions, path)
        check = backup.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise BackupError(
                f"the backup {path} failed SQLite's quick_check "
                f"({check[0] if check else 'no answer'}); nothing was changed"
            )
        existed = target.exists()
        if existed:
            probe = _sqlite_open(target, "rw")
            try:
                tables = _sqlite_tables(probe)
            finally:
                probe.close()
            if tables:
                raise BackupError(
                    f"the SQLite database {target} is not empty ({len(tables)} tables, e.g. "
                    f"{', '.join(tables[:3])}): restore only into a new file or an empty "
                    "database; nothing was changed"
                )
        if not target.parent.is_dir():
            raise BackupError(f"the directory {target.parent} does not exist; nothing was changed")
        progress(f"restoring {path} into the SQLite database {target}…")
        try:
            restored = _sqlite_open(target, "rwc")
            try:
                # The backup API writes the destination in one write transaction: a failure
                # part-way leaves it as it was (empty).
                backup.backup(restored)
                after = _sqlite_revisions(restored)
            finally:
                restored.close()
        except BaseException:
            if not existed:
                for leftover in (target, *(Path(f"{target}{s}") for s in ("-journal", "-wal"))):
                    leftover.unlink(missing_ok=True)
            raise
    except sqlite3.Error as exc:
        raise BackupError(
            f"cannot restore {path} into the SQLite database {target} ({exc}); nothing was changed"
        ) from None
    finally:
        backup.close()
    return _checked_restore(database_url, "sqlite", revisions, after, target)


# --- PostgreSQL ---------------------------------------------------------------------------


def libpq_connection(database_url: str) -> tuple[str, dict[str, str]]:
    """The libpq connection URL for ``pg_dump``/``pg_restore`` (no password in it) and the
    environment variables that carry the rest (``PGPASSWORD``).

    ``database_url`` is any PostgreSQL URL Runxin accepts (``postgresql://``,
    ``postgresql+asyncpg://``). asyncpg's ``ssl=`` query parameter becomes libpq's
    ``sslmode=``; other query parameters pass through.
    """
    from sqlalchemy.engine import make_url

    url = make_url(database_urls(database_url).async_url)
    user = quote(url.username, safe="") + "@" if url.username else ""
    host = url.host or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = f":{url.port}" if url.port else ""
    query: list[tuple[str, str]] = []
    for key, value in url.query.items():
        for one in (value,) if isinstance(value, str) else value:
            query.append(("sslmode" if key == "ssl" else key, one))
    conninfo = f"postgresql://{user}{host}{port}/{quote(url.database or '', safe='')}"
    if query:
        conninfo += "?" + urlencode(query)
    env = {"PGPASSWORD": url.password} if url.password else {}
    return conninfo, env


def _where(database_url: str) -> str:
    """``host:port/database`` of a PostgreSQL URL, never the password."""
    from sqlalchemy.engine import make_url

    url = make_url(database_urls(database_url).async_url)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed (not found on PATH); install the PostgreSQL client "
            "programs of the server's major version or newer (e.g. the postgresql-client "
            "package)"
        )
    return found


def _run(program: str, args: list[str], database_url: str | None) -> str:
    """Run a PostgreSQL client program; its stdout, or :class:`BackupError` with its first
    error line."""
    extra = libpq_connection(database_url)[1] if database_url is not None else {}
    done = subprocess.run(  # noqa: S603 - a program found on PATH, arguments built here
        [_binary(program), "--no-password", *args],
        capture_output=True,
        text=True,
        env=child_environment(extra),
        check=False,
    )
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines or ["no message"]
        first = errors[0].removeprefix(f"{program}: ").removeprefix("error: ")
        raise BackupError(f"{program} failed: {first}")
    return done.stdout


def _archive_revisions(path: Path) -> tuple[str, ...]:
    """The alembic revisions stored in a custom-format archive (read without a database)."""
    out = _run(
        "pg_restore",
        ["--data-only", "--table=alembic_version", "--file=-", str(path)],
        None,
    )
    revisions: list[str] = []
    copying = False
    for line in out.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying and line:
            revisions.append(line.split("\t", 1)[0])
    return tuple(sorted(revisions))


async def _pg_rows(database_url: str, sql: str) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    from survey_service.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


def _pg_backup(database_url: str, target: Path, progress: Progress) -> BackupResult:
    conninfo, _env = libpq_connection(database_url)
    _binary("pg_dump")
    _binary("pg_restore")  # to read the archive back: both are needed, say so before any work
    progress(f"backing up the PostgreSQL database {_where(database_url)} to {target}…")
    with _written_atomically(target) as temp:
        _run(
            "pg_dump",
            ["--format=custom", f"--file={temp}", f"--dbname={conninfo}"],
            database_url,
        )
        revisions = _archive_revisions(temp)  # also proves the archive reads back
        if not revisions:
            raise BackupError(
                f"{_where(database_url)} has no Runxin schema (no alembic_version); "
                "nothing was written"
            )
    return BackupResult(target, "postgresql", revisions, target.stat().st_size)


def _pg_restore(database_url: str, path: Path, progress: Progress) -> RestoreResult:
    conninfo, _env = libpq_connection(database_url)
    _binary("pg_restore")
    revisions = _archive_revisions(path)
    if not revisions:
        raise BackupError(
            f"{path} holds no Runxin schema (no alembic_version); nothing was changed"
        )
    _check_known(database_url, revisions, path)
    where = _where(database_url)
    tables = [
        str(row[0])
        for row in asyncio.run(
            _pg_rows(
                database_url,
                # pg_class, not information_schema: that lists only the tables this role
                # has privileges on.
                "SELECT c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "ORDER BY c.relname",
            )
        )
    ]
    if tables:
        raise BackupError(
            f"the PostgreSQL database {where} is not empty ({len(tables)} tables in the "
            f"public schema, e.g. {', '.join(tables[:3])}): restore only into a new, empty "
            "database (CREATE DATABASE ...); nothing was changed"
        )
    progress(f"restoring {path} into the PostgreSQL database {where}…")
    try:
        _run(
            "pg_restore",
            [
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={conninfo}",
                str(path),
            ],
            database_url,
        )
    except BackupError as exc:
        raise BackupError(f"{exc} (one transaction: nothing was restored)") from None
    after = tuple(
        sorted(
            str(row[0])
            for row in asyncio.run(
                _pg_rows(database_url, "SELECT version_num FROM alembic_version")
            )
        )
    )
    return _checked_restore(database_url, "postgresql", revisions, after, where)


# --- the two operations -------------------------------------------------------------------


def _checked_restore(
    database_url: str,
    kind: Kind,
    revisions: tuple[str, ...],
    after: tuple[str, ...],
    where: object,
) -> RestoreResult:
    if after != revisions:
        raise BackupError(
            f"the restored database {where} is at schema revision "
            f"{_revisions_text(after) or '(none)'}, not the backup's "
            f"{_revisions_text(revisions)}; do not use it"
        )
    return RestoreResult(kind, revisions, _code_heads(database_url))


def backup_database(
    database_url: str, path: Path, *, progress: Progress | None = None
) -> BackupResult:
    """Write a consistent backup of the database at ``database_url`` to the new file ``path``.

    Parameters
    ----------
    database_url:
        The database (``sqlite:///...`` or ``postgresql://...``); it keeps serving meanwhile.
    path:
        The backup file to create; its directory must exist and the file must not.
    progress:
        Called with a line before the work starts.

    Raises
    ------
    BackupError
        With the reason; no file was written.
    """
    say = progress or _quiet
    target = Path(path).expanduser().absolute()
    _check_target(target)
    if _dialect(database_url) == "sqlite":
        return _sqlite_backup(database_url, target, say)
    return _pg_backup(database_url, target, say)


def restore_database(
    database_url: str, path: Path, *, progress: Progress | None = None
) -> RestoreResult:
    """Restore the backup file ``path`` into the empty database at ``database_url``.

    The database must be of the backup's kind and empty: for SQLite a file that does not
    exist yet (its directory does) or has no tables, for PostgreSQL a database without tables
    in the public schema. Afterwards the restored schema revision is checked against the
    backup's; :attr:`RestoreResult.upgrade_needed` says whether ``runxin db upgrade`` must run
    before the service starts.

    Raises
    ------
    BackupError
        With the reason; a refused restore changes nothing, and a failed one leaves the target
        as it was.
    """
    say = progress or _quiet
    source = Path(path).expanduser().absolute()
    kind = backup_kind(source)
    dialect = _dialect(database_url)
    if kind != dialect:
        raise BackupError(
            f"{source} is a {_KIND_NAMES[kind]} backup but the target database is "
            f"{_KIND_NAMES[dialect]}: a backup restores only into the kind of database it "
            "came from; nothing was changed"
        )
    if kind == "sqlite":
        return _sqlite_restore(database_url, source, say)
    return _pg_restore(database_url, source, say)
