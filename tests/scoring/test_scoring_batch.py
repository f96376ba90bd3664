"""score_batch: every row equals score() of that row, for every shipped instrument and every
licensed example, whatever the matrix representation; bad input raises, naming item and row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instruments import Instrument, default_catalogue, load_catalogue, parse_definition
from scoring import (
    STATUS_CODES,
    AnswerError,
    BatchContext,
    ContextError,
    ScoreContext,
    answers_from_list,
    score,
    score_batch,
)

LICENSED = Path(__file__).resolve().parents[1] / "instruments" / "licensed_examples"
SHIPPED = default_catalogue()
ALL = load_catalogue([LICENSED])
INSTRUMENTS = [ALL[i] for i in ALL.ids()]
REPRESENTATIONS = ["float_nan", "int8_sentinel", "int64_mask", "int16_mask_garbage", "uint8_mask"]

Row = list[int | None]


def by_id(instrument: Instrument) -> str:
    return instrument.id


def as_matrix(rows: list[Row], kind: str, n_items: int) -> tuple[npt.NDArray[Any], Any]:
    """The rows in one of the accepted representations, plus the ``missing`` argument."""
    missing = np.array([[v is None for v in row] for row in rows], dtype=bool).reshape(-1, n_items)
    if kind == "float_nan":
        values = [[np.nan if v is None else float(v) for v in row] for row in rows]
        return np.array(values, dtype=np.float64).reshape(-1, n_items), None
    if kind == "int8_sentinel":
        values_i = [[-1 if v is None else v for v in row] for row in rows]
        return np.array(values_i, dtype=np.int8).reshape(-1, n_items), None
    if kind in ("int64_mask", "uint8_mask"):
        values_i = [[0 if v is None else v for v in row] for row in rows]
        dtype = np.int64 if kind == "int64_mask" else np.uint8
        return np.array(values_i, dtype=dtype).reshape(-1, n_items), missing
    # a mask with out-of-range junk under it: masked cells are never read
    values_i = [[999 if v is None else v for v in row] for row in rows]
    return np.array(values_i, dtype=np.int16).reshape(-1, n_items), missing


@st.composite
def answer_rows(draw: st.DrawFn, instrument: Instrument) -> list[Row]:
    n_rows = draw(st.integers(1, 6))
    n_items = len(instrument.items)
    rows: list[Row] = []
    for _ in range(n_rows):
        values: Row = [draw(st.sampled_from(item.values)) for item in instrument.items]
        # Few missing answers most of the time (proration limits), sometimes many.
        n_missing = draw(st.one_of(st.integers(0, 4), st.integers(0, n_items)))
        for index in draw(st.permutations(range(n_items)))[:n_missing]:
            values[index] = None
        rows.append(values)
    return rows


contexts = st.builds(
    ScoreContext,
    grade=st.one_of(st.none(), st.integers(0, 14)),
    gender=st.sampled_from([None, "male", "female"]),
)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_batch_rows_equal_the_scalar_scorer(instrument: Instrument, data: st.DataObject) -> None:
    rows = data.draw(answer_rows(instrument))
    kind = data.draw(st.sampled_from(REPRESENTATIONS))
    row_contexts = [data.draw(contexts) for _ in rows]
    matrix, missing = as_matrix(rows, kind, len(instrument.items))
    context = BatchContext(
        grade=np.array([-1 if c.grade is None else c.grade for c in row_contexts]),
        gender=np.array([c.gender for c in row_contexts], dtype=object),
    )
    batch = score_batch(instrument, matrix, missing=missing, context=context)
    assert len(batch) == len(rows)
    for i, (row, ctx) in enumerate(zip(rows, row_contexts, strict=True)):
        expected = score(instrument, answers_from_list(instrument, row), context=ctx)
        assert batch.row(i) == expected
        for code, hits in batch.flags.items():
            assert bool(hits[i]) is any(f.code == code for f in expected.flags)


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=by_id)
def test_batch_equals_scalar_on_a_seeded_random_matrix(instrument: Instrument) -> None:
    rng = np.random.default_rng(sum(map(ord, instrument.id)))
    n = 300
    matrix = np.stack([rng.choice(item.values, n) for item in instrument.items], axis=1)
    matrix = matrix.astype(np.float64)
    rate = rng.choice([0.0, 0.02, 0.1, 0.5], size=(n, 1))
    matrix[rng.random(matrix.shape) < rate] = np.nan
    grades = rng.integers(1, 13, n)
    genders = rng.choice(np.array(["male", "female"], dtype=object), n)
    batch = score_batch(instrument, matrix, context=BatchContext(grade=grades, gender=genders))
    for i in range(n):
        row = [None if np.isnan(v) else int(v) for v in matrix[i]]
        ctx = ScoreContext(grade=int(grades[i]), gender=genders[i])
        assert batch.row(i) == score(instrument, answers_from_list(instrument, row), context=ctx)


# --------------------------------------------------------------------------- arrays

PHQ9 = SHIPPED["phq9"]
SCARED = SHIPPED["scared"]
ASQ = SHIPPED["asq"]


def test_int8_fast_path_arrays() -> None:
    matrix = np.array([[0] * 10, [3] * 10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [2] * 8 + [0, 1]],
                      dtype=np.int8)  # fmt: skip
    batch = score_batch(PHQ9, matrix)
    assert batch.totals.tolist() == [0.0, 27.0, 9.0, 16.0]
    assert batch.band_codes == ("minimal", "mild", "moderate", "moderately_severe", "severe")
    assert batch.bands.tolist() == [0, 4, 1, 3]
    assert batch.band_names().tolist() == ["minimal", "severe", "mild", "moderately_severe"]
    assert batch.positive.tolist() == [0, 1, 0, 1]
    assert batch.highest_band.tolist() == [False, True, False, False]
    assert batch.status.tolist() == [0, 0, 0, 0]
    assert batch.status_names().tolist() == ["scored"] * 4
    assert batch.answered.tolist() == [9] * 4
    assert not batch.missing.any() and batch.missing.shape == (4, 9)
    assert batch.flags["phq_item9_positive"].tolist() == [False, True, True, False]
    assert batch.flags["phq_item9_unanswered"].tolist() == [False] * 4
    assert np.isnan(batch.t_scores).all()


def test_prorated_and_unscorable_rows() -> None:
    nan = np.nan
    matrix = np.array(
        [
            [2, 1, 1, 1, 1, 1, 1, 1, nan, 0],  # 8 answered: 9 x 9 / 8 = 10.125
            [nan, nan, nan, 3, 3, 3, 3, 3, 2, 0],  # 3 missing: unscorable, item 9 flagged
        ]
    )
    batch = score_batch(PHQ9, matrix)
    assert batch.totals[0] == 10.125
    assert np.isnan(batch.totals[1])
    assert batch.prorated.tolist() == [True, False]
    assert [STATUS_CODES[s] for s in batch.status] == ["scored", "unscorable"]
    assert batch.bands.tolist() == [2, -1]
    assert batch.positive.tolist() == [1, -1]
    assert batch.flags["phq_item9_unanswered"].tolist() == [True, False]
    assert batch.flags["phq_item9_positive"].tolist() == [False, True]
    assert batch.answered.tolist() == [8, 6]
    assert batch.row(1).missing == ("item1", "item2", "item3")


def test_subscale_arrays() -> None:
    matrix = np.zeros((2, 41), dtype=np.int8)
    matrix[1, [1, 10, 16]] = 1  # school avoidance items 2, 11, 17
    batch = score_batch(SCARED, matrix)
    school = batch.subscales["school_avoidance"]
    assert school.scores.tolist() == [0.0, 3.0]
    assert school.positive.tolist() == [0, 1]
    assert school.bands.tolist() == [-1, -1] and school.band_codes == ()
    assert list(batch.subscales) == [s.id for s in SCARED.scoring.subscales]


def test_flags_by_code_combine_rules_sharing_a_code() -> None:
    matrix = np.array([[0, 0, 0, 0, 0], [-1, 0, -1, 0, 0], [0, 0, 0, 0, -1]], dtype=np.int8)
    batch = score_batch(ASQ, matrix)
    assert batch.flags["asq_unanswered"].tolist() == [False, True, False]
    unanswered = [h for f, h in zip(batch.flag_rules, batch.flag_hits, strict=True)
                  if f.code == "asq_unanswered"]  # fmt: skip
    assert [h.tolist() for h in unanswered] == [
        [False, True, False], [False, False, False], [False, True, False], [False, False, False]
    ]  # fmt: skip
    assert batch.band_names().tolist() == ["negative", "non_acute_positive", "negative"]


def test_result_arrays_are_read_only() -> None:
    batch = score_batch(PHQ9, np.zeros((3, 10), dtype=np.int8))
    for array in (batch.totals, batch.bands, batch.status, batch.positive, batch.answered,
                  batch.prorated, batch.missing, batch.flags["phq_item9_positive"]):  # fmt: skip
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1


def test_empty_matrix() -> None:
    batch = score_batch(PHQ9, np.zeros((0, 10), dtype=np.int8))
    assert len(batch) == 0
    assert batch.totals.shape == (0,)
    assert list(batch.rows()) == []


def test_row_index() -> None:
    batch = score_batch(PHQ9, np.ones((2, 10), dtype=np.int8))
    assert batch.row(-1) == batch.row(1)
    with pytest.raises(IndexError):
        batch.row(2)


@pytest.mark.parametrize(
    "dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, np.uint64, np.float32]
)
@pytest.mark.parametrize("instrument_id", ["phq-a", "ces-dc", "k10"])
def test_every_numeric_dtype_and_memory_layout(instrument_id: str, dtype: type) -> None:
    instrument = SHIPPED[instrument_id]
    rng = np.random.default_rng(7)
    matrix = np.stack([rng.choice(item.values, 200) for item in instrument.items], axis=1)
    expected = list(score_batch(instrument, matrix.astype(np.int8)).rows())
    assert list(score_batch(instrument, matrix.astype(dtype)).rows()) == expected
    fortran = np.asfortranarray(matrix.astype(dtype))
    assert list(score_batch(instrument, fortran).rows()) == expected
    strided = np.concatenate([matrix, matrix], axis=1).astype(dtype)[:, : matrix.shape[1]]
    assert list(score_batch(instrument, strided).rows()) == expected


def test_a_list_of_lists_is_accepted() -> None:
    batch = score_batch(PHQ9, [[1] * 10, [0] * 10])
    assert batch.totals.tolist() == [9.0, 0.0]


# --------------------------------------------------------------------------- bad input


def test_out_of_range_names_item_column_and_first_bad_row() -> None:
    matrix = np.zeros((12, 10), dtype=np.int8)
    matrix[9, 0] = 7
    matrix[5, 2] = 4
    matrix[5, 6] = 9
    with pytest.raises(AnswerError) as caught:
        score_batch(PHQ9, matrix)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.item_id, error.row, error.column) == ("item3", 5, 2)
    assert "item 'item3' (column 2), row 5: 4 is not an allowed answer" in str(error)
    assert "allowed values: 0, 1, 2, 3" in str(error)


@pytest.mark.parametrize("bad", [1.5, np.inf, -np.inf, 4.0, -2.0])
def test_bad_floats_are_rejected(bad: float) -> None:
    matrix = np.zeros((3, 10))
    matrix[2, 4] = bad
    with pytest.raises(AnswerError, match=r"'item5' \(column 4\), row 2"):
        score_batch(PHQ9, matrix)


def test_values_under_the_mask_are_ignored_but_unmasked_ones_checked() -> None:
    matrix = np.full((2, 10), 50, dtype=np.int64)
    mask = np.ones((2, 10), dtype=bool)
    assert score_batch(PHQ9, matrix, missing=mask).status.tolist() == [1, 1]
    mask[1, 9] = False
    with pytest.raises(AnswerError, match=r"'difficulty' \(column 9\), row 1: 50"):
        score_batch(PHQ9, matrix, missing=mask)


def test_narrower_columns_are_checked_on_the_fast_path() -> None:
    phqa = SHIPPED["phq-a"]
    matrix = np.zeros((4, len(phqa.items)), dtype=np.int8)
    matrix[3, phqa.item_ids.index("lifetime_attempt")] = 3  # a yes/no item
    with pytest.raises(AnswerError, match=r"'lifetime_attempt' \(column 12\), row 3: 3"):
        score_batch(phqa, matrix)


def test_non_contiguous_option_values() -> None:
    doc: dict[str, Any] = {
        "format": 1, "id": "gappy", "version": "0.1", "title": {"en": "t"},
        "instructions": {"en": "i"}, "languages": {"en": {"status": "unvalidated", "source": "t"}},
        "licence": "t", "citation": "t", "min_age": 0, "max_age": 99,
        "items": [{"id": "a", "text": {"en": "a"}, "options": {"min": 0, "max": 4, "options": [
            {"value": v, "text": {"en": str(v)}} for v in (0, 2, 4)]}}],
        "scoring": {"scored_items": ["a"], "total": {"id": "total", "items": ["a"],
                    "range": [0, 4], "missing": {"rule": "complete", "source": "t"}}},
    }  # fmt: skip
    gappy = parse_definition(json.dumps(doc), "gappy.json")
    assert score_batch(gappy, np.array([[0], [2], [4]])).totals.tolist() == [0, 2, 4]
    with pytest.raises(AnswerError, match=r"row 1: 3 is not an allowed answer"):
        score_batch(gappy, np.array([[4], [3]]))


def test_minus_one_cannot_mark_missing_where_it_is_an_answer() -> None:
    doc: dict[str, Any] = {
        "format": 1, "id": "signed", "version": "0.1", "title": {"en": "t"},
        "instructions": {"en": "i"}, "languages": {"en": {"status": "unvalidated", "source": "t"}},
        "licence": "t", "citation": "t", "min_age": 0, "max_age": 99,
        "items": [{"id": "a", "text": {"en": "a"}, "options": {"min": -1, "max": 1, "options": [
            {"value": v, "text": {"en": str(v)}} for v in (-1, 0, 1)]}}],
        "scoring": {"scored_items": ["a"], "total": {"id": "total", "items": ["a"],
                    "range": [-1, 1], "missing": {"rule": "complete", "source": "t"}}},
    }  # fmt: skip
    signed = parse_definition(json.dumps(doc), "signed.json")
    with pytest.raises(AnswerError, match="pass missing="):
        score_batch(signed, np.array([[-1]], dtype=np.int8))
    batch = score_batch(signed, np.array([[-1], [1]]), missing=np.zeros((2, 1), dtype=bool))
    assert batch.totals.tolist() == [-1.0, 1.0]
    assert score_batch(signed, np.array([[np.nan], [-1.0]])).totals[1] == -1.0


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.zeros((2, 9)), "expected a 2-D answer matrix with 10 columns"),
        (np.zeros(10), "got shape"),
        (np.zeros((2, 10), dtype=bool), "dtype bool"),
        (np.array([[None] * 10], dtype=object), "dtype object"),
        (np.array([["1"] * 10]), "dtype <U1"),
    ],
)
def test_bad_shapes_and_dtypes(matrix: npt.NDArray[Any], message: str) -> None:
    with pytest.raises(AnswerError, match=message) as caught:
        score_batch(PHQ9, matrix)
    assert caught.value.item_id is None


def test_bad_missing_mask() -> None:
    with pytest.raises(ValueError, match="missing must be a bool array"):
        score_batch(PHQ9, np.zeros((2, 10), dtype=np.int8), missing=np.zeros((2, 10)))


# --------------------------------------------------------------------------- context

RCADS = ALL["rcads-example"]


def test_batch_needs_context_for_norms() -> None:
    with pytest.raises(ContextError, match="BatchContext"):
        score_batch(RCADS, np.ones((2, 47), dtype=np.int8))


def test_one_score_context_applies_to_every_row() -> None:
    matrix = np.ones((3, 47), dtype=np.int8)
    ctx = ScoreContext(grade=8, gender="male")
    batch = score_batch(RCADS, matrix, context=ctx)
    expected = score(RCADS, answers_from_list(RCADS, [1] * 47), context=ctx)
    assert all(row == expected for row in batch.rows())


def test_gender_codes_and_unknowns() -> None:
    matrix = np.ones((4, 47), dtype=np.int8)
    by_code = score_batch(
        RCADS, matrix, context=BatchContext(grade=np.array([7, 7, 7, -1]),
                                            gender=np.array([0, 1, -1, 1]))
    )  # fmt: skip
    by_name = score_batch(
        RCADS, matrix, context=BatchContext(grade=np.array([7.0, 7.0, 7.0, np.nan]),
                                            gender=["male", "female", None, "female"])
    )  # fmt: skip
    assert list(by_code.rows()) == list(by_name.rows())
    assert np.isnan(by_code.t_scores[2:]).all()
    assert not np.isnan(by_code.t_scores[:2]).any()


@pytest.mark.parametrize(
    ("grade", "gender", "message"),
    [
        ([7, 7], ["male", "female", "male"], r"gender must have one entry per answer row \(2\)"),
        ([7, 7], ["male", "boy"], r"gender row 1: 'boy'"),
        ([7, 7], [0, 2], r"gender row 1: code 2"),
        ([7, 7.5], ["male", "male"], r"grade row 1: 7.5"),
        (["7", "8"], ["male", "male"], "grade must be integers"),
    ],
)
def test_bad_batch_context(grade: Any, gender: Any, message: str) -> None:
    with pytest.raises(ContextError, match=message):
        score_batch(
            RCADS, np.ones((2, 47), dtype=np.int8),
            context=BatchContext(grade=np.asarray(grade), gender=np.asarray(gender, dtype=object)
                                 if not isinstance(gender[0], int) else np.asarray(gender)),
        )  # fmt: skip
