"""Differential item functioning (DIF) between two groups by Mantel–Haenszel methods (pure).

Respondents are matched on the **total score including the studied item** (Holland & Thayer
1988, who show the studied item belongs in the matching criterion for the MH procedure to be
unbiased under the Rasch model; Zwick 2012, ETS RR-12-08, sec. 2). Only respondents who answered
every item of the instrument take part (listwise). In Runxin the groups are girls and boys;
which group is "reference" and which is "focal" is only a sign convention, stated in the
result.

- Binary items: the Mantel–Haenszel common odds ratio α_MH, the MH χ² with continuity
  correction, the ETS delta ΔMH = −2.35 ln α_MH with the Robins–Breslow–Greenland standard
  error, and the ETS A/B/C category (Holland & Thayer 1988; Zwick 2012).
- Ordered items: Mantel's (1963) test for ordered responses (one degree of freedom) and the
  standardized mean difference SMD of Dorans & Schmitt (1991), with the ETS AA/BB/CC
  categories of Zwick, Thayer & Mazzeo (1997) on the effect size SMD / SD(item).

The reference values for the binary statistics come from R ``stats::mantelhaen.test`` and
statsmodels' ``StratifiedTable`` (``scripts/reference/reliability_reference.{R,py}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Category = Literal["A", "B", "C", "AA", "BB", "CC"]

_Z95 = float(stats.norm.isf(0.05))  # one-sided 5 %: 1.645


@dataclass(frozen=True, slots=True)
class BinaryDif:
    """Mantel–Haenszel DIF statistics of one binary item.

    Attributes
    ----------
    odds_ratio : float
        α_MH: the common odds of answering 1 for the reference group over the focal group,
        matched on the total score (> 1: the item favours the reference group).
    chi2 : float
        MH χ² with continuity correction (1 df).
    p_value : float
        Its upper-tail probability.
    delta : float
        ΔMH = −2.35 ln α_MH (ETS delta scale; negative: the item favours the reference group).
    delta_se : float
        Standard error of ΔMH (2.35 × the Robins–Breslow–Greenland SE of ln α_MH).
    category : {"A", "B", "C"}
        ETS classification.
    strata : int
        Score levels that contributed (both groups present, at least two respondents).
    """

    odds_ratio: float
    chi2: float
    p_value: float
    delta: float
    delta_se: float
    category: Category
    strata: int


@dataclass(frozen=True, slots=True)
class OrdinalDif:
    """Mantel (1963) test and standardized mean difference of one ordered item.

    Attributes
    ----------
    chi2 : float
        Mantel's χ² (1 df), no continuity correction.
    p_value : float
    smd : float
        Σ_k w_Fk (m_Fk − m_Rk): focal minus reference mean item score, weighted by the focal
        group's distribution over score levels (negative: the focal group scores lower).
    effect_size : float
        SMD divided by the item's standard deviation in both groups together.
    category : {"AA", "BB", "CC"}
        AA: p ≥ 0.05 or |ES| ≤ 0.17; CC: p < 0.05 and |ES| > 0.25; BB otherwise.
    strata : int
    """

    chi2: float
    p_value: float
    smd: float
    effect_size: float
    category: Category
    strata: int


def _inputs(
    item: np.ndarray, focal: np.ndarray, matching: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(item, dtype=float)
    g = np.asarray(focal)
    s = np.asarray(matching, dtype=float)
    if not (y.ndim == g.ndim == s.ndim == 1) or not (len(y) == len(g) == len(s)):
        raise ValueError("item, focal and matching must be 1-D arrays of the same length")
    if g.dtype != bool:
        raise ValueError("focal must be a boolean array (True for the focal group)")
    if np.isnan(y).any() or np.isnan(s).any():
        raise ValueError("item and matching scores must not be missing (use complete cases)")
    if g.all() or not g.any():
        raise ValueError("both groups must have respondents")
    return y, g, s


def mantel_haenszel(item: np.ndarray, focal: np.ndarray, matching: np.ndarray) -> BinaryDif:
    """Mantel–Haenszel DIF of a binary item.

    Parameters
    ----------
    item : array_like
        ``(N,)`` 0/1 answers.
    focal : array_like of bool
        ``(N,)`` True for the focal group, False for the reference group.
    matching : array_like
        ``(N,)`` matching score (the total, studied item included).

    Returns
    -------
    BinaryDif

    Raises
    ------
    ValueError
        Values other than 0/1, mismatched lengths, an empty group, or no stratum where both
        groups answer.

    Notes
    -----
    In stratum ``k`` with reference right/wrong ``A_k, B_k``, focal right/wrong ``C_k, D_k``,
    ``n_Rk, n_Fk`` group sizes, ``m_1k, m_0k`` right/wrong totals, ``T_k`` its size
    (Mantel & Haenszel 1959, *JNCI* 22:719–748; Holland & Thayer 1988, in *Test Validity*,
    129–145):

    .. math::
        \\alpha_{MH} = \\frac{\\sum_k A_k D_k / T_k}{\\sum_k B_k C_k / T_k},\\qquad
        \\chi^2_{MH} = \\frac{(|\\sum_k A_k - \\sum_k E(A_k)| - \\tfrac12)^2}
                             {\\sum_k \\operatorname{Var}(A_k)},

    ``E(A_k) = n_Rk m_1k / T_k``, ``Var(A_k) = n_Rk n_Fk m_1k m_0k / (T_k² (T_k − 1))``.
    ``Δ_MH = −2.35 ln α_MH``; ``SE(ln α_MH)`` by Robins, Breslow & Greenland (1986,
    *Biometrics* 42:311–323). ETS categories (Zwick 2012, ETS RR-12-08, p. 3): **A** if
    ``|Δ| < 1`` or the MH χ² is not significant at 0.05; **C** if ``|Δ| ≥ 1.5`` and ``|Δ|`` is
    significantly greater than 1 (``(|Δ| − 1)/SE > 1.645``); **B** otherwise.
    """
    y, g, s = _inputs(item, focal, matching)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("a binary item's answers must be 0 or 1")
    num = den = sum_a = sum_e = sum_v = 0.0
    p_r = p_s_q_r = q_s = 0.0
    rs: list[float] = []
    ss: list[float] = []
    strata = 0
    for level in np.unique(s):
        at = s == level
        ref, foc = at & ~g, at & g
        n_r, n_f = int(ref.sum()), int(foc.sum())
        t = n_r + n_f
        if n_r == 0 or n_f == 0 or t < 2:
            continue
        strata += 1
        a = float(y[ref].sum())
        b = n_r - a
        c = float(y[foc].sum())
        d = n_f - c
        m1, m0 = a + c, b + d
        r_k, s_k = a * d / t, b * c / t
        num += r_k
        den += s_k
        sum_a += a
        sum_e += n_r * m1 / t
        sum_v += n_r * n_f * m1 * m0 / (t * t * (t - 1))
        p_k, q_k = (a + d) / t, (b + c) / t
        p_r += p_k * r_k
        p_s_q_r += p_k * s_k + q_k * r_k
        q_s += q_k * s_k
        rs.append(r_k)
        ss.append(s_k)
    if strata == 0:
        raise ValueError("no score level has respondents of both groups")
    chi2 = max(abs(sum_a - sum_e) - 0.5, 0.0) ** 2 / sum_v if sum_v > 0 else 0.0
    p = float(stats.chi2.sf(chi2, 1))
    delta_se = float("nan")
    if num > 0 and den > 0:
        odds = num / den
        var = p_r / (2 * num**2) + p_s_q_r / (2 * num * den) + q_s / (2 * den**2)
        delta = -2.35 * float(np.log(odds))
        delta_se = 2.35 * float(np.sqrt(var))
    elif num == 0 and den == 0:  # no discordant answers (e.g. nobody varies): no evidence
        odds = delta = float("nan")
    elif den == 0:
        odds, delta = float("inf"), float("-inf")
    else:
        odds, delta = 0.0, float("inf")
    return BinaryDif(
        odds_ratio=float(odds),
        chi2=float(chi2),
        p_value=p,
        delta=float(delta),
        delta_se=delta_se,
        category=ets_category(delta, delta_se, p),
        strata=strata,
    )


def ets_category(delta: float, delta_se: float, p_value: float) -> Category:
    """The ETS A/B/C category of an MH delta (see :func:`mantel_haenszel`, Notes)."""
    size = abs(delta)
    if np.isnan(size) or size < 1.0 or p_value >= 0.05:
        return "A"
    if size >= 1.5 and (np.isnan(delta_se) or (size - 1.0) / delta_se > _Z95):
        return "C"
    return "B"


def mantel_ordinal(item: np.ndarray, focal: np.ndarray, matching: np.ndarray) -> OrdinalDif:
    """Mantel's (1963) test and the standardized mean difference of an ordered item.

    Parameters
    ----------
    item : array_like
        ``(N,)`` item scores (ordered categories, e.g. 0..3).
    focal : array_like of bool
        ``(N,)`` True for the focal group.
    matching : array_like
        ``(N,)`` matching score (the total, studied item included).

    Returns
    -------
    OrdinalDif

    Notes
    -----
    In stratum ``k`` of size ``T_k`` with focal size ``n_Fk``, focal score sum ``F_k`` and item
    score sums ``Σy``, ``Σy²`` over the stratum (Mantel 1963, *JASA* 58:690–700; Zwick,
    Donoghue & Grima 1993, *JEM* 30:233–251):

    .. math::
        E(F_k) = \\frac{n_{Fk}}{T_k}\\sum y,\\quad
        \\operatorname{Var}(F_k) = \\frac{n_{Rk} n_{Fk}}{T_k^2 (T_k - 1)}
            \\Bigl(T_k \\sum y^2 - (\\sum y)^2\\Bigr),\\quad
        \\chi^2 = \\frac{(\\sum_k F_k - \\sum_k E(F_k))^2}{\\sum_k \\operatorname{Var}(F_k)}.

    ``SMD = Σ_k (n_Fk / n_F) (m_Fk − m_Rk)`` over the strata with both groups (Dorans &
    Schmitt 1991, ETS RR-91-47), ``n_F`` the focal respondents in those strata. Categories as
    Zwick, Thayer & Mazzeo (1997, ETS RR-97-5) on ``SMD / SD``.
    """
    y, g, s = _inputs(item, focal, matching)
    f_sum = e_sum = v_sum = 0.0
    weighted = 0.0
    n_focal = 0
    strata = 0
    for level in np.unique(s):
        at = s == level
        ref, foc = at & ~g, at & g
        n_r, n_f = int(ref.sum()), int(foc.sum())
        t = n_r + n_f
        if n_r == 0 or n_f == 0 or t < 2:
            continue
        strata += 1
        ys = y[at]
        sy, syy = float(ys.sum()), float((ys * ys).sum())
        f_k = float(y[foc].sum())
        f_sum += f_k
        e_sum += n_f * sy / t
        v_sum += n_r * n_f * (t * syy - sy * sy) / (t * t * (t - 1))
        weighted += n_f * (f_k / n_f - float(y[ref].mean()))
        n_focal += n_f
    if strata == 0:
        raise ValueError("no score level has respondents of both groups")
    chi2 = (f_sum - e_sum) ** 2 / v_sum if v_sum > 0 else 0.0
    p = float(stats.chi2.sf(chi2, 1))
    smd = weighted / n_focal
    sd = float(y.std(ddof=1)) if len(y) > 1 else 0.0
    es = smd / sd if sd > 0 else 0.0
    if p >= 0.05 or abs(es) <= 0.17:
        category: Category = "AA"
    elif abs(es) > 0.25:
        category = "CC"
    else:
        category = "BB"
    return OrdinalDif(
        chi2=float(chi2),
        p_value=p,
        smd=float(smd),
        effect_size=float(es),
        category=category,
        strata=strata,
    )
