"""Local norms (scoring.norms): percentile ranks, McCall's T, grouping, applying, documents."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm, percentileofscore

from scoring.norms import (
    apply_norms,
    build_norms,
    decode_document,
    mccall_t,
    percentile_ranks,
    table_from_document,
    table_to_document,
)


def test_percentile_ranks_by_hand() -> None:
    # Scores 1, 2, 2, 3 (N = 4): PR(2) = 100 * (1 + 0.5 * 2) / 4 = 50;
    # PR(1) = 100 * 0.5 / 4 = 12.5; PR(3) = 100 * (3 + 0.5) / 4 = 87.5; PR(2.5) = 75.
    assert percentile_ranks([1, 2, 2, 3], [1, 2, 2.5, 3]).tolist() == [12.5, 50, 75, 87.5]


def test_percentile_ranks_match_scipy_mean_kind() -> None:
    rng = np.random.default_rng(16)
    sample = rng.integers(0, 28, size=500)
    points = np.arange(-1, 30)
    expected = [percentileofscore(sample, p, kind="mean") for p in points]
    np.testing.assert_allclose(percentile_ranks(sample, points), expected, rtol=0, atol=1e-12)


def test_mccall_t_by_hand() -> None:
    # PR 50 -> z 0 -> T 50; PR 84.1345 (Phi(1)) -> T 60; PR 2.275 (Phi(-2)) -> T 30.
    t = mccall_t([50.0, 100 * norm.cdf(1.0), 100 * norm.cdf(-2.0)])
    np.testing.assert_allclose(t, [50.0, 60.0, 30.0], atol=1e-9)
    assert np.isinf(mccall_t([0.0, 100.0])).all()
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        mccall_t([101.0])


def _small_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Grades 7-9 girls: raw 2, 4, 4, 5 (4 scores); grades 7-9 boys: 0..5 once each (6 scores);
    # grade 10 boys: 3 scores (merged into 7-9 with min_cell 4); a row of unknown gender.
    raw = np.array([2, 4, 4, 5, 0, 1, 2, 3, 4, 5, 1, 1, 6, 3], dtype=float)
    grade = np.array([7, 8, 9, 7, 7, 7, 8, 8, 9, 9, 10, 10, 11, 7])
    gender = np.array(["female"] * 4 + ["male"] * 9 + [None], dtype=object)
    return raw, grade, gender


def test_build_by_hand_with_merge_and_rows_over_the_observed_range() -> None:
    raw, grade, gender = _small_table()
    table = build_norms(
        raw, grade, gender, instrument_id="x", scale="total", score_range=(0, 27), min_cell=4
    )
    by = {(g.gender, g.grades): g for g in table.groups}
    girls = by[("female", (7, 9))]
    # Rows for 2, 3, 4, 5 (3 is attainable and unobserved inside the range): N = 4.
    assert girls.raw.tolist() == [2, 3, 4, 5]
    assert girls.percentile.tolist() == [12.5, 25.0, 50.0, 87.5]
    np.testing.assert_allclose(girls.t, 50 + 10 * norm.ppf([0.125, 0.25, 0.5, 0.875]))
    boys = by[("male", (7, 12))]  # grade 10-12 (n=3) merged into 7-9 (n=6)
    assert boys.n == 9 and boys.raw.tolist() == [0, 1, 2, 3, 4, 5, 6]
    sample = raw[(gender == "male")]
    np.testing.assert_allclose(
        boys.percentile, [percentileofscore(sample, r, kind="mean") for r in boys.raw]
    )
    assert table.excluded == 1 and table.n == 13
    assert any("merged" in note and "7-12" in note for note in table.notes)


def test_a_gender_below_min_cell_is_left_out() -> None:
    raw, grade, gender = _small_table()
    table = build_norms(
        raw, grade, gender, instrument_id="x", scale="total", score_range=(0, 27), min_cell=5
    )
    assert [(g.gender, g.grades) for g in table.groups] == [("male", (7, 12))]
    assert table.excluded == 1 + 4
    assert any("female" in note and "left out" in note for note in table.notes)


def test_apply_is_vectorised_and_clamps_outside_the_observed_range() -> None:
    raw, grade, gender = _small_table()
    table = build_norms(
        raw, grade, gender, instrument_id="x", scale="total", score_range=(0, 27), min_cell=4
    )
    new = apply_norms(
        table,
        [4, 1, 9, 3.5, np.nan, 4, 4],
        [8, 9, 7, 7, 8, 3, 8],
        ["female", "female", "female", "female", "female", "female", None],
    )
    # 4 -> 50; 1 (below 2) -> the row of 2, clamped; 9 -> the row of 5, clamped; 3.5 rounds
    # half up to 4; NaN, grade 3 and unknown gender: no group.
    assert new.percentile[:4].tolist() == [50.0, 12.5, 87.5, 50.0]
    assert new.clamped.tolist() == [False, True, True, False, False, False, False]
    girls = [g.gender for g in table.groups].index("female")
    assert new.group.tolist() == [girls] * 4 + [-1, -1, -1]
    assert np.isnan(new.t[4:]).all()
    # the same as one row at a time
    for i in range(4):
        one = apply_norms(table, [[4, 1, 9, 3.5][i]], [[8, 9, 7, 7][i]], ["female"])
        assert one.t[0] == new.t[i]


def test_document_round_trip_and_checks() -> None:
    raw, grade, gender = _small_table()
    table = build_norms(
        raw, grade, gender, instrument_id="x", scale="total", score_range=(0, 27), min_cell=4
    )
    doc = table_to_document(
        table, version="1", source="campaign:abc", created_at="2026-12-06T00:00:00+00:00"
    )
    import msgspec

    body = msgspec.json.encode(doc)
    again = table_from_document(decode_document(body))
    assert [g.grades for g in again.groups] == [g.grades for g in table.groups]
    np.testing.assert_allclose(again.groups[0].t, table.groups[0].t, atol=1e-4)
    bad = body.replace(b'"runxin-norms/1"', b'"other"')
    with pytest.raises(ValueError, match="format"):
        decode_document(bad)
    with pytest.raises(ValueError, match="not a valid norm document"):
        decode_document(b'{"format": 1}')
    rows = msgspec.to_builtins(doc)
    rows["groups"][0]["rows"][1]["percentile"] = 1.0
    with pytest.raises(ValueError, match="never decrease"):
        decode_document(msgspec.json.encode(rows))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the scale's range"):
        build_norms([30], [7], ["male"], instrument_id="x", scale="t", score_range=(0, 27))
    with pytest.raises(ValueError, match="min_cell"):
        build_norms(
            [3], [7], ["male"], instrument_id="x", scale="t", score_range=(0, 27), min_cell=0
        )
    with pytest.raises(ValueError, match="one entry per score"):
        build_norms([3, 4], [7], ["male"], instrument_id="x", scale="t", score_range=(0, 27))
