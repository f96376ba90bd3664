"""Format features for licensed instruments: composites, norms (T-scores), validity rules,
form-level zero fill and coding schemes; the loader rejects their misuse naming the field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from instruments import DefinitionError, Instrument, Norms, ZeroFillRule, parse_definition
from scoring import ScoreContext, score

SOURCE = "test fixture"
MISSING = {"rule": "complete", "source": SOURCE}


def definition(scoring: dict[str, Any], n_items: int = 6) -> Instrument:
    doc = {
        "format": 1, "id": "features", "version": "0.1", "title": {"en": "Features"},
        "instructions": {"en": "Answer."},
        "languages": {"en": {"status": "unvalidated", "source": SOURCE}},
        "licence": "test", "citation": "test", "min_age": 0, "max_age": 99,
        "option_sets": {"scale": {"min": 0, "max": 3, "options": [
            {"value": v, "text": {"en": str(v)}} for v in range(4)]}},
        "items": [{"id": f"i{k}", "text": {"en": f"Item {k}"}, "options": "scale"}
                  for k in range(1, n_items + 1)],
        "scoring": scoring,
    }  # fmt: skip
    return parse_definition(json.dumps(doc), "features.json")


def norms(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source": "PLACEHOLDER",
        "groups": [
            {"grades": [7, 9], "gender": "female", "mean": 4.5, "sd": 2.25},
            {"grades": [7, 9], "gender": "male", "mean": 4, "sd": 2},
        ],
        "bands": [
            {"code": "normal", "max": 64, "source": SOURCE},
            {"code": "borderline", "min": 65, "max": 69, "source": SOURCE},
            {"code": "clinical", "min": 70, "source": SOURCE},
        ],
        "cutoff": {"min": 70, "source": SOURCE},
    }
    base.update(overrides)
    return base


def base_spec() -> dict[str, Any]:
    return {
        "scored_items": [f"i{k}" for k in range(1, 7)],
        "total": {"id": "total", "scales": ["a", "b"], "range": [0, 18], "norms": norms()},
        "subscales": [
            {"id": "a", "items": ["i1", "i2", "i3"], "range": [0, 9],
             "missing": {"rule": "prorate", "max_missing": 1, "source": SOURCE}},
            {"id": "b", "items": ["i4", "i5", "i6"], "range": [0, 9], "missing": MISSING},
        ],
        "flags": [{"code": "very_high", "severity": "follow_up",
                   "when": {"op": "band", "bands": ["clinical"]}, "source": SOURCE}],
    }  # fmt: skip


def test_a_valid_spec_with_every_feature_loads() -> None:
    spec = base_spec()
    spec["validity"] = [
        {
            "code": "too_many_threes",
            "source": SOURCE,
            "when": {"op": "count", "items": ["i1", "i2"], "values": [3], "min": 2},
        }
    ]
    spec["coding"] = {"id": "zero_to_three", "source": SOURCE}  # fmt: skip
    instrument = definition(spec)
    total = instrument.scoring.total
    assert total is not None and total.scales == ("a", "b") and total.items == ()
    assert isinstance(total.norms, Norms)
    assert total.norms.groups[0].mean == 4.5
    assert instrument.scoring.validity[0].code == "too_many_threes"
    assert instrument.scoring.coding is not None


def mutate(path: list[str | int], value: Any, *, delete: bool = False) -> dict[str, Any]:
    spec = copy.deepcopy(base_spec())
    target: Any = spec
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return spec


BAD = [
    (["total", "items"], ["i1"], r"total\.items: a scale sums either items or scales"),
    (["total", "missing"], MISSING, r"total\.missing: a composite scale takes its missing-data"),
    (["total", "method"], "mean", r"total\.method: a composite scale is the sum"),
    (["total", "scales"], ["a", "zz"], r"total\.scales\[1\]: unknown scale 'zz'"),
    (["total", "scales"], ["a", "a"], r"total\.scales\[1\]: scale 'a' listed twice"),
    (["total", "range"], [0, 17], r"total\.range: declared 0\.\.17 but the parts give 0\.\.18"),
    (["subscales", 1, "missing"], None, r"subscales\[1\]\.missing: an item scale needs a missing"),
    (["total", "bands"], [{"code": "x", "min": 0, "max": 18, "source": SOURCE}],
     r"total: a scale with norms declares its bands and cut-off under norms"),
    (["total", "norms", "groups", 1, "gender"], "female", r"groups\[1\]\.grades: .* overlap"),
    (["total", "norms", "groups", 0, "sd"], 0, r"groups\[0\]\.sd: must be positive"),
    (["total", "norms", "groups", 0, "grades"], [9, 7], r"groups\[0\]\.grades: bad grade range"),
    (["total", "norms", "groups", 0, "mean"], 4.12345, r"groups\[0\]\.mean: .* not a multiple"),
    (["total", "norms", "groups"], [], r"norms\.groups: norms need at least one group"),
    (["total", "norms", "bands", 0, "min"], 0, r"norms\.bands: T-score bands must cover every"),
    (["total", "norms", "bands", 1, "min"], 66, r"norms\.bands: gap between T-score bands at 66"),
    (["total", "norms", "bands", 1, "min"], 64, r"norms\.bands: overlap .* at 64"),
    (["total", "norms", "cutoff"], {"source": SOURCE}, r"norms\.cutoff: a cut-off needs min"),
    (["total", "norms", "decimals"], 5, r"norms\.decimals: must be 0\.\.4"),
    (["flags", 0, "when", "bands"], ["severe"], r"flags\[0\]\.when\.bands\[0\]: unknown band"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "message"), BAD)
def test_misuse_is_rejected_naming_the_field(
    path: list[str | int], value: Any, message: str
) -> None:
    spec = mutate(path, value, delete=value is None)
    with pytest.raises(DefinitionError, match=message):
        definition(spec)


def test_composite_of_a_composite_is_rejected() -> None:
    spec = base_spec()
    spec["subscales"].append({"id": "c", "scales": ["total"], "range": [0, 18]})
    with pytest.raises(
        DefinitionError, match=r"subscales\[2\]\.scales\[0\]: .* itself a composite"
    ):
        definition(spec)


def test_validity_rules_may_not_use_the_band() -> None:
    spec = base_spec()
    spec["validity"] = [{"code": "v", "source": SOURCE,
                         "when": {"op": "band", "bands": ["clinical"]}}]  # fmt: skip
    with pytest.raises(DefinitionError, match=r"validity\[0\]\.when: a band condition cannot"):
        definition(spec)
    spec["validity"] = [{"code": "Bad Code", "source": SOURCE,
                         "when": {"op": "unanswered", "item": "i1"}}]  # fmt: skip
    with pytest.raises(DefinitionError, match=r"validity\[0\]\.code"):
        definition(spec)


def test_coding_id_is_checked() -> None:
    spec = base_spec() | {"coding": {"id": "Not Snake", "source": SOURCE}}
    with pytest.raises(DefinitionError, match=r"coding\.id"):
        definition(spec)


def test_form_level_zero_fill_limit_counts_the_form() -> None:
    form_rule = {"rule": "zero_fill", "max_missing": 3, "blanks_in": "form", "source": SOURCE}
    spec = {
        "scored_items": [f"i{k}" for k in range(1, 7)],
        "subscales": [{"id": "a", "items": ["i1", "i2"], "range": [0, 6], "missing": form_rule}],
    }
    instrument = definition(spec)  # 3 blanks allowed on a 2-item scale: counted on the form
    missing = instrument.scoring.subscales[0].missing
    assert isinstance(missing, ZeroFillRule) and missing.blanks_in == "form"
    spec["subscales"][0]["missing"] = form_rule | {"max_missing": 6}
    with pytest.raises(DefinitionError, match=r"max_missing: must be 0\.\.5 with 6 scored items"):
        definition(spec)
    spec["subscales"][0]["missing"] = form_rule | {"blanks_in": "scale"}
    with pytest.raises(DefinitionError, match=r"max_missing: must be 0\.\.1 with 2 items"):
        definition(spec)


def test_too_many_bands() -> None:
    spec = {
        "scored_items": [f"i{k}" for k in range(1, 7)],
        "classification": {
            "bands": [{"code": f"b{k}", "positive": False} for k in range(101)],
            "rules": [], "default": "b0", "source": SOURCE,
        },
    }  # fmt: skip
    with pytest.raises(DefinitionError, match="at most 100 bands"):
        definition(spec)


def test_descending_t_bands_are_allowed() -> None:
    descending = [
        {"code": "fine", "min": 40, "source": SOURCE},
        {"code": "low", "min": 30, "max": 39, "source": SOURCE},
        {"code": "very_low", "max": 29, "source": SOURCE},
    ]
    spec = mutate(["total", "norms", "bands"], descending)
    spec["flags"] = []
    spec["total"]["norms"]["cutoff"] = {"max": 39, "source": SOURCE}
    instrument = definition(spec)
    # Lower is worse: raw 0 for a girl in grade 8 is T = (0 - 4.5) / 2.25 x 10 + 50 = 30.
    result = score(instrument, dict.fromkeys(spec["scored_items"], 0),
                   context=ScoreContext(grade=8, gender="female"))  # fmt: skip
    assert (result.t_score, result.band, result.positive) == (30.0, "low", True)
    assert result.highest_band is False
