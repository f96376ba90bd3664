"""District and school override layers over the policy, and the policy's new sections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from care_calendars import CAL_2026, SH, YEAR_2026, sh

from scoring._result import ScoreResult
from triage import (
    DEFAULT_POLICY_PATH,
    OVERRIDE_FORMAT,
    Observation,
    Policy,
    PolicyError,
    PolicyOverride,
    TriageResult,
    compute_deadlines,
    escalation_ladder,
    evaluate,
    generate_care_tasks,
    is_protected_rule,
    load_policy,
    load_policy_layers,
    merge_policy,
    parse_policy_override,
)

POLICY = load_policy()


def write(tmp_path: Path, doc: Any, name: str) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def layer(version: str, **sections: Any) -> dict[str, Any]:
    return {"format": OVERRIDE_FORMAT, "version": version, **sections}


SHORTER_INTERVIEW = layer(
    "school-y.1",
    description="Interview within a school week.",
    tiers=[
        {
            "tier": "yellow",
            "pathways": [
                {
                    "id": "elevated",
                    "tasks": [
                        {
                            "kind": "counsellor_interview",
                            "due": {"counting": "school", "duration": "P5D"},
                        }
                    ],
                }
            ],
        }
    ],
)


def yellow(policy: Policy) -> TriageResult:
    return TriageResult(
        tier="yellow", pathway="elevated", reasons=(), policy_version=policy.version
    )


def interview_due(policy: Policy) -> Any:
    deadlines = compute_deadlines(
        yellow(policy), submitted_at=sh(2026, 9, 14, 10), calendar=CAL_2026, policy=policy
    )
    return {t.kind: t.due_at.astimezone(SH) for t in deadlines.tasks}["counsellor_interview"]


def test_a_school_shortens_yellows_interview_deadline(tmp_path: Path) -> None:
    school = write(tmp_path, SHORTER_INTERVIEW, "school-y.json")
    policy = load_policy_layers(None, [school])
    assert policy.version == "default-2026.1+school-y.1"
    # Ten school days from Monday 14 Sep (25 Sep is Mid-Autumn, the Sunday 20 Sep a make-up day).
    assert interview_due(POLICY) == sh(2026, 9, 28, 17)
    assert interview_due(policy) == sh(2026, 9, 20, 17)
    # Everything else is the base policy's.
    assert policy.rules == POLICY.rules
    assert policy.tier_policy("orange") == POLICY.tier_policy("orange")
    assert policy.tier_policy("yellow").pathway("elevated").acknowledge == (
        POLICY.tier_policy("yellow").pathway("elevated").acknowledge
    )
    assert "[school-y.1] Interview within a school week." in policy.description
    assert POLICY.version == "default-2026.1"  # the base is not changed


def test_layers_stack_district_then_school_and_name_every_version(tmp_path: Path) -> None:
    district = write(
        tmp_path,
        layer(
            "district-x.3",
            tiers=[
                {
                    "tier": "yellow",
                    "escalation": [
                        {"role": "school_lead", "after": {"counting": "school", "duration": "PT4H"}}
                    ],
                }
            ],
            rules={"disable": ["observation_concern"]},
        ),
        "district-x.json",
    )
    school = write(tmp_path, SHORTER_INTERVIEW, "school-y.json")
    policy = load_policy_layers(DEFAULT_POLICY_PATH, [district, school])
    assert policy.version == "default-2026.1+district-x.3+school-y.1"
    ladder = escalation_ladder(
        "yellow", acknowledge_by=sh(2026, 9, 15, 17), calendar=CAL_2026, policy=policy
    )
    assert [s.due_at.astimezone(SH) for s in ladder] == [sh(2026, 9, 16, 12)]
    concern = [Observation("withdrawal", "concern")]
    assert evaluate([], policy=policy, observations=concern).tier == "green"
    assert evaluate([], policy=POLICY, observations=concern).tier == "yellow"
    assert [r.id for r in policy.disabled_rules] == ["observation_concern"]
    result = evaluate([], policy=policy, observations=[Observation("x", "serious")])
    assert result.policy_version == "default-2026.1+district-x.3+school-y.1"


def test_a_school_can_switch_a_rule_back_on() -> None:
    district = merge_policy(POLICY, json.dumps(layer("d.1", rules={"disable": ["gad7_total_10"]})))
    assert "gad7_total_10" not in [r.id for r in district.rules]
    school = merge_policy(district, json.dumps(layer("s.1", rules={"enable": ["gad7_total_10"]})))
    # Back after the last enabled rule of its tier and pathway: same tiers, same pathways.
    assert sorted(r.id for r in school.rules) == sorted(r.id for r in POLICY.rules)
    assert [r.id for r in school.rules][-1] == "gad7_total_10"
    assert school.disabled_rules == ()
    gad = ScoreResult(
        instrument_id="gad7",
        instrument_version="1.0.0",
        status="scored",
        total=12,
        band=None,
        prorated=False,
        answered=7,
        missing=(),
        flags=(),
        positive=True,
        highest_band=False,
    )
    assert evaluate([gad], policy=district).tier == "green"
    assert [r.rule_id for r in evaluate([gad], policy=school).reasons] == ["gad7_total_10"]
    # Switching off twice, or on what is on, changes nothing.
    again = merge_policy(district, json.dumps(layer("d.2", rules={"disable": ["gad7_total_10"]})))
    assert again.rules == district.rules
    assert merge_policy(
        POLICY, json.dumps(layer("s.2", rules={"enable": ["gad7_total_10"]}))
    ).rules == (POLICY.rules)


def test_care_settings_can_be_overridden(tmp_path: Path) -> None:
    override = msgspec.json.decode(
        json.dumps(
            layer(
                "district-x.4",
                care={
                    "home_visit": {"cadence": {"red": "term"}},
                    "talks": {"start_of_term_school_days": 5},
                },
            )
        ),
        type=PolicyOverride,
    )
    policy = merge_policy(POLICY, override)
    care = policy.care_policy()
    assert (care.home_visit.cadence.red, care.home_visit.cadence.orange) == ("term", "school_year")
    assert care.talks.start_of_term_school_days == 5
    assert care.talks.before_exam_school_days == POLICY.care_policy().talks.before_exam_school_days
    tasks = generate_care_tasks(
        "red", opened_at=sh(2026, 8, 25), calendar=CAL_2026, policy=policy, school_year=YEAR_2026
    )
    keys = {t.key: t for t in tasks}
    assert {"home_visit:2026-09-01", "home_visit:2027-02-22"} <= set(keys)
    assert keys["talk_start_of_term:2026-09-01"].due_at.astimezone(SH) == sh(2026, 9, 7, 17)


def test_protected_rules() -> None:
    protected = {rule.id for rule in POLICY.rules if is_protected_rule(rule)}
    assert protected == {
        "asq_acute",
        "acute_flag",
        "observation_imminent_danger",
        "asq_positive",
        "phq_item9_positive",
        "phqa_past_month_thoughts",
        "phqa_lifetime_attempt",
        "critical_flag",
        "critical_item_unanswered",
    }


def _tier_task(tier: str, pathway: str, kind: str, due: dict[str, Any]) -> dict[str, Any]:
    return {"tier": tier, "pathways": [{"id": pathway, "tasks": [{"kind": kind, "due": due}]}]}


MALFORMED: list[tuple[dict[str, Any] | str, str | None, str]] = [
    (
        layer("s.1", rules={"disable": [], "change": {"gad7_total_10": 12}}),
        "rules.change",
        "unknown field",
    ),
    (layer("s.1", colour="red"), "colour", "unknown field"),
    ({"format": OVERRIDE_FORMAT}, "version", "missing"),
    (layer("school y"), "version", "letters, digits"),
    (layer("s+1"), "version", "joined"),
    (
        {**layer("s.1"), "format": "runxin.triage-policy/1"},
        "format",
        "runxin.triage-policy-override/1",
    ),
    (
        layer(
            "s.1",
            tiers=[
                _tier_task(
                    "yellow",
                    "elevatd",
                    "counsellor_interview",
                    {"counting": "school", "duration": "P5D"},
                )
            ],
        ),
        "tiers[0].pathways[0].id",
        "no pathway 'elevatd'",
    ),
    (
        layer(
            "s.1",
            tiers=[
                _tier_task(
                    "yellow", "elevated", "home_visit", {"counting": "school", "duration": "P5D"}
                )
            ],
        ),
        "tiers[0].pathways[0].tasks[0].kind",
        "no task 'home_visit'",
    ),
    (
        layer(
            "s.1",
            tiers=[
                _tier_task(
                    "yellow",
                    "elevated",
                    "counsellor_interview",
                    {"counting": "school", "duration": "10 days"},
                )
            ],
        ),
        "tiers[0].pathways[0].tasks[0].due.duration",
        "10 days",
    ),
    (
        layer(
            "s.1",
            tiers=[
                _tier_task("yellow", "elevated", "counsellor_interview", {"counting": "school"})
            ],
        ),
        "tiers[0].pathways[0].tasks[0].due",
        "exactly one of",
    ),
    (
        layer(
            "s.1",
            tiers=[
                {
                    "tier": "red",
                    "pathways": [
                        {"id": "crisis", "acknowledge": {"counting": "school", "duration": "PT1H"}}
                    ],
                }
            ],
        ),
        "tiers[0].pathways[0].acknowledge.counting",
        "red counts the clock",
    ),
    (
        layer(
            "s.1",
            tiers=[
                {
                    "tier": "yellow",
                    "escalation": [
                        {
                            "role": "district_officer",
                            "after": {"counting": "clock", "duration": "PT1H"},
                        }
                    ],
                }
            ],
        ),
        "tiers[0].escalation[0].role",
        "no rung 'district_officer'",
    ),
    (layer("s.1", tiers=[{"tier": "green"}]), "tiers[0].tier", "green"),
    (layer("s.1", tiers=[{"tier": "red"}, {"tier": "red"}]), "tiers[1].tier", "twice"),
    (layer("s.1", rules={"disable": ["asq_acute"]}), "rules.disable[0]", "protected"),
    (
        layer("s.1", rules={"disable": ["gad7_total_10", "critical_item_unanswered"]}),
        "rules.disable[1]",
        "protected",
    ),
    (
        layer("s.1", rules={"disable": ["no_such_rule"]}),
        "rules.disable[0]",
        "no rule 'no_such_rule'",
    ),
    (
        layer("s.1", rules={"disable": ["gad7_total_10"], "enable": ["gad7_total_10"]}),
        "rules.enable[0]",
        "both",
    ),
    (
        layer("s.1", care={"talks": {"start_of_term_school_days": 0}}),
        "care.talks.start_of_term_school_days",
        "from 1 to 60",
    ),
    (layer("s.1", care={"talks": {"weekly": 1}}), "care.talks.weekly", "unknown field"),
    (
        layer("s.1", care={"home_visit": {"cadence": {"red": "monthly"}}}),
        "care.home_visit.cadence.red",
        "monthly",
    ),
    (
        layer(
            "s.1", care={"overdue_escalation": {"red": {"counting": "school", "duration": "PT1H"}}}
        ),
        "care.overdue_escalation.red.counting",
        "red counts the clock",
    ),
    (
        layer(
            "s.1",
            care={
                "referral": {
                    "seen": {"counting": "school", "until": "next_term", "fallback": "P1D"}
                }
            },
        ),
        "care.referral.seen.until",
        "next_term",
    ),
    ("{not json", None, "not valid JSON"),
]


@pytest.mark.parametrize(("doc", "field", "words"), MALFORMED)
def test_a_malformed_override_is_refused_naming_file_and_field(
    tmp_path: Path, doc: dict[str, Any] | str, field: str | None, words: str
) -> None:
    path = write(tmp_path, doc, "school-y.json")
    with pytest.raises(PolicyError) as info:
        load_policy_layers(None, [path])
    error = info.value
    assert isinstance(error, ValueError)
    assert error.source == str(path)
    assert error.field == field
    assert str(path) in str(error)
    if field is not None:
        assert f"`{field}`" in str(error)
    assert words in str(error)


def test_unreadable_override(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read file") as info:
        load_policy_layers(None, [tmp_path / "missing.json"])
    assert info.value.source == str(tmp_path / "missing.json")


def test_parse_and_merge_accept_text_objects_and_name_the_source() -> None:
    override = parse_policy_override(json.dumps(SHORTER_INTERVIEW), source="db:overrides/7")
    assert merge_policy(POLICY, override).version == "default-2026.1+school-y.1"
    with pytest.raises(PolicyError, match="db:overrides/7"):
        merge_policy(POLICY, json.dumps(layer("s.1", colour=1)), source="db:overrides/7")
    with pytest.raises(ValueError, match="PolicyOverride or JSON text"):
        merge_policy(POLICY, {"version": "x"})  # type: ignore[arg-type]


# -- the policy file's new sections ---------------------------------------------------------------


def test_default_policy_has_a_care_section_and_observation_rules() -> None:
    care = POLICY.care_policy()
    assert care.home_visit.cadence.yellow == "school_year"  # Jiangsu checklist item 14
    assert (care.talks.start_of_term_school_days, care.talks.before_exam_school_days) == (10, 5)
    by_id = {rule.id: rule for rule in POLICY.rules}
    assert (by_id["observation_serious"].tier, by_id["observation_serious"].pathway) == (
        "orange",
        "severity",
    )
    assert (by_id["observation_concern"].tier, by_id["observation_concern"].pathway) == (
        "yellow",
        "elevated",
    )
    assert "checklist item 19" in POLICY.description


def test_observations_and_scores_together() -> None:
    result = evaluate(
        [],
        policy=POLICY,
        observations=[
            Observation("withdrawal", "concern"),
            Observation("self_harm_talk", "serious"),
        ],
    )
    assert (result.tier, result.pathway) == ("orange", "severity")
    assert [r.rule_id for r in result.reasons] == ["observation_serious", "observation_concern"]


def default_doc() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    return data


def test_a_policy_file_without_care_gets_the_shipped_care(tmp_path: Path) -> None:
    doc = default_doc()
    del doc["care"]
    doc["version"] = "district-7-2025.1"
    policy = load_policy(write(tmp_path, doc, "old-district.json"))
    assert policy.care == POLICY.care


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda care: care["referral"]["seen"].update(duration="soon"),
            "care.referral.seen.duration",
        ),
        (
            lambda care: care["rescreen"].update(within_school_days=61),
            "care.rescreen.within_school_days",
        ),
        (lambda care: care["rescreen"].update(fallback="PT0S"), "care.rescreen.fallback"),
        (lambda care: care.pop("talks"), "care.talks"),
        (lambda care: care.update(weekly_calls=True), "care.weekly_calls"),
    ],
)
def test_a_malformed_care_section_names_the_field(tmp_path: Path, mutate: Any, field: str) -> None:
    doc = default_doc()
    mutate(doc["care"])
    path = write(tmp_path, doc, "district.json")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert (info.value.source, info.value.field) == (str(path), field)


def test_disabled_rules_in_a_full_file_are_checked(tmp_path: Path) -> None:
    doc = default_doc()
    doc["disabled_rules"] = [doc["rules"][0]]
    path = write(tmp_path, doc, "district.json")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.field == "disabled_rules[0].id"
