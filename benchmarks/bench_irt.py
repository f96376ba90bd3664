"""IRT calibration, EAP scoring and CAT item selection against published Python packages.

Usage::

    make bench-irt                                      # makes .venv-bench, runs everything
    .venv/bin/python benchmarks/bench_irt.py            # competitors from .venv-bench if present
    .venv/bin/python benchmarks/bench_irt.py --grm-persons 2000 --eap-persons 20000 --cat-runs 20

One run prints, side by side (issue 16):

* GRM calibration on ``--grm-persons`` (20,000) simulated respondents x 20 items x 5 categories
  (seeded; true slopes and intercepts known) and 2PL calibration on LSAT7 (Bock & Lieberman,
  1970; 1,000 examinees as 32 response patterns; R mirt's published estimates as the
  reference, from ``tests/scoring/data/irt_reference.json``), by ``scoring.irt``
  (``fit_grm``/``fit_2pl``) and by the published Python packages girth (Ryan Sanchez) and mirt
  (Cameron Lyons; PyPI ``mirt``, not the R package): wall-clock time of the fit, RMSE and
  correlation of the slopes and intercepts with the true (GRM) or published (LSAT7) values, the
  largest difference from our estimates, and the marginal log-likelihood of each package's
  estimates computed by one function here (so the numbers are comparable whatever each package
  reports; the maximum likelihood estimate has the highest one);
* EAP scoring (``scoring.irt.eap``, 61 grid points) of ``--eap-persons`` (1,000,000) respondents
  on a 20-item GRM, goal < 10 s, beside two plain-numpy ceilings measured in the same run: the
  one-hot (N, J*K) x (J*K, Q) matrix product alone, and a plain-numpy EAP (that product, the
  prior, exp and the two posterior moments) on a one-hot matrix built beforehand;
* CAT next-item selection on a ``--bank`` (200)-item GRM bank: p50/p99 latency of one
  selection call over simulated adaptive tests, goal p99 < 5 ms, beside the plain-numpy ceiling
  (Fisher information of the whole bank at one theta, mask, argmax).

The competitors run in a separate Python (``--competitor-python``, default ``.venv-bench/bin/
python``: ``make bench-irt`` creates it with ``pip install girth mirt``) through
``benchmarks/_irt_competitors.py``; they are never installed into the project's ``.venv``. A
competitor that is not installed there is skipped with a message. Each package fits with its own
defaults: ours 61 points on [-6, 6] and EM until no parameter moves by 1e-6 (``--points`` and
``--tol`` change them), mirt 21 points and tol 1e-4, girth 41 points on [-4.5, 4.5] and at most
25 cycles until no slope moves by 1e-3; mirt and girth compute no standard errors, so the row
"ours" does not either ("ours + standard errors" adds them). Every library is held to one
thread (``OMP/OPENBLAS/MKL/RAYON_NUM_THREADS=1`` unless already set), so the numbers compare
algorithms, not core counts. Fit times are the fastest of ``--fit-repeat`` runs (each package
first fits a small warm-up data set); EAP times the fastest of ``--repeat``. The results are
also written as JSON (``--json``, default ``benchmarks/results/irt.json``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

COMPETITORS = ("girth", "mirt")
WORKER = Path(__file__).resolve().with_name("_irt_competitors.py")

# LSAT7 (Bock & Lieberman, 1970, Psychometrika 35(2), 179-197): 32 response patterns of five
# binary items with their frequencies (1,000 examinees), and R mirt's published 2PL estimates
# (mirt(expand.table(LSAT7), 1)), as committed with their sources for the IRT reference tests.
REFERENCE = ROOT / "tests" / "scoring" / "data" / "irt_reference.json"


def lsat7() -> tuple[IntArray, IntArray, tuple[FloatArray, FloatArray]]:
    """LSAT7 patterns (32, 5), frequencies (32,) and R mirt's published slopes and intercepts."""
    block = json.loads(REFERENCE.read_text(encoding="utf-8"))["lsat7"]
    published = (
        np.asarray(block["a"], dtype=np.float64),
        np.asarray(block["d"], dtype=np.float64).reshape(-1, 1),
    )
    return (
        np.asarray(block["patterns"], dtype=np.int64),
        np.asarray(block["freq"], dtype=np.int64),
        published,
    )


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """The fastest of ``repeat`` wall-clock timings of ``run()`` and the last result."""
    best = float("inf")
    result: object = None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


# --------------------------------------------------------------------------------------------
# Simulation and a model-neutral marginal log-likelihood


def simulate_grm_items(
    items: int, categories: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """True slopes ``a`` (J,) and intercepts ``d`` (J, K-1), decreasing along k.

    Slopes uniform on [0.7, 2.5]; thresholds ``b_jk`` = item location N(0, 0.6) + evenly spaced
    offsets over [-1.5, 1.5] + N(0, 0.2) noise, sorted; ``d = -a * b``.
    """
    a = rng.uniform(0.7, 2.5, items)
    offsets = np.linspace(-1.5, 1.5, categories - 1) if categories > 2 else np.zeros(1)
    b = rng.normal(0.0, 0.6, (items, 1)) + offsets[None, :]
    b = np.sort(b + rng.normal(0.0, 0.2, b.shape), axis=1)
    return a, -a[:, None] * b


def simulate_responses(
    a: FloatArray, d: FloatArray, persons: int, rng: np.random.Generator, chunk: int = 100_000
) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """GRM responses (int8, persons x items) of respondents with theta ~ N(0, 1)."""
    theta = rng.standard_normal(persons)
    out = np.empty((persons, a.shape[0]), dtype=np.int8)
    for start in range(0, persons, chunk):
        t = theta[start : start + chunk]
        star = 1.0 / (1.0 + np.exp(-(a[None, :, None] * t[:, None, None] + d[None, :, :])))
        u = rng.random((t.shape[0], a.shape[0], 1))
        out[start : start + t.shape[0]] = (u < star).sum(axis=2)
    return out, theta


def marginal_loglik(
    responses: IntArray, weights: FloatArray, a: FloatArray, d: FloatArray, points: int = 121
) -> float:
    """``sum_i w_i log sum_q pi_q prod_j P(X_ij = x_ij | theta_q)`` for any GRM/2PL estimates.

    Theta ~ N(0, 1) on ``points`` equally spaced nodes over [-6, 6] with normalised normal
    density weights; written here independently of ``scoring.irt`` so that every package's
    estimates are judged by the same function.
    """
    nodes = np.linspace(-6.0, 6.0, points)
    log_prior = -0.5 * nodes**2
    log_prior -= np.log(np.exp(log_prior).sum())
    star = 1.0 / (1.0 + np.exp(-(a[:, None, None] * nodes[None, None, :] + d[:, :, None])))
    ones = np.ones((a.shape[0], 1, points))
    zeros = np.zeros((a.shape[0], 1, points))
    probs = -np.diff(np.concatenate([ones, star, zeros], axis=1), axis=1)  # (J, K, Q)
    logp = np.log(np.maximum(probs, 1e-300))
    total = 0.0
    items = np.arange(a.shape[0])
    for start in range(0, responses.shape[0], 20_000):
        block = responses[start : start + 20_000]
        answered = block >= 0
        cell = logp[items[None, :], np.where(answered, block, 0), :]  # (n, J, Q)
        loglik = np.where(answered[:, :, None], cell, 0.0).sum(axis=1) + log_prior[None, :]
        peak = loglik.max(axis=1)
        per_person = peak + np.log(np.exp(loglik - peak[:, None]).sum(axis=1))
        total += float(weights[start : start + 20_000] @ per_person)
    return total


def agreement(
    a: FloatArray, d: FloatArray, ref_a: FloatArray, ref_d: FloatArray
) -> dict[str, float]:
    """RMSE and Pearson correlation of slopes and intercepts (padded intercepts ignored)."""
    mask = ~(np.isnan(d) | np.isnan(ref_d))
    da, rda = d[mask], ref_d[mask]
    corr_a = float(np.corrcoef(a, ref_a)[0, 1]) if a.shape[0] > 2 else float("nan")
    return {
        "rmse_a": float(np.sqrt(np.mean((a - ref_a) ** 2))),
        "rmse_d": float(np.sqrt(np.mean((da - rda) ** 2))),
        "max_abs_a": float(np.max(np.abs(a - ref_a))),
        "max_abs_d": float(np.max(np.abs(da - rda))),
        "corr_a": corr_a,
        "corr_d": float(np.corrcoef(da, rda)[0, 1]),
    }


# --------------------------------------------------------------------------------------------
# The fits: ours in process, the competitors in their own Python


def default_competitor_python() -> str:
    bench = ROOT / ".venv-bench" / "bin" / "python"
    return str(bench) if bench.exists() else sys.executable


def run_competitor(
    python: str, package: str, model: str, responses: IntArray, *, repeat: int, workdir: Path
) -> dict[str, Any]:
    """Fit with ``package`` in ``python``; ``{"missing": why}`` when it cannot run there."""
    path = workdir / f"{model}-{package}.npz"
    np.savez(path, responses=responses)
    run = subprocess.run(
        [python, str(WORKER), package, model, str(path), str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = run.stdout.strip().splitlines()
    if run.returncode != 0 or not lines:
        tail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return {"missing": f"{package} failed in {python}: {tail}"}
    out: dict[str, Any] = json.loads(lines[-1])
    if "missing" not in out:
        out["a"] = np.asarray(out["a"], dtype=np.float64)
        out["d"] = np.asarray(out["d"], dtype=np.float64)  # JSON null -> NaN
    return out


def fit_ours(
    model: str, responses: IntArray, weights: IntArray | None, *, args: argparse.Namespace, se: bool
) -> dict[str, Any]:
    """Our fit, with its defaults unless ``--points``/``--tol``; ``se`` adds standard errors."""
    from scoring.irt import fit_2pl, fit_grm

    fit = fit_2pl if model == "2pl" else fit_grm
    options: dict[str, Any] = {"standard_errors": se}
    if args.points is not None:
        options["points"] = args.points
    if args.tol is not None:
        options["tol"] = args.tol
    seconds, result = best_of(args.fit_repeat, lambda: fit(responses, weights=weights, **options))
    calibration: Any = result
    return {
        "package": "runxin scoring.irt",
        "version": "this tree",
        "seconds": seconds,
        "a": np.asarray(calibration.params.a, dtype=np.float64),
        "d": np.asarray(calibration.params.d, dtype=np.float64),
        "loglik_reported": float(calibration.loglik),
        "iterations": int(calibration.iterations),
        "converged": bool(calibration.converged),
    }


def calibration_table(
    title: str,
    model: str,
    responses: IntArray,
    weights: IntArray | None,
    *,
    truth: tuple[FloatArray, FloatArray] | None,
    args: argparse.Namespace,
    workdir: Path,
) -> list[dict[str, Any]]:
    """Fit with every package, score each fit the same way; rows for the table and JSON."""
    expanded = np.repeat(responses, weights, axis=0) if weights is not None else responses
    rows: list[dict[str, Any]] = []
    progress(f"{title}: fitting with scoring.irt")
    rows.append({"name": "ours", **fit_ours(model, expanded, None, args=args, se=False)})
    rows.append(
        {
            "name": "ours + standard errors",
            **fit_ours(model, expanded, None, args=args, se=True),
        }
    )
    if weights is not None:
        progress(f"{title}: fitting with scoring.irt on the {len(weights)} weighted patterns")
        rows.append(
            {"name": f"ours, {len(weights)} patterns + weights",
             **fit_ours(model, responses, weights, args=args, se=False)}
        )  # fmt: skip
    for package in args.competitors:
        progress(f"{title}: fitting with {package} ({args.competitor_python})")
        out = run_competitor(
            args.competitor_python,
            package,
            model,
            expanded,
            repeat=args.fit_repeat,
            workdir=workdir,
        )
        if "missing" in out:
            print(f"  [skipped] {package}: {out['missing']}", file=sys.stderr)
            rows.append({"name": package, "skipped": out["missing"]})
            continue
        rows.append({"name": package, **out})
    ones = np.ones(expanded.shape[0])
    ours = rows[0]
    for row in rows:
        if "skipped" in row:
            continue
        row["loglik"] = marginal_loglik(expanded, ones, row["a"], row["d"])
        if truth is not None:
            row["vs_truth"] = agreement(row["a"], row["d"], *truth)
        row["vs_ours"] = agreement(row["a"], row["d"], ours["a"], ours["d"])
    return rows


def print_calibration(title: str, rows: list[dict[str, Any]], truth: bool) -> None:
    print(f"\n{title}")
    head = f"  {'package':<28} {'version':>10} {'seconds':>9} {'x ours':>7} {'loglik':>13}"
    if truth:
        head += f" {'RMSE a':>7} {'RMSE d':>7} {'r(a)':>6} {'r(d)':>6}"
    head += f" {'max|a-ours|':>11} {'max|d-ours|':>11}"
    print(head)
    ours_seconds = rows[0]["seconds"]
    for row in rows:
        if "skipped" in row:
            print(f"  {row['name']:<28} skipped: {row['skipped']}")
            continue
        line = (
            f"  {row['name']:<28} {row['version']:>10} {row['seconds']:>9.4f} "
            f"{row['seconds'] / ours_seconds:>6.2f}x {row['loglik']:>13.3f}"
        )
        if truth:
            t = row["vs_truth"]
            line += (
                f" {t['rmse_a']:>7.4f} {t['rmse_d']:>7.4f} {t['corr_a']:>6.4f} {t['corr_d']:>6.4f}"
            )
        v = row["vs_ours"]
        line += f" {v['max_abs_a']:>11.4f} {v['max_abs_d']:>11.4f}"
        print(line)


# --------------------------------------------------------------------------------------------
# EAP scoring of many respondents and its plain-numpy ceilings


def one_hot(block: npt.NDArray[np.integer[Any]], k: int) -> FloatArray:
    n, j = block.shape
    out = np.zeros((n, j * k))
    out[np.arange(n)[:, None], np.arange(j)[None, :] * k + block] = 1.0
    return out


def eap_bench(args: argparse.Namespace, rng: np.random.Generator) -> dict[str, Any]:
    from scoring.irt import ItemParams, category_probabilities, eap

    items, categories, points = 20, args.categories, 61
    a, d = simulate_grm_items(items, categories, rng)
    params = ItemParams(names=tuple(f"i{j + 1}" for j in range(items)), a=a, d=d, model="grm")
    progress(f"EAP: simulating {args.eap_persons:,} respondents x {items} items")
    responses, theta_true = simulate_responses(a, d, args.eap_persons, rng)

    # Plain numpy on the same grid as scoring.irt.eap: 61 points over [-6, 6], N(0, 1) prior.
    nodes = np.linspace(-6.0, 6.0, points)
    log_prior = -0.5 * nodes**2
    probs = category_probabilities(nodes, params)  # (Q, J, K)
    table = np.ascontiguousarray(np.log(np.maximum(probs, 1e-300)).reshape(points, -1).T)
    chunk = min(args.eap_persons, 65_536)
    block = one_hot(responses[:chunk], categories)
    passes = args.eap_persons / chunk  # the same work as N rows: the block `passes` times

    def matmul_only() -> object:
        return block @ table

    def numpy_eap() -> tuple[FloatArray, FloatArray]:
        post = block @ table
        post += log_prior[None, :]
        post -= post.max(axis=1, keepdims=True)
        np.exp(post, out=post)
        total = post.sum(axis=1)
        mean = (post @ nodes) / total
        var = (post @ (nodes * nodes)) / total - mean * mean
        return mean, np.sqrt(np.maximum(var, 0.0))

    progress("EAP: timing the plain-numpy ceilings")
    matmul_s = best_of(args.repeat, matmul_only)[0] * passes
    numpy_s, numpy_result = best_of(args.repeat, numpy_eap)
    numpy_s *= passes
    progress(f"EAP: timing scoring.irt.eap on {args.eap_persons:,} respondents")
    ours_s, result = best_of(args.repeat, lambda: eap(responses, params, points=points))
    estimates: Any = result
    reference: Any = numpy_result
    diff = float(np.max(np.abs(estimates.theta[:chunk] - reference[0])))
    corr = float(np.corrcoef(estimates.theta, theta_true)[0, 1])
    return {
        "persons": args.eap_persons,
        "items": items,
        "categories": categories,
        "points": points,
        "seconds": ours_s,
        "matmul_ceiling_seconds": matmul_s,
        "numpy_eap_ceiling_seconds": numpy_s,
        "max_abs_theta_vs_numpy": diff,
        "corr_theta_true": corr,
        "goal_seconds": 10.0,
    }


def print_eap(r: dict[str, Any]) -> None:
    n = r["persons"]
    print(f"\nEAP scoring: {n:,} respondents x {r['items']} GRM items x {r['categories']} "
          f"categories, {r['points']} grid points")  # fmt: skip
    print(f"  {'path':<58} {'seconds':>9} {'resp/s':>12} {'ours x':>8}")
    lines = [
        ("ceiling: one-hot (N, J*K) @ (J*K, Q) matrix product alone", r["matmul_ceiling_seconds"]),
        ("ceiling: plain-numpy EAP on a prebuilt one-hot matrix", r["numpy_eap_ceiling_seconds"]),
        ("scoring.irt.eap (validation, one-hot build, EAP, SD)", r["seconds"]),
    ]
    for label, seconds in lines:
        print(f"  {label:<58} {seconds:>9.3f} {n / seconds / 1e6:>8.2f} M/s "
              f"{r['seconds'] / seconds:>7.2f}x")  # fmt: skip
    print(f"  max |theta - plain numpy| on the first block: {r['max_abs_theta_vs_numpy']:.2e}; "
          f"r(theta_EAP, true theta) = {r['corr_theta_true']:.4f}")  # fmt: skip


# --------------------------------------------------------------------------------------------
# CAT next-item selection


def grm_information(theta: float, a: FloatArray, d: FloatArray) -> FloatArray:
    """Plain-numpy Fisher information of every bank item at one theta (Samejima, 1969)."""
    star = 1.0 / (1.0 + np.exp(-(a[:, None] * theta + d)))
    j = a.shape[0]
    star = np.concatenate([np.ones((j, 1)), star, np.zeros((j, 1))], axis=1)
    w = star * (1.0 - star)
    p = star[:, :-1] - star[:, 1:]
    dp = a[:, None] * (w[:, :-1] - w[:, 1:])
    return np.asarray((dp * dp / np.maximum(p, 1e-300)).sum(axis=1))


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1e3
    return {
        "calls": int(ms.shape[0]),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


def cat_bench(args: argparse.Namespace, rng: np.random.Generator) -> dict[str, Any]:
    """Latency of one next-item selection, over ``--cat-runs`` simulated adaptive tests."""
    a, d = simulate_grm_items(args.bank, args.categories, rng)
    length = min(args.cat_length, args.bank)
    thetas = rng.standard_normal(args.cat_runs)

    progress(f"CAT: plain-numpy ceiling over {args.cat_runs} tests x {length} selections")
    ceiling: list[float] = []
    for true_theta in thetas:
        asked = np.zeros(args.bank, dtype=bool)
        estimate = 0.0
        for step in range(length):
            start = time.perf_counter()
            info = grm_information(estimate, a, d)
            info[asked] = -np.inf
            item = int(np.argmax(info))
            ceiling.append(time.perf_counter() - start)
            asked[item] = True
            estimate = float(true_theta) * (step + 1) / length  # a moving theta, as in a test
    out: dict[str, Any] = {"bank": args.bank, "length": length, "ceiling": percentiles(ceiling)}
    try:
        from scoring import cat
        from scoring.irt import ItemParams
    except ImportError as exc:
        out["ours"] = {"skipped": f"scoring.cat not available ({exc})"}
        return out
    params = ItemParams(names=tuple(f"b{j + 1}" for j in range(args.bank)), a=a, d=d, model="grm")
    bank = cat.bank_from_params(params, id="bench", source="simulated (benchmarks/bench_irt.py)")
    # The engine's defaults (randomesque top-5 exposure control, 61-point EAP grid) except
    # the stopping rule: a tiny target SD, so that every test runs to `length` items.
    config = cat.CatConfig(target_sd=1e-6, max_items=length, min_items=length)
    progress(f"CAT: scoring.cat next_item over {args.cat_runs} tests x {length} selections")
    ours: list[float] = []
    for run, true_theta in enumerate(thetas):
        state = cat.start(bank, config, seed=run)
        while True:
            begin = time.perf_counter()
            name = cat.next_item(bank, state)
            ours.append(time.perf_counter() - begin)
            if name is None:
                break
            j = bank.index[name]
            star = 1.0 / (1.0 + np.exp(-(a[j] * true_theta + d[j])))
            category = int((rng.random() < star).sum())
            state = cat.record_answer(bank, state, name, category)
    out["ours"] = percentiles(ours)
    out["goal_p99_ms"] = 5.0
    return out


def print_cat(r: dict[str, Any]) -> None:
    print(
        f"\nCAT next-item selection: {r['bank']}-item GRM bank, tests of up to {r['length']} items"
    )
    print(f"  {'path':<58} {'calls':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    rows = [("ceiling: numpy information of the bank, mask, argmax", r["ceiling"])]
    rows.append(("scoring.cat next-item selection", r["ours"]))
    for label, p in rows:
        if "skipped" in p:
            print(f"  {label:<58} skipped: {p['skipped']}")
            continue
        print(f"  {label:<58} {p['calls']:>7} {p['p50_ms']:>8.3f} {p['p99_ms']:>8.3f} "
              f"{p['max_ms']:>8.3f}")  # fmt: skip
    if "skipped" not in r["ours"]:
        print(f"  p99 ours / p99 ceiling = {r['ours']['p99_ms'] / r['ceiling']['p99_ms']:.1f}x")


# --------------------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def goals(results: dict[str, Any]) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []
    for key, title in (("grm", "GRM calibration"), ("lsat7", "2PL LSAT7")):
        rows = [r for r in results[key] if "skipped" not in r and not r["name"].startswith("ours")]
        ours = results[key][0]
        for row in rows:
            faster = ours["seconds"] <= row["seconds"]
            at_least = ours["loglik"] >= row["loglik"] - 0.01
            out.append((
                f"{title}: faster than {row['name']} at equal or better log-likelihood",
                faster and at_least,
                f"{ours['seconds']:.4f} s vs {row['seconds']:.4f} s; "
                f"loglik {ours['loglik']:.3f} vs {row['loglik']:.3f}",
            ))  # fmt: skip
    eap_r = results["eap"]
    out.append((
        f"EAP of {eap_r['persons']:,} respondents < 10 s",
        eap_r["seconds"] < 10.0,
        f"{eap_r['seconds']:.2f} s ({eap_r['seconds'] / eap_r['numpy_eap_ceiling_seconds']:.2f}x "
        "the plain-numpy EAP)",
    ))  # fmt: skip
    cat = results["cat"]
    if "skipped" not in cat["ours"]:
        out.append((
            f"CAT selection p99 < 5 ms ({cat['bank']}-item bank)",
            cat["ours"]["p99_ms"] < 5.0,
            f"{cat['ours']['p99_ms']:.3f} ms",
        ))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--grm-persons", type=int, default=20_000)
    parser.add_argument("--grm-items", type=int, default=20)
    parser.add_argument("--categories", type=int, default=5)
    parser.add_argument("--eap-persons", type=int, default=1_000_000)
    parser.add_argument("--bank", type=int, default=200, help="CAT bank size")
    parser.add_argument("--cat-runs", type=int, default=500, help="simulated adaptive tests")
    parser.add_argument("--cat-length", type=int, default=20, help="items per adaptive test")
    parser.add_argument("--repeat", type=int, default=3, help="timings per EAP measurement")
    parser.add_argument("--fit-repeat", type=int, default=3, help="timings per fit")
    parser.add_argument("--points", type=int, default=None,
                        help="quadrature points of our fits (default: the library's)")  # fmt: skip
    parser.add_argument("--tol", type=float, default=None,
                        help="EM tolerance of our fits (default: the library's)")  # fmt: skip
    parser.add_argument("--competitors", default=",".join(COMPETITORS),
                        help="comma-separated: girth,mirt (empty for none)")  # fmt: skip
    parser.add_argument("--competitor-python", default=default_competitor_python(),
                        help="a Python with girth and mirt (default .venv-bench)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "irt.json")
    parser.add_argument("--note", default="", help="a note stored with the results")
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args(argv)
    args.competitors = [c for c in args.competitors.split(",") if c]
    unknown = set(args.competitors) - set(COMPETITORS)
    if unknown:
        parser.error(f"unknown competitor(s): {', '.join(sorted(unknown))}")
    for name in ("grm_persons", "grm_items", "eap_persons", "bank", "cat_runs", "cat_length",
                 "repeat", "fit_repeat"):  # fmt: skip
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.categories < 2:
        parser.error("--categories must be at least 2")

    rng = np.random.default_rng(args.seed)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "?")
    print(f"numpy {np.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs "
          f"visible; every library limited to {threads} thread(s)")  # fmt: skip
    results: dict[str, Any] = {"note": args.note, "seed": args.seed, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        a, d = simulate_grm_items(args.grm_items, args.categories, rng)
        progress(f"GRM: simulating {args.grm_persons:,} x {args.grm_items} x {args.categories}")
        grm_responses = simulate_responses(a, d, args.grm_persons, rng)[0].astype(np.int64)
        results["grm"] = calibration_table(
            "GRM", "grm", grm_responses, None, truth=(a, d), args=args, workdir=workdir
        )
        patterns, freq, published = lsat7()
        results["lsat7"] = calibration_table(
            "LSAT7", "2pl", patterns, freq, truth=published, args=args, workdir=workdir
        )
    results["eap"] = eap_bench(args, rng)
    results["cat"] = cat_bench(args, rng)

    print("\n" + "=" * 100)
    print_calibration(
        f"GRM calibration: {args.grm_persons:,} simulated respondents x {args.grm_items} items x "
        f"{args.categories} categories (truth known; loglik of each fit by one function here)",
        results["grm"], truth=True,
    )  # fmt: skip
    print_calibration(
        "2PL calibration: LSAT7 (Bock & Lieberman 1970), 1,000 examinees x 5 items (RMSE and r "
        "against R mirt's published estimates, log-lik -2658.805)",
        results["lsat7"], truth=True,
    )  # fmt: skip
    print_eap(results["eap"])
    print_cat(results["cat"])
    print("\n" + "=" * 100)
    checks = goals(results)
    for label, ok, value in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {label}: {value}")
    results["goals"] = [{"goal": g, "met": ok, "value": v} for g, ok, v in checks]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(to_json(results), indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
