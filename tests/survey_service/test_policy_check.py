"""``runxin policy check`` and the start-up refusal of a policy below the safety floor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from svc_support import runxin_here as runxin

from survey_service.services.runtime import load_runtime
from survey_service.settings import Settings
from triage import DEFAULT_POLICY_PATH, SafetyFloorError


def broken_policy(tmp_path: Path) -> Path:
    doc: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    doc["rules"] = [r for r in doc["rules"] if r["id"] != "critical_item_unanswered"]
    orange = next(t for t in doc["tiers"] if t["tier"] == "orange")
    suicide = next(p for p in orange["pathways"] if p["id"] == "suicide")
    suicide["acknowledge"] = {"counting": "school", "duration": "PT1H"}
    path = tmp_path / "district-policy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_policy_check_passes_the_shipped_default_with_a_tightening_layer(tmp_path: Path) -> None:
    layer = tmp_path / "district.json"
    layer.write_text(
        json.dumps(
            {
                "format": "runxin.triage-policy-override/1",
                "version": "district-x.1",
                "tiers": [
                    {
                        "tier": "orange",
                        "pathways": [
                            {
                                "id": "suicide",
                                "acknowledge": {"counting": "clock", "duration": "PT30M"},
                            }
                        ],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    r = runxin("policy", "check", str(DEFAULT_POLICY_PATH), "--layer", str(layer))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok: policy default-2026.1+district-x.1")
    assert "safety floor" in r.stdout


def test_policy_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    r = runxin("policy", "check", str(broken_policy(tmp_path)))
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert (
        "flag: phq9:phq_item9_unanswered: follow_up flag phq_item9_unanswered of instrument "
        "phq9 gives tier green (no rule fires); the floor is orange or higher" in lines
    )
    assert any(line.startswith("catch_all: flag_severity[follow_up]") for line in lines)
    assert any(
        line.startswith("deadline: tiers[orange].pathways[suicide].acknowledge:")
        and "counts school time" in line
        for line in lines
    )
    assert "below the safety floor" in r.stderr


def test_policy_check_names_a_loosening_layer(tmp_path: Path) -> None:
    layer = tmp_path / "S01.json"
    layer.write_text(
        json.dumps(
            {
                "format": "runxin.triage-policy-override/1",
                "version": "school-s01.1",
                "tiers": [
                    {
                        "tier": "orange",
                        "pathways": [
                            {
                                "id": "suicide",
                                "acknowledge": {"counting": "clock", "duration": "PT3H"},
                            }
                        ],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    r = runxin("policy", "check", "--layer", str(layer))
    assert r.returncode == 1
    assert str(layer) in r.stderr
    assert "tiers[0].pathways[0].acknowledge" in r.stderr


def test_the_service_refuses_to_start_below_the_floor(tmp_path: Path) -> None:
    settings = Settings.from_env({}, policy_path=str(broken_policy(tmp_path)))
    with pytest.raises(SafetyFloorError, match="below the safety floor") as err:
        load_runtime(settings)
    assert "district-policy.json" in str(err.value)
    assert "tiers[orange].pathways[suicide].acknowledge" in str(err.value)


def test_the_service_starts_with_the_shipped_default() -> None:
    runtime = load_runtime(Settings.from_env({}))
    assert runtime.policy.version == "default-2026.1"
