"""Trait estimation for fitted items: EAP on a fixed grid and MAP by Fisher scoring.

Both are vectorised over respondents. Responses are integer category indices ``0..K_j-1``
with ``-1`` for an item not asked or not answered (it then contributes nothing to the
likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._models import (
    FloatArray,
    IntArray,
    ItemParams,
    category_probabilities,
    cumulative_probabilities,
)

#: Respondents per block when the (N, Q) log-likelihood is built; bounds memory.
_CHUNK = 65_536
_TINY = 1e-300


@dataclass(frozen=True, slots=True)
class ThetaEstimates:
    """Trait estimates of ``N`` respondents.

    Attributes
    ----------
    theta : ndarray, shape (N,)
        The estimates.
    sd : ndarray, shape (N,)
        Posterior standard deviation (EAP) or standard error (MAP).
    """

    theta: FloatArray
    sd: FloatArray


def check_responses(responses: npt.ArrayLike, params: ItemParams) -> IntArray:
    """Validate a response matrix against the items and return it as ``int64``.

    Parameters
    ----------
    responses : array_like, shape (N, J)
        Category indices ``0..K_j-1``, ``-1`` for missing.
    params : ItemParams
        The items the columns belong to.

    Returns
    -------
    ndarray of int64, shape (N, J)

    Raises
    ------
    ValueError
        Non-integer values, wrong number of columns, or a category outside ``-1..K_j-1``.
    """
    raw = np.asarray(responses)
    if raw.ndim == 1:
        raw = raw[None, :]
    if raw.ndim != 2:
        raise ValueError(f"responses must be a 2-D (respondents, items) array; got {raw.ndim}-D")
    if raw.shape[1] != params.n_items:
        raise ValueError(f"responses have {raw.shape[1]} columns for {params.n_items} items")
    if not np.issubdtype(raw.dtype, np.integer):
        if raw.dtype == np.bool_:
            raw = raw.astype(np.int64)
        else:
            as_float = raw.astype(np.float64)
            if not np.all(np.isfinite(as_float)) or np.any(as_float != np.round(as_float)):
                raise ValueError("responses must be integers (category indices, -1 = missing)")
            raw = as_float.astype(np.int64)
    resp = np.asarray(raw, dtype=np.int64)
    too_big = resp >= params.n_categories[None, :]
    if np.any(resp < -1) or np.any(too_big):
        rows, cols = np.nonzero((resp < -1) | too_big)
        i, j = int(rows[0]), int(cols[0])
        raise ValueError(
            f"response {int(resp[i, j])} in row {i}, item {params.names[j]!r} is outside "
            f"-1..{int(params.n_categories[j]) - 1}"
        )
    return resp


def _log_table(theta: FloatArray, params: ItemParams) -> FloatArray:
    """``log P(X_j = k | theta_q)`` laid out as (J*K, Q); padded categories get 0."""
    prob = category_probabilities(theta, params)  # (Q, J, K)
    real = np.arange(params.max_categories)[None, :] < params.n_categories[:, None]
    logp = np.where(real[None, :, :], np.log(np.maximum(prob, _TINY)), 0.0)
    return np.ascontiguousarray(logp.reshape(theta.shape[0], -1).T)


def _indicator(block: IntArray, k: int) -> FloatArray:
    """One-hot (n, J*K) matrix of a response block; missing responses are all-zero rows."""
    n, j = block.shape
    ind = np.zeros((n, j * k))
    rows, cols = np.nonzero(block >= 0)
    ind[rows, cols * k + block[rows, cols]] = 1.0
    return ind


def log_likelihood_grid(
    responses: IntArray, params: ItemParams, theta: FloatArray
) -> npt.NDArray[np.float64]:
    """Log-likelihood of each response pattern at each grid point.

    ``log L_i(theta_q) = sum_j log P(X_j = x_ij | theta_q)`` over the answered items,
    computed as a one-hot (N, J*K) by (J*K, Q) matrix product in blocks of rows.

    Parameters
    ----------
    responses : ndarray of int64, shape (N, J)
        Validated responses (see :func:`check_responses`).
    params : ItemParams
        Item parameters.
    theta : ndarray, shape (Q,)
        Grid points.

    Returns
    -------
    ndarray, shape (N, Q)
    """
    table = _log_table(theta, params)
    k = params.max_categories
    out = np.empty((responses.shape[0], theta.shape[0]))
    for start in range(0, responses.shape[0], _CHUNK):
        block = responses[start : start + _CHUNK]
        np.matmul(_indicator(block, k), table, out=out[start : start + block.shape[0]])
    return out


def _check_prior(prior_mean: float, prior_sd: float) -> None:
    if not np.isfinite(prior_mean):
        raise ValueError("prior_mean must be finite")
    if not (np.isfinite(prior_sd) and prior_sd > 0):
        raise ValueError("prior_sd must be a positive number")


def eap(
    responses: npt.ArrayLike,
    params: ItemParams,
    *,
    points: int = 61,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
) -> ThetaEstimates:
    """Expected a posteriori trait estimates on a fixed grid.

    With grid points ``theta_q`` equally spaced over ``prior_mean ± 6 prior_sd`` and prior
    weights ``pi_q`` proportional to the normal density,

    .. math:: \\hat\\theta_i = \\frac{\\sum_q \\theta_q\\, \\pi_q L_i(\\theta_q)}
              {\\sum_q \\pi_q L_i(\\theta_q)},

    and the posterior SD is the square root of the posterior variance on the same grid
    (Bock & Mislevy, 1982, *Applied Psychological Measurement* 6(4), 431-444). Work is done
    in log space (max-shifted) in blocks of respondents, so long tests do not underflow.

    Parameters
    ----------
    responses : array_like of int, shape (N, J)
        Category indices, ``-1`` = not asked / missing.
    params : ItemParams
        Item parameters.
    points : int, default 61
        Number of grid points (at least 5).
    prior_mean, prior_sd : float
        Normal prior of the trait.

    Returns
    -------
    ThetaEstimates
        A respondent with no answered item gets the prior mean and SD (up to the grid).
    """
    _check_prior(prior_mean, prior_sd)
    if points < 5:
        raise ValueError("points must be at least 5")
    resp = check_responses(responses, params)
    theta = prior_mean + prior_sd * np.linspace(-6.0, 6.0, points)
    log_prior = -0.5 * ((theta - prior_mean) / prior_sd) ** 2
    table = _log_table(theta, params)
    k = params.max_categories
    n = resp.shape[0]
    mean = np.empty(n)
    sd = np.empty(n)
    for start in range(0, n, _CHUNK):
        block = resp[start : start + _CHUNK]
        logpost = _indicator(block, k) @ table
        logpost += log_prior[None, :]
        logpost -= logpost.max(axis=1, keepdims=True)
        post = np.exp(logpost, out=logpost)
        total = post.sum(axis=1)
        m = (post @ theta) / total
        m2 = (post @ (theta * theta)) / total
        mean[start : start + block.shape[0]] = m
        sd[start : start + block.shape[0]] = np.sqrt(np.maximum(m2 - m * m, 0.0))
    return ThetaEstimates(theta=mean, sd=sd)


def _score_and_information(
    theta: FloatArray, resp: IntArray, params: ItemParams
) -> tuple[FloatArray, FloatArray]:
    """First derivative of the log-likelihood and test information at each respondent's theta."""
    star = cumulative_probabilities(theta, params)  # (n, J, K+1)
    w = star * (1.0 - star)
    prob = star[:, :, :-1] - star[:, :, 1:]
    deriv = params.a[None, :, None] * (w[:, :, :-1] - w[:, :, 1:])
    answered = resp >= 0
    idx = np.where(answered, resp, 0)[:, :, None]
    p_x = np.take_along_axis(prob, idx, axis=2)[:, :, 0]
    dp_x = np.take_along_axis(deriv, idx, axis=2)[:, :, 0]
    score = np.where(answered, dp_x / np.maximum(p_x, _TINY), 0.0).sum(axis=1)
    safe = np.where(prob > _TINY, prob, 1.0)
    info_jk = np.where(prob > _TINY, deriv**2 / safe, 0.0).sum(axis=2)
    info = np.where(answered, info_jk, 0.0).sum(axis=1)
    return score, info


def _boundaries(params: ItemParams) -> FloatArray:
    """Intercepts padded as (J, K+1): +inf before category 0, -inf after the last one."""
    d = np.where(np.isnan(params.d), -np.inf, params.d)
    j = params.n_items
    return np.concatenate([np.full((j, 1), np.inf), d, np.full((j, 1), -np.inf)], axis=1)


def _newton_terms(
    theta: FloatArray, resp: IntArray, params: ItemParams, bounds: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """First and second derivatives of the log-likelihood of the observed categories.

    Only the two boundaries of each observed category are evaluated ((n, J) arrays):
    ``P = F(z_lo) - F(z_hi)``, ``P' = a (W_lo - W_hi)``,
    ``P'' = a^2 (W_lo (1 - 2F_lo) - W_hi (1 - 2F_hi))``; the GRM category probabilities
    are log-concave in theta, so Newton's method on the log-posterior is safe.
    """
    answered = resp >= 0
    idx = np.where(answered, resp, 0)
    cols = np.arange(params.n_items)[None, :]
    az = theta[:, None] * params.a[None, :]
    with np.errstate(over="ignore"):
        f_lo = 1.0 / (1.0 + np.exp(-(az + bounds[cols, idx])))
        f_hi = 1.0 / (1.0 + np.exp(-(az + bounds[cols, idx + 1])))
    w_lo, w_hi = f_lo * (1.0 - f_lo), f_hi * (1.0 - f_hi)
    a = params.a[None, :]
    prob = np.maximum(f_lo - f_hi, _TINY)
    d1 = a * (w_lo - w_hi) / prob
    d2 = a * a * (w_lo * (1.0 - 2.0 * f_lo) - w_hi * (1.0 - 2.0 * f_hi)) / prob - d1 * d1
    return np.where(answered, d1, 0.0).sum(axis=1), np.where(answered, d2, 0.0).sum(axis=1)


def map_estimate(
    responses: npt.ArrayLike,
    params: ItemParams,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    max_iter: int = 50,
    tol: float = 1e-8,
) -> ThetaEstimates:
    """Maximum a posteriori trait estimates by Newton's method.

    Iterates, for all respondents at once and starting from the EAP estimate,

    .. math:: \\theta \\leftarrow \\theta + \\frac{\\sum_j \\partial_\\theta
              \\log P_{j x_j}(\\theta) - (\\theta - \\mu)/\\sigma^2}
              {1/\\sigma^2 - \\sum_j \\partial^2_\\theta \\log P_{j x_j}(\\theta)}

    (steps capped at 1 in absolute value) until every step is below ``tol``; the GRM and
    2PL category probabilities are log-concave in theta, so the log-posterior is strictly
    concave. The standard error is ``1 / sqrt(sum_j I_j + 1/sigma^2)`` with the expected
    (Fisher) item information at the estimate (Baker & Kim, 2004, ch. 7).

    Parameters
    ----------
    responses : array_like of int, shape (N, J)
        Category indices, ``-1`` = not asked / missing.
    params : ItemParams
        Item parameters.
    prior_mean, prior_sd : float
        Normal prior of the trait.
    max_iter : int, default 50
        Iteration limit.
    tol : float, default 1e-8
        Convergence tolerance on the step.

    Returns
    -------
    ThetaEstimates
        ``sd`` holds the standard errors.
    """
    _check_prior(prior_mean, prior_sd)
    resp = check_responses(responses, params)
    start = eap(resp, params, prior_mean=prior_mean, prior_sd=prior_sd).theta
    prec = 1.0 / prior_sd**2
    theta = np.empty(resp.shape[0])
    se = np.empty(resp.shape[0])
    chunk = max(1, _CHUNK // 4)
    bounds = _boundaries(params)
    for lo in range(0, resp.shape[0], chunk):
        block = resp[lo : lo + chunk]
        t = start[lo : lo + chunk].copy()
        active = np.ones(t.shape[0], dtype=bool)
        for _ in range(max_iter):
            if not active.any():
                break
            grad, curv = _newton_terms(t[active], block[active], params, bounds)
            step = (grad - (t[active] - prior_mean) * prec) / (prec - curv)
            step = np.clip(step, -1.0, 1.0)
            t[active] += step
            still = np.abs(step) > tol
            active[np.flatnonzero(active)[~still]] = False
        _, info = _score_and_information(t, block, params)
        theta[lo : lo + chunk] = t
        se[lo : lo + chunk] = 1.0 / np.sqrt(info + prec)
    return ThetaEstimates(theta=theta, sd=se)
