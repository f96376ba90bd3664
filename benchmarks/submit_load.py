"""Students submitting the secondary battery against the real service, beside its ceiling.

Run::

    .venv/bin/python benchmarks/submit_load.py --db sqlite --seconds 10 --connections 64
    .venv/bin/python benchmarks/submit_load.py --db postgresql --seconds 10 --connections 64
    .venv/bin/python benchmarks/submit_load.py --db postgresql --workers 2   # one per core

(``make bench-load`` runs both databases.) In one run:

1. a fresh database (a SQLite file in a temporary folder, or a throwaway PostgreSQL database
   that is dropped at the end) is migrated and seeded: the demo district, then ``--students``
   students of one school with their access codes and guardians' consent, in a campaign whose
   battery is the secondary one (PHQ-A, GAD-7, ASQ);
2. ``runxin serve`` is started with uvicorn on 127.0.0.1 (``--workers`` processes; with one
   worker the server is pinned to CPU 0 and the load process to CPU 1, as in
   ``shared/reference/performance.md``);
3. the ceiling: the load process drives the app's trivial endpoint (``GET /healthz``, through the
   same middleware) with the same connections and the same shape, three requests per flow;
4. the load: the load process (``_load_client.py``, a separate process) runs the student flow —
   start a session with the access code, save the first form once, submit everything with an
   Idempotency-Key — over ``--connections`` keep-alive connections for ``--seconds``. Answers
   follow a realistic mix: about 10 % yellow, 3 % orange, 0.5 % red (an ASQ acute answer), the
   rest green; a 503/429 or a lost connection is retried with the same key;
5. the check: the database must hold exactly the accepted submissions (one submitted session with
   three responses, three scores and one triage result each, at the expected tier, a case for each
   student at yellow or above, the access code used) and nothing half-written. ``lost`` counts the
   accepted submissions that are missing or incomplete; the run exits non-zero when it is not 0.

The last line is machine-readable::

    submissions_per_s=… ceiling_per_s=… ratio=… p50_ms=… p99_ms=… rss_mb=… lost=…

``ceiling_per_s`` is flows per second of three trivial requests, so ``ratio`` compares like with
like; the latencies are of every request of the student flow; ``rss_mb`` is the server's peak
resident memory (all its processes together). Goals (issue 18): ratio >= 0.3 (stretch 0.5),
p99 <= 50 ms at 64 connections, rss under 300 MB. ``--capacity-out FILE`` writes the measured
rate for ``runxin simulate`` (``benchmarks/capacity.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoring
import triage
from survey_service.db import (
    AccessCode,
    Campaign,
    Consent,
    School,
    SchoolClass,
    StaffUser,
    Student,
    create_engine,
    create_session_factory,
    upgrade,
)
from survey_service.security import digest, new_access_code, normalize_access_code
from survey_service.services.demo import seed_demo
from survey_service.services.runtime import load_runtime
from survey_service.settings import Settings, database_urls

SECRET = "submit-load-secret-key-0123456789abcdef"
BATTERY = ["phq-a", "gad7", "asq"]
MIX = (("red", 0.005), ("orange", 0.03), ("yellow", 0.10))
RUNXIN = str(Path(sys.executable).parent / "runxin")
CLIENT = str(Path(__file__).with_name("_load_client.py"))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- answers -------------------------------------------------------------------------------


def _spread(rng: random.Random, total: int, items: int, high: int = 3) -> list[int]:
    """``items`` values in 0..high summing to ``total`` (random positions)."""
    values = [0] * items
    for _ in range(total):
        free = [i for i, v in enumerate(values) if v < high]
        values[rng.choice(free)] += 1
    return values


def answers_for(tier: str, rng: random.Random) -> dict[str, dict[str, int | None]]:
    """A plausible secondary-battery answer set of ``tier`` under the default policy:
    green (PHQ-A and GAD-7 under 5), yellow (PHQ-A 10-14), orange (PHQ-A 15-19), red (ASQ
    acute). The tier is checked against the real scorer and policy before the run."""
    phq_total = {"green": rng.randint(0, 4), "yellow": rng.randint(10, 14)}.get(
        tier, rng.randint(15, 19) if tier == "orange" else rng.randint(0, 4)
    )
    phq = _spread(rng, phq_total, 8)  # items 1-8; item 9 (thoughts of death) stays 0
    phqa: dict[str, int | None] = {f"item{i + 1}": v for i, v in enumerate(phq)}
    phqa.update(item9=0, past_year=0, difficulty=min(phq_total // 5, 3))
    phqa.update(past_month_thoughts=0, lifetime_attempt=0)
    gad = _spread(rng, rng.randint(0, 4), 7)
    asq: dict[str, int | None] = {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": None}
    if tier == "red":
        asq.update(q1=1, q2=1, q5=1)
    return {"phq-a": phqa, "gad7": {f"item{i + 1}": v for i, v in enumerate(gad)}, "asq": asq}


def pick_tier(rng: random.Random) -> str:
    r, acc = rng.random(), 0.0
    for tier, share in MIX:
        acc += share
        if r < acc:
            return tier
    return "green"


def expected_tier(rt: Any, school_code: str, answers: dict[str, dict[str, Any]]) -> str:
    results = [scoring.score(rt.catalogue.get(i), answers[i]) for i in BATTERY]
    return str(triage.evaluate(results, policy=rt.policy_for(school_code)).tier)


# --- database ------------------------------------------------------------------------------


async def _pg_admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def make_database(kind: str, pg_url: str, folder: str, template: str | None = None) -> str:
    """A fresh database; on PostgreSQL a copy of ``template`` (an already migrated database)
    when given."""
    if kind == "sqlite":
        return f"sqlite:///{folder}/load.db"
    name = f"runxin_load_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_pg_admin(pg_url, f'CREATE DATABASE "{name}"{copy}'))
    return pg_url.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str, pg_url: str) -> None:
    if database_urls(url).dialect == "postgresql":
        name = url.rsplit("/", 1)[1]
        asyncio.run(_pg_admin(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def seed(settings: Settings, students: int, now: datetime) -> tuple[str, list[str]]:
    """The demo district, then ``students`` students of its first school with access codes and
    granted consent, in bulk; the school's campaign gets the secondary battery.
    Returns (school code, access codes)."""
    rt = load_runtime(settings)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            demo = await seed_demo(
                db,
                rt,
                students=1,
                staff_password="load-test-pw-123",
                webhook_url=None,
                webhook_secret=None,
                now=now,
            )
            school = await db.scalar(select(School).where(School.code == demo.school_codes[0]))
            assert school is not None
            klass = await db.scalar(
                select(SchoolClass)
                .where(SchoolClass.school_id == school.id)
                .order_by(SchoolClass.grade.desc())
            )
            campaign = await db.scalar(select(Campaign).where(Campaign.school_id == school.id))
            recorder = await db.scalar(
                select(StaffUser.id).where(StaffUser.username == "district1")
            )
            assert klass is not None and campaign is not None and recorder is not None
            await db.execute(
                update(Campaign).where(Campaign.id == campaign.id).values(battery=BATTERY)
            )
            codes, student_rows, code_rows, consent_rows = [], [], [], []
            for i in range(students):
                sid = uuid.uuid4()
                code = new_access_code()
                codes.append(code)
                student_rows.append(
                    {
                        "id": sid,
                        "school_id": school.id,
                        "class_id": klass.id,
                        "student_number": f"L{i:07d}",
                        "name": f"学生{i}",
                        "gender": "female" if i % 2 else "male",
                        "birth_date": None,
                        "status": "active",
                        "psychology_committee": False,
                    }
                )
                code_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "campaign_id": campaign.id,
                        "student_id": sid,
                        "respondent": "self",
                        "code_digest": digest(SECRET, normalize_access_code(code)),
                        "expires_at": campaign.closes_at,
                        "used_at": None,
                    }
                )
                consent_rows.append(
                    {
                        "id": uuid.uuid4(),
                        "campaign_id": campaign.id,
                        "student_id": sid,
                        "status": "granted",
                        "guardian_name": None,
                        "recorded_by": recorder,
                        "recorded_at": now,
                    }
                )
            for table, rows in ((Student, student_rows), (AccessCode, code_rows)):
                for start in range(0, len(rows), 2000):
                    await db.execute(insert(table), rows[start : start + 2000])
            for start in range(0, len(consent_rows), 2000):
                await db.execute(insert(Consent), consent_rows[start : start + 2000])
            return school.code, codes
    finally:
        await engine.dispose()


async def check_database(url: str, accepted: dict[str, str], tried: set[str]) -> dict[str, Any]:
    """Compare the database with what the clients were told.

    ``accepted``: session id -> expected tier for every 201; ``tried``: every session id a
    client started. Returns counts; ``lost`` is accepted submissions missing or incomplete.
    """
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT s.id, s.status, s.student_id,"
                        " (SELECT COUNT(*) FROM responses r WHERE r.session_id = s.id),"
                        " (SELECT COUNT(*) FROM scores c WHERE c.session_id = s.id),"
                        " (SELECT COUNT(*) FROM triage_results t WHERE t.session_id = s.id),"
                        " (SELECT MAX(t.tier) FROM triage_results t WHERE t.session_id = s.id),"
                        " (SELECT COUNT(*) FROM access_codes a WHERE a.id = s.access_code_id"
                        "   AND a.used_at IS NOT NULL),"
                        " (SELECT COUNT(*) FROM cases k WHERE k.student_id = s.student_id)"
                        " FROM screening_sessions s"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    by_id = {str(uuid.UUID(str(r[0]))): r for r in rows}
    lost = wrong_tier = half = missing_case = extra_case = 0
    cases_by_tier: Counter[str] = Counter()
    for sid, tier in accepted.items():
        row = by_id.get(sid)
        if row is None or row[1] != "submitted" or row[3:6] != (3, 3, 1) or row[7] != 1:
            lost += 1
            continue
        if row[6] != tier:
            wrong_tier += 1
        if tier != "green":
            cases_by_tier[tier] += 1
            missing_case += row[8] != 1
        else:
            extra_case += row[8] != 0
    submitted = 0
    for row in by_id.values():
        complete = row[1] == "submitted" and row[3:6] == (3, 3, 1) and row[7] == 1
        empty = row[1] != "submitted" and row[3:6] == (0, 0, 0) and row[7] == 0
        submitted += row[1] == "submitted"
        if not (complete or empty):
            half += 1
    unacknowledged = sum(
        1 for sid, row in by_id.items() if row[1] == "submitted" and sid not in accepted
    )
    return {
        "sessions": len(by_id),
        "submitted": submitted,
        "accepted": len(accepted),
        "lost": lost,
        "half_written": half,
        "wrong_tier": wrong_tier,
        "missing_case": missing_case,
        "unexpected_case": extra_case,
        "unacknowledged_submitted": unacknowledged,
        "unknown_sessions": len(set(by_id) - tried),
        "cases_by_tier": dict(cases_by_tier),
    }


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RUNXIN_DATABASE_URL": url,
        "RUNXIN_SECRET_KEY": SECRET,
    }
    args = [RUNXIN, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        args += ["--workers", str(workers)]
    # The server's log (one access line a request) goes to a file: a pipe nobody reads would
    # fill up and stop the server mid-run.
    log = tempfile.NamedTemporaryFile(prefix="runxin-serve-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = Path(log.name).read_text(errors="replace")[-2000:]
            raise SystemExit(f"runxin serve exited: {tail}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise SystemExit("runxin serve did not answer within 60 s")
    if workers > 1:  # every worker must be up before the clock starts
        time.sleep(1.5)
    return proc


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(c) for c in children)
    return pids


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of the server and its worker processes, in MB."""
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server and its worker processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def postgres_cpu_seconds() -> float | None:
    """CPU time of the PostgreSQL server processes on this machine (``None`` when there are
    none to read: a remote server)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, found = 0.0, False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found = True
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total if found else None


def pin(pid: int, cpus: set[int]) -> None:
    for p in process_tree(pid):
        with contextlib.suppress(OSError):  # a worker that has just exited
            os.sched_setaffinity(p, cpus)


def run_client(job: dict[str, Any], folder: str, cpu: int | None) -> dict[str, Any]:
    job_path = Path(folder) / f"job-{job['phase']}.json"
    out_path = Path(folder) / f"out-{job['phase']}.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, CLIENT, str(job_path), str(out_path)])
    if cpu is not None:
        pin(proc.pid, {cpu})
    if proc.wait() != 0:
        raise SystemExit(f"the load process failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument(
        "--students", type=int, default=None, help="seeded students (default: enough)"
    )
    parser.add_argument("--ceiling-seconds", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "RUNXIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--half-rate-seconds",
        type=float,
        default=None,
        help="then pace the load at half the rate reached, for the latency goal "
        "(default: --seconds; 0: skip)",
    )
    parser.add_argument(
        "--pg-template",
        default=None,
        metavar="NAME",
        help="PostgreSQL: copy this migrated database instead of migrating a new one (tests)",
    )
    parser.add_argument("--capacity-out", default=None, help="write the measured rate (JSON)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--py-spy",
        default=None,
        metavar="FILE",
        help="sample the server with py-spy during the load (collapsed stacks to FILE)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.connections < 1 or args.workers < 1:
        parser.error("--seconds must be positive, --connections and --workers at least 1")
    if args.half_rate_seconds is None:
        args.half_rate_seconds = args.seconds
    students = args.students or max(1000, int((args.seconds + args.warmup) * 3000))
    ceiling_seconds = args.ceiling_seconds or min(args.seconds, 5.0)
    pinned = args.workers == 1 and (os.cpu_count() or 1) >= 2

    with tempfile.TemporaryDirectory(prefix="runxin-load-") as folder:
        template = args.pg_template if args.db == "postgresql" else None
        url = make_database(args.db, args.postgres_url, folder, template)
        server = None
        try:
            settings = Settings(database_url=url, secret_key=SECRET)
            t = time.perf_counter()
            if template is None:
                upgrade(url)
            school_code, codes = asyncio.run(seed(settings, students, datetime.now(UTC)))
            log(f"seeded {students} students on {args.db} in {time.perf_counter() - t:.1f} s")
            rt = load_runtime(settings)
            rng = random.Random(args.seed)
            plan = []
            for code in codes:
                tier = pick_tier(rng)
                answers = answers_for(tier, rng)
                got = expected_tier(rt, school_code, answers)
                if got != tier:
                    raise SystemExit(f"answer generator: a {tier} answer set triages {got}")
                plan.append({"code": code, "tier": tier, "answers": answers})

            port = free_port()
            server = start_server(url, port, args.workers)
            if pinned:
                pin(server.pid, {0})
            base = {"host": "127.0.0.1", "port": port, "connections": args.connections}
            log(f"ceiling: GET /healthz x3 per flow, {ceiling_seconds:.0f} s")
            ceiling = run_client(
                {
                    **base,
                    "phase": "ceiling",
                    "seconds": ceiling_seconds,
                    "warmup_seconds": min(1.0, ceiling_seconds),
                },
                folder,
                1 if pinned else None,
            )
            log(f"load: {args.connections} connections, {args.seconds:.0f} s")
            spy = None
            if args.py_spy:
                spy = subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("py-spy")),
                        "record",
                        "--format",
                        "raw",
                        "--subprocesses",
                        "-r",
                        "200",
                        "-o",
                        args.py_spy,
                        "-p",
                        str(server.pid),
                        "-d",
                        str(int(args.seconds + args.warmup)),
                    ],
                    stdout=subprocess.DEVNULL,
                )
            half = len(plan) // 2  # the paced phase gets students of its own
            cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
            pg_before = postgres_cpu_seconds() if args.db == "postgresql" else None
            load = run_client(
                {
                    **base,
                    "phase": "submit",
                    "seconds": args.seconds,
                    "warmup_seconds": args.warmup,
                    "students": plan[:half],
                },
                folder,
                1 if pinned else None,
            )
            window = time.monotonic() - wall_before
            server_cpu = (cpu_seconds(server.pid) - cpu_before) / window
            pg_after = postgres_cpu_seconds() if pg_before is not None else None
            db_cpu = None if pg_after is None else (pg_after - (pg_before or 0.0)) / window
            reached = load["statuses"].get("submit 201", 0) / load["elapsed_s"]
            paced = None
            if args.half_rate_seconds > 0 and reached > 0:
                log(
                    f"paced: {reached / 2:.1f} submissions/s (half the rate reached) for "
                    f"{args.half_rate_seconds:.0f} s"
                )
                paced = run_client(
                    {
                        **base,
                        "phase": "submit",
                        "seconds": args.half_rate_seconds,
                        "rate": reached / 2,
                        "students": plan[half:],
                    },
                    folder,
                    1 if pinned else None,
                )
            rss = peak_rss_mb(server.pid)
            if spy is not None:
                spy.wait()
        finally:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
        outcomes = load["outcomes"] + (paced["outcomes"] if paced else [])
        accepted = {o["session_id"]: o["tier"] for o in outcomes if o["status"] == 201}
        tried = {o["session_id"] for o in outcomes if "session_id" in o}
        checked = asyncio.run(check_database(url, accepted, tried))
        drop_database(url, args.postgres_url)

    ceiling_flows = ceiling["flows"] / ceiling["elapsed_s"]
    measured = [o for o in outcomes if o["status"] == 201]  # all checked; the rate: the window
    submitted_in_window = load["statuses"].get("submit 201", 0)
    rate = submitted_in_window / load["elapsed_s"]
    latencies = [x for kind in ("start", "save", "submit") for x in load["latencies"].get(kind, [])]
    p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
    healthz = ceiling["latencies"].get("healthz", [])
    log("")
    log(f"database          {args.db}, server workers {args.workers}, pinned {pinned}")
    log(
        f"ceiling           {ceiling_flows:,.0f} flows/s ({3 * ceiling_flows:,.0f} req/s on "
        f"/healthz), p50 {percentile(healthz, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(healthz, 0.99) * 1000:.1f} ms"
    )
    log(f"submissions       {rate:,.1f}/s over {load['elapsed_s']:.1f} s ({submitted_in_window})")
    for kind in ("start", "save", "submit"):
        values = load["latencies"].get(kind, [])
        log(
            f"  {kind:<8} n={len(values):>6}  p50 {percentile(values, 0.5) * 1000:7.1f} ms  "
            f"p99 {percentile(values, 0.99) * 1000:7.1f} ms  "
            f"max {max(values, default=0) * 1000:7.1f} ms"
        )
    log(
        f"server CPU        {server_cpu * 100:.0f} % of one core during the load "
        f"({server_cpu / rate * 1000 if rate else float('nan'):.1f} ms CPU per submission)"
    )
    if paced is not None:
        paced_latencies = [
            x for kind in ("start", "save", "submit") for x in paced["latencies"].get(kind, [])
        ]
        log(
            f"at half the rate  {paced['statuses'].get('submit 201', 0) / paced['elapsed_s']:.1f}"
            f" submissions/s: p50 {percentile(paced_latencies, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(paced_latencies, 0.99) * 1000:.1f} ms (every request of the flow)"
        )
        log(f"paced statuses    {dict(sorted(paced['statuses'].items()))}")
    db_per_core = None
    if db_cpu:
        db_per_core = rate / db_cpu
        log(
            f"PostgreSQL CPU    {db_cpu * 100:.0f} % of one core during the load "
            f"({db_per_core:,.0f} submissions/s per database core)"
        )
    log(f"statuses          {dict(sorted(load['statuses'].items()))}")
    log(f"retries           {load['retries']}")
    exhausted = load["students_exhausted"]
    log(f"students left     {'none (seed more with --students)' if exhausted else 'some'}")
    log(f"database check    {checked}")
    log(f"accepted total    {len(measured)} (warm-up and paced phase included)")
    ratio = rate / ceiling_flows if ceiling_flows else float("nan")
    lost = checked["lost"] + checked["half_written"] + checked["wrong_tier"]
    lost += checked["missing_case"] + checked["unexpected_case"]
    if args.capacity_out:
        Path(args.capacity_out).write_text(
            json.dumps(
                {
                    "submissions_per_s_per_node": round(rate, 1),
                    "db_submissions_per_s_per_core": None
                    if db_per_core is None
                    else round(db_per_core, 1),
                    "server_cpu_ms_per_submission": round(server_cpu / rate * 1000, 2)
                    if rate
                    else None,
                    "db": args.db,
                    "workers": args.workers,
                    "connections": args.connections,
                    "p99_ms": round(p99, 1),
                    "measured_at": datetime.now(UTC).strftime("%Y-%m-%d"),
                    "command": "python benchmarks/submit_load.py " + " ".join(sys.argv[1:]),
                    "machine": f"{os.cpu_count()} cores, {os.uname().machine}",
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    print(
        f"submissions_per_s={rate:.1f} ceiling_per_s={ceiling_flows:.1f} ratio={ratio:.3f} "
        f"p50_ms={p50:.1f} p99_ms={p99:.1f} rss_mb={rss:.0f} lost={lost}"
    )
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
