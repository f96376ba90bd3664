"""A local webhook receiver for demos and operators (``runxin inbox``): verifies and prints
what arrives. Not the in-app notification queue (that is ``services.inbox``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from survey_service.clock import Clock
from triage import verify_signature


def run_inbox(host: str, port: int, secrets: Sequence[str], *, clock: Clock) -> None:
    """Serve until interrupted; answer 200 to valid deliveries, 401 to bad signatures.

    ``clock`` dates the replay window of the signature check.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = not secrets or verify_signature(
                list(secrets),
                timestamp=self.headers.get("X-Runxin-Timestamp", ""),
                signature=self.headers.get("X-Runxin-Signature", ""),
                body=body,
                now=int(clock.now().timestamp()),
            )
            self.send_response(200 if ok else 401)
            self.end_headers()
            try:
                event = json.loads(body)
            except ValueError:
                event = {"raw": body[:200].decode(errors="replace")}
            mark = "verified" if ok and secrets else ("REJECTED" if not ok else "unsigned")
            print(f"[inbox] {mark} {json.dumps(event, ensure_ascii=False)}", flush=True)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    print(f"webhook inbox listening on http://{host}:{port}/", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
