"""Saving answers under concurrency (issue 17), over a real server on SQLite and PostgreSQL:
autosaves racing each other and the part's own post, late and out-of-order autosaves, and the
submission taking exactly what was saved."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from page_support import answer, sql
from svc_support import app_client, live_server, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
PHQ9 = [f"item{i}" for i in range(1, 10)] + ["difficulty"]  # the demo battery's first part


def _view(html: str) -> int:
    match = re.search(r'name="view" value="(\d+)"', html)
    assert match, "the part page carries no view"
    return int(match.group(1))


def _saved(database_url: str) -> dict[str, Any]:
    """The saved answers of the test's one session."""
    rows = sql(database_url, "SELECT partial_answers FROM screening_sessions")
    assert len(rows) == 1
    value = rows[0][0]
    return json.loads(value) if isinstance(value, str) else dict(value)


def _responses(database_url: str) -> dict[str, dict[str, Any]]:
    rows = sql(database_url, "SELECT instrument_id, answers FROM responses")
    return {r[0]: (json.loads(r[1]) if isinstance(r[1], str) else dict(r[1])) for r in rows}


async def _race(base: str, cookies: httpx.Cookies, code: str, view: int, rounds: int) -> None:
    """Every round: one autosave per PHQ-9 item, all at once, with the part's Next post among
    them (it carries the same answers, later seq) — each on its own connection."""
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as http:
        for r in range(rounds):
            value = r % 2  # every PHQ-9 item has options 0 and 1
            seq0 = 1000 * (r + 1)
            posts = [
                http.post(
                    f"/s/{code}/q/1",
                    data={
                        f"item-{item}": str(value),
                        "nav": "stay",
                        "view": str(view),
                        "seq": str(seq0 + i),
                    },
                )
                for i, item in enumerate(PHQ9)
            ]
            full = {f"item-{item}": str(value) for item in PHQ9}
            posts.insert(
                len(posts) // 2,
                http.post(
                    f"/s/{code}/q/1",
                    data={**full, "nav": "next", "view": str(view), "seq": str(seq0 + 999)},
                ),
            )
            replies = await asyncio.gather(*posts)
            assert all(reply.status_code in (204, 303) for reply in replies), [
                (reply.status_code, reply.text[:200]) for reply in replies
            ]


def test_racing_autosaves_and_the_next_post_keep_every_answer(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with (
        live_server(create_app(settings, clock=ManualClock(T0))) as base,
        httpx.Client(base_url=base, timeout=30, follow_redirects=True) as http,
    ):
        http.get(f"/s/{code}")  # the access link: the session starts, the cookie is set
        page = http.get(f"/s/{code}/q/1")
        assert page.status_code == 200, page.text
        asyncio.run(_race(base, http.cookies, code, _view(page.text), rounds=4))
        saved = _saved(database_url)
        # The last round set every item to 1: no request's stale read wrote an older state back.
        assert saved["phq9"] == {item: 1 for item in PHQ9}


def test_a_late_autosave_never_replaces_a_newer_answer(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=30, follow_redirects=True
    ) as http:
        http.get(f"/s/{code}")
        answer(http, code, 1)
        answer(http, code, 2)
        page = http.get(f"/s/{code}/q/3")
        view = _view(page.text)
        # The student picks "yes" (seq 20) after "no" (seq 10); the "no" request arrives last.
        for value, seq in ((1, 20), (0, 10)):
            r = http.post(
                f"/s/{code}/q/3",
                data={"item-q5": str(value), "nav": "stay", "view": str(view), "seq": str(seq)},
            )
            assert r.status_code == 204
        # Next without JavaScript-set seq and q5 not in the form (a form that lost it):
        # an empty value never erases the answer.
        r = http.post(f"/s/{code}/q/3", data={"nav": "next", "view": str(view)})
        # q1–q4 are blank critical questions: the part is shown once more, gently (issue 11);
        # the answer given stays checked, and the second Next goes on.
        assert r.status_code == 200 and r.url.path.endswith("/q/3") and "ask=1" in str(r.url)
        assert 'name="item-q5" value="1" checked' in r.text
        r = http.post(
            f"/s/{code}/q/3", data={"nav": "next", "view": str(_view(r.text)), "asked": "1"}
        )
        assert r.status_code == 200 and r.url.path.endswith("/review")
        assert "已答 1 / 5 题" in r.text  # the review shows what will be submitted
        # The student goes back to part 3 (a later view) and changes q1; a stale autosave of
        # the first view lands afterwards and is kept out.
        back = http.get(f"/s/{code}/q/3")
        assert _view(back.text) > view
        assert 'name="item-q5" value="1" checked' in back.text
        http.post(
            f"/s/{code}/q/3",
            data={"item-q1": "1", "nav": "stay", "view": str(_view(back.text)), "seq": "1"},
        )
        http.post(
            f"/s/{code}/q/3",
            data={"item-q1": "0", "nav": "stay", "view": str(view), "seq": "99999"},
        )
        done = http.post(f"/s/{code}/submit")
        assert done.status_code == 200 and done.url.path.endswith("/thanks")
    stored = _responses(database_url)
    assert stored["asq"] == {"q1": 1, "q2": None, "q3": None, "q4": None, "q5": 1}
    assert stored["phq9"] == {item: 0 for item in PHQ9}


def test_the_review_points_out_a_part_with_no_answers(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=30, follow_redirects=True
    ) as http:
        http.get(f"/s/{code}")
        answer(http, code, 1)
        answer(http, code, 2, default=None)  # GAD-7 left blank
        review = answer(http, code, 3)
        assert review.url.path.endswith("/review")
        assert 'id="review-empty-2"' in review.text and "这一部分还没有作答任何题目" in review.text
        assert 'id="review-empty-1"' not in review.text
        assert 'id="review-empty-3"' not in review.text


def test_a_bad_stamp_is_a_clear_400_and_saves_nothing(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=30, follow_redirects=True
    ) as http:
        http.get(f"/s/{code}")
        r = http.post(
            f"/s/{code}/q/1", data={"item-item1": "2", "nav": "stay", "view": "x", "seq": "1"}
        )
        assert r.status_code == 400
        assert _saved(database_url) == {}


def test_the_api_save_takes_a_revision_and_the_submission_keeps_saved_answers(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=30) as http:
        start = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
        auth = {"Authorization": f"Bearer {start['session_token']}"}
        url = f"/api/v1/student/sessions/{start['session_id']}"
        assert start["answers_version"] == 0
        first = http.put(
            f"{url}/answers",
            headers=auth,
            json={"answers": {"asq": {"q5": 1}}, "revision": {"view": 0, "seq": 5}},
        )
        assert first.status_code == 200 and first.json()["answers_version"] == 1
        late = http.put(
            f"{url}/answers",
            headers=auth,
            json={"answers": {"asq": {"q5": 0}}, "revision": {"view": 0, "seq": 4}},
        )
        assert late.json()["answers"]["asq"]["q5"] == 1
        bad = http.put(
            f"{url}/answers",
            headers=auth,
            json={"answers": {"asq": {"q5": 0}}, "revision": {"view": -1, "seq": 4}},
        )
        assert bad.status_code == 400 and "view" in bad.text
        # The submission sends q5 as null: the saved "yes" is what is scored.
        body = {
            "answers": {
                "phq9": {item: 0 for item in PHQ9},
                "gad7": {f"item{i}": 0 for i in range(1, 8)},
                "asq": {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": None},
            }
        }
        sent = http.post(f"{url}/submission", headers={**auth, "Idempotency-Key": "k1"}, json=body)
        assert sent.status_code == 201, sent.text
    assert _responses(database_url)["asq"]["q5"] == 1
    tiers = sql(database_url, "SELECT tier FROM triage_results")
    assert [t[0] for t in tiers] == ["red"]


# PostgreSQL alone: SQLite's BEGIN IMMEDIATE takes the write lock at BEGIN, so the interleaving
# under test cannot occur there.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_save_locks_and_rereads_a_row_the_request_had_already_read(database_url: str) -> None:
    """The page handler reads the session before the service locks it. On PostgreSQL (READ
    COMMITTED) the lock must re-read the row, or the answers another request committed in
    between are written back over (the lost update of issue 17). SQLite's ``BEGIN IMMEDIATE``
    serializes the two transactions instead, so the interleaving cannot happen there."""
    from survey_service.db import ScreeningSession, create_engine, create_session_factory
    from survey_service.screening import service as screening
    from survey_service.services.runtime import load_runtime

    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    rt = load_runtime(settings)

    async def go() -> dict[str, Any]:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        try:
            async with factory() as db, db.begin():
                _, started = await screening.start_session(
                    db, rt, access_code=code, language="zh-CN", now=T0
                )
            sid, token = started.session_id, started.session_token
            async with factory() as slow, slow.begin():
                held = await slow.get(ScreeningSession, sid)  # the handler's early read, kept
                async with factory() as fast, fast.begin():
                    await screening.save_partial(
                        fast,
                        rt,
                        session_id=sid,
                        session_token=token,
                        answers={"asq": {"q5": 1}},
                        now=T0,
                    )
                state = await screening.save_partial(
                    slow,
                    rt,
                    session_id=sid,
                    session_token=token,
                    answers={"asq": {"q1": 0}},
                    now=T0,
                )
            assert held is not None and held.answers_version == state.version
            return dict(state.answers["asq"])
        finally:
            await engine.dispose()

    assert run(go()) == {"q5": 1, "q1": 0}
