"""Small-cell suppression is complementary: no hidden cell can be derived from the totals.

The oracle here is independent of the implementation: an attacker who takes every line with
a published total whose hidden cells are all known but one, solves it, and repeats until
nothing changes; and exact linear reasoning (a hidden cell is fixed by the published sums iff
its unit vector lies in the row space of their coefficient matrix: the rank does not grow
when it is added), computed with numpy on the 0/1 matrix.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from page_support import staff_login
from svc_support import app_client, battery_answers, make_settings, seed

from survey_service.app import create_app
from survey_service.campaigns.suppression import SuppressedTable, suppress
from survey_service.clock import ManualClock

Cell = tuple[int, int]


def _lines(height: int, width: int, rows: bool, columns: bool) -> list[list[Cell]]:
    out: list[list[Cell]] = []
    if rows:
        out += [[(i, j) for j in range(width)] for i in range(height)]
    if columns:
        out += [[(i, j) for i in range(height)] for j in range(width)]
    return out


def _peeled(
    table: list[list[int]], published: SuppressedTable, rows: bool, columns: bool
) -> dict[Cell, int]:
    """What the 'only hidden cell of a line' attack recovers (to a fixpoint)."""
    hidden = {(i, j) for i, r in enumerate(published.cells) for j, v in enumerate(r) if v is None}
    known: dict[Cell, int] = {}
    lines = _lines(len(table), len(table[0]), rows, columns)
    changed = True
    while changed:
        changed = False
        for line in lines:
            unknown = [c for c in line if c in hidden and c not in known]
            if len(unknown) == 1:
                total = sum(table[i][j] for i, j in line)  # the published total
                seen = sum(
                    known.get((i, j), published.cells[i][j] or 0)
                    for i, j in line
                    if (i, j) != unknown[0]
                )
                known[unknown[0]] = total - seen
                changed = True
    return known


def _fixed_by_algebra(
    height: int, width: int, hidden: list[Cell], rows: bool, columns: bool
) -> set[Cell]:
    index = {c: n for n, c in enumerate(hidden)}
    equations = [
        [1.0 if c in line else 0.0 for c in hidden]
        for line in _lines(height, width, rows, columns)
        if any(c in index for c in line)
    ]
    if not equations:
        return set()
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    fixed = set()
    for c, n in index.items():
        unit = np.zeros((1, len(hidden)))
        unit[0, n] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            fixed.add(c)
    return fixed


def _check(table: list[list[int]], rows: bool, columns: bool) -> SuppressedTable:
    out = suppress(table, row_totals=rows, column_totals=columns)
    hidden = [(i, j) for i, r in enumerate(out.cells) for j, v in enumerate(r) if v is None]
    for i, r in enumerate(table):
        for j, v in enumerate(r):
            shown = out.cells[i][j]
            assert shown is None or shown == v  # visible cells are the true counts
            if 1 <= v <= 4:
                assert shown is None, (i, j)  # every small cell is hidden
    assert set(out.primary) == {
        (i, j) for i, r in enumerate(table) for j, v in enumerate(r) if 1 <= v <= 4
    }
    assert set(hidden) == set(out.primary) | set(out.secondary)
    assert _peeled(table, out, rows, columns) == {}
    assert _fixed_by_algebra(len(table), len(table[0]), hidden, rows, columns) == set()
    return out


# Counts 0-12, half of them 1-4.
counts = st.one_of(st.integers(1, 4), st.integers(0, 12))


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda w: st.lists(st.lists(counts, min_size=w, max_size=w), min_size=2, max_size=5)
    ),
    st.sampled_from([(True, False), (False, True), (True, True)]),
)
def test_no_hidden_cell_can_be_derived_from_published_totals(
    table: list[list[int]], totals: tuple[bool, bool]
) -> None:
    _check(table, *totals)


def test_concrete_tables_with_cells_of_one_to_four() -> None:
    # Schools × tiers (red, orange, yellow, green) with each school's total published.
    out = _check([[2, 0, 7, 40], [3, 4, 9, 30], [0, 0, 0, 12], [1, 0, 0, 0]], True, False)
    assert out.cells == (
        (None, 0, None, 40),  # red 2 alone: the smallest other non-zero (yellow 7) hides too
        (None, None, 9, 30),  # two small cells protect each other
        (0, 0, 0, 12),
        (None, None, 0, 0),  # nothing else non-zero: a zero is the complement
    )
    # Row and column totals: a rectangle of hidden cells.
    out = _check([[2, 9, 7], [8, 9, 6], [5, 5, 5]], True, True)
    assert out.primary == ((0, 0),) and len(out.secondary) == 3
    # Primary suppression alone would leave red derivable: 42 - 0 - 40 = 2.
    assert _peeled([[2, 0, 40]], SuppressedTable(((None, 0, 40),), ((0, 0),), ()), True, False) == {
        (0, 0): 2
    }


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError, match="non-negative"):
        suppress([[1, -2]])
    with pytest.raises(ValueError, match="hiding a total"):
        suppress([[3], [9]])  # one column with row totals: the total is the cell


T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
ACUTE = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}


def test_coverage_and_district_page_hide_the_complement_of_a_small_tier(
    database_url: str,
) -> None:
    """1 red and 5 green of 6 submitted at DEMO-A: red is small, and green is hidden too, or
    6 - 0 - 0 - 5 would give red away."""
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0, students=72)  # codes i with i % 6 < 3 are DEMO-A's
    codes = [c for i, c in enumerate(seeded.access_codes) if i % 6 < 3][:6]
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=30) as http:
        for n, code in enumerate(codes):
            s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
            r = http.post(
                f"/api/v1/student/sessions/{s['session_id']}/submission",
                headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
                json={"answers": battery_answers(ACUTE if n < 1 else None)},
            )
            assert r.status_code == 201, r.text
        for user in ("lead1", "district1"):
            login = http.post(
                "/api/v1/auth/login", json={"username": user, "password": "pw-test-123"}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            report = http.get("/api/v1/coverage", headers=headers).json()
            school = next(x for x in report["schools"] if x["school_code"] == "DEMO-A")
            assert school["submitted"] == 6
            assert school["tiers"] == {"red": None, "orange": 0, "yellow": 0, "green": None}
        assert staff_login(http, "district1").status_code in (200, 302, 303)
        page = http.get("/staff/district")
        assert page.status_code == 200, page.text
        row = re.search(r'<tr[^>]*><th scope="row">润心实验中学.*?</tr>', page.text, re.S)
        assert row is not None
        cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', row.group(0), re.S)
        submitted, tiers = cells[3], cells[5:9]  # invited, consented, started, submitted, rate
        assert submitted == "6"
        assert [re.sub(r"<[^>]+>", "", t) for t in tiers] == ["不显示", "0", "0", "不显示"]
