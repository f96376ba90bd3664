"""Issue 19, retention: after the retention periods a deletion run leaves the canaries nowhere.

Canary strings are planted everywhere a child's data lives — name, guardian, consent, the
client's submission key, a care record, an observation note, the closing reason, a delivered
webhook's payload (the student's pseudonymous reference), its delivery error, an inbox item,
an operator alert — then time moves past every period, ``runxin retention run`` runs, and every
column of every table (from the metadata) is scanned on SQLite and PostgreSQL. What must stay
stays: row counts, the open case of a child at risk with its file, the audit log.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from page_support import sql, uid
from sqlalchemy import select
from svc_support import app_client, battery_answers, make_settings, run, seed

from survey_service import cli
from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import (
    Base,
    DeliveryAttempt,
    InboxItem,
    OperatorAlert,
    OutboxMessage,
    create_engine,
    create_session_factory,
)
from survey_service.services import retention
from survey_service.services.retention_rules import (
    RetentionPolicy,
    expired,
    identity_expired,
    screening_expired,
)
from survey_service.settings import Settings, SettingsError
from survey_service.workers import sweep

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai, in the demo autumn term
LATER = T0 + timedelta(days=6 * 365)  # past every default period (the longest: 5 years)
CRITICAL = {"q1": 1, "q2": 0, "q3": 0, "q4": 0}
CANARY = {
    "name": "CANARY-NAME-7f3a",
    "guardian": "CANARY-GUARDIAN-8b1c",
    "phone": "CANARY-PH-5e",
    "consent": "CANARY-CONSENT-0d4e",
    "key": "CANARY-KEY-5d2e",
    "care": "CANARY-CARE-1a9f",
    "observation": "CANARY-OBS-2b8e",
    "close": "CANARY-CLOSE-3c7d",
    "ref": "CANARY-REF-4d6c",
    "error": "CANARY-ERR-6e5b",
    "inbox": "CANARY-INBOX-9a1f",
    "alert": "CANARY-ALERT-7c3b",
}
KEEP = "KEEP-open-case-talk"


def _login(http: httpx.Client, user: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _submit(http: httpx.Client, code: str, key: str) -> uuid.UUID:
    started = http.post("/api/v1/student/sessions", json={"access_code": code, "language": "en"})
    assert started.status_code == 201, started.text
    body = started.json()
    r = http.post(
        f"/api/v1/student/sessions/{body['session_id']}/submission",
        headers={"Authorization": f"Bearer {body['session_token']}", "Idempotency-Key": key},
        json={"answers": battery_answers(CRITICAL)},
    )
    assert r.status_code == 201, r.text
    return uuid.UUID(body["session_id"])


def _one(database_url: str, statement: str, **params: Any) -> Any:
    ((value,),) = sql(database_url, statement, **params)
    return value


def _counts(database_url: str) -> tuple[Any, ...]:
    """Row counts that must survive retention."""
    tables = ("screening_sessions", "responses", "triage_results", "cases", "care_records")
    ((*counts,),) = sql(
        database_url, "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)
    )
    return tuple(counts)


async def _plant_notifications(database_url: str, case_id: uuid.UUID) -> None:
    """What the dispatcher and the channels leave behind for the case's notifications: a
    delivered webhook whose payload carries the student's reference, a failed attempt's error,
    an in-app copy, an operator alert."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            rows = (
                await db.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id))
            ).all()
            assert rows
            for row in rows:
                row.status, row.delivered_at = "delivered", T0
                row.payload = {**row.payload, "student_ref": CANARY["ref"]}
                row.last_error = CANARY["error"]
            first = rows[0]
            db.add(
                DeliveryAttempt(
                    outbox_id=first.id,
                    worker="w1",
                    attempted_at=T0,
                    ok=False,
                    status_code=500,
                    latency_ms=3.0,
                    error=CANARY["error"],
                )
            )
            ((user_id,),) = (
                await db.execute(
                    select(Base.metadata.tables["staff_users"].c.id).where(
                        Base.metadata.tables["staff_users"].c.username == "counsellor1"
                    )
                )
            ).all()
            db.add(
                InboxItem(
                    user_id=user_id,
                    delivery_id=first.delivery_id,
                    event=first.event,
                    content={"text": CANARY["inbox"], "case_id": str(case_id)},
                    created_at=T0,
                    read_at=None,
                )
            )
            db.add(
                OperatorAlert(
                    at=T0,
                    kind="delivery_failed",
                    school_id=first.school_id,
                    outbox_id=first.id,
                    detail=CANARY["alert"],
                    resolved_at=None,
                )
            )
    finally:
        await engine.dispose()


async def _scan(database_url: str) -> list[tuple[str, str, str]]:
    """(table, column, canary) for every canary found in any column of any table."""
    engine = create_engine(database_url)
    found = []
    try:
        async with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                for row in (await conn.execute(select(table))).all():
                    for column in table.columns:
                        text = json.dumps(row._mapping[column], default=str, ensure_ascii=False)
                        found += [
                            (table.name, column.name, c) for c in CANARY.values() if c in text
                        ]
    finally:
        await engine.dispose()
    return found


def _dry_run(settings: Settings, now: datetime) -> retention.RetentionReport:
    async def go() -> retention.RetentionReport:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as db:
                report = await retention.run_retention(
                    db,
                    policy=retention.policy_of(settings),
                    secret_key=settings.secret_key,
                    now=now,
                    dry_run=True,
                )
                await db.rollback()
                return report
        finally:
            await engine.dispose()

    return run(go())


def _sweep_ran(settings: Settings, now: datetime) -> bool:
    async def go() -> bool:
        engine = create_engine(settings.database_url)
        try:
            return (await sweep(create_session_factory(engine), settings, now=now)).retention_ran
        finally:
            await engine.dispose()

    return run(go())


def test_after_retention_the_canaries_are_nowhere_and_the_open_case_stays(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    campaign = seeded.campaign_ids[0]
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        staff = _login(http, "counsellor1")
        a_session = _submit(http, seeded.access_codes[0], CANARY["key"])
        a = uuid.UUID(
            uid(
                _one(
                    database_url,
                    "SELECT student_id FROM screening_sessions WHERE id = :s",
                    s=a_session,
                )
            )
        )
        b_session = _submit(http, seeded.access_codes[2], "b-key")
        b = uuid.UUID(
            uid(
                _one(
                    database_url,
                    "SELECT student_id FROM screening_sessions WHERE id = :s",
                    s=b_session,
                )
            )
        )
        sql(database_url, "UPDATE students SET name = :n WHERE id = :s", n=CANARY["name"], s=a)
        sql(
            database_url,
            "UPDATE guardians SET name = :n, phone = :p WHERE student_id = :s",
            n=CANARY["guardian"],
            p=CANARY["phone"],
            s=a,
        )
        r = http.post(
            f"/api/v1/campaigns/{campaign}/consents",
            headers=staff,
            json={"student_id": str(a), "status": "granted", "guardian_name": CANARY["consent"]},
        )
        assert r.status_code == 201, r.text
        a_case = uuid.UUID(
            uid(_one(database_url, "SELECT id FROM cases WHERE student_id = :s", s=a))
        )
        b_case = uuid.UUID(
            uid(_one(database_url, "SELECT id FROM cases WHERE student_id = :s", s=b))
        )
        for case, summary in ((a_case, CANARY["care"]), (b_case, KEEP)):
            r = http.post(
                f"/api/v1/cases/{case}/records",
                headers=staff,
                json={"kind": "talk", "summary": summary},
            )
            assert r.status_code == 201, r.text
        r = http.post(
            "/api/v1/observations",
            headers=staff,
            json={
                "student_id": str(a),
                "kind": "low_mood",
                "severity": "concern",
                "note": CANARY["observation"],
            },
        )
        assert r.status_code == 201, r.text
        for action, note in (
            ("acknowledge", None),
            ("start_assessment", None),
            ("close", CANARY["close"]),
        ):
            r = http.post(
                f"/api/v1/cases/{a_case}/actions",
                headers=staff,
                json={"action": action, **({"note": note} if note else {})},
            )
            assert r.status_code == 200, r.text
    run(_plant_notifications(database_url, a_case))
    sql(database_url, "UPDATE students SET status = 'left' WHERE id = :s", s=a)  # A left school

    planted = {c for _, _, c in run(_scan(database_url))}
    assert planted == set(CANARY.values()), set(CANARY.values()) - planted
    before = _counts(database_url)
    audit_before = {uid(i) for (i,) in sql(database_url, "SELECT id FROM audit_log")}

    # A dry run counts and changes nothing.
    dry = _dry_run(settings, LATER)
    assert dry.total() > 0 and dry.counts["identity"]["students"] == 1
    assert _one(database_url, "SELECT name FROM students WHERE id = :s", s=a) == CANARY["name"]

    # The run, as an operator starts it.
    args = ["retention", "run", "--at", LATER.isoformat(), "--database-url", database_url]
    assert cli.main([*args, "--secret-key", settings.secret_key]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert "identity (1825 days): " in out.err and "students 1" in out.err
    assert report["counts"]["answers"]["idempotency_records"] >= 1
    assert report["counts"]["case_files"]["care_records"] == 1
    assert report["counts"]["notifications"]["outbox"] >= 1

    assert run(_scan(database_url)) == []
    # What must survive: the rows (counts), the open case with its file, the audit log.
    assert _counts(database_url) == before
    assert _one(database_url, "SELECT status FROM cases WHERE id = :c", c=b_case) != "closed"
    assert (
        _one(database_url, "SELECT summary FROM care_records WHERE case_id = :c", c=b_case) == KEEP
    )
    b_answers = sql(database_url, "SELECT answers FROM responses WHERE student_id = :s", s=b)
    assert all(json.loads(x) if isinstance(x, str) else x for (x,) in b_answers)
    a_answers = sql(database_url, "SELECT answers FROM responses WHERE student_id = :s", s=a)
    assert not any(json.loads(x) if isinstance(x, str) else x for (x,) in a_answers)
    assert _one(database_url, "SELECT COUNT(*) FROM scores WHERE student_id = :s", s=a) == 0
    audit_after = {
        uid(i): action for i, action in sql(database_url, "SELECT id, action FROM audit_log")
    }
    assert audit_before <= set(audit_after)
    assert list(audit_after.values()).count("retention.run") == 1
    # A stable pseudonym instead of the name.
    name = _one(database_url, "SELECT name FROM students WHERE id = :s", s=a)
    assert name == retention.pseudonym(settings.secret_key, "student", a) and name.startswith("S-")

    # Done once: nothing left to change; the sweeper's daily step waits a day after a run.
    assert _dry_run(settings, LATER).total() == 0
    assert _sweep_ran(settings, LATER + timedelta(hours=1)) is False
    assert _sweep_ran(settings, LATER + timedelta(days=1, hours=1)) is True


def test_the_rules_count_from_their_anchors_and_hold_open_cases() -> None:
    policy = RetentionPolicy(answers=10, withdrawn=2, identity=30)
    closes = datetime(2027, 1, 1, tzinfo=UTC)
    at = closes + timedelta(days=10)
    assert expired(policy, "answers", closes, at, held=False)  # exactly at the end: expired
    assert not expired(policy, "answers", closes, at - timedelta(seconds=1), held=False)
    assert not expired(policy, "answers", closes, at, held=True)  # an open case holds it
    assert not expired(policy, "answers", None, at, held=False)  # no anchor: kept
    # A withdrawal ends the purpose earlier than the campaign's closing.
    early = closes - timedelta(days=30)
    kw: dict[str, Any] = {"closes_at": closes, "withdrawn_at": closes - timedelta(days=5)}
    assert screening_expired(policy, "answers", now=early + timedelta(days=28), held=False, **kw)
    assert not screening_expired(policy, "answers", now=closes - timedelta(days=4), held=True, **kw)
    with pytest.raises(KeyError):
        screening_expired(policy, "inbox", now=at, held=False, **kw)
    # Identity: only a student who left, from the latest anchor.
    anchors = [closes, closes + timedelta(days=100), None]
    late = closes + timedelta(days=130)
    assert identity_expired(policy, active=False, anchors=anchors, now=late, held=False)
    assert not identity_expired(policy, active=True, anchors=anchors, now=late, held=False)
    assert not identity_expired(
        policy, active=False, anchors=anchors, now=late - timedelta(days=1), held=False
    )
    assert not identity_expired(policy, active=False, anchors=[None], now=late, held=False)


def test_retention_periods_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"RUNXIN_RETENTION_NOTIFICATIONS_DAYS": "30", "RUNXIN_RETENTION_ANSWERS_DAYS": "400"}
    )
    policy = retention.policy_of(settings)
    assert (policy.notifications, policy.answers, policy.case_files) == (30, 400, 5 * 365)
    for bad in ("0", "ninety"):
        with pytest.raises(SettingsError, match="RUNXIN_RETENTION_INBOX_DAYS"):
            Settings.from_env({"RUNXIN_RETENTION_INBOX_DAYS": bad})
