"""The service's log (issue 14): one JSON object a line, request ids, nothing sensitive.

A real ``runxin serve`` process on a seeded database; canary values go through the whole flow
— a student's name, the access code, the session and staff tokens, a wrong password, a care
record's free text, a free-text key in a refused body — then every line the process wrote is
parsed and scanned.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from page_support import sql
from process_support import free_port, runxin_processes, start_runxin, wait_healthy
from svc_support import WebhookReceiver, battery_answers, make_settings, seed

from survey_service.log_format import FIELDS, JsonFormatter, formatter_config
from survey_service.settings import Settings, SettingsError

NAME = "CANARYNAME王小明"
PASSWORD = "CANARY-PASSWORD-9q"
NOTE = "CANARY-NOTE said she wants to disappear"
FREE_KEY = "CANARY-FREE-TEXT"
RED: dict[str, int | None] = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("runxin.http", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.__dict__.update(extra)
    return record


def test_a_line_is_one_json_object_with_only_the_known_fields() -> None:
    line = JsonFormatter().format(
        _record(request_id="r1", status=404, answers={"q9": 3}, note="free text")
    )
    parsed = json.loads(line)
    assert parsed["message"] == "GET /x" and parsed["level"] == "INFO"
    assert parsed["logger"] == "runxin.http" and parsed["time"].endswith("Z")
    assert parsed["request_id"] == "r1" and parsed["status"] == 404
    # An attribute a library attached to the record is not copied into the line.
    assert "answers" not in parsed and "note" not in parsed and "free text" not in line
    assert set(parsed) <= {"time", "level", "logger", "message", "exception", *FIELDS}
    assert "\n" not in line


def test_a_traceback_stays_inside_the_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record()
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line and "RuntimeError: boom" in json.loads(line)["exception"]


def test_the_format_setting_is_checked() -> None:
    assert Settings.from_env({}).log_format == "json"
    assert Settings.from_env({"RUNXIN_LOG_FORMAT": "text"}).log_format == "text"
    with pytest.raises(SettingsError, match="RUNXIN_LOG_FORMAT must be one of json, text"):
        Settings.from_env({"RUNXIN_LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="log format"):
        formatter_config("yaml")


def test_every_line_of_a_serving_process_is_json_with_ids_and_no_canary(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'runxin.db'}"
    from survey_service.db import upgrade

    upgrade(database_url)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # the campaign is open
    with WebhookReceiver() as rx:
        demo = seed(make_settings(database_url), now=now, students=2, webhook_url=rx.url)
        code = demo.access_codes[0]
        sql(database_url, "UPDATE students SET name = :name", name=NAME)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with runxin_processes(
            [start_runxin("serve", ["serve", "--port", str(port)], database_url, tmp_path)]
        ) as (server,):
            wait_healthy(base, server)
            with httpx.Client(base_url=base, timeout=15) as http:
                session = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
                token = session["session_token"]
                submit = f"/api/v1/student/sessions/{session['session_id']}/submission"
                auth = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}
                refused = http.post(
                    submit, headers=auth, json={"answers": battery_answers(RED), FREE_KEY: 1}
                )
                assert refused.status_code == 400, refused.text
                wrong = http.post(
                    submit,
                    headers={**auth, "Authorization": "Bearer CANARY-TOKEN-x"},
                    json={"answers": battery_answers(RED)},
                )
                assert wrong.status_code == 401
                done = http.post(submit, headers=auth, json={"answers": battery_answers(RED)})
                assert done.status_code == 201, done.text
                assert http.get(f"/s/{code}").status_code in (200, 303, 409, 410)
                bad_login = http.post(
                    "/api/v1/auth/login", json={"username": "counsellor1", "password": PASSWORD}
                )
                assert bad_login.status_code == 401
                login = http.post(
                    "/api/v1/auth/login",
                    json={"username": "counsellor1", "password": "pw-test-123"},
                )
                staff = login.json()["access_token"]
                bearer = {"Authorization": f"Bearer {staff}"}
                (case,) = http.get("/api/v1/cases", headers=bearer).json()["items"]
                record = http.post(
                    f"/api/v1/cases/{case['case_id']}/records",
                    headers=bearer,
                    json={"kind": "talk", "summary": NOTE},
                )
                assert record.status_code == 201, record.text
                file = http.get(
                    f"/api/v1/students/{case['student']['student_id']}/file", headers=bearer
                )
                assert file.status_code == 200 and NAME in file.text  # the data is there
                rids = [
                    r.headers["x-request-id"]
                    for r in (refused, wrong, done, bad_login, login, record, file)
                ]
        log = server.log.read_text(encoding="utf-8")

    lines = [line for line in log.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line[:200]}")
    assert all({"time", "level", "logger", "message"} <= set(p) for p in parsed)
    access = [p for p in parsed if p["logger"] == "runxin.access"]
    assert {rid for rid in rids} <= {p["request_id"] for p in access}
    # Paths are the routes' templates: no case, student or session id in them.
    ids = (case["case_id"], case["student"]["student_id"], session["session_id"])
    assert not [p["path"] for p in access if any(i in p["path"] for i in ids)]
    assert "/api/v1/cases/{case_id}/records" in {p["path"] for p in access}
    refusal = next(p for p in parsed if p["logger"] == "runxin.http" and p.get("status") == 400)
    assert refusal["request_id"] == refused.headers["x-request-id"] and refusal["code"]
    for canary in (NAME, "王小明", code, token, staff, PASSWORD, NOTE, FREE_KEY, "CANARY"):
        assert canary not in log, f"{canary!r} reached the log"
