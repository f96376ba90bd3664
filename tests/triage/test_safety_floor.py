"""Issue 11: no suicide-risk answer is ever missed, delayed or configured away.

Properties over the answer space of every shipped instrument, the wall-clock deadlines of
the suicide pathways over a real school year, and the safety floor no policy or override
layer may lower.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from care_calendars import CAL_2026, sh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instruments import Instrument, default_catalogue
from scoring import score
from triage import (
    TIER_ORDER,
    PolicyError,
    SafetyFloorError,
    TriageResult,
    check_safety_floor,
    compute_deadlines,
    evaluate,
    load_policy,
    merge_policy,
    parse_policy,
    require_safety_floor,
)
from triage._policy import DEFAULT_POLICY_PATH
from triage._safety_floor import safety_pathways

POLICY = load_policy()
CATALOGUE = default_catalogue()
INSTRUMENTS: list[Instrument] = [CATALOGUE[i] for i in sorted(CATALOGUE)]
SHIPPED_POLICIES = sorted((DEFAULT_POLICY_PATH.parent).rglob("*.json"))


def critical_items(instrument: Instrument) -> set[str]:
    """Items a safety flag of the instrument is about (PHQ item 9, ASQ q1-q4, PHQ-A extras)."""
    return {flag.item for flag in instrument.scoring.flags if flag.item is not None}


def option_values(instrument: Instrument, item_id: str) -> list[int]:
    item = next(i for i in instrument.items if i.id == item_id)
    return [option.value for option in item.options]


@st.composite
def responses(draw: st.DrawFn, instrument: Instrument) -> dict[str, int | None]:
    """Any response to ``instrument``: every item blank or any of its option values."""
    return {
        item.id: draw(st.none() | st.sampled_from(option_values(instrument, item.id)))
        for item in instrument.items
    }


# -- the answer space -------------------------------------------------------------------------


def test_the_shipped_instruments_have_the_critical_items_we_expect() -> None:
    found = {i.id: critical_items(i) for i in INSTRUMENTS if critical_items(i)}
    assert found == {
        "asq": {"q1", "q2", "q3", "q4"},
        "phq9": {"item9"},
        "phq-a": {"item9", "past_month_thoughts", "lifetime_attempt"},
    }


@pytest.mark.parametrize("instrument_id", sorted(CATALOGUE))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_critical_answer_above_zero_or_blank_is_orange_or_red(
    instrument_id: str, data: st.DataObject
) -> None:
    instrument = CATALOGUE[instrument_id]
    answers = data.draw(responses(instrument))
    result = evaluate([score(instrument, answers)], policy=POLICY)
    critical = critical_items(instrument)
    endorsed = [item for item in critical if answers.get(item) != 0]  # blank or above zero
    if endorsed:
        assert TIER_ORDER[result.tier] >= TIER_ORDER["orange"], (answers, result)
        assert (result.tier, result.pathway) in safety_pathways(POLICY)
    if instrument.id == "asq" and answers.get("q5") == 1:
        assert result.tier == "red"


@pytest.mark.parametrize("instrument_id", sorted(CATALOGUE))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_no_incomplete_form_is_silently_green(instrument_id: str, data: st.DataObject) -> None:
    instrument = CATALOGUE[instrument_id]
    answers = data.draw(responses(instrument))
    scored = score(instrument, answers)
    result = evaluate([scored], policy=POLICY)
    if scored.status != "scored":
        assert result.tier != "green"
        reason = next(r for r in result.reasons if r.rule_id in {"incomplete_form", "invalid_form"})
        assert reason.evidence["answered_count"] == str(scored.answered)
        assert reason.evidence["missing_items"] == ",".join(scored.missing)
    if any(sub.positive for sub in scored.subscales if sub.status == "scored"):
        assert result.tier != "green"
        assert "subscale_positive" in [r.rule_id for r in result.reasons]


def test_incomplete_form_reason_lists_what_was_answered() -> None:
    gad7 = CATALOGUE["gad7"]
    scored = score(gad7, {"item1": 1, "item2": 0})
    result = evaluate([scored], policy=POLICY)
    assert (result.tier, result.pathway) == ("yellow", "elevated")
    reason = result.reasons[0]
    assert reason.rule_id == "incomplete_form"
    assert reason.evidence["answered_count"] == "2"
    assert reason.evidence["missing_count"] == "5"
    assert reason.evidence["missing_items"] == "item3,item4,item5,item6,item7"
    assert "total" not in reason.evidence  # no number is invented for an unscorable form
    assert "incomplete form" in reason.text["en"] and "问卷未完成" in reason.text["zh-CN"]


def test_prorated_phq9_is_scored_not_incomplete_and_shows_its_prorated_total() -> None:
    answers: dict[str, int | None] = {f"item{i}": 2 for i in range(1, 10)}
    answers["item3"] = None
    answers["item9"] = 0
    result = evaluate([score(CATALOGUE["phq9"], answers)], policy=POLICY)
    assert [r.rule_id for r in result.reasons] == ["phq_total_15", "phq_total_10"]
    assert result.reasons[0].evidence["prorated"] == "true"
    assert result.reasons[0].evidence["total"] == "15.75"  # 14 x 9 / 8 (Arrieta et al. 2017)


@pytest.mark.parametrize(
    ("instrument", "subscale", "items"),
    [
        ("scared", "school_avoidance", ["item2", "item11", "item17"]),
        ("psc17", "internalizing", ["item2", "item6", "item9"]),
    ],
)
def test_a_subscale_cut_off_alone_is_yellow(
    instrument: str, subscale: str, items: list[str]
) -> None:
    definition = CATALOGUE[instrument]
    answers: dict[str, int | None] = {item.id: 0 for item in definition.items}
    for item in items:
        answers[item] = 2 if instrument == "psc17" else 1
    scored = score(definition, answers)
    assert scored.positive is False
    result = evaluate([scored], policy=POLICY)
    assert (result.tier, result.pathway) == ("yellow", "elevated")
    assert [r.rule_id for r in result.reasons] == ["subscale_positive"]
    assert result.reasons[0].evidence["subscale_id"] == subscale


# -- wall-clock deadlines over a real school year ---------------------------------------------

YEAR_START = sh(2026, 8, 25)
YEAR_END = sh(2027, 7, 10)


@pytest.mark.parametrize(
    "submitted",
    [
        sh(2026, 9, 4, 18, 30),  # Friday evening
        sh(2027, 1, 22, 18, 0),  # last day of the autumn term
        sh(2026, 10, 3, 12, 0),  # National Day holiday
        sh(2026, 10, 10, 16, 30),  # Saturday make-up school day
        sh(2027, 7, 2, 16, 59),  # last minute of the school year
    ],
)
def test_suicide_pathways_are_due_within_two_wall_clock_hours(submitted: datetime) -> None:
    for tier, pathway in safety_pathways(POLICY):
        result = TriageResult(
            tier=tier,  # type: ignore[arg-type]
            pathway=pathway,
            reasons=(),
            policy_version=POLICY.version,
        )
        deadlines = compute_deadlines(
            result, submitted_at=submitted, calendar=CAL_2026, policy=POLICY
        )
        assert deadlines.acknowledge_by <= submitted + timedelta(hours=2)
        for task in deadlines.tasks:
            assert task.due_at <= submitted + timedelta(hours=24), task


@settings(max_examples=300, deadline=None)
@given(
    seconds=st.integers(0, int((YEAR_END - YEAR_START).total_seconds())),
    pick=st.sampled_from(sorted(safety_pathways(POLICY))),
)
def test_suicide_acknowledgement_within_two_hours_at_any_moment_of_the_year(
    seconds: int, pick: tuple[str, str]
) -> None:
    submitted = YEAR_START + timedelta(seconds=seconds)
    flagged = score(CATALOGUE["phq9"], {f"item{i}": 0 for i in range(1, 9)} | {"item9": None})
    result = evaluate([flagged], policy=POLICY)
    assert (result.tier, result.pathway) == ("orange", "suicide")
    tier, pathway = pick
    result = TriageResult(
        tier=tier,  # type: ignore[arg-type]
        pathway=pathway,
        reasons=(),
        policy_version=POLICY.version,
    )
    deadlines = compute_deadlines(result, submitted_at=submitted, calendar=CAL_2026, policy=POLICY)
    assert submitted <= deadlines.acknowledge_by <= submitted + timedelta(hours=2)
    for task in deadlines.tasks:
        assert task.due_at <= submitted + timedelta(hours=24)
        assert task.due_at.astimezone(submitted.tzinfo).date() == submitted.date()


# -- the floor ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED_POLICIES, ids=lambda p: p.name)
def test_every_shipped_policy_is_on_the_floor(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data["format"] == "runxin.triage-policy/1":
        policy = load_policy(path)
    else:
        policy = merge_policy(POLICY, path.read_bytes(), source=str(path))
    assert check_safety_floor(policy, INSTRUMENTS) == ()
    require_safety_floor(policy, INSTRUMENTS)


def default_doc() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    return data


def tier_of(doc: dict[str, Any], tier: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in doc["tiers"] if t["tier"] == tier)
    return found


def pathway_of(doc: dict[str, Any], tier: str, pathway: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in tier_of(doc, tier)["pathways"] if p["id"] == pathway)
    return found


def drop_rules(doc: dict[str, Any], *ids: str) -> None:
    doc["rules"] = [rule for rule in doc["rules"] if rule["id"] not in ids]


def messages(doc: dict[str, Any]) -> list[str]:
    policy = parse_policy(json.dumps(doc), source="broken.json")
    return [str(problem) for problem in check_safety_floor(policy, INSTRUMENTS)]


def test_removing_the_item9_rule_is_caught_through_the_catch_all_exclusion() -> None:
    doc = default_doc()
    drop_rules(doc, "phq_item9_positive")
    found = messages(doc)
    for instrument in ("phq-a", "phq9"):
        assert (
            f"{instrument}:phq_item9_positive: critical flag phq_item9_positive of instrument "
            f"{instrument} gives tier green (no rule fires); the floor is orange or higher"
        ) in found
        assert any(
            m.startswith(
                "rules[critical_flag].condition.except_flags: catch-all rule "
                "critical_flag excludes critical flag phq_item9_positive"
            )
            and f"on instrument {instrument}" in m
            for m in found
        )
    assert len(found) == 4


def test_lowering_the_unanswered_rule_to_yellow_is_caught() -> None:
    doc = default_doc()
    rule = next(r for r in doc["rules"] if r["id"] == "critical_item_unanswered")
    rule["tier"], rule["pathway"] = "yellow", "elevated"
    found = messages(doc)
    assert (
        "phq9:phq_item9_unanswered: follow_up flag phq_item9_unanswered of instrument phq9 "
        "gives tier yellow via rule critical_item_unanswered; the floor is orange or higher"
    ) in found
    assert any(m.startswith("flag_severity[follow_up]: no catch-all rule") for m in found)
    assert any(m.startswith("asq:asq_unanswered") for m in found)


def test_a_missing_catch_all_is_caught() -> None:
    doc = default_doc()
    drop_rules(doc, "critical_flag")
    found = messages(doc)
    assert found == [
        "flag_severity[critical]: no catch-all rule routes a critical flag of any instrument "
        "to orange or higher: an unlisted critical flag gives tier green (no rule fires); the "
        "floor is orange or higher"
    ]


@pytest.mark.parametrize(
    ("tier", "pathway", "where", "due", "subject", "words"),
    [
        ("orange", "suicide", "acknowledge", {"counting": "school", "duration": "PT1H"},
         "tiers[orange].pathways[suicide].acknowledge", "counts school time"),
        ("orange", "suicide", "acknowledge", {"counting": "clock", "duration": "PT3H"},
         "tiers[orange].pathways[suicide].acknowledge", "longer than the floor of 2 h"),
        ("red", "crisis", "acknowledge", {"counting": "clock", "until": "end_of_day"},
         "tiers[red].pathways[crisis].acknowledge", "up to 24 h"),
        ("red", "crisis", 0, {"counting": "clock", "duration": "P2D"},
         "tiers[red].pathways[crisis].tasks[safety_assessment].due", "48 h"),
        ("orange", "suicide", 1, {"counting": "school", "until": "end_of_day"},
         "tiers[orange].pathways[suicide].tasks[guardian_contact].due", "counts school time"),
    ],
)  # fmt: skip
def test_a_loosened_suicide_deadline_is_caught(
    *, tier: str, pathway: str, where: str | int, due: dict[str, str], subject: str, words: str
) -> None:
    doc = default_doc()
    target = pathway_of(doc, tier, pathway)
    if isinstance(where, str):
        target[where] = due
    else:
        target["tasks"][where]["due"] = due
    found = messages(doc)
    assert len(found) == 1, found
    assert found[0].startswith(f"{subject}: ")
    assert words in found[0]


def test_a_missing_safety_task_is_caught() -> None:
    doc = default_doc()
    target = pathway_of(doc, "orange", "suicide")
    target["tasks"] = [t for t in target["tasks"] if t["kind"] != "safety_assessment"]
    assert messages(doc) == [
        "tiers[orange].pathways[suicide].tasks[safety_assessment]: a suicide pathway needs a "
        "safety_assessment task due within 24 h on the wall clock"
    ]


def test_a_flag_routed_to_a_school_time_pathway_is_caught() -> None:
    doc = default_doc()
    rule = next(r for r in doc["rules"] if r["id"] == "phq_item9_positive")
    rule["pathway"] = "severity"
    found = messages(doc)
    assert any(m.startswith("tiers[orange].pathways[severity].acknowledge") for m in found)


def test_require_safety_floor_raises_naming_every_problem() -> None:
    doc = default_doc()
    drop_rules(doc, "critical_flag")
    pathway_of(doc, "red", "crisis")["acknowledge"] = {"counting": "clock", "duration": "PT4H"}
    policy = parse_policy(json.dumps(doc))
    with pytest.raises(SafetyFloorError, match=r"district\.json is below the safety floor") as err:
        require_safety_floor(policy, INSTRUMENTS, source="district.json")
    assert len(err.value.problems) == 2
    assert "tiers[red].pathways[crisis].acknowledge" in str(err.value)
    with pytest.raises(ValueError, match="Policy"):
        check_safety_floor(doc, INSTRUMENTS)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Instrument"):
        check_safety_floor(POLICY, [{"id": "phq9"}])  # type: ignore[list-item]


# -- override layers may only tighten ---------------------------------------------------------


def layer(tier: str, pathway: str, **change: Any) -> str:
    return json.dumps(
        {
            "format": "runxin.triage-policy-override/1",
            "version": "school-y.1",
            "tiers": [{"tier": tier, "pathways": [{"id": pathway, **change}]}],
        }
    )


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        (layer("orange", "suicide", acknowledge={"counting": "school", "duration": "PT1H"}),
         "tiers[0].pathways[0].acknowledge.counting", "counts school time"),
        (layer("orange", "suicide", acknowledge={"counting": "clock", "duration": "PT90M"}),
         "tiers[0].pathways[0].acknowledge", "longer than the 1 h below it"),
        (layer("orange", "suicide", tasks=[{"kind": "safety_assessment",
                                            "due": {"counting": "clock", "duration": "PT30H"}}]),
         "tiers[0].pathways[0].tasks[0].due", "at most 24 h"),
        (layer("orange", "suicide", tasks=[{"kind": "guardian_contact",
                                            "due": {"counting": "school", "until": "end_of_day"}}]),
         "tiers[0].pathways[0].tasks[0].due.counting", "counts school time"),
        (layer("red", "crisis", acknowledge={"counting": "clock", "duration": "PT30M"}),
         "tiers[0].pathways[0].acknowledge", "longer than the 15 min below it"),
    ],
)  # fmt: skip
def test_a_layer_loosening_a_suicide_deadline_is_rejected(
    override: str, field: str, words: str
) -> None:
    with pytest.raises(PolicyError) as err:
        merge_policy(POLICY, override, source="schools/S01.json")
    assert err.value.source == "schools/S01.json"
    assert err.value.field == field
    assert words in str(err.value)
    assert "schools/S01.json" in str(err.value)


def test_a_layer_may_tighten_suicide_deadlines() -> None:
    override = layer(
        "orange",
        "suicide",
        acknowledge={"counting": "clock", "duration": "PT30M"},
        tasks=[{"kind": "guardian_contact", "due": {"counting": "clock", "duration": "PT4H"}}],
    )
    merged = merge_policy(POLICY, override, source="schools/S01.json")
    assert check_safety_floor(merged, INSTRUMENTS) == ()
    suicide = merged.tier_policy("orange").pathway("suicide")
    assert suicide.acknowledge.duration == "PT30M"


def test_a_suicide_tier_escalating_in_school_time_is_below_the_floor() -> None:
    import json
    from pathlib import Path

    import triage

    raw = json.loads(
        (Path(triage.__file__).parent / "policies" / "default.json").read_text(encoding="utf-8")
    )
    for tier in raw["tiers"]:
        if tier["tier"] == "orange":
            tier["escalation"][1]["after"]["counting"] = "school"
    policy = triage.parse_policy(json.dumps(raw).encode(), source="broken.json")
    problems = triage.check_safety_floor(policy)
    assert [str(p) for p in problems if "escalation" in p.subject] == [str(p) for p in problems]
    assert any("tiers[orange].escalation[1].after" in p.subject for p in problems)
