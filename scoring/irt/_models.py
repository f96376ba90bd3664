"""Item response models in slope-intercept form: the graded response model and the 2PL.

For item ``j`` with ``K_j`` ordered categories ``0..K_j-1`` and latent trait ``theta`` the
graded response model (Samejima, 1969) gives the cumulative probabilities

.. math:: P^*_{jk}(\\theta) = P(X_j \\ge k \\mid \\theta)
   = \\frac{1}{1 + e^{-(a_j\\theta + d_{jk})}},
   \\quad k = 1..K_j-1,

with :math:`P^*_{j0} = 1`, :math:`P^*_{jK_j} = 0`, and the category probabilities
:math:`P_{jk} = P^*_{jk} - P^*_{j,k+1}`. The intercepts decrease along ``k``; the
thresholds (difficulties) are :math:`b_{jk} = -d_{jk}/a_j`. The two-parameter logistic
model (Birnbaum, 1968) is the case ``K_j = 2``. The Fisher information of item ``j`` is

.. math:: I_j(\\theta) = \\sum_k \\frac{P'_{jk}(\\theta)^2}{P_{jk}(\\theta)}, \\quad
   P'_{jk} = a_j\\,(W_{jk} - W_{j,k+1}), \\quad W = P^*(1 - P^*)

(Samejima, 1969; Baker & Kim, 2004, *Item Response Theory: Parameter Estimation
Techniques*, 2nd ed., ch. 8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ModelName = Literal["2pl", "grm"]

#: Probabilities are clipped to [_EPS, 1] before logarithms are taken.
_EPS = 1e-300


@dataclass(frozen=True, slots=True)
class ItemParams:
    """Parameters of ``J`` items in slope-intercept form.

    Attributes
    ----------
    names : tuple of str
        The ``J`` item names.
    a : ndarray, shape (J,)
        Slopes (discriminations).
    d : ndarray, shape (J, K-1)
        Intercepts, ``logit P(X >= k | theta) = a*theta + d[k-1]``, strictly decreasing
        along ``k``; ``NaN`` pads the columns of items with fewer than ``K`` categories.
        For the 2PL ``K = 2`` (one column).
    model : {"2pl", "grm"}
        The model name.
    """

    names: tuple[str, ...]
    a: FloatArray
    d: FloatArray
    model: ModelName

    def __post_init__(self) -> None:
        # private read-only copies: the caller's arrays stay writable and cannot change us
        a = np.array(self.a, dtype=np.float64)
        d = np.array(self.d, dtype=np.float64)
        if d.ndim == 1:
            d = d[:, None]
        if a.ndim != 1 or d.ndim != 2 or d.shape[0] != a.shape[0]:
            raise ValueError(f"a must have shape (J,) and d (J, K-1); got {a.shape} and {d.shape}")
        if len(self.names) != a.shape[0]:
            raise ValueError(f"{len(self.names)} item names for {a.shape[0]} items")
        if self.model not in ("2pl", "grm"):
            raise ValueError(f"unknown model {self.model!r}; expected '2pl' or 'grm'")
        if self.model == "2pl" and d.shape[1] != 1:
            raise ValueError("a 2PL item has exactly one intercept")
        if not np.all(np.isfinite(a)):
            raise ValueError("slopes must be finite")
        if d.shape[1] == 0 or np.any(np.isnan(d[:, 0])):
            raise ValueError("every item needs at least one intercept (two categories)")
        observed = ~np.isnan(d)
        # NaN padding only at the end of a row
        if np.any(observed[:, 1:] & ~observed[:, :-1]):
            raise ValueError("NaN padding of d must come after the item's intercepts")
        if np.any(np.isinf(d)):
            raise ValueError("intercepts must be finite")
        with np.errstate(invalid="ignore"):
            steps = np.diff(d, axis=1)
        if np.any(steps[~np.isnan(steps)] >= 0):
            raise ValueError("intercepts must decrease strictly along the categories")
        a.setflags(write=False)
        d.setflags(write=False)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "names", tuple(self.names))

    @property
    def n_items(self) -> int:
        """Number of items ``J``."""
        return int(self.a.shape[0])

    @property
    def n_categories(self) -> IntArray:
        """Number of categories ``K_j`` of each item, shape (J,)."""
        return np.asarray((~np.isnan(self.d)).sum(axis=1) + 1, dtype=np.int64)

    @property
    def max_categories(self) -> int:
        """The largest number of categories ``K``."""
        return int(self.d.shape[1] + 1)

    def thresholds(self) -> FloatArray:
        """Thresholds ``b = -d / a``, shape (J, K-1); ``NaN`` where ``d`` is padded.

        Returns
        -------
        ndarray
            ``b[j, k-1]`` is the trait level at which ``P(X_j >= k) = 1/2``.
        """
        return np.asarray(-self.d / self.a[:, None], dtype=np.float64)


def cumulative_probabilities(theta: FloatArray, params: ItemParams) -> FloatArray:
    """Boundary probabilities ``P*(X_j >= k | theta)`` for ``k = 0..K``.

    Parameters
    ----------
    theta : ndarray, shape (Q,)
        Trait values.
    params : ItemParams
        Item parameters.

    Returns
    -------
    ndarray, shape (Q, J, K+1)
        Column 0 is 1, column ``K_j`` (and any padded column) is 0.
    """
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    z = theta[:, None, None] * params.a[None, :, None] + params.d[None, :, :]
    with np.errstate(over="ignore"):
        inner = 1.0 / (1.0 + np.exp(-z))
    inner = np.where(np.isnan(inner), 0.0, inner)
    q, j = theta.shape[0], params.n_items
    return np.concatenate([np.ones((q, j, 1)), inner, np.zeros((q, j, 1))], axis=2)


def category_probabilities(theta: FloatArray, params: ItemParams) -> FloatArray:
    """Category response probabilities ``P(X_j = k | theta)``.

    ``P_jk = P*_jk - P*_j,k+1`` (Samejima, 1969), see the module docstring.

    Parameters
    ----------
    theta : ndarray, shape (Q,)
        Trait values.
    params : ItemParams
        Item parameters.

    Returns
    -------
    ndarray, shape (Q, J, K)
        Probabilities; padded categories get 0, each ``[q, j, :]`` sums to 1.
    """
    star = cumulative_probabilities(theta, params)
    return np.asarray(np.clip(star[:, :, :-1] - star[:, :, 1:], 0.0, 1.0), dtype=np.float64)


def item_information(theta: FloatArray, params: ItemParams) -> FloatArray:
    """Fisher information ``I_j(theta) = sum_k P'_jk^2 / P_jk``.

    For the 2PL this is ``a^2 P (1 - P)``. Reference: Samejima (1969); Baker & Kim (2004),
    *Item Response Theory: Parameter Estimation Techniques*, 2nd ed., eq. 8.21.

    Parameters
    ----------
    theta : ndarray, shape (Q,)
        Trait values.
    params : ItemParams
        Item parameters.

    Returns
    -------
    ndarray, shape (Q, J)
        Information of each item at each trait value.
    """
    star = cumulative_probabilities(theta, params)
    w = star * (1.0 - star)
    prob = star[:, :, :-1] - star[:, :, 1:]
    deriv = params.a[None, :, None] * (w[:, :, :-1] - w[:, :, 1:])
    safe = np.where(prob > 1e-300, prob, 1.0)
    terms = np.where(prob > 1e-300, deriv**2 / safe, 0.0)
    return np.asarray(terms.sum(axis=2), dtype=np.float64)
