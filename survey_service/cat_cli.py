"""``runxin cat ...``: adaptive screening commands (issue 16); no database.

Kept out of :mod:`survey_service.cli` so that the shared CLI module only gains two lines:
the parser hook :func:`add_cat_parser` and the dispatch to :func:`run_cat`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import msgspec

from survey_service.argtypes import at_least_one, zero_or_more


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_cat_parser(sub: Any) -> None:
    """Add ``runxin cat simulate`` to the CLI's subparsers."""
    cat = sub.add_parser("cat", help="adaptive screening (CAT) over an IRT item bank")
    cat_sub = cat.add_subparsers(dest="cat_command", required=True)
    simulate = cat_sub.add_parser(
        "simulate",
        help="simulate adaptive tests on a bank and compare them with full-bank scoring (JSON)",
        description="Simulate N students (theta ~ N(0, 1)) answering every item of the bank, "
        "run the adaptive test on each (critical items first, maximum information with "
        "randomesque exposure control, EAP) and report the mean test length, the correlation "
        "of the adaptive theta with the full-bank EAP theta, the mean posterior SD and the "
        "item exposure rates as JSON on stdout; progress goes to stderr.",
        epilog="example:\n  runxin cat simulate --bank scoring/cat_banks/sim-grm-200.json "
        "--n 10000 --seed 1 --se 0.3 --max-items 30",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate.add_argument("--bank", required=True, metavar="FILE", help="bank file (JSON)")
    simulate.add_argument("--n", type=at_least_one, default=10_000, help="simulees (10000)")
    simulate.add_argument("--seed", type=zero_or_more, default=0, help="random seed (0)")
    simulate.add_argument(
        "--se", type=_positive_float, default=0.3, help="target posterior SD to stop at (0.3)"
    )
    simulate.add_argument(
        "--max-items", type=at_least_one, default=30, help="longest test, items (30)"
    )
    simulate.add_argument(
        "--min-items", type=zero_or_more, default=1, help="shortest test, items (1)"
    )
    simulate.add_argument(
        "--top-k",
        type=at_least_one,
        default=5,
        help="randomesque exposure control: draw among the k most informative items (5)",
    )


def _err(message: str) -> int:
    print(f"runxin: {message}", file=sys.stderr)
    return 1


def run_cat(args: argparse.Namespace) -> int:
    """Run ``runxin cat <command>``; errors are one line on stderr and exit 1."""
    from scoring.cat import BankError, CatConfig, load_bank, simulate

    if args.cat_command != "simulate":  # pragma: no cover - argparse enforces the choice
        return _err(f"unknown cat command {args.cat_command!r}")
    try:
        bank = load_bank(args.bank)
    except BankError as exc:
        return _err(f"--bank {args.bank}: {exc}")
    try:
        config = CatConfig(
            target_sd=args.se,
            max_items=args.max_items,
            min_items=args.min_items,
            top_k=args.top_k,
        ).check()
    except ValueError as exc:
        return _err(str(exc))
    if args.n < 2:
        return _err(f"--n must be at least 2, got {args.n}")

    def progress(done: int, total: int) -> None:
        print(f"simulating: {done:,} of {total:,} adaptive tests", file=sys.stderr)

    report = simulate(bank, config, n=args.n, seed=args.seed, progress=progress)
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(report), indent=2).decode() + "\n")
    return 0
