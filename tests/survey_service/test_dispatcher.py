"""The dispatcher against a real receiver: retries, permanent failures, expired leases."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from svc_support import WebhookReceiver, make_settings, run, seed

from survey_service.db import (
    Case,
    DeliveryAttempt,
    OutboxMessage,
    create_engine,
    create_session_factory,
)
from survey_service.notifications.service import enqueue_case_notification
from survey_service.settings import Settings
from survey_service.workers import Dispatcher

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


async def _make_case(settings: Settings) -> uuid.UUID:
    """A bare red case with one counsellor notification queued (as a submission would)."""
    from survey_service.db import Student, TriageRecord

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            student = (await db.scalars(select(Student).limit(1))).one()
            tri = TriageRecord(
                session_id=await _session_for(db, student),
                student_id=student.id,
                tier="red",
                pathway="acute",
                reasons=[],
                policy_version="t",
                evaluated_at=T0,
            )
            db.add(tri)
            await db.flush()
            ack_by, step = T0 + timedelta(minutes=15), timedelta(minutes=30)
            case = Case(
                student_id=student.id,
                school_id=student.school_id,
                triage_id=tri.id,
                tier="red",
                pathway="acute",
                status="open",
                opened_at=T0,
                acknowledge_by=T0 + timedelta(minutes=15),
                acknowledged_at=None,
                acknowledged_by=None,
                escalation_level=0,
                # The red tier's ladder (policy ``tiers[].escalation``), as cases store it.
                ladder=[
                    {"level": 1, "role": "school_lead", "due_at": ack_by.isoformat()},
                    {"level": 2, "role": "district_officer", "due_at": (ack_by + step).isoformat()},
                ],
                next_escalation_at=None,
                closed_at=None,
            )
            db.add(case)
            await db.flush()
            await enqueue_case_notification(
                db,
                case=case,
                event="case.opened",
                level=0,
                recipient_role="counsellor",
                deadline=case.acknowledge_by,
                base_url="http://x",
                now=T0,
            )
            return case.id
    finally:
        await engine.dispose()


async def _session_for(db, student):  # type: ignore[no-untyped-def]
    from survey_service.db import AccessCode, ScreeningSession

    code = (await db.scalars(select(AccessCode).where(AccessCode.student_id == student.id))).one()
    s = ScreeningSession(
        campaign_id=code.campaign_id,
        student_id=student.id,
        access_code_id=code.id,
        token_digest="x",
        language="en",
        status="submitted",
        battery=[],
        started_at=T0,
        submitted_at=T0,
    )
    db.add(s)
    await db.flush()
    return s.id


async def _pass(settings: Settings, now: datetime, worker_id: str = "w1"):  # type: ignore[no-untyped-def]
    engine = create_engine(settings.database_url)
    try:
        async with httpx.AsyncClient() as client:
            d = Dispatcher(
                create_session_factory(engine),
                client,
                settings,
                worker_id=worker_id,
                rng=random.Random(1),
            )
            return await d.run_once(now)
    finally:
        await engine.dispose()


async def _rows(settings: Settings):  # type: ignore[no-untyped-def]
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db:
            out = (await db.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))).all()
            attempts = (await db.scalars(select(DeliveryAttempt))).all()
            return list(out), list(attempts)
    finally:
        await engine.dispose()


def test_retry_after_500_then_delivered_with_same_id(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        rx.statuses = [500]
        stats = run(_pass(settings, T0))
        assert stats.retried == 1
        (row,), _ = run(_rows(settings))
        assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > T0
        # Not due yet: nothing is sent.
        assert run(_pass(settings, T0 + timedelta(milliseconds=1))).claimed == 0
        stats = run(_pass(settings, row.next_attempt_at))
        assert stats.delivered == 1
        assert [d.headers["x-runxin-delivery"] for d in rx.deliveries] == [row.delivery_id] * 2
        (row,), attempts = run(_rows(settings))
        assert row.status == "delivered" and len(attempts) == 2
        assert [a.status_code for a in sorted(attempts, key=lambda a: a.attempted_at)] == [500, 200]


def test_retry_after_header_is_honoured(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        rx.statuses = [429]
        run(_pass(settings, T0))
        (row,), _ = run(_rows(settings))
        assert row.status == "pending" and row.last_status_code == 429


def test_permanent_failure_escalates_instead_of_dropping(database_url: str) -> None:
    settings = make_settings(database_url)
    with WebhookReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        rx.statuses = [410]
        stats = run(_pass(settings, T0))
        assert stats.failed == 1
        rows, _ = run(_rows(settings))
        assert [(r.recipient_role, r.status) for r in rows] == [
            ("counsellor", "failed"),
            ("school_lead", "pending"),
        ]
        assert run(_pass(settings, T0)).delivered == 1
        assert rx.deliveries[-1].json["event"] == "case.escalated"


def test_expired_lease_is_redelivered_with_the_same_delivery_id(database_url: str) -> None:
    settings = make_settings(database_url)

    async def claim_and_die() -> list[uuid.UUID]:
        engine = create_engine(settings.database_url)
        try:
            async with httpx.AsyncClient() as client:
                d = Dispatcher(
                    create_session_factory(engine),
                    client,
                    settings,
                    worker_id="dies",
                )
                return await d.claim(T0)  # claimed, then the worker "dies"
        finally:
            await engine.dispose()

    with WebhookReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        assert len(run(claim_and_die())) == 1
        # While the lease holds, no other worker takes the row.
        assert run(_pass(settings, T0 + timedelta(seconds=30), worker_id="w2")).claimed == 0
        stats = run(
            _pass(settings, T0 + timedelta(seconds=settings.dispatch_lease_s + 1), worker_id="w2")
        )
        assert stats.delivered == 1
        (row,), _ = run(_rows(settings))
        assert rx.deliveries[0].headers["x-runxin-delivery"] == row.delivery_id


def test_missing_webhook_configuration_escalates(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, webhook_url=None)
    run(_make_case(settings))
    stats = run(_pass(settings, T0))
    assert stats.failed == 1
    rows, _ = run(_rows(settings))
    assert rows[0].status == "failed" and "no webhook" in (rows[0].last_error or "")
    assert rows[1].recipient_role == "school_lead"


@pytest.mark.parametrize("n_workers", [2])
def test_two_workers_never_deliver_the_same_row_twice(database_url: str, n_workers: int) -> None:
    settings = make_settings(database_url)

    async def many() -> None:
        import asyncio

        engine = create_engine(settings.database_url)
        try:
            async with httpx.AsyncClient() as client:
                sessions = create_session_factory(engine)
                workers = [
                    Dispatcher(sessions, client, settings, worker_id=f"w{i}")
                    for i in range(n_workers)
                ]
                await asyncio.gather(*(w.run_once(T0) for w in workers))
        finally:
            await engine.dispose()

    async def extra_notifications() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as db, db.begin():
                case = (await db.scalars(select(Case))).one()
                for level in range(1, 30):
                    await enqueue_case_notification(
                        db,
                        case=case,
                        event="case.test",
                        level=level,
                        recipient_role="counsellor",
                        deadline=T0,
                        base_url="http://x",
                        now=T0,
                    )
        finally:
            await engine.dispose()

    with WebhookReceiver() as rx:
        seed(settings, now=T0, webhook_url=rx.url)
        run(_make_case(settings))
        run(extra_notifications())
        run(many())
        ids = [d.headers["x-runxin-delivery"] for d in rx.deliveries]
        assert len(ids) == 30 and len(set(ids)) == 30
