"""triage/ never reads the clock itself and keeps its public surface small."""

from __future__ import annotations

import ast
from pathlib import Path

import triage

TRIAGE = Path(triage.__file__).resolve().parent
CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
}


def test_no_clock_reads_in_triage() -> None:
    found = []
    for path in sorted(TRIAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (node.func.value.id, node.func.attr) in CLOCK_READS
            ):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_public_names_resolve_and_private_modules_stay_private() -> None:
    for name in triage.__all__:
        assert hasattr(triage, name), name
    modules = {p.stem for p in TRIAGE.glob("*.py")} - {"__init__"}
    assert all(stem.startswith("_") for stem in modules), modules
