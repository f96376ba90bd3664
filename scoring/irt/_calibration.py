"""Item calibration by marginal maximum likelihood (Bock & Aitkin, 1981).

The trait is integrated out over fixed quadrature points ``theta_q`` on ``[-6, 6]`` with
weights ``pi_q`` proportional to the standard normal density (the scale is fixed by
``theta ~ N(0, 1)``). The marginal log-likelihood of the (weighted) response patterns is

.. math:: \\ell = \\sum_i w_i \\log \\sum_q \\pi_q
   \\prod_{j\\,:\\,x_{ij}\\ne -1} P_{j x_{ij}}(\\theta_q).

EM: the E-step computes the expected counts
``r_jkq = sum_i w_i 1[x_ij = k] pi_q L_i(theta_q) / sum_q' pi_q' L_i(theta_q')``; the
M-step maximises ``sum_q sum_k r_jkq log P_jk(theta_q)`` for every item at once by Fisher
scoring (with step halving), vectorised over items.

Standard errors come from the observed information of the marginal likelihood: the
analytic gradient of ``ell`` (Fisher's identity, Louis 1982, *JRSS B* 44, 226-233: the
gradient of the marginal log-likelihood equals the expected complete-data gradient under
the posterior) is differentiated numerically by forward differences, giving the full
Hessian over all item parameters (not a block-diagonal per-item approximation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ._models import FloatArray, IntArray, ItemParams, ModelName

_TINY = 1e-300


@dataclass(frozen=True, slots=True)
class Calibration:
    """Result of :func:`fit_2pl` or :func:`fit_grm`.

    Attributes
    ----------
    params : ItemParams
        The estimates (slope-intercept form).
    se_a : ndarray, shape (J,)
        Standard errors of the slopes (``NaN`` if not computed or not estimable).
    se_d : ndarray, shape (J, K-1)
        Standard errors of the intercepts, ``NaN`` where ``d`` is padded.
    loglik : float
        Marginal log-likelihood at the estimates.
    iterations : int
        EM iterations used.
    converged : bool
        Whether the largest parameter change fell below the tolerance.
    """

    params: ItemParams
    se_a: FloatArray
    se_d: FloatArray
    loglik: float
    iterations: int
    converged: bool


@dataclass(frozen=True, slots=True)
class _Data:
    indicator: sp.csr_matrix  # (N, J*K) one-hot of the responses
    weights: FloatArray  # (N,)
    n_cat: IntArray  # (J,)
    k: int


def _prepare(
    responses: npt.ArrayLike,
    weights: npt.ArrayLike | None,
    names: tuple[str, ...] | list[str] | None,
    two_pl: bool,
) -> tuple[_Data, IntArray, tuple[str, ...]]:
    raw = np.asarray(responses)
    if raw.ndim != 2 or raw.shape[0] == 0 or raw.shape[1] == 0:
        raise ValueError("responses must be a non-empty 2-D (respondents, items) array")
    if not np.issubdtype(raw.dtype, np.integer):
        as_float = raw.astype(np.float64)
        if not np.all(np.isfinite(as_float)) or np.any(as_float != np.round(as_float)):
            raise ValueError("responses must be integers (category indices, -1 = missing)")
        raw = as_float.astype(np.int64)
    resp = np.asarray(raw, dtype=np.int64)
    j_items = resp.shape[1]
    item_names = (
        tuple(names) if names is not None else tuple(f"item{i + 1}" for i in range(j_items))
    )
    if len(item_names) != j_items:
        raise ValueError(f"{len(item_names)} names for {j_items} items")
    if np.any(resp < -1):
        raise ValueError("responses must be category indices 0..K-1 or -1 for missing")
    if weights is None:
        w = np.ones(resp.shape[0])
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.shape[0] != resp.shape[0]:
            raise ValueError(f"{w.shape[0]} weights for {resp.shape[0]} response rows")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and non-negative")
    keep = w > 0
    resp, w = resp[keep], w[keep]
    # collapse identical patterns into frequencies
    patterns, inverse = np.unique(resp, axis=0, return_inverse=True)
    freq = np.bincount(inverse.reshape(-1), weights=w, minlength=patterns.shape[0])
    n_cat = resp.max(axis=0, initial=-1) + 1
    for j in range(resp.shape[1]):
        col = resp[:, j]
        counts = np.bincount(col[col >= 0], minlength=int(n_cat[j]))
        if n_cat[j] < 2 or np.count_nonzero(counts) < 2:
            raise ValueError(f"item {item_names[j]!r} has fewer than 2 observed categories")
        if np.any(counts == 0):
            missing = int(np.flatnonzero(counts == 0)[0])
            raise ValueError(
                f"item {item_names[j]!r} has no response in category {missing}; recode the "
                "categories "
                "to consecutive indices 0..K-1"
            )
        if two_pl and n_cat[j] != 2:
            raise ValueError(
                f"item {item_names[j]!r} has {int(n_cat[j])} categories; the 2PL needs 0/1 items"
            )
    k = int(n_cat.max())
    rows, cols = np.nonzero(patterns >= 0)
    ind = sp.csr_matrix(
        (np.ones(rows.shape[0]), (rows, cols * k + patterns[rows, cols])),
        shape=(patterns.shape[0], patterns.shape[1] * k),
    )
    data = _Data(ind, np.asarray(freq, dtype=np.float64), n_cat.astype(np.int64), k)
    return data, resp, item_names


def _nodes(points: int) -> tuple[FloatArray, FloatArray]:
    theta = np.linspace(-6.0, 6.0, points)
    prior = np.exp(-0.5 * theta**2)
    return theta, prior / prior.sum()


def _params(a: FloatArray, d: FloatArray, names: tuple[str, ...], model: ModelName) -> ItemParams:
    return ItemParams(names=names, a=a.copy(), d=d.copy(), model=model)


def _estep(
    data: _Data, a: FloatArray, d: FloatArray, theta: FloatArray, log_prior: FloatArray
) -> tuple[FloatArray, float]:
    """Expected counts r (J, K, Q) and the marginal log-likelihood."""
    prob = _category_probs(theta, a, d)  # (Q, J, K)
    real = np.arange(data.k)[None, :] < data.n_cat[:, None]
    logp = np.where(real[None], np.log(np.maximum(prob, _TINY)), 0.0)
    table = logp.reshape(theta.shape[0], -1).T  # (J*K, Q)
    ll = np.asarray(data.indicator @ table) + log_prior[None, :]
    top = ll.max(axis=1, keepdims=True)
    post = np.exp(ll - top)
    total = post.sum(axis=1, keepdims=True)
    post /= total
    loglik = float(data.weights @ (np.log(total[:, 0]) + top[:, 0]))
    r = np.asarray(data.indicator.T @ (post * data.weights[:, None]))
    return r.reshape(a.shape[0], data.k, theta.shape[0]), loglik


def _category_probs(theta: FloatArray, a: FloatArray, d: FloatArray) -> FloatArray:
    star = _star(theta, a, d)
    return np.asarray(np.clip(star[:, :, :-1] - star[:, :, 1:], 0.0, 1.0), dtype=np.float64)


def _star(theta: FloatArray, a: FloatArray, d: FloatArray) -> FloatArray:
    z = theta[:, None, None] * a[None, :, None] + d[None, :, :]
    with np.errstate(over="ignore", invalid="ignore"):
        inner = 1.0 / (1.0 + np.exp(-z))
    inner = np.where(np.isnan(inner), 0.0, inner)
    q, j = theta.shape[0], a.shape[0]
    return np.concatenate([np.ones((q, j, 1)), inner, np.zeros((q, j, 1))], axis=2)


def _item_terms(theta: FloatArray, a: FloatArray, d: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Category probabilities (Q, J, K) and their derivatives (Q, J, K, K) w.r.t. (a, d_1..)."""
    star = _star(theta, a, d)
    w = star * (1.0 - star)
    prob = np.clip(star[:, :, :-1] - star[:, :, 1:], 0.0, 1.0)
    q, j, k = prob.shape
    deriv = np.zeros((q, j, k, k))
    deriv[..., 0] = theta[:, None, None] * (w[:, :, :-1] - w[:, :, 1:])
    for m in range(1, k):
        # P_k depends on d_m through +W_m (k = m) and -W_m (k = m - 1)
        deriv[:, :, m, m] = w[:, :, m]
        deriv[:, :, m - 1, m] = -w[:, :, m]
    return prob, deriv


def _objective(r: FloatArray, theta: FloatArray, a: FloatArray, d: FloatArray) -> FloatArray:
    prob = _category_probs(theta, a, d)  # (Q, J, K)
    logp = np.log(np.maximum(prob, _TINY))
    return np.asarray(np.einsum("jkq,qjk->j", r, logp), dtype=np.float64)


def _gradient_info(
    r: FloatArray, theta: FloatArray, a: FloatArray, d: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-item gradient (J, K) and expected information (J, K, K) of the M-step objective."""
    prob, deriv = _item_terms(theta, a, d)
    safe = np.maximum(prob, _TINY)
    live = prob > _TINY
    ratio = np.where(live, 1.0 / safe, 0.0)  # (Q, J, K)
    rq = np.transpose(r, (2, 0, 1))  # (Q, J, K)
    grad = np.einsum("qjk,qjkp->jp", rq * ratio, deriv)
    n_q = rq.sum(axis=2)  # (Q, J)
    info = np.einsum("qj,qjk,qjkp,qjks->jps", n_q, ratio, deriv, deriv)
    return grad, info


def _mstep(
    *,
    r: FloatArray,
    theta: FloatArray,
    a: FloatArray,
    d: FloatArray,
    free: npt.NDArray[np.bool_],
    steps: int,
) -> tuple[FloatArray, FloatArray]:
    j, k = a.shape[0], d.shape[1] + 1
    eye = np.eye(k)[None]
    for _ in range(steps):
        grad, info = _gradient_info(r, theta, a, d)
        grad = np.where(free, grad, 0.0)
        fixed = ~free
        info = np.where(free[:, :, None] & free[:, None, :], info, 0.0) + eye * fixed[:, :, None]
        try:
            delta = np.linalg.solve(info, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            delta = grad * 0.01
        norm = np.abs(delta).max(axis=1, keepdims=True)
        delta = np.where(norm > 1.0, delta / np.maximum(norm, _TINY), delta)
        base = _objective(r, theta, a, d)
        scale = np.ones(j)
        new_a, new_d = a, d
        for _half in range(20):
            cand_a = a + scale * delta[:, 0]
            cand_d = d + scale[:, None] * delta[:, 1:]
            with np.errstate(invalid="ignore"):
                ordered = ~np.any(np.diff(cand_d, axis=1) >= 0, axis=1)
            better = ordered & (_objective(r, theta, cand_a, cand_d) >= base - 1e-12)
            new_a = np.where(better, cand_a, new_a)
            new_d = np.where(better[:, None], cand_d, new_d)
            if better.all():
                break
            scale = np.where(better, 0.0, scale * 0.5)
            delta = np.where(better[:, None], 0.0, delta)
        a, d = new_a, new_d
    return a, d


def _start_values(data: _Data, resp: IntArray) -> tuple[FloatArray, FloatArray]:
    j, k = resp.shape[1], data.k
    d = np.full((j, k - 1), np.nan)
    for col in range(j):
        x = resp[:, col]
        x = x[x >= 0]
        for m in range(1, int(data.n_cat[col])):
            p = np.clip(np.mean(x >= m), 0.01, 0.99)
            d[col, m - 1] = np.log(p / (1.0 - p)) * 1.2
        # keep strictly decreasing
        row = d[col, : int(data.n_cat[col]) - 1]
        for m in range(1, row.shape[0]):
            row[m] = min(row[m], row[m - 1] - 0.05)
    return np.ones(j), d


def _gradient(
    data: _Data, theta: FloatArray, log_prior: FloatArray, a: FloatArray, d: FloatArray
) -> FloatArray:
    r, _ = _estep(data, a, d, theta, log_prior)
    grad, _info = _gradient_info(r, theta, a, d)
    return grad


def _standard_errors(
    *,
    data: _Data,
    theta: FloatArray,
    log_prior: FloatArray,
    a: FloatArray,
    d: FloatArray,
    free: npt.NDArray[np.bool_],
) -> tuple[FloatArray, FloatArray]:
    positions = np.argwhere(free)  # (P, 2): item, parameter index
    p = positions.shape[0]
    hess = np.zeros((p, p))
    base = _gradient(data, theta, log_prior, a, d)[free]
    for col, (item, par) in enumerate(positions):
        # forward differences of the analytic gradient: P + 1 E-steps in all
        h = 1e-5 * max(1.0, abs(a[item] if par == 0 else d[item, par - 1]))
        a2, d2 = a.copy(), d.copy()
        if par == 0:
            a2[item] += h
        else:
            d2[item, par - 1] += h
        hess[:, col] = (_gradient(data, theta, log_prior, a2, d2)[free] - base) / h
    hess = 0.5 * (hess + hess.T)
    se_flat = np.full(p, np.nan)
    try:
        cov = np.linalg.inv(-hess)
        diag = np.diag(cov)
        se_flat = np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)
    except np.linalg.LinAlgError:
        pass
    se = np.full(free.shape, np.nan)
    se[free] = se_flat
    return se[:, 0], se[:, 1:]


def _fit(
    responses: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None,
    names: tuple[str, ...] | list[str] | None,
    model: ModelName,
    points: int,
    max_iter: int,
    tol: float,
    standard_errors: bool,
) -> Calibration:
    if points < 11:
        raise ValueError("points must be at least 11")
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    data, resp, item_names = _prepare(responses, weights, names, two_pl=model == "2pl")
    j = resp.shape[1]
    if data.weights.sum() <= 0:
        raise ValueError("the weights sum to zero")
    theta, prior = _nodes(points)
    log_prior = np.log(prior)
    a, d = _start_values(data, resp)
    free = np.concatenate([np.ones((j, 1), dtype=bool), ~np.isnan(d)], axis=1)
    d = np.where(np.isnan(d), -np.inf, d)  # padded boundaries: P* = 0

    def em_step(a: FloatArray, d: FloatArray) -> tuple[FloatArray, FloatArray, float]:
        """One EM cycle from (a, d); also returns the log-likelihood at (a, d)."""
        r, ll = _estep(data, a, d, theta, log_prior)
        new_a, new_d = _mstep(r=r, theta=theta, a=a, d=d, free=free, steps=3)
        return new_a, new_d, ll

    def fd(d: FloatArray) -> FloatArray:
        """The free intercepts, 0 where padded (-inf), so differences stay finite."""
        return np.where(free[:, 1:], d, 0.0)

    def change(a0: FloatArray, d0: FloatArray, a1: FloatArray, d1: FloatArray) -> float:
        return max(
            float(np.max(np.abs(a1 - a0))),
            float(np.max(np.abs(fd(d1) - fd(d0)))),
        )

    # SQUAREM acceleration of EM (Varadhan & Roland, 2008, Scand J Stat 35, 335-353):
    # two EM cycles, a squared extrapolation along them, one stabilising EM cycle; the
    # extrapolation is dropped when it leaves the parameter space or lowers the likelihood.
    converged = False
    iterations = 0
    while iterations < max_iter:
        a1, d1, _ = em_step(a, d)
        iterations += 1
        converged = change(a, d, a1, d1) < tol
        if converged or iterations >= max_iter:
            a, d = a1, d1
            break
        a2, d2, ll1 = em_step(a1, d1)
        iterations += 1
        step_a, step_d = a1 - a, fd(d1) - fd(d)
        curv_a = a2 - a1 - step_a
        curv_d = fd(d2) - fd(d1) - step_d
        norm_r = np.sqrt(np.sum(step_a**2) + np.sum(step_d**2))
        norm_v = np.sqrt(np.sum(curv_a**2) + np.sum(curv_d**2))
        alpha = -norm_r / norm_v if norm_v > 0 else -1.0
        alpha = min(alpha, -1.0)
        ext_a = a - 2 * alpha * step_a + alpha**2 * curv_a
        ext_d = np.where(free[:, 1:], fd(d) - 2 * alpha * step_d + alpha**2 * curv_d, d)
        with np.errstate(invalid="ignore"):
            valid = (
                bool(np.all(np.isfinite(ext_a)))
                and bool(np.all(np.abs(ext_a) < 50))
                and not bool(np.any(np.diff(ext_d, axis=1) >= 0))
            )
        accepted = False
        if valid and alpha < -1.0 and iterations < max_iter:
            new_a, new_d, ll_ext = em_step(ext_a, ext_d)
            iterations += 1
            if np.isfinite(ll_ext) and ll_ext >= ll1:
                accepted = True
                last = change(ext_a, ext_d, new_a, new_d)
                a, d = new_a, new_d
        if not accepted:
            last = change(a1, d1, a2, d2)
            a, d = a2, d2
        if last < tol:
            converged = True
            break
    _, loglik = _estep(data, a, d, theta, log_prior)
    if standard_errors:
        se_a, se_d = _standard_errors(
            data=data, theta=theta, log_prior=log_prior, a=a, d=d, free=free
        )
    else:
        se_a, se_d = np.full(j, np.nan), np.full(d.shape, np.nan)
    d_out = np.where(free[:, 1:], d, np.nan)
    return Calibration(
        params=_params(a, d_out, item_names, model),
        se_a=se_a,
        se_d=np.where(free[:, 1:], se_d, np.nan),
        loglik=loglik,
        iterations=iterations,
        converged=converged,
    )


def fit_2pl(
    responses: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    names: tuple[str, ...] | list[str] | None = None,
    points: int = 61,
    max_iter: int = 2000,
    tol: float = 1e-6,
    standard_errors: bool = True,
) -> Calibration:
    """Fit the two-parameter logistic model by marginal maximum likelihood (EM).

    ``logit P(X_j = 1 | theta) = a_j theta + d_j`` with ``theta ~ N(0, 1)``; estimation as
    in Bock & Aitkin (1981), *Psychometrika* 46, 443-459 (see the module docstring).

    Parameters
    ----------
    responses : array_like of int, shape (N, J)
        0/1 responses, ``-1`` = missing. Rows may be distinct patterns with ``weights``.
    weights : array_like, shape (N,), optional
        Frequency of each row (for pattern-frequency tables); default 1 each.
    names : sequence of str, optional
        Item names; default ``item1..itemJ``.
    points : int, default 61
        Quadrature points on ``[-6, 6]``.
    max_iter : int, default 2000
        EM iteration limit.
    tol : float, default 1e-6
        Convergence when the largest parameter change of an EM cycle is below ``tol``.
    standard_errors : bool, default True
        Compute standard errors (observed information, numerical Hessian of the gradient).

    Returns
    -------
    Calibration
    """
    return _fit(
        responses,
        weights=weights,
        names=names,
        model="2pl",
        points=points,
        max_iter=max_iter,
        tol=tol,
        standard_errors=standard_errors,
    )


def fit_grm(
    responses: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    names: tuple[str, ...] | list[str] | None = None,
    points: int = 61,
    max_iter: int = 2000,
    tol: float = 1e-6,
    standard_errors: bool = True,
) -> Calibration:
    """Fit Samejima's graded response model by marginal maximum likelihood (EM).

    ``logit P(X_j >= k | theta) = a_j theta + d_jk`` with ``theta ~ N(0, 1)``; estimation
    as in Bock & Aitkin (1981), *Psychometrika* 46, 443-459 (see the module docstring).
    Items may have different numbers of categories; every category ``0..K_j-1`` of an item
    must be observed at least once.

    Parameters
    ----------
    responses : array_like of int, shape (N, J)
        Category indices ``0..K_j-1``, ``-1`` = missing.
    weights : array_like, shape (N,), optional
        Frequency of each row; default 1 each.
    names : sequence of str, optional
        Item names; default ``item1..itemJ``.
    points : int, default 61
        Quadrature points on ``[-6, 6]``.
    max_iter : int, default 2000
        EM iteration limit.
    tol : float, default 1e-6
        Convergence when the largest parameter change of an EM cycle is below ``tol``.
    standard_errors : bool, default True
        Compute standard errors (observed information, numerical Hessian of the gradient).

    Returns
    -------
    Calibration
    """
    return _fit(
        responses,
        weights=weights,
        names=names,
        model="grm",
        points=points,
        max_iter=max_iter,
        tol=tol,
        standard_errors=standard_errors,
    )
