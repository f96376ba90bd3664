"""The batch scorer: an answer matrix in, a :class:`BatchResult` of numpy arrays out.

Every row gets exactly what :func:`scoring.score` gives for the same answers (a property test
proves it for every shipped instrument and the licensed examples). The work is done column by
column on the same compiled plan (:mod:`scoring._plan`): integer sums, exact integer half-up
rounding, band lookup tables, and vectorised conditions. The all-answered integer matrix takes
a fast path with no float conversion and no missing-data bookkeeping. With missing answers
(NaN, ``-1`` or a mask) the matrix is converted and checked in cache-sized row blocks, and the
missing-data rules touch only the rows that have a missing item: a prorated scale keeps the
complete rows on the whole-array integer path and divides only the others (:class:`_Sparse`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from instruments import (
    AllOf,
    AnswerIs,
    AnyOf,
    BandIs,
    Condition,
    CountIn,
    Instrument,
    Not,
    ScoreIn,
    Unanswered,
)

from ._context import BatchContext, ScoreContext, batch_context_arrays
from ._errors import AnswerError, ContextError
from ._plan import NormPlan, Plan, ScalePlan, compile_plan, scaled_lower, scaled_upper
from ._result import Flag, ScoreResult, ScoreStatus, SubscaleResult

STATUS_CODES: tuple[ScoreStatus, ...] = ("scored", "unscorable", "invalid")
"""``BatchResult.status`` holds indexes into this tuple."""

_SCORED, _UNSCORABLE, _INVALID = 0, 1, 2
_LUT_LIMIT = 1 << 16
_THRESHOLD_BANDS = 8
_BLOCK_BYTES = 1 << 21  # row block for the cache-blocked sums (about the L2/L3 share)
_FLOAT_BLOCK_BYTES = 1 << 19  # float rows converted and checked per block (stays in L2)

I8 = npt.NDArray[np.int8]
I16 = npt.NDArray[np.int16]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
IntMatrix = npt.NDArray[np.signedinteger[Any]] | npt.NDArray[np.unsignedinteger[Any]]
SInt = npt.NDArray[np.signedinteger[Any]]


# --------------------------------------------------------------------------- results


class SubscaleBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True, eq=False):
    """One subscale over all rows (read-only arrays, one entry per row).

    ``status`` indexes :data:`STATUS_CODES`; ``scores`` and ``t_scores`` are NaN where there is
    no score; ``bands`` indexes ``band_codes`` (``-1``: no band); ``positive`` is ``1``/``0``,
    ``-1`` for ``None``.
    """

    subscale_id: str
    band_codes: tuple[str, ...]
    status: I8
    scores: F64
    prorated: Bool
    bands: I8
    positive: I8
    t_scores: F64

    def result(self, row: int) -> SubscaleResult:
        """Row ``row`` as the :class:`SubscaleResult` that :func:`scoring.score` returns."""
        return SubscaleResult(
            subscale_id=self.subscale_id,
            status=STATUS_CODES[int(self.status[row])],
            score=_float_or_none(self.scores[row]),
            prorated=bool(self.prorated[row]),
            band=_code_or_none(self.band_codes, int(self.bands[row])),
            positive=_tri(int(self.positive[row])),
            t_score=_float_or_none(self.t_scores[row]),
        )


class BatchResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True, eq=False):
    """Scores of every row of an answer matrix (read-only numpy arrays, one entry per row).

    Attributes
    ----------
    status : int8[n]
        Index into :data:`STATUS_CODES` (``0`` scored, ``1`` unscorable, ``2`` invalid).
    totals, t_scores : float64[n]
        Unrounded total and its T-score; NaN where there is none.
    bands : int8[n]
        Index into ``band_codes`` (least to most severe); ``-1`` for no band.
    positive : int8[n]
        ``1`` positive, ``0`` negative, ``-1`` for ``None`` (not scored, or no cut-off).
    highest_band, prorated : bool[n]
    answered : int16[n]
        Number of scored items answered.
    missing : bool[n, len(scored_items)]
        True where a scored item is unanswered (columns in ``scored_items`` order).
    subscales : dict[str, SubscaleBatch]
    flag_rules, flag_hits
        One :class:`scoring.Flag` and one ``bool[n]`` per flag rule, in declaration order.
    flags : dict[str, bool[n]]
        Per flag code: raised by any of its rules.

    ``row(i)`` rebuilds the :class:`ScoreResult` of row ``i``; it equals
    ``scoring.score(instrument, answers_of_row_i)``. Every array is read-only; an array that
    holds the same value on every row (e.g. ``prorated`` when nothing is missing) is a
    zero-copy broadcast view.
    """

    instrument_id: str
    instrument_version: str
    scored_items: tuple[str, ...]
    band_codes: tuple[str, ...]
    status: I8
    totals: F64
    t_scores: F64
    bands: I8
    positive: I8
    highest_band: Bool
    prorated: Bool
    answered: I16
    missing: Bool
    subscales: dict[str, SubscaleBatch]
    flag_rules: tuple[Flag, ...]
    flag_hits: tuple[Bool, ...]
    flags: dict[str, Bool]

    def __len__(self) -> int:
        return int(self.status.shape[0])

    def row(self, row: int) -> ScoreResult:
        """Row ``row`` as the :class:`ScoreResult` that :func:`scoring.score` returns."""
        n = len(self)
        if not -n <= row < n:
            raise IndexError(f"row {row} out of range for {n} rows")
        row %= max(n, 1)
        missing_row = self.missing[row]
        return ScoreResult(
            instrument_id=self.instrument_id,
            instrument_version=self.instrument_version,
            status=STATUS_CODES[int(self.status[row])],
            total=_float_or_none(self.totals[row]),
            band=_code_or_none(self.band_codes, int(self.bands[row])),
            prorated=bool(self.prorated[row]),
            answered=int(self.answered[row]),
            missing=tuple(i for i, m in zip(self.scored_items, missing_row, strict=True) if m),
            subscales=tuple(s.result(row) for s in self.subscales.values()),
            flags=tuple(
                flag for flag, hits in zip(self.flag_rules, self.flag_hits, strict=True)
                if hits[row]
            ),
            positive=_tri(int(self.positive[row])),
            highest_band=bool(self.highest_band[row]),
            t_score=_float_or_none(self.t_scores[row]),
        )  # fmt: skip

    def rows(self) -> Iterator[ScoreResult]:
        """Every row as a :class:`ScoreResult` (slow; for tests and small batches)."""
        return (self.row(i) for i in range(len(self)))

    def status_names(self) -> npt.NDArray[np.object_]:
        """``status`` as an object array of status strings."""
        return np.array(STATUS_CODES, dtype=object)[self.status]

    def band_names(self) -> npt.NDArray[np.object_]:
        """``bands`` as an object array of band codes (``None`` for no band)."""
        lookup = np.array([*self.band_codes, None], dtype=object)
        return lookup[self.bands]


def _float_or_none(value: np.floating[Any]) -> float | None:
    return None if math.isnan(value) else float(value)


def _code_or_none(codes: tuple[str, ...], index: int) -> str | None:
    return None if index < 0 else codes[index]


def _tri(value: int) -> bool | None:
    return None if value < 0 else bool(value)


# --------------------------------------------------------------------------- the batch plan


@dataclass(frozen=True, slots=True)
class _Column:
    """An item column's allowed values: ``[lo, hi]`` and, when not contiguous, a lookup."""

    item_id: str
    lo: int
    hi: int
    allowed: Bool | None  # allowed[v - lo]; None when every value in [lo, hi] is allowed


@dataclass(frozen=True, slots=True)
class _ScaleKernel:
    """What the batch scorer needs for one scale beyond the scalar plan."""

    plan: ScalePlan
    columns: tuple[int, ...]  # item columns summed (reverse-keyed ones already keyed)
    acc_dtype: type[np.signedinteger[Any]]
    prorate_dtype: type[np.signedinteger[Any]]  # holds sum x number of items (proration)
    count_dtype: type[np.signedinteger[Any]]  # holds the number of the scale's items
    lut_offset: int
    lut: I8 | None  # band index per rounded score - lut_offset (many raw bands only)
    thresholds: tuple[int, ...]  # few bands: index = number of thresholds crossed
    ascending: bool
    covers_form: bool  # the scale's items are exactly the scored items


@dataclass(frozen=True, slots=True)
class _BatchPlan:
    plan: Plan
    columns: tuple[_Column, ...]
    index: dict[str, int]
    lo: int
    hi: int
    lo_vec: npt.NDArray[np.int64]  # per-column lowest allowed value
    hi_vec: npt.NDArray[np.int64]  # per-column highest allowed value
    uniform: bool  # every column allows exactly [lo, hi]
    lookup_cols: tuple[int, ...]  # columns whose allowed values have gaps
    minus_one_allowed: bool
    value_dtype: type[np.signedinteger[Any]]
    scored_cols: I64
    scored_slice: slice | None  # scored_cols as a slice, when they are consecutive columns
    reverse_cols: I64
    reverse_consts: npt.NDArray[np.int64]
    reads: int  # column reads needed to sum every item scale
    kernels: dict[str, _ScaleKernel]


def _smallest_int(low: int, high: int) -> type[np.signedinteger[Any]]:
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return dtype
    return np.int64


def _band_lookup(
    scale: ScalePlan,
) -> tuple[int, I8 | None, tuple[int, ...], bool]:
    """``(lut_offset, lut, thresholds, ascending)`` for the raw bands of ``scale``."""
    lut_offset, lut = 0, None
    ascending = len(scale.bands) < 2 or scale.bands[1][0] > scale.bands[0][0]
    thresholds: tuple[int, ...] = ()
    if 1 < len(scale.bands) <= _THRESHOLD_BANDS:
        # Contiguous ordered bands: the band index counts the boundaries at or below
        # (ascending) or at or above (descending) the rounded score.
        thresholds = tuple(b[0] if ascending else b[1] for b in scale.bands[1:])
    elif len(scale.bands) > _THRESHOLD_BANDS:
        lut_offset = min(b[0] for b in scale.bands)
        size = max(b[1] for b in scale.bands) - lut_offset + 1
        if size <= _LUT_LIMIT:
            lut = np.full(size, -1, dtype=np.int8)
            for code_index, (low, high, _) in enumerate(scale.bands):
                lut[low - lut_offset : high - lut_offset + 1] = code_index
    return lut_offset, lut, thresholds, ascending


def _as_slice(columns: list[int]) -> slice | None:
    """``columns`` as a slice when they are consecutive and ascending (no columns: empty)."""
    if not columns:
        return slice(0, 0)
    first = columns[0]
    return (
        slice(first, first + len(columns))
        if columns == list(range(first, first + len(columns)))
        else None
    )


def _compile(instrument: Instrument) -> _BatchPlan:
    cached = _CACHE.get(id(instrument))
    if cached is not None and cached[0] is instrument:
        return cached[1]
    plan = compile_plan(instrument)
    columns = []
    for item in instrument.items:
        values = set(item.values)
        low, high = min(values), max(values)
        allowed = None
        if len(values) != high - low + 1:
            allowed = np.zeros(high - low + 1, dtype=np.bool_)
            allowed[[v - low for v in values]] = True
        columns.append(_Column(item.id, low, high, allowed))
    index = {item_id: j for j, item_id in enumerate(plan.item_ids)}
    lo = min(c.lo for c in columns)
    hi = max(c.hi for c in columns)
    kernels: dict[str, _ScaleKernel] = {}
    for scale in plan.scales:
        cols = tuple(index[i] for i in scale.items)
        bound = sum(max(abs(columns[j].lo), abs(columns[j].hi)) for j in cols)
        lut_offset, lut, thresholds, ascending = _band_lookup(scale)
        kernels[scale.id] = _ScaleKernel(
            plan=scale,
            columns=cols,
            acc_dtype=_smallest_int(-bound, bound),
            prorate_dtype=_smallest_int(-bound * len(cols), bound * len(cols)),
            count_dtype=_smallest_int(0, len(cols)),
            lut_offset=lut_offset,
            lut=lut,
            thresholds=thresholds,
            ascending=ascending,
            covers_form=set(scale.items) == set(plan.scored),
        )
    scored_cols = [index[i] for i in plan.scored]
    reverse = [(index[i], c) for i, c in plan.reverse.items()]
    batch_plan = _BatchPlan(
        plan=plan,
        columns=tuple(columns),
        index=index,
        lo=lo,
        hi=hi,
        lo_vec=np.array([c.lo for c in columns], dtype=np.int64),
        hi_vec=np.array([c.hi for c in columns], dtype=np.int64),
        uniform=all(c.lo == lo and c.hi == hi and c.allowed is None for c in columns),
        lookup_cols=tuple(j for j, c in enumerate(columns) if c.allowed is not None),
        minus_one_allowed=any(-1 in plan.value_sets[c.item_id] for c in columns),
        value_dtype=_smallest_int(min(lo, 0), max(hi, 0)),
        scored_cols=np.array(scored_cols, dtype=np.int64),
        scored_slice=_as_slice(scored_cols),
        reverse_cols=np.array([j for j, _ in reverse], dtype=np.int64),
        reverse_consts=np.array([c for _, c in reverse], dtype=np.int64),
        reads=sum(len(kernels[s.id].columns) for s in plan.item_scales),
        kernels=kernels,
    )
    if len(_CACHE) >= 256:
        _CACHE.clear()
    _CACHE[id(instrument)] = (instrument, batch_plan)
    return batch_plan


_CACHE: dict[int, tuple[Instrument, _BatchPlan]] = {}


# --------------------------------------------------------------------------- input checks


def _prepare(
    bp: _BatchPlan, answers: npt.ArrayLike, missing: npt.ArrayLike | None
) -> tuple[IntMatrix, Bool | None, bool]:
    """Check the matrix in whole-array passes.

    Returns the integer answers (0 where missing), the missing mask (``None`` when nothing
    is missing) and whether the mask is private to this call (not the caller's array).
    """
    plan = bp.plan
    matrix = np.asarray(answers)
    n_items = len(plan.item_ids)
    if matrix.ndim != 2 or matrix.shape[1] != n_items:
        raise AnswerError(
            plan.instrument_id,
            None,
            f"{plan.instrument_id}: expected a 2-D answer matrix with {n_items} columns, one per "
            f"item ({', '.join(plan.item_ids)}), got shape {matrix.shape}",
        )
    kind = matrix.dtype.kind
    if kind not in "iuf":
        raise AnswerError(
            plan.instrument_id,
            None,
            f"{plan.instrument_id}: the answer matrix must hold integers (missing: -1 or the "
            f"missing mask) or floats (missing: NaN), got dtype {matrix.dtype}",
        )
    user_mask: Bool | None = None
    if missing is not None:
        user_mask = np.asarray(missing)
        if user_mask.dtype != np.bool_ or user_mask.shape != matrix.shape:
            raise ValueError(
                f"{plan.instrument_id}: missing must be a bool array of the answer matrix's "
                f"shape {matrix.shape}, got {user_mask.dtype} {user_mask.shape}"
            )
    if kind == "f":
        values, mask = _prepare_float(bp, matrix, user_mask)
        return values, mask, True
    if user_mask is None:
        if bp.minus_one_allowed:
            raise AnswerError(
                plan.instrument_id,
                None,
                f"{plan.instrument_id}: -1 is an allowed answer, so it cannot mark a missing "
                "answer; pass missing=<bool mask> (or use a float matrix with NaN)",
            )
        if matrix.size == 0:
            return matrix, None, True
        low, high = int(matrix.min()), int(matrix.max())
        if low != -1 and bp.uniform and low >= bp.lo and high <= bp.hi:
            return _signed(bp, matrix), None, True  # the fast path: one min/max pass
        mask = matrix == -1 if low == -1 else None
        owned = True
        if mask is not None and bp.uniform and bp.lo == 0 and high <= bp.hi:
            # -1 is the only value outside [0, hi] and it is the missing marker: the min/max
            # pass was the whole check.
            return _zeroed_copy(bp, matrix, mask), mask, owned
    else:
        mask, owned = user_mask, False
    bad = _out_of_range(bp, matrix)
    if mask is not None:
        bad &= ~mask
    _raise_first_bad(bp, matrix, bad)
    if mask is None or not mask.any():
        return _signed(bp, matrix), None, True
    return _zeroed_copy(bp, matrix, mask), mask, owned


def _prepare_float(
    bp: _BatchPlan, matrix: npt.NDArray[np.floating[Any]], user_mask: Bool | None
) -> tuple[IntMatrix, Bool | None]:
    """Convert and check a float matrix in cache-sized row blocks.

    Returns the integer answers (0 where missing) and the missing mask (NaN, or-ed with the
    caller's mask; ``None`` when nothing is missing). A value is accepted when it survives the
    exact round trip ``float(int(x)) == x`` (no fraction, no infinity, nothing outside the
    integer type) and is one of its column's allowed values. Each block is read from memory
    once; the cast, the NaN test (``x != x``), the round trip and the range check then run on
    the block while it is in cache, and only a block that may hold a bad value is checked
    cell by cell (to name the first bad row).
    """
    n, n_cols = matrix.shape
    values: IntMatrix = np.empty((n, n_cols), dtype=bp.value_dtype)
    mask: Bool = np.empty((n, n_cols), dtype=np.bool_)
    block = max(_FLOAT_BLOCK_BYTES // max(n_cols * matrix.itemsize, 1), 256)
    size = max(min(block, n), 1)
    back = np.empty((size, n_cols), dtype=matrix.dtype)  # the block's integers as floats
    differs: Bool = np.empty((size, n_cols), dtype=np.bool_)
    keep = np.empty((size, n_cols), dtype=np.int8) if values.dtype == np.int8 else None
    missing_cells = 0
    with np.errstate(invalid="ignore"):  # NaN and out-of-range casts fail the round trip
        for start in range(0, n, block):
            stop = min(start + block, n)
            floats = matrix[start:stop]
            ints = values[start:stop]
            holes = mask[start:stop]
            k = stop - start
            np.copyto(ints, floats, casting="unsafe")
            np.not_equal(floats, floats, out=holes)  # only NaN is unequal to itself
            nan_cells = int(np.count_nonzero(holes))
            np.copyto(back[:k], ints)
            diff = np.not_equal(back[:k], floats, out=differs[:k])  # every NaN differs too
            exact = np.count_nonzero(diff) == nan_cells  # the NaN cells are all that differ
            if user_mask is not None:
                np.logical_or(holes, user_mask[start:stop], out=holes)
                holes_count = int(np.count_nonzero(holes))
            else:
                holes_count = nan_cells
            if holes_count:
                _zero_missing(ints, holes, None if keep is None else keep[:k])
            if not exact or _range_suspect(bp, ints, holes_count):
                bad = diff | _out_of_range(bp, ints)
                bad &= ~holes
                _raise_first_bad(bp, floats, bad, row_offset=start)
            missing_cells += holes_count
    return values, (mask if missing_cells else None)


def _range_suspect(bp: _BatchPlan, ints: IntMatrix, holes: int) -> bool:
    """False when every unmasked value of ``ints`` (0 where masked) is in its column's range.

    True means "maybe not": the caller then checks cell by cell. ``holes`` is the number of
    masked cells.
    """
    if ints.size == 0:
        return False
    if not bp.uniform:
        return bool(_out_of_range(bp, ints).any())  # masked zeros may be reported: harmless
    if bp.hi < 0:
        return True
    if int(ints.max()) > bp.hi:
        return True
    if bp.lo <= 0:
        return int(ints.min()) < bp.lo
    # Every masked cell holds 0 < lo: below-range cells beyond those are bad answers.
    return int(np.count_nonzero(ints < bp.lo)) != holes


def _zero_missing(values: IntMatrix, mask: Bool, scratch: I8 | None = None) -> IntMatrix:
    """Set the masked cells of ``values`` to 0 in place and return ``values``.

    For int8 values this is ``values & (mask - 1)`` (``mask - 1`` is 0 under the mask and
    all ones elsewhere): two vectorised byte passes, much faster than ``np.putmask``.
    """
    if values.dtype == np.int8:
        keep = np.subtract(mask.view(np.int8), np.int8(1), out=scratch)
        np.bitwise_and(values, keep, out=values)
    else:
        np.putmask(values, mask, 0)
    return values


def _zeroed_copy(bp: _BatchPlan, matrix: IntMatrix, mask: Bool) -> IntMatrix:
    """Checked answers in the plan's value type with 0 in the masked cells (a private copy).

    Built in cache-sized row blocks with one small scratch buffer, so that no temporary the
    size of the matrix is allocated. Junk under the mask may wrap in the cast; those cells
    are zeroed right after.
    """
    n, n_cols = matrix.shape
    values: IntMatrix = np.empty((n, n_cols), dtype=bp.value_dtype)
    block = max(_FLOAT_BLOCK_BYTES // max(n_cols * matrix.itemsize, 1), 256)
    scratch = np.empty((max(min(block, n), 1), n_cols), dtype=np.int8)
    for start in range(0, n, block):
        stop = min(start + block, n)
        ints = values[start:stop]
        np.copyto(ints, matrix[start:stop], casting="unsafe")
        _zero_missing(ints, mask[start:stop], scratch[: stop - start])
    return values


def _signed(bp: _BatchPlan, matrix: IntMatrix) -> IntMatrix:
    """Checked answers as signed integers (no copy when they already are).

    Unsigned input is converted: numpy promotes uint64 + int8 to float64.
    """
    return matrix if matrix.dtype.kind == "i" else matrix.astype(bp.value_dtype)


def _out_of_range(bp: _BatchPlan, matrix: npt.NDArray[Any]) -> Bool:
    """True where a value is not one of its column's allowed values (whole-matrix passes)."""
    if bp.uniform and bp.lo == 0 and matrix.dtype.kind == "i":
        # One pass: viewed unsigned, negative values become larger than any allowed value.
        bad: Bool = matrix.view(f"u{matrix.dtype.itemsize}") > bp.hi
    elif bp.uniform:
        bad = (matrix < bp.lo) | (matrix > bp.hi)
    else:
        bad = (matrix < bp.lo_vec) | (matrix > bp.hi_vec)
    for j in bp.lookup_cols:
        column = bp.columns[j]
        if column.allowed is None:
            continue
        inside = np.clip(matrix[:, j], column.lo, column.hi).astype(np.int64) - column.lo
        bad[:, j] |= ~column.allowed[inside]
    return bad


def _raise_first_bad(
    bp: _BatchPlan, matrix: npt.NDArray[Any], bad: Bool, *, row_offset: int = 0
) -> None:
    """Raise AnswerError naming the item and the first row holding a value it does not allow.

    ``matrix`` and ``bad`` may be a row block starting at row ``row_offset``.
    """
    if matrix.size == 0 or not bad.any():
        return
    flat = int(np.argmax(bad))  # row-major: the first bad row, then its first bad column
    row, j = divmod(flat, matrix.shape[1])
    value = matrix[row, j]
    row += row_offset
    plan = bp.plan
    item_id = plan.item_ids[j]
    shown = repr(float(value)) if matrix.dtype.kind == "f" else str(int(value))
    raise AnswerError(
        plan.instrument_id,
        item_id,
        f"{plan.instrument_id}: item {item_id!r} (column {j}), row {row}: {shown} is not an "
        f"allowed answer; allowed values: {plan.allowed_text[item_id]} (missing: NaN in a "
        "float matrix, -1 or the missing mask in an integer matrix)",
        row=row,
        column=j,
    )


def _keyed(bp: _BatchPlan, values: IntMatrix, mask: Bool | None) -> IntMatrix:
    """The answers with reverse-keyed columns keyed (``min + max - value``; 0 where missing)."""
    if bp.reverse_cols.size == 0:
        return values
    keyed = values.copy()
    cols = bp.reverse_cols
    flipped = (bp.reverse_consts - values[:, cols].astype(np.int64)).astype(values.dtype)
    if mask is not None:
        flipped[mask[:, cols]] = 0
    keyed[:, cols] = flipped
    return keyed


def _sums(
    bp: _BatchPlan, keyed: IntMatrix, mask: Bool | None, n: int
) -> dict[str, tuple[SInt, SInt | None]]:
    """Per item scale: the keyed sum and the number of missing items, for every row.

    Wide matrices are processed in row blocks that stay in cache, so that every scale's
    columns are read from cache rather than streamed from memory once per scale. Counts use
    the smallest integer type that holds them (int8 for up to 127 items), so that each column
    addition is a same-type byte loop.
    """
    kernels = [bp.kernels[s.id] for s in bp.plan.item_scales]
    accs = [np.empty(n, dtype=k.acc_dtype) for k in kernels]
    counts = [np.empty(n, dtype=k.count_dtype) for k in kernels] if mask is not None else None
    flags = mask.view(np.int8) if mask is not None else None
    n_cols = keyed.shape[1]
    reads = bp.reads * (2 if mask is not None else 1)
    block = n
    if reads > 1.5 * n_cols:
        row_bytes = n_cols * (keyed.itemsize + (1 if mask is not None else 0))
        block = min(max(_BLOCK_BYTES // max(row_bytes, 1), 4096), 65536)
    for start in range(0, n, max(block, 1)):
        stop = min(start + block, n)
        values_block = keyed[start:stop]
        for index, kernel in enumerate(kernels):
            first, *rest = kernel.columns
            acc = accs[index][start:stop]
            np.copyto(acc, values_block[:, first], casting="same_kind")
            for j in rest:
                np.add(acc, values_block[:, j], out=acc, casting="same_kind")
            if flags is not None and counts is not None:
                flags_block = flags[start:stop]
                count = counts[index][start:stop]
                np.copyto(count, flags_block[:, first])
                for j in rest:
                    np.add(count, flags_block[:, j], out=count)
    return {
        kernel.plan.id: (accs[i], counts[i] if counts is not None else None)
        for i, kernel in enumerate(kernels)
    }


# --------------------------------------------------------------------------- scales


@dataclass(slots=True)
class _Sparse:
    """Denominators that differ from the scale's common one on a few rows only.

    Row ``rows[i]`` has denominator ``den[i]``; ``rows`` is sorted and unique. A prorated
    scale keeps the rows with a missing item here, so that the complete rows (most of them)
    stay on the whole-array integer path.
    """

    rows: I64
    den: I64


@dataclass(slots=True)
class _ScaleArrays:
    """One scale over all rows: row ``i`` scores ``num[i] / den_i`` (an exact fraction).

    ``den`` is one denominator for every row (an int) or one per row (an array); ``sparse``,
    when given, overrides an int ``den`` on its rows. ``scored`` may be ``None`` (every row
    scored).
    """

    status: I8
    num: SInt
    den: I64 | int
    scored: Bool | None  # None: every row scored
    prorated: Bool | None  # None: no row prorated
    rounded: SInt
    band: I8 | None = None  # None: no band on any row
    positive: I8 | None = None  # None: positive is None on every row
    t: F64 | None = None
    sparse: _Sparse | None = None

    def scored_mask(self, n: int) -> Bool:
        return np.ones(n, dtype=np.bool_) if self.scored is None else self.scored

    def dense_den(self, n: int) -> I64 | int:
        """``den`` with the sparse rows applied: an int when every row shares it."""
        if self.sparse is None:
            return self.den
        out = np.full(n, self.den, dtype=np.int64)
        out[self.sparse.rows] = self.sparse.den
        return out

    def values(self) -> F64:
        """``num / den`` as floats (each a correctly rounded division, as in Python)."""
        out = self.num.astype(np.float64)
        if isinstance(self.den, int):
            if self.den != 1:
                out /= self.den
        else:
            rows = np.flatnonzero(self.den != 1)
            out[rows] = self.num[rows] / self.den[rows]
        if self.sparse is not None:
            rows = self.sparse.rows
            out[rows] = self.num[rows] / self.sparse.den
        if self.scored is not None:
            np.putmask(out, ~self.scored, np.nan)
        return out


def _item_scale(
    kernel: _ScaleKernel,
    acc: SInt,
    count: SInt | None,
    form_missing: SInt | None,
    n: int,
) -> _ScaleArrays:
    """Apply the missing-data rule to a scale's keyed sum (see scoring.score).

    Proration touches only the rows with a missing item: their numerator becomes
    :math:`s \\cdot n` and their denominator the :math:`k` answered items (a
    :class:`_Sparse` override), while every complete row keeps :math:`s / 1` (or
    :math:`s / n` for a mean) on the whole-array path.
    """
    scale = kernel.plan
    size = len(scale.items)
    common = size if scale.mean else 1
    partial = None if count is None or scale.rule != "prorate" else count > 0
    # (nonzero on a bool array is much faster than on int8)
    rows = None if partial is None else np.flatnonzero(partial)
    if count is None or (rows is not None and rows.size == 0):
        # Every item answered: a prorated sum is sum * n / n, i.e. the plain sum.
        status = np.zeros(n, dtype=np.int8)
        return _finish_counts(scale, acc, common, status, prorated=None, n=n)
    num: SInt = acc
    prorated: Bool | None = None
    sparse: _Sparse | None = None
    if scale.rule == "complete":
        status = np.greater(count, 0).view(np.int8)  # 1 = _UNSCORABLE, 0 = _SCORED
    elif partial is not None and rows is not None:  # prorate
        over = np.greater(count, scale.max_missing)
        status = over.view(np.int8)  # 1 = _UNSCORABLE, 0 = _SCORED
        prorated = partial & ~over
        answered = count[rows].astype(np.int64)
        np.subtract(size, answered, out=answered)
        np.maximum(answered, 1, out=answered)
        sparse = _Sparse(rows=rows, den=answered)
        if not scale.mean:
            # sum x n / k on rows with missing items; the same sum / 1 elsewhere (n / n = 1).
            num = acc.astype(kernel.prorate_dtype)
            num[rows] *= size
    else:
        blanks = form_missing if scale.blanks_in_form and form_missing is not None else count
        status = np.zeros(n, dtype=np.int8)
        status[blanks > scale.max_missing] = _INVALID
    return _finish_counts(scale, num, common, status, prorated=prorated, n=n, sparse=sparse)


def _finish_counts(
    scale: ScalePlan,
    num: SInt,
    den: I64 | int,
    status: I8,
    *,
    prorated: Bool | None,
    n: int,
    sparse: _Sparse | None = None,
) -> _ScaleArrays:
    scored = None if not status.any() else status == _SCORED
    rounded = _round(num, den, scale.decimals, sparse)
    return _ScaleArrays(
        status=status,
        num=num,
        den=den,
        scored=scored,
        prorated=prorated,
        rounded=rounded,
        sparse=sparse,
    )


def _round(num: SInt, den: I64 | int, decimals: int, sparse: _Sparse | None = None) -> SInt:
    """Half-up rounding in integer units of ``10**-decimals``, exactly.

    .. math:: r = \\left\\lfloor \\frac{2 n 10^{d} + q}{2 q} \\right\\rfloor

    (the same formula as :func:`scoring._rounding.round_half_up_scaled`). With ``sparse``,
    the rows it lists use its denominators. For :math:`q \\ge 1` and ``decimals == 0``,
    :math:`|r| \\le |n|` (:math:`r = n` for :math:`q = 1`; for :math:`q \\ge 2`,
    :math:`|n/q| + 1/2 \\le |n|` when :math:`n \\ne 0`), so the result keeps ``num``'s type.
    """
    unit = 10**decimals
    if sparse is not None and isinstance(den, int):
        base = _round(num, den, decimals)
        # In place, without temporaries: floor(floor(a / q) / 2) = floor(a / 2q) for q > 0.
        fixed = num[sparse.rows].astype(np.int64)
        fixed *= 2 * unit
        fixed += sparse.den
        fixed //= sparse.den
        fixed //= 2
        if base is num:  # q = 1 elsewhere and d = 0: |r| <= |n| on the sparse rows, it fits
            base = num.copy()
        base[sparse.rows] = fixed
        return base
    if isinstance(den, int):
        if den == 1 and unit == 1:
            return num
        wide: I64 = num.astype(np.int64)
        constant: I64 = (2 * wide * unit + den) // (2 * den)
        return constant
    # Only rows with a denominator other than 1 need the division (prorated rows).
    rows = np.flatnonzero(den != 1)
    rounded: I64 = num.astype(np.int64) * unit
    part = num[rows].astype(np.int64)
    rounded[rows] = (2 * part * unit + den[rows]) // (2 * den[rows])
    return rounded


def _composite(scale: ScalePlan, parts: Sequence[_ScaleArrays], n: int) -> _ScaleArrays:
    """The exact sum of the parts, row by row.

    .. math:: \\frac{p}{q} + \\frac{r}{s} = \\frac{p s + r q}{q s} \\big/ \\gcd(p s + r q, q s)

    Invalid when a part is invalid, else unscorable when a part is (RCADS workbook rule:
    a total is missing when any subscale it depends on is missing).
    """
    status = np.zeros(n, dtype=np.int8)
    for part in parts:
        status = np.maximum(status, part.status)  # invalid (2) > unscorable (1) > scored (0)
    num: SInt = parts[0].num.astype(np.int64)
    den: I64 | int = parts[0].dense_den(n)
    for part in parts[1:]:
        part_den = part.dense_den(n)
        if isinstance(den, int) and isinstance(part_den, int) and den == part_den == 1:
            num = num + part.num
            continue
        part_num = part.num.astype(np.int64)
        num = num * part_den + part_num * den
        den = np.asarray(den, dtype=np.int64) * part_den
        common = np.gcd(num, den)
        num = num // common
        den = den // common
    prorated = None
    for part in parts:
        if part.prorated is not None:
            prorated = part.prorated.copy() if prorated is None else prorated | part.prorated
    if prorated is not None:
        prorated &= status == _SCORED
    return _finish_counts(scale, num, den, status, prorated=prorated, n=n)


def _judge(kernel: _ScaleKernel, arrays: _ScaleArrays, groups: I64 | None, n: int) -> None:
    """Bands and cut-off on the rounded raw score, or on the T-score for a normed scale."""
    scale = kernel.plan
    scored = arrays.scored
    rounded = arrays.rounded
    if scale.norms is not None:
        _normed(scale.norms, arrays, groups, n)
        return
    if len(scale.bands) == 1:
        arrays.band = np.zeros(n, dtype=np.int8)
    elif kernel.thresholds:
        band = np.zeros(n, dtype=np.int8)
        for bound in kernel.thresholds:
            crossed = rounded >= bound if kernel.ascending else rounded <= bound
            band += crossed.view(np.int8)
        arrays.band = band
    elif kernel.lut is not None:
        index = rounded if kernel.lut_offset == 0 else rounded - kernel.lut_offset
        if scored is not None:
            index = np.where(scored, index, 0)
        arrays.band = kernel.lut.take(index)
    elif scale.bands:
        band = np.full(n, -1, dtype=np.int8)
        for code_index, (band_low, band_high, _) in enumerate(scale.bands):
            band[(rounded >= band_low) & (rounded <= band_high)] = code_index
        arrays.band = band
    if arrays.band is not None and scored is not None:
        arrays.band[~scored] = -1
    if scale.cutoff is not None:
        low, high = scale.cutoff
        hit = np.ones(n, dtype=np.bool_) if low is None else rounded >= low
        if high is not None:
            hit &= rounded <= high
        positive = hit.view(np.int8)
        if scored is not None:
            positive = np.where(scored, positive, np.int8(-1))
        arrays.positive = positive


def _normed(norms: NormPlan, arrays: _ScaleArrays, groups: I64 | None, n: int) -> None:
    """T-scores, computed exactly once per distinct (raw score, norm group) pair."""
    t = np.full(n, np.nan)
    arrays.t = t
    band = arrays.band = np.full(n, -1, dtype=np.int8)
    positive = arrays.positive = np.full(n, -1, dtype=np.int8)
    if groups is None:
        return
    ok = arrays.scored_mask(n) & (groups >= 0)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return
    num = arrays.num.astype(np.int64)[rows]
    den = np.broadcast_to(np.asarray(arrays.dense_den(n), dtype=np.int64), (n,))[rows]
    common = np.gcd(num, den)
    num, den = num // common, den // common
    group = groups[rows]
    keys = np.stack([num, den, group], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    t_u = np.empty(len(unique))
    band_u = np.empty(len(unique), dtype=np.int8)
    positive_u = np.empty(len(unique), dtype=np.int8)
    codes = [code for _, _, code in norms.bands]
    for k, (u_num, u_den, u_group) in enumerate(unique.tolist()):
        exact_t = norms.t_score(Fraction(u_num, u_den), u_group)
        _, u_band, u_positive = norms.judge(exact_t)
        t_u[k] = float(exact_t)
        band_u[k] = -1 if u_band is None else codes.index(u_band)
        positive_u[k] = -1 if u_positive is None else int(u_positive)
    t[rows] = t_u[inverse]
    band[rows] = band_u[inverse]
    positive[rows] = positive_u[inverse]


# --------------------------------------------------------------------------- conditions


@dataclass(slots=True)
class _Env:
    bp: _BatchPlan
    values: IntMatrix
    mask: Bool | None
    scales: dict[str, _ScaleArrays]
    n: int
    band: I8 | None = None
    band_index: dict[str, int] | None = None

    def holds(self, cond: Condition) -> Bool:
        """Vectorised :func:`scoring._conditions.holds` (same semantics, one bool per row)."""
        n = self.n
        if isinstance(cond, AnswerIs):
            return self.answer_is(cond.item, cond.values)
        if isinstance(cond, Unanswered):
            j = self.bp.index[cond.item]
            return _const(False, n) if self.mask is None else self.mask[:, j].copy()
        if isinstance(cond, AnyOf):
            out = np.zeros(n, dtype=np.bool_)
            for sub in cond.of:
                out |= self.holds(sub)
            return out
        if isinstance(cond, AllOf):
            out = np.ones(n, dtype=np.bool_)
            for sub in cond.of:
                out &= self.holds(sub)
            return out
        if isinstance(cond, Not):
            return ~self.holds(cond.of)
        if isinstance(cond, ScoreIn):
            arrays = self.scales[cond.scale]
            d = self.bp.kernels[cond.scale].plan.decimals
            low, high = scaled_lower(cond.min, d), scaled_upper(cond.max, d)
            out = arrays.scored_mask(n).copy()
            if low is not None:
                out &= arrays.rounded >= low
            if high is not None:
                out &= arrays.rounded <= high
            return out
        if isinstance(cond, CountIn):
            count = np.zeros(n, dtype=np.int32)
            for item in cond.items:
                count += self.answer_is(item, cond.values)
            out = count >= cond.min
            if cond.max is not None:
                out &= count <= cond.max
            return out
        if isinstance(cond, BandIs):
            if self.band is None or self.band_index is None:
                return np.zeros(n, dtype=np.bool_)
            wanted = [self.band_index[b] for b in cond.bands if b in self.band_index]
            return np.isin(self.band, wanted)
        raise TypeError(f"unknown condition {type(cond).__name__}")  # pragma: no cover

    def answer_is(self, item: str, values: tuple[int, ...]) -> Bool:
        j = self.bp.index[item]
        column = self.bp.columns[j]
        allowed = self.bp.plan.value_sets[item]
        wanted = allowed & set(values)
        col = self.values[:, j]
        if not wanted:
            return _const(False, self.n)
        low, high = min(wanted), max(wanted)
        contiguous = all(v in wanted for v in allowed if low <= v <= high)
        if contiguous:
            if low <= column.lo and high >= column.hi:
                if self.mask is None:
                    return _const(True, self.n)
                return ~self.mask[:, j]
            if low <= column.lo:
                out = col <= high
            elif high >= column.hi:
                out = col >= low
            else:
                out = (col >= low) & (col <= high)
        else:
            out = np.isin(col, sorted(wanted))
        if self.mask is not None:  # missing cells hold 0 in self.values
            out &= ~self.mask[:, j]
        return out


# --------------------------------------------------------------------------- the scorer


def score_batch(
    instrument: Instrument,
    answers: npt.ArrayLike,
    *,
    missing: npt.ArrayLike | None = None,
    context: BatchContext | ScoreContext | None = None,
) -> BatchResult:
    """Score every row of an answer matrix; row ``i`` equals ``score()`` of that row.

    Parameters
    ----------
    instrument : Instrument
        A loaded definition.
    answers : array, shape (n, len(instrument.items))
        One row per response, one column per item in ``instrument.item_ids`` order (unscored
        items included). Either floats with NaN for a missing answer, or integers (e.g. int8,
        the fast path) with ``-1`` for a missing answer or a separate ``missing`` mask.
    missing : bool array of the same shape, optional
        True where an answer is missing (the value there is ignored).
    context : BatchContext or ScoreContext, optional
        Per-row grade and gender (or one context for every row); required when the instrument
        has norm-referenced (T-score) scales.

    Returns
    -------
    BatchResult
        Read-only arrays; ``result.row(i)`` is the :class:`ScoreResult` of row ``i``.

    Raises
    ------
    AnswerError
        A value that is not an allowed answer (the message names the item, its column and the
        first bad row; nothing is clamped), a fractional or infinite float, a wrong shape or
        dtype, or ``-1`` used as the missing marker where ``-1`` is an allowed answer.
    ContextError
        Norms are needed and no context is given, or the context arrays are malformed.

    Notes
    -----
    The arithmetic is the scalar scorer's (see :func:`scoring.score`), in exact integers:
    a scale's score is the fraction :math:`p/q` (:math:`q = 1` for complete sums,
    :math:`q = k` answered items for prorated ones), rounded half up as
    :math:`\\lfloor (2 p 10^d + q) / 2q \\rfloor`; the reported float is :math:`p/q`, correctly
    rounded as in the scalar scorer. With up to 8 ordered bands the band index is the number of
    band boundaries the rounded score has crossed; with more, a lookup table. Scale sums are
    column-wise integer additions (int8 accumulators where the range allows), in cache-sized
    row blocks when the scales read more columns than the matrix has. Validation is a few
    whole-matrix passes (for the all-answered int8 matrix: one ``min``/``max``; for a float
    matrix, the cast, the NaN test and the exact round trip on each cache-sized row block).
    Proration divides only the rows with a missing item; the others keep :math:`q = 1`.
    """
    bp = _compile(instrument)
    plan = bp.plan
    values, mask, mask_owned = _prepare(bp, answers, missing)
    n = int(values.shape[0])
    groups = _norm_groups(bp, context, n)
    missing_matrix: Bool | None = None
    form_missing: SInt | None = None
    if mask is not None:
        if bp.scored_slice is None:
            missing_matrix = mask[:, bp.scored_cols]  # a copy
        else:
            missing_matrix = mask[:, bp.scored_slice]  # a view, no copy
            if not mask_owned:
                missing_matrix = missing_matrix.copy()  # never freeze the caller's array
    sums = _sums(bp, _keyed(bp, values, mask), mask, n)
    if missing_matrix is not None:
        form_missing = next(
            (count for scale_id, (_, count) in sums.items() if bp.kernels[scale_id].covers_form),
            None,
        )
        if form_missing is None:
            form_missing = missing_matrix.view(np.int8).sum(axis=1, dtype=np.int16)
    scales: dict[str, _ScaleArrays] = {}
    for scale in plan.item_scales:
        acc, count = sums[scale.id]
        scales[scale.id] = _item_scale(bp.kernels[scale.id], acc, count, form_missing, n)
    for scale in plan.composite_scales:
        scales[scale.id] = _composite(scale, [scales[p] for p in scale.parts], n)
    for scale in plan.scales:
        kernel = bp.kernels[scale.id]
        _judge(kernel, scales[scale.id], groups.get(scale.id), n)

    env = _Env(bp=bp, values=values, mask=mask, scales=scales, n=n)
    invalid: Bool | None = None
    for rule in plan.validity:
        hit = env.holds(rule.when)
        invalid = hit if invalid is None else invalid | hit
    if invalid is not None and invalid.any():
        for arrays in scales.values():
            _invalidate(arrays, invalid, n)
    else:
        invalid = None

    total = scales[plan.total.id] if plan.total is not None else None
    band_codes = plan.band_codes
    band_index = {code: i for i, code in enumerate(band_codes)}
    if plan.classification is not None:
        classification = plan.classification
        band = np.full(n, band_index[classification.default], dtype=np.int8)
        for class_rule in reversed(classification.rules):
            band[env.holds(class_rule.when)] = band_index[class_rule.band]
        if invalid is not None:
            band[invalid] = -1
    elif total is not None and total.band is not None:
        band = total.band
    else:
        band = _const(np.int8(-1), n)
    env.band, env.band_index = band, band_index

    if total is not None:
        status = total.status
    else:
        status = np.zeros(n, dtype=np.int8)
        if invalid is not None:
            status[invalid] = _INVALID
    not_scored = status != _SCORED if status.any() else None
    positive: I8
    if plan.positive_rule is not None:
        positive = env.holds(plan.positive_rule.when).view(np.int8)
    elif plan.classification is not None:
        wanted = [band_index[b] for b in plan.positive_bands]
        positive = np.isin(band, wanted).view(np.int8)
    elif total is not None and total.positive is not None:
        positive = total.positive
    else:
        positive = _const(np.int8(-1), n)
    if not_scored is not None:
        positive = np.where(not_scored, np.int8(-1), positive)

    flag_rules = tuple(Flag(code=r.code, severity=r.severity, item_id=r.item) for r in plan.flags)
    flag_hits = tuple(env.holds(rule.when) for rule in plan.flags)
    # The answer matrix and the scale sums are no longer needed: release them before the
    # float outputs are allocated (a lower peak means fewer fresh pages to fault in).
    del env, values, sums
    by_code: dict[str, Bool] = {}
    for flag, hits in zip(flag_rules, flag_hits, strict=True):
        by_code[flag.code] = hits if flag.code not in by_code else by_code[flag.code] | hits

    highest = plan.highest_band
    n_scored = len(plan.scored)
    if missing_matrix is None or form_missing is None:
        answered: I16 = _const(np.int16(n_scored), n)
        missing_matrix = np.broadcast_to(np.False_, (n, n_scored))
    else:
        answered = np.subtract(n_scored, form_missing, dtype=np.int16)
    nan: F64 = _const(np.float64(np.nan), n)
    result = BatchResult(
        instrument_id=plan.instrument_id,
        instrument_version=plan.instrument_version,
        scored_items=plan.scored,
        band_codes=band_codes,
        status=status,
        totals=total.values() if total is not None else nan,
        t_scores=_or(total.t if total is not None else None, nan),
        bands=band,
        positive=positive,
        highest_band=_const(False, n) if highest is None else band == band_index[highest],
        prorated=_or(total.prorated if total is not None else None, _const(False, n)),
        answered=answered,
        missing=missing_matrix,
        subscales={
            s.id: SubscaleBatch(
                subscale_id=s.id,
                band_codes=s.band_codes,
                status=scales[s.id].status,
                scores=scales[s.id].values(),
                prorated=_or(scales[s.id].prorated, _const(False, n)),
                bands=_or(scales[s.id].band, _const(np.int8(-1), n)),
                positive=_or(scales[s.id].positive, _const(np.int8(-1), n)),
                t_scores=_or(scales[s.id].t, nan),
            )
            for s in plan.subscales
        },
        flag_rules=flag_rules,
        flag_hits=flag_hits,
        flags=by_code,
    )
    _freeze(result)
    return result


_T = TypeVar("_T", bound=np.generic)


def _const(value: _T | bool, n: int) -> npt.NDArray[_T]:
    """A read-only length-``n`` view of one value (no memory is allocated or filled)."""
    scalar = np.bool_(value) if isinstance(value, bool) else value
    view: npt.NDArray[_T] = np.broadcast_to(scalar, (n,))
    return view


def _or(values: npt.NDArray[_T] | None, default: npt.NDArray[_T]) -> npt.NDArray[_T]:
    return default if values is None else values


def _invalidate(arrays: _ScaleArrays, invalid: Bool, n: int) -> None:
    """A validity rule voids the row: the scale becomes invalid with no score."""
    arrays.status = np.where(invalid, np.int8(_INVALID), arrays.status)
    arrays.scored = arrays.scored_mask(n) & ~invalid
    if arrays.band is not None:
        arrays.band = np.where(invalid, np.int8(-1), arrays.band)
    if arrays.positive is not None:
        arrays.positive = np.where(invalid, np.int8(-1), arrays.positive)
    if arrays.prorated is not None:
        arrays.prorated = arrays.prorated & ~invalid
    if arrays.t is not None:
        arrays.t = np.where(invalid, np.nan, arrays.t)


def _norm_groups(bp: _BatchPlan, context: object, n: int) -> dict[str, I64]:
    """Per normed scale, the norm group index of every row (-1: none matches)."""
    plan = bp.plan
    if not plan.needs_norms:
        if context is not None:
            batch_context_arrays(context, n)
        return {}
    if context is None:
        raise ContextError(
            f"{plan.instrument_id}: this definition converts raw scores to T-scores from norms "
            "by grade and gender; pass context=BatchContext(grade=..., gender=...) (or one "
            "ScoreContext for every row)"
        )
    grades, genders = batch_context_arrays(context, n)
    out: dict[str, I64] = {}
    for scale in plan.scales:
        if scale.norms is None:
            continue
        group = np.full(n, -1, dtype=np.int64)
        for index, row in enumerate(scale.norms.groups):
            code = 0 if row.gender == "male" else 1
            hit = (genders == code) & (grades >= row.low_grade) & (grades <= row.high_grade)
            group[hit] = index
        out[scale.id] = group
    return out


def _freeze(result: BatchResult) -> None:
    arrays: list[npt.NDArray[Any]] = [
        result.status, result.totals, result.t_scores, result.bands, result.positive,
        result.highest_band, result.prorated, result.answered, result.missing,
        *result.flag_hits, *result.flags.values(),
    ]  # fmt: skip
    for sub in result.subscales.values():
        arrays += [sub.status, sub.scores, sub.prorated, sub.bands, sub.positive, sub.t_scores]
    for array in arrays:
        array.flags.writeable = False
