"""Unit tests of scoring.irt models and trait scoring (EAP, MAP)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize

from scoring.irt import (
    ItemParams,
    ThetaEstimates,
    _scoring,
    category_probabilities,
    eap,
    item_information,
    map_estimate,
)


def _grm() -> ItemParams:
    # three 4-category items and one 3-category item (NaN-padded)
    return ItemParams(
        names=("q1", "q2", "q3", "q4"),
        a=np.array([1.2, 0.8, 2.0, 1.5]),
        d=np.array([[2.0, 0.5, -1.0], [1.0, -0.2, -2.5], [3.0, 0.0, -3.0], [1.5, -1.0, np.nan]]),
        model="grm",
    )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)))


def test_2pl_probabilities_are_the_logistic_curve() -> None:
    params = ItemParams(("x", "y"), np.array([1.0, 2.0]), np.array([[0.5], [-1.0]]), "2pl")
    theta = np.array([-1.0, 0.0, 2.0])
    prob = category_probabilities(theta, params)
    assert prob.shape == (3, 2, 2)
    expected = _sigmoid(theta[:, None] * params.a[None, :] + params.d[None, :, 0])
    np.testing.assert_allclose(prob[:, :, 1], expected)
    np.testing.assert_allclose(prob[:, :, 0], 1.0 - expected)
    info = item_information(theta, params)
    np.testing.assert_allclose(info, params.a[None, :] ** 2 * expected * (1 - expected))


def test_grm_probabilities_sum_to_one_and_padded_category_is_zero() -> None:
    params = _grm()
    theta = np.linspace(-4, 4, 9)
    prob = category_probabilities(theta, params)
    assert prob.shape == (9, 4, 4)
    np.testing.assert_allclose(prob.sum(axis=2), 1.0)
    assert np.all(prob[:, 3, 3] == 0.0)
    assert np.all(prob[:, :3, :] > 0.0)
    # category 0 of item 1 at theta 0: 1 - sigmoid(2.0)
    np.testing.assert_allclose(prob[4, 0, 0], 1.0 - _sigmoid(np.array(2.0)))
    # category 1 of item 1 at theta 0: sigmoid(2.0) - sigmoid(0.5)
    np.testing.assert_allclose(prob[4, 0, 1], _sigmoid(np.array(2.0)) - _sigmoid(np.array(0.5)))


def test_grm_information_equals_sum_of_squared_derivatives_over_p() -> None:
    params = _grm()
    theta = np.array([-2.0, -0.3, 0.0, 1.7])
    h = 1e-5
    dp = (category_probabilities(theta + h, params) - category_probabilities(theta - h, params)) / (
        2 * h
    )
    prob = category_probabilities(theta, params)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(prob > 0, dp**2 / prob, 0.0).sum(axis=2)
    np.testing.assert_allclose(item_information(theta, params), expected, rtol=1e-6)


def test_thresholds_are_minus_d_over_a() -> None:
    params = _grm()
    b = params.thresholds()
    np.testing.assert_allclose(b[0], -params.d[0] / 1.2)
    assert np.isnan(b[3, 2])
    assert list(params.n_categories) == [4, 4, 4, 3]


@pytest.mark.parametrize(
    ("a", "d", "names", "message"),
    [
        ([1.0], [[0.5, 1.0]], ("x",), "decrease"),
        ([1.0], [[0.5, np.nan, -1.0]], ("x",), "padding"),
        ([1.0, 1.0], [[0.5], [0.1]], ("x",), "names"),
        ([1.0], [[np.nan]], ("x",), "at least one"),
        ([np.inf], [[0.0]], ("x",), "finite"),
    ],
)
def test_item_params_reject_bad_input(
    a: list[float], d: list[list[float]], names: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ItemParams(names, np.array(a), np.array(d), "grm")


def _posterior_moments(pattern: list[int], params: ItemParams) -> tuple[float, float]:
    """EAP and posterior SD by adaptive quadrature (scipy), the slow reference."""

    def like(t: float) -> float:
        prob = category_probabilities(np.array([t]), params)[0]
        value = np.exp(-0.5 * t * t)
        for j, x in enumerate(pattern):
            if x >= 0:
                value *= prob[j, x]
        return float(value)

    z = integrate.quad(like, -10, 10, limit=200)[0]
    m = integrate.quad(lambda t: t * like(t), -10, 10, limit=200)[0] / z
    v = integrate.quad(lambda t: (t - m) ** 2 * like(t), -10, 10, limit=200)[0] / z
    return m, float(np.sqrt(v))


def test_eap_matches_adaptive_quadrature() -> None:
    params = _grm()
    patterns = [[0, 0, 0, 0], [3, 3, 3, 2], [1, 2, -1, 1], [2, -1, 0, -1]]
    est = eap(np.array(patterns), params)
    assert isinstance(est, ThetaEstimates)
    for i, pattern in enumerate(patterns):
        m, sd = _posterior_moments(pattern, params)
        assert est.theta[i] == pytest.approx(m, abs=1e-4)
        assert est.sd[i] == pytest.approx(sd, abs=1e-4)


def test_eap_missing_items_are_skipped_and_empty_rows_get_the_prior() -> None:
    params = _grm()
    full = eap(np.array([[1, 2, -1, 1], [-1, -1, -1, -1]]), params, prior_mean=0.5, prior_sd=2)
    reduced = ItemParams(("q1", "q2", "q4"), params.a[[0, 1, 3]], params.d[[0, 1, 3]], "grm")
    alone = eap(np.array([[1, 2, 1]]), reduced, prior_mean=0.5, prior_sd=2)
    assert full.theta[0] == pytest.approx(alone.theta[0], abs=1e-12)
    assert full.theta[1] == pytest.approx(0.5, abs=1e-9)
    assert full.sd[1] == pytest.approx(2.0, abs=1e-3)


def test_eap_blocks_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    params = _grm()
    rng = np.random.default_rng(3)
    resp = rng.integers(0, 3, size=(50, 4))
    whole = eap(resp, params)
    monkeypatch.setattr(_scoring, "_CHUNK", 7)
    blocked = eap(resp, params)
    np.testing.assert_allclose(blocked.theta, whole.theta, atol=1e-12)
    np.testing.assert_allclose(blocked.sd, whole.sd, atol=1e-12)


def test_map_is_the_posterior_mode() -> None:
    params = _grm()
    patterns = [[0, 0, 0, 0], [3, 3, 3, 2], [1, 2, -1, 1], [2, 1, 1, 0]]
    est = map_estimate(np.array(patterns), params, prior_mean=0.2, prior_sd=1.3)
    for i, pattern in enumerate(patterns):

        def neg_log_post(t: float, pattern: list[int] = pattern) -> float:
            prob = category_probabilities(np.array([t]), params)[0]
            ll = sum(np.log(prob[j, x]) for j, x in enumerate(pattern) if x >= 0)
            return float(-(ll - 0.5 * ((t - 0.2) / 1.3) ** 2))

        best = optimize.minimize_scalar(
            neg_log_post, bounds=(-8, 8), method="bounded", options={"xatol": 1e-10}
        )
        assert est.theta[i] == pytest.approx(best.x, abs=1e-6)
        info = item_information(np.array([best.x]), params)[0]
        answered = np.array(pattern) >= 0
        se = 1 / np.sqrt(info[answered].sum() + 1 / 1.3**2)
        assert est.sd[i] == pytest.approx(se, rel=1e-5)


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        ([[0, 0, 0, 3]], "response 3 in row 0, item 'q4'"),
        ([[0, -2, 0, 0]], "row 0, item 'q2'"),
        ([[0, 0, 0]], "3 columns for 4 items"),
        ([[0.5, 0, 0, 0]], "integers"),
    ],
)
def test_scoring_rejects_bad_responses(responses: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        eap(np.array(responses), _grm())
    with pytest.raises(ValueError, match=message):
        map_estimate(np.array(responses), _grm())


def test_bad_prior_is_rejected() -> None:
    with pytest.raises(ValueError, match="prior_sd"):
        eap(np.zeros((1, 4), dtype=int), _grm(), prior_sd=0.0)


def test_item_params_copy_their_arrays() -> None:
    a = np.array([1.0, 2.0])
    d = np.array([[0.5], [-1.0]])
    params = ItemParams(("x", "y"), a, d, "2pl")
    a[0] = 9.0  # the caller's array stays writable ...
    assert params.a[0] == 1.0  # ... and changing it does not change the parameters
    with pytest.raises(ValueError):
        params.a[0] = 3.0
