"""``runxin schools|classes|staff ...`` (issue 13): going live without SQL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from svc_support import runxin_here as runxin

from survey_service.accounts.permissions import Role
from survey_service.cli import _ROLES, main
from survey_service.security import verify_password


def _counts(db: Path) -> tuple[int, ...]:
    with sqlite3.connect(db) as con:
        return tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("districts", "schools", "classes", "staff_users", "audit_log")
        )


def test_directory_commands(
    tmp_path: Path, sqlite_template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The changes run as real processes; the refusals in process (same ``main``, faster)."""
    db = tmp_path / "runxin.db"
    shutil.copyfile(sqlite_template, db)
    url = f"sqlite:///{db}"
    env = {"RUNXIN_DATABASE_URL": url}

    def ok(*args: str) -> str:
        r = runxin(*args, env=env)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def listed(*args: str) -> list[str]:
        capsys.readouterr()
        assert main(["--database-url", url, *args]) == 0
        return capsys.readouterr().out.splitlines()

    def fails(*args: str, needle: str) -> None:
        before = _counts(db)
        capsys.readouterr()
        assert main(["--database-url", url, *args]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("runxin: ") and needle in lines[0], lines
        assert _counts(db) == before  # nothing written

    fails("schools", "add", "SZ-07", "第七中学", needle="no district")
    ok("schools", "add", "SZ-07", "第七中学", "--district", "NS", "--district-name", "南山区")
    fails("schools", "add", "SZ-07", "again", needle="already exists")
    assert listed("schools", "list") == ["SZ-07\t第七中学\tNS"]

    out = ok("staff", "add", "zhang.min", "--role", "counsellor", "--school", "SZ-07")
    password = out.split("one-time password: ")[1].split()[0]
    ok("staff", "add", "wang.li", "--role", "head_teacher", "--school", "SZ-07", "--phone", "139")
    ok("staff", "add", "ops", "--role", "district_officer", "--name", "值班员")
    fails("staff", "add", "zhang.min", "--role", "teacher", "--school", "SZ-07", needle="exists")
    fails("staff", "add", "x.y", "--role", "boss", "--school", "SZ-07", needle="counsellor")
    fails("staff", "add", "x.y", "--role", "counsellor", "--school", "NOPE", needle="SZ-07")
    fails("staff", "add", "x.y", "--role", "counsellor", needle="--school")
    fails("staff", "add", "x.y", "--role", "auditor", "--school", "SZ-07", needle="district")

    ok("classes", "add", "--school", "SZ-07", "--grade", "7", "1班")
    fails("classes", "add", "--school", "SZ-07", "--grade", "7", "1班", needle="already exists")
    ok("classes", "assign-head", "--school", "SZ-07", "--class", "1班", "--grade", "7", "wang.li")
    ok("classes", "add", "--school", "SZ-07", "--grade", "8", "2班")
    # The same assignment from the account's side.
    ok("staff", "assign-class", "wang.li", "--school", "SZ-07", "--class", "2班", "--grade", "8")
    fails(
        "classes",
        "assign-head",
        "--school",
        "SZ-07",
        "--class",
        "1班",
        "--grade",
        "7",
        "ops",
        needle="ops",
    )
    assert listed("classes", "list", "--school", "SZ-07") == [
        "7\t1班\twang.li",
        "8\t2班\twang.li",
    ]

    listing = listed("staff", "list")
    assert not any("$" in line or "argon" in line.lower() for line in listing)
    assert [line.split("\t")[0] for line in listing] == ["ops", "wang.li", "zhang.min"]
    assert len(listed("staff", "list", "--school", "SZ-07")) == 2

    with sqlite3.connect(db) as con:
        (stored,) = con.execute(
            "SELECT password_hash FROM staff_users WHERE username = 'zhang.min'"
        ).fetchone()
        actions = [r[0] for r in con.execute("SELECT action FROM audit_log ORDER BY 1")]
    assert verify_password(stored, password) and not verify_password(stored, password + "x")
    assert actions.count("staff.created") == 3 and "school.created" in actions
    assert actions.count("class.created") == 2 and "class.head_teacher_assigned" in actions

    # Reset, disable, enable (issue 13): a new one-time password, to be changed at sign-in.
    with sqlite3.connect(db) as con:
        flags = con.execute("SELECT must_change_password FROM staff_users").fetchall()
        assert flags == [(1,), (1,), (1,)]  # every added account changes its password first
        con.execute("UPDATE staff_users SET must_change_password = 0")
    reset = listed("staff", "reset-password", "zhang.min")
    assert reset[0] == "zhang.min: password reset; 0 session(s) ended"
    again = reset[1].removeprefix("one-time password: ")
    assert listed("staff", "disable", "wang.li") == ["wang.li: disabled; 0 session(s) ended"]
    assert listed("staff", "list", "--school", "SZ-07")[0].endswith("\tdisabled")
    assert listed("staff", "enable", "wang.li") == ["wang.li: enabled; 0 session(s) ended"]
    for sub in ("reset-password", "disable", "enable"):
        fails("staff", sub, "nobody", needle="'nobody'")
    with sqlite3.connect(db) as con:
        (stored, must) = con.execute(
            "SELECT password_hash, must_change_password FROM staff_users "
            "WHERE username = 'zhang.min'"
        ).fetchone()
        audit = con.execute(
            "SELECT action, actor_role FROM audit_log WHERE action IN "
            "('staff.password_reset', 'staff.disabled', 'staff.enabled') ORDER BY action"
        ).fetchall()
    assert verify_password(stored, again) and not verify_password(stored, password) and must
    assert audit == [
        ("staff.disabled", "cli"),
        ("staff.enabled", "cli"),
        ("staff.password_reset", "cli"),
    ]


def test_help_lists_every_role_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert set(_ROLES) == {r.value for r in Role}
    r = runxin("staff", "add", "--help")
    assert r.returncode == 0 and "example" in r.stdout and "counsellor" in r.stdout
    for sub in ("reset-password", "disable", "enable"):
        with pytest.raises(SystemExit) as stopped:
            main(["staff", sub, "--help"])
        assert stopped.value.code == 0
        assert f"runxin staff {sub} zhang.min" in capsys.readouterr().out
