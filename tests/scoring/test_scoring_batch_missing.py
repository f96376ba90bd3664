"""score_batch with missing answers: the float matrix is converted and checked in row blocks,
and proration divides only the rows that have a missing item. Complete rows mixed with rows
that have some (or too many) missing answers must score exactly as score() does, across block
boundaries, in every representation; bad values in a later block are still reported by row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from instruments import Instrument, load_catalogue, parse_definition
from scoring import (
    AnswerError,
    BatchContext,
    ScoreContext,
    _batch,
    answers_from_list,
    score,
    score_batch,
)

LICENSED = Path(__file__).resolve().parents[1] / "instruments" / "licensed_examples"
ALL = load_catalogue([LICENSED])
PHQ9 = ALL["phq9"]
BLOCK_ROWS = 256  # the smallest row block the float conversion uses

Row = list[int | None]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the smallest row blocks, so that a few hundred rows span several blocks."""
    monkeypatch.setattr(_batch, "_FLOAT_BLOCK_BYTES", 1)


def mixed_rows(instrument: Instrument, n: int, seed: int) -> list[Row]:
    """Complete rows, rows with one or two missing answers and rows with many, interleaved.

    Every fourth row is complete; the others cycle through 1, 2, 3 and "half the items"
    missing, so that blocks hold complete, prorated and unscorable/invalid rows together.
    """
    rng = np.random.default_rng(seed)
    n_items = len(instrument.items)
    rows: list[Row] = []
    for i in range(n):
        row: Row = [int(rng.choice(item.values)) for item in instrument.items]
        n_missing = (0, 1, 2, 0, 3, 1, max(n_items // 2, 1), 0)[i % 8]
        for j in rng.permutation(n_items)[:n_missing]:
            row[int(j)] = None
        rows.append(row)
    return rows


def representations(
    instrument: Instrument, rows: list[Row]
) -> dict[str, tuple[npt.NDArray[Any], npt.NDArray[np.bool_] | None]]:
    mask = np.array([[v is None for v in row] for row in rows], dtype=bool)
    floats = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    filled = np.where(mask, 0, floats)
    out: dict[str, tuple[npt.NDArray[Any], npt.NDArray[np.bool_] | None]] = {
        "float_nan": (floats, None),
        "float32_nan": (floats.astype(np.float32), None),
        "float_nan_and_mask_with_junk": (np.where(mask, 2.5, floats), mask),
        "int16_mask_with_junk": (np.where(mask, 999, filled).astype(np.int16), mask),
        "uint8_mask": (filled.astype(np.uint8), mask),
    }
    if not any(-1 in item.values for item in instrument.items):
        out["int8_sentinel"] = (np.where(mask, -1, filled).astype(np.int8), None)
    return out


@pytest.mark.parametrize(
    "instrument_id",
    # uniform 0..3 prorated; 1..5 (masked cells are below the range); uneven columns; zero
    # fill with form blanks; six complete scales; composite of prorated, reverse-keyed parts;
    # norms over prorated subscales.
    ["phq9", "k10", "phq-a", "psc17", "scared", "sdq-example", "rcads-example"],
)
@pytest.mark.usefixtures("small_blocks")
def test_mixed_rows_across_blocks_equal_the_scalar_scorer(instrument_id: str) -> None:
    instrument = ALL[instrument_id]
    n = 3 * BLOCK_ROWS + 37
    rows = mixed_rows(instrument, n, seed=len(instrument_id))
    grades = np.arange(n) % 12 + 1
    genders = np.array(["male", "female"], dtype=object)[np.arange(n) % 2]
    expected = [
        score(
            instrument,
            answers_from_list(instrument, row),
            context=ScoreContext(grade=int(grades[i]), gender=genders[i]),
        )
        for i, row in enumerate(rows)
    ]
    assert len({r.status for r in expected}) > 1  # some rows are not scored
    prorated = any(r.prorated or any(s.prorated for s in r.subscales) for r in expected)
    assert prorated is (instrument_id in ("phq9", "phq-a", "sdq-example", "rcads-example"))
    context = BatchContext(grade=grades, gender=genders)
    for kind, (matrix, missing) in representations(instrument, rows).items():
        batch = score_batch(instrument, matrix, missing=missing, context=context)
        for i, want in enumerate(expected):
            assert batch.row(i) == want, (kind, i)


def test_prorated_rows_among_complete_rows_exact_arrays() -> None:
    nan = np.nan
    matrix = np.array(
        [
            [3, 3, 3, 3, 3, 3, 3, 3, 3, 0],  # complete: 27
            [1, 1, 1, 1, 1, 1, 1, 1, nan, 0],  # 8 answered: 8 x 9 / 8 = 9
            [2, 1, 1, 1, 1, 1, 1, 1, 1, 0],  # complete: 10
            [nan, nan, nan, 3, 3, 3, 3, 3, 3, 0],  # 3 missing: unscorable
            [2, 2, 2, 2, 2, 2, 2, nan, nan, nan],  # 7 answered: 14 x 9 / 7 = 18
            [1, 1, 1, 1, 1, 1, 1, nan, 0, 1],  # 8 answered: 7 x 9 / 8 = 7.875 -> 8
            [0, 0, 0, 0, 0, 0, 0, 0, 0, nan],  # difficulty is not scored: complete
        ]
    )
    batch = score_batch(PHQ9, matrix)
    assert batch.totals.tolist()[:3] == [27.0, 9.0, 10.0]
    assert np.isnan(batch.totals[3])
    assert batch.totals.tolist()[4:] == [18.0, 7.875, 0.0]
    assert batch.prorated.tolist() == [False, True, False, False, True, True, False]
    assert batch.status.tolist() == [0, 0, 0, 1, 0, 0, 0]
    assert batch.bands.tolist() == [4, 1, 2, -1, 3, 1, 0]
    assert batch.positive.tolist() == [1, 0, 1, -1, 1, 0, 0]
    assert batch.answered.tolist() == [9, 8, 9, 6, 7, 8, 9]
    assert batch.missing.shape == (7, 9)
    assert batch.missing.sum(axis=1).tolist() == [0, 1, 0, 3, 2, 1, 0]
    assert batch.flags["phq_item9_unanswered"].tolist() == [0, 1, 0, 0, 1, 0, 0]


def test_no_missing_cell_in_a_float_matrix_takes_the_complete_path() -> None:
    matrix = np.array([[1.0] * 10, [3.0] * 10])
    batch = score_batch(PHQ9, matrix)
    assert batch.totals.tolist() == [9.0, 27.0]
    assert not batch.prorated.any() and not batch.missing.any()
    assert batch.answered.tolist() == [9, 9]


MEAN = parse_definition(
    json.dumps(
        {
            "format": 1, "id": "mean-prorate", "version": "0.1", "title": {"en": "t"},
            "instructions": {"en": "i"},
            "languages": {"en": {"status": "unvalidated", "source": "t"}},
            "licence": "t", "citation": "t", "min_age": 0, "max_age": 99,
            "option_sets": {"scale": {"min": 1, "max": 5, "options": [
                {"value": v, "text": {"en": str(v)}} for v in range(1, 6)]}},
            "items": [{"id": f"i{k}", "text": {"en": str(k)}, "options": "scale"}
                      for k in range(1, 9)],
            "scoring": {
                "scored_items": [f"i{k}" for k in range(1, 9)],
                "total": {
                    "id": "total", "items": [f"i{k}" for k in range(1, 9)], "method": "mean",
                    "decimals": 2, "range": [1, 5],
                    "missing": {"rule": "prorate", "max_missing": 2, "source": "t"},
                    "bands": [
                        {"code": "low", "min": 1, "max": 2.99, "source": "t"},
                        {"code": "high", "min": 3, "max": 5, "source": "t"},
                    ],
                    "cutoff": {"min": 3.17, "source": "t"},
                },
            },
        }
    ),
    "mean-prorate.json",
)  # fmt: skip


@pytest.mark.usefixtures("small_blocks")
def test_mean_scale_proration_divides_by_the_answered_items() -> None:
    nan = np.nan
    head = np.array(
        [
            [3, 3, 3, 3, 3, 4, nan, nan],  # 19 / 6 = 3.1666.. -> 3.17: positive
            [3, 3, 3, 3, 3, 3, 3, 4],  # 25 / 8 = 3.125 -> 3.13 (half up): negative
            [3, 3, 3, 3, 3, nan, nan, nan],  # 3 missing: unscorable
            [1, 1, 1, 1, 1, 1, 1, nan],  # 7 / 7 = 1
        ]
    )
    batch = score_batch(MEAN, head)
    assert batch.totals[0] == 19 / 6 and batch.totals[1] == 25 / 8
    assert np.isnan(batch.totals[2]) and batch.totals[3] == 1.0
    assert batch.positive.tolist() == [1, 0, -1, 0]
    assert batch.bands.tolist() == [1, 1, -1, 0]
    assert batch.prorated.tolist() == [True, False, False, True]
    rows = mixed_rows(MEAN, 2 * BLOCK_ROWS + 5, seed=3)
    for kind, (matrix, missing) in representations(MEAN, rows).items():
        batch = score_batch(MEAN, matrix, missing=missing)
        for i, row in enumerate(rows):
            assert batch.row(i) == score(MEAN, answers_from_list(MEAN, row)), (kind, i)


def nan_matrix(instrument: Instrument, n: int) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(11)
    matrix = np.stack([rng.choice(item.values, n) for item in instrument.items], axis=1)
    matrix = matrix.astype(np.float64)
    matrix[rng.random(matrix.shape) < 0.05] = np.nan
    return matrix


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("instrument_id", "column", "bad", "shown"),
    [
        ("phq9", 3, 2.5, "2.5"),
        ("phq9", 3, 4.0, "4.0"),
        ("phq9", 3, -1.0, "-1.0"),
        ("phq9", 3, np.inf, "inf"),
        ("phq9", 3, 300.0, "300.0"),  # wraps in the int8 cast: caught by the round trip
        ("k10", 3, 0.0, "0.0"),  # below 1..5 while the block's missing cells hold 0
        ("phq-a", 12, 2.0, "2.0"),  # lifetime_attempt is a yes/no item among 0..3 items
    ],
)
def test_bad_value_in_a_later_block_names_its_row(
    instrument_id: str, column: int, bad: float, shown: str
) -> None:
    instrument = ALL[instrument_id]
    matrix = nan_matrix(instrument, 4 * BLOCK_ROWS)
    first = 2 * BLOCK_ROWS + 17
    matrix[first, column] = bad
    matrix[3 * BLOCK_ROWS + 1, 0] = 9.5  # a later bad value is not the one reported
    with pytest.raises(AnswerError) as caught:
        score_batch(instrument, matrix)
    assert (caught.value.row, caught.value.column) == (first, column)
    assert f"row {first}: {shown} is not an allowed answer" in str(caught.value)


@pytest.mark.usefixtures("small_blocks")
def test_junk_under_the_mask_is_ignored_in_every_block() -> None:
    matrix = nan_matrix(PHQ9, 3 * BLOCK_ROWS)
    mask = np.isnan(matrix)
    mask[BLOCK_ROWS + 5, 2] = True
    mask[2 * BLOCK_ROWS + 9, 0] = True
    junk = matrix.copy()
    junk[BLOCK_ROWS + 5, 2] = 7.5
    junk[2 * BLOCK_ROWS + 9, 0] = np.inf
    reference = matrix.copy()
    reference[mask] = np.nan
    expected = list(score_batch(PHQ9, reference).rows())
    assert list(score_batch(PHQ9, junk, missing=mask).rows()) == expected
    with pytest.raises(AnswerError, match=rf"row {BLOCK_ROWS + 5}: 7.5"):
        score_batch(PHQ9, junk)


def test_the_callers_mask_is_copied_not_frozen() -> None:
    matrix = np.ones((3, 10), dtype=np.int8)
    mask = np.zeros((3, 10), dtype=bool)
    mask[1, 4] = True
    batch = score_batch(PHQ9, matrix, missing=mask)
    assert batch.missing[1].tolist() == [False] * 4 + [True] + [False] * 4
    mask[2, 0] = True  # still writable, and the result does not change with it
    assert not batch.missing[2].any()
    assert batch.answered.tolist() == [9, 8, 9]
