"""Generate the licensed-instrument test fixtures in tests/instruments/licensed_examples/.

These files prove that the definition format can express the scoring of instruments that must
not ship item text (SCL-90, MSSMHS, MHT, RCADS, SDQ, C-SSRS), so that a licensed school can load
its own definition file. They hold PLACEHOLDER item and option text only. Where an instrument's
scoring key itself is protected (RCADS: "posting RCADS ... resources ... is prohibited") or not
needed for the test (SDQ, MHT), the item-to-subscale assignment is made up and says so; the SCL-90
and MSSMHS factor lists are the published ones (instruments.md section 2). All norm values are
PLACEHOLDERS for the test, not real norms.

Run from the repository root::

    .venv/bin/python scripts/reference/make_licensed_examples.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "instruments" / "licensed_examples"

FIXTURE = (
    "Test fixture (placeholder text written for the tests, not the instrument's items); a "
    "licensed school loads its own definition file."
)
PLACEHOLDER_LICENCE = (
    "Test fixture with placeholder item text only. The real instrument is licensed ({}); its "
    "item text must never be shipped in this repository."
)


def document(
    doc_id: str,
    title: str,
    *,
    licence: str,
    citation: str,
    ages: tuple[int, int],
    n_items: int,
    option_values: list[int],
    scoring: dict[str, Any],
    notes: list[str],
) -> dict[str, Any]:
    return {
        "format": 1,
        "id": doc_id,
        "version": "0.1.0",
        "title": {"en": f"{title} (placeholder text, test fixture)"},
        "instructions": {"en": "Placeholder instructions."},
        "languages": {"en": {"status": "unvalidated", "source": FIXTURE}},
        "licence": PLACEHOLDER_LICENCE.format(licence),
        "citation": citation,
        "min_age": ages[0],
        "max_age": ages[1],
        "age_source": "Test fixture; the instrument's own age range applies in a real file.",
        "option_sets": {
            "response": {
                "min": min(option_values),
                "max": max(option_values),
                "options": [
                    {"value": v, "text": {"en": f"Placeholder option {v}"}} for v in option_values
                ],
            }
        },
        "items": [
            {"id": f"item{k}", "text": {"en": f"Placeholder item {k}"}, "options": "response"}
            for k in range(1, n_items + 1)
        ],
        "scoring": scoring,
        "notes": notes,
    }


def ids(numbers: list[int] | range) -> list[str]:
    return [f"item{k}" for k in numbers]


def complete(source: str) -> dict[str, Any]:
    return {"rule": "complete", "source": source}


# --------------------------------------------------------------------------- SCL-90


SCL90_FACTORS = [
    ("somatization", [1, 4, 12, 27, 40, 42, 48, 49, 52, 53, 56, 58]),
    ("obsessive_compulsive", [3, 9, 10, 28, 38, 45, 46, 51, 55, 65]),
    ("interpersonal_sensitivity", [6, 21, 34, 36, 37, 41, 61, 69, 73]),
    ("depression", [5, 14, 15, 20, 22, 26, 29, 30, 31, 32, 54, 71, 79]),
    ("anxiety", [2, 17, 23, 33, 39, 57, 72, 78, 80, 86]),
    ("hostility", [11, 24, 63, 67, 74, 81]),
    ("phobic_anxiety", [13, 25, 47, 50, 70, 75, 82]),
    ("paranoid_ideation", [8, 18, 43, 68, 76, 83]),
    ("psychoticism", [7, 16, 35, 62, 77, 84, 85, 87, 88, 90]),
    ("additional", [19, 44, 59, 60, 64, 66, 89]),
]


def scl90() -> dict[str, Any]:
    rule_source = (
        "Chinese national-norm screening rule (金华/吴文源 norms as reproduced; instruments.md "
        "section 2 [S]): total > 160, or more than 43 items scored 2 or more, or any factor mean "
        "2 or more. Sources alternate between >= 2 and > 2 for the factor criterion; this "
        "fixture uses >= 2, over the nine symptom factors (not 'additional')."
    )
    missing = complete("Test fixture: any missing item makes the scale unscorable.")
    factors = [
        {
            "id": fid,
            "items": ids(items),
            "method": "mean",
            "decimals": 2,
            "range": [1, 5],
            "missing": missing,
            "cutoff": {"min": 2, "source": rule_source},
        }
        for fid, items in SCL90_FACTORS
    ]
    gsi = {
        "id": "gsi",
        "items": ids(range(1, 91)),
        "method": "mean",
        "decimals": 2,
        "range": [1, 5],
        "missing": missing,
    }
    return document(
        "scl90-example",
        "SCL-90-style example",
        licence="SCL-90-R: Derogatis, distributed by NCS/Pearson; the Chinese SCL-90 "
        "translation's status is unclear",
        citation="Derogatis LR. SCL-90-R. Chinese norms: 金华, 吴文源 et al. (1986), as "
        "reproduced.",
        ages=(16, 120),
        n_items=90,
        option_values=[1, 2, 3, 4, 5],
        scoring={
            "scored_items": ids(range(1, 91)),
            "total": {
                "id": "total",
                "items": ids(range(1, 91)),
                "range": [90, 450],
                "missing": missing,
            },
            "subscales": [*factors, gsi],
            "positive": {
                "when": {
                    "op": "any",
                    "of": [
                        {"op": "score", "scale": "total", "min": 161},
                        {
                            "op": "count",
                            "items": ids(range(1, 91)),
                            "values": [2, 3, 4, 5],
                            "min": 44,
                        },
                        *({"op": "score", "scale": fid, "min": 2} for fid, _ in SCL90_FACTORS[:9]),
                    ],
                },
                "source": rule_source,
            },
            "flags": [
                {
                    "code": "scl90_item15",
                    "severity": "critical",
                    "item": "item15",
                    "when": {"op": "answer", "item": "item15", "values": [2, 3, 4, 5]},
                    "source": "Project safety convention (instruments.md section 2 [U]): item 15 "
                    "(thoughts of ending one's life) scored 2 or more raises a suicide flag; no "
                    "official critical-item rule exists.",
                }
            ],
        },
        notes=[
            "Factor scores are item means (2 decimals for cut-offs); the total is the 90-item "
            "sum; gsi is the mean of all 90 items.",
            "Positive is the OR rule; each factor's own cut-off (mean >= 2) is reported on the "
            "subscale.",
        ],
    )


# --------------------------------------------------------------------------- MSSMHS


MSSMHS_FACTORS = [
    ("obsessive", [3, 10, 12, 22, 23, 48]),
    ("paranoid", [11, 20, 24, 26, 47, 49]),
    ("hostility", [19, 21, 25, 50, 52, 58]),
    ("interpersonal_sensitivity", [4, 17, 18, 45, 51, 59]),
    ("depression", [5, 13, 14, 16, 44, 57]),
    ("anxiety", [6, 15, 34, 43, 46, 56]),
    ("study_pressure", [31, 33, 36, 38, 40, 55]),
    ("maladjustment", [1, 8, 9, 29, 39, 41]),
    ("emotional_instability", [2, 7, 27, 32, 35, 53]),
    ("psychological_imbalance", [28, 30, 37, 42, 54, 60]),
]


def mssmhs() -> dict[str, Any]:
    source = (
        "王极盛 1997 (as reproduced; instruments.md section 2 [S]): factor and total means "
        "< 2 none, 2-2.99 mild, 3-3.99 moderate, 4-4.99 severe (较重), 5 very severe. Project "
        "convention: means rounded half up to 2 decimals before banding."
    )
    bands = [
        {"code": "none", "min": 1, "max": 1.99, "source": source},
        {"code": "mild", "min": 2, "max": 2.99, "source": source},
        {"code": "moderate", "min": 3, "max": 3.99, "source": source},
        {"code": "severe", "min": 4, "max": 4.99, "source": source},
        {"code": "very_severe", "min": 5, "max": 5, "source": source},
    ]
    missing = complete("Test fixture: any missing item makes the scale unscorable.")
    cutoff = {"min": 2, "source": source + " A mean of 2 or more indicates a (mild) problem."}

    def mean_scale(scale_id: str, items: list[int] | range) -> dict[str, Any]:
        return {
            "id": scale_id,
            "items": ids(items),
            "method": "mean",
            "decimals": 2,
            "range": [1, 5],
            "missing": missing,
            "bands": bands,
            "cutoff": cutoff,
        }

    return document(
        "mssmhs-example",
        "MSSMHS-style example",
        licence="中国中学生心理健康量表, 王极盛 1997; no licence found, author's permission needed",
        citation="王极盛. 中国中学生心理健康量表的编制及其标准化. 社会心理科学 1997.",
        ages=(11, 19),
        n_items=60,
        option_values=[1, 2, 3, 4, 5],
        scoring={
            "scored_items": ids(range(1, 61)),
            "total": mean_scale("total", range(1, 61)),
            "subscales": [mean_scale(fid, items) for fid, items in MSSMHS_FACTORS],
        },
        notes=[
            "Mean-based bands on the total (sum / 60) and on each 6-item factor.",
            "Factor lists as published (instruments.md section 2); item text is placeholder.",
        ],
    )


# --------------------------------------------------------------------------- RCADS


RCADS_SUBSCALES = [
    ("separation_anxiety", 7),
    ("social_phobia", 9),
    ("generalized_anxiety", 6),
    ("panic", 9),
    ("ocd", 6),
    ("depression", 10),
]
GRADE_BANDS = [(3, 4), (5, 6), (7, 8), (9, 10), (11, 12)]


def placeholder_norms(scale_max: int, salt: int) -> list[dict[str, Any]]:
    """Deterministic made-up mean/SD per grade band and gender (2 decimals)."""
    groups = []
    for band_index, grades in enumerate(GRADE_BANDS):
        for gender_index, gender in enumerate(("male", "female")):
            mean = scale_max * (0.18 + 0.01 * band_index + 0.02 * gender_index) + 0.01 * salt
            sd = scale_max * (0.11 + 0.005 * band_index) + 0.13
            groups.append(
                {
                    "grades": list(grades),
                    "gender": gender,
                    "mean": round(mean, 2),
                    "sd": round(sd, 2),
                }
            )
    return groups


def rcads() -> dict[str, Any]:
    norms_source = (
        "PLACEHOLDER norm values made up for the tests; NOT the RCADS norms (which come from the "
        "official RCADS User's Guide, with written permission). Formula as in the RCADS scoring "
        "workbook: T = (raw - mean) / SD x 10 + 50, by grade band (3-4 ... 11-12) and gender."
    )
    t_source = (
        "rcads.ucla.edu automated scoring (instruments.md [V]): T 65 or more borderline, 70 or "
        "more clinical."
    )
    t_bands = [
        {"code": "normal", "max": 64, "source": t_source},
        {"code": "borderline", "min": 65, "max": 69, "source": t_source},
        {"code": "clinical", "min": 70, "source": t_source},
    ]

    def norms(scale_max: int, salt: int) -> dict[str, Any]:
        return {
            "source": norms_source,
            "groups": placeholder_norms(scale_max, salt),
            "bands": t_bands,
            "cutoff": {"min": 70, "source": t_source + " Positive here means clinical (T >= 70)."},
        }

    prorate = {
        "rule": "prorate",
        "max_missing": 2,
        "source": "RCADS scoring workbook as transcribed (instruments.md section 2 [S]): a "
        "subscale with at most 2 missing items is prorated (mean of answered items x number of "
        "items); with more it is missing, and so is any total that depends on it.",
    }
    subscales: list[dict[str, Any]] = []
    start = 1
    for salt, (sid, size) in enumerate(RCADS_SUBSCALES):
        numbers = range(start, start + size)
        start += size
        subscales.append(
            {
                "id": sid,
                "items": ids(numbers),
                "range": [0, 3 * size],
                "missing": prorate,
                "norms": norms(3 * size, salt),
            }
        )
    anxiety = [sid for sid, _ in RCADS_SUBSCALES[:5]]
    subscales.append(
        {
            "id": "total_anxiety",
            "scales": anxiety,
            "range": [0, 111],
            "norms": norms(111, 7),
        }
    )
    return document(
        "rcads-example",
        "RCADS-style example",
        licence="RCADS: copyright Chorpita & Spence; posting instruments, resources (scoring keys "
        "included) or derivatives on a public website is prohibited",
        citation="Chorpita BF, Yim L, Moffitt C, Umemoto LA, Francis SE. Assessment of symptoms "
        "of DSM-IV anxiety and depression in children: a revised child anxiety and depression "
        "scale. Behav Res Ther 2000;38(8):835-855.",
        ages=(8, 18),
        n_items=47,
        option_values=[0, 1, 2, 3],
        scoring={
            "scored_items": ids(range(1, 48)),
            "total": {
                "id": "total",
                "scales": [sid for sid, _ in RCADS_SUBSCALES],
                "range": [0, 141],
                "norms": norms(141, 8),
            },
            "subscales": subscales,
        },
        notes=[
            "The item-to-subscale assignment here is MADE UP (consecutive blocks with the RCADS "
            "subscale sizes); it is not the RCADS scoring key, which may not be published.",
            "total = total internalizing (composite of the six subscales); total_anxiety = the "
            "five anxiety subscales. Both are missing when any part is.",
            "Norm values are PLACEHOLDERS for the test. A school with permission supplies the "
            "official table.",
        ],
    )


# --------------------------------------------------------------------------- SDQ


SDQ_SUBSCALES = ["emotional", "conduct", "hyperactivity", "peer", "prosocial"]


def sdq() -> dict[str, Any]:
    prorate = {
        "rule": "prorate",
        "max_missing": 2,
        "source": "SDQ scoring (instruments.md section 2 [S]): a subscale is prorated when at "
        "least 3 of its 5 items are answered. Project convention: the prorated score is kept "
        "unrounded and rounded half up for banding.",
    }
    placeholder = "PLACEHOLDER bands and cut-off for the test (not the published SDQ bands)."
    subscales: list[dict[str, Any]] = [
        {
            "id": sid,
            "items": ids(range(5 * k + 1, 5 * k + 6)),
            "range": [0, 10],
            "missing": prorate,
        }
        for k, sid in enumerate(SDQ_SUBSCALES)
    ]
    return document(
        "sdq-example",
        "SDQ-style example",
        licence="SDQ: youthinmind; not to be reproduced electronically without the author's "
        "prior written consent",
        citation="Goodman R. The Strengths and Difficulties Questionnaire: a research note. J "
        "Child Psychol Psychiatry 1997;38(5):581-586.",
        ages=(11, 17),
        n_items=25,
        option_values=[0, 1, 2],
        scoring={
            "scored_items": ids(range(1, 26)),
            "reverse_items": ids([7, 11, 14, 21, 25]),
            "total": {
                "id": "total",
                "scales": SDQ_SUBSCALES[:4],
                "range": [0, 40],
                "bands": [
                    {"code": "normal", "min": 0, "max": 15, "source": placeholder},
                    {"code": "borderline", "min": 16, "max": 19, "source": placeholder},
                    {"code": "abnormal", "min": 20, "max": 40, "source": placeholder},
                ],
                "cutoff": {"min": 20, "source": placeholder},
            },
            "subscales": subscales,
        },
        notes=[
            "Reverse-keyed items 7, 11, 14, 21 and 25 as in instruments.md (scored 2 - answer).",
            "The item-to-subscale assignment here is MADE UP (blocks of five); it is not the SDQ "
            "scoring key.",
            "total = total difficulties: the composite of the first four subscales (prosocial "
            "excluded); missing when any of them is.",
        ],
    )


# --------------------------------------------------------------------------- C-SSRS


def cssrs() -> dict[str, Any]:
    source = "Columbia C-SSRS screener triage guidelines (instruments.md section 2 [S])"

    def yes(item: str) -> dict[str, Any]:
        return {"op": "answer", "item": item, "values": [1]}

    doc = document(
        "cssrs-example",
        "C-SSRS-screener-style example",
        licence="C-SSRS: Research Foundation for Mental Hygiene; Clario holds an exclusive "
        "licence for electronic implementations",
        citation="Posner K, Brown GK, Stanley B, et al. The Columbia-Suicide Severity Rating "
        "Scale. Am J Psychiatry 2011;168(12):1266-1277.",
        ages=(12, 120),
        n_items=7,
        option_values=[0, 1],
        scoring={
            "scored_items": ids(range(1, 8)),
            "classification": {
                "bands": [
                    {"code": "negative", "positive": False},
                    {"code": "low_risk", "positive": True},
                    {"code": "moderate_risk", "positive": True},
                    {"code": "high_risk", "positive": True},
                ],
                "rules": [
                    {
                        "band": "high_risk",
                        "when": {"op": "any", "of": [yes("item4"), yes("item5"), yes("item7")]},
                        "source": f"{source}: yes to Q4 or Q5, or behaviour in the past 3 months "
                        "(item7 here) = high risk.",
                    },
                    {
                        "band": "moderate_risk",
                        "when": {"op": "any", "of": [yes("item3"), yes("item6")]},
                        "source": f"{source}: Q3, or lifetime behaviour (item6) = moderate.",
                    },
                    {
                        "band": "low_risk",
                        "when": {"op": "any", "of": [yes("item1"), yes("item2")]},
                        "source": f"{source}: Q1-2 only = low.",
                    },
                ],
                "default": "negative",
                "source": f"{source}: no to every question = negative.",
            },
            "flags": [
                {
                    "code": "cssrs_high_risk",
                    "severity": "acute",
                    "when": {"op": "band", "bands": ["high_risk"]},
                    "source": f"{source}: high risk = immediate referral.",
                },
                {
                    "code": "cssrs_moderate_risk",
                    "severity": "critical",
                    "when": {"op": "band", "bands": ["moderate_risk"]},
                    "source": f"{source}: moderate risk needs same-day follow-up.",
                },
                {
                    "code": "cssrs_unanswered",
                    "severity": "follow_up",
                    "item": "item1",
                    "when": {"op": "unanswered", "item": "item1"},
                    "source": "Project convention: an unanswered screener question needs "
                    "follow-up.",
                },
            ],
        },
        notes=[
            "item1-item5: the five ideation questions; item6: lifetime behaviour; item7: "
            "behaviour within the past 3 months. Skip logic (no to Q2 -> skip to Q6) leaves "
            "item3-item5 unanswered, which the rules allow.",
        ],
    )
    yes_no = [(1, "Placeholder yes"), (0, "Placeholder no")]
    doc["option_sets"]["response"]["options"] = [{"value": v, "text": {"en": t}} for v, t in yes_no]
    return doc


# --------------------------------------------------------------------------- MHT


MHT_SUBSCALES = [
    ("learning_anxiety", 15),
    ("social_anxiety", 10),
    ("loneliness", 10),
    ("self_blame", 10),
    ("hypersensitivity", 10),
    ("somatic", 15),
    ("phobic", 10),
    ("impulsive", 10),
]


def mht() -> dict[str, Any]:
    lie = list(range(82, 101, 2))
    content = [k for k in range(1, 101) if k not in lie]
    missing = complete("Test fixture: any missing item makes the scale unscorable.")
    high = (
        "MHT (周步成) as reproduced (instruments.md section 2 [S]): a content scale '8分以上' "
        "is high; read here as 8 or more (the boundary wording is ambiguous)."
    )
    subscales: list[dict[str, Any]] = []
    start = 0
    for sid, size in MHT_SUBSCALES:
        numbers = content[start : start + size]
        start += size
        subscales.append(
            {
                "id": sid,
                "items": ids(numbers),
                "range": [0, size],
                "missing": missing,
                "cutoff": {"min": 8, "source": high},
            }
        )
    subscales.append({"id": "lie", "items": ids(lie), "range": [0, 10], "missing": missing})
    return document(
        "mht-example",
        "MHT-style example",
        licence="心理健康诊断测验 MHT: commercial standardised test (周步成, East China Normal "
        "University)",
        citation="周步成. 心理健康诊断测验 (MHT) 手册. 华东师范大学.",
        ages=(9, 18),
        n_items=100,
        option_values=[0, 1],
        scoring={
            "scored_items": ids(range(1, 101)),
            "total": {
                "id": "total",
                "scales": [sid for sid, _ in MHT_SUBSCALES],
                "range": [0, 90],
                "cutoff": {
                    "min": 65,
                    "source": "MHT total anxiety tendency: 65 is commonly quoted (instruments.md "
                    "[S]); PLACEHOLDER use on the raw total for the test.",
                },
            },
            "subscales": subscales,
            "validity": [
                {
                    "code": "mht_lie_scale",
                    "when": {"op": "score", "scale": "lie", "min": 7},
                    "source": "MHT lie/validity scale items 82, 84, ..., 100 (instruments.md "
                    "[S]): '7分以上' -> discard the form; read here as 7 or more (ambiguous).",
                }
            ],
        },
        notes=[
            "The content-item-to-scale assignment here is MADE UP (consecutive blocks of the "
            "non-lie items with the MHT scale sizes); the lie items 82, 84, ..., 100 are as "
            "published.",
            "A lie score of 7 or more voids the form: status invalid, no scores (validity rule).",
            "Publisher norms by grade and sex are not modelled; the cut-offs apply to raw scores.",
        ],
    )


# --------------------------------------------------------------------------- main


def build() -> dict[str, dict[str, Any]]:
    return {
        "scl90-example": scl90(),
        "mssmhs-example": mssmhs(),
        "rcads-example": rcads(),
        "sdq-example": sdq(),
        "cssrs-example": cssrs(),
        "mht-example": mht(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, doc in build().items():
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        path = OUT / f"{name}.json"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                changed.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    if changed:
        print(f"would change: {', '.join(changed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
