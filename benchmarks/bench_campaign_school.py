"""A whole school campaign through the API (3,000 students), beside its ceilings.

Run: .venv/bin/python benchmarks/bench_campaign_school.py [--students 3000] [--classes N/50]
     [--clients 4] [--postgres URL | --skip-postgres] [--time-limit 900]

The benchmark form of ``tests/survey_service/test_campaign_school_3000.py``. For SQLite (a temp
file) and PostgreSQL (a fresh throwaway database, dropped at the end): migrate, seed the demo
district, serve the app with uvicorn on 127.0.0.1 and, with httpx, time each phase: roster CSV
import + apply (``POST /api/v1/schools/DEMO-A/roster?apply=true``), campaign creation, slips for
every class, guardian refusals (1 in 20), submissions (``--clients`` threads, each with its own
keep-alive client; 1 in 10 students starts without finishing) and the coverage report. The
coverage numbers must be exact (invited = N, submitted = what the clients did, ...); if not,
the run stops with a non-zero exit.

Ceilings, measured in the same run on the same database, with the ratio printed:
- db-ceiling: as many plain single-row INSERTs (one transaction each) as there were
  submissions, through the same SQLAlchemy async engine from ``--clients`` concurrent tasks —
  the minimum database work of a submission;
- framework-ceiling: a trivial litestar handler (decode a small msgspec Struct, return one)
  served by uvicorn in the same way, hit by the same client threads with the same requests
  (start, and submit for those who submitted).
The server runs in a thread of this process beside the client threads, as in the test; the
framework ceiling shares that set-up, so its ratio is the fair one. The server is the
tests' ``live_server`` (its socket asks for IPPROTO_TCP, so asyncio sets TCP_NODELAY; without
it every response waited ~40 ms for a delayed ACK).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec
from litestar import Litestar, post

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# svc_support (the tests' helpers), as pytest puts the test folder on the path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "survey_service"))

from svc_support import battery_answers, live_server, make_settings

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory, upgrade
from survey_service.services.demo import seed_demo
from survey_service.services.runtime import load_runtime

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
STAFF_PASSWORD = "pw-test-123"
CODE = re.compile(r"[23456789A-HJKMNP-Z]{5}-[23456789A-HJKMNP-Z]{5}")
HTTP_TIMEOUT = 120


def make_client(base: str, *, nodelay: bool) -> httpx.Client:
    """A keep-alive client of ``base``, with TCP_NODELAY as browsers set it (``nodelay``)."""
    opts = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)] if nodelay else []
    return httpx.Client(
        base_url=base, timeout=HTTP_TIMEOUT, transport=httpx.HTTPTransport(socket_options=opts)
    )


class Deadline:
    """The one time bound of the run: every loop checks it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self, what: str) -> None:
        if time.monotonic() > self.at:
            raise SystemExit(f"FAIL: time limit ({self.seconds:.0f} s) reached during {what}")


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"FAIL: {what}")


# ---------------------------------------------------------------- framework ceiling app


class Ping(msgspec.Struct):
    access_code: str
    answers: dict[str, dict[str, int | None]] | None = None


class Pong(msgspec.Struct):
    ok: bool
    items: int


@post("/echo", status_code=201)
async def echo(data: Ping) -> Pong:
    return Pong(ok=True, items=sum(len(v) for v in (data.answers or {}).values()))


def trivial_app() -> Litestar:
    return Litestar(route_handlers=[echo])


# ---------------------------------------------------------------- set-up


def write_roster(path: Path, students: int, classes: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["学号", "姓名", "性别", "出生日期", "年级", "班级"])
        for i in range(students):
            w.writerow(
                [
                    f"S{i:05d}",
                    f"学生{i}",
                    "男" if i % 2 else "女",
                    "2012-01-15",
                    "8",
                    f"{i % classes + 1}班",
                ]
            )


def seed(database_url: str) -> None:
    """What ``svc_support.seed(settings, now=T0, students=1)`` does on a fresh database, minus
    the seeded template it keeps (a ``runxin_tmpl_seed_*`` database on PostgreSQL)."""
    settings = make_settings(database_url)

    async def go() -> None:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as db, db.begin():
                await seed_demo(
                    db,
                    load_runtime(settings),
                    students=1,
                    staff_password=STAFF_PASSWORD,
                    webhook_url=None,
                    webhook_secret=None,
                    now=T0,
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgres", parts.netloc, "/postgres", parts.query, parts.fragment))


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def pg_admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url(url), timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


# ---------------------------------------------------------------- client threads


def run_clients(
    base: str,
    clients: int,
    *,
    items: list[Any],
    work: Callable[[httpx.Client, Any], Any],
    deadline: Deadline,
    what: str,
    nodelay: bool,
) -> tuple[list[Any], float]:
    """``work(client, item)`` for every item, ``clients`` threads (item i on thread i % clients),
    each with its own keep-alive client; returns the results in item order and the seconds."""
    results: list[Any] = [None] * len(items)
    errors: list[BaseException] = []

    def loop(k: int) -> None:
        try:
            with make_client(base, nodelay=nodelay) as client:
                for i in range(k, len(items), clients):
                    if errors:
                        return
                    deadline.check(what)
                    client.cookies.clear()  # every student is a new browser
                    results[i] = work(client, items[i])
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline.at - time.monotonic()))
    elapsed = time.perf_counter() - start
    check(not any(t.is_alive() for t in threads), f"{what}: client threads did not finish")
    if errors:
        raise SystemExit(f"FAIL: {what}: {errors[0]!r}")
    return results, elapsed


def quiet_clients() -> None:
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# ---------------------------------------------------------------- the campaign


def campaign(database_url: str, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    n, classes_n, clients = args.students, args.classes, args.clients
    refused_n = n // 20
    settings = make_settings(database_url)
    t: dict[str, float] = {}
    roster = Path(tempfile.mkdtemp(prefix="bench-campaign-")) / "school.csv"
    write_roster(roster, n, classes_n)
    with (
        live_server(create_app(settings, clock=ManualClock(T0))) as base,
        make_client(base, nodelay=not args.nagle) as http,
    ):
        quiet_clients()  # the app's logging config (applied at start-up) logs every request
        login = http.post(
            "/api/v1/auth/login", json={"username": "lead1", "password": STAFF_PASSWORD}
        )
        check(login.status_code == 200, f"login: {login.status_code} {login.text[:200]}")
        lead = {"Authorization": "Bearer " + login.json()["access_token"]}

        # The seeded student is not in the file: the preview lists them and gives the token
        # that confirms marking exactly them as left (issue 19).
        start = time.perf_counter()
        file = {"data": ("school.csv", roster.read_bytes(), "text/csv")}
        preview = http.post("/api/v1/schools/DEMO-A/roster", headers=lead, files=file)
        check(preview.status_code == 200, f"roster preview: {preview.status_code}")
        up = http.post(
            "/api/v1/schools/DEMO-A/roster",
            headers=lead,
            params={"apply": "true", "confirm_leavers": preview.json()["confirm_leavers"]},
            files=file,
        )
        t["roster"] = time.perf_counter() - start
        check(up.status_code == 200, f"roster import: {up.status_code} {up.text[:300]}")
        check(up.json()["counts"]["create"] == n, f"roster import created {up.json()['counts']}")

        start = time.perf_counter()
        made = http.post(
            "/api/v1/campaigns",
            headers=lead,
            json={
                "name": "全员普查",
                "school_year": "2026-2027",
                "opens_at": T0.isoformat(),
                "closes_at": (T0 + timedelta(days=14)).isoformat(),
                "batteries": [{"grades": [8, 9], "instruments": ["phq9", "gad7", "asq"]}],
                "allow_language_fallback": True,  # the ASQ has no Chinese text
            },
        )
        t["campaign"] = time.perf_counter() - start
        check(made.status_code == 201, f"campaign: {made.status_code} {made.text[:300]}")
        campaign_id = made.json()["campaign_id"]

        classes = http.get(
            "/api/v1/coverage", headers=lead, params={"campaign_id": campaign_id}
        ).json()["classes"]
        check(
            len(classes) == classes_n and sum(c["invited"] for c in classes) == n,
            f"before: {len(classes)} classes, {sum(c['invited'] for c in classes)} invited",
        )
        codes: list[str] = []
        start = time.perf_counter()
        for klass in classes:  # bounded: one request per class
            deadline.check("slips")
            slips = http.post(
                f"/api/v1/campaigns/{campaign_id}/classes/{klass['class_id']}/slips",
                headers=lead,
            )
            check(slips.status_code in (200, 201), f"slips: {slips.status_code}")
            codes.extend(dict.fromkeys(CODE.findall(slips.text)))
        t["slips"] = time.perf_counter() - start
        check(len(codes) == n == len(set(codes)), f"slips: {len(codes)} codes for {n} students")

        non = http.get(f"/api/v1/campaigns/{campaign_id}/non-completers", headers=lead).json()
        start = time.perf_counter()
        for entry in non[:refused_n]:  # bounded: N / 20 requests
            deadline.check("consents")
            r = http.post(
                f"/api/v1/campaigns/{campaign_id}/consents",
                headers=lead,
                json={"student_id": entry["student_id"], "status": "refused"},
            )
            check(r.status_code == 201, f"consent: {r.status_code} {r.text[:200]}")
        t["consents"] = time.perf_counter() - start

        def take_part(c: httpx.Client, index_code: tuple[int, str]) -> tuple[str, float]:
            index, code = index_code
            begin = time.perf_counter()
            r = c.post("/api/v1/student/sessions", json={"access_code": code})
            if r.status_code == 403:
                return "refused", 0.0
            if r.status_code != 201:
                raise RuntimeError(f"start: {r.status_code} {r.text[:200]}")
            if index % 10 == 9:
                return "started", 0.0  # 1 in 10 starts and does not finish
            s = r.json()
            asq = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0} if index % 10 == 0 else None
            sub = c.post(
                f"/api/v1/student/sessions/{s['session_id']}/submission",
                headers={
                    "Authorization": f"Bearer {s['session_token']}",
                    "Idempotency-Key": "k",
                },
                json={"answers": battery_answers(asq)},
            )
            if sub.status_code != 201:
                raise RuntimeError(f"submit: {sub.status_code} {sub.text[:200]}")
            return "submitted", time.perf_counter() - begin

        results, t["submissions"] = run_clients(
            base,
            clients,
            items=list(enumerate(codes)),
            work=take_part,
            deadline=deadline,
            what="submissions",
            nodelay=not args.nagle,
        )
        outcomes = [o for o, _ in results]
        latencies = [s for o, s in results if o == "submitted"]
        refused = outcomes.count("refused")
        started_only = outcomes.count("started")
        submitted = outcomes.count("submitted")

        start = time.perf_counter()
        cov = http.get("/api/v1/coverage", headers=lead, params={"campaign_id": campaign_id})
        t["coverage"] = time.perf_counter() - start
        check(cov.status_code == 200, f"coverage: {cov.status_code}")
        report = cov.json()
        left = http.get(f"/api/v1/campaigns/{campaign_id}/non-completers", headers=lead).json()

    school = report["schools"][0]
    orange = sum(1 for i, o in enumerate(outcomes) if o == "submitted" and i % 10 == 0)
    expected = {
        "refused (clients)": (refused, refused_n),
        "invited": (school["invited"], n),
        "refused": (school["refused"], refused_n),
        "consented": (school["consented"], n - refused_n),
        "started": (school["started"], submitted + started_only),
        "submitted": (school["submitted"], submitted),
        "coverage": (school["coverage"], round(submitted / n, 4)),
        "submitted (sum of classes)": (sum(c["submitted"] for c in report["classes"]), submitted),
        "orange tier": (school["tiers"]["orange"], orange),
        "non-completers": (len(left), n - submitted),
    }
    wrong = {k: v for k, v in expected.items() if v[0] != v[1]}
    if wrong:
        raise SystemExit(
            "FAIL: coverage is not exact (got, expected): " + json.dumps(wrong, ensure_ascii=False)
        )
    check(
        {e["state"] for e in left} == ({"refused", "started"} if started_only else {"refused"}),
        f"non-completer states {sorted({e['state'] for e in left})}",
    )
    return {
        "t": t,
        "outcomes": outcomes,
        "codes": codes,
        "submitted": submitted,
        "started_only": started_only,
        "refused": refused,
        "latencies": latencies,
        "school": school,
    }


# ---------------------------------------------------------------- ceilings


async def db_ceiling(database_url: str, inserts: int, tasks: int, deadline: Deadline) -> float:
    """``inserts`` single-row INSERTs, one transaction each, from ``tasks`` concurrent tasks,
    through the service's engine, into a scratch table (created and dropped here)."""
    from sqlalchemy import Column, MetaData, String, Table, Text, insert

    meta = MetaData()
    table = Table(
        f"bench_ceiling_{uuid.uuid4().hex[:8]}",
        meta,
        Column("id", String(36), primary_key=True),
        Column("payload", Text, nullable=False),
    )
    payload = json.dumps({"answers": battery_answers()})
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(meta.create_all)

        async def task(count: int) -> None:
            for _ in range(count):  # bounded
                deadline.check("db ceiling")
                async with engine.begin() as conn:
                    await conn.execute(insert(table).values(id=str(uuid.uuid4()), payload=payload))

        shares = [inserts // tasks + (1 if k < inserts % tasks else 0) for k in range(tasks)]
        start = time.perf_counter()
        await asyncio.gather(*(task(s) for s in shares))
        elapsed = time.perf_counter() - start
        async with engine.begin() as conn:
            await conn.run_sync(meta.drop_all)
        return inserts / elapsed
    finally:
        await engine.dispose()


def framework_ceiling(
    outcomes: list[str],
    codes: list[str],
    clients: int,
    deadline: Deadline,
    *,
    nodelay: bool,
) -> tuple[float, float]:
    """The same requests as the submissions phase (start; submit for those who submitted)
    against a trivial handler; returns (submissions/s, requests/s)."""
    body = {"answers": battery_answers()}
    items = sum(len(v) for v in body["answers"].values())

    def one(c: httpx.Client, item: tuple[str, str]) -> int:
        outcome, code = item
        r = c.post("/echo", json={"access_code": code})
        if r.status_code != 201:
            raise RuntimeError(f"echo: {r.status_code} {r.text[:200]}")
        if outcome != "submitted":
            return 1
        r = c.post(
            "/echo",
            headers={"Authorization": "Bearer x", "Idempotency-Key": "k"},
            json={"access_code": code, **body},
        )
        if r.status_code != 201 or r.json()["items"] != items:
            raise RuntimeError(f"echo: {r.status_code} {r.text[:200]}")
        return 2

    with live_server(trivial_app()) as base:
        quiet_clients()
        done, elapsed = run_clients(
            base,
            clients,
            items=list(zip(outcomes, codes, strict=True)),
            work=one,
            deadline=deadline,
            what="framework",
            nodelay=nodelay,
        )
    return outcomes.count("submitted") / elapsed, sum(done) / elapsed


# ---------------------------------------------------------------- main


def measure(name: str, url: str, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    print(f"\n== {name}: migrate + seed…", flush=True)
    upgrade(url)
    seed(url)
    print(
        f"{name}: campaign for {args.students:,} students in {args.classes} classes, "
        f"{args.clients} clients…",
        flush=True,
    )
    r = campaign(url, args, deadline)
    t, n, sub = r["t"], args.students, r["submitted"]
    rate = sub / t["submissions"]
    requests = 2 * sub + r["started_only"] + r["refused"]
    p50 = statistics.median(r["latencies"]) if r["latencies"] else 0.0
    p99 = percentile(r["latencies"], 0.99) if r["latencies"] else 0.0
    print(f"  roster preview+apply {t['roster']:7.2f} s  ({n / t['roster']:,.0f} students/s)")
    print(f"  campaign create     {t['campaign']:8.2f} s")
    print(
        f"  slips, {args.classes:>3} classes {t['slips']:8.2f} s  ({n / t['slips']:,.0f} slips/s)"
    )
    print(f"  {r['refused']:>4} refusals       {t['consents']:8.2f} s")
    print(
        f"  submissions         {t['submissions']:8.2f} s  ({sub} submitted, "
        f"{r['started_only']} started only, {r['refused']} refused; "
        f"{requests / t['submissions']:,.0f} requests/s)"
    )
    print(
        f"    {rate:,.1f} submissions/s; start+submit p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms"
    )
    print(f"  coverage report     {t['coverage']:8.2f} s")
    s = r["school"]
    print(
        f"  coverage exact: invited {s['invited']}, refused {s['refused']}, consented "
        f"{s['consented']}, started {s['started']}, submitted {s['submitted']}, coverage "
        f"{s['coverage']}, orange {s['tiers']['orange']}"
    )
    print("  ceilings…", flush=True)
    db_rate = asyncio.run(db_ceiling(url, sub, args.clients, deadline))
    fw_rate, fw_requests = framework_ceiling(
        r["outcomes"],
        r["codes"],
        args.clients,
        deadline,
        nodelay=not args.nagle,
    )
    line = (
        f"submissions/s {rate:,.1f} vs db-ceiling {db_rate:,.0f} ({rate / db_rate:.3f}) "
        f"vs framework-ceiling {fw_rate:,.0f} ({rate / fw_rate:.3f})"
    )
    print(f"  framework ceiling: {fw_requests:,.0f} requests/s")
    print(f"  {line}", flush=True)
    return {"name": name, "t": t, "rate": rate, "p50": p50, "p99": p99, "line": line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--classes", type=int, default=None, help="default: students // 50")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "RUNXIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--nagle", action="store_true", help="clients without TCP_NODELAY (as the test's)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=900, help="seconds for the whole run (default 900)"
    )
    args = parser.parse_args()
    if args.classes is None:
        args.classes = max(1, args.students // 50)
    if args.students < 20 or args.classes < 1 or args.clients < 1:
        parser.error("need --students >= 20, --classes >= 1, --clients >= 1")
    host = urlsplit(args.postgres).hostname
    if not args.skip_postgres and host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must be a server on 127.0.0.1")
    deadline = Deadline(args.time_limit)

    tmp = tempfile.mkdtemp(prefix="bench-campaign-")
    targets = [("SQLite", f"sqlite:///{tmp}/campaign.db")]
    pg_name = f"bench_campaign_{uuid.uuid4().hex[:8]}"
    pg_created = False
    if not args.skip_postgres:
        try:
            asyncio.run(pg_admin(args.postgres, f'CREATE DATABASE "{pg_name}"'))
            pg_created = True
            targets.append(("PostgreSQL", with_db(args.postgres, pg_name)))
        except Exception as exc:
            print(f"PostgreSQL not measured: {exc}")
    results = []
    try:
        for name, url in targets:
            results.append(measure(name, url, args, deadline))
    finally:
        if pg_created:
            asyncio.run(
                pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            )

    print(
        f"\n{args.students:,} students, {args.classes} classes, {args.clients} clients "
        "(seconds per phase)"
    )
    print(
        f"{'database':<11} {'roster':>7} {'campaign':>9} {'slips':>7} {'submit':>7} "
        f"{'coverage':>9} {'sub/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for r in results:
        t = r["t"]
        print(
            f"{r['name']:<11} {t['roster']:>7.2f} {t['campaign']:>9.2f} {t['slips']:>7.2f} "
            f"{t['submissions']:>7.2f} {t['coverage']:>9.2f} {r['rate']:>7.1f} "
            f"{r['p50'] * 1000:>7.0f} {r['p99'] * 1000:>7.0f}"
        )
    for r in results:
        print(f"{r['name']}: {r['line']}")
    print("coverage exact on every database")


if __name__ == "__main__":
    main()
