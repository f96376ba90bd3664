"""DIF by Mantel–Haenszel methods (issue 16).

Binary items: against R ``stats::mantelhaen.test`` and statsmodels' ``StratifiedTable`` on a
seeded simulation with a planted DIF item (``tests/scoring/data/dif_simulated.csv``: 2,000
Rasch respondents, 10 items, item5 0.8 logit harder for the focal group), both run by
``scripts/reference/reliability_reference.py`` into ``reliability_reference.json``.
Ordered items: Mantel's (1963) statistic checked against a hand computation, and a seeded
simulation with a planted DIF item.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scoring import dif

DATA = Path(__file__).parent / "data"
REF: dict[str, Any] = json.loads((DATA / "reliability_reference.json").read_text("utf-8"))


def _simulated() -> tuple[list[str], np.ndarray, np.ndarray]:
    with (DATA / "dif_simulated.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    items = [k for k in rows[0] if k.startswith("item")]
    x = np.array([[int(r[i]) for i in items] for r in rows])
    return items, x, np.array([r["group"] == "focal" for r in rows])


ITEMS, X, FOCAL = _simulated()
TOTAL = X.sum(axis=1)


@pytest.mark.parametrize("j", range(10))
def test_binary_mh_matches_r_and_statsmodels(j: int) -> None:
    got = dif.mantel_haenszel(X[:, j], FOCAL, TOTAL)
    r = REF["psych"]["mantel_haenszel"][ITEMS[j]]
    sm = REF["statsmodels_mh"][ITEMS[j]]
    assert got.odds_ratio == pytest.approx(r["odds_ratio"], abs=1e-9)
    assert got.odds_ratio == pytest.approx(sm["odds_ratio"], abs=1e-9)
    assert got.chi2 == pytest.approx(r["chi2_corrected"], abs=1e-9)
    assert got.chi2 == pytest.approx(sm["chi2_corrected"], abs=1e-9)
    assert got.p_value == pytest.approx(r["p_corrected"], rel=1e-6, abs=1e-300)
    assert got.delta == pytest.approx(-2.35 * np.log(r["odds_ratio"]), abs=1e-9)
    assert got.delta_se == pytest.approx(2.35 * sm["logodds_se"], abs=1e-9)


def test_the_planted_item_is_category_c_and_the_others_are_not() -> None:
    results = [dif.mantel_haenszel(X[:, j], FOCAL, TOTAL) for j in range(10)]
    assert results[4].category == "C"
    assert results[4].delta < -1.5  # harder for the focal group: favours the reference group
    assert all(r.category != "C" for i, r in enumerate(results) if i != 4)
    assert max(range(10), key=lambda i: abs(results[i].delta)) == 4


@pytest.mark.parametrize(
    ("delta", "se", "p", "expected"),
    [
        (-0.9, 0.1, 1e-6, "A"),  # |Δ| < 1
        (-2.0, 0.5, 0.2, "A"),  # not significant
        (-1.2, 0.1, 1e-6, "B"),  # between 1 and 1.5
        (1.6, 0.5, 1e-6, "B"),  # ≥ 1.5 but not significantly above 1: 0.6/0.5 < 1.645
        (1.6, 0.2, 1e-6, "C"),  # 0.6/0.2 = 3 > 1.645
    ],
)
def test_ets_categories(delta: float, se: float, p: float, expected: str) -> None:
    assert dif.ets_category(delta, se, p) == expected


def test_an_item_nobody_varies_on_shows_no_dif() -> None:
    flat = dif.mantel_haenszel(np.zeros(len(FOCAL)), FOCAL, TOTAL)
    assert np.isnan(flat.odds_ratio) and np.isnan(flat.delta)
    assert (flat.chi2, flat.p_value, flat.category) == (0.0, 1.0, "A")
    ordinal = dif.mantel_ordinal(np.ones(len(FOCAL)), FOCAL, TOTAL)
    assert (ordinal.chi2, ordinal.smd, ordinal.category) == (0.0, 0.0, "AA")


def test_mantel_ordinal_by_hand() -> None:
    # two strata; stratum 1: ref (0, 1), focal (2); stratum 2: ref (1, 2), focal (2, 3)
    y = np.array([0, 1, 2, 1, 2, 2, 3], dtype=float)
    g = np.array([False, False, True, False, False, True, True])
    s = np.array([1, 1, 1, 2, 2, 2, 2])
    # stratum 1: T=3, sum y=3, sum y²=5, F=2, E=1, Var = 2*1*(3*5-9)/(9*2) = 2/3
    # stratum 2: T=4, sum y=8, sum y²=18, F=5, E=4, Var = 2*2*(4*18-64)/(16*3) = 2/3
    got = dif.mantel_ordinal(y, g, s)
    assert got.chi2 == pytest.approx((7 - 5) ** 2 / (4 / 3))
    # SMD: focal weights 1/3, 2/3; differences 2 - 0.5 and 2.5 - 1.5
    assert got.smd == pytest.approx((1.5 + 2 * 1.0) / 3)
    assert got.effect_size == pytest.approx(got.smd / np.std(y, ddof=1))
    assert got.strata == 2


def test_mantel_ordinal_finds_a_planted_item() -> None:
    rng = np.random.default_rng(16)
    n, j = 3000, 8
    focal = rng.random(n) < 0.5
    theta = rng.normal(size=n)
    cuts = np.array([-1.0, 0.0, 1.0])
    shift = np.zeros((n, j))
    shift[focal, 2] = 0.7
    latent = 1.5 * (theta[:, None] - shift) + rng.logistic(size=(n, j))
    x = (latent[:, :, None] > cuts[None, None, :] * 1.5).sum(axis=2).astype(float)
    total = x.sum(axis=1)
    results = [dif.mantel_ordinal(x[:, i], focal, total) for i in range(j)]
    assert results[2].category == "CC" and results[2].smd < 0
    assert all(r.category == "AA" for i, r in enumerate(results) if i != 2)


@pytest.mark.parametrize(
    ("item", "focal", "matching", "message"),
    [
        ([0, 1, 2], [True, False, True], [1, 2, 3], "0 or 1"),
        ([0, 1], [True, False, True], [1, 2, 3], "same length"),
        ([0, 1, 1], [1, 0, 1], [1, 2, 3], "boolean"),
        ([0, 1, 1], [True, True, True], [1, 2, 3], "both groups"),
        ([0, np.nan, 1], [True, False, True], [1, 2, 3], "missing"),
        ([0, 1, 1], [True, False, True], [1, 2, 3], "no score level"),
    ],
)
def test_bad_input_is_refused(item: Any, focal: Any, matching: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dif.mantel_haenszel(np.array(item), np.array(focal), np.array(matching))
