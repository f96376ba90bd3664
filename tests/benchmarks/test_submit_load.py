"""The submission load benchmark runs and loses nothing (issue 18). No timing is asserted:
``benchmarks/submit_load.py`` prints the numbers; here it runs briefly on PostgreSQL (``make
bench-load`` runs both databases), with the real server process, the separate load process and
the database check."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _pg_available, pg_url

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "submit_load.py"
LAST_LINE = re.compile(
    r"^submissions_per_s=(?P<rate>[\d.]+) ceiling_per_s=(?P<ceiling>[\d.]+) "
    r"ratio=(?P<ratio>[\d.]+) p50_ms=[\d.]+ p99_ms=[\d.]+ rss_mb=\d+ lost=(?P<lost>\d+)$"
)


# PostgreSQL, the engine the benchmark sizes a province on; SQLite's submission path under
# concurrent load and kills is covered by test_durability.py and test_scale_out.py.
@pytest.mark.parametrize("db", ["postgresql"])
def test_the_load_benchmark_runs_and_the_database_holds_every_accepted_submission(
    db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    template: str | None = None
    if db == "postgresql":
        if not _pg_available():
            pytest.skip(f"PostgreSQL not reachable at {pg_url()}")
        template = request.getfixturevalue("pg_template")  # migrated once per session
    capacity = tmp_path / "capacity.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--db",
            db,
            "--seconds",
            "1",
            "--connections",
            "8",
            "--students",
            "400",
            "--ceiling-seconds",
            "0.5",
            "--warmup",
            "0.2",
            "--half-rate-seconds",
            "0.5",
            *(["--pg-template", template] if template else []),
            "--postgres-url",
            pg_url(),
            "--capacity-out",
            str(capacity),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    match = LAST_LINE.match(run.stdout.strip().splitlines()[-1])
    assert match, run.stdout
    assert match["lost"] == "0"
    assert float(match["rate"]) > 0 and float(match["ceiling"]) > 0
    # the database check ran and found the accepted submissions, their tiers and cases
    check = re.search(r"database check\s+(\{.*\})", run.stderr)
    assert check, run.stderr
    assert "'lost': 0" in check[1] and "'half_written': 0" in check[1]
    assert "'submitted': 0" not in check[1]
    assert '"submissions_per_s_per_node"' in capacity.read_text(encoding="utf-8")
