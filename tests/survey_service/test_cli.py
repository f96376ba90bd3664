"""The ``runxin`` command line against real databases: the upgrade, demo, sweep and worker flow
as real processes, argument errors in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from svc_support import runxin, runxin_here


def test_score_from_list_and_object() -> None:
    r = runxin_here("score", "phq-a", "--answers", json.dumps([1] * 8 + [1] + [0, 0, 0, 0]))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["instrument"] == "phq-a"
    assert out["status"] == "scored" and out["total"] == 9 and out["band"] == "mild"
    assert out["prorated"] is False
    assert "phq_item9_positive" in [f["code"] for f in out["flags"]]
    assert isinstance(out["subscales"], dict)

    answers = {f"item{i}": 2 for i in range(1, 10)}
    answers["item9"] = None
    r = runxin_here("score", "phq-a", "--answers", json.dumps(answers))
    out = json.loads(r.stdout)
    assert out["prorated"] is True and out["total"] == 18 and out["band"] == "moderately_severe"
    assert "phq_item9_unanswered" in [f["code"] for f in out["flags"]]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("score", "nope", "--answers", "[]"), "nope"),
        (("score", "gad7", "--answers", "[1, 2"), "not valid JSON"),
        (("score", "gad7", "--answers", "[0, 0, 0, 0, 0, 0, 4]"), "item7"),
        (("score", "gad7", "--answers", "[0, 0]"), "7"),
        (("score", "gad7", "--answers", '{"item8": 1}'), "item8"),
        (("score", "gad7", "--answers", "3"), "list"),
    ],
)
def test_score_errors_name_the_problem(args: tuple[str, ...], needle: str) -> None:
    r = runxin_here(*args)
    assert r.returncode == 1
    assert needle in r.stderr and r.stdout == ""


def test_upgrade_demo_sweep_and_worker(database_url: str, tmp_path: Path) -> None:
    env = {"RUNXIN_DATABASE_URL": database_url}
    assert runxin_here("db", "upgrade", env=env).returncode == 0  # already at head: a no-op
    codes = tmp_path / "codes.txt"
    r = runxin(
        "demo",
        "--students",
        "10",
        "--codes-file",
        str(codes),
        "--staff-password",
        "pw-cli-123",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "DEMO-A" in r.stdout and "counsellor1" in r.stdout and "district1" in r.stdout
    lines = codes.read_text().split()
    assert len(lines) == 10 and len(set(lines)) == 10
    again = runxin("demo", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr

    bad = runxin_here("sweep", "--at", "2026-09-01T08:00:00", env=env)
    assert bad.returncode == 1 and "UTC offset" in bad.stderr
    ok = runxin("sweep", "--at", "2026-09-01T08:00:00+08:00", env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["escalations"] == 0
    assert runxin("worker", "--once", env=env).returncode == 0


def test_bad_database_url_is_explained() -> None:
    r = runxin("db", "upgrade", "--database-url", "mysql://x/y")
    assert r.returncode == 1 and "sqlite:///" in r.stderr
