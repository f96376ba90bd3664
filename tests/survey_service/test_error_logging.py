"""Failed requests leave one log line each (issue 19's logging, started here): an expected
client error at INFO without a traceback and without what the client sent; a server fault at
ERROR with its traceback. A bad login verifies its password off the event loop."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from svc_support import app_client, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.screening import service as screening

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
CANARY = "CANARY-7Q2X9"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """What the service logs about failed requests (the app's logging set-up replaces the root
    handlers, so pytest's caplog would see nothing: the handler sits on the logger itself)."""
    logger = logging.getLogger("runxin.http")
    handler = _Capture()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_client_error_is_one_info_line_without_traceback_or_input(
    database_url: str, logged: list[logging.LogRecord]
) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        r = http.post("/api/v1/student/sessions", json={"access_code": CANARY})
        assert r.status_code == 404
        page = http.get(f"/s/{CANARY}")
        assert page.status_code == 404
    assert [(r.levelno, r.exc_info) for r in logged] == [(logging.INFO, None)] * 2
    text = "\n".join(r.getMessage() for r in logged)
    assert "404 unknown_access_code" in text and "/s/{code}" in text
    assert all("[request " in r.getMessage() for r in logged)
    assert CANARY not in text


def test_a_server_fault_is_an_error_with_its_traceback(
    database_url: str, logged: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(screening, "start_session", broken)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        r = http.post(
            "/api/v1/student/sessions",
            json={"access_code": code},
            headers={"X-Request-Id": "proxy-42"},
        )
        assert r.status_code == 500 and r.json()["type"] == "urn:runxin:problem:internal"
        # The request id (the proxy's, kept) is in the reply and in the one log line.
        assert r.headers["x-request-id"] == "proxy-42" and "proxy-42" in r.json()["detail"]
        fresh = http.post(
            "/api/v1/student/sessions",
            json={"access_code": code},
            headers={"X-Request-Id": "bad id;<x>"},
        )
        rid = fresh.headers["x-request-id"]
        assert len(rid) == 32 and rid.isalnum(), "an unsafe id is replaced by a fresh one"
    assert [r.levelno for r in logged] == [logging.ERROR] * 2
    assert logged[0].exc_info is not None and logged[0].exc_info[0] is RuntimeError
    assert "[request proxy-42]" in logged[0].getMessage()
    assert f"[request {rid}]" in logged[1].getMessage()


def test_replies_are_not_cached_unless_the_handler_says_so(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        token = http.post(
            "/api/v1/auth/login", json={"username": "counsellor1", "password": "pw-test-123"}
        ).json()["access_token"]
        cases = http.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert cases.status_code == 200 and cases.headers["cache-control"] == "no-store"
        bad = http.post("/api/v1/student/sessions", json={"access_code": CANARY})
        assert bad.headers["cache-control"] == "no-store"
        script = http.get("/static/autosave.js")
        assert script.headers["cache-control"].startswith("public")
