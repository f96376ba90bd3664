"""Nothing sensitive reaches a log (issue 19): canary values — a student's name, a note about
what a student said, an access code, a staff password, bearer tokens — are planted, the main
flows are driven (student session with the canary code, a bad code, staff sign-in good and bad
over the API and the page, case reads, a record with a canary summary), and every log record of
every logger is searched for them.

Every record is captured where it is handled (``logging.Logger.handle``), whatever handlers
litestar's logging set-up installs and whether the logger propagates; the root logger is set
to DEBUG for the run, so a logger that inherits its level logs everything. Loggers whose level
is set explicitly keep it (SQLAlchemy's own WARN default: statement echo is an operator's
choice, off by default). Client-side loggers (httpx, httpcore: the test's HTTP client, which
logs the URLs it requests) are not the service's and are left out.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from page_support import hidden, sql
from svc_support import app_client, battery_answers, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.security import hash_password

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
NAME = "CANARYNAME"
NOTE = "CANARYNOTE said she wants to disappear"
PASSWORD = "CANARYPASS-0ok9ij8uh"
WRONG_PASSWORD = "CANARYWRONG-7yg6tf"
UNKNOWN_USER = "CANARYUSER"
BAD_CODE = "CANARYCODE9"
BAD_TOKEN = "CANARYTOKEN-zz"
CLIENT_SIDE = ("httpx", "httpcore")


@contextmanager
def all_records() -> Iterator[list[logging.LogRecord]]:
    """Every record any logger handles meanwhile (but the client side's), root at DEBUG."""
    seen: list[logging.LogRecord] = []
    handle = logging.Logger.handle

    def capture(self: logging.Logger, record: logging.LogRecord) -> None:
        if not record.name.startswith(CLIENT_SIDE):
            seen.append(record)
        handle(self, record)

    root = logging.getLogger()
    level = root.level
    logging.Logger.handle = capture  # type: ignore[method-assign]
    root.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logging.Logger.handle = handle  # type: ignore[method-assign]
        root.setLevel(level)


def _text(record: logging.LogRecord) -> str:
    parts = [record.name, record.getMessage(), repr(record.args)]
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_canary_reaches_any_log(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    sql(database_url, "UPDATE students SET name = :n", n=NAME)
    sql(
        database_url,
        "UPDATE staff_users SET password_hash = :h WHERE username = 'counsellor1'",
        h=hash_password(PASSWORD),
    )
    canaries = [NAME, "CANARYNOTE", PASSWORD, WRONG_PASSWORD, UNKNOWN_USER, BAD_CODE, BAD_TOKEN]
    canaries += [code, code.replace("-", "")]
    # The app's logging set-up runs as it starts (root at INFO): capture from then on.
    with app_client(create_app(settings, clock=ManualClock(T0))) as http, all_records() as records:
        # A student: the access link, a session with the code, answers, a submission.
        assert http.get(f"/s/{code}").status_code in {200, 303}
        started = http.post("/api/v1/student/sessions", json={"access_code": code})
        assert started.status_code in {200, 201}, started.text  # resumed after the page
        session = started.json()
        canaries.append(session["session_token"])
        r = http.post(
            f"/api/v1/student/sessions/{session['session_id']}/submission",
            headers={
                "Authorization": f"Bearer {session['session_token']}",
                "Idempotency-Key": "k1",
            },
            json={"answers": battery_answers(gad7=2)},  # GAD-7 14: a case opens
        )
        assert r.status_code == 201, r.text
        # A bad code, over the API and the page.
        assert (
            http.post("/api/v1/student/sessions", json={"access_code": BAD_CODE}).status_code == 404
        )
        assert http.get(f"/s/{BAD_CODE}").status_code == 404
        # Staff sign-in: wrong password, unknown user, then the right one (API and page).
        for username, password in ((("counsellor1", WRONG_PASSWORD)), (UNKNOWN_USER, PASSWORD)):
            bad = http.post("/api/v1/auth/login", json={"username": username, "password": password})
            assert bad.status_code == 401
        form = http.get("/staff/login")
        page = http.post(
            "/staff/login",
            data={
                "_csrf": hidden(form.text, "_csrf"),
                "username": "counsellor1",
                "password": WRONG_PASSWORD,
            },
        )
        assert page.status_code == 401
        form = http.get("/staff/login")
        page = http.post(
            "/staff/login",
            data={
                "_csrf": hidden(form.text, "_csrf"),
                "username": "counsellor1",
                "password": PASSWORD,
            },
        )
        assert page.status_code == 303
        login = http.post(
            "/api/v1/auth/login", json={"username": "counsellor1", "password": PASSWORD}
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        canaries.append(token)
        auth = {"Authorization": f"Bearer {token}"}
        # Case reads and a record with a canary summary.
        cases = http.get("/api/v1/cases", headers=auth)
        assert cases.status_code == 200, cases.text
        case_id = cases.json()["items"][0]["case_id"]
        assert http.get(f"/api/v1/cases/{case_id}", headers=auth).status_code == 200
        record = http.post(
            f"/api/v1/cases/{case_id}/records", headers=auth, json={"kind": "talk", "summary": NOTE}
        )
        assert record.status_code in {200, 201}, record.text
        assert (
            http.get("/api/v1/cases", headers={"Authorization": f"Bearer {BAD_TOKEN}"}).status_code
            == 401
        )
        assert http.get("/staff/").headers["location"] == "/staff/queue"  # the cookie session
    text = [_text(r) for r in records]
    assert any("invalid_credentials" in t for t in text)  # the capture works
    assert any("unknown_access_code" in t for t in text)
    leaks = [(c, t) for c in canaries for t in text if c in t]
    assert leaks == []
