"""Who answers a form (``respondent``) and the age range it is validated for (issue 11).

The age ranges are checked against shared/reference/instruments.md; a campaign refuses an
instrument outside its range for a grade, and a parent- or teacher-report form in a student
battery.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import instruments
from instruments import RESPONDENTS, DefinitionError, default_catalogue, parse_definition

DEFINITIONS = Path(instruments.__file__).parent / "definitions"
CATALOGUE = default_catalogue()

# (min_age, max_age, respondent) as instruments.md section 2 gives them; 120 = no upper limit.
EXPECTED: dict[str, tuple[int, int, str]] = {
    "phq9": (13, 120, "self"),  # adults; also used with adolescents 13-17 (Richardson 2010)
    "phq2": (13, 120, "self"),  # as the PHQ-9
    "phq-a": (11, 17, "self"),  # about 11-17
    "gad7": (13, 120, "self"),  # adults; adolescent use reported; project setting 13
    "gad2": (13, 120, "self"),  # as the GAD-7
    "asq": (8, 120, "self"),  # ages 8 and over in the NIMH toolkit
    "ces-dc": (6, 17, "self"),  # ages 6-17
    "scared": (8, 18, "self"),  # ages 8-18, child form
    "psc17": (4, 16, "parent"),  # parent report, ages 4-16
    "who5": (9, 120, "self"),  # validated from about age 9 (Allgaier 2012)
    "k6": (18, 120, "self"),  # adult instrument
    "k10": (18, 120, "self"),  # adult instrument
}


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = json.loads((DEFINITIONS / "gad7.json").read_text(encoding="utf-8"))
    base.update(overrides)
    return base


def test_every_shipped_definition_has_its_published_age_range_and_respondent() -> None:
    assert set(CATALOGUE.ids()) == set(EXPECTED)
    for instrument_id, (low, high, respondent) in EXPECTED.items():
        instrument = CATALOGUE[instrument_id]
        got = (instrument.min_age, instrument.max_age, instrument.respondent)
        assert got == (low, high, respondent), instrument_id


def test_every_shipped_definition_cites_its_age_range_and_respondent() -> None:
    for instrument_id in CATALOGUE.ids():
        instrument = CATALOGUE[instrument_id]
        assert instrument.age_source.strip(), instrument_id
        assert instrument.respondent_source.strip(), instrument_id
        assert instrument.respondent in RESPONDENTS


def test_adult_instruments_are_not_for_school_children() -> None:
    # Issue 11: "a campaign accepts K10 (adults) for grade 1 and GAD-7 for 12-year-olds".
    assert CATALOGUE["k10"].min_age == 18
    assert CATALOGUE["gad7"].min_age > 12


def test_psc17_is_a_parent_report_form() -> None:
    psc = CATALOGUE["psc17"]
    assert psc.respondent == "parent" and not psc.self_report
    assert "parent report" in psc.respondent_source
    assert CATALOGUE["phq9"].self_report


def test_respondent_in_the_file_is_written_after_the_age_source() -> None:
    raw = json.loads((DEFINITIONS / "psc17.json").read_text(encoding="utf-8"))
    keys = list(raw)
    assert keys.index("respondent") == keys.index("age_source") + 1
    assert keys.index("respondent_source") == keys.index("respondent") + 1


def test_a_definition_without_respondent_is_self_report() -> None:
    legacy = doc()
    del legacy["respondent"], legacy["respondent_source"]
    instrument = parse_definition(json.dumps(legacy), "legacy.json")
    assert instrument.respondent == "self" and instrument.respondent_source == ""


@pytest.mark.parametrize("respondent", ["parent", "teacher"])
def test_a_parent_or_teacher_form_loads_with_a_source(respondent: str) -> None:
    instrument = parse_definition(
        json.dumps(doc(respondent=respondent, respondent_source="The form says so.")), "x.json"
    )
    assert instrument.respondent == respondent and not instrument.self_report


@pytest.mark.parametrize("respondent", ["parent", "teacher"])
def test_a_parent_or_teacher_form_without_a_source_is_rejected(respondent: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(json.dumps(doc(respondent=respondent, respondent_source=" ")), "x.json")
    assert caught.value.field == "$.respondent_source"
    assert f"{respondent}-report form must cite" in str(caught.value)


def test_an_unknown_respondent_is_rejected_naming_the_field() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(json.dumps(doc(respondent="student")), "x.json")
    assert caught.value.field == "$.respondent"
    assert "student" in str(caught.value)
