"""``runxin irt fit``: calibrate a 2PL or graded response model from a CSV (issue 16).

No database. Kept out of :mod:`survey_service.cli` so that the shared CLI module only gains
the parser hook :func:`add_irt_parser` and the dispatch to :func:`run_irt`.

The CSV has a header row naming the columns; every column is an item except the optional
``--weights`` column (the frequency of each row, for pattern-frequency tables). Item cells
are integers; an empty cell (or ``NA``) is a missing response. The observed integer values of
each item are recoded, in increasing order, to the category indices ``0..K-1``; the output
says which value each index stands for (``"categories"``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

_MISSING = frozenset({"", "NA", "na", "NaN", "nan", "."})
#: Largest category value accepted in a cell (keeps the values in int64 arithmetic).
_LARGEST = 1_000_000_000


class IrtCliError(Exception):
    """A problem with the input the user can fix (one line on stderr, exit 1)."""


def add_irt_parser(sub: Any) -> None:
    """Add ``runxin irt fit`` to the CLI's subparsers."""
    irt = sub.add_parser("irt", help="item response theory (calibration of item parameters)")
    irt_sub = irt.add_subparsers(dest="irt_command", required=True)
    fit = irt_sub.add_parser(
        "fit",
        help="fit a 2PL or graded response model by marginal maximum likelihood (JSON)",
        description="Fit the two-parameter logistic (--model 2pl) or Samejima's graded "
        "response model (--model grm) to the responses in a CSV by marginal maximum "
        "likelihood (EM, theta ~ N(0, 1)) and print the item parameters in slope-intercept "
        "form (logit P(X >= k) = a*theta + d[k-1], b = -d/a) with standard errors as JSON. "
        "One column per item, header row first; an empty cell or NA is a missing response. "
        "Each item's observed integer values are recoded in increasing order to categories "
        '0..K-1 (listed as "categories").',
        epilog="examples:\n  runxin irt fit --model grm --data responses.csv\n"
        "  runxin irt fit --model 2pl --data lsat7.csv --weights freq",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("--model", required=True, choices=("2pl", "grm"), help="the model")
    fit.add_argument("--data", required=True, metavar="PATH", help="CSV file of responses")
    fit.add_argument(
        "--weights",
        metavar="COLUMN",
        default=None,
        help="column holding each row's frequency (default: every row counts once)",
    )


def _read_csv(
    path: Path, weights_column: str | None
) -> tuple[list[str], list[list[int | None]], list[float] | None]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise IrtCliError(f"--data {path}: no such file") from None
    except IsADirectoryError:
        raise IrtCliError(f"--data {path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise IrtCliError(f"--data {path}: not UTF-8 text") from None
    except OSError as exc:
        raise IrtCliError(f"--data {path}: cannot read ({exc.strerror})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise IrtCliError(f"--data {path}: empty file; expected a header row naming the items")
    header = [cell.strip() for cell in rows[0]]
    for index, name in enumerate(header):
        if not name:
            raise IrtCliError(f"--data {path}: column {index + 1} of the header has no name")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise IrtCliError(f"--data {path}: duplicate column name {duplicates[0]!r}")
    if weights_column is not None and weights_column not in header:
        raise IrtCliError(
            f"--weights {weights_column!r}: no such column; the columns are {', '.join(header)}"
        )
    items = [name for name in header if name != weights_column]
    if not items:
        raise IrtCliError(f"--data {path}: no item columns")
    responses: list[list[int | None]] = []
    weights: list[float] = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            raise IrtCliError(
                f"--data {path}: line {line_no} has {len(row)} fields, the header has {len(header)}"
            )
        values: list[int | None] = []
        for name, cell in zip(header, row, strict=True):
            raw = cell.strip()
            if name == weights_column:
                weights.append(_weight(path, line_no, name, raw))
                continue
            if raw in _MISSING:
                values.append(None)
                continue
            try:
                value = int(raw)
            except ValueError:
                raise IrtCliError(
                    f"--data {path}: line {line_no}, column {name!r}: {raw!r} is not an "
                    "integer (use an empty cell for a missing response)"
                ) from None
            if abs(value) > _LARGEST:
                raise IrtCliError(
                    f"--data {path}: line {line_no}, column {name!r}: {raw!r} is not a "
                    f"response category (more than {_LARGEST:,} in absolute value)"
                )
            values.append(value)
        responses.append(values)
    if not responses:
        raise IrtCliError(f"--data {path}: no data rows after the header")
    return items, responses, (weights if weights_column is not None else None)


def _weight(path: Path, line_no: int, name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise IrtCliError(
            f"--data {path}: line {line_no}, column {name!r}: weight {raw!r} is not a "
            "non-negative number"
        )
    return value


def _nullable(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 6)


def run_irt(args: argparse.Namespace) -> int:
    """Run ``runxin irt <command>``; errors are one line on stderr and exit 1."""
    import numpy as np

    from scoring.irt import fit_2pl, fit_grm

    path = Path(args.data)
    try:
        items, rows, weights = _read_csv(path, args.weights)
        matrix = np.array([[-9 if v is None else v for v in row] for row in rows], dtype=np.int64)
        present = matrix != -9
        coded = np.full(matrix.shape, -1, dtype=np.int64)
        categories: list[list[int]] = []
        for j, name in enumerate(items):
            observed = np.unique(matrix[present[:, j], j])
            if observed.shape[0] < 2:
                shown = ", ".join(str(int(v)) for v in observed) or "none"
                raise IrtCliError(
                    f"--data {path}: column {name!r} has fewer than 2 categories "
                    f"(observed: {shown}); drop the item"
                )
            if args.model == "2pl" and observed.shape[0] != 2:
                raise IrtCliError(
                    f"--data {path}: column {name!r} has {observed.shape[0]} categories "
                    f"({', '.join(str(int(v)) for v in observed)}); the 2PL needs "
                    "two (use --model grm)"
                )
            coded[present[:, j], j] = np.searchsorted(observed, matrix[present[:, j], j])
            categories.append([int(v) for v in observed])
        w = None if weights is None else np.array(weights)
        if w is not None and not w.sum() > 0:
            raise IrtCliError(f"--weights {args.weights!r}: the weights sum to zero")
    except IrtCliError as exc:
        print(f"runxin: {exc}", file=sys.stderr)
        return 1
    print(
        f"fitting the {args.model.upper()} to {len(rows):,} rows x {len(items)} items…",
        file=sys.stderr,
    )
    fit = fit_2pl if args.model == "2pl" else fit_grm
    try:
        cal = fit(coded, weights=w, names=items)
    except ValueError as exc:
        print(f"runxin: {exc}", file=sys.stderr)
        return 1
    if not cal.converged:
        print(
            f"runxin: warning: EM did not converge in {cal.iterations} iterations; the "
            "estimates are unreliable (too few respondents, or an item that separates them "
            "perfectly?)",
            file=sys.stderr,
        )
    b = cal.params.thresholds()
    out_items = []
    for j, name in enumerate(items):
        k = len(categories[j]) - 1
        out_items.append(
            {
                "item": name,
                "categories": categories[j],
                "a": _nullable(cal.params.a[j]),
                "d": [_nullable(v) for v in cal.params.d[j, :k]],
                "b": [_nullable(v) for v in b[j, :k]],
                "se_a": _nullable(cal.se_a[j]),
                "se_d": [_nullable(v) for v in cal.se_d[j, :k]],
            }
        )
    result = {
        "model": args.model,
        "loglik": round(cal.loglik, 6),
        "n": round(float(len(rows) if w is None else w.sum()), 6),
        "iterations": cal.iterations,
        "converged": cal.converged,
        "parameterisation": "logit P(X >= k | theta) = a*theta + d[k-1]; b = -d/a; "
        "theta ~ N(0, 1); categories[k] is the CSV value coded k",
        "se_method": "observed information of the marginal likelihood (numerical Hessian)",
        "items": out_items,
    }
    sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return 0
