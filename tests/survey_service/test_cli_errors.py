"""Issue 13: the ``runxin`` CLI explains failures in one line (no traceback), exit status 1.

The unreachable database and ``serve`` run as real processes; the rest run the same ``main``
in-process (``runxin_here``), where an uncaught exception fails the test just as a traceback
would show in a terminal."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from svc_support import RUNXIN, runxin, runxin_here

UNREACHABLE_PG = "postgresql://postgres:hunter2-secret@127.0.0.1:1/test"
NO_SCHEMA = "runxin: the database has no Runxin schema yet; run `runxin db upgrade` first"


def _one_line_failure(r: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (exit 1, no traceback, nothing on stdout)."""
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("db", "upgrade"),
        ("sweep", "--at", "2026-09-01T08:00:00+08:00"),
        ("audit", "verify"),
        ("instruments", "list"),
    ],
)
def test_unreachable_postgres_is_one_line_naming_host_and_port(args: tuple[str, ...]) -> None:
    line = _one_line_failure(runxin(*args, "--database-url", UNREACHABLE_PG))
    assert line == (
        "runxin: cannot reach the database at 127.0.0.1:1 (connection refused); "
        "is PostgreSQL running?"
    )
    assert "hunter2" not in line


@pytest.mark.parametrize(
    "args",
    [
        ("worker", "--once"),
        ("sweep", "--at", "2026-09-01T08:00:00+08:00"),
        ("demo", "--students", "2"),
        ("audit", "verify"),
        ("retention", "run", "--dry-run"),
        ("user", "disable", "nobody"),
    ],
)
def test_unmigrated_database_says_run_db_upgrade(tmp_path: Path, args: tuple[str, ...]) -> None:
    db = tmp_path / "fresh.db"
    line = _one_line_failure(runxin_here(*args, "--database-url", f"sqlite:///{db}"))
    assert line == NO_SCHEMA


def test_unmigrated_existing_file_and_roster_import(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    db.touch()  # an empty SQLite file: exists, but has no tables
    roster = tmp_path / "roster.csv"
    roster.write_text("student_number,name,grade,class\n1,A,7,1\n", encoding="utf-8")
    url = f"sqlite:///{db}"
    r = runxin_here("roster", "import", str(roster), "--school", "DEMO-A", "--database-url", url)
    assert _one_line_failure(r) == NO_SCHEMA


def test_serve_checks_the_schema_before_saying_it_serves(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    r = subprocess.run(
        [RUNXIN, "serve", "--port", "1", "--database-url", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"RUNXIN_SECRET_KEY": "a-long-enough-test-secret-key-for-serve-0123456789", "PATH": ""},
        check=False,
    )
    assert _one_line_failure(r) == NO_SCHEMA
    assert "serving" not in r.stderr
    assert not db.exists()  # looking did not create the database


def test_unknown_instrument_lists_the_known_ones() -> None:
    line = _one_line_failure(runxin_here("score", "nope", "--answers", "[]"))
    assert line.startswith("runxin: unknown instrument 'nope'; known: ")
    known = line.split("known: ", 1)[1].split(", ")
    assert {"asq", "gad7", "phq9"} <= set(known)


def test_sqlite_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    line = _one_line_failure(runxin("db", "upgrade", "--database-url", f"sqlite:///{missing}/x.db"))
    assert line == f"runxin: the directory {missing} does not exist"
    assert not missing.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("db", "upgrade"),
        ("serve",),
        ("worker",),
        ("demo",),
        ("score",),
        ("roster", "import"),
        ("user", "reset-password"),
        ("audit", "verify"),
        ("retention", "run"),
    ],
)
def test_help_shows_an_example(args: tuple[str, ...]) -> None:
    r = runxin_here(*args, "--help")
    assert r.returncode == 0, r.stderr
    assert "example" in r.stdout
    assert f"runxin {' '.join(args)}" in r.stdout


def test_many_warnings_are_summarised_after_a_few(capsys: pytest.CaptureFixture[str]) -> None:
    """A roster import with 120 committee warnings prints five and how many more (issue 13)."""
    from survey_service.cli import SHOWN_WARNINGS, _print_some

    _print_some([f"committee check {n}" for n in range(120)], "class(es) with a problem")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == SHOWN_WARNINGS + 1
    assert "115 more: 120 class(es) with a problem in all" in lines[-1]


def test_serve_refuses_zero_workers_before_any_work() -> None:
    result = runxin_here("serve", "--workers", "0", "--database-url", "sqlite:////nonexistent/x.db")
    assert result.returncode == 2
    assert "--workers: must be at least 1, got 0" in result.stderr
