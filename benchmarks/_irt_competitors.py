"""Fit one data set with a published Python IRT package; run by ``bench_irt.py`` (issue 16).

This file runs in the benchmark's own virtual environment (``.venv-bench``, made by
``make bench-irt``: numpy, scipy, girth and mirt), never in the project's ``.venv``; it imports
nothing from the project. ``bench_irt.py`` starts it as a subprocess with::

    python benchmarks/_irt_competitors.py PACKAGE MODEL DATA.npz REPEAT

``DATA.npz`` holds ``responses`` (int, persons x items, 0..K-1, -1 = missing). It prints one
line of JSON: the package version, the fastest of ``REPEAT`` wall-clock fit times (the fit call
only: imports and a warm-up fit on a small data set happen first), and the estimates in the
slope-intercept form ``logit P(X >= k | theta) = a * theta + d[k-1]`` (both packages report
``a`` and thresholds ``b`` with ``logit = a * (theta - b)``, so ``d = -a * b``). A package that
is not installed prints ``{"missing": "..."}`` and exits 0.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

Estimates = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], dict[str, Any]]


def _girth(model: str) -> Callable[[npt.NDArray[np.int64]], Estimates]:
    from girth import grm_mml, twopl_mml  # type: ignore[import-not-found]
    from girth.utilities import INVALID_RESPONSE  # type: ignore[import-not-found]

    def fit(responses: npt.NDArray[np.int64]) -> Estimates:
        data = np.where(responses < 0, INVALID_RESPONSE, responses).T.copy()  # items x persons
        if model == "2pl":
            out = twopl_mml(data.astype(int))
            b = np.asarray(out["Difficulty"], dtype=float).reshape(-1, 1)
        else:
            out = grm_mml(data.astype(int))
            b = np.asarray(out["Difficulty"], dtype=float)
        a = np.asarray(out["Discrimination"], dtype=float)
        return a, b, {}

    return fit


def _mirt(model: str) -> Callable[[npt.NDArray[np.int64]], Estimates]:
    import mirt  # type: ignore[import-not-found]

    def fit(responses: npt.NDArray[np.int64]) -> Estimates:
        categories = int(responses.max()) + 1
        result = mirt.fit_mirt(
            responses,
            model="2PL" if model == "2pl" else "GRM",
            n_categories=None if model == "2pl" else categories,
            compute_standard_errors=False,
        )
        params = result.model.parameters
        a = np.asarray(params["discrimination"], dtype=float).reshape(-1)
        key = "difficulty" if model == "2pl" else "thresholds"
        b = np.asarray(params[key], dtype=float).reshape(len(a), -1)
        extra = {
            "loglik_reported": float(result.log_likelihood),
            "iterations": int(result.n_iterations),
            "converged": bool(result.converged),
        }
        return a, b, extra

    return fit


PACKAGES = {"girth": _girth, "mirt": _mirt}


def _warm_up_data(model: str) -> npt.NDArray[np.int64]:
    rng = np.random.default_rng(1)
    theta = rng.normal(size=300)
    a = np.linspace(0.8, 2.0, 6)
    b = np.array([-1.0, -0.3, 0.3, 1.0]) if model == "grm" else np.array([0.0])
    z = a[None, :, None] * (theta[:, None, None] - b[None, None, :])
    draws: npt.NDArray[np.int64] = (rng.random((300, 6, 1)) < 1 / (1 + np.exp(-z))).sum(axis=2)
    return draws


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in PACKAGES or argv[1] not in ("2pl", "grm"):
        print("usage: _irt_competitors.py girth|mirt 2pl|grm DATA.npz REPEAT", file=sys.stderr)
        return 2
    package, model, path, repeat = argv[0], argv[1], argv[2], int(argv[3])
    try:
        fit = PACKAGES[package](model)
    except ImportError as exc:
        print(json.dumps({"missing": f"{package} is not installed here ({exc})"}))
        return 0
    responses = np.load(path)["responses"].astype(np.int64)
    warnings.simplefilter("ignore")
    fit(_warm_up_data(model))
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        a, b, extra = fit(responses)
        times.append(time.perf_counter() - start)
    d = -a[:, None] * b
    out = {
        "package": package,
        "version": importlib.metadata.version(package),
        "seconds": min(times),
        "a": a.tolist(),
        "d": [[None if np.isnan(v) else float(v) for v in row] for row in d],
        **extra,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
