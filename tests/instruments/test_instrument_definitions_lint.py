"""Lint over every shipped definition, recomputed independently of the loader's own checks."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import instruments
from instruments import LANGUAGES, Instrument, Scale, default_catalogue

DEFINITIONS = Path(instruments.__file__).parent / "definitions"
CATALOGUE = default_catalogue()
INSTRUMENTS = [CATALOGUE[i] for i in CATALOGUE.ids()]


def by_id(instrument: Instrument) -> str:
    return instrument.id


def scales(instrument: Instrument) -> list[Scale]:
    spec = instrument.scoring
    return ([spec.total] if spec.total is not None else []) + list(spec.subscales)


def test_ids_unique_and_match_file_names() -> None:
    files = sorted(DEFINITIONS.glob("*.json"))
    ids = [json.loads(f.read_text(encoding="utf-8"))["id"] for f in files]
    assert len(ids) == len(set(ids))
    assert ids == [f.stem for f in files]


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_item_and_option_ids_unique(instrument: Instrument) -> None:
    ids = [item.id for item in instrument.items]
    assert len(ids) == len(set(ids))
    for item in instrument.items:
        assert len(item.values) == len(set(item.values)), item.id


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_option_values_inside_declared_range(instrument: Instrument) -> None:
    for item in instrument.items:
        assert item.min_value <= item.max_value
        for value in item.values:
            assert item.min_value <= value <= item.max_value, (item.id, value)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_every_declared_language_everywhere(instrument: Instrument) -> None:
    declared = set(instrument.languages)
    assert "en" in declared
    assert declared <= set(LANGUAGES)
    assert set(instrument.title) == declared
    assert set(instrument.instructions) == declared
    for item in instrument.items:
        assert set(item.text) == declared, item.id
        for option in item.options:
            assert set(option.text) == declared, (item.id, option.value)
            assert all(text.strip() for text in option.text.values())
        assert all(text.strip() for text in item.text.values())
    for info in instrument.languages.values():
        assert info.source.strip()


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_bands_cover_range_without_gaps_or_overlaps(instrument: Instrument) -> None:
    for scale in scales(instrument):
        if not scale.bands:
            continue
        step = Fraction(1, 10**scale.decimals)
        ordered = sorted(scale.bands, key=lambda b: Fraction(str(b.min)))
        assert Fraction(str(ordered[0].min)) == Fraction(str(scale.range[0]))
        assert Fraction(str(ordered[-1].max)) == Fraction(str(scale.range[1]))
        for low, high in itertools.pairwise(ordered):
            assert Fraction(str(high.min)) == Fraction(str(low.max)) + step, (low, high)
        # Every attainable rounded score falls in exactly one band.
        value = Fraction(str(scale.range[0]))
        while value <= Fraction(str(scale.range[1])):
            hits = [b for b in scale.bands if b.min <= value <= b.max]
            assert len(hits) == 1, (scale.id, value)
            value += step


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_scale_range_matches_items(instrument: Instrument) -> None:
    for scale in scales(instrument):
        items = [instrument.item(i) for i in scale.items]
        count = len(items) if scale.method == "mean" else 1
        low = Fraction(sum(i.min_value for i in items), count)
        high = Fraction(sum(i.max_value for i in items), count)
        assert (low, high) == tuple(Fraction(str(bound)) for bound in scale.range)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_every_cutoff_band_rule_and_flag_has_a_source(instrument: Instrument) -> None:
    spec = instrument.scoring
    for scale in scales(instrument):
        assert scale.missing.source.strip()
        assert all(band.source.strip() for band in scale.bands)
        if scale.cutoff is not None:
            assert scale.cutoff.source.strip()
    if spec.classification is not None:
        assert spec.classification.source.strip()
        assert all(rule.source.strip() for rule in spec.classification.rules)
    assert all(flag.source.strip() for flag in spec.flags)
    assert instrument.licence.strip() and instrument.citation.strip()


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_scoring_spec_names_known_items(instrument: Instrument) -> None:
    ids = set(instrument.item_ids)
    spec = instrument.scoring
    assert set(spec.scored_items) <= ids
    for scale in scales(instrument):
        assert set(scale.items) <= set(spec.scored_items)
    for flag in spec.flags:
        assert flag.item is None or flag.item in ids


def test_declared_critical_flags() -> None:
    def codes(instrument_id: str) -> set[tuple[str, str]]:
        return {(f.code, f.severity) for f in CATALOGUE.get(instrument_id).scoring.flags}

    phq = {("phq_item9_positive", "critical"), ("phq_item9_unanswered", "follow_up")}
    assert codes("phq9") == phq
    assert codes("phq-a") == phq | {
        ("phqa_past_month_thoughts", "critical"),
        ("phqa_past_month_thoughts_unanswered", "follow_up"),
        ("phqa_lifetime_attempt", "critical"),
        ("phqa_lifetime_attempt_unanswered", "follow_up"),
    }
    assert codes("asq") == {
        ("asq_positive", "critical"),
        ("asq_acute", "acute"),
        ("asq_unanswered", "follow_up"),
    }
    assert codes("gad7") == set()


def test_definition_files_decode_as_plain_json() -> None:
    for path in DEFINITIONS.glob("*.json"):
        doc: dict[str, Any] = json.loads(path.read_bytes().decode("utf-8"))
        assert doc["format"] == 1
