"""scoring.irt calibration against published estimates, and a seeded recovery study.

The data and published numbers live in tests/scoring/data/irt_reference.json, each block
with its source (Bock & Lieberman 1970 LSAT sections 6 and 7; the Science data of R ltm /
mirt; estimates from the R ltm and mirt manuals and Rizopoulos 2006, J Stat Softw 17(5)).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scoring.irt import Calibration, ItemParams, fit_2pl, fit_grm, map_estimate
from scoring.irt._models import cumulative_probabilities

_REF: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "irt_reference.json").read_text(encoding="utf-8")
)


def _fit_2pl(name: str) -> tuple[dict[str, Any], Calibration]:
    block = _REF[name]
    return block, fit_2pl(
        np.array(block["patterns"]), weights=np.array(block["freq"]), names=block["items"]
    )


@pytest.fixture(scope="module")
def lsat6() -> tuple[dict[str, Any], Calibration]:
    return _fit_2pl("lsat6")


@pytest.fixture(scope="module")
def lsat7() -> tuple[dict[str, Any], Calibration]:
    return _fit_2pl("lsat7")


@pytest.fixture(scope="module")
def science() -> tuple[dict[str, Any], Calibration]:
    block = _REF["science"]
    patterns = np.array(block["patterns"]) - 1  # categories 1..4 -> 0..3
    return block, fit_grm(patterns, weights=np.array(block["freq"]), names=block["items"])


def test_lsat6_2pl_matches_ltm(lsat6: tuple[dict[str, Any], Calibration]) -> None:
    ref, cal = lsat6
    assert sum(ref["freq"]) == 1000
    assert cal.converged
    assert cal.loglik == pytest.approx(ref["loglik"], abs=0.01)
    a, b = np.array(ref["a"]), np.array(ref["b"])
    np.testing.assert_allclose(cal.params.a, a, atol=0.01)
    np.testing.assert_allclose(cal.params.thresholds()[:, 0], b, atol=0.01)
    np.testing.assert_allclose(cal.params.d[:, 0], -a * b, atol=0.01)
    # observed-information standard errors against ltm's (numerical Hessian)
    np.testing.assert_allclose(cal.se_a, ref["se_a"], atol=0.005)


def test_lsat6_map_scores_match_ltm(lsat6: tuple[dict[str, Any], Calibration]) -> None:
    ref, cal = lsat6
    est = map_estimate(np.array(ref["map_patterns"]), cal.params)
    np.testing.assert_allclose(est.theta, ref["map_theta"], atol=0.005)
    np.testing.assert_allclose(est.sd, ref["map_se"], atol=0.005)


def test_lsat7_2pl_matches_mirt(lsat7: tuple[dict[str, Any], Calibration]) -> None:
    ref, cal = lsat7
    patterns, freq = np.array(ref["patterns"]), np.array(ref["freq"])
    assert freq.sum() == 1000
    np.testing.assert_allclose(freq @ patterns / 1000, ref["proportions"], atol=5e-4)
    assert cal.loglik == pytest.approx(ref["loglik"], abs=0.01)
    np.testing.assert_allclose(cal.params.a, ref["a"], atol=0.01)
    np.testing.assert_allclose(cal.params.d[:, 0], ref["d"], atol=0.01)
    assert np.all(np.isfinite(cal.se_a)) and np.all(cal.se_a > 0)


def test_weights_equal_expanded_rows(lsat7: tuple[dict[str, Any], Calibration]) -> None:
    ref, cal = lsat7
    expanded = np.repeat(np.array(ref["patterns"]), ref["freq"], axis=0)
    again = fit_2pl(expanded, standard_errors=False)
    assert again.loglik == pytest.approx(cal.loglik, abs=1e-6)
    np.testing.assert_allclose(again.params.a, cal.params.a, atol=1e-5)


def test_science_grm_matches_mirt(science: tuple[dict[str, Any], Calibration]) -> None:
    ref, cal = science
    assert sum(ref["freq"]) == 392
    assert cal.converged
    assert cal.loglik == pytest.approx(ref["loglik"], abs=0.01)
    np.testing.assert_allclose(cal.params.a, ref["a"], atol=0.01)
    np.testing.assert_allclose(cal.params.thresholds(), ref["b"], atol=0.01)
    assert cal.se_d.shape == (4, 3) and np.all(cal.se_d > 0)


def _simulate(
    rng: np.random.Generator, n: int, j: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = rng.uniform(0.8, 2.5, j)
    b = np.sort(rng.normal(0.0, 1.0, (j, k - 1)), axis=1) + np.linspace(-0.6, 0.6, k - 1)
    d = -a[:, None] * np.sort(b, axis=1)
    params = ItemParams(tuple(f"i{i}" for i in range(j)), a, d, "grm")
    theta = rng.normal(size=n)
    star = cumulative_probabilities(theta, params)[:, :, 1:-1]
    resp = (rng.random((n, j, 1)) < star).sum(axis=2)
    return resp, a, d


def test_seeded_recovery_2000_by_20_items_5_categories() -> None:
    resp, a, d = _simulate(np.random.default_rng(20261206), 2000, 20, 5)
    resp[np.random.default_rng(1).random(resp.shape) < 0.05] = -1  # 5 % missing
    start = time.perf_counter()
    cal = fit_grm(resp, tol=1e-4, standard_errors=False)
    elapsed = time.perf_counter() - start
    assert cal.converged
    assert np.corrcoef(cal.params.a, a)[0, 1] >= 0.98
    assert np.corrcoef(cal.params.d.ravel(), d.ravel())[0, 1] >= 0.98
    assert elapsed < 3.0


@pytest.mark.parametrize(
    ("responses", "kwargs", "message"),
    [
        ([[0, 1], [0, 1], [0, 0]], {}, "item 'item1' has fewer than 2"),
        ([[0, 2], [1, 0], [1, 2]], {}, "item 'item2' has no response in category 1"),
        (
            [[0, 2], [1, 1], [1, 0]],
            {"model": "2pl"},
            "item 'item2' has 3 categories; the 2PL needs 0/1",
        ),
        ([[0, 1], [1, 0]], {"weights": [1.0]}, "1 weights for 2 response rows"),
        ([[0, 1], [1, 0]], {"weights": [1.0, -1.0]}, "non-negative"),
        ([[0, 1], [1, 0]], {"names": ["x"]}, "1 names for 2 items"),
    ],
)
def test_calibration_rejects_bad_input(
    responses: list[list[int]], kwargs: dict[str, Any], message: str
) -> None:
    fit = fit_2pl if kwargs.pop("model", "grm") == "2pl" else fit_grm
    with pytest.raises(ValueError, match=message):
        fit(np.array(responses), standard_errors=False, **kwargs)


def test_items_with_different_numbers_of_categories() -> None:
    rng = np.random.default_rng(5)
    a = np.array([1.5, 1.0, 2.0, 0.7, 1.2, -0.8])
    nan = np.nan
    d = np.array(
        [
            [1.0, nan, nan, nan],
            [2.0, 1.0, 0.0, -1.5],
            [1.5, -0.5, nan, nan],
            [0.5, nan, nan, nan],
            [2.5, 1.2, 0.1, -1.0],
            [0.3, nan, nan, nan],
        ]
    )
    params = ItemParams(tuple("abcdef"), a, d, "grm")
    star = cumulative_probabilities(rng.normal(size=3000), params)[:, :, 1:-1]
    resp = (rng.random((3000, 6, 1)) < star).sum(axis=2)
    cal = fit_grm(resp)
    assert cal.converged
    assert list(cal.params.n_categories) == [2, 5, 3, 2, 5, 2]
    np.testing.assert_array_equal(np.isnan(cal.params.d), np.isnan(d))
    np.testing.assert_array_equal(np.isnan(cal.se_d), np.isnan(d))
    np.testing.assert_allclose(cal.params.a, a, atol=0.25)  # a negative slope is recovered too
    np.testing.assert_allclose(cal.params.d[~np.isnan(d)], d[~np.isnan(d)], atol=0.25)


def test_iteration_limit_reports_no_convergence() -> None:
    block = _REF["lsat6"]
    cal = fit_2pl(
        np.array(block["patterns"]),
        weights=np.array(block["freq"]),
        max_iter=3,
        standard_errors=False,
    )
    assert cal.iterations == 3
    assert not cal.converged
    assert np.all(np.isnan(cal.se_a))
