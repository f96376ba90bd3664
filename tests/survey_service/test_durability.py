"""Durability (issue 18): the app process is killed with SIGKILL at random moments while
students submit, 20 times on each database, and restarted each time.

Every submission that got a 2xx is in the database whole; no submission exists half-written,
neither right after a kill nor at the end; clients that got no answer retry with the same
Idempotency-Key and end with exactly one submission (the first reply, or the replay of the
receipt of the attempt that committed before the kill).

The app runs in real processes forked by ``_fork_server.py`` (the service imported once, one
listening socket kept open across restarts; a child per round, killed with SIGKILL).
SQLite runs with the engine's own settings (WAL; see the README on durability): a commit
must survive the death of the process that made it, which is what this test kills (a power
cut, which ``synchronous=NORMAL`` trades away, is beyond what a test can do).
"""

from __future__ import annotations

import asyncio
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from process_support import ForkServer, half_written, received_at, snapshot
from svc_support import battery_answers, make_settings, seed

from survey_service.db import create_engine

ROUNDS = 20
CLIENTS = 4
#: Access codes: more than the rounds can use (at most 6 answered before each kill, plus the
#: few in flight), so that the stream never runs dry before the last kill.
STUDENTS = 300
#: A child is killed after it has answered this many submissions (uniform, from its start) and
#: then a random fraction of a typical submission's time: a random moment of the stream
#: whatever the machine's speed (a fixed lifetime would leave a slow machine's children
#: killed while warming up, before they answer anything).
ANSWERED_BEFORE_KILL = (0, 6)
THEN = (0.0, 0.06)  # seconds
RETRY_FOR = 60.0  # seconds a client keeps retrying one request before the test fails

# ASQ answers: acute suicide risk (red), and a positive screen without acute risk (orange).
RED: dict[str, int | None] = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
ASQ_POSITIVE: dict[str, int | None] = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}


def answers_for(index: int) -> tuple[dict[str, dict[str, int | None]], str]:
    """The answers of the ``index``-th submission and the tier they must triage to: 60 %
    green (one in twenty with an item left out), 20 % yellow, 10 % orange (severity or a
    non-acute suicide-risk answer), 10 % red. Richer in risk than a school (about 10 % yellow,
    3 % orange, 0.5 % red) so that every round has cases and red ones are killed mid-write."""
    slot = index % 20
    if slot in (0, 10):
        return battery_answers(RED), "red"
    if slot == 5:
        return battery_answers(ASQ_POSITIVE), "orange"
    if slot == 15:
        return battery_answers(gad7=3), "orange"  # GAD-7 21: severe
    if slot in (1, 3, 7, 13):
        return battery_answers(gad7=2), "yellow"  # GAD-7 14: moderate
    answers = battery_answers()
    if slot == 2:
        answers["phq9"]["item3"] = None  # prorated, still green
    return answers, "green"


@dataclass
class Submission:
    """One student's way through start and submit, as the client saw it."""

    code: str
    index: int
    tier: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    session_id: str | None = None
    token: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    starts_cut: int = 0  # start requests that got no answer
    submits_cut: int = 0  # submit requests that got no answer
    answered_sent_at: datetime | None = None  # when the answered submit was sent
    status: int | None = None  # the status of the answered submit
    receipt: dict[str, Any] | None = None
    error: str | None = None


def _answered(send: Any, on_cut: Any) -> httpx.Response:
    """``send()`` until it gets an answer; ``on_cut()`` after each that did not. A refusal
    with ``Retry-After`` (503 overloaded or database unavailable, 429) is sent again after the
    wait it asks for (at most a second), as a real client does: nothing of it ran."""
    deadline = time.monotonic() + RETRY_FOR
    while True:
        try:
            reply: httpx.Response = send()
        except httpx.TransportError:  # reset, refused, timed out: no answer
            on_cut()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
            continue
        retry_after = reply.headers.get("Retry-After")
        if reply.status_code in (429, 503) and retry_after and time.monotonic() < deadline:
            time.sleep(min(1.0, float(retry_after)))
            continue
        return reply


def _student(http: httpx.Client, sub: Submission) -> None:
    def cut_start() -> None:
        sub.starts_cut += 1

    start = _answered(
        lambda: http.post("/api/v1/student/sessions", json={"access_code": sub.code}), cut_start
    )
    if start.status_code not in (200, 201):
        sub.error = f"start answered {start.status_code}: {start.text[:300]}"
        return
    session = start.json()
    sub.session_id = session["session_id"]
    sub.token = session["session_token"]
    answers, _ = answers_for(sub.index)
    sub.body = {"answers": answers}
    headers = {
        "Authorization": f"Bearer {session['session_token']}",
        "Idempotency-Key": sub.key,
    }

    def cut_submit() -> None:
        sub.submits_cut += 1

    def send() -> httpx.Response:
        sub.answered_sent_at = datetime.now(UTC)  # kept if this one is answered
        return http.post(
            f"/api/v1/student/sessions/{sub.session_id}/submission", headers=headers, json=sub.body
        )

    reply = _answered(send, cut_submit)
    sub.status = reply.status_code
    if reply.status_code == 201:
        sub.receipt = reply.json()
    else:
        sub.error = f"submit answered {reply.status_code}: {reply.text[:300]}"


class Progress:
    """Submissions answered so far (any status), for the kill loop to wait on."""

    def __init__(self) -> None:
        self._answered = 0
        self._changed = threading.Condition()

    def answered(self) -> None:
        with self._changed:
            self._answered += 1
            self._changed.notify_all()

    def count(self) -> int:
        with self._changed:
            return self._answered

    def wait_for(self, target: int, timeout: float, *, unless: Any) -> None:
        """Until ``target`` submissions are answered, or ``unless()`` is true."""
        with self._changed:
            self._changed.wait_for(lambda: self._answered >= target or unless(), timeout)


def _client(
    base_url: str,
    queue: list[Submission],
    done: list[Submission],
    stop: threading.Event,
    progress: Progress,
) -> None:
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(20.0)) as http:
        while not stop.is_set():
            try:
                sub = queue.pop()
            except IndexError:
                return
            try:
                _student(http, sub)
            except Exception as exc:  # the test fails with it below
                sub.error = f"{type(exc).__name__}: {exc}"
            done.append(sub)
            progress.answered()


def test_sigkill_during_submissions_loses_nothing(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url)
    # The launcher imports the service while the test seeds (it touches no database yet).
    server = ForkServer(database_url, tmp_path / "fork-server.log")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # the campaign is open
    demo = seed(settings, now=now, students=STUDENTS)
    seed_value = random.randrange(2**32)
    rng = random.Random(seed_value)
    print(f"durability: random seed {seed_value}")
    queue = [
        Submission(code=code, index=i, tier=answers_for(i)[1])
        for i, code in enumerate(demo.access_codes)
    ][::-1]  # popped from the end: in index order
    done: list[Submission] = []
    stop = threading.Event()
    progress = Progress()
    problems_after_kill: list[str] = []
    engine = create_engine(database_url)
    runner = asyncio.Runner()
    try:
        with server:
            server.spawn()
            clients = [
                threading.Thread(
                    target=_client, args=(server.base_url, queue, done, stop, progress)
                )
                for _ in range(CLIENTS)
            ]
            for c in clients:
                c.start()
            for round_no in range(ROUNDS):
                target = progress.count() + rng.randint(*ANSWERED_BEFORE_KILL)
                progress.wait_for(target, timeout=RETRY_FOR, unless=lambda: not queue)
                time.sleep(rng.uniform(*THEN))
                server.kill()
                # Nobody serves now (the clients' retries wait in the listen backlog): the
                # database as the dead process left it.
                snap = runner.run(snapshot(engine))
                problems_after_kill += [f"round {round_no}: {p}" for p in half_written(snap)]
                server.spawn()
            stop.set()  # each client finishes the student it is on, then stops
            for c in clients:
                c.join(timeout=RETRY_FOR * 2)
            assert not any(c.is_alive() for c in clients), "a client is stuck"
            assert server.reaped == [f"signal {int(signal.SIGKILL)}"] * ROUNDS, server.log_text()

            errors = [f"{s.code}: {s.error}" for s in done if s.error]
            assert not errors, errors
            assert not problems_after_kill, problems_after_kill[:20]
            final = runner.run(snapshot(engine))
            assert not half_written(final), half_written(final)[:20]
            _check_each_submission(final, done)
            replays = _replay(server.base_url, done)
            cut = [s for s in done if s.submits_cut]
            # A receipt older than the request that got it: the replay of an attempt that
            # committed before its process was killed.
            committed_before_cut = [
                s
                for s in cut
                if s.receipt is not None
                and s.answered_sent_at is not None
                and received_at(s.receipt) < s.answered_sent_at
            ]
            print(
                f"durability {engine.dialect.name}: {ROUNDS} kills, {len(done)} submissions "
                f"({len(queue)} codes left unused), "
                f"{sum(s.starts_cut for s in done)} starts and "
                f"{sum(s.submits_cut for s in done)} submits without an answer "
                f"({len(committed_before_cut)} of {len(cut)} students had committed before "
                f"their answer was lost: they got the replay), {replays} replays checked"
            )
            # The kills landed on requests in flight (4 clients keep the server busy), so the
            # retry path ran; a test where no request was ever cut would prove nothing.
            assert cut, "no submit was in flight at any of the kills"
    finally:
        stop.set()
        server.close()
        runner.run(engine.dispose())
        runner.close()


def _check_each_submission(snap: Any, done: list[Submission]) -> None:
    """Every client's submission is in the database once, as its receipt says, with the tier
    its answers call for; and the database holds nothing the clients did not submit."""
    by_session = {str(s.session_id): s for s in done}
    assert len(by_session) == len(done)  # one session per student, whatever was retried
    assert {str(sid) for sid in snap.sessions} == set(by_session)
    triage_of = {str(t.session_id): t for t in snap.triage}
    records = {str(i.session_id): i for i in snap.idempotency}
    cases = {c.student_id: c for c in snap.cases}
    for sid, sub in by_session.items():
        session = snap.sessions[uuid.UUID(sid)]
        assert session.status == "submitted", (sub, session)
        assert sub.status == 201 and sub.receipt is not None, sub
        assert sub.receipt["session_id"] == sid
        assert received_at(sub.receipt) == session.submitted_at, (sub, session)
        assert snap.codes[session.access_code_id].used_at == session.submitted_at
        record = records[sid]
        assert record.key == sub.key, (sub, record)
        assert record.body["session_id"] == sid
        assert received_at(record.body) == session.submitted_at
        assert triage_of[sid].tier == sub.tier, (sub, triage_of[sid])
        case = cases.get(session.student_id)
        if sub.tier == "green":
            assert case is None, (sub, case)
        else:
            assert case is not None and case.tier == sub.tier, (sub, case)
            assert case.triage_id == triage_of[sid].id and case.status == "open"
    assert len(snap.cases) == sum(1 for s in done if s.tier != "green")


def _replay(base_url: str, done: list[Submission]) -> int:
    """After the last restart: for every student whose answer was lost at least once, the
    same key and body replay the receipt unchanged (201). For a few students: another key is
    409 ``already_submitted`` and the access code cannot start a session again (409)."""
    cut = [s for s in done if s.submits_cut or s.starts_cut]
    few = random.Random(0).sample(done, min(5, len(done)))
    with httpx.Client(base_url=base_url, timeout=20) as http:
        for sub in cut:
            replay = http.post(
                f"/api/v1/student/sessions/{sub.session_id}/submission",
                headers={"Authorization": f"Bearer {sub.token}", "Idempotency-Key": sub.key},
                json=sub.body,
            )
            assert replay.status_code == 201 and replay.json() == sub.receipt, replay.text
        for sub in few:
            other = http.post(
                f"/api/v1/student/sessions/{sub.session_id}/submission",
                headers={"Authorization": f"Bearer {sub.token}", "Idempotency-Key": "another"},
                json=sub.body,
            )
            assert other.status_code == 409, other.text
            assert other.json()["type"].endswith(":already_submitted")
            again = http.post("/api/v1/student/sessions", json={"access_code": sub.code})
            assert again.status_code == 409, again.text
            assert again.json()["type"].endswith(":access_code_used")
    return len(cut)
