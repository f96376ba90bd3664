"""``runxin irt fit``: calibration from a CSV, JSON output and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from svc_support import runxin_here

_REF: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "scoring" / "data" / "irt_reference.json").read_text(
        encoding="utf-8"
    )
)


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_fit_2pl_with_a_frequency_column_recodes_categories(tmp_path: Path) -> None:
    ref = _REF["lsat7"]
    # items scored 1/2 in the file: recoded to 0/1 in order
    rows = [[v + 1 for v in p] + [f] for p, f in zip(ref["patterns"], ref["freq"], strict=True)]
    csv_path = _write(tmp_path / "lsat7.csv", [*ref["items"], "freq"], rows)
    done = runxin_here("irt", "fit", "--model", "2pl", "--data", str(csv_path), "--weights", "freq")
    assert done.returncode == 0, done.stderr
    assert "fitting the 2PL to 32 rows x 5 items" in done.stderr
    out = json.loads(done.stdout)
    assert out["model"] == "2pl"
    assert out["n"] == 1000
    assert out["loglik"] == pytest.approx(ref["loglik"], abs=0.01)
    assert [item["item"] for item in out["items"]] == ref["items"]
    for item, a, d in zip(out["items"], ref["a"], ref["d"], strict=True):
        assert item["categories"] == [1, 2]
        assert item["a"] == pytest.approx(a, abs=0.01)
        assert item["d"] == [pytest.approx(d, abs=0.01)]
        assert item["b"] == [pytest.approx(-item["d"][0] / item["a"], abs=1e-5)]
        assert item["se_a"] > 0 and item["se_d"][0] > 0


def test_fit_grm_with_missing_cells(tmp_path: Path) -> None:
    ref = _REF["science"]
    rows: list[list[Any]] = []
    for pattern, freq in zip(ref["patterns"], ref["freq"], strict=True):
        rows.extend([list(pattern)] * freq)
    rows.append(["", 3, "NA", 2])  # a respondent with two missing answers
    csv_path = _write(tmp_path / "science.csv", ref["items"], rows)
    done = runxin_here("irt", "fit", "--model", "grm", "--data", str(csv_path))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["n"] == 393
    assert out["converged"] is True
    # one extra partial respondent moves the log-likelihood by its own term only
    assert -1612.0 < out["loglik"] < ref["loglik"]
    for item, a in zip(out["items"], ref["a"], strict=True):
        assert item["categories"] == [1, 2, 3, 4]
        assert len(item["d"]) == len(item["b"]) == len(item["se_d"]) == 3
        assert item["d"] == sorted(item["d"], reverse=True)
        assert item["a"] == pytest.approx(a, abs=0.05)


@pytest.mark.parametrize(
    ("header", "rows", "extra", "message"),
    [
        (["x", "y"], [[1, 0], [0, "a"]], [], "line 3, column 'y': 'a' is not an integer"),
        (["x", "y"], [[1, 0], [0, 1.5]], [], "line 3, column 'y': '1.5' is not an integer"),
        (["x", "y"], [[1, 0], [1, 1]], [], "column 'x' has fewer than 2 categories"),
        (["x", "y"], [[1, 0], [0, 1]], ["--weights", "n"], "--weights 'n': no such column"),
        (["x", "y", "n"], [[1, 0, 2], [0, 1, -1]], ["--weights", "n"], "line 3, column 'n'"),
        (["x", "y"], [[1, 0], [0]], [], "line 3 has 1 fields, the header has 2"),
        (["x", "y"], [[1, 0], [0, 2], [2, 1]], [], "column 'x' has 3 categories (0, 1, 2)"),
        (["x", "x"], [[1, 0], [0, 1]], [], "duplicate column name 'x'"),
        (["x", "y"], [], [], "no data rows after the header"),
        (["x", "y"], [[1, 0], [0, 10**30]], [], "line 3, column 'y': '1000000000000000000000000"),
    ],
)
def test_bad_csv_is_one_line_naming_the_problem(
    tmp_path: Path, header: list[str], rows: list[list[Any]], extra: list[str], message: str
) -> None:
    csv_path = _write(tmp_path / "bad.csv", header, rows)
    done = runxin_here("irt", "fit", "--model", "2pl", "--data", str(csv_path), *extra)
    assert done.returncode == 1
    assert done.stdout == ""
    assert message in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("runxin: ")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    done = runxin_here("irt", "fit", "--model", "grm", "--data", str(tmp_path / "none.csv"))
    assert done.returncode == 1
    assert "none.csv: no such file" in done.stderr
