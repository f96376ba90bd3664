"""Local norms: percentile ranks and normalised T-scores by grade band and gender.

A district builds its own norm table from a whole population's raw scores (a campaign), stores
it versioned, and later reads new raw scores against it. Everything here is pure numpy/scipy;
the service (``survey_service.norms``) reads and writes the tables.

Definitions
-----------
*Percentile rank* (mid-rank definition): for a raw score :math:`x` in a group of :math:`N`,

.. math:: PR(x) = 100 \\cdot \\frac{cf_{<}(x) + \\tfrac12 f(x)}{N}

with :math:`cf_{<}(x)` the number of scores below :math:`x` and :math:`f(x)` the number equal to
it (Crocker & Algina 1986, *Introduction to Classical and Modern Test Theory*, ch. 19, "percentile
ranks"; Angoff 1971, "Scales, norms, and equivalent scores", in Thorndike (ed.) *Educational
Measurement*, 2nd ed., pp. 508-600). It equals ``scipy.stats.percentileofscore(scores, x,
kind="mean")``, which the tests check.

*Normalised T-score* (McCall's T; McCall 1922, *How to Measure in Education*, Macmillan;
Angoff 1971 p. 515):

.. math:: T(x) = 50 + 10 \\, \\Phi^{-1}\\!\\left(PR(x) / 100\\right)

Rows and the observed range
---------------------------
A group's table has one row for every attainable raw score (the scale's resolution ``step``)
from the lowest to the highest *observed* score of that group. Beyond the observed range the
percentile rank would be 0 or 100 and :math:`T` infinite, so a new score outside it is read at
the nearest extreme row and *flagged* (``clamped``). A raw score between attainable values (a
prorated total) is first rounded half up to the resolution, as the scorer's bands are.

Groups and the minimum cell size
--------------------------------
Scores are grouped by grade band x gender (default bands: grades 1-3, 4-6, 7-9 and 10-12, the
Chinese school stages). A cell with fewer than ``min_cell`` scores is **merged into the
neighbouring grade band of the same gender** (the smaller neighbour; on a tie the lower one),
repeatedly, until every cell of that gender has at least ``min_cell`` scores; when all of a
gender's scores together are still fewer than ``min_cell`` that gender is **left out** (no
table: its students get no T-score). Scores with an unknown grade or gender, or a grade in no
band, are left out too. The table says what was merged and left out (``notes``, ``excluded``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

__all__ = [
    "DEFAULT_GRADE_BANDS",
    "FORMAT",
    "GENDERS",
    "NormDocument",
    "NormGroupDoc",
    "NormGroupTable",
    "NormRowDoc",
    "NormScores",
    "NormTable",
    "apply_norms",
    "attainable_scores",
    "build_norms",
    "decode_document",
    "mccall_t",
    "percentile_ranks",
    "table_from_document",
    "table_to_document",
]

Gender = Literal["male", "female"]
GENDERS: tuple[Gender, ...] = ("male", "female")
FORMAT = "runxin-norms/1"
"""The ``format`` tag of a norm document (JSON); see :class:`NormDocument`."""

DEFAULT_GRADE_BANDS: tuple[tuple[int, int], ...] = ((1, 3), (4, 6), (7, 9), (10, 12))
"""Primary lower/upper (小学低/高年级), junior secondary (初中), senior secondary (高中)."""

_EPS = 1e-9
F64 = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- formulas


def percentile_ranks(scores: npt.ArrayLike, at: npt.ArrayLike) -> F64:
    """Mid-rank percentile ranks of the values ``at`` in the sample ``scores``.

    .. math:: PR(x) = 100 \\cdot (cf_{<}(x) + f(x)/2) / N

    (Crocker & Algina 1986, ch. 19), the same as ``scipy.stats.percentileofscore(scores, x,
    kind="mean")``.

    Parameters
    ----------
    scores : array_like, shape (N,)
        The norm sample (finite numbers, N >= 1).
    at : array_like, shape (M,)
        The values to rank.

    Returns
    -------
    ndarray, shape (M,)
        Percentile ranks in [0, 100].

    Raises
    ------
    ValueError
        An empty sample or a value that is not finite.
    """
    sample = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    points = np.asarray(at, dtype=np.float64).ravel()
    if sample.size == 0:
        raise ValueError("percentile_ranks: the norm sample is empty")
    if not (np.isfinite(sample).all() and np.isfinite(points).all()):
        raise ValueError("percentile_ranks: scores and points must be finite numbers")
    below = np.searchsorted(sample, points, side="left")
    at_or_below = np.searchsorted(sample, points, side="right")
    return np.asarray(100.0 * (below + at_or_below) / (2.0 * sample.size), dtype=np.float64)


def mccall_t(percentile: npt.ArrayLike) -> F64:
    """McCall's normalised T-score of percentile ranks: :math:`50 + 10\\,\\Phi^{-1}(PR/100)`.

    (McCall 1922; Angoff 1971 p. 515.) PR 0 and 100 give -inf and +inf.

    Parameters
    ----------
    percentile : array_like
        Percentile ranks in [0, 100].

    Returns
    -------
    ndarray
        T-scores (mean 50, SD 10 on the normal scale).

    Raises
    ------
    ValueError
        A percentile rank outside [0, 100] or not a number.
    """
    pr = np.asarray(percentile, dtype=np.float64)
    if np.isnan(pr).any() or (pr < 0).any() or (pr > 100).any():
        raise ValueError("mccall_t: percentile ranks must lie in [0, 100]")
    return np.asarray(50.0 + 10.0 * ndtri(pr / 100.0), dtype=np.float64)


def attainable_scores(low: float, high: float, step: float) -> F64:
    """Every attainable raw score from ``low`` to ``high`` at resolution ``step``.

    Raises
    ------
    ValueError
        ``step`` not positive, ``high < low``, or a range that is not a whole number of steps.
    """
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive number, got {step!r}")
    if not (math.isfinite(low) and math.isfinite(high)) or high < low:
        raise ValueError(f"the raw score range [{low}, {high}] is not valid")
    count = (high - low) / step
    if abs(count - round(count)) > 1e-6:
        raise ValueError(f"the range [{low}, {high}] is not a whole number of steps of {step}")
    return np.asarray(low + step * np.arange(round(count) + 1), dtype=np.float64)


# --------------------------------------------------------------------------- result objects


@dataclass(frozen=True, slots=True, eq=False)
class NormGroupTable:
    """The table of one grade band x gender: one row per attainable raw score.

    Attributes
    ----------
    grades : tuple of int
        Inclusive school-grade range ``(low, high)``.
    gender : {"male", "female"}
    n : int
        Size of the norm sample of the group.
    raw : ndarray, shape (R,)
        Raw scores ``raw[0] + step * k``, from the lowest to the highest observed score.
    percentile : ndarray, shape (R,)
        Mid-rank percentile ranks, strictly between 0 and 100.
    t : ndarray, shape (R,)
        Normalised T-scores (McCall).
    """

    grades: tuple[int, int]
    gender: Gender
    n: int
    raw: F64
    percentile: F64
    t: F64

    def matches(self, grade: int, gender: str) -> bool:
        """True when a student of ``grade`` and ``gender`` belongs to this group."""
        return gender == self.gender and self.grades[0] <= grade <= self.grades[1]


@dataclass(frozen=True, slots=True, eq=False)
class NormTable:
    """A norm table of one scale of one instrument (see the module docstring).

    Attributes
    ----------
    instrument_id, scale : str
        The instrument and its scale (``"total"`` or a subscale id).
    step : float
        Resolution of the raw scores (``10**-decimals`` of the scale).
    min_cell : int
        The minimum cell size the table was built (or published) with.
    groups : tuple of NormGroupTable
        Non-overlapping per gender.
    excluded : int
        Scores left out (unknown grade or gender, grade in no band, a gender below min_cell).
    notes : tuple of str
        What was merged and left out, in words.
    """

    instrument_id: str
    scale: str
    step: float
    min_cell: int
    groups: tuple[NormGroupTable, ...]
    excluded: int = 0
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        """Scores in the table (all groups)."""
        return sum(g.n for g in self.groups)


@dataclass(frozen=True, slots=True, eq=False)
class NormScores:
    """New raw scores read against a :class:`NormTable` (one entry per input row).

    Attributes
    ----------
    percentile, t : ndarray of float
        NaN where there is no raw score or no matching group.
    group : ndarray of int
        Index into ``table.groups``; -1 when none matches (or no raw score).
    clamped : ndarray of bool
        The raw score lay outside the group's observed range and was read at the extreme row.
    """

    percentile: F64
    t: F64
    group: npt.NDArray[np.int64]
    clamped: npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- building


def _gender_codes(gender: npt.ArrayLike, n: int) -> npt.NDArray[np.int8]:
    raw = np.asarray(gender)
    if raw.shape != (n,):
        raise ValueError(f"gender must have one entry per score ({n}), got shape {raw.shape}")
    if raw.dtype.kind in "iu":
        if ((raw < -1) | (raw > 1)).any():
            raise ValueError("gender codes must be 0 (male), 1 (female) or -1 (unknown)")
        return raw.astype(np.int8)
    codes = np.full(n, -1, np.int8)
    for i, value in enumerate(raw.tolist()):
        if value in GENDERS:
            codes[i] = GENDERS.index(value)
        elif value not in (None, "", "unknown", "other"):
            raise ValueError(f"gender row {i}: {value!r} is not 'male', 'female' or unknown")
    return codes


def _grades(grade: npt.ArrayLike, n: int) -> npt.NDArray[np.int64]:
    raw = np.asarray(grade, dtype=np.float64)
    if raw.shape != (n,):
        raise ValueError(f"grade must have one entry per score ({n}), got shape {raw.shape}")
    known = np.isfinite(raw)
    if (known & (raw != np.floor(raw))).any():
        raise ValueError("grade must be whole numbers (NaN or negative for unknown)")
    out = np.where(known, raw, -1).astype(np.int64)
    out[out < 0] = -1
    return out


def _check_bands(bands: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    ordered = sorted((int(lo), int(hi)) for lo, hi in bands)
    if not ordered:
        raise ValueError("grade_bands must name at least one band")
    for lo, hi in ordered:
        if hi < lo:
            raise ValueError(f"grade band [{lo}, {hi}] is empty")
    for (_, hi), (lo, _) in itertools.pairwise(ordered):
        if lo <= hi:
            raise ValueError("grade bands must not overlap")
    return ordered


def _merge_small(
    counts: list[tuple[tuple[int, int], int]], min_cell: int, gender: str, notes: list[str]
) -> list[tuple[tuple[int, int], int]]:
    """Merge cells below ``min_cell`` into their smaller neighbour until none is left."""
    cells = list(counts)
    while len(cells) > 1:
        small = [i for i, (_, c) in enumerate(cells) if c < min_cell]
        if not small:
            break
        i = min(small, key=lambda k: (cells[k][1], k))
        neighbours = [k for k in (i - 1, i + 1) if 0 <= k < len(cells)]
        j = min(neighbours, key=lambda k: (cells[k][1], k))
        a, b = sorted((i, j))
        (lo, _), ca = cells[a]
        (_, hi), cb = cells[b]
        notes.append(
            f"{gender} grades {cells[i][0][0]}-{cells[i][0][1]} (n={cells[i][1]}) merged with "
            f"grades {cells[j][0][0]}-{cells[j][0][1]} (n={cells[j][1]}) into {lo}-{hi}"
        )
        cells[a : b + 1] = [((lo, hi), ca + cb)]
    return cells


def build_norms(
    raw: npt.ArrayLike,
    grade: npt.ArrayLike,
    gender: npt.ArrayLike,
    *,
    instrument_id: str,
    scale: str,
    score_range: tuple[float, float],
    step: float = 1.0,
    min_cell: int = 50,
    grade_bands: Sequence[tuple[int, int]] = DEFAULT_GRADE_BANDS,
) -> NormTable:
    """Build a norm table from raw scores with grade and gender.

    Parameters
    ----------
    raw : array_like, shape (N,)
        Raw scale scores; NaN for a response without a score (left out, not counted).
    grade : array_like, shape (N,)
        School grades; NaN or negative for unknown.
    gender : array_like, shape (N,)
        ``"male"``/``"female"`` (``None``/``""`` unknown) or codes 0/1 (-1 unknown).
    instrument_id, scale : str
        What the table is of.
    score_range : tuple of float
        The scale's declared ``(min, max)``; a score outside it is an error.
    step : float
        Resolution of the raw scores (``10**-decimals``); scores are rounded half up to it.
    min_cell : int
        Minimum number of scores in a grade band x gender cell (see the module docstring for
        merging and leaving out).
    grade_bands : sequence of (int, int)
        Non-overlapping inclusive grade ranges.

    Returns
    -------
    NormTable

    Raises
    ------
    ValueError
        Mismatched lengths, a score outside ``score_range``, a bad band or ``min_cell < 1``.
    """
    values = np.asarray(raw, dtype=np.float64).ravel()
    n = values.size
    grades = _grades(grade, n)
    genders = _gender_codes(gender, n)
    if isinstance(min_cell, bool) or not isinstance(min_cell, int) or min_cell < 1:
        raise ValueError(f"min_cell must be a whole number of at least 1, got {min_cell!r}")
    bands = _check_bands(grade_bands)
    grid = attainable_scores(float(score_range[0]), float(score_range[1]), step)
    scored = np.isfinite(values)
    if ((values[scored] < grid[0] - _EPS) | (values[scored] > grid[-1] + _EPS)).any():
        raise ValueError(
            f"{instrument_id}.{scale}: a raw score lies outside the scale's range "
            f"[{grid[0]:g}, {grid[-1]:g}]"
        )
    index = np.full(n, -1, np.int64)
    index[scored] = _to_index(values[scored], grid[0], step)
    band_of = np.full(n, -1, np.int64)
    for b, (lo, hi) in enumerate(bands):
        band_of[(grades >= lo) & (grades <= hi)] = b
    usable = scored & (band_of >= 0) & (genders >= 0)
    excluded = int(scored.sum() - usable.sum())
    notes: list[str] = []
    if excluded:
        notes.append(f"{excluded} scores left out: unknown grade or gender, or a grade in no band")
    groups: list[NormGroupTable] = []
    for code, gender_name in enumerate(GENDERS):
        mine = usable & (genders == code)
        counts = [(band, int((mine & (band_of == b)).sum())) for b, band in enumerate(bands)]
        counts = [(band, c) for band, c in counts if c > 0]
        if not counts:
            continue
        cells = _merge_small(counts, min_cell, gender_name, notes)
        for (lo, hi), count in cells:
            if count < min_cell:
                notes.append(
                    f"{gender_name} grades {lo}-{hi} (n={count}) left out: fewer than "
                    f"min_cell={min_cell} scores in all"
                )
                excluded += count
                continue
            members = index[mine & (grades >= lo) & (grades <= hi)]
            groups.append(_group_table((lo, hi), gender_name, members, grid))
    return NormTable(
        instrument_id=instrument_id,
        scale=scale,
        step=float(step),
        min_cell=min_cell,
        groups=tuple(groups),
        excluded=excluded,
        notes=tuple(notes),
    )


def _to_index(values: F64, low: float, step: float) -> npt.NDArray[np.int64]:
    """Grid index of each value, rounded half up to the resolution."""
    return np.floor((values - low) / step + 0.5 + _EPS).astype(np.int64)


def _group_table(
    grades: tuple[int, int], gender: Gender, members: npt.NDArray[np.int64], grid: F64
) -> NormGroupTable:
    lo, hi = int(members.min()), int(members.max())
    freq = np.bincount(members - lo, minlength=hi - lo + 1).astype(np.float64)
    below = np.concatenate(([0.0], np.cumsum(freq)[:-1]))
    percentile = 100.0 * (below + 0.5 * freq) / members.size
    return NormGroupTable(
        grades=grades,
        gender=gender,
        n=int(members.size),
        raw=grid[lo : hi + 1].copy(),
        percentile=percentile,
        t=mccall_t(percentile),
    )


# --------------------------------------------------------------------------- applying


def apply_norms(
    table: NormTable, raw: npt.ArrayLike, grade: npt.ArrayLike, gender: npt.ArrayLike
) -> NormScores:
    """Read raw scores against ``table`` (vectorised over rows).

    Each row is looked up in the group matching its grade and gender; its raw score is rounded
    half up to ``table.step`` and read at that row of the group. A score below (above) the
    group's observed range is read at the first (last) row and flagged ``clamped``.

    Parameters
    ----------
    table : NormTable
    raw : array_like, shape (N,)
        Raw scores; NaN for none.
    grade, gender : array_like, shape (N,)
        As for :func:`build_norms`.

    Returns
    -------
    NormScores
    """
    values = np.asarray(raw, dtype=np.float64).ravel()
    n = values.size
    grades = _grades(grade, n)
    genders = _gender_codes(gender, n)
    percentile = np.full(n, np.nan)
    t = np.full(n, np.nan)
    group = np.full(n, -1, np.int64)
    clamped = np.zeros(n, np.bool_)
    scored = np.isfinite(values)
    for g, row in enumerate(table.groups):
        code = GENDERS.index(row.gender)
        mask = (
            scored
            & (genders == code)
            & (grades >= row.grades[0])
            & (grades <= row.grades[1])
            & (group < 0)
        )
        if not mask.any():
            continue
        k = _to_index(values[mask], float(row.raw[0]), table.step)
        inside = np.clip(k, 0, row.raw.size - 1)
        clamped[mask] = inside != k
        percentile[mask] = row.percentile[inside]
        t[mask] = row.t[inside]
        group[mask] = g
    return NormScores(percentile=percentile, t=t, group=group, clamped=clamped)


# --------------------------------------------------------------------------- documents (JSON)


class NormRowDoc(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One row: a raw score, its percentile rank and T-score."""

    raw: float
    percentile: float
    t: float


class NormGroupDoc(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One grade band x gender with its rows (contiguous raw scores at the table's ``step``)."""

    grades: tuple[int, int]
    gender: Gender
    n: int
    rows: tuple[NormRowDoc, ...]


class NormDocument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A norm table as stored and as a file (``format`` = ``"runxin-norms/1"``).

    ``source`` is ``"campaign:<id>"`` for a table built from a campaign, or
    ``"published: <citation>"`` for a published one. ``version`` is unique per instrument and
    scale. ``created_at`` is an ISO 8601 time with offset. See docs/psychometrics.md, "Norms".
    """

    format: str
    instrument_id: str
    scale: str
    version: str
    source: str
    created_at: str
    min_cell: int
    step: float
    groups: tuple[NormGroupDoc, ...]
    excluded: int = 0
    notes: tuple[str, ...] = ()


def table_to_document(
    table: NormTable, *, version: str, source: str, created_at: str
) -> NormDocument:
    """The document of ``table`` (rounded to 4 decimals: enough for a T to 0.01)."""
    return NormDocument(
        format=FORMAT,
        instrument_id=table.instrument_id,
        scale=table.scale,
        version=version,
        source=source,
        created_at=created_at,
        min_cell=table.min_cell,
        step=table.step,
        groups=tuple(
            NormGroupDoc(
                grades=g.grades,
                gender=g.gender,
                n=g.n,
                rows=tuple(
                    NormRowDoc(round(float(r), 6), round(float(p), 4), round(float(t), 4))
                    for r, p, t in zip(g.raw, g.percentile, g.t, strict=True)
                ),
            )
            for g in table.groups
        ),
        excluded=table.excluded,
        notes=table.notes,
    )


def decode_document(data: bytes | str) -> NormDocument:
    """Decode and check a norm document (JSON); ValueError naming what is wrong."""
    try:
        doc = msgspec.json.decode(data, type=NormDocument)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a valid norm document: {exc}") from None
    table_from_document(doc)  # checks
    return doc


def table_from_document(doc: NormDocument) -> NormTable:
    """The :class:`NormTable` of a document, after checking it.

    Raises
    ------
    ValueError
        Wrong ``format``, empty fields, a bad step, rows that are not contiguous at ``step``,
        percentile ranks outside (0, 100) or not non-decreasing, T-scores not finite or not
        non-decreasing, an empty group, or overlapping groups of one gender.
    """
    if doc.format != FORMAT:
        raise ValueError(f"format must be {FORMAT!r}, got {doc.format!r}")
    for name in ("instrument_id", "scale", "version", "source"):
        if not getattr(doc, name).strip():
            raise ValueError(f"{name} must not be empty")
    if len(doc.version) > 64:
        raise ValueError("version must be at most 64 characters")
    if doc.min_cell < 1:
        raise ValueError("min_cell must be at least 1")
    if not (math.isfinite(doc.step) and doc.step > 0):
        raise ValueError("step must be a positive number")
    if not doc.groups:
        raise ValueError("groups must not be empty")
    groups: list[NormGroupTable] = []
    for i, g in enumerate(doc.groups):
        where = f"groups[{i}]"
        if g.grades[1] < g.grades[0]:
            raise ValueError(f"{where}.grades: [{g.grades[0]}, {g.grades[1]}] is empty")
        if g.n < 1 or not g.rows:
            raise ValueError(f"{where}: n and rows must not be empty")
        raw = np.array([r.raw for r in g.rows], dtype=np.float64)
        pr = np.array([r.percentile for r in g.rows], dtype=np.float64)
        t = np.array([r.t for r in g.rows], dtype=np.float64)
        steps = np.diff(raw) / doc.step
        if not np.all(np.isfinite(raw)) or np.any(np.abs(steps - 1) > 1e-6):
            raise ValueError(f"{where}.rows: raw scores must run up in steps of {doc.step:g}")
        if not ((pr > 0) & (pr < 100)).all() or (np.diff(pr) < 0).any():
            raise ValueError(
                f"{where}.rows: percentile ranks must lie in (0, 100) and never decrease"
            )
        if not np.isfinite(t).all() or (np.diff(t) < 0).any():
            raise ValueError(f"{where}.rows: T-scores must be finite and never decrease")
        for j, other in enumerate(groups):
            if other.gender == g.gender and not (
                g.grades[1] < other.grades[0] or g.grades[0] > other.grades[1]
            ):
                raise ValueError(f"{where}: its grades overlap groups[{j}] of the same gender")
        groups.append(NormGroupTable(g.grades, g.gender, g.n, raw, pr, t))
    return NormTable(
        instrument_id=doc.instrument_id,
        scale=doc.scale,
        step=doc.step,
        min_cell=doc.min_cell,
        groups=tuple(groups),
        excluded=doc.excluded,
        notes=doc.notes,
    )
