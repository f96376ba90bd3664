"""The format expresses licensed instruments' scoring (fixtures with placeholder text in
tests/instruments/licensed_examples): factor means, OR-rules, mean bands, reverse keys,
per-subscale proration, composites, T-scores by grade and gender, validity rules, rule bands."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from instruments import Instrument, load_catalogue
from scoring import ContextError, ScoreContext, ScoreResult, SubscaleResult, score

LICENSED = Path(__file__).resolve().parents[1] / "instruments" / "licensed_examples"
CATALOGUE = load_catalogue([LICENSED])


def get(instrument_id: str) -> Instrument:
    return CATALOGUE.get(instrument_id)


def sub(result: ScoreResult, subscale_id: str) -> SubscaleResult:
    return next(s for s in result.subscales if s.subscale_id == subscale_id)


def items_of(instrument: Instrument, scale_id: str) -> list[str]:
    spec = instrument.scoring
    scales = ([spec.total] if spec.total is not None else []) + list(spec.subscales)
    return list(next(s for s in scales if s.id == scale_id).items)


# --------------------------------------------------------------------------- SCL-90

SCL = get("scl90-example")
SCL_FACTORS = [s.id for s in SCL.scoring.subscales if s.id not in ("additional", "gsi")]


def scl(values: dict[str, int] | None = None) -> dict[str, int | None]:
    return dict.fromkeys((f"item{k}" for k in range(1, 91)), 1) | (values or {})


def scl_below_factor_cut(extra_total: int, at_two_only: bool = False) -> dict[str, int | None]:
    """Raise items while every symptom factor mean stays below 2 (sum < 2 x size)."""
    answers = scl()
    left = extra_total
    for factor in [*SCL_FACTORS, "additional"]:
        items = items_of(SCL, factor)
        room = len(items) - 1 if factor != "additional" else 4 * len(items)
        for item in items:
            if left == 0 or room == 0:
                break
            step = 1 if at_two_only else min(4, left, room)
            answers[item] = 1 + step
            left -= step
            room -= step
    assert left == 0
    return answers


def test_scl90_structure() -> None:
    assert len(SCL.items) == 90
    assert all(item.text["en"].startswith("Placeholder") for item in SCL.items)
    factors = [s for s in SCL.scoring.subscales if s.id != "gsi"]
    assert len(factors) == 10
    assert sorted(i for f in factors for i in f.items) == sorted(f"item{k}" for k in range(1, 91))
    assert all(f.method == "mean" for f in factors)


def test_scl90_all_ones_is_negative() -> None:
    result = score(SCL, scl())
    assert (result.total, result.positive) == (90, False)
    assert all(
        s.score == 1.0 and s.positive is False for s in result.subscales if s.subscale_id != "gsi"
    )


def test_scl90_total_over_160_alone() -> None:
    answers = scl_below_factor_cut(71)  # total 161
    result = score(SCL, answers)
    assert result.total == 161
    assert sum(1 for v in answers.values() if v is not None and v >= 2) <= 43
    assert all(sub(result, f).positive is False for f in SCL_FACTORS)
    assert result.positive is True
    assert score(SCL, scl_below_factor_cut(70)).positive is False  # total 160


def test_scl90_more_than_43_items_at_two_alone() -> None:
    answers = scl_below_factor_cut(44, at_two_only=True)
    result = score(SCL, answers)
    assert result.total == 134
    assert all(sub(result, f).positive is False for f in SCL_FACTORS)
    assert result.positive is True
    assert score(SCL, scl_below_factor_cut(43, at_two_only=True)).positive is False


def test_scl90_any_factor_mean_two_alone() -> None:
    hostility = items_of(SCL, "hostility")
    result = score(SCL, scl(dict.fromkeys(hostility, 2)))
    assert sub(result, "hostility") == SubscaleResult("hostility", "scored", 2.0, False, None, True)
    assert (result.total, result.positive) == (96, True)
    almost = score(SCL, scl(dict.fromkeys(hostility[:5], 2)))
    assert sub(almost, "hostility").positive is False
    assert almost.positive is False


def test_scl90_additional_factor_is_not_in_the_or_rule() -> None:
    result = score(SCL, scl(dict.fromkeys(items_of(SCL, "additional"), 2)))
    assert sub(result, "additional").positive is True
    assert result.positive is False


def test_scl90_item15_flag_with_a_low_total() -> None:
    result = score(SCL, scl({"item15": 2}))
    assert [f.code for f in result.flags] == ["scl90_item15"]
    assert result.positive is False
    assert score(SCL, scl({"item15": 1})).flags == ()


# --------------------------------------------------------------------------- MSSMHS

MSSMHS = get("mssmhs-example")


def mssmhs(total: int) -> dict[str, int | None]:
    """60 answers summing to ``total`` (60..300)."""
    answers: dict[str, int | None] = {}
    left = total - 60
    for k in range(1, 61):
        step = min(4, left)
        answers[f"item{k}"] = 1 + step
        left -= step
    return answers


@pytest.mark.parametrize(
    ("total", "mean", "band"),
    [
        (60, 1.0, "none"), (119, 119 / 60, "none"), (120, 2.0, "mild"),
        (179, 179 / 60, "mild"), (180, 3.0, "moderate"), (240, 4.0, "severe"),
        (299, 299 / 60, "severe"), (300, 5.0, "very_severe"),
    ],
)  # fmt: skip
def test_mssmhs_mean_bands(total: int, mean: float, band: str) -> None:
    result = score(MSSMHS, mssmhs(total))
    assert result.total == pytest.approx(mean)
    assert result.band == band
    assert result.positive is (band != "none")
    assert result.highest_band is (band == "very_severe")


def test_mssmhs_factor_bands() -> None:
    depression = items_of(MSSMHS, "depression")
    answers = mssmhs(60) | dict.fromkeys(depression, 3)
    result = score(MSSMHS, answers)
    assert sub(result, "depression") == SubscaleResult(
        "depression", "scored", 3.0, False, "moderate", True
    )
    assert sub(result, "anxiety").band == "none"
    assert result.band == "none"  # 72 / 60 = 1.2


# --------------------------------------------------------------------------- RCADS

RCADS = get("rcads-example")
RCADS_SUBSCALES = ["separation_anxiety", "social_phobia", "generalized_anxiety", "panic", "ocd",
                   "depression"]  # fmt: skip
GIRL_GRADE_7 = ScoreContext(grade=7, gender="female")


def rcads(value: int = 1) -> dict[str, int | None]:
    return dict.fromkeys((f"item{k}" for k in range(1, 48)), value)


def expected_t(scale_id: str, raw: Fraction, grade: int, gender: str) -> Fraction:
    """T = (raw - mean) / SD x 10 + 50 with the fixture's placeholder norm row."""
    spec = RCADS.scoring
    scale = next(s for s in [spec.total, *spec.subscales] if s is not None and s.id == scale_id)
    assert scale.norms is not None
    row = next(
        g for g in scale.norms.groups
        if g.gender == gender and g.grades[0] <= grade <= g.grades[1]
    )  # fmt: skip
    return (raw - Fraction(str(row.mean))) / Fraction(str(row.sd)) * 10 + 50


def t_band(t: Fraction) -> str:
    rounded = int(t + Fraction(1, 2)) if t >= 0 else -int(-t + Fraction(1, 2))
    return "normal" if rounded <= 64 else "borderline" if rounded <= 69 else "clinical"


def test_rcads_norms_are_marked_placeholders() -> None:
    for scale in [RCADS.scoring.total, *RCADS.scoring.subscales]:
        assert scale is not None and scale.norms is not None
        assert scale.norms.source.startswith("PLACEHOLDER")
        assert {g.gender for g in scale.norms.groups} == {"male", "female"}


def test_rcads_t_scores_from_the_norm_table() -> None:
    result = score(RCADS, rcads(1), context=GIRL_GRADE_7)
    for subscale_id in RCADS_SUBSCALES:
        raw = Fraction(len(items_of(RCADS, subscale_id)))
        s = sub(result, subscale_id)
        t = expected_t(subscale_id, raw, 7, "female")
        assert (s.status, s.score) == ("scored", float(raw))
        assert s.t_score == float(t)
        assert s.band == t_band(t)
        assert s.positive is (s.band == "clinical")
    assert result.total == 47
    assert result.t_score == float(expected_t("total", Fraction(47), 7, "female"))
    assert sub(result, "total_anxiety").score == 37


def test_rcads_norm_group_depends_on_grade_and_gender() -> None:
    girl = score(RCADS, rcads(2), context=GIRL_GRADE_7)
    boy = score(RCADS, rcads(2), context=ScoreContext(grade=7, gender="male"))
    older = score(RCADS, rcads(2), context=ScoreContext(grade=11, gender="female"))
    assert len({girl.t_score, boy.t_score, older.t_score}) == 3
    assert older.t_score == float(expected_t("total", Fraction(94), 11, "female"))


def test_rcads_bands_on_t_scores() -> None:
    high = score(RCADS, rcads(3), context=GIRL_GRADE_7)
    assert high.band == "clinical"
    assert high.positive is True
    assert high.highest_band is True
    low = score(RCADS, rcads(0), context=GIRL_GRADE_7)
    assert low.band == "normal"
    assert low.positive is False


def test_rcads_per_subscale_proration() -> None:
    first_two = items_of(RCADS, "depression")[:2]
    answers = (
        rcads(1)
        | {first_two[0]: 3}
        | {first_two[1]: None}
        | {items_of(RCADS, "depression")[2]: None}
    )
    result = score(RCADS, answers, context=GIRL_GRADE_7)
    depression = sub(result, "depression")
    # 8 of 10 answered, sum 3 + 7 = 10: prorated 10 / 8 x 10 = 12.5, kept unrounded.
    assert (depression.status, depression.score, depression.prorated) == ("scored", 12.5, True)
    assert depression.t_score == float(expected_t("depression", Fraction(25, 2), 7, "female"))
    assert result.prorated is True
    assert result.total == 37 + 12.5
    assert sub(result, "total_anxiety").prorated is False


def test_rcads_three_missing_make_the_subscale_and_its_totals_missing() -> None:
    panic = items_of(RCADS, "panic")
    answers = rcads(1) | dict.fromkeys(panic[:3], None)
    result = score(RCADS, answers, context=GIRL_GRADE_7)
    assert sub(result, "panic").status == "unscorable"
    assert sub(result, "total_anxiety").status == "unscorable"
    assert (result.status, result.total, result.t_score, result.band) == (
        "unscorable", None, None, None,
    )  # fmt: skip
    assert sub(result, "depression").status == "scored"


def test_rcads_student_outside_the_norm_groups_gets_no_t_score() -> None:
    result = score(RCADS, rcads(2), context=ScoreContext(grade=2, gender="female"))
    assert result.status == "scored"
    assert result.total == 94
    assert (result.t_score, result.band, result.positive, result.highest_band) == (
        None, None, None, False,
    )  # fmt: skip
    unknown = score(RCADS, rcads(2), context=ScoreContext(grade=7, gender=None))
    assert unknown.t_score is None
    assert all(s.t_score is None for s in unknown.subscales)


def test_rcads_without_context_is_a_clear_error() -> None:
    with pytest.raises(ContextError, match=r"rcads-example: .*T-scores.*context=ScoreContext"):
        score(RCADS, rcads(1))
    assert issubclass(ContextError, ValueError)


@pytest.mark.parametrize(
    "context",
    [
        ScoreContext(grade=True, gender="female"),  # type: ignore[arg-type]
        ScoreContext(grade=7.5, gender="female"),  # type: ignore[arg-type]
        ScoreContext(grade=7, gender="girl"),  # type: ignore[arg-type]
        {"grade": 7, "gender": "female"},
    ],
)
def test_malformed_context_is_rejected(context: object) -> None:
    with pytest.raises(ContextError):
        score(RCADS, rcads(1), context=context)  # type: ignore[arg-type]


def test_context_is_ignored_without_norms() -> None:
    result = score(SCL, scl(), context=GIRL_GRADE_7)
    assert result == score(SCL, scl())


# --------------------------------------------------------------------------- SDQ

SDQ = get("sdq-example")
SDQ_REVERSED = ["item7", "item11", "item14", "item21", "item25"]


def sdq(value: int = 0) -> dict[str, int | None]:
    answers = dict.fromkeys((f"item{k}" for k in range(1, 26)), value)
    return answers | dict.fromkeys(SDQ_REVERSED, 2 - value)  # keyed value everywhere


def test_sdq_reverse_keys() -> None:
    assert score(SDQ, sdq(0)).total == 0
    assert score(SDQ, sdq(2)).total == 40
    result = score(SDQ, sdq(0) | {"item7": 0})  # raw 0 on a reversed item counts 2
    assert sub(result, "conduct").score == 2
    assert result.total == 2


def test_sdq_prorated_subscale_and_composite_total() -> None:
    answers = sdq(0) | {"item1": 2, "item2": 1, "item3": None, "item4": None}
    result = score(SDQ, answers)
    emotional = sub(result, "emotional")
    assert (emotional.score, emotional.prorated) == (5.0, True)  # 3 / 3 answered x 5
    assert result.total == 5.0
    assert result.prorated is True
    assert result.band == "normal"


def test_sdq_prosocial_is_not_in_the_total() -> None:
    result = score(SDQ, sdq(0) | dict.fromkeys((f"item{k}" for k in range(21, 26)), 0))
    assert sub(result, "prosocial").score == 4  # item21 and item25 reversed: 2 + 2
    assert result.total == 0


def test_sdq_unscorable_part_makes_the_total_unscorable() -> None:
    result = score(SDQ, sdq(1) | dict.fromkeys(["item16", "item17", "item18"], None))
    assert sub(result, "peer").status == "unscorable"
    assert (result.status, result.total) == ("unscorable", None)


@pytest.mark.parametrize(
    ("keyed", "band", "positive"),
    [(15, "normal", False), (16, "borderline", False), (19, "borderline", False),
     (20, "abnormal", True)],
)  # fmt: skip
def test_sdq_composite_bands(keyed: int, band: str, positive: bool) -> None:
    answers = sdq(0)
    left = keyed
    for k in range(1, 21):
        item = f"item{k}"
        step = min(2, left)
        left -= step
        answers[item] = 2 - step if item in SDQ_REVERSED else step
    result = score(SDQ, answers)
    assert (result.total, result.band, result.positive) == (keyed, band, positive)


# --------------------------------------------------------------------------- C-SSRS

CSSRS = get("cssrs-example")


@pytest.mark.parametrize(
    ("yes", "band", "flags"),
    [
        ([], "negative", []),
        ([1], "low_risk", []),
        ([1, 2], "low_risk", []),
        ([1, 2, 3], "moderate_risk", ["cssrs_moderate_risk"]),
        ([6], "moderate_risk", ["cssrs_moderate_risk"]),
        ([1, 2, 4], "high_risk", ["cssrs_high_risk"]),
        ([5], "high_risk", ["cssrs_high_risk"]),
        ([6, 7], "high_risk", ["cssrs_high_risk"]),
    ],
)
def test_cssrs_rule_bands(yes: list[int], band: str, flags: list[str]) -> None:
    answers = {f"item{k}": int(k in yes) for k in range(1, 8)}
    result = score(CSSRS, answers)
    assert result.band == band
    assert result.positive is (band != "negative")
    assert [f.code for f in result.flags] == flags


def test_cssrs_skip_logic_leaves_questions_unanswered() -> None:
    answers = {"item1": 1, "item2": 0, "item6": 0, "item7": 0}
    result = score(CSSRS, answers)
    assert (result.status, result.band) == ("scored", "low_risk")
    assert result.missing == ("item3", "item4", "item5")


# --------------------------------------------------------------------------- MHT

MHT = get("mht-example")
LIE = [f"item{k}" for k in range(82, 101, 2)]


def mht(lie: int = 0, content: int = 0) -> dict[str, int | None]:
    answers = dict.fromkeys((f"item{k}" for k in range(1, 101)), 0)
    answers |= {item: int(i < lie) for i, item in enumerate(LIE)}
    rest = [f"item{k}" for k in range(1, 101) if f"item{k}" not in LIE]
    answers |= {item: int(i < content) for i, item in enumerate(rest)}
    return answers


def test_mht_lie_scale_voids_the_form() -> None:
    valid = score(MHT, mht(lie=6, content=70))
    assert (valid.status, valid.total, valid.positive) == ("scored", 70, True)
    assert sub(valid, "lie").score == 6
    void = score(MHT, mht(lie=7, content=70))
    assert (void.status, void.total, void.band, void.positive) == ("invalid", None, None, None)
    assert all(s == SubscaleResult(s.subscale_id, "invalid", None) for s in void.subscales)


@pytest.mark.parametrize(("content", "positive"), [(64, False), (65, True)])
def test_mht_total_cutoff(content: int, positive: bool) -> None:
    assert score(MHT, mht(content=content)).positive is positive


def test_mht_subscale_cutoff_eight() -> None:
    learning = items_of(MHT, "learning_anxiety")
    seven = score(MHT, mht() | dict.fromkeys(learning[:7], 1))
    eight = score(MHT, mht() | dict.fromkeys(learning[:8], 1))
    assert sub(seven, "learning_anxiety").positive is False
    assert sub(eight, "learning_anxiety").positive is True
