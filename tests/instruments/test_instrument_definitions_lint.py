"""Lint over every definition file (shipped and the licensed-instrument test fixtures),
recomputed independently of the loader's own checks."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import instruments
from instruments import LANGUAGES, Instrument, Scale, default_catalogue, load_catalogue

DEFINITIONS = Path(instruments.__file__).parent / "definitions"
LICENSED = Path(__file__).resolve().parent / "licensed_examples"
CATALOGUE = default_catalogue()
EVERY = load_catalogue([LICENSED])
INSTRUMENTS = [EVERY[i] for i in EVERY.ids()]


def by_id(instrument: Instrument) -> str:
    return instrument.id


def scales(instrument: Instrument) -> list[Scale]:
    spec = instrument.scoring
    return ([spec.total] if spec.total is not None else []) + list(spec.subscales)


@pytest.mark.parametrize("folder", [DEFINITIONS, LICENSED], ids=["shipped", "licensed"])
def test_ids_unique_and_match_file_names(folder: Path) -> None:
    files = sorted(folder.glob("*.json"))
    ids = [json.loads(f.read_text(encoding="utf-8"))["id"] for f in files]
    assert len(ids) == len(set(ids))
    assert ids == [f.stem for f in files]
    assert set(ids) <= set(EVERY.ids())


def test_licensed_examples_are_not_shipped_and_carry_placeholder_text() -> None:
    licensed = set(EVERY.ids()) - set(CATALOGUE.ids())
    assert licensed == {f.stem for f in LICENSED.glob("*.json")}
    for instrument_id in licensed:
        instrument = EVERY[instrument_id]
        assert all(item.text["en"].startswith("Placeholder item") for item in instrument.items)
        assert set(instrument.languages) == {"en"}
        assert "placeholder" in instrument.licence.lower()


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
            hits = [
                b for b in scale.bands
                if Fraction(str(b.min)) <= value <= Fraction(str(b.max))
            ]  # fmt: skip
            assert len(hits) == 1, (scale.id, value)
            value += step


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_scale_range_matches_items(instrument: Instrument) -> None:
    by_scale = {scale.id: scale for scale in scales(instrument)}
    for scale in scales(instrument):
        if scale.scales:  # a composite: the sum of its parts' ranges
            assert not scale.items and scale.missing is None and scale.method == "sum"
            parts = [by_scale[p] for p in scale.scales]
            assert all(not part.scales for part in parts)
            low = sum((Fraction(str(p.range[0])) for p in parts), Fraction(0))
            high = sum((Fraction(str(p.range[1])) for p in parts), Fraction(0))
        else:
            items = [instrument.item(i) for i in scale.items]
            count = len(items) if scale.method == "mean" else 1
            low = Fraction(sum(i.min_value for i in items), count)
            high = Fraction(sum(i.max_value for i in items), count)
        assert (low, high) == tuple(Fraction(str(bound)) for bound in scale.range)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_t_score_bands_cover_every_score_and_norm_groups_do_not_overlap(
    instrument: Instrument,
) -> None:
    for scale in scales(instrument):
        norms = scale.norms
        if norms is None:
            continue
        assert not scale.bands and scale.cutoff is None
        assert norms.source.strip()
        step = Fraction(1, 10**norms.decimals)
        bands = list(norms.bands)
        assert bands[0].min is None and bands[-1].max is None
        for low, high in itertools.pairwise(bands):
            assert low.max is not None and high.min is not None
            assert Fraction(str(high.min)) == Fraction(str(low.max)) + step
            assert high.source.strip() and low.source.strip()
        for gender in ("male", "female"):
            grades = sorted(g.grades for g in norms.groups if g.gender == gender)
            for (_, first_high), (second_low, _) in itertools.pairwise(grades):
                assert second_low > first_high
        assert all(g.sd > 0 for g in norms.groups)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_every_cutoff_band_rule_and_flag_has_a_source(instrument: Instrument) -> None:
    spec = instrument.scoring
    for scale in scales(instrument):
        assert scale.missing is None or scale.missing.source.strip()
        assert all(band.source.strip() for band in scale.bands)
        if scale.cutoff is not None:
            assert scale.cutoff.source.strip()
    if spec.classification is not None:
        assert spec.classification.source.strip()
        assert all(rule.source.strip() for rule in spec.classification.rules)
    assert all(flag.source.strip() for flag in spec.flags)
    assert all(rule.source.strip() for rule in spec.validity)
    if spec.positive is not None:
        assert spec.positive.source.strip()
    if spec.coding is not None:
        assert spec.coding.source.strip()
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
    for instrument_id in ("gad7", "phq2", "gad2", "ces-dc", "scared", "psc17", "who5", "k6", "k10"):
        assert codes(instrument_id) == set()


def test_definition_files_decode_as_plain_json() -> None:
    for path in DEFINITIONS.glob("*.json"):
        doc: dict[str, Any] = json.loads(path.read_bytes().decode("utf-8"))
        assert doc["format"] == 1
