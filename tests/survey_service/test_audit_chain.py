"""The audit log is append-only in the database and hash-chained (issue 19).

On SQLite and PostgreSQL: raw UPDATE and DELETE are refused by triggers while sealing still
works; concurrent sealers build one intact chain; with the triggers dropped, an edited, a
reordered, a cut-off and a deleted row are each reported by ``verify`` (and ``runxin audit
verify`` exits 1 with a message in both languages).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from svc_support import run

from survey_service import cli
from survey_service.db import create_engine, create_session_factory
from survey_service.services import audit

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
SECRET = "test-secret-key-0123456789"

_DROP = {
    "sqlite": (
        "DROP TRIGGER audit_log_no_delete",
        "DROP TRIGGER audit_log_seal_only",
        "DROP TRIGGER audit_chain_head_forward",
    ),
    "postgresql": (
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "DROP TRIGGER audit_chain_head_forward ON audit_chain_head",
    ),
}


async def _add(sessions: async_sessionmaker[AsyncSession], n: int, start: int = 0) -> None:
    async with sessions() as db, db.begin():
        for i in range(start, start + n):
            audit.record(
                db,
                actor_id=None,
                actor_role="counsellor",
                action="student.file",
                subject_type="student",
                subject_ids=[uuid.uuid4()],
                school_id=None,
                now=T0 + timedelta(seconds=i),
                detail={"n": i, "why": "读取"},
            )


async def _refused(engine: AsyncEngine, statement: str) -> None:
    with pytest.raises(DBAPIError, match=r"append-only|forward|cannot be deleted"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))


def test_triggers_refuse_changes_and_verify_finds_tampering(database_url: str) -> None:
    dialect = "sqlite" if database_url.startswith("sqlite") else "postgresql"

    async def go() -> None:
        engine = create_engine(database_url)
        sessions = create_session_factory(engine)
        try:
            await _add(sessions, 6)
            # Two sealers at once, with rows still arriving: one chain, every row once.
            await asyncio.gather(
                audit.seal_pending(sessions, now=T0, batch=2),
                audit.seal_pending(sessions, now=T0, batch=3),
                _add(sessions, 2, start=6),
            )
            await audit.seal_pending(sessions, now=T0)
            async with sessions() as db:
                report = await audit.verify(db)
            assert report.ok and report.sealed == 8 and report.unsealed == 0, report
            assert report.head_seq == 8

            # Append-only, whoever asks: no edit, no delete, no re-seal, no head rewind.
            await _refused(engine, "UPDATE audit_log SET action = 'x' WHERE seq = 2")
            await _refused(engine, "UPDATE audit_log SET row_hash = NULL WHERE seq = 2")
            await _refused(engine, "DELETE FROM audit_log WHERE seq = 8")
            await _refused(engine, "UPDATE audit_chain_head SET last_seq = 3")
            await _refused(engine, "DELETE FROM audit_chain_head")
            if dialect == "postgresql":
                await _refused(engine, "TRUNCATE audit_log")
            # An unsealed row may only be sealed: changing its content is refused too.
            await _add(sessions, 1, start=8)
            await _refused(engine, "UPDATE audit_log SET action = 'x' WHERE seq IS NULL")
            assert await audit.seal_pending(sessions, now=T0) == 1

            async def problem(*statements: str) -> tuple[str, int] | None:
                async with engine.begin() as conn:
                    for s in statements:
                        await conn.execute(text(s))
                async with sessions() as db:
                    found = (await audit.verify(db)).problem
                return (found.kind, found.seq) if found else None

            async with engine.begin() as conn:
                for s in _DROP[dialect]:
                    await conn.execute(text(s))
                original = (
                    await conn.execute(text("SELECT action FROM audit_log WHERE seq = 3"))
                ).scalar_one()

            # An edited row, then put back: detected, then intact again.
            assert await problem("UPDATE audit_log SET action = 'x' WHERE seq = 3") == (
                "changed",
                3,
            )
            assert (
                await problem(f"UPDATE audit_log SET action = '{original}' WHERE seq = 3") is None
            )
            # A reordered row (two rows swap places).
            swap = (
                "UPDATE audit_log SET seq = -1 WHERE seq = 4",
                "UPDATE audit_log SET seq = 4 WHERE seq = 5",
                "UPDATE audit_log SET seq = 5 WHERE seq = -1",
            )
            assert await problem(*swap) == ("link", 4)
            assert await problem(*swap) is None
            # The last row cut off: the head still says where the chain ended.
            assert await problem("DELETE FROM audit_log WHERE seq = 9") == ("truncated", 9)
            # A row deleted from the middle.
            assert await problem("DELETE FROM audit_log WHERE seq = 2") == ("gap", 2)
        finally:
            await engine.dispose()

    run(go())


def test_cli_seals_then_verifies(
    sqlite_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite only: the command's logic is the same, the databases' part is tested above.
    shutil.copyfile(sqlite_template, tmp_path / "runxin.db")
    database_url = f"sqlite:///{tmp_path / 'runxin.db'}"
    args = ["--database-url", database_url, "--secret-key", SECRET]

    async def setup() -> None:
        engine = create_engine(database_url)
        try:
            await _add(create_session_factory(engine), 3)
        finally:
            await engine.dispose()

    run(setup())
    assert cli.main(["audit", "verify", "--no-seal", *args]) == 0
    assert "0 rows" in capsys.readouterr().out  # nothing sealed yet: an empty chain
    assert cli.main(["audit", "verify", *args]) == 0
    out = capsys.readouterr()
    assert "sealed 3" in out.err and "intact: 3 rows" in out.out and "审计链完好" in out.out

    async def tamper() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                for s in _DROP["sqlite"]:
                    await conn.execute(text(s))
                await conn.execute(text("UPDATE audit_log SET actor_role = 'x' WHERE seq = 2"))
        finally:
            await engine.dispose()

    run(tamper())
    assert cli.main(["audit", "verify", *args]) == 1
    err = capsys.readouterr().err
    assert "row 2 does not match" in err and "第 2 条记录的哈希值不符" in err
