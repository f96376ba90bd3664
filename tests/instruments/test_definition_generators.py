"""The generated definition files are what the generator scripts in scripts/reference/ produce."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts" / "reference"
REFERENCE = Path(REPO_ROOT).parent / "shared" / "reference" / "instrument-texts.md"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_file(doc: object) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.skipif(
    not REFERENCE.is_file() and os.environ.get("CI") != "true",  # CI=true: a missing file fails
    reason=f"the reference file is not checked out next to the repository ({REFERENCE})",
)
def test_shipped_definitions_match_the_generator() -> None:
    module = load("make_definitions")
    for name, doc in module.build(REFERENCE).items():
        path = REPO_ROOT / "instruments" / "definitions" / f"{name}.json"
        assert path.read_text(encoding="utf-8") == as_file(doc), name


def test_licensed_examples_match_the_generator() -> None:
    module = load("make_licensed_examples")
    for name, doc in module.build().items():
        path = Path(__file__).resolve().parent / "licensed_examples" / f"{name}.json"
        assert path.read_text(encoding="utf-8") == as_file(doc), name
