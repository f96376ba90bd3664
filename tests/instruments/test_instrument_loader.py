"""Loader and catalogue: shipped definitions load; malformed ones fail naming file and field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import instruments
from instruments import (
    Catalogue,
    DefinitionError,
    Instrument,
    UnknownInstrumentError,
    default_catalogue,
    load_catalogue,
    load_definition,
    parse_definition,
)

DEFINITIONS = Path(instruments.__file__).parent / "definitions"
SHIPPED = sorted(DEFINITIONS.glob("*.json"))
EXPECTED_IDS = {
    "phq-a", "phq9", "phq2", "gad7", "gad2", "asq", "ces-dc", "scared", "psc17", "who5", "k6",
    "k10",
}  # fmt: skip


def shipped_doc(name: str = "phq9") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DEFINITIONS / f"{name}.json").read_text(encoding="utf-8"))
    return doc


def write(tmp_path: Path, doc: dict[str, Any], name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- shipped


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_definition_loads(path: Path) -> None:
    instrument = load_definition(path)
    assert isinstance(instrument, Instrument)
    assert instrument.id == path.stem
    assert instrument.version


def test_shipped_ids() -> None:
    assert {p.stem for p in SHIPPED} == EXPECTED_IDS
    assert set(default_catalogue().ids()) == EXPECTED_IDS


def test_definitions_are_utf8_with_unescaped_chinese() -> None:
    text = (DEFINITIONS / "phq9.json").read_text(encoding="utf-8")
    assert "患者健康问卷" in text
    assert "\\u" not in text


def test_instrument_is_frozen() -> None:
    phq9 = default_catalogue().get("phq9")
    with pytest.raises(AttributeError):
        phq9.id = "other"  # type: ignore[misc]


def test_item_order_and_ids() -> None:
    catalogue = default_catalogue()
    assert catalogue.get("phq9").item_ids == (*(f"item{i}" for i in range(1, 10)), "difficulty")
    assert catalogue.get("phq-a").item_ids == (
        *(f"item{i}" for i in range(1, 10)),
        "past_year",
        "difficulty",
        "past_month_thoughts",
        "lifetime_attempt",
    )
    assert catalogue.get("gad7").item_ids == tuple(f"item{i}" for i in range(1, 8))
    assert catalogue.get("asq").item_ids == ("q1", "q2", "q3", "q4", "q5")


def test_option_sets_are_resolved() -> None:
    phq9 = default_catalogue().get("phq9")
    item1 = phq9.item("item1")
    assert item1.values == (0, 1, 2, 3)
    assert item1.options[2].text == {"en": "More than half the days", "zh-CN": "一半以上的天数"}
    asq = default_catalogue().get("asq")
    assert {o.value: o.text["en"] for o in asq.item("q1").options} == {1: "Yes", 0: "No"}
    phqa = default_catalogue().get("phq-a")
    assert phqa.item("past_month_thoughts").values == (1, 0)


def test_item_lookup_unknown_raises_key_error() -> None:
    with pytest.raises(KeyError, match="item10"):
        default_catalogue().get("phq9").item("item10")


def test_resolve_language() -> None:
    catalogue = default_catalogue()
    assert catalogue.get("phq9").resolve_language("zh-CN") == "zh-CN"
    assert catalogue.get("gad7").resolve_language("zh-CN") == "zh-CN"
    assert catalogue.get("phq-a").resolve_language("zh-CN") == "en"
    assert catalogue.get("asq").resolve_language("zh-CN") == "en"
    assert catalogue.get("phq9").resolve_language("fr") == "en"
    assert catalogue.get("phq9").resolve_language("en") == "en"


def test_languages_carry_status_and_source() -> None:
    catalogue = default_catalogue()
    phq9 = catalogue.get("phq9")
    assert set(phq9.languages) == {"en", "zh-CN"}
    assert phq9.languages["zh-CN"].status == "validated"
    assert "卞崔冬" in phq9.languages["zh-CN"].source
    for instrument_id in ("phq-a", "asq"):
        instrument = catalogue.get(instrument_id)
        assert set(instrument.languages) == {"en"}
        assert all("zh-CN" not in item.text for item in instrument.items)


# ----------------------------------------------------------------------------- catalogue


def test_catalogue_mapping_behaviour() -> None:
    catalogue = default_catalogue()
    assert default_catalogue() is catalogue
    assert len(catalogue) == len(EXPECTED_IDS)
    assert set(catalogue) == EXPECTED_IDS
    assert "phq9" in catalogue
    assert "sdq" not in catalogue
    assert catalogue["gad7"].id == "gad7"
    assert dict(catalogue.items())["asq"] is catalogue.get("asq")
    assert catalogue.get("sdq", None) is None


def test_unknown_instrument_error() -> None:
    catalogue = default_catalogue()
    with pytest.raises(UnknownInstrumentError) as caught:
        catalogue.get("sdq")
    assert isinstance(caught.value, KeyError)
    assert caught.value.instrument_id == "sdq"
    message = str(caught.value)
    assert "'sdq'" in message and "phq9" in message and "gad7" in message
    with pytest.raises(UnknownInstrumentError):
        catalogue["sdq"]


def test_catalogue_rejects_duplicate_instruments() -> None:
    phq9 = default_catalogue().get("phq9")
    with pytest.raises(DefinitionError, match="duplicate instrument id 'phq9'"):
        Catalogue([phq9, phq9])


def test_load_catalogue_with_extra_dir(tmp_path: Path) -> None:
    doc = shipped_doc("gad7")
    doc["id"] = "gad7-local"
    write(tmp_path, doc, "gad7-local.json")
    (tmp_path / "readme.txt").write_text("not a definition", encoding="utf-8")
    catalogue = load_catalogue([tmp_path])
    assert set(catalogue.ids()) == EXPECTED_IDS | {"gad7-local"}
    assert catalogue.ids()[-1] == "gad7-local"


def test_load_catalogue_duplicate_id_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, shipped_doc("phq9"), "copy.json")
    with pytest.raises(DefinitionError) as caught:
        load_catalogue([tmp_path])
    message = str(caught.value)
    assert "copy.json" in message and "phq9.json" in message and "$.id" in message


def test_load_catalogue_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="not a directory"):
        load_catalogue([tmp_path / "nope"])


def test_load_catalogue_bad_extra_definition(tmp_path: Path) -> None:
    doc = shipped_doc("gad7")
    doc["id"] = "gad7-local"
    doc["items"][0]["colour"] = "red"
    write(tmp_path, doc, "gad7-local.json")
    with pytest.raises(DefinitionError, match=r"gad7-local\.json: \$\.items\[0\]"):
        load_catalogue([tmp_path])


# ----------------------------------------------------------------------------- malformed

Mutator = Callable[[dict[str, Any]], None]


def _set(path: tuple[Any, ...], value: Any) -> Mutator:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _del(path: tuple[Any, ...]) -> Mutator:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


BANDS = ("scoring", "total", "bands")

MALFORMED: list[tuple[str, Mutator, str, str]] = [
    ("unknown top-level field", _set(("colour",), "red"), "$", "unknown field `colour`"),
    ("unknown item field", _set(("items", 3, "hint"), "x"), "$.items[3]", "unknown field `hint`"),
    ("wrong type of options", _set(("items", 3, "options"), 5), "$.items[3].options", "Expected"),
    ("wrong type of min_age", _set(("min_age",), "13"), "$.min_age", "Expected `int`"),
    ("missing required field", _del(("licence",)), "$", "missing required field `licence`"),
    ("bad format version", _set(("format",), 2), "$.format", "Invalid enum value 2"),
    ("band gap", _set((*BANDS, 2, "min"), 11), "$.scoring.total.bands[2].min", "gap"),
    ("band overlap", _set((*BANDS, 2, "min"), 9), "$.scoring.total.bands[2].min", "overlap"),
    ("band order", _set((*BANDS, 2, "min"), 3), "$.scoring.total.bands[2].min", "overlap"),
    ("bands short of range", _set((*BANDS, 4, "max"), 26), "$.scoring.total.bands", "cover"),
    ("band without source", _set((*BANDS, 0, "source"), " "), "bands[0].source", "empty"),
    ("duplicate band", _set((*BANDS, 1, "code"), "minimal"), "bands[1].code", "duplicate"),
    ("duplicate item id", _set(("items", 1, "id"), "item1"), "$.items[1].id", "duplicate item"),
    (
        "option out of range",
        _set(("option_sets", "frequency", "options", 3, "value"), 4),
        "$.option_sets.frequency.options[3].value",
        "outside the declared range 0..3",
    ),
    (
        "inline option out of range",
        _set(("items", 9, "options", "options", 0, "value"), -1),
        "$.items[9].options.options[0].value",
        "outside the declared range",
    ),
    (
        "duplicate option value",
        _set(("option_sets", "frequency", "options", 3, "value"), 2),
        "$.option_sets.frequency.options[3].value",
        "duplicate option value",
    ),
    (
        "missing item text for declared language",
        _del(("items", 2, "text", "zh-CN")),
        "$.items[2].text",
        "missing text for declared language 'zh-CN'",
    ),
    (
        "missing option text for declared language",
        _del(("option_sets", "frequency", "options", 1, "text", "zh-CN")),
        "$.option_sets.frequency.options[1].text",
        "'zh-CN'",
    ),
    ("missing title language", _del(("title", "zh-CN")), "$.title", "'zh-CN'"),
    ("missing instructions", _del(("instructions", "en")), "$.instructions", "'en'"),
    (
        "unknown language",
        _set(("languages", "zh"), {"status": "validated", "source": "x"}),
        "$.languages",
        "unknown language 'zh'",
    ),
    (
        "bad language status",
        _set(("languages", "en", "status"), "official"),
        "$.languages",
        "Invalid enum value 'official'",
    ),
    ("unknown option set", _set(("items", 0, "options"), "freq"), "$.items[0].options", "freq"),
    (
        "scored item unknown",
        _set(("scoring", "scored_items", 8), "item99"),
        "$.scoring.scored_items[8]",
        "unknown item 'item99'",
    ),
    (
        "scale item unknown",
        _set(("scoring", "total", "items", 0), "item0"),
        "$.scoring.total.items[0]",
        "unknown item 'item0'",
    ),
    (
        "scale item not scored",
        _set(("scoring", "total", "items", 8), "difficulty"),
        "$.scoring.total.items[8]",
        "not a scored item",
    ),
    (
        "range mismatch",
        _set(("scoring", "total", "range"), [0, 30]),
        "$.scoring.total.range",
        "items give 0..27",
    ),
    (
        "too many missing allowed",
        _set(("scoring", "total", "missing", "max_missing"), 9),
        "$.scoring.total.missing.max_missing",
        "0..8",
    ),
    (
        "unknown missing rule",
        _set(("scoring", "total", "missing", "rule"), "impute"),
        "$.scoring.total.missing",
        "Invalid value 'impute'",
    ),
    (
        "cut-off outside range",
        _set(("scoring", "total", "cutoff", "min"), 28),
        "$.scoring.total.cutoff.min",
        "outside",
    ),
    (
        "flag names unknown item",
        _set(("scoring", "flags", 0, "when", "item"), "item10"),
        "$.scoring.flags[0].when.item",
        "unknown item 'item10'",
    ),
    (
        "flag value not an option",
        _set(("scoring", "flags", 0, "when", "values"), [1, 4]),
        "$.scoring.flags[0].when.values[1]",
        "not an option value",
    ),
    (
        "flag unknown op",
        _set(("scoring", "flags", 0, "when", "op"), "equals"),
        "$.scoring.flags[0].when",
        "Invalid value 'equals'",
    ),
    (
        "flag bad severity",
        _set(("scoring", "flags", 0, "severity"), "high"),
        "$.scoring.flags[0].severity",
        "Invalid enum value 'high'",
    ),
    (
        "flag code not snake case",
        _set(("scoring", "flags", 0, "code"), "Item 9"),
        "$.scoring.flags[0].code",
        "snake_case",
    ),
    ("bad id", _set(("id",), "PHQ 9"), "$.id", "'PHQ 9'"),
    ("bad version", _set(("version",), "one"), "$.version", "'one'"),
    ("ages reversed", _set(("max_age",), 10), "$.max_age", "below min_age"),
    ("empty licence", _set(("licence",), ""), "$.licence", "must not be empty"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [pytest.param(m, f, w, id=name) for name, m, f, w in MALFORMED],
)
def test_malformed_definition_names_file_and_field(
    tmp_path: Path, mutate: Mutator, field: str, words: str
) -> None:
    doc = copy.deepcopy(shipped_doc("phq9"))
    mutate(doc)
    path = write(tmp_path, doc)
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    error = caught.value
    message = str(error)
    assert isinstance(error, ValueError)
    assert str(path) in message
    assert field in message, message
    assert words in message, message
    assert error.source == str(path)
    assert field in error.field or error.field in field


def test_text_in_undeclared_language(tmp_path: Path) -> None:
    doc = shipped_doc("asq")
    doc["items"][0]["text"]["zh-CN"] = "某文本"
    with pytest.raises(DefinitionError, match=r"\$\.items\[0\]\.text: text in language 'zh-CN'"):
        load_definition(write(tmp_path, doc))


def test_english_is_required(tmp_path: Path) -> None:
    doc = shipped_doc("phq9")
    del doc["languages"]["en"]
    with pytest.raises(DefinitionError, match=r"\$\.languages: must declare 'en'"):
        load_definition(write(tmp_path, doc))


def test_unused_option_set(tmp_path: Path) -> None:
    doc = shipped_doc("phq9")
    doc["option_sets"]["spare"] = doc["option_sets"]["frequency"]
    with pytest.raises(DefinitionError, match=r"\$\.option_sets\.spare: option set is not used"):
        load_definition(write(tmp_path, doc))


def test_classification_conditions_are_checked(tmp_path: Path) -> None:
    doc = shipped_doc("asq")
    doc["scoring"]["classification"]["rules"][0]["band"] = "urgent"
    with pytest.raises(DefinitionError, match=r"rules\[0\]\.band: unknown band 'urgent'"):
        load_definition(write(tmp_path, doc))
    doc = shipped_doc("asq")
    doc["scoring"]["classification"]["rules"][0]["when"] = {"op": "band", "bands": ["negative"]}
    with pytest.raises(DefinitionError, match="cannot be used to decide the band"):
        load_definition(write(tmp_path, doc))
    doc = shipped_doc("asq")
    doc["scoring"]["flags"][0]["when"]["bands"] = ["positive"]
    with pytest.raises(DefinitionError, match=r"flags\[0\]\.when\.bands\[0\]: unknown band"):
        load_definition(write(tmp_path, doc))
    doc = shipped_doc("asq")
    doc["scoring"]["classification"]["rules"][1]["when"]["of"][2]["item"] = "q9"
    with pytest.raises(
        DefinitionError, match=r"rules\[1\]\.when\.of\[2\]\.item: unknown item 'q9'"
    ):
        load_definition(write(tmp_path, doc))


def test_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": 1, "id": ', encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"broken\.json: \$: not valid JSON"):
        load_definition(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"missing\.json: \$: cannot read"):
        load_definition(tmp_path / "missing.json")


def test_parse_definition_from_text() -> None:
    text = (DEFINITIONS / "gad7.json").read_text(encoding="utf-8")
    instrument = parse_definition(text, "upload")
    assert instrument == default_catalogue().get("gad7")
    with pytest.raises(DefinitionError, match=r"^upload: "):
        parse_definition(text.replace('"version": "1.0.0"', '"version": 1'), "upload")
