"""The default policy: every DESIGN.md trigger, boundaries, reasons and malformed files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scoring._result import Flag, FlagSeverity, ScoreResult, ScoreStatus
from triage import (
    TIER_ORDER,
    Observation,
    Policy,
    PolicyError,
    TriageResult,
    evaluate,
    load_policy,
    parse_policy,
)
from triage._policy import DEFAULT_POLICY_PATH

POLICY = load_policy()


def score(
    instrument_id: str,
    total: float | None = None,
    *,
    band: str | None = None,
    status: ScoreStatus = "scored",
    flags: tuple[tuple[str, FlagSeverity, str | None], ...] = (),
    positive: bool | None = None,
    highest_band: bool = False,
    prorated: bool = False,
) -> ScoreResult:
    return ScoreResult(
        instrument_id=instrument_id,
        instrument_version="1.0.0",
        status=status,
        total=total,
        band=band,
        prorated=prorated,
        answered=9,
        missing=(),
        flags=tuple(Flag(code=c, severity=s, item_id=i) for c, s, i in flags),
        positive=positive,
        highest_band=highest_band,
    )


def rule_ids(result: TriageResult) -> list[str]:
    return [reason.rule_id for reason in result.reasons]


# -- the shipped file -----------------------------------------------------------------------


def test_default_policy_loads_and_is_versioned() -> None:
    assert isinstance(POLICY, Policy)
    assert POLICY.version == "default-2026.1"
    assert load_policy(DEFAULT_POLICY_PATH) == POLICY
    assert {t.tier for t in POLICY.tiers} == {"yellow", "orange", "red"}


def test_every_reason_text_is_bilingual_and_non_diagnostic() -> None:
    texts = [rule.text for rule in POLICY.rules] + [POLICY.open_case_text]
    forbidden = ["抑郁症", "焦虑症", "障碍", "精神病", "诊断", "disorder", "depression", "anxiety"]
    for text in texts:
        assert set(text) >= {"en", "zh-CN"}
        assert "需要" in text["zh-CN"] and "关注" in text["zh-CN"], text["zh-CN"]
        assert text["en"].startswith("Needs attention") or "keeps its higher tier" in text["en"]
        for word in forbidden:
            assert word not in text["zh-CN"].lower()
            assert word not in text["en"].lower()


# -- tiers from DESIGN.md ---------------------------------------------------------------------


def test_no_trigger_is_green_with_no_reasons() -> None:
    result = evaluate(
        [score("phq9", 4, band="minimal"), score("gad7", 9, band="mild")], policy=POLICY
    )
    assert result == TriageResult(
        tier="green", pathway=None, reasons=(), policy_version=POLICY.version
    )
    assert evaluate([], policy=POLICY).tier == "green"


def test_asq_acute_is_red() -> None:
    asq = score(
        "asq",
        status="scored",
        flags=(("asq_acute", "acute", "asq_5"), ("asq_positive", "critical", "asq_1")),
        positive=True,
    )
    result = evaluate([asq], policy=POLICY)
    assert result.tier == "red"
    assert result.pathway == "crisis"
    assert rule_ids(result) == ["asq_acute", "asq_positive"]
    assert result.reasons[0].evidence["item_id"] == "asq_5"


def test_imminent_danger_observation_is_red_and_note_is_not_evidence() -> None:
    obs = Observation(kind="self_harm_talk", severity="imminent_danger", note="said X at lunch")
    result = evaluate([], policy=POLICY, observations=[obs])
    assert result.tier == "red"
    assert result.reasons[0].rule_id == "observation_imminent_danger"
    assert result.reasons[0].evidence == {
        "observation_kind": "self_harm_talk",
        "observation_severity": "imminent_danger",
    }
    assert "said X" not in json.dumps([r.evidence for r in result.reasons])


@pytest.mark.parametrize(
    ("severity", "tier", "pathway"),
    [("concern", "yellow", "elevated"), ("serious", "orange", "severity")],
)
def test_lesser_observations_raise_the_tier(severity: Any, tier: str, pathway: str) -> None:
    # Project decision since default-2025.2 (checklist item 19): observations raise the tier.
    result = evaluate([], policy=POLICY, observations=[Observation("withdrawal", severity)])
    assert (result.tier, result.pathway) == (tier, pathway)
    assert result.reasons[0].rule_id == f"observation_{severity}"


@pytest.mark.parametrize(
    ("instrument", "code"),
    [
        ("asq", "asq_positive"),
        ("phq9", "phq_item9_positive"),
        ("phq-a", "phq_item9_positive"),
        ("phq-a", "phqa_past_month_thoughts"),
        ("phq-a", "phqa_lifetime_attempt"),
    ],
)
def test_suicide_related_flags_are_orange_suicide(instrument: str, code: str) -> None:
    result = evaluate(
        [score(instrument, 3, band="minimal", flags=((code, "critical", "q9"),))],
        policy=POLICY,
    )
    assert result.tier == "orange"
    assert result.pathway == "suicide"
    assert rule_ids(result) == [code]
    evidence = result.reasons[0].evidence
    assert evidence["flag"] == code
    assert evidence["instrument_id"] == instrument
    assert evidence["item_id"] == "q9"
    assert evidence["total"] == "3"
    assert evidence["band"] == "minimal"


def test_unknown_critical_or_acute_flag_still_fires() -> None:
    critical = score("cesdc", 5, flags=(("cesdc_selfharm", "critical", "c20"),))
    assert evaluate([critical], policy=POLICY).reasons[0].rule_id == "critical_flag"
    assert evaluate([critical], policy=POLICY).tier == "orange"
    acute = score("other", 5, flags=(("other_plan_now", "acute", "o1"),))
    assert evaluate([acute], policy=POLICY).tier == "red"
    assert rule_ids(evaluate([acute], policy=POLICY)) == ["acute_flag"]


@pytest.mark.parametrize("status", ["unscorable", "invalid"])
def test_critical_flag_fires_on_unscorable_form(status: ScoreStatus) -> None:
    phq = score("phq9", None, status=status, flags=(("phq_item9_positive", "critical", "phq9_9"),))
    result = evaluate([phq], policy=POLICY)
    assert result.tier == "orange"
    assert result.pathway == "suicide"
    assert result.reasons[0].evidence["status"] == status
    assert "total" not in result.reasons[0].evidence


@pytest.mark.parametrize(
    ("instrument", "total", "tier", "rule"),
    [
        ("phq9", 9, "green", None),
        ("phq9", 10, "yellow", "phq_total_10"),
        ("phq9", 14, "yellow", "phq_total_10"),
        ("phq9", 15, "orange", "phq_total_15"),
        ("phq9", 20, "orange", "phq_total_15"),
        ("phq9", 27, "orange", "phq_total_15"),
        ("phq-a", 9.49, "green", None),
        ("phq-a", 9.5, "yellow", "phq_total_10"),
        ("phq-a", 14.49, "yellow", "phq_total_10"),
        ("phq-a", 14.5, "orange", "phq_total_15"),
        ("k10", 21, "green", None),
        ("k10", 22, "yellow", "k10_total_22"),
        ("k10", 29, "yellow", "k10_total_22"),
        ("k10", 30, "orange", "k10_total_30"),
        ("gad7", 9, "green", None),
        ("gad7", 10, "yellow", "gad7_total_10"),
        ("gad7", 14, "yellow", "gad7_total_10"),
        ("gad7", 14.5, "orange", "gad7_total_15"),
        ("gad7", 15, "orange", "gad7_total_15"),
    ],
)
def test_total_boundaries_round_half_up(
    instrument: str, total: float, tier: str, rule: str | None
) -> None:
    result = evaluate([score(instrument, total, prorated=total != int(total))], policy=POLICY)
    assert result.tier == tier
    if rule is None:
        assert result.reasons == ()
    else:
        assert result.reasons[0].rule_id == rule
        assert result.reasons[0].evidence["total"] == f"{total:g}"
        expected_pathway = "severity" if tier == "orange" else "elevated"
        assert result.pathway == expected_pathway


def test_prorated_fourteen_and_a_half_is_orange_with_both_total_reasons() -> None:
    phq = score("phq9", 14.5, band="moderately_severe", prorated=True, positive=True)
    result = evaluate([phq], policy=POLICY)
    assert result.tier == "orange"
    assert rule_ids(result) == ["phq_total_15", "phq_total_10"]
    assert result.reasons[0].evidence == {
        "instrument_id": "phq9",
        "instrument_version": "1.0.0",
        "status": "scored",
        "total": "14.5",
        "total_rounded": "15",
        "band": "moderately_severe",
        "prorated": "true",
    }


def test_other_instrument_highest_band_is_orange_and_positive_is_yellow() -> None:
    top = score("rcads", 35, band="clinical", highest_band=True, positive=True)
    result = evaluate([top], policy=POLICY)
    assert (result.tier, result.pathway) == ("orange", "severity")
    assert rule_ids(result) == ["other_highest_band", "other_positive"]
    above_cut = score("ces-dc", 17, positive=True)
    assert rule_ids(evaluate([above_cut], policy=POLICY)) == ["other_positive"]
    assert evaluate([above_cut], policy=POLICY).tier == "yellow"


@pytest.mark.parametrize(
    ("instrument", "band", "highest", "tier", "rule"),
    [
        # Two-item screens: their top band is only "screen positive" (default-2026.1).
        ("phq2", "positive", True, "yellow", "two_item_screen_positive"),
        ("gad2", "positive", True, "yellow", "two_item_screen_positive"),
        # WHO-5 is a well-being index: its lowest band is a screen positive, not severity.
        ("who5", "likely_depression", True, "yellow", "other_positive"),
        ("who5", "poor_wellbeing", False, "yellow", "other_positive"),
        # K6's single cut-off (13) marks serious psychological distress (Kessler 2003).
        ("k6", "serious_distress", True, "orange", "k6_positive"),
    ],
)
def test_screen_positives_and_severe_ranges_follow_one_table(
    instrument: str, band: str, highest: bool, tier: str, rule: str
) -> None:
    form = score(instrument, 4, band=band, highest_band=highest, positive=True)
    result = evaluate([form], policy=POLICY)
    assert result.tier == tier
    assert result.reasons[0].rule_id == rule
    assert "other_highest_band" not in rule_ids(result)


def test_phq_and_gad_bands_do_not_double_count_as_other_instruments() -> None:
    phq = score("phq9", 22, band="severe", highest_band=True, positive=True)
    gad = score("gad7", 11, band="moderate", positive=True)
    assert rule_ids(evaluate([phq, gad], policy=POLICY)) == [
        "phq_total_15",
        "phq_total_10",
        "gad7_total_10",
    ]


def test_asq_positive_is_not_counted_again_as_other_positive() -> None:
    asq = score("asq", None, positive=True, flags=(("asq_positive", "critical", "asq_2"),))
    assert rule_ids(evaluate([asq], policy=POLICY)) == ["asq_positive"]


@pytest.mark.parametrize(
    "code",
    [
        "phq_item9_unanswered",
        "asq_unanswered",
        "phqa_past_month_thoughts_unanswered",
        "phqa_lifetime_attempt_unanswered",
    ],
)
def test_unanswered_critical_item_is_a_positive_orange_suicide(code: str) -> None:
    # default-2026.1 (issue 11): a blank critical question is a positive at its lowest
    # severity (NIMH ASQ Toolkit: refusal to answer counts as a positive screen).
    form = score("phq9", 3, flags=((code, "follow_up", "phq9_9"),))
    result = evaluate([form], policy=POLICY)
    assert (result.tier, result.pathway) == ("orange", "suicide")
    assert result.reasons[0].rule_id == "critical_item_unanswered"
    assert result.reasons[0].evidence["flag"] == code
    assert "critical question not answered" in result.reasons[0].text["en"]
    assert "关键安全题未作答" in result.reasons[0].text["zh-CN"]


def test_suicide_pathway_beats_severity_and_all_reasons_are_sorted() -> None:
    phq = score(
        "phq9",
        24,
        band="severe",
        highest_band=True,
        flags=(("phq_item9_positive", "critical", "phq9_9"),),
    )
    gad = score("gad7", 16, band="severe", highest_band=True)
    unanswered = score(
        "asq", None, status="unscorable", flags=(("asq_unanswered", "follow_up", None),)
    )
    result = evaluate([gad, unanswered, phq], policy=POLICY)
    assert (result.tier, result.pathway) == ("orange", "suicide")
    assert rule_ids(result) == [
        "phq_item9_positive",
        "critical_item_unanswered",
        "phq_total_15",
        "gad7_total_15",
        "phq_total_10",
        "gad7_total_10",
        "incomplete_form",
    ]
    tiers = [TIER_ORDER[r.tier] for r in result.reasons]
    assert tiers == sorted(tiers, reverse=True)
    for reason in result.reasons:
        assert all(isinstance(v, str) for v in reason.evidence.values())
        assert reason.text["zh-CN"] and reason.text["en"]


def test_each_match_is_its_own_reason() -> None:
    forms = [
        score("phq9", 2, flags=(("phq_item9_unanswered", "follow_up", "phq9_9"),)),
        score("asq", None, flags=(("asq_unanswered", "follow_up", "asq_3"),)),
    ]
    result = evaluate(forms, policy=POLICY)
    assert rule_ids(result) == ["critical_item_unanswered"] * 2
    assert [r.evidence["instrument_id"] for r in result.reasons] == ["phq9", "asq"]


def test_inputs_may_be_one_shot_iterables() -> None:
    forms = (f for f in [score("phq9", 2, flags=(("phq_item9_positive", "critical", "q9"),))])
    obs = (o for o in [Observation("withdrawal", "imminent_danger")])
    result = evaluate(forms, policy=POLICY, observations=obs)  # type: ignore[arg-type]
    assert rule_ids(result) == ["observation_imminent_danger", "phq_item9_positive"]


# -- open cases -------------------------------------------------------------------------------


def test_open_case_tier_is_kept_when_higher() -> None:
    result = evaluate([score("phq9", 11)], policy=POLICY, open_case_tier="orange")
    assert result.tier == "orange"
    assert result.pathway == "open_case"
    assert rule_ids(result) == ["open_case_tier_kept", "phq_total_10"]
    kept = result.reasons[0]
    assert kept.tier == "orange"
    assert kept.evidence == {"open_case_tier": "orange", "computed_tier": "yellow"}
    assert "需要" in kept.text["zh-CN"]


def test_open_case_tier_kept_over_green() -> None:
    result = evaluate([score("phq9", 1)], policy=POLICY, open_case_tier="red")
    assert result.tier == "red"
    assert rule_ids(result) == ["open_case_tier_kept"]
    assert result.reasons[0].evidence["computed_tier"] == "green"


@pytest.mark.parametrize("open_tier", [None, "green", "yellow", "orange"])
def test_open_case_never_lowers_or_duplicates_a_higher_result(open_tier: Any) -> None:
    flagged = score("phq9", 5, flags=(("phq_item9_positive", "critical", "phq9_9"),))
    result = evaluate([flagged], policy=POLICY, open_case_tier=open_tier)
    assert result.tier == "orange"
    assert "open_case_tier_kept" not in rule_ids(result)


# -- input checks -----------------------------------------------------------------------------


def test_bad_inputs_raise_value_error() -> None:
    with pytest.raises(ValueError, match="open_case_tier"):
        evaluate([], policy=POLICY, open_case_tier="purple")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-finite"):
        evaluate([score("phq9", float("nan"))], policy=POLICY)
    with pytest.raises(ValueError, match="ScoreResult"):
        evaluate([{"instrument_id": "phq9"}], policy=POLICY)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="severity"):
        Observation(kind="x", severity="panic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        Observation(kind=" ", severity="concern")


# -- malformed policy files -------------------------------------------------------------------


def default_doc() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    return data


def rule_at(doc: dict[str, Any], rule_id: str) -> int:
    """Index of rule ``rule_id`` in a policy document (so tests survive new rules)."""
    return next(i for i, rule in enumerate(doc["rules"]) if rule["id"] == rule_id)


def write(tmp_path: Path, doc: Any, name: str = "district.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_custom_policy_loads_with_its_version(tmp_path: Path) -> None:
    doc = default_doc()
    doc["version"] = "district-7-2025.2"
    doc["rules"][rule_at(doc, "phq_total_10")]["condition"]["total_at_least"] = 8
    policy = load_policy(write(tmp_path, doc))
    assert policy.version == "district-7-2025.2"
    result = evaluate([score("phq9", 8)], policy=policy)
    assert (result.tier, result.policy_version) == ("yellow", "district-7-2025.2")


def mutate_unknown_top(doc: dict[str, Any]) -> None:
    doc["colour"] = "red"


def mutate_unknown_rule_field(doc: dict[str, Any]) -> None:
    doc["rules"][2]["severity"] = "high"


def mutate_unknown_tier(doc: dict[str, Any]) -> None:
    doc["rules"][3]["tier"] = "purple"


def mutate_unknown_tier_in_tiers(doc: dict[str, Any]) -> None:
    doc["tiers"][1]["tier"] = "amber"


def mutate_green_rule(doc: dict[str, Any]) -> None:
    doc["rules"][0]["tier"] = "green"


def mutate_bad_duration(doc: dict[str, Any]) -> None:
    doc["tiers"][1]["pathways"][0]["acknowledge"]["duration"] = "1 hour"


def mutate_mixed_school_duration(doc: dict[str, Any]) -> None:
    doc["tiers"][1]["pathways"][1]["tasks"][0]["due"]["duration"] = "P1DT2H"


def mutate_bad_escalation_duration(doc: dict[str, Any]) -> None:
    doc["tiers"][0]["escalation"][1]["after"]["duration"] = "P1M"


def mutate_missing_fallback(doc: dict[str, Any]) -> None:
    del doc["tiers"][2]["pathways"][0]["tasks"][1]["due"]["fallback"]


def mutate_unknown_pathway(doc: dict[str, Any]) -> None:
    doc["rules"][4]["pathway"] = "sucide"


def mutate_two_tests(doc: dict[str, Any]) -> None:
    doc["rules"][0]["condition"]["positive"] = True


def mutate_total_without_instruments(doc: dict[str, Any]) -> None:
    del doc["rules"][rule_at(doc, "phq_total_15")]["condition"]["instruments"]


def mutate_missing_zh(doc: dict[str, Any]) -> None:
    del doc["rules"][5]["text"]["zh-CN"]


def mutate_duplicate_rule(doc: dict[str, Any]) -> None:
    doc["rules"][1]["id"] = "asq_acute"


def mutate_wrong_type(doc: dict[str, Any]) -> None:
    doc["rules"][rule_at(doc, "phq_total_15")]["condition"]["total_at_least"] = "twenty"


def mutate_missing_version(doc: dict[str, Any]) -> None:
    del doc["version"]


def mutate_missing_tier(doc: dict[str, Any]) -> None:
    del doc["tiers"][2]


def mutate_bad_format(doc: dict[str, Any]) -> None:
    doc["format"] = "runxin.triage-policy/9"


def mutate_ladder_down(doc: dict[str, Any]) -> None:
    doc["tiers"][0]["escalation"].reverse()


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (mutate_unknown_top, "colour", "unknown field"),
        (mutate_unknown_rule_field, "rules[2].severity", "unknown field"),
        (mutate_unknown_tier, "rules[3].tier", "purple"),
        (mutate_unknown_tier_in_tiers, "tiers[1].tier", "amber"),
        (mutate_green_rule, "rules[0].tier", "green"),
        (mutate_bad_duration, "tiers[1].pathways[0].acknowledge.duration", "1 hour"),
        (mutate_mixed_school_duration, "tiers[1].pathways[1].tasks[0].due.duration", "P1DT2H"),
        (mutate_bad_escalation_duration, "tiers[0].escalation[1].after.duration", "P1M"),
        (mutate_missing_fallback, "tiers[2].pathways[0].tasks[1].due.fallback", "fallback"),
        (mutate_unknown_pathway, "rules[4].pathway", "sucide"),
        (mutate_two_tests, "rules[0].condition", "exactly one test"),
        (mutate_total_without_instruments, "rules[9].condition.instruments", "instruments"),
        (mutate_missing_zh, "rules[5].text.zh-CN", "reason text"),
        (mutate_duplicate_rule, "rules[1].id", "repeated"),
        (mutate_wrong_type, "rules[9].condition.total_at_least", "int"),
        (mutate_missing_version, "version", "missing"),
        (mutate_missing_tier, "tiers", "yellow"),
        (mutate_bad_format, "format", "runxin.triage-policy"),
        (mutate_ladder_down, "tiers[0].escalation[1].role", "ladder"),
    ],
)
def test_malformed_policy_names_file_and_field(
    tmp_path: Path, mutate: Any, field: str, words: str
) -> None:
    doc = default_doc()
    mutate(doc)
    path = write(tmp_path, doc)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.source == str(path)
    assert str(path) in str(error)
    assert f"`{field}`" in str(error)
    assert words in str(error)


def test_not_json_and_missing_file_name_the_file(tmp_path: Path) -> None:
    broken = write(tmp_path, '{"format": "runxin.triage-policy/1", ')
    with pytest.raises(PolicyError, match=r"district\.json.*not valid JSON"):
        load_policy(broken)
    missing = tmp_path / "nope.json"
    with pytest.raises(PolicyError, match=r"nope\.json.*cannot read"):
        load_policy(missing)
    with pytest.raises(PolicyError, match="<db row 7>"):
        parse_policy(b"[]", source="<db row 7>")
