"""The CAT engine (scoring/cat.py): selection, exposure control, EAP update, stopping,
critical items under the safety floor, resumable state, the bank file and the CLI."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import msgspec
import numpy as np
import pytest

from instruments import AnswerIs, FlagRule, Unanswered, default_catalogue
from scoring import score
from scoring.cat import (
    BankError,
    BankInstrument,
    CatConfig,
    CatState,
    bank_flags,
    bank_from_params,
    check_bank_instrument,
    dump_bank,
    finish,
    load_bank,
    next_item,
    parse_bank,
    record_answer,
    simulate,
    start,
    stop_reason,
)
from scoring.irt import ItemParams, eap
from survey_service.cli import main
from triage import TIER_ORDER, evaluate, load_policy

ROOT = Path(__file__).resolve().parents[2]
SIM_BANK = ROOT / "scoring" / "cat_banks" / "sim-grm-200.json"


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _info_2pl(a: float, d: float, theta: float) -> float:
    """Fisher information of a 2PL item, a^2 P (1 - P) (Birnbaum 1968), written out here."""
    p = _sigmoid(a * theta + d)
    return a * a * p * (1.0 - p)


# Small 2PL bank: item "steep" (a = 2, b = 0) is the most informative at theta = 0.
TWO_PL = ItemParams(
    names=("flat", "steep", "mid", "easy", "hard", "self_harm"),
    a=np.array([0.8, 2.0, 1.5, 3.0, 1.2, 1.0]),
    d=np.array([[0.0], [0.0], [0.3], [4.0], [-2.0], [-3.0]]),
    model="2pl",
)
SELF_HARM_FLAGS = (
    FlagRule(
        code="sh_positive",
        severity="critical",
        when=AnswerIs(item="self_harm", values=(1,)),
        source="test fixture",
        item="self_harm",
    ),
    FlagRule(
        code="sh_unanswered",
        severity="follow_up",
        when=Unanswered(item="self_harm"),
        source="test fixture",
        item="self_harm",
    ),
)


@pytest.fixture(scope="module")
def small() -> object:
    return bank_from_params(TWO_PL, id="small", critical=("self_harm",), flags=SELF_HARM_FLAGS)


@pytest.fixture(scope="module")
def no_critical() -> object:
    return bank_from_params(TWO_PL, id="plain")


@pytest.fixture(scope="module")
def sim_bank() -> object:
    return load_bank(SIM_BANK)


# --------------------------------------------------------------------------- selection


def test_selection_picks_the_most_informative_item(no_critical) -> None:
    config = CatConfig(top_k=1, max_items=6, target_sd=0.01)
    state = start(no_critical, config)
    for answer in (1, 0, 1, 1):
        expected = max(
            (n for n in TWO_PL.names if n not in state.asked),
            key=lambda n: _info_2pl(
                float(TWO_PL.a[TWO_PL.names.index(n)]),
                float(TWO_PL.d[TWO_PL.names.index(n), 0]),
                state.theta,
            ),
        )
        chosen = next_item(no_critical, state)
        assert chosen == expected
        state = record_answer(no_critical, state, chosen, answer)
    assert state.asked[0] == "steep"  # at the prior mean theta = 0


def test_eap_update_equals_batch_eap(sim_bank) -> None:
    """The O(Q) update on the grid gives P1's batch EAP on the same answers (same grid)."""
    rng = np.random.default_rng(4)
    state = start(sim_bank, CatConfig(max_items=40, target_sd=0.05), seed=2)
    while (item := next_item(sim_bank, state)) is not None:
        state = record_answer(sim_bank, state, item, int(rng.integers(0, 5)))
    row = np.full(sim_bank.size, -1)
    for item, value in zip(state.asked, state.answers, strict=True):
        row[sim_bank.index[item]] = value
    batch = eap(row[None, :], sim_bank.params)
    assert len(state.asked) == 40
    assert state.theta == pytest.approx(float(batch.theta[0]), abs=1e-10)
    assert state.sd == pytest.approx(float(batch.sd[0]), abs=1e-10)


def test_exposure_control_spreads_the_first_choice(sim_bank) -> None:
    info = np.asarray([_grm_info(sim_bank, j, 0.0) for j in range(sim_bank.size)], dtype=np.float64)
    info[list(sim_bank.critical)] = -np.inf
    top5 = {sim_bank.names[j] for j in np.argsort(-info)[:5]}
    best = sim_bank.names[int(np.argmax(info))]

    def first_adaptive(config: CatConfig, seed: int) -> str:
        state = start(sim_bank, config, seed=seed)
        for name in ("sh01", "sh02"):
            assert next_item(sim_bank, state) == name
            state = record_answer(sim_bank, state, name, 0)
        # theta moved after the critical answers: recompute the top 5 there
        return next_item(sim_bank, state) or ""

    pure = {first_adaptive(CatConfig(top_k=1), seed) for seed in range(30)}
    spread = [first_adaptive(CatConfig(top_k=5), seed) for seed in range(60)]
    assert len(pure) == 1
    assert len(set(spread)) == 5
    # the top 5 at the current theta, independently computed
    state = start(sim_bank, CatConfig(top_k=5))
    for name in ("sh01", "sh02"):
        state = record_answer(sim_bank, state, name, 0)
    info_now = np.array([_grm_info(sim_bank, j, state.theta) for j in range(sim_bank.size)])
    info_now[list(sim_bank.critical)] = -np.inf
    assert set(spread) == {sim_bank.names[j] for j in np.argsort(-info_now)[:5]}
    assert pure == {sim_bank.names[int(np.argmax(info_now))]}
    assert top5 and best  # at theta = 0 they exist too (sanity of the helper)


def _grm_info(bank, j: int, theta: float) -> float:
    """GRM item information sum_k (P'_k)^2 / P_k (Samejima 1969), written out here."""
    a = float(bank.params.a[j])
    d = [float(x) for x in bank.params.d[j] if not math.isnan(x)]
    star = [1.0] + [_sigmoid(a * theta + dk) for dk in d] + [0.0]
    total = 0.0
    for k in range(len(star) - 1):
        p = star[k] - star[k + 1]
        w0 = star[k] * (1 - star[k])
        w1 = star[k + 1] * (1 - star[k + 1])
        total += (a * (w0 - w1)) ** 2 / p
    return total


def test_same_seed_same_test_and_resume_from_json(sim_bank) -> None:
    config = CatConfig(top_k=5, max_items=12, target_sd=0.2)
    rng = np.random.default_rng(8)
    answers = {name: int(rng.integers(0, 5)) for name in sim_bank.names}

    def run(state: CatState, stop_after: int | None = None) -> CatState:
        while (item := next_item(sim_bank, state)) is not None:
            state = record_answer(sim_bank, state, item, answers[item])
            if stop_after is not None and len(state.asked) == stop_after:
                break
        return state

    whole = run(start(sim_bank, config, seed=11))
    half = run(start(sim_bank, config, seed=11), stop_after=5)
    stored = msgspec.json.encode(half)
    resumed = run(msgspec.json.decode(stored, type=CatState))
    assert resumed == whole
    assert run(start(sim_bank, config, seed=11)) == whole
    assert whole.asked[:2] == ("sh01", "sh02")


# --------------------------------------------------------------------------- stopping


def test_stops_at_target_sd_after_min_items(no_critical) -> None:
    loose = CatConfig(target_sd=0.95, min_items=0, max_items=6, top_k=1)
    assert stop_reason(no_critical, start(no_critical, loose)) is None  # prior SD is 1
    state = record_answer(no_critical, start(no_critical, loose), "steep", 1)
    assert state.sd <= 0.95
    assert stop_reason(no_critical, state) == "target_sd"
    assert next_item(no_critical, state) is None
    longer = CatConfig(target_sd=0.95, min_items=3, max_items=6, top_k=1)
    state = record_answer(no_critical, start(no_critical, longer), "steep", 1)
    assert stop_reason(no_critical, state) is None
    assert next_item(no_critical, state) is not None


def test_stops_at_max_items_and_when_the_bank_is_exhausted(no_critical) -> None:
    state = start(no_critical, CatConfig(target_sd=0.01, max_items=3, top_k=1))
    while (item := next_item(no_critical, state)) is not None:
        state = record_answer(no_critical, state, item, 0)
    assert len(state.asked) == 3
    assert stop_reason(no_critical, state) == "max_items"
    state = start(no_critical, CatConfig(target_sd=0.01, max_items=50, top_k=1))
    while (item := next_item(no_critical, state)) is not None:
        state = record_answer(no_critical, state, item, 1)
    assert len(state.asked) == no_critical.size
    assert stop_reason(no_critical, state) == "bank_exhausted"


# --------------------------------------------------------------------------- critical items


def test_critical_items_are_always_asked_first_even_at_low_theta(small) -> None:
    # max_items 1 and a loose target: a test with no critical item would stop after one item
    config = CatConfig(target_sd=0.99, max_items=1, top_k=1)
    state = start(small, config)
    assert next_item(small, state) == "self_harm"
    state = record_answer(small, state, "self_harm", 0)
    assert next_item(small, state) is None  # max_items reached after the critical item
    # at a very low theta (all zeros on the adaptive items) the critical item is still asked
    plain = CatConfig(target_sd=0.3, max_items=6, top_k=1)
    state = start(small, plain)
    asked = []
    while (item := next_item(small, state)) is not None:
        asked.append(item)
        state = record_answer(small, state, item, 0)
    assert asked[0] == "self_harm"
    assert state.theta < -0.5


def test_critical_answers_reach_triage_at_or_above_the_floor(small) -> None:
    policy = load_policy()
    config = CatConfig(target_sd=0.5, max_items=4, top_k=1)
    state = record_answer(small, start(small, config), "self_harm", 1)
    result = finish(small, state)
    assert [f.code for f in result.flags] == ["sh_positive"]
    tier = evaluate([result.score_result()], policy=policy).tier
    assert TIER_ORDER[tier] >= TIER_ORDER["orange"]
    declined = finish(small, record_answer(small, start(small, config), "self_harm", None))
    assert [f.code for f in declined.flags] == ["sh_unanswered"]
    assert TIER_ORDER[evaluate([declined.score_result()], policy=policy).tier] >= 2
    # an abandoned test (nothing asked) still raises the unanswered flag
    abandoned = finish(small, start(small, config))
    assert abandoned.stop is None
    assert [f.code for f in abandoned.flags] == ["sh_unanswered"]
    calm = finish(small, record_answer(small, start(small, config), "self_harm", 0))
    assert calm.flags == ()
    assert evaluate([calm.score_result()], policy=policy).tier == "green"


def test_bank_bound_to_phq9_flags_exactly_as_the_fixed_form() -> None:
    phq9 = default_catalogue().get("phq9")
    items = tuple(f"item{i}" for i in range(1, 10))
    params = ItemParams(
        names=items,
        a=np.linspace(1.2, 2.4, 9),
        d=np.tile(np.array([[0.5, -1.0, -2.5]]), (9, 1)),
        model="grm",
    )
    ref = BankInstrument(id=phq9.id, version=phq9.version)
    with pytest.raises(BankError, match="item9"):
        check_bank_instrument(bank_from_params(params, id="phq9-cat", instrument=ref), phq9)
    bank = bank_from_params(params, id="phq9-cat", instrument=ref, critical=("item9",))
    check_bank_instrument(bank, phq9)
    config = CatConfig(target_sd=0.6, max_items=4, top_k=1)
    state = start(bank, config)
    assert next_item(bank, state) == "item9"
    state = record_answer(bank, state, "item9", 2)
    while (item := next_item(bank, state)) is not None:
        state = record_answer(bank, state, item, 0)
    result = finish(bank, state, phq9)
    assert result.flags == score(phq9, result.answers).flags
    assert [f.code for f in result.flags] == ["phq_item9_positive"]
    assert result.score_result().instrument_id == "phq9"
    triaged = evaluate([result.score_result()], policy=load_policy())
    assert TIER_ORDER[triaged.tier] >= TIER_ORDER["orange"]
    with pytest.raises(ValueError, match="bound to instrument"):
        bank_flags(bank, result.answers)


# --------------------------------------------------------------------------- bank file


def test_bank_file_round_trip_and_refusals(small, tmp_path) -> None:
    data = dump_bank(small)
    again = parse_bank(data)
    assert dump_bank(again) == data
    assert again.critical == small.critical and again.flags == small.flags
    raw = json.loads(data)
    bad_format = dict(raw, format="other/1")
    with pytest.raises(BankError, match="format must be"):
        parse_bank(json.dumps(bad_format))
    not_critical = dict(raw, items=[dict(i, critical=False) for i in raw["items"]])
    with pytest.raises(BankError, match="not a critical item"):
        parse_bank(json.dumps(not_critical))
    rising = dict(raw, model="grm", items=[dict(raw["items"][0], d=[0.0, 1.0])])
    with pytest.raises(BankError, match="decrease"):
        parse_bank(json.dumps(rising))
    with pytest.raises(BankError, match="cannot read"):
        load_bank(tmp_path / "missing.json")
    state = start(small, CatConfig())
    with pytest.raises(ValueError, match="one of"):
        record_answer(small, state, "steep", 7)
    with pytest.raises(ValueError, match="not in bank"):
        record_answer(small, state, "nope", 0)
    other = bank_from_params(TWO_PL, id="other")
    with pytest.raises(ValueError, match="belongs to bank small"):
        next_item(other, state)
    tampered = msgspec.structs.replace(state, config=CatConfig(top_k=0))
    with pytest.raises(ValueError, match="top_k"):
        next_item(small, tampered)


def test_committed_bank_is_the_scripts_output() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_sim_bank", ROOT / "scripts" / "cat" / "make_sim_bank.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == SIM_BANK.read_bytes()


# --------------------------------------------------------------------------- simulation


def test_simulation_agrees_with_full_bank_at_a_fraction_of_the_length(sim_bank) -> None:
    report = simulate(sim_bank, CatConfig(target_sd=0.3, max_items=30), n=400, seed=5)
    assert report.correlation_full_bank >= 0.9
    assert report.mean_length <= 0.1 * sim_bank.size
    assert report.min_length >= 3  # two critical items, then at least one adaptive item
    assert report.mean_sd <= 0.32
    assert report.exposure_max == 1.0  # the critical items, asked of everyone
    assert report.exposure_max_adaptive < 1.0
    assert sum(report.stop_reasons.values()) == 400


def test_cli_cat_simulate(capsys) -> None:
    code = main(
        ["cat", "simulate", "--bank", str(SIM_BANK), "--n", "150", "--seed", "3", "--se", "0.3"]
    )
    captured = capsys.readouterr()
    assert code == 0
    out = json.loads(captured.out)
    assert out["n"] == 150 and out["bank_items"] == 200
    assert out["correlation_full_bank"] >= 0.9
    assert {"mean_length", "mean_sd", "exposure_max"} <= set(out)
    assert "simulating" in captured.err


def test_cli_cat_simulate_bad_bank(tmp_path, capsys) -> None:
    bad = tmp_path / "bank.json"
    bad.write_text('{"format": "runxin-cat-bank/1"}', encoding="utf-8")
    assert main(["cat", "simulate", "--bank", str(bad), "--n", "10"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("runxin: --bank") and "\n" not in err
