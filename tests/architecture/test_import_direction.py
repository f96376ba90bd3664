"""Imports point one way: instruments → scoring → triage → survey_service.

Walks the source files' import statements (not just what happens to be loaded), so a lazy import
inside a function is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["instruments", "scoring", "triage", "survey_service"]
WEB_AND_DB = {"litestar", "sqlalchemy", "alembic", "uvicorn", "aiosqlite", "asyncpg"}


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.add((str(path.relative_to(ROOT)), name.split(".")[0]))
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_no_upward_imports(package: str) -> None:
    allowed_below = set(LAYERS[: LAYERS.index(package)])
    above = set(LAYERS[LAYERS.index(package) + 1 :])
    bad = sorted((f, m) for f, m in _imports(package) if m in above)
    assert not bad, f"{package} imports a layer above it: {bad}"
    assert allowed_below <= set(LAYERS)


@pytest.mark.parametrize("package", ["instruments", "scoring", "triage"])
def test_domain_packages_never_touch_web_or_database(package: str) -> None:
    bad = sorted((f, m) for f, m in _imports(package) if m in WEB_AND_DB)
    assert not bad, f"{package} imports web or database code: {bad}"


@pytest.mark.parametrize("package", ["instruments", "scoring", "triage"])
def test_domain_packages_never_read_the_clock(package: str) -> None:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not offenders, offenders
