"""Reliability and classical item analysis of a respondents × items score matrix (pure numpy/scipy).

Cronbach's α with the Feldt F-distribution confidence interval, McDonald's ω total from a
one-factor model fitted by minimum residual (minres, the default of R ``psych::fa`` and
``psych::omega``), corrected item–total correlations, α if an item is deleted, floor and ceiling
rates per item and of the total, and missingness per item.

Missing values (``NaN``) are handled **pairwise** by default, as R ``psych::alpha``
(``use="pairwise"``) and pingouin's ``cronbach_alpha`` (``nan_policy="pairwise"``) do: every
covariance uses the respondents who answered both items. ``missing="listwise"`` keeps only the
respondents who answered every item (``psych::alpha(x, use="complete.obs")``).

The reference values the tests check against are produced by
``scripts/reference/reliability_reference.R`` (R psych) and ``reliability_reference.py``
(pingouin) into ``tests/scoring/data/reliability_reference.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, stats

Missing = Literal["pairwise", "listwise"]


@dataclass(frozen=True, slots=True)
class AlphaResult:
    """Cronbach's α and its confidence interval.

    Attributes
    ----------
    alpha : float
        Raw (covariance-based) coefficient α.
    ci_low, ci_high : float
        The Feldt confidence interval at level ``level``.
    level : float
        Confidence level, e.g. 0.95.
    n : int
        Respondents used for the interval's degrees of freedom.
    k : int
        Number of items.
    """

    alpha: float
    ci_low: float
    ci_high: float
    level: float
    n: int
    k: int


@dataclass(frozen=True, slots=True)
class OmegaResult:
    """McDonald's ω from a one-factor model fitted to the correlation matrix.

    Attributes
    ----------
    omega : float
        ω total from the model: ``(Σλ)² / ((Σλ)² + Σψ)``.
    omega_psych : float
        ω total as R ``psych::omega(r, nfactors=1)`` reports it (``omega.tot``):
        ``1 - Σψ / Σ R`` with ``R`` the (key-flipped) observed correlation matrix.
    loadings : numpy.ndarray
        ``(J,)`` standardized loadings λ (signs as fitted: the larger part positive).
    uniquenesses : numpy.ndarray
        ``(J,)`` ψ = 1 − λ².
    """

    omega: float
    omega_psych: float
    loadings: np.ndarray
    uniquenesses: np.ndarray


@dataclass(frozen=True, slots=True)
class ItemStatistics:
    """Classical statistics of one item.

    Attributes
    ----------
    name : str
        Item name.
    n : int
        Respondents who answered the item.
    mean, sd : float
        Mean and sample standard deviation (ddof 1) of the answered values.
    r_drop : float
        Corrected item–total correlation: the item with the sum of the *other* items.
    alpha_if_deleted : float
        Raw α of the remaining items.
    missing : float
        Share of respondents who left the item unanswered.
    floor, ceiling : float
        Share of the item's answers at the lowest / highest possible value.
    """

    name: str
    n: int
    mean: float
    sd: float
    r_drop: float
    alpha_if_deleted: float
    missing: float
    floor: float
    ceiling: float


@dataclass(frozen=True, slots=True)
class ReliabilityReport:
    """Reliability and item analysis of one instrument's answers.

    Attributes
    ----------
    n : int
        Respondents (rows).
    n_complete : int
        Respondents who answered every item.
    alpha : AlphaResult
    omega : OmegaResult or None
        ``None`` when the one-factor model cannot be fitted (fewer than 3 items, or an item
        with no variance).
    items : tuple of ItemStatistics
    total_floor, total_ceiling : float
        Share of complete respondents whose total is the lowest / highest possible total.
    missing : {"pairwise", "listwise"}
        How missing answers were handled.
    """

    n: int
    n_complete: int
    alpha: AlphaResult
    omega: OmegaResult | None
    items: tuple[ItemStatistics, ...]
    total_floor: float
    total_ceiling: float
    missing: Missing


def _matrix(data: np.ndarray | list[list[float]], missing: Missing) -> np.ndarray:
    x = np.asarray(data, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"data must be a 2-D respondents × items array (got {x.ndim}-D)")
    if x.shape[1] < 2:
        raise ValueError(f"at least two items are needed (got {x.shape[1]})")
    if missing not in ("pairwise", "listwise"):
        raise ValueError(f"missing must be 'pairwise' or 'listwise' (got {missing!r})")
    if np.isinf(x).any():
        raise ValueError("data holds an infinite value")
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    if x.shape[0] < 2:
        raise ValueError(f"at least two respondents are needed (got {x.shape[0]})")
    return x


def pairwise_covariance(x: np.ndarray) -> np.ndarray:
    """Sample covariance matrix (ddof 1), each entry over the rows where both columns are
    present (``pandas.DataFrame.cov`` and R ``cov(use="pairwise")``).

    Parameters
    ----------
    x : numpy.ndarray
        ``(N, J)`` with ``NaN`` for missing.

    Returns
    -------
    numpy.ndarray
        ``(J, J)``; ``NaN`` where a pair has fewer than two joint observations.
    """
    present = ~np.isnan(x)
    if present.all():
        return np.atleast_2d(np.cov(x, rowvar=False, ddof=1))
    j = x.shape[1]
    out = np.full((j, j), np.nan)
    for a in range(j):
        for b in range(a, j):
            both = present[:, a] & present[:, b]
            m = int(both.sum())
            if m >= 2:
                xa, xb = x[both, a], x[both, b]
                c = float(((xa - xa.mean()) * (xb - xb.mean())).sum() / (m - 1))
                out[a, b] = out[b, a] = c
    return out


def pairwise_correlation(x: np.ndarray) -> np.ndarray:
    """Pearson correlations, each over the rows where both columns are present (R
    ``cor(x, use="pairwise")``: the pair's own means and standard deviations).

    Parameters
    ----------
    x : numpy.ndarray
        ``(N, J)`` with ``NaN`` for missing.

    Returns
    -------
    numpy.ndarray
        ``(J, J)``; ``NaN`` where a pair has fewer than two joint observations or no variance.
    """
    present = ~np.isnan(x)
    j = x.shape[1]
    out = np.eye(j)
    for a in range(j):
        for b in range(a + 1, j):
            both = present[:, a] & present[:, b]
            if int(both.sum()) < 2:
                out[a, b] = out[b, a] = np.nan
                continue
            xa = x[both, a] - x[both, a].mean()
            xb = x[both, b] - x[both, b].mean()
            den = float(np.sqrt((xa * xa).sum() * (xb * xb).sum()))
            out[a, b] = out[b, a] = float((xa * xb).sum()) / den if den > 0 else np.nan
    return out


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    return float(k / (k - 1) * (1.0 - np.trace(c) / c.sum()))


def cronbach_alpha(
    data: np.ndarray | list[list[float]],
    *,
    level: float = 0.95,
    missing: Missing = "pairwise",
) -> AlphaResult:
    """Cronbach's α with the Feldt (1965) F-distribution confidence interval.

    Parameters
    ----------
    data : array_like
        ``(N, k)`` item scores, ``NaN`` for missing.
    level : float, default 0.95
        Confidence level of the interval.
    missing : {"pairwise", "listwise"}, default "pairwise"
        See the module docstring.

    Returns
    -------
    AlphaResult

    Raises
    ------
    ValueError
        Fewer than two items or respondents, a level outside (0, 1), an item pair never
        answered together, or a zero total variance.

    Notes
    -----
    With ``C`` the ``k × k`` sample covariance matrix of the items (Cronbach 1951,
    *Psychometrika* 16:297–334):

    .. math:: \\alpha = \\frac{k}{k-1}\\Bigl(1 - \\frac{\\operatorname{tr} C}{\\mathbf 1^\\top C
              \\mathbf 1}\\Bigr)

    Confidence interval (Feldt 1965, *Psychometrika* 30:357–370; Feldt, Woodruff & Salih 1987,
    *Applied Psychological Measurement* 11:93–103): ``(1 - α̂)/(1 - α)`` follows
    ``F(n - 1, (n - 1)(k - 1))``, so with ``F_q`` its upper-``q`` quantile

    .. math:: \\bigl[\\,1 - (1-\\hat\\alpha) F_{(1-L)/2},\\;
              1 - (1-\\hat\\alpha) F_{(1+L)/2}\\,\\bigr].

    This is pingouin's ``cronbach_alpha`` (which rounds the interval to 3 decimals; here it is
    not rounded). ``n`` is every respondent for pairwise handling (as pingouin), the complete
    respondents for listwise.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    x = _matrix(data, missing)
    n, k = x.shape
    c = pairwise_covariance(x)
    if np.isnan(c).any():
        raise ValueError("some pair of items was never answered together by two respondents")
    if c.sum() <= 0.0:
        raise ValueError("the total score has no variance: α is undefined")
    a = _alpha_from_cov(c)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - a) * float(stats.f.isf((1.0 - level) / 2.0, df1, df2))
    high = 1.0 - (1.0 - a) * float(stats.f.isf((1.0 + level) / 2.0, df1, df2))
    return AlphaResult(alpha=a, ci_low=low, ci_high=high, level=level, n=n, k=k)


def fit_one_factor(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit a one-factor model to a correlation matrix by minimum residual (minres / ULS).

    Parameters
    ----------
    r : numpy.ndarray
        ``(J, J)`` correlation matrix, ``J >= 3``.

    Returns
    -------
    loadings, uniquenesses : numpy.ndarray
        ``(J,)`` each; ``ψ = 1 − λ²``. The sign is chosen so that the loadings sum ≥ 0.

    Notes
    -----
    Minimises the sum of squared off-diagonal residuals
    ``Σ_{i<j} (r_ij − λ_i λ_j)²`` (Harman & Jones 1966, *Psychometrika* 31:351–368), the
    criterion of R ``psych::fa(fm="minres")`` (Revelle, *psych* manual, ``fa``), from the
    principal-axis start ``λ = √e₁ v₁`` of ``R`` with squared multiple correlations on the
    diagonal. Loadings are bounded to ``[-1, 1]`` (no Heywood case).
    """
    j = r.shape[0]
    if j < 3:
        raise ValueError(f"a one-factor model needs at least 3 items (got {j})")
    try:
        smc = 1.0 - 1.0 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        smc = np.full(j, 0.5)
    reduced = r.copy()
    np.fill_diagonal(reduced, np.clip(smc, 0.0, 1.0))
    vals, vecs = np.linalg.eigh(reduced)
    start = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
    iu = np.triu_indices(j, 1)
    target = r[iu]

    def residuals(lam: np.ndarray) -> np.ndarray:
        out: np.ndarray = target - np.outer(lam, lam)[iu]
        return out

    def jacobian(lam: np.ndarray) -> np.ndarray:
        jac = np.zeros((len(target), j))
        rows = np.arange(len(target))
        jac[rows, iu[0]] = -lam[iu[1]]
        jac[rows, iu[1]] = -lam[iu[0]]
        return jac

    fit = optimize.least_squares(
        residuals,
        np.clip(start, -0.999, 0.999),
        jac=jacobian,
        bounds=(-1.0, 1.0),
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
    )
    lam = np.asarray(fit.x, dtype=float)
    if lam.sum() < 0:
        lam = -lam
    return lam, 1.0 - lam**2


def mcdonald_omega(
    data: np.ndarray | list[list[float]], *, missing: Missing = "pairwise"
) -> OmegaResult:
    """McDonald's ω total from a one-factor minres model of the item correlations.

    Parameters
    ----------
    data : array_like
        ``(N, J)`` item scores, ``NaN`` for missing; ``J >= 3``.
    missing : {"pairwise", "listwise"}, default "pairwise"
        How the correlation matrix is computed (``psych::omega`` uses pairwise-complete
        Pearson correlations, :func:`pairwise_correlation`).

    Returns
    -------
    OmegaResult

    Notes
    -----
    With standardized loadings λ and uniquenesses ψ = 1 − λ² of the one-factor model
    (McDonald 1999, *Test Theory: A Unified Treatment*, eq. 6.20b):

    .. math:: \\omega = \\frac{(\\sum_i \\lambda_i)^2}{(\\sum_i \\lambda_i)^2 + \\sum_i \\psi_i}

    R ``psych::omega(x, nfactors=1)`` reports ``omega.tot = 1 − Σψ / Σ_ij R_ij`` instead, the
    denominator being the observed variance of the standardized total (after reversing the
    items that load negatively); it equals ω when the model reproduces ``R`` exactly. Both are
    returned; the tests match both against psych to 1e-3.
    """
    x = _matrix(data, missing)
    sd = np.array([np.std(c[~np.isnan(c)]) if (~np.isnan(c)).any() else 0.0 for c in x.T])
    if (~(sd > 0)).any():
        raise ValueError("an item has no variance")
    r = pairwise_correlation(x)
    if np.isnan(r).any():
        raise ValueError("some pair of items was never answered together with variance")
    lam, psi = fit_one_factor(r)
    s = lam.sum()
    omega = float(s**2 / (s**2 + psi.sum()))
    flip = np.where(lam < 0, -1.0, 1.0)
    omega_psych = float(1.0 - psi.sum() / (r * np.outer(flip, flip)).sum())
    return OmegaResult(omega=omega, omega_psych=omega_psych, loadings=lam, uniquenesses=psi)


def _range(x: np.ndarray, bound: np.ndarray | float | None, use_max: bool) -> np.ndarray:
    """Each column's declared bound, or its observed extreme (NaN for an unanswered column)."""
    if bound is None:
        out = np.full(x.shape[1], np.nan)
        for j in range(x.shape[1]):
            seen = x[~np.isnan(x[:, j]), j]
            if seen.size:
                out[j] = seen.max() if use_max else seen.min()
        return out
    declared: np.ndarray = np.broadcast_to(np.asarray(bound, dtype=float), (x.shape[1],)).copy()
    return declared


def item_analysis(
    data: np.ndarray | list[list[float]],
    *,
    names: tuple[str, ...] | list[str] | None = None,
    low: np.ndarray | float | None = None,
    high: np.ndarray | float | None = None,
    level: float = 0.95,
    missing: Missing = "pairwise",
) -> ReliabilityReport:
    """α (with CI), ω, and the classical statistics of every item.

    Parameters
    ----------
    data : array_like
        ``(N, J)`` item scores, ``NaN`` for missing.
    names : sequence of str, optional
        Item names (default ``item1``…).
    low, high : float or array_like, optional
        The lowest / highest *possible* value of each item (the response scale), for the floor
        and ceiling rates; default the lowest / highest value observed.
    level : float, default 0.95
        Confidence level of α's interval.
    missing : {"pairwise", "listwise"}, default "pairwise"

    Returns
    -------
    ReliabilityReport

    Notes
    -----
    The corrected item–total correlation of item ``i`` is computed from the covariance matrix
    ``C`` (so pairwise handling carries over), as R ``psych::alpha``'s ``r.drop``:

    .. math:: r_{i,\\text{drop}} = \\frac{\\sum_{j\\ne i} C_{ij}}
              {\\sqrt{C_{ii}\\,\\sum_{j\\ne i}\\sum_{l\\ne i} C_{jl}}}

    α if deleted is α of ``C`` without row and column ``i`` (``psych::alpha``'s
    ``alpha.drop$raw_alpha``). Floor/ceiling (Terwee et al. 2007, *J Clin Epidemiol*
    60:34–42): the share of answers at the scale's lowest/highest value; for the total, of the
    complete respondents at the lowest/highest possible total. Missingness is computed on the
    data as given (before any listwise deletion).
    """
    raw = np.asarray(data, dtype=float)
    x = _matrix(raw, missing)
    j = raw.shape[1]
    labels = tuple(names) if names is not None else tuple(f"item{i + 1}" for i in range(j))
    if len(labels) != j:
        raise ValueError(f"{len(labels)} names for {j} items")
    alpha = cronbach_alpha(x, level=level, missing="pairwise")
    c = pairwise_covariance(x)
    try:
        omega: OmegaResult | None = mcdonald_omega(x) if j >= 3 else None
    except ValueError:
        omega = None
    lo, hi = _range(raw, low, use_max=False), _range(raw, high, use_max=True)
    present = ~np.isnan(x)
    items = []
    for i in range(j):
        keep = [m for m in range(j) if m != i]
        rest = c[np.ix_(keep, keep)]
        rest_var = float(rest.sum())
        denominator = float(np.sqrt(max(c[i, i] * rest_var, 0.0)))
        # an item nobody varies on (e.g. a crisis item all answered "no") has no r.drop
        r_drop = float(c[i, keep].sum()) / denominator if denominator > 0 else float("nan")
        a_drop = _alpha_from_cov(rest) if len(keep) >= 2 else float("nan")
        col = x[present[:, i], i]
        items.append(
            ItemStatistics(
                name=labels[i],
                n=int(col.size),
                mean=float(col.mean()) if col.size else float("nan"),
                sd=float(col.std(ddof=1)) if col.size > 1 else float("nan"),
                r_drop=r_drop,
                alpha_if_deleted=a_drop,
                missing=float(np.isnan(raw[:, i]).mean()),
                floor=float((col == lo[i]).mean()) if col.size else float("nan"),
                ceiling=float((col == hi[i]).mean()) if col.size else float("nan"),
            )
        )
    complete = x[present.all(axis=1)]
    totals = complete.sum(axis=1)
    return ReliabilityReport(
        n=int(x.shape[0]),
        n_complete=int(complete.shape[0]),
        alpha=alpha,
        omega=omega,
        items=tuple(items),
        total_floor=float((totals == lo.sum()).mean()) if totals.size else float("nan"),
        total_ceiling=float((totals == hi.sum()).mean()) if totals.size else float("nan"),
        missing=missing,
    )
