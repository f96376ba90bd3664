"""Test doubles that are real servers on 127.0.0.1: a scripted HTTP endpoint and an SMTP server.

The HTTP server impersonates WeCom / DingTalk robots and SMS gateways: it records every request
(path, query, headers, body) and answers from a script, in order (status, headers, body, and an
optional delay to provoke client timeouts). The SMTP server is aiosmtpd's ``Controller`` with a
handler that records messages and can be told to answer a given reply at RCPT or DATA.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from triage.channels import NotificationContent

NOW = datetime(2026, 9, 7, 2, 0, 0, tzinfo=UTC)
OK_BODY = b'{"errcode":0,"errmsg":"ok"}'
# Canaries: strings that must never reach a message unless explicitly allowed.
STUDENT = "王小明"
ANSWER_CANARY = "ANSWER-CANARY-Q9-often"
SCORE_CANARY = "SCORE-CANARY-27"
# Words that must never reach a channel; generated free text (a school's name) avoids them.
CANARIES = (ANSWER_CANARY, SCORE_CANARY, "phq9", "answers", "scores")


def payload(**overrides: Any) -> dict[str, Any]:
    """An outbox payload, with answers and scores planted to prove they are never read."""
    base: dict[str, Any] = {
        "delivery_id": "dlv_01",
        "event": "case.opened",
        "tier": "red",
        "school": "润心实验中学",
        "class": "七年级3班",
        "deadline": "2026-09-07T02:15:00Z",
        "link": "https://runxin.example/cases/c_42",
        "recipient_role": "counsellor",
        "student_name": STUDENT,
        "answers": {"phq9_9": ANSWER_CANARY},
        "scores": {"phq9": SCORE_CANARY, "total": 27},
        "score": SCORE_CANARY,
    }
    base.update(overrides)
    return base


def content(*, names_enabled: bool = False, **overrides: Any) -> NotificationContent:
    return NotificationContent.from_payload(payload(**overrides), names_enabled=names_enabled)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Recorded:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = OK_BODY
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Script:
    """Replies in order; when they run out, ``default`` answers."""

    replies: deque[Reply] = field(default_factory=deque)
    default: Reply = field(default_factory=Reply)
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def then(self, *replies: Reply) -> Script:
        self.replies.extend(replies)
        return self


class _Handler(BaseHTTPRequestHandler):
    script: Script

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        parts = urlsplit(self.path)
        self.script.requests.append(
            Recorded(
                parts.path, parse_qs(parts.query), parts.query, dict(self.headers.items()), body
            )
        )
        reply = self.script.replies.popleft() if self.script.replies else self.script.default
        if reply.delay_s and self.script.release.wait(reply.delay_s):
            return  # the test is over; drop the connection
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@contextmanager
def http_server() -> Iterator[tuple[str, Script]]:
    """A threaded HTTP server on 127.0.0.1; yields its base URL and its script."""
    script = Script()
    handler = type("ScriptedHandler", (_Handler,), {"script": script})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    try:
        yield f"http://{host!s}:{port}", script
    finally:
        script.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def all_text(*chunks: bytes | str) -> str:
    """Everything a receiver saw, decoded (JSON escapes of non-ASCII undone)."""
    import json

    out = []
    for chunk in chunks:
        text = chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else chunk
        try:
            out.append(json.dumps(json.loads(text), ensure_ascii=False))
        except ValueError:
            out.append(text)
    return "\n".join(out)


def assert_minimal(text: str, *, name_allowed: bool = False) -> None:
    """No answers, no scores; the student's name only where allowed."""
    for canary in CANARIES:
        assert canary not in text, canary
    if not name_allowed:
        assert STUDENT not in text
