"""FHIR R4 export and import of instruments (issue 15): every catalogue instrument becomes a
Questionnaire that a FHIR library accepts, carries its LOINC codes, answer scores and critical
items, and comes back from import as an equivalent definition draft; responses become
QuestionnaireResponses whose answers score to the scorer's total.

Validation uses ``fhir.resources``' R4B models: R4B's Questionnaire and QuestionnaireResponse
are identical to R4's (R4B changed other resources: subscriptions, evidence, medication
definitions and the like), so an R4B-valid resource of these two types is R4-valid.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import scoring
from instruments import Instrument, default_catalogue, parse_definition
from instruments.fhir import (
    DRAFT_SUFFIX,
    EXT_CRITICAL,
    EXT_LOINC_ANSWER,
    EXT_LOINC_ANSWER_LIST,
    LOINC,
    ORDINAL_VALUE,
    TRANSLATION,
    definition_problems,
    from_questionnaire,
    to_questionnaire,
    to_questionnaire_response,
)

CATALOGUE = default_catalogue()
IDS = CATALOGUE.ids()
AUTHORED = datetime(2026, 9, 7, 2, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def exported() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (i, lang): to_questionnaire(CATALOGUE[i], lang=lang) for i in IDS for lang in ("zh", "en")
    }


def _questions(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in resource["item"] if item["type"] == "choice"]


def _item(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(item for item in resource["item"] if item["linkId"] == link_id)


def _ext(node: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in node.get("extension", []) if e["url"] == url]


def _translations(element: dict[str, Any] | None) -> dict[str, str]:
    out = {}
    for ext in (element or {}).get("extension", []):
        assert ext["url"] == TRANSLATION
        parts = {p["url"]: p for p in ext["extension"]}
        out[parts["lang"]["valueCode"]] = parts["content"]["valueString"]
    return out


def test_the_catalogue_has_instruments_to_export() -> None:
    assert len(IDS) >= 12 and {"phq9", "gad7", "phq2", "asq", "ces-dc"} <= set(IDS)


@pytest.mark.parametrize("instrument_id", IDS)
def test_every_instrument_exports_a_valid_questionnaire(
    instrument_id: str, exported: dict[tuple[str, str], dict[str, Any]]
) -> None:
    instrument = CATALOGUE[instrument_id]
    for lang in ("zh", "en"):
        resource = exported[(instrument_id, lang)]
        model = Questionnaire.model_validate(resource)
        assert model.status == "active" and model.version == instrument.version
        language = instrument.resolve_language("zh-CN" if lang == "zh" else "en")
        assert resource["language"] == language
        assert resource["url"].endswith(f"/Questionnaire/{instrument_id}")
        assert resource["title"] == instrument.title[language]
        questions = _questions(resource)
        assert [q["linkId"] for q in questions] == list(instrument.item_ids)
        other = [code for code in instrument.languages if code != language]
        for question, item in zip(questions, instrument.items, strict=True):
            assert question["text"] == item.text[language]
            assert question["required"] is False
            assert _translations(question.get("_text")) == {c: item.text[c] for c in other}
            options = question["answerOption"]
            assert [int(o["valueCoding"]["code"]) for o in options] == list(item.values)
            assert [o["valueCoding"]["display"] for o in options] == [
                opt.text[language] for opt in item.options
            ]
            systems = {o["valueCoding"]["system"] for o in options}
            assert len(systems) == 1 and systems.pop().startswith("https://runxin.invalid/fhir/")


def test_loinc_codes_of_phq9_gad7_and_phq2(exported: dict[tuple[str, str], dict[str, Any]]) -> None:
    expected = {"phq9": ("44249-1", "44261-6"), "gad7": ("69737-5", "70274-6"),
                "phq2": ("55757-9", "55758-7")}  # fmt: skip
    for instrument_id, (panel, total) in expected.items():
        resource = exported[(instrument_id, "en")]
        assert resource["code"] == [{"system": LOINC, "code": panel}]
        total_item = _item(resource, "score.total")
        assert total_item["code"] == [{"system": LOINC, "code": total}]
        assert total_item["readOnly"] is True and total_item["type"] == "decimal"
    phq9 = exported[("phq9", "en")]
    assert _item(phq9, "item9")["code"] == [{"system": LOINC, "code": "44260-8"}]
    # Answer list LL358-3 on items 1-9 (and PHQ-2's two items), not on the difficulty item.
    for resource, ids in ((phq9, [f"item{i}" for i in range(1, 10)]),
                          (exported[("phq2", "en")], ["item1", "item2"])):  # fmt: skip
        for link_id in ids:
            item = _item(resource, link_id)
            assert _ext(item, EXT_LOINC_ANSWER_LIST)[0]["valueUri"] == "http://loinc.org/vs/LL358-3"
            answers = [_ext(o, EXT_LOINC_ANSWER)[0]["valueCoding"] for o in item["answerOption"]]
            assert [a["code"] for a in answers] == ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
            assert {a["system"] for a in answers} == {LOINC}
    assert not _ext(_item(phq9, "difficulty"), EXT_LOINC_ANSWER_LIST)
    assert not _ext(_item(exported[("gad7", "en")], "item2"), EXT_LOINC_ANSWER_LIST)
    assert "code" not in exported[("asq", "en")]  # no LOINC code verified for the ASQ


def test_both_languages_travel(exported: dict[tuple[str, str], dict[str, Any]]) -> None:
    phq9 = CATALOGUE["phq9"]
    zh = exported[("phq9", "zh")]
    assert zh["language"] == "zh-CN" and zh["title"] == phq9.title["zh-CN"]
    assert _translations(zh["_title"]) == {"en": phq9.title["en"]}
    option = _item(zh, "item1")["answerOption"][0]["valueCoding"]
    assert option["display"] == "完全不会"
    assert _translations(option["_display"]) == {"en": "Not at all"}
    instructions = zh["item"][0]
    assert instructions["type"] == "display" and instructions["text"] == phq9.instructions["zh-CN"]
    # English only (ASQ): Chinese asked, English given, no translation.
    asq = exported[("asq", "zh")]
    assert asq["language"] == "en" and "_title" not in asq


def test_scores_are_ordinal_values_after_reverse_keying(
    exported: dict[tuple[str, str], dict[str, Any]],
) -> None:
    def ordinals(resource: dict[str, Any], link_id: str) -> list[float | None]:
        return [
            next((e["valueDecimal"] for e in _ext(o, ORDINAL_VALUE)), None)
            for o in _item(resource, link_id)["answerOption"]
        ]

    cesdc = exported[("ces-dc", "en")]
    assert ordinals(cesdc, "item1") == [0, 1, 2, 3]
    assert ordinals(cesdc, "item4") == [3, 2, 1, 0]  # reverse-keyed: 3 - value
    assert ordinals(exported[("phq9", "en")], "difficulty") == [None] * 4  # not scored
    k10 = exported[("k10", "en")]
    assert ordinals(k10, "item1") == [1, 2, 3, 4, 5]  # the K10's 1-5 coding


def test_critical_items_are_flagged(exported: dict[tuple[str, str], dict[str, Any]]) -> None:
    def flagged(instrument_id: str) -> dict[str, str]:
        return {
            q["linkId"]: _ext(q, EXT_CRITICAL)[0]["valueCode"]
            for q in _questions(exported[(instrument_id, "en")])
            if _ext(q, EXT_CRITICAL)
        }

    assert flagged("phq9") == {"item9": "critical"}
    assert flagged("asq") == {"q1": "critical", "q2": "critical", "q3": "critical",
                              "q4": "critical", "q5": "acute"}  # fmt: skip
    assert flagged("phq-a") == {"item9": "critical", "past_month_thoughts": "critical",
                                "lifetime_attempt": "critical"}  # fmt: skip
    assert flagged("gad7") == {}


def _undrafted(draft: dict[str, Any]) -> Instrument:
    finished = {**draft, "version": draft["version"].removesuffix(DRAFT_SUFFIX), "notes": []}
    return parse_definition(json.dumps(finished), "draft")


@pytest.mark.parametrize("instrument_id", IDS)
def test_round_trip_gives_an_equivalent_definition(
    instrument_id: str, exported: dict[tuple[str, str], dict[str, Any]]
) -> None:
    original = CATALOGUE[instrument_id]
    for lang in ("zh", "en"):
        draft = from_questionnaire(copy.deepcopy(exported[(instrument_id, lang)]))
        assert draft["version"] == original.version + DRAFT_SUFFIX
        back = _undrafted(draft)
        assert back.items == original.items  # ids, texts, options, values, ranges, codes
        assert back.scoring.scored_items == original.scoring.scored_items
        assert back.scoring.reverse_items == original.scoring.reverse_items
        same = ("id", "title", "instructions", "languages", "licence", "citation", "min_age",
                "max_age", "respondent", "respondent_source", "codes")  # fmt: skip
        for name in same:
            assert getattr(back, name) == getattr(original, name), name
        # What FHIR does not carry: the draft has no scales or rules, and says so.
        assert back.scoring.total is None and back.scoring.flags == ()
        assert any("does not carry the scoring rules" in note for note in draft["notes"])


def test_check_reports_every_draft_marker_with_its_path(
    exported: dict[tuple[str, str], dict[str, Any]],
) -> None:
    draft = from_questionnaire(exported[("asq", "en")])
    problems = definition_problems(json.dumps(draft), "asq-draft.json")
    assert problems[0].startswith("asq-draft.json: $.version: '1.0.0-draft' marks a draft")
    critical = [p for p in problems if "marked critical" in p]
    assert [p.split(": ")[1] for p in critical] == [f"$.notes[{i}]" for i in range(5)]
    assert "'q5' was marked critical (acute)" in critical[4]
    assert len(problems) == 1 + len(draft["notes"])
    # A loader problem of the draft is reported too, after the markers, with its path.
    broken = copy.deepcopy(draft)
    broken["items"][0]["options"] = "nope"
    problems = definition_problems(json.dumps(broken), "asq-draft.json")
    assert problems[-1].startswith("asq-draft.json: $.items[0].options: unknown option set")
    # A finished definition has no problem; a shipped one neither.
    assert definition_problems(msgspec.json.encode(_plain(draft)), "x.json") == []


def _plain(draft: dict[str, Any]) -> dict[str, Any]:
    return {**draft, "version": "1.0.0", "notes": []}


def _nodes(items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for node in items:
        out.append((node["linkId"], node))
        out += _nodes(node.get("item", []))
    return out


def _minimal(**item: Any) -> dict[str, Any]:
    base = {"linkId": "a", "text": "Question", "type": "choice",
            "answerOption": [{"valueCoding": {"code": "0", "display": "No"}},
                             {"valueCoding": {"code": "1", "display": "Yes"}}]}  # fmt: skip
    return {"resourceType": "Questionnaire", "id": "x", "status": "active", "title": "X",
            "item": [{"linkId": "g", "type": "group", "item": [{**base, **item}]}]}  # fmt: skip


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ({"resourceType": "Patient"}, "Questionnaire.resourceType"),
        (_minimal(type="string"), "Questionnaire.item[0].item[0].type"),
        (_minimal(answerOption=[{"valueString": "often"}]),
         "Questionnaire.item[0].item[0].answerOption[0].valueString"),
        (_minimal(answerOption=None, answerValueSet="http://loinc.org/vs/LL358-3"),
         "Questionnaire.item[0].item[0].answerValueSet"),
        (_minimal(answerOption=[{"valueCoding": {"code": "LA6568-5", "display": "Not at all"}}]),
         "Questionnaire.item[0].item[0].answerOption[0].valueCoding"),
        (_minimal(answerOption=[{"valueCoding": {"code": "0"}}]),
         "Questionnaire.item[0].item[0].answerOption[0].valueCoding.display"),
        (_minimal(_text={"extension": [{"url": TRANSLATION, "extension": [
            {"url": "lang", "valueCode": "fr"}, {"url": "content", "valueString": "Q"}]}]}),
         "Questionnaire.item[0].item[0]._text.extension[0].extension('lang')"),
        ({**_minimal(), "language": "de"}, "Questionnaire.language"),
        ({**_minimal(), "item": [_minimal()["item"][0]["item"][0]] * 2},
         "Questionnaire.item[1].linkId"),
    ],
)  # fmt: skip
def test_import_errors_name_the_fhir_path(resource: dict[str, Any], path: str) -> None:
    for _, node in _nodes(resource.get("item", [])):
        if "answerOption" in node and node["answerOption"] is None:
            del node["answerOption"]  # the case of a value set alone
    with pytest.raises(ValueError) as caught:
        from_questionnaire(resource)
    assert str(caught.value).startswith(f"{path}: "), str(caught.value)


def test_a_foreign_questionnaire_imports_with_its_scores() -> None:
    """LHC-Forms style: LOINC answer codes, scores in the older iso21090-CO-value extension."""
    old = "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value"
    answers = ((0, "LA6568-5", "Not at all"), (3, "LA6571-9", "Nearly every day"))
    options = [
        {"valueCoding": {"system": LOINC, "code": code, "display": text},
         "extension": [{"url": old, "valueDecimal": score}]}
        for score, code, text in answers
    ]  # fmt: skip
    resource = _minimal(
        linkId="/44250-9", answerOption=options, code=[{"system": LOINC, "code": "44250-9"}]
    )
    draft = from_questionnaire(resource)
    assert draft["id"] == "x" and draft["version"] == "1.0" + DRAFT_SUFFIX
    instrument = _undrafted(draft)
    (item,) = instrument.items
    assert item.id == "44250-9" and item.values == (0, 3) and item.codes == {"loinc": "44250-9"}
    assert instrument.scoring.scored_items == ("44250-9",)
    assert instrument.instructions == instrument.title == {"en": "X"}
    for said in ("no age range", "linkId '/44250-9' became item id", "no display item"):
        assert any(said in note for note in draft["notes"]), said


@pytest.mark.parametrize("instrument_id", ["phq9", "ces-dc", "asq", "psc17"])
def test_questionnaire_response_validates_and_scores_like_the_scorer(
    instrument_id: str, exported: dict[tuple[str, str], dict[str, Any]]
) -> None:
    instrument = CATALOGUE[instrument_id]
    answers: dict[str, int | None] = {
        item.id: item.values[(n * 7 + 1) % len(item.values)]
        for n, item in enumerate(instrument.items)
    }
    resource = to_questionnaire_response(
        instrument, answers, response_id="r-1", authored=AUTHORED, lang="zh"
    )
    model = QuestionnaireResponse.model_validate(resource)
    assert model.status == "completed" and "subject" not in resource
    assert resource["questionnaire"] == f"{exported[(instrument_id, 'en')]['url']}|1.0.0"
    questionnaire = exported[(instrument_id, "en")]
    ordinal: dict[tuple[str, str, str], float] = {}
    for question in _questions(questionnaire):
        for option in question["answerOption"]:
            coding = option["valueCoding"]
            key = (question["linkId"], coding["system"], coding["code"])
            for ext in _ext(option, ORDINAL_VALUE):
                ordinal[key] = ext["valueDecimal"]
    total = 0.0
    for item in resource["item"]:
        (answer,) = item["answer"]
        coding = answer["valueCoding"]
        key = (item["linkId"], coding["system"], coding["code"])
        total += ordinal.get(key, 0)
    result = scoring.score(instrument, answers)
    if instrument.scoring.total is not None:
        assert result.total == total
    assert [i["linkId"] for i in resource["item"]] == list(instrument.item_ids)


def test_questionnaire_response_leaves_out_skipped_items_and_checks_answers() -> None:
    phq9 = CATALOGUE["phq9"]
    resource = to_questionnaire_response(
        phq9, {"item1": 2, "item9": None}, response_id="r", authored=AUTHORED,
        subject_ref="Patient/opaque-1",
    )  # fmt: skip
    assert [i["linkId"] for i in resource["item"]] == ["item1"]
    assert resource["subject"] == {"reference": "Patient/opaque-1"}
    assert resource["item"][0]["answer"][0]["valueCoding"]["display"] == "More than half the days"
    with pytest.raises(ValueError, match="unknown items of 'phq9': nope"):
        to_questionnaire_response(phq9, {"nope": 1}, response_id="r", authored=AUTHORED)
    with pytest.raises(ValueError, match="answer 7 to item 'item1'"):
        to_questionnaire_response(phq9, {"item1": 7}, response_id="r", authored=AUTHORED)
    with pytest.raises(ValueError, match="UTC offset"):
        to_questionnaire_response(phq9, {}, response_id="r", authored=datetime(2026, 9, 7))
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        to_questionnaire(phq9, lang="fr")


def test_a_declared_range_wider_than_the_options_round_trips() -> None:
    """An option set may declare a range its options do not fill (reverse keying uses it)."""
    path = default_catalogue_path("phq2")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["option_sets"]["frequency"]["max"] = 4
    document["scoring"]["reverse_items"] = ["item2"]
    document["scoring"]["total"]["range"] = [0, 8]
    document["scoring"]["total"]["bands"] = []
    del document["scoring"]["total"]["cutoff"]
    instrument = parse_definition(json.dumps(document), "wide")
    resource = to_questionnaire(instrument, lang="en")
    ordinals = [
        e["valueDecimal"]
        for o in _item(resource, "item2")["answerOption"]
        for e in _ext(o, ORDINAL_VALUE)
    ]
    assert ordinals == [4, 3, 2, 1]  # 0 + 4 - value
    back = _undrafted(from_questionnaire(resource))
    assert back.items == instrument.items and back.item("item1").max_value == 4
    assert back.scoring.reverse_items == ("item2",)


def default_catalogue_path(instrument_id: str) -> Path:
    return (
        Path(__file__).resolve().parents[2]
        / "instruments"
        / "definitions"
        / f"{instrument_id}.json"
    )
