"""docs/triage.md is generated from the policy and the instruments and cannot drift."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_triage_doc", ROOT / "scripts" / "make_triage_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_triage_doc"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_doc_equals_the_script_output() -> None:
    script = load_script()
    catalogue = script.default_catalogue()
    expected = script.render(script.load_policy(), [catalogue[i] for i in sorted(catalogue)])
    committed = (ROOT / "docs" / "triage.md").read_text(encoding="utf-8")
    assert committed == expected, "docs/triage.md is stale: run scripts/make_triage_doc.py"


def test_doc_has_one_line_per_rule_and_the_floor() -> None:
    script = load_script()
    policy = script.load_policy()
    text = (ROOT / "docs" / "triage.md").read_text(encoding="utf-8")
    assert f"Policy version: `{policy.version}`" in text
    for rule in policy.rules:
        assert f"| {rule.id} |" in text, rule.id
    assert "| phq9 | flag phq_item9_unanswered, follow_up (item item9) | orange | suicide |" in text
    assert "| k10 | total >= 22 (rounded half up) | yellow | elevated | k10_total_22 |" in text
    assert "| orange | suicide | acknowledge | clock: PT1H | clock, <= 2 h |" in text
