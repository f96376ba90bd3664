"""Exact rounding of rational scores."""

from __future__ import annotations

from fractions import Fraction


def round_half_up_scaled(numerator: int, denominator: int, decimals: int = 0) -> int:
    """Round ``numerator / denominator`` half up to ``decimals`` places, in integer units.

    Computed exactly in integers (no binary floating point), so that the scalar scorer and a
    vectorised scorer over the same spec agree bit for bit:

    .. math::

        r = \\left\\lfloor \\frac{2 \\cdot n \\cdot 10^{d} + q}{2 q} \\right\\rfloor
          = \\left\\lfloor \\frac{n}{q} 10^{d} + \\tfrac{1}{2} \\right\\rfloor

    Parameters
    ----------
    numerator, denominator : int
        The score as an exact fraction ``n / q``; ``q`` must be positive.
    decimals : int
        Places to keep, ``d >= 0``.

    Returns
    -------
    int
        ``r``, the rounded score in units of ``10**-decimals`` (the score is ``r / 10**d``).

    Notes
    -----
    "Round half up" (towards +infinity at exactly .5), not Python's banker's rounding: 4.5
    becomes 5 and 3.5 becomes 4. No published source fixes the rounding of a prorated PHQ-9
    total (instruments.md, open issue 1); half up is a project decision.

    Examples
    --------
    >>> round_half_up_scaled(36, 8)  # 4.5
    5
    >>> round_half_up_scaled(81, 8)  # 10.125
    10
    >>> round_half_up_scaled(2675, 1000, 2)  # 2.675 -> 2.68 (float round() would give 2.67)
    268
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    unit: int = 10**decimals
    return (2 * numerator * unit + denominator) // (2 * denominator)


def round_half_up(value: float | Fraction, decimals: int = 0) -> float:
    """Round ``value`` half up to ``decimals`` places, taking a float as the decimal it prints as.

    A convenience for display and tests; the scorer uses :func:`round_half_up_scaled` on the
    exact fraction. ``round_half_up(2.5) == 3.0``, ``round_half_up(-2.5) == -2.0``.
    """
    exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    scaled = round_half_up_scaled(exact.numerator, exact.denominator, decimals)
    unit: int = 10**decimals
    return scaled / unit
