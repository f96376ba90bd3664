"""Real processes for the durability and scale-out tests: the forking launcher of
``_fork_server.py``, ``runxin serve`` and ``runxin worker`` processes, and reads of a whole
submission's rows from the database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

import triage
from survey_service.db import (
    READ_ONLY,
    AccessCode,
    Case,
    CaseEvent,
    IdempotencyRecord,
    OutboxMessage,
    Response,
    Score,
    ScreeningSession,
    TriageRecord,
)

FORK_SERVER = str(Path(__file__).with_name("_fork_server.py"))
RUNXIN = str(Path(sys.executable).parent / "runxin")
SECRET = "test-secret-key-0123456789"  # svc_support.make_settings's key


class ForkServer:
    """The launcher of ``_fork_server.py`` as a subprocess: ``spawn()`` starts a fresh app
    process on the launcher's one listening socket, ``kill()`` ends it with SIGKILL.

    The launcher starts importing at once; ``spawn()`` waits for it. Its stderr (and its
    children's) goes to ``log``: read it when a test fails.
    """

    def __init__(self, database_url: str, log: Path) -> None:
        self.log = log
        self._log_file = log.open("w")
        self._proc = subprocess.Popen(
            [sys.executable, FORK_SERVER, database_url, SECRET],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._base_url: str | None = None
        self.pid: int | None = None
        self.reaped: list[str] = []  # "signal 9" for each child killed with SIGKILL

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            first = self._line(timeout=60)
            if not first.startswith("port "):
                raise RuntimeError(f"fork server said {first!r}; log: {self.log_text()}")
            self._base_url = f"http://127.0.0.1:{int(first.split()[1])}"
        return self._base_url

    def log_text(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text()[-4000:]

    def _line(self, *, timeout: float) -> str:
        out = self._proc.stdout
        assert out is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(out.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result:
            raise RuntimeError(f"fork server said nothing in {timeout} s; log: {self.log_text()}")
        if not result[0]:
            raise RuntimeError(f"fork server ended; log: {self.log_text()}")
        return result[0].strip()

    def _send(self, command: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()

    def spawn(self) -> int:
        """Start a new app process; returns its pid once it accepts connections."""
        assert self.base_url  # the launcher is up
        self._send("spawn")
        while True:
            line = self._line(timeout=60)
            word, *rest = line.split()
            if word == "reaped":
                self.reaped.append(" ".join(rest[1:]))
            elif word == "ready":
                self.pid = int(rest[0])
                return self.pid
            else:
                raise RuntimeError(f"fork server said {line!r}; log: {self.log_text()}")

    def kill(self) -> None:
        """SIGKILL the running app process (the launcher reaps it at the next ``spawn``)."""
        if self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
            self.pid = None

    def close(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._send("stop")
                assert self._proc.stdin is not None
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._log_file.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """A ``runxin`` process with its output in a file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    _file: IO[bytes] = field(repr=False)

    def output(self) -> str:
        if not self._file.closed:
            self._file.flush()
        return self.log.read_text(errors="replace")[-4000:]


def start_runxin(name: str, args: list[str], database_url: str, logs: Path) -> Proc:
    """Start ``runxin ARGS`` against ``database_url``; its output goes to ``logs/NAME.log``."""
    log = logs / f"{name}.log"
    out = log.open("wb")
    env = {
        **os.environ,
        "RUNXIN_DATABASE_URL": database_url,
        "RUNXIN_SECRET_KEY": SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    popen = subprocess.Popen([RUNXIN, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
    return Proc(name, popen, log, out)


def stop_all(procs: list[Proc]) -> None:
    """SIGTERM (a clean stop), then SIGKILL whatever is left after 10 s."""
    for p in procs:
        if p.popen.poll() is None:
            p.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.popen.kill()
            p.popen.wait()
        p._file.close()


def wait_healthy(base_url: str, proc: Proc, *, timeout: float = 60) -> None:
    """Wait until ``GET /healthz`` answers 200 (the process started and reached its database)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited {proc.popen.returncode}: {proc.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not answer in {timeout} s: {proc.output()}")


@contextlib.contextmanager
def runxin_processes(procs: list[Proc]) -> Iterator[list[Proc]]:
    try:
        yield procs
    finally:
        stop_all(procs)


@dataclass
class Snapshot:
    """The rows of every submission-related table, read in one transaction."""

    sessions: dict[uuid.UUID, Any]  # id -> row (student_id, access_code_id, status, ...)
    codes: dict[uuid.UUID, Any]  # id -> row (student_id, used_at)
    responses: list[Any]
    scores: list[Any]
    triage: list[Any]
    cases: list[Any]
    events: list[Any]
    outbox: list[Any]
    idempotency: list[Any]


async def snapshot(engine: AsyncEngine) -> Snapshot:
    """Read a :class:`Snapshot` through ``engine`` in one read transaction (PostgreSQL:
    REPEATABLE READ, so every table is read as of one moment; SQLite: a deferred transaction,
    one WAL snapshot)."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    async with engine.connect() as plain:
        conn = await plain.execution_options(**options)
        async with conn.begin():

            async def rows(*columns: Any) -> list[Any]:
                return list((await conn.execute(select(*columns))).all())

            s = ScreeningSession
            sessions = await rows(
                s.id, s.student_id, s.access_code_id, s.status, s.submitted_at, s.battery
            )
            codes = await rows(AccessCode.id, AccessCode.student_id, AccessCode.used_at)
            return Snapshot(
                sessions={r.id: r for r in sessions},
                codes={r.id: r for r in codes},
                responses=await rows(
                    Response.id, Response.session_id, Response.student_id, Response.instrument_id
                ),
                scores=await rows(Score.id, Score.response_id, Score.session_id),
                triage=await rows(
                    TriageRecord.id,
                    TriageRecord.session_id,
                    TriageRecord.student_id,
                    TriageRecord.tier,
                    TriageRecord.source,
                ),
                cases=await rows(Case.id, Case.student_id, Case.triage_id, Case.tier, Case.status),
                events=await rows(CaseEvent.case_id, CaseEvent.kind, CaseEvent.data),
                outbox=await rows(
                    OutboxMessage.id,
                    OutboxMessage.case_id,
                    OutboxMessage.event,
                    OutboxMessage.delivery_id,
                    OutboxMessage.status,
                ),
                idempotency=await rows(
                    IdempotencyRecord.session_id,
                    IdempotencyRecord.key,
                    IdempotencyRecord.status_code,
                    IdempotencyRecord.body,
                ),
            )


def half_written(snap: Snapshot) -> list[str]:
    """Every way the snapshot breaks "a submission is all there or not there at all"; empty
    when none.

    A submitted session has: its access code marked used, one response per battery instrument
    each with one score row, one triage record, one idempotency record (201), and, for a tier of
    yellow or above, an open case of the student at that tier or higher, with its ``opened``
    event and its ``case.opened`` notification in the outbox. A started session has none of
    these. No row of those tables exists outside a submitted session; no student has two open
    cases.
    """
    problems: list[str] = []
    responses = defaultdict(list)
    for r in snap.responses:
        responses[r.session_id].append(r)
    scores_of = Counter(sc.response_id for sc in snap.scores)
    triage_of = defaultdict(list)
    for t in snap.triage:
        if t.session_id is not None:
            triage_of[t.session_id].append(t)
    idem_of = defaultdict(list)
    for i in snap.idempotency:
        idem_of[i.session_id].append(i)
    open_cases = defaultdict(list)
    for c in snap.cases:
        if c.status in triage.OPEN_CASE_STATES:
            open_cases[c.student_id].append(c)
    for student, cases in open_cases.items():
        if len(cases) > 1:
            problems.append(f"student {student} has {len(cases)} open cases")
    triage_ids = {t.id for t in snap.triage}
    case_ids = {c.id for c in snap.cases}
    opened = {e.case_id for e in snap.events if e.kind == "opened"}
    notified = {o.case_id for o in snap.outbox if o.event == "case.opened"}

    for sid, s in snap.sessions.items():
        code = snap.codes[s.access_code_id]
        if s.status == "started":
            leftovers = {
                "responses": len(responses[sid]),
                "triage records": len(triage_of[sid]),
                "idempotency records": len(idem_of[sid]),
            }
            for what, n in leftovers.items():
                if n:
                    problems.append(f"started session {sid} has {n} {what}")
            if code.used_at is not None:
                problems.append(f"started session {sid}: its access code is marked used")
            continue
        if s.status != "submitted":
            problems.append(f"session {sid} has status {s.status!r}")
            continue
        if s.submitted_at is None:
            problems.append(f"submitted session {sid} has no submitted_at")
        if code.used_at is None:
            problems.append(f"submitted session {sid}: its access code is not marked used")
        battery = sorted(b["instrument_id"] for b in s.battery)
        answered = sorted(r.instrument_id for r in responses[sid])
        if answered != battery:
            problems.append(f"submitted session {sid}: responses {answered}, battery {battery}")
        for r in responses[sid]:
            if scores_of[r.id] != 1:
                problems.append(f"response {r.id} has {scores_of[r.id]} score rows")
        records = triage_of[sid]
        if len(records) != 1:
            problems.append(f"submitted session {sid} has {len(records)} triage records")
        idem = idem_of[sid]
        if len(idem) != 1 or idem[0].status_code != 201:
            problems.append(f"submitted session {sid}: idempotency records {idem}")
        for t in records:
            if t.tier == "green":
                continue
            cases = open_cases[s.student_id]
            if not cases or triage.TIER_ORDER[cases[0].tier] < triage.TIER_ORDER[t.tier]:
                problems.append(
                    f"submitted session {sid} ({t.tier}): open cases {[c.tier for c in cases]}"
                )
    session_of_response = {r.id: r.session_id for r in snap.responses}
    for sc in snap.scores:
        if sc.response_id not in session_of_response:
            problems.append(f"score {sc.id} has no response")
        elif session_of_response[sc.response_id] != sc.session_id:
            problems.append(f"score {sc.id} names another session than its response")
    for r in snap.responses:
        s = snap.sessions.get(r.session_id)
        if s is None or s.status != "submitted":
            problems.append(f"response {r.id} belongs to a session that is not submitted")
    for t in snap.triage:
        if t.session_id is None:
            continue
        s = snap.sessions.get(t.session_id)
        if s is None or s.status != "submitted":
            problems.append(f"triage record {t.id} belongs to a session that is not submitted")
    for c in snap.cases:
        if c.triage_id not in triage_ids:
            problems.append(f"case {c.id} refers to a missing triage record")
        if c.id not in opened:
            problems.append(f"case {c.id} has no 'opened' event")
        if c.id not in notified:
            problems.append(f"case {c.id} has no case.opened notification")
    for o in snap.outbox:
        if o.case_id is not None and o.case_id not in case_ids:
            problems.append(f"outbox row {o.id} refers to a missing case")
    return problems


def received_at(receipt: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(receipt["received_at"]))
