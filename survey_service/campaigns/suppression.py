"""Small-cell suppression with complementary cells for published count tables (pure).

Counts of students by tier are health data about children: a published table never shows a
count of 1 to ``k - 1`` (primary suppression), and never lets a hidden count be worked out
from the totals published with it and the cells left visible (secondary, or complementary,
suppression). No database, no web, no clock: a table in, the same table with hidden cells out.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import msgspec

MIN_CELL = 5
"""The threshold ``k``: counts of 1 to ``k - 1`` are hidden."""

Cell = tuple[int, int]


class SuppressedTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A count table ready to publish.

    Attributes
    ----------
    cells : tuple of tuple of (int or None)
        The counts, ``None`` where hidden.
    primary : tuple of (int, int)
        ``(row, column)`` of the cells hidden because they are small (1 to ``k - 1``).
    secondary : tuple of (int, int)
        The complementary cells hidden so that no primary cell can be derived.
    """

    cells: tuple[tuple[int | None, ...], ...]
    primary: tuple[Cell, ...]
    secondary: tuple[Cell, ...]


def suppress(
    table: Sequence[Sequence[int]],
    *,
    k: int = MIN_CELL,
    row_totals: bool = True,
    column_totals: bool = False,
) -> SuppressedTable:
    """Hide small cells, then complementary cells, so that no hidden cell can be derived.

    Parameters
    ----------
    table : sequence of sequence of int
        A rectangular table of non-negative counts (e.g. schools × tiers).
    k : int, default 5
        Counts ``1 <= n < k`` are hidden (primary suppression). Zeros are shown: a zero tells
        nothing about any one student, and hiding every zero would hide most small tables.
    row_totals, column_totals : bool
        Which totals are published with the table (each row's and/or each column's sum; the
        grand total is their sum). Totals are always shown: in Runxin they are coverage
        counts (``submitted``) that appear elsewhere anyway, so protection comes from cells.

    Returns
    -------
    SuppressedTable
        The table with ``None`` for hidden cells, and which cells were hidden and why.

    Raises
    ------
    ValueError
        For a ragged table, a negative count, ``k < 2``, or a table that cannot be protected
        without hiding a total (a published line with a single cell, such as a one-column
        table with row totals).

    Notes
    -----
    Method: primary and secondary cell suppression for tables with published margins
    (Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, ch. 4.2 "Sensitivity
    rules" and 4.3 "Table protection methods"; the attacker model of "linear programming /
    audit" there). The published information is the set of linear equations "the hidden cells
    of line L add up to total(L) minus its visible cells" for every line with a published
    total. A hidden cell is *derivable* when that system fixes its value, i.e. when the unit
    vector of the cell lies in the row space of the system's coefficient matrix; this is
    decided exactly with rational Gaussian elimination (reduced row echelon form: a pivot
    variable whose row has no entry in a free column is determined). It covers the familiar
    case — the only hidden cell of a line with a published total — and every combination of
    lines (e.g. a cell joining two otherwise closed groups of hidden cells).

    While some hidden cell is derivable, one more cell on one of its lines is hidden: the
    first, in order of (zero last, smallest count, position), whose hiding makes that cell no
    longer derivable; if no single cell does, the smallest on the line where the cell is alone.
    Hiding cells never makes another cell derivable (the system only gains unknowns), so the
    loop ends, at the latest when whole lines are hidden. Preferring small non-zero
    complements loses the least information and keeps the hidden cell's feasible range wide;
    a zero is used only when a line has no other cell.
    """
    rows = [list(r) for r in table]
    width = len(rows[0]) if rows else 0
    if k < 2:
        raise ValueError(f"k must be at least 2 (got {k})")
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"row {i} has {len(r)} cells, row 0 has {width}")
        for j, v in enumerate(r):
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"cell ({i}, {j}) is {v!r}: counts are non-negative integers")
    primary = [(i, j) for i, r in enumerate(rows) for j, v in enumerate(r) if 0 < v < k]
    hidden = set(primary)
    secondary: list[Cell] = []
    while True:
        exposed = derivable(hidden, len(rows), width, row_totals, column_totals)
        if not exposed:
            break
        pick = None
        # A cell alone on a published line first (the classic case), then the others.
        for cell in sorted(
            exposed, key=lambda c: (not _alone(c, hidden, row_totals, column_totals), c)
        ):
            pick = _complement(rows, hidden, cell, row_totals, column_totals)
            if pick is not None:
                break
        if pick is None:
            raise ValueError(
                f"cells {sorted(exposed)} can only be protected by hiding a total: publish "
                "this table without that total"
            )
        hidden.add(pick)
        secondary.append(pick)
    return SuppressedTable(
        cells=tuple(
            tuple(None if (i, j) in hidden else v for j, v in enumerate(r))
            for i, r in enumerate(rows)
        ),
        primary=tuple(primary),
        secondary=tuple(sorted(secondary)),
    )


def _alone(cell: Cell, hidden: set[Cell], by_row: bool, by_column: bool) -> bool:
    """Whether ``cell`` is the only hidden cell of a line with a published total."""
    i, j = cell
    row = by_row and sum(1 for c in hidden if c[0] == i) == 1
    return row or (by_column and sum(1 for c in hidden if c[1] == j) == 1)


def _complement(
    rows: list[list[int]], hidden: set[Cell], cell: Cell, by_row: bool, by_column: bool
) -> Cell | None:
    """The next cell to hide so that ``cell`` stops being derivable (see :func:`suppress`);
    ``None`` when every cell of its lines is hidden already."""
    i, j = cell
    lines: list[list[Cell]] = []
    if by_row:
        lines.append([(i, c) for c in range(len(rows[i]))])
    if by_column:
        lines.append([(r, j) for r in range(len(rows))])
    candidates = sorted(
        {c for line in lines for c in line if c not in hidden},
        key=lambda c: (rows[c[0]][c[1]] == 0, rows[c[0]][c[1]], c),
    )
    if not candidates:
        return None
    height, width = len(rows), len(rows[0])
    for c in candidates:
        if cell not in derivable(hidden | {c}, height, width, by_row, by_column):
            return c
    alone = [line for line in lines if sum(1 for c in line if c in hidden) == 1]
    for line in alone:
        for c in candidates:
            if c in line:
                return c
    return candidates[0]


def derivable(
    hidden: set[Cell] | frozenset[Cell],
    height: int,
    width: int,
    row_totals: bool,
    column_totals: bool,
) -> set[Cell]:
    """The hidden cells whose value the published totals and visible cells fix exactly.

    Parameters
    ----------
    hidden : set of (int, int)
        The hidden cells.
    height, width : int
        The table's shape.
    row_totals, column_totals : bool
        Which totals are published.

    Returns
    -------
    set of (int, int)
        Each hidden cell ``x`` such that the equations "hidden cells of a line sum to a known
        number" (one per line with a published total) have ``x`` fixed in every solution:
        the unit vector of ``x`` is in the row space of the coefficient matrix. Decided with
        exact rational Gaussian elimination (see :func:`suppress`, Notes).
    """
    lines: list[list[Cell]] = []
    if row_totals:
        lines += [[(i, j) for j in range(width)] for i in range(height)]
    if column_totals:
        lines += [[(i, j) for i in range(height)] for j in range(width)]
    lines = [[c for c in line if c in hidden] for line in lines]
    out: set[Cell] = set()
    for group in _components(hidden, lines):  # independent systems: solve each apart
        unknowns = sorted(group)
        index = {c: n for n, c in enumerate(unknowns)}
        equations: list[list[Fraction]] = []
        for line in lines:
            if line and line[0] in index:
                eq = [Fraction(0)] * len(unknowns)
                for c in line:
                    eq[index[c]] = Fraction(1)
                equations.append(eq)
        pivots = _rref(equations, len(unknowns))
        pivot_columns = {col for col, _ in pivots}
        free = [c for c in range(len(unknowns)) if c not in pivot_columns]
        out |= {unknowns[col] for col, row in pivots if all(equations[row][f] == 0 for f in free)}
    return out


def _components(hidden: set[Cell] | frozenset[Cell], lines: list[list[Cell]]) -> list[set[Cell]]:
    """The hidden cells grouped by shared lines (connected components)."""
    parent = {c: c for c in hidden}

    def find(c: Cell) -> Cell:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for line in lines:
        for c in line[1:]:
            parent[find(c)] = find(line[0])
    groups: dict[Cell, set[Cell]] = {}
    for c in hidden:
        groups.setdefault(find(c), set()).add(c)
    return list(groups.values())


def _rref(matrix: list[list[Fraction]], columns: int) -> list[tuple[int, int]]:
    """Bring ``matrix`` to reduced row echelon form in place; return (column, row) pivots."""
    pivots: list[tuple[int, int]] = []
    row = 0
    for col in range(columns):
        found = next((r for r in range(row, len(matrix)) if matrix[r][col] != 0), None)
        if found is None:
            continue
        matrix[row], matrix[found] = matrix[found], matrix[row]
        lead = matrix[row][col]
        matrix[row] = [v / lead for v in matrix[row]]
        for r in range(len(matrix)):
            if r != row and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[row], strict=True)]
        pivots.append((col, row))
        row += 1
        if row == len(matrix):
            break
    return pivots
