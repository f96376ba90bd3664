"""Student API over real HTTP: idempotent submission, clear errors, nothing half-written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from svc_support import app_client, count_rows, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
TABLES = ("responses", "scores", "triage_results", "cases", "outbox", "idempotency_records")


def _answers(**override: dict[str, int | None]) -> dict[str, dict[str, int | None]]:
    phq: dict[str, int | None] = {f"item{i}": 0 for i in range(1, 10)}
    phq.update(difficulty=0)
    base: dict[str, dict[str, int | None]] = {
        "phq9": phq,
        "gad7": {f"item{i}": 0 for i in range(1, 8)},
        "asq": {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": None},
    }
    for key, value in override.items():
        base[key.replace("_", "-")] = {**base[key.replace("_", "-")], **value}
    return base


class Env:
    def __init__(
        self, http: httpx.Client, codes: list[str], database_url: str, clock: ManualClock
    ) -> None:
        self.http = http
        self.codes = codes
        self.database_url = database_url
        self.clock = clock

    def start(self, code: str | None = None, language: str = "zh-CN") -> dict:  # type: ignore[type-arg]
        r = self.http.post(
            "/api/v1/student/sessions",
            json={"access_code": code or self.codes[0], "language": language},
        )
        assert r.status_code in (200, 201), r.text
        return r.json()  # type: ignore[no-any-return]

    def submit(
        self,
        session: dict,
        body: object,
        key: str | None = "key-1",  # type: ignore[type-arg]
        token: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or session['session_token']}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.http.post(
            f"/api/v1/student/sessions/{session['session_id']}/submission",
            headers=headers,
            json=body,
        )

    def counts(self) -> dict[str, int]:
        return run(count_rows(self.database_url, *TABLES))


@contextmanager
def _env(database_url: str, students: int = 6) -> Iterator[Env]:
    settings = make_settings(database_url, max_body_bytes=64 * 1024)
    seeded = seed(settings, now=T0, students=students)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=10) as http:
        yield Env(http, seeded.access_codes, database_url, clock)


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    with _env(database_url) as e:
        yield e


def _problem(r: httpx.Response, status: int) -> dict:  # type: ignore[type-arg]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["detail"]
    return body  # type: ignore[no-any-return]


def test_battery_has_items_options_and_language_status(env: Env) -> None:
    s = env.start(language="zh-CN")
    gad = next(b for b in s["battery"] if b["instrument_id"] == "gad7")
    assert gad["language"] == "zh-CN" and gad["language_status"] == "validated"
    first = gad["items"][0]
    assert first["item_id"] == "item1" and first["text"] == "感觉紧张，焦虑或急切"
    assert [o["value"] for o in first["options"]] == [0, 1, 2, 3]
    assert first["options"][0]["text"] == "完全不会"
    asq = next(b for b in s["battery"] if b["instrument_id"] == "asq")
    # No published Simplified Chinese ASQ exists: shown in English, and the student is told.
    assert asq["language"] == "en" and asq["language_notice"]["zh-CN"]
    assert any(c["contact"] == "12356" for c in s["help_contacts"])
    en = env.start(language="en")
    assert en["resumed"] is True
    assert (
        next(b for b in en["battery"] if b["instrument_id"] == "gad7")["items"][0]["text"]
        == "Feeling nervous, anxious, or on edge"
    )


def test_same_key_replays_and_new_key_conflicts(env: Env) -> None:
    s = env.start()
    first = env.submit(s, {"answers": _answers()}, key="abc")
    assert first.status_code == 201
    before = env.counts()
    again = env.submit(s, {"answers": _answers()}, key="abc")
    assert again.status_code == 201 and again.json() == first.json()
    assert env.counts() == before
    other = env.submit(s, {"answers": _answers()}, key="another")
    assert _problem(other, 409)["type"].endswith("already_submitted")
    changed = env.submit(s, {"answers": _answers(gad7={"item1": 3})}, key="abc")
    _problem(changed, 422)
    assert env.counts() == before


def test_used_and_unknown_codes(env: Env) -> None:
    s = env.start()
    assert env.submit(s, {"answers": _answers()}).status_code == 201
    used = env.http.post("/api/v1/student/sessions", json={"access_code": env.codes[0]})
    body = _problem(used, 409)
    assert body["message"]["zh-CN"] and "already been used" in body["detail"]
    _problem(env.http.post("/api/v1/student/sessions", json={"access_code": "ZZZZZ-ZZZZZ"}), 404)


def test_expired_code_is_gone(env: Env) -> None:
    env.clock.set(T0 + timedelta(days=31))
    _problem(env.http.post("/api/v1/student/sessions", json={"access_code": env.codes[1]}), 410)


BAD_BODIES: list[tuple[object, int, str]] = [
    ({"answers": {**_answers(), "nope": {"q1": 1}}}, 422, "nope"),
    ({"answers": {k: v for k, v in _answers().items() if k != "asq"}}, 422, "asq"),
    ({"answers": _answers(gad7={"item9": 1})}, 422, "item9"),
    ({"answers": _answers(phq9={"item3": 4})}, 422, "item3"),
    ({"answers": _answers(phq9={"item3": -1})}, 422, "item3"),
    ({"answers": _answers(gad7={"item2": 1.5})}, 422, "item2"),
    ({"answers": _answers(gad7={"item2": "2"})}, 422, "item2"),
    ({"answers": _answers(gad7={"item2": True})}, 422, "item2"),
    ({"answers": {**_answers(), "asq": [0, 0, 0, 0, 0]}}, 400, "answers"),
    ({"answers": _answers(), "extra": 1}, 400, "extra"),
    ({}, 400, "answers"),
]


def test_bad_answers_are_refused_and_nothing_is_written(database_url: str) -> None:
    # One app and database for all the bodies (each on its own student's session): the
    # refusals are independent, and a fresh database apiece only repeated the setup.
    with _env(database_url, students=len(BAD_BODIES)) as env:
        for code, (body, status, needle) in zip(env.codes, BAD_BODIES, strict=True):
            s = env.start(code)
            before = env.counts()
            r = env.submit(s, body)
            assert needle in _problem(r, status)["detail"], (needle, r.text)
            assert env.counts() == before, needle
            # The session is still open: a good submission afterwards is accepted.
            good = env.submit(s, {"answers": _answers()}, key="good")
            assert good.status_code == 201, (needle, good.text)


def test_malformed_json_missing_headers_and_bad_token(env: Env) -> None:
    s = env.start()
    url = f"/api/v1/student/sessions/{s['session_id']}/submission"
    auth = {"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "x"}
    _problem(
        env.http.post(
            url, headers={**auth, "Content-Type": "application/json"}, content=b'{"answers": {'
        ),
        400,
    )
    _problem(env.submit(s, {"answers": _answers()}, key=None), 400)
    _problem(env.submit(s, {"answers": _answers()}, token="not-the-token"), 401)
    fake = {**s, "session_id": str(uuid.uuid4())}
    _problem(env.submit(fake, {"answers": _answers()}), 401)
    assert env.counts()["responses"] == 0


def test_oversized_body_is_413(env: Env) -> None:
    s = env.start()
    huge = {"answers": _answers(), "padding": "x" * 100_000}
    r = env.submit(s, huge)
    assert r.status_code == 413
    assert env.counts()["responses"] == 0


def test_failure_mid_submission_rolls_everything_back(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = env.start()
    import triage

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure after responses and scores were added")

    monkeypatch.setattr(triage, "evaluate", boom)
    r = env.submit(s, {"answers": _answers(asq={"q1": 1, "q5": 0})})
    assert r.status_code == 500
    assert "injected" not in r.text
    assert env.counts() == dict.fromkeys(TABLES, 0)
    monkeypatch.undo()
    assert env.submit(s, {"answers": _answers(asq={"q1": 1, "q5": 0})}).status_code == 201
    counts = env.counts()
    assert counts["responses"] == 3 and counts["cases"] == 1 and counts["outbox"] == 1


def test_openapi_lists_the_api(env: Env) -> None:
    spec = env.http.get("/schema/openapi.json").json()
    for path in (
        "/api/v1/student/sessions",
        "/api/v1/student/sessions/{session_id}/submission",
        "/api/v1/auth/login",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}/acknowledge",
    ):
        assert path in spec["paths"], path


def test_item9_with_low_total_opens_a_case(env: Env) -> None:
    s = env.start()
    assert env.submit(s, {"answers": _answers(phq9={"item9": 1})}).status_code == 201
    counts = env.counts()
    assert counts["cases"] == 1  # PHQ item 9 ≥ 1 opens a case whatever the total
