"""Issue 11, clinical safety: no suicide-risk answer is ever missed.

Real parts only: a live HTTP server on a manual clock, the sweeper and dispatcher passes the
worker runs, a real webhook receiver, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
from page_support import answer, hidden, item_names, no_scores, sql, uid
from svc_support import WebhookReceiver, app_client, make_settings, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import create_engine, create_session_factory
from survey_service.screening.saved_triage import SAVED_REASON_ID, SAVED_TRIAGE_AFTER
from survey_service.services.runtime import load_runtime
from survey_service.settings import Settings
from survey_service.workers import Dispatcher, SweepStats, sweep

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai, in the demo autumn term
GENTLE_ZH = "这道题对我们很重要"


async def _worker_pass(settings: Settings, now: datetime) -> SweepStats:
    """One pass of ``runxin worker``: the sweeper (with the runtime), then the dispatcher."""
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        stats = await sweep(sessions, settings, now=now, runtime=load_runtime(settings))
        async with httpx.AsyncClient() as client:
            await Dispatcher(sessions, client, settings).run_once(now)
        return stats
    finally:
        await engine.dispose()


def _login(http: httpx.Client, user: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _opened(rx: WebhookReceiver) -> list[dict[str, object]]:
    return [d.json for d in rx.deliveries if d.json["event"] == "case.opened"]


def test_abandoned_critical_answer_opens_one_case_and_the_submission_joins_it(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seeded = seed(settings, now=T0, webhook_url=rx.url)
        code = seeded.access_codes[0]
        clock = ManualClock(T0)
        with app_client(
            create_app(settings, clock=clock), timeout=15, follow_redirects=True
        ) as http:
            assert http.get(f"/s/{code}").status_code == 200
            # Item 9 ("better off dead or hurting yourself") answered above zero, then
            # "save and continue later": the student never comes back in the window below.
            left = answer(http, code, 1, {"item9": 2}, nav="exit")
            assert left.url.path == f"/s/{code}/saved"

            # 29 minutes idle: not yet.
            clock.advance(SAVED_TRIAGE_AFTER - timedelta(minutes=1))
            early = run(_worker_pass(settings, clock.now()))
            assert early.saved_checked == 0 and early.saved_triaged == 0
            assert sql(database_url, "SELECT COUNT(*) FROM cases") == [(0,)]
            assert _opened(rx) == []

            # 30 minutes idle: triaged on the saved answers; one case, one notification.
            clock.advance(timedelta(minutes=1))
            swept = run(_worker_pass(settings, clock.now()))
            assert swept.saved_checked == 1 and swept.saved_triaged == 1
            cases = sql(database_url, "SELECT id, tier, pathway, status FROM cases")
            assert len(cases) == 1
            case_id, tier, pathway, status = cases[0]
            assert (tier, pathway, status) == ("orange", "suicide", "open")
            opened = _opened(rx)
            assert len(opened) == 1
            assert opened[0]["case_id"] == uid(case_id) and opened[0]["tier"] == "orange"
            # Nothing sensitive travels: no answers, no item, no reason text.
            body = json.dumps(opened[0], ensure_ascii=False)
            assert "item9" not in body and "未提交" not in body

            records = sql(database_url, "SELECT source, session_id, reasons FROM triage_results")
            assert len(records) == 1
            source, session_id, reasons = records[0]
            assert source == "saved_answers" and session_id is None
            reasons = json.loads(reasons) if isinstance(reasons, str) else reasons
            saved_reason = [r for r in reasons if r["rule_id"] == SAVED_REASON_ID]
            assert len(saved_reason) == 1
            assert "来自已保存但未提交的作答" in saved_reason[0]["text"]["zh-CN"]
            assert "saved but not submitted" in saved_reason[0]["text"]["en"]
            assert any(r["rule_id"] != SAVED_REASON_ID for r in reasons)  # the item-9 rule

            # The counsellor sees the case with the reason (the same path as a submission).
            auth = _login(http, "counsellor1")
            listed = http.get("/api/v1/cases", headers=auth).json()["items"]
            assert [c["case_id"] for c in listed] == [uid(case_id)]
            assert SAVED_REASON_ID in [r["rule_id"] for r in listed[0]["reasons"]]

            # A second pass (and a third, later) adds nothing.
            for later in (timedelta(minutes=1), timedelta(hours=3)):
                clock.advance(later)
                again = run(_worker_pass(settings, clock.now()))
                assert again.saved_checked == 0 and again.saved_triaged == 0
            assert len(_opened(rx)) == 1
            assert sql(database_url, "SELECT COUNT(*) FROM triage_results") == [(1,)]

            # The student comes back and submits: the submission joins the same case.
            for n in (1, 2, 3):
                answer(http, code, n)  # keeps the saved answers, fills the rest with 0
            thanks = http.post(f"/s/{code}/submit")
            assert thanks.status_code == 200 and thanks.url.path == f"/s/{code}/thanks"
            # Orange suicide pathway: help contacts first and prominent, no score, no red text.
            assert 'id="support"' in thanks.text
            support = thanks.text[thanks.text.index('id="support"') :]
            assert "12356" in support and "12355" in support and "心理辅导室" in support
            assert "现在请找" not in thanks.text
            assert no_scores(thanks.text) == []
            run(_worker_pass(settings, clock.now()))

    assert sql(database_url, "SELECT id FROM cases") == [(case_id,)]
    assert len(_opened(rx)) == 1
    assert sorted(r[0] for r in sql(database_url, "SELECT source FROM triage_results")) == [
        "saved_answers",
        "screening",
    ]
    kinds = [r[0] for r in sql(database_url, "SELECT kind FROM case_events ORDER BY at")]
    # Unacknowledged for hours, the case climbed its ladder meanwhile (the usual deadlines).
    assert [k for k in kinds if k != "escalated"] == ["opened", "rescreened"]
    assert "escalated" in kinds


def test_idle_sessions_without_critical_answers_are_not_triaged(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=15) as http:
        saves = [
            # Everything 0 on the first part.
            lambda phq: {phq: {f"item{i}": 0 for i in range(1, 10)}},
            # ASQ q1 "no" and nothing more: not reaching q2-q4 is not a refusal here.
            lambda phq: {"asq": {"q1": 0}},
            # A questionnaire started and left with items skipped (null), no answer given.
            lambda phq: {phq: {"item9": None, "item1": None}},
        ]
        for index, make in enumerate(saves):
            s = http.post(
                "/api/v1/student/sessions", json={"access_code": seeded.access_codes[index]}
            ).json()
            phq = s["battery"][0]["instrument_id"]
            r = http.put(
                f"/api/v1/student/sessions/{s['session_id']}/answers",
                headers={"Authorization": f"Bearer {s['session_token']}"},
                json={"answers": make(phq)},
            )
            assert r.status_code == 200, r.text
        clock.advance(SAVED_TRIAGE_AFTER + timedelta(minutes=5))
        stats = run(_worker_pass(settings, clock.now()))
    assert stats.saved_checked == 3 and stats.saved_triaged == 0
    assert sql(database_url, "SELECT COUNT(*) FROM cases") == [(0,)]
    assert sql(database_url, "SELECT COUNT(*) FROM triage_results") == [(0,)]
    # Looked at once per saved state: the next pass does not score them again.
    assert run(_worker_pass(settings, clock.now() + timedelta(minutes=1))).saved_checked == 0


def test_a_later_acute_save_is_triaged_again_and_raises_the_case(database_url: str) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=15) as http:
        s = http.post(
            "/api/v1/student/sessions", json={"access_code": seeded.access_codes[0]}
        ).json()
        url = f"/api/v1/student/sessions/{s['session_id']}/answers"
        auth = {"Authorization": f"Bearer {s['session_token']}"}
        http.put(url, headers=auth, json={"answers": {"asq": {"q1": 1}}})
        clock.advance(SAVED_TRIAGE_AFTER)
        assert run(_worker_pass(settings, clock.now())).saved_triaged == 1
        assert sql(database_url, "SELECT tier, pathway FROM cases") == [("orange", "suicide")]
        # Back an hour later on another device: "yes" to "right now?" (q5), then gone again.
        clock.advance(timedelta(hours=1))
        again = http.post(
            "/api/v1/student/sessions", json={"access_code": seeded.access_codes[0]}
        ).json()
        http.put(
            url,
            headers={"Authorization": f"Bearer {again['session_token']}"},
            json={"answers": {"asq": {"q5": 1}}},
        )
        clock.advance(timedelta(minutes=10))
        assert run(_worker_pass(settings, clock.now())).saved_triaged == 0  # not idle yet
        clock.advance(SAVED_TRIAGE_AFTER)
        assert run(_worker_pass(settings, clock.now())).saved_triaged == 1
    assert sql(database_url, "SELECT tier, pathway FROM cases") == [("red", "crisis")]
    kinds = [r[0] for r in sql(database_url, "SELECT kind FROM case_events ORDER BY at")]
    triaged = {"opened", "tier_raised", "pathway_raised", "rescreened"}
    assert [k for k in kinds if k in triaged] == ["opened", "tier_raised"]


def test_a_self_harm_observation_opens_an_orange_suicide_case(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    (first, second) = [
        uid(r[0])
        for r in sql(
            database_url,
            "SELECT s.id FROM students s JOIN staff_users u ON u.school_id = s.school_id "
            "WHERE u.username = 'counsellor1' ORDER BY s.id LIMIT 2",
        )
    ]
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=15) as http:
        auth = _login(http, "counsellor1")

        def observe(student: str, kind: str, severity: str) -> dict[str, str]:
            r = http.post(
                "/api/v1/observations",
                headers=auth,
                json={"student_id": student, "kind": kind, "severity": severity},
            )
            assert r.status_code == 201, r.text
            out: dict[str, str] = r.json()
            return out

        # "Signs of self-harm", marked only a concern: still orange on the suicide pathway.
        out = observe(first, "self_harm_signs", "concern")
        assert out["tier"] == "orange"
        detail = http.get(f"/api/v1/cases/{out['case_id']}", headers=auth).json()
        assert (detail["case"]["tier"], detail["case"]["pathway"]) == ("orange", "suicide")
        assert "observation_self_harm" in [r["rule_id"] for r in detail["case"]["reasons"]]
        # The teacher's own choice is kept on the record.
        assert sql(database_url, "SELECT severity FROM observations") == [("concern",)]

        # An open orange case on another pathway moves to the suicide pathway.
        withdrawn = observe(second, "withdrawal", "serious")
        assert sql(
            database_url, "SELECT pathway FROM cases WHERE id = :id", id=UUID(withdrawn["case_id"])
        ) == [("severity",)]
        talk = observe(second, "talk_of_death", "serious")
        assert talk["case_id"] == withdrawn["case_id"]
        detail = http.get(f"/api/v1/cases/{talk['case_id']}", headers=auth).json()
        assert (detail["case"]["tier"], detail["case"]["pathway"]) == ("orange", "suicide")
        assert [e["kind"] for e in detail["events"]] == ["opened", "pathway_raised"]

        # Imminent danger stays red crisis.
        red = observe(first, "talk_of_death", "imminent_danger")
        assert red["tier"] == "red"


def _part_form(html: str, values: dict[str, str]) -> dict[str, str]:
    """What a browser without JavaScript posts: the hidden fields and the chosen radios."""
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    form.update(re.findall(r'name="(item-[^"]+)" value="(\d+)" checked', html))
    form.update(values)
    form["nav"] = "next"
    return form


def test_a_blank_critical_question_is_asked_about_once(database_url: str) -> None:
    settings = make_settings(database_url)
    code = seed(settings, now=T0).access_codes[0]
    with app_client(
        create_app(settings, clock=ManualClock(T0)), timeout=15, follow_redirects=True
    ) as http:
        http.get(f"/s/{code}")
        page = http.get(f"/s/{code}/q/1")
        assert GENTLE_ZH not in page.text and 'name="asked"' not in page.text
        given = {n: "0" for n in item_names(page.text) if n != "item-item9"}
        asked = http.post(f"/s/{code}/q/1", data=_part_form(page.text, given))
        # The same part again, once, with the gentle note at item 9 and the answers kept.
        assert asked.url.path == f"/s/{code}/q/1"
        assert asked.text.count(GENTLE_ZH) == 1
        assert 'aria-describedby="ask-item9"' in asked.text
        assert hidden(asked.text, "asked") == "1"
        assert 'name="item-item1" value="0" checked' in asked.text
        assert no_scores(asked.text) == []
        # The second Next goes through, the blank saved as skipped on purpose.
        on = http.post(f"/s/{code}/q/1", data=_part_form(asked.text, given))
        assert on.url.path == f"/s/{code}/q/2"
        # Coming back and pressing Next again: not asked a second time.
        back = http.get(f"/s/{code}/q/1")
        assert http.post(f"/s/{code}/q/1", data=_part_form(back.text, {})).url.path == (
            f"/s/{code}/q/2"
        )
        # A part without critical questions is never held back.
        gad = http.get(f"/s/{code}/q/2")
        assert http.post(f"/s/{code}/q/2", data=_part_form(gad.text, {})).url.path == (
            f"/s/{code}/q/3"
        )
        # ASQ: every question is critical (q1-q5); the note is in the page's language.
        asq = http.get(f"/s/{code}/q/3")
        form = _part_form(asq.text, {"item-q1": "0", "item-q2": "0", "item-q3": "0"})
        ask = http.post(f"/s/{code}/q/3", data=form)
        assert ask.url.path == f"/s/{code}/q/3"
        assert ask.text.count(GENTLE_ZH) == 2
        assert 'id="ask-q4"' in ask.text and 'id="ask-q5"' in ask.text
        done = http.post(f"/s/{code}/q/3", data=_part_form(ask.text, {}))
        assert done.url.path == f"/s/{code}/review"
