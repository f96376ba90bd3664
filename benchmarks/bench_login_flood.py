"""A flood of bad sign-ins beside a counsellor at work (issue 19), on SQLite.

Run: .venv/bin/python benchmarks/bench_login_flood.py [--seconds 10] [--clients 8]

Seeds the demo district into a temp SQLite file (``runxin db upgrade``, ``runxin demo``), then,
for each scenario, starts ``runxin serve`` as its own process on a fresh copy of that file,
with production argon2 parameters (the service configures nothing; only the test suite makes
hashing cheap). One counsellor client signs in and GETs ``/api/v1/cases`` back to back for
``--seconds``; in the flood scenarios ``--clients`` threads post wrong passwords meanwhile (half
of them each on an account of its own, half all on the same account), each with its own
keep-alive client.

Scenarios:
- quiet: the counsellor alone — the ceiling the others are compared with;
- flood, throttling off (limits raised to a million): every bad sign-in costs an argon2 check,
  which runs on the bounded hashing pool (``security.hashing_threads()`` threads);
- flood, default throttling (10 per account, 50 per address, 15 minutes): after the first
  failures the flood is answered 429 without hashing.
Printed per scenario: the counsellor's request count, median and p95 latency, the ratio of the
median to the quiet median, and how the flood's requests were answered. No assertions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

RUNXIN = str(Path(sys.executable).parent / "runxin")
KEY = "bench-secret-key-0123456789-abcdefghij"
PASSWORD = "runxin-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "RUNXIN_DATABASE_URL": f"sqlite:///{db}",
        "RUNXIN_SECRET_KEY": KEY,
        **extra,
    }


def _serve(db: Path, extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [RUNXIN, "serve", "--port", str(port)],
        env=_env(db, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("runxin serve did not start")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def scenario(
    db: Path, *, seconds: float, clients: int, flood: bool, extra: dict[str, str]
) -> tuple[list[float], Counter[int]]:
    proc, base = _serve(db, extra)
    answers: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    try:
        with httpx.Client(base_url=base, timeout=60) as counsellor:
            r = counsellor.post(
                "/api/v1/auth/login", json={"username": "counsellor1", "password": PASSWORD}
            )
            r.raise_for_status()
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

            def flooder(n: int) -> None:
                username = f"headteacher{n + 1}" if n % 2 == 0 else "lead1"
                with httpx.Client(base_url=base, timeout=60) as http:
                    while not stop.is_set():
                        status = http.post(
                            "/api/v1/auth/login",
                            json={"username": username, "password": f"wrong-{n}"},
                        ).status_code
                        with lock:
                            answers[status] += 1

            threads = [
                threading.Thread(target=flooder, args=(n,), daemon=True)
                for n in range(clients if flood else 0)
            ]
            for t in threads:
                t.start()
            time.sleep(0.5 if flood else 0)  # let the flood build up
            latencies: list[float] = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                t0 = time.perf_counter()
                counsellor.get("/api/v1/cases", headers=auth).raise_for_status()
                latencies.append((time.perf_counter() - t0) * 1000)
            stop.set()
            for t in threads:
                t.join(timeout=120)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return latencies, answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    from survey_service.security import hashing_threads

    with tempfile.TemporaryDirectory(prefix="runxin-bench-login-") as folder:
        seeded = Path(folder) / "seeded.db"
        for command in (["db", "upgrade"], ["demo", "--students", "60"]):
            subprocess.run(
                [RUNXIN, *command], env=_env(seeded), check=True, capture_output=True, timeout=600
            )
        print(
            f"cpus={os.cpu_count()} hashing_threads={hashing_threads()} "
            f"flood_clients={args.clients} seconds={args.seconds} (argon2: production defaults)"
        )
        off = {
            "RUNXIN_LOGIN_MAX_FAILURES_ACCOUNT": "1000000",
            "RUNXIN_LOGIN_MAX_FAILURES_ADDRESS": "1000000",
        }
        quiet_median = None
        for name, flood, extra in (
            ("quiet", False, {}),
            ("flood, throttling off", True, off),
            ("flood, default throttling", True, {}),
        ):
            db = Path(folder) / f"run-{len(name)}.db"
            shutil.copyfile(seeded, db)
            latencies, answers = scenario(
                db, seconds=args.seconds, clients=args.clients, flood=flood, extra=extra
            )
            median = statistics.median(latencies)
            quiet_median = quiet_median or median
            flood_text = ", ".join(f"{k}: {v}" for k, v in sorted(answers.items())) or "-"
            print(
                f"{name:<27} counsellor GET /api/v1/cases: n={len(latencies):>5} "
                f"median={median:7.1f} ms  p95={_percentile(latencies, 0.95):7.1f} ms  "
                f"ratio to quiet={median / quiet_median:5.2f}  flood answers: {flood_text}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
