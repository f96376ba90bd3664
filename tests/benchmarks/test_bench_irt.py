"""The IRT benchmark runs end to end on tiny sizes and prints its tables (issue 16).

No timing is asserted: ``benchmarks/bench_irt.py`` prints the numbers (``make bench-irt``). The
competitors (girth, mirt) are not installed in the project's environment, so here they are
asked for in this very Python and must be reported as skipped, not crash the run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_irt.py"


def test_the_irt_benchmark_runs_on_tiny_sizes_and_prints_every_table(tmp_path: Path) -> None:
    out_json = tmp_path / "irt.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--grm-persons", "400",
            "--grm-items", "5",
            "--eap-persons", "3000",
            "--bank", "30",
            "--cat-runs", "3",
            "--cat-length", "5",
            "--repeat", "1",
            "--fit-repeat", "1",
            "--competitor-python", sys.executable,
            "--json", str(out_json),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    for heading in (
        "GRM calibration: 400 simulated respondents x 5 items x 5 categories",
        "2PL calibration: LSAT7",
        "EAP scoring: 3,000 respondents x 20 GRM items",
        "CAT next-item selection: 30-item GRM bank",
        "ceiling: one-hot (N, J*K) @ (J*K, Q) matrix product alone",
        "scoring.cat next-item selection",
        "EAP of 3,000 respondents < 10 s",
    ):
        assert heading in out, heading
    # girth and mirt are not in this environment: skipped with a message naming them
    assert re.search(r"\n  girth +skipped: girth is not installed here", out)
    assert "[skipped] mirt:" in run.stderr

    results = json.loads(out_json.read_text(encoding="utf-8"))
    assert [row["name"] for row in results["lsat7"]] == [
        "ours",
        "ours + standard errors",
        "ours, 32 patterns + weights",
        "girth",
        "mirt",
    ]
    lsat7 = {row["name"]: row for row in results["lsat7"]}
    # The published maximum: R mirt's manual, mirt(expand.table(LSAT7), 1), log-lik -2658.805
    # (tests/scoring/data/irt_reference.json); the benchmark's own likelihood function must
    # find it at our estimates, from the 1,000 expanded rows and from the 32 weighted patterns.
    for name in ("ours", "ours, 32 patterns + weights"):
        assert abs(lsat7[name]["loglik"] - (-2658.805)) < 0.01
    assert lsat7["ours"]["vs_truth"]["max_abs_a"] < 0.01  # R mirt's published slopes
    assert lsat7["ours"]["vs_truth"]["max_abs_d"] < 0.01
    assert lsat7["ours"]["vs_ours"]["max_abs_a"] == 0.0
    assert lsat7["ours, 32 patterns + weights"]["vs_ours"]["max_abs_a"] < 1e-3
    grm = results["grm"][0]
    assert grm["name"] == "ours" and grm["vs_truth"]["corr_d"] > 0.9
    assert results["eap"]["max_abs_theta_vs_numpy"] < 1e-9
    assert results["cat"]["ours"]["calls"] == 3 * 6  # 5 selections and the final None per test
