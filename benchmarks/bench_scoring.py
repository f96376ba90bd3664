"""Batch scorer vs single-response scorer, with the plain-numpy ceiling measured in the same run.

Usage::

    .venv/bin/python benchmarks/bench_scoring.py            # 1,000,000 rows per instrument
    .venv/bin/python benchmarks/bench_scoring.py --rows 50000 --sample 2000

For PHQ-9 and SCARED it times, on one core:

* the plain-numpy ceiling (shared/reference/performance.md section 3): PHQ-9 ``X.sum(axis=1)``,
  band by ``np.searchsorted`` and the item-9 flag; SCARED the total and five subscale sums with
  their cut-offs. Nothing else: no validation, no missing data, no result object;
* the plain-numpy ceiling with missing answers, on the float64 matrix with NaN: PHQ-9
  ``np.nansum`` and an ``np.isnan`` count per row, proration (``sum x 9 / answered`` with up to
  2 missing), band and flag; SCARED the six sums, NaN (any missing item) meaning unscorable,
  and their cut-offs. Again no validation and no result object;
* ``scoring.score_batch`` on an int8 matrix already in memory, every item answered (fast path);
* ``score_batch`` on an int8 matrix with -1 for missing answers and on a float matrix with NaN
  (about 2% missing), i.e. the general path with proration and missing-data rules;
* ``scoring.score`` in a Python loop over a sample of rows (``--sample``, default 20,000), with
  the answer dicts built beforehand; its rate is extrapolated from the sample to ``--rows``.

Goals (issue 3): batch >= 50x the loop, and >= 10 million PHQ-9 rows/s on the int8 fast path
(performance.md proposes >= 0.2x the numpy ceiling). Goal (issue 18): >= 10 million PHQ-9
rows/s on the missing-answer path too (float64 with NaN, and int8 with -1; about 2% of the
answers missing, 1,000,000 rows). Timings are the best of ``--repeat`` runs; the ratios to the
ceilings come from the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instruments import Instrument, default_catalogue
from scoring import answers_from_list, score, score_batch

Matrix = npt.NDArray[Any]


def progress(message: str) -> None:
    print(f"  .. {message}", flush=True)


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """The fastest of ``repeat`` wall-clock timings of ``run()`` in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def answers_matrix(instrument: Instrument, rows: int, rng: np.random.Generator) -> Matrix:
    """Random valid answers, all items answered, as int8 (one column per item)."""
    columns = [
        rng.integers(item.min_value, item.max_value + 1, rows, dtype=np.int8)
        for item in instrument.items
    ]
    return np.ascontiguousarray(np.stack(columns, axis=1))


def with_missing(matrix: Matrix, rate: float, rng: np.random.Generator) -> Matrix:
    out = matrix.copy()
    out[rng.random(out.shape) < rate] = -1
    return out


def phq9_ceiling(matrix: Matrix) -> Callable[[], object]:
    cuts = np.array([5, 10, 15, 20])

    def run() -> object:
        total = matrix[:, :9].sum(axis=1)
        band = np.searchsorted(cuts, total, side="right")
        flag = matrix[:, 8] > 0
        return total, band, flag

    return run


def phq9_nan_ceiling(floats: Matrix) -> Callable[[], object]:
    """Plain numpy on the float matrix with NaN: nansum, missing count, proration, band, flag."""
    cuts = np.array([5, 10, 15, 20])

    def run() -> object:
        items = floats[:, :9]
        missing = np.isnan(items).sum(axis=1)
        total = np.nansum(items, axis=1)
        prorated = np.where(missing <= 2, total * 9 / np.maximum(9 - missing, 1), np.nan)
        band = np.searchsorted(cuts, np.floor(prorated + 0.5), side="right")
        flag = floats[:, 8] > 0
        return prorated, band, flag

    return run


def scared_nan_ceiling(floats: Matrix, instrument: Instrument) -> Callable[[], object]:
    """Plain numpy on the float matrix with NaN: six sums (NaN = unscorable) and cut-offs."""
    return scared_ceiling(floats, instrument)


def scared_ceiling(matrix: Matrix, instrument: Instrument) -> Callable[[], object]:
    index = {item_id: j for j, item_id in enumerate(instrument.item_ids)}
    spec = instrument.scoring
    scales = [s for s in (spec.total, *spec.subscales) if s is not None]
    groups = [([index[i] for i in s.items], s.cutoff.min if s.cutoff else 0) for s in scales]

    def run() -> object:
        out = []
        for columns, cut in groups:
            total = matrix[:, columns].sum(axis=1)
            out.append((total, total >= cut))
        return out

    return run


def loop_rate(instrument: Instrument, matrix: Matrix, sample: int, repeat: int) -> float:
    """Rows per second of ``score()`` in a loop over the first ``sample`` rows (dicts prebuilt)."""
    rows = matrix[:sample].tolist()
    answers = [answers_from_list(instrument, [None if v < 0 else v for v in row]) for row in rows]

    def run() -> None:
        for one in answers:
            score(instrument, one)

    return len(answers) / best_of(max(1, repeat // 2), run)


def check_equal(instrument: Instrument, matrix: Matrix, floats: Matrix, n: int) -> None:
    """The first ``n`` rows of both missing-answer variants equal ``score()`` row by row."""
    sentinel = score_batch(instrument, matrix[:n])
    nan = score_batch(instrument, floats[:n])
    for i, row in enumerate(matrix[:n].tolist()):
        expected = score(
            instrument, answers_from_list(instrument, [None if v < 0 else v for v in row])
        )
        if sentinel.row(i) != expected or nan.row(i) != expected:
            raise SystemExit(f"{instrument.id}: batch row {i} differs from score()")


def fmt(rate: float) -> str:
    return f"{rate / 1e6:10.2f} M/s" if rate >= 1e5 else f"{rate / 1e3:10.1f} k/s"


def bench(
    instrument: Instrument,
    *,
    rows: int,
    sample: int,
    repeat: int,
    rng: np.random.Generator,
    ceiling: Callable[[Matrix], Callable[[], object]],
    nan_ceiling: Callable[[Matrix], Callable[[], object]],
) -> dict[str, float]:
    print(f"\n{instrument.id}: {rows:,} rows x {len(instrument.items)} items")
    progress("generating answers (int8, all answered)")
    matrix = answers_matrix(instrument, rows, rng)
    progress("generating variants with ~2% missing (int8 with -1; float64 with NaN)")
    sentinel = with_missing(matrix, 0.02, rng)
    floats = np.where(sentinel < 0, np.nan, sentinel.astype(np.float64))
    progress("checking batch rows against score() on 2,000 rows (-1 and NaN variants)")
    check_equal(instrument, sentinel, floats, min(rows, 2000))
    progress("timing the plain-numpy ceiling")
    rates = {"ceiling": rows / best_of(repeat, ceiling(matrix))}
    progress("timing the plain-numpy ceiling with NaN (float64, ~2% missing)")
    rates["nan_ceiling"] = rows / best_of(repeat, nan_ceiling(floats))
    progress("timing score_batch, int8 all answered (fast path)")
    score_batch(instrument, matrix[:1000])  # compile the plan once
    rates["batch_int8"] = rows / best_of(repeat, lambda: score_batch(instrument, matrix))
    progress("timing score_batch, int8 with -1 for missing")
    rates["batch_int8_missing"] = rows / best_of(repeat, lambda: score_batch(instrument, sentinel))
    progress("timing score_batch, float64 with NaN for missing")
    rates["batch_float"] = rows / best_of(repeat, lambda: score_batch(instrument, floats))
    progress(f"timing score() in a loop over a {min(sample, rows):,}-row sample (extrapolated)")
    rates["loop"] = loop_rate(instrument, sentinel, min(sample, rows), repeat)
    return rates


CEILING_LABELS = {
    "phq9": "plain numpy ceiling (sum + band + flag)",
    "scared": "plain numpy ceiling (6 sums + 6 cut-offs)",
}
NAN_CEILING_LABELS = {
    "phq9": "plain numpy, NaN (nansum+count+prorate+band)",
    "scared": "plain numpy, NaN (6 sums + 6 cut-offs)",
}


def report(instrument_id: str, rows: int, sample: int, rates: dict[str, float]) -> None:
    loop = rates["loop"]
    ceiling = rates["ceiling"]
    lines = [
        (CEILING_LABELS[instrument_id], rates["ceiling"]),
        (NAN_CEILING_LABELS[instrument_id], rates["nan_ceiling"]),
        ("score_batch int8, all answered", rates["batch_int8"]),
        ("score_batch int8, -1 = missing (~2%)", rates["batch_int8_missing"]),
        ("score_batch float64, NaN = missing (~2%)", rates["batch_float"]),
        (f"score() loop ({min(sample, rows):,}-row sample, extrapolated)", loop),
    ]
    nan_ceiling = rates["nan_ceiling"]
    pad = " " * len(instrument_id)
    print(f"\n{instrument_id}  {'path':<48} {'rows/s':>14} {'x loop':>9} {'x ceiling':>10} "
          f"{'x NaN ceil':>11}")  # fmt: skip
    for label, rate in lines:
        ratios = f"{rate / loop:>8.0f}x {rate / ceiling:>9.2f}x {rate / nan_ceiling:>10.2f}x"
        print(f"{pad}  {label:<48} {fmt(rate):>14} {ratios}")
    seconds = rows / loop
    batch_ms = rows / rates["batch_int8"] * 1e3
    print(f"{pad}  (the loop would take about {seconds:,.0f} s for "
          f"{rows:,} rows; batch int8 takes {batch_ms:,.0f} ms)")  # fmt: skip
    nan_rate = rates["batch_float"]
    print(f"{pad}  missing-answer path (float64, NaN = missing, ~2%): {fmt(nan_rate).strip()}\n"
          f"{pad}  = {nan_rate / ceiling:.2f}x the numpy ceiling (complete int8), "
          f"{nan_rate / nan_ceiling:.2f}x the numpy ceiling with NaN")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per instrument")
    parser.add_argument("--sample", type=int, default=20_000, help="rows timed in the loop")
    parser.add_argument("--repeat", type=int, default=5, help="timings per measurement")
    parser.add_argument("--seed", type=int, default=20250101)
    args = parser.parse_args()
    if args.rows < 1 or args.sample < 1 or args.repeat < 1:
        parser.error("--rows, --sample and --repeat must be positive")
    rng = np.random.default_rng(args.seed)
    catalogue = default_catalogue()
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}; single process, one core "
          "(these numpy operations are single-threaded)")  # fmt: skip
    phq9 = catalogue.get("phq9")
    scared = catalogue.get("scared")
    results = {
        "phq9": bench(
            phq9, rows=args.rows, sample=args.sample, repeat=args.repeat, rng=rng,
            ceiling=phq9_ceiling, nan_ceiling=phq9_nan_ceiling,
        ),
        "scared": bench(
            scared, rows=args.rows, sample=args.sample, repeat=args.repeat, rng=rng,
            ceiling=lambda m: scared_ceiling(m, scared),
            nan_ceiling=lambda m: scared_nan_ceiling(m, scared),
        ),
    }  # fmt: skip
    print("\n" + "=" * 96)
    for instrument_id, rates in results.items():
        report(instrument_id, args.rows, args.sample, rates)
    print("\n" + "=" * 96)
    phq = results["phq9"]
    goals = [
        ("PHQ-9 batch int8 >= 10 M rows/s", phq["batch_int8"] >= 10e6, fmt(phq["batch_int8"])),
        (
            "PHQ-9 batch int8 >= 0.2x numpy ceiling",
            phq["batch_int8"] >= 0.2 * phq["ceiling"],
            f"{phq['batch_int8'] / phq['ceiling']:.2f}x",
        ),
        (
            "PHQ-9 batch float64 NaN (~2% missing) >= 10 M rows/s (issue 18)",
            phq["batch_float"] >= 10e6,
            f"{fmt(phq['batch_float']).strip()}, "
            f"{phq['batch_float'] / phq['ceiling']:.2f}x ceiling, "
            f"{phq['batch_float'] / phq['nan_ceiling']:.2f}x NaN ceiling",
        ),
        (
            "PHQ-9 batch int8 -1 (~2% missing) >= 10 M rows/s (issue 18)",
            phq["batch_int8_missing"] >= 10e6,
            f"{fmt(phq['batch_int8_missing']).strip()}, "
            f"{phq['batch_int8_missing'] / phq['ceiling']:.2f}x ceiling",
        ),
    ]
    for instrument_id, rates in results.items():
        worst = min(rates["batch_int8"], rates["batch_int8_missing"], rates["batch_float"])
        goals.append(
            (f"{instrument_id} batch >= 50x the loop (slowest batch path)",
             worst >= 50 * rates["loop"], f"{worst / rates['loop']:.0f}x")
        )  # fmt: skip
    for label, ok, value in goals:
        print(f"  [{'ok' if ok else 'MISSED'}] {label}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
