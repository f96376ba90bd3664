"""The student context a scorer needs for norm-referenced (T-score) scales."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt

from ._errors import ContextError

Gender = Literal["male", "female"]
GENDERS: tuple[Gender, ...] = ("male", "female")
"""Gender codes; in a :class:`BatchContext` integer codes index this tuple (-1 = unknown)."""


class ScoreContext(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Grade and gender of the student, for scales scored against norms.

    ``grade`` is the school grade (e.g. 7 for 初一 / US grade 7) and ``gender`` the binary
    gender the norm tables use. ``None`` means unknown: the norm-referenced scales of that
    response then get no T-score, band or ``positive`` (the raw scores are still reported).
    """

    grade: int | None = None
    gender: Gender | None = None


class BatchContext(msgspec.Struct, frozen=True, forbid_unknown_fields=True, eq=False):
    """Per-row grade and gender for :func:`scoring.score_batch`.

    ``grade``: integers, a negative value meaning unknown (or floats with NaN for unknown).
    ``gender``: strings ``"male"``/``"female"`` (``None`` or ``""`` for unknown) or integer
    codes indexing :data:`GENDERS` (``0`` male, ``1`` female, ``-1`` unknown). Both have one
    entry per answer row.
    """

    grade: npt.ArrayLike
    gender: npt.ArrayLike


def check_context(context: object) -> ScoreContext:
    """Return ``context`` if it is a well-formed :class:`ScoreContext`; else raise ContextError."""
    if not isinstance(context, ScoreContext):
        raise ContextError(
            f"context must be a ScoreContext(grade=..., gender=...), got {type(context).__name__}"
        )
    grade = context.grade
    if grade is not None and (isinstance(grade, bool) or not isinstance(grade, int)):
        raise ContextError(f"context.grade must be an int or None, got {grade!r}")
    if context.gender is not None and context.gender not in GENDERS:
        raise ContextError(
            f"context.gender must be 'male', 'female' or None, got {context.gender!r}"
        )
    return context


def batch_context_arrays(
    context: object, n_rows: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Grades (``-1`` unknown) and gender codes (``-1`` unknown) for ``n_rows`` rows.

    A single :class:`ScoreContext` applies to every row.

    Raises
    ------
    ContextError
        Not a context, a length that is not ``n_rows``, a fractional grade or an unknown gender
        (the message names the first bad row).
    """
    if isinstance(context, ScoreContext):
        check_context(context)
        grade = -1 if context.grade is None or context.grade < 0 else context.grade
        gender = -1 if context.gender is None else GENDERS.index(context.gender)
        return np.full(n_rows, grade, np.int64), np.full(n_rows, gender, np.int8)
    if not isinstance(context, BatchContext):
        raise ContextError(
            "context must be a BatchContext(grade=array, gender=array) or a ScoreContext, "
            f"got {type(context).__name__}"
        )
    return _grades(context.grade, n_rows), _genders(context.gender, n_rows)


def _grades(values: Any, n_rows: int) -> npt.NDArray[np.int64]:
    raw = np.asarray(values)
    _check_shape("grade", raw, n_rows)
    if raw.dtype == np.bool_ or raw.dtype.kind not in "iuf":
        raise ContextError(f"context.grade must be integers (or floats with NaN), got {raw.dtype}")
    if raw.dtype.kind == "f":
        unknown = np.isnan(raw)
        bad = ~unknown & (~np.isfinite(raw) | (raw != np.floor(raw)))
        if bad.any():
            row = int(np.argmax(bad))
            raise ContextError(f"context.grade row {row}: {float(raw[row])!r} is not a whole grade")
        grades = np.where(unknown, -1, raw).astype(np.int64)
    else:
        grades = raw.astype(np.int64)
    grades[grades < 0] = -1
    return grades


def _genders(values: Any, n_rows: int) -> npt.NDArray[np.int8]:
    raw = np.asarray(values)
    _check_shape("gender", raw, n_rows)
    if raw.dtype.kind in "iu" and raw.dtype != np.bool_:
        bad = (raw < -1) | (raw >= len(GENDERS))
        if bad.any():
            row = int(np.argmax(bad))
            raise ContextError(
                f"context.gender row {row}: code {int(raw[row])} is not 0 (male), 1 (female) "
                "or -1 (unknown)"
            )
        return raw.astype(np.int8)
    if raw.dtype.kind not in "OUS":
        raise ContextError(f"context.gender must be strings or integer codes, got {raw.dtype}")
    codes = np.full(n_rows, -1, np.int8)
    known = {"male": 0, "female": 1, "": -1, None: -1}
    for row, value in enumerate(raw.tolist()):
        if not (value is None or isinstance(value, str)) or value not in known:
            raise ContextError(
                f"context.gender row {row}: {value!r} is not 'male', 'female' or unknown"
            )
        codes[row] = known[value]
    return codes


def _check_shape(name: str, raw: npt.NDArray[Any], n_rows: int) -> None:
    if raw.shape != (n_rows,):
        raise ContextError(
            f"context.{name} must have one entry per answer row ({n_rows}), got shape {raw.shape}"
        )
