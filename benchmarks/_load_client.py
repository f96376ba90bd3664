"""The load process of ``submit_load.py``: drives the student flow over keep-alive HTTP/1.1.

Run by ``submit_load.py`` as a separate process (``python _load_client.py JOB.json OUT.json``):
the job names the server, the phase (``ceiling`` or ``submit``), the number of connections,
the duration, an optional pace (``rate``: flows per second started on schedule by whichever
connection is free, else as fast as the connections go) and, for ``submit``, the students
(access code, answers, expected tier). Results
(per-request latencies, outcomes per student, retry counts) go to ``OUT.json``.

A minimal HTTP/1.1 client on asyncio streams (uvloop when installed) instead of httpx: the
load generator shares the 2-core machine with the server, and httpx costs several times more
CPU per request than the server's trivial endpoint, which would make the ceiling measure the
client. Each connection runs one flow at a time, as a student's browser does:

1. ``POST /api/v1/student/sessions`` with the access code (201: session id and token);
2. ``PUT .../answers`` once with the first instrument's answers (an autosave);
3. ``POST .../submission`` with every answer and an ``Idempotency-Key``.

A refusal that invites a retry (503 or 429, with ``Retry-After``) or a lost connection is
retried after the pause, with the same Idempotency-Key, until the drain deadline: a client that
got no answer retries, and the run checks that every retry landed exactly once.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

RETRY_STATUSES = {429, 503}


class Disconnected(Exception):
    """The connection closed or broke before a whole response arrived."""


class Connection:
    """One keep-alive HTTP/1.1 connection (Content-Length bodies only, as the service sends)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            try:
                await self._open()
            except OSError as exc:
                raise Disconnected(str(exc)) from exc
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            response_headers: dict[str, str] = {}
            for line in header_lines:
                if line:
                    name, _, value = line.partition(":")
                    response_headers[name.strip().lower()] = value.strip()
            length = int(response_headers.get("content-length", "0"))
            payload = await self.reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self.close()
            raise Disconnected(str(exc)) from exc
        if response_headers.get("connection", "").lower() == "close":
            self.close()
        return status, response_headers, payload


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def note(self, kind: str, status: int, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        key = f"{kind} {status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1


async def call(  # noqa: PLR0917 - one request's parts, as a client library takes them
    conn: Connection,
    stats: Stats,
    kind: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    deadline: float,
) -> tuple[int, bytes]:
    """One request, retried after a refusal that invites it or a lost connection."""
    while True:
        started = time.perf_counter()
        try:
            status, response_headers, payload = await conn.request(method, path, body, headers)
        except Disconnected:
            stats.note(kind, 0, time.perf_counter() - started)
            if time.monotonic() > deadline:
                return 0, b""
            stats.retries += 1
            await asyncio.sleep(0.05)
            continue
        stats.note(kind, status, time.perf_counter() - started)
        if status in RETRY_STATUSES and time.monotonic() < deadline:
            stats.retries += 1
            await asyncio.sleep(min(float(response_headers.get("retry-after", "1") or 1), 2.0))
            continue
        return status, payload


async def student_flow(
    conn: Connection, stats: Stats, student: dict[str, Any], drain: float
) -> None:
    outcome: dict[str, Any] = {"code": student["code"], "tier": student["tier"], "status": None}
    stats.outcomes.append(outcome)
    status, payload = await call(
        conn,
        stats,
        "start",
        "POST",
        "/api/v1/student/sessions",
        json.dumps({"access_code": student["code"], "language": "zh-CN"}).encode(),
        {},
        drain,
    )
    if status not in (200, 201):
        outcome.update(status=status, step="start")
        return
    started = json.loads(payload)
    session_id, token = started["session_id"], started["session_token"]
    outcome["session_id"] = session_id
    auth = {"Authorization": f"Bearer {token}"}
    answers = student["answers"]
    first = next(iter(answers))
    status, _ = await call(
        conn,
        stats,
        "save",
        "PUT",
        f"/api/v1/student/sessions/{session_id}/answers",
        json.dumps({"answers": {first: answers[first]}}).encode(),
        auth,
        drain,
    )
    if status != 200:
        outcome.update(status=status, step="save")
        return
    key = str(uuid.uuid4())
    status, payload = await call(
        conn,
        stats,
        "submit",
        "POST",
        f"/api/v1/student/sessions/{session_id}/submission",
        json.dumps({"answers": answers}).encode(),
        {**auth, "Idempotency-Key": key},
        drain,
    )
    outcome.update(status=status, step="submit")
    if status == 201:
        outcome["receipt"] = json.loads(payload)["session_id"]


async def ceiling_flow(conn: Connection, stats: Stats, drain: float) -> None:
    """The same shape on the app's trivial endpoint: three requests per flow."""
    for _ in range(3):
        await call(conn, stats, "healthz", "GET", "/healthz", None, {}, drain)


async def run(job: dict[str, Any]) -> dict[str, Any]:
    stats = Stats()
    students: list[dict[str, Any]] = job.get("students", [])
    next_student = iter(students)
    seconds, drain_s = job["seconds"], job.get("drain_seconds", 30.0)
    done_flows = 0

    rate = float(job.get("rate") or 0)  # flows per second for the whole client; 0: unpaced
    slots = 0

    async def connection_loop(first: float, stop_at: float, drain: float) -> None:
        nonlocal done_flows, slots
        conn = Connection(job["host"], job["port"])
        try:
            while time.monotonic() < stop_at:
                if rate:  # open loop: flow i starts at first + i / rate, whoever is free
                    due = first + slots / rate
                    slots += 1
                    if due >= stop_at:
                        return
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                if job["phase"] == "ceiling":
                    await ceiling_flow(conn, stats, drain)
                else:
                    student = next(next_student, None)
                    if student is None:
                        return
                    await student_flow(conn, stats, student, drain)
                done_flows += 1
        finally:
            conn.close()

    warmup = job.get("warmup_seconds", 0.0)
    if warmup:
        start = time.monotonic()
        await asyncio.gather(
            *(
                connection_loop(start, start + warmup, start + warmup + drain_s)
                for _ in range(job["connections"])
            )
        )
        stats, done_flows, slots = Stats(outcomes=stats.outcomes), 0, 0  # every outcome is checked
    begin = time.monotonic()
    await asyncio.gather(
        *(
            connection_loop(begin, begin + seconds, begin + seconds + drain_s)
            for _ in range(job["connections"])
        )
    )
    elapsed = time.monotonic() - begin
    return {
        "elapsed_s": elapsed,
        "flows": done_flows,
        "latencies": stats.latencies,
        "statuses": stats.statuses,
        "retries": stats.retries,
        "outcomes": stats.outcomes,
        "students_exhausted": job["phase"] == "submit" and next(next_student, None) is None,
    }


def main() -> int:
    job_path, out_path = sys.argv[1], sys.argv[2]
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    try:
        import uvloop

        result = uvloop.run(run(job))
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux only
        result = asyncio.run(run(job))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
