"""Append-only, hash-chained audit trail (issue 19).

Every read or change of a student's record, every export download, every denial, every login,
roster import, calendar and notification-route change adds one row with :func:`record`, in the
caller's transaction (it commits or rolls back with what it records). Denials, whose request
rolls back, are written by :func:`record_apart` in a short transaction of their own.

Rows are chained later, not while the request waits: :func:`seal` takes the unsealed rows in a
fixed order (time, then id) and gives each a sequence number, the previous row's hash and its
own ``row_hash = SHA-256(prev_hash ‖ "\\n" ‖ canonical JSON of the row)``. One sealer runs at a
time: its first statement updates the one ``audit_chain_head`` row, which takes that row's lock
on PostgreSQL and the write lock on SQLite (``BEGIN IMMEDIATE``), so requests that only insert
rows never wait on it. A row committed after a sealing pass began is sealed by the next one: the
chain's order is the sealing order (``seq``), not the insertion time.

:func:`verify` walks the chain and reports the first changed row, missing sequence number (a
deleted row), broken link (a moved or inserted row) or cut-off end (against the head row).
Database triggers (migration 0010) refuse DELETE and any UPDATE other than the one sealing, so
tampering needs the triggers dropped first — which is exactly what the chain then exposes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import msgspec
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from survey_service.db import AsyncSession, AuditChainHead, AuditEntry

GENESIS = "0" * 64
HEAD_ID = 1
#: Rows sealed per statement batch (and per transaction in :func:`seal_pending`).
SEAL_BATCH = 2000

_log = logging.getLogger("runxin.audit")


def record(
    db: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    actor_role: str,
    action: str,
    subject_type: str,
    subject_ids: Sequence[uuid.UUID],
    school_id: uuid.UUID | None,
    now: datetime,
    detail: Mapping[str, str | int] | None = None,
) -> None:
    """Add an audit row to the current transaction (it commits or rolls back with the read).

    ``detail`` says what else matters (route, status, export format, masked channel kinds);
    it must never hold a secret, a student's name or an answer.
    """
    db.add(
        _entry(
            actor_id=actor_id,
            actor_role=actor_role,
            action=action,
            subject_type=subject_type,
            subject_ids=subject_ids,
            school_id=school_id,
            now=now,
            detail=detail,
        )
    )


async def record_apart(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor_id: uuid.UUID | None,
    actor_role: str,
    action: str,
    subject_type: str,
    subject_ids: Sequence[uuid.UUID],
    school_id: uuid.UUID | None,
    now: datetime,
    detail: Mapping[str, str | int] | None = None,
) -> None:
    """Write one audit row in a short transaction of its own (for a request that rolls back)."""
    async with sessions() as db, db.begin():
        db.add(
            _entry(
                actor_id=actor_id,
                actor_role=actor_role,
                action=action,
                subject_type=subject_type,
                subject_ids=subject_ids,
                school_id=school_id,
                now=now,
                detail=detail,
            )
        )


def _entry(
    *,
    actor_id: uuid.UUID | None,
    actor_role: str,
    action: str,
    subject_type: str,
    subject_ids: Sequence[uuid.UUID],
    school_id: uuid.UUID | None,
    now: datetime,
    detail: Mapping[str, str | int] | None,
) -> AuditEntry:
    return AuditEntry(
        at=now,
        actor_id=actor_id,
        actor_role=actor_role,
        action=action,
        subject_type=subject_type,
        subject_ids=[str(i) for i in subject_ids],
        school_id=school_id,
        detail=dict(detail) if detail else None,
    )


# --- the chain ---------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(
    *,
    seq: int,
    id: uuid.UUID,
    at: datetime,
    actor_id: uuid.UUID | None,
    actor_role: str,
    action: str,
    subject_type: str,
    subject_ids: Sequence[Any],
    school_id: uuid.UUID | None,
    detail: Mapping[str, Any] | None,
) -> bytes:
    """The canonical JSON of a row's fields, as hashed (sorted keys, no spaces, UTF-8)."""
    fields = {
        "seq": seq,
        "id": str(id),
        "at": _iso(at),
        "actor_id": str(actor_id) if actor_id else None,
        "actor_role": actor_role,
        "action": action,
        "subject_type": subject_type,
        "subject_ids": [str(s) for s in subject_ids],
        "school_id": str(school_id) if school_id else None,
        "detail": dict(detail) if detail else None,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, row: bytes) -> str:
    """``SHA-256(prev_hash ‖ "\\n" ‖ row)`` in hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + row).hexdigest()


_FIELDS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor_id,
    AuditEntry.actor_role,
    AuditEntry.action,
    AuditEntry.subject_type,
    AuditEntry.subject_ids,
    AuditEntry.school_id,
    AuditEntry.detail,
)


def _row_bytes(seq: int, r: Any) -> bytes:
    return canonical(
        seq=seq,
        id=r.id,
        at=r.at,
        actor_id=r.actor_id,
        actor_role=r.actor_role,
        action=r.action,
        subject_type=r.subject_type,
        subject_ids=r.subject_ids or [],
        school_id=r.school_id,
        detail=r.detail,
    )


async def seal(db: AsyncSession, *, now: datetime, limit: int = SEAL_BATCH) -> int:
    """Chain up to ``limit`` unsealed rows in the caller's transaction; the number sealed.

    The first statement locks the chain head, so concurrent sealers take turns; inserts of new
    audit rows never wait on it.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    locked = await db.execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(sealed_at=now)
    )
    if getattr(locked, "rowcount", 1) != 1:
        raise RuntimeError("the audit chain head row is missing (run `runxin db upgrade`)")
    head = (
        await db.execute(
            select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
                AuditChainHead.id == HEAD_ID
            )
        )
    ).one()
    rows = (
        await db.execute(
            select(*_FIELDS)
            .where(AuditEntry.row_hash.is_(None))
            .order_by(AuditEntry.at, AuditEntry.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return 0
    seq, prev = int(head.last_seq), str(head.last_hash)
    params: list[dict[str, Any]] = []
    for r in rows:
        seq += 1
        row_hash = chain_hash(prev, _row_bytes(seq, r))
        params.append({"b_id": r.id, "b_seq": seq, "b_prev": prev, "b_hash": row_hash})
        prev = row_hash
    table = cast(Table, AuditEntry.__table__)
    await db.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.row_hash.is_(None))
        .values(
            seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), row_hash=bindparam("b_hash")
        ),
        params,
    )
    await db.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=seq, last_hash=prev, sealed_at=now)
    )
    return len(rows)


async def seal_pending(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, batch: int = SEAL_BATCH
) -> int:
    """Seal every unsealed row, one short transaction per batch; the number sealed."""
    total = 0
    while True:
        async with sessions() as db, db.begin():
            done = await seal(db, now=now, limit=batch)
        total += done
        if done < batch:
            return total


class ChainProblem(msgspec.Struct, frozen=True):
    """The first place where the chain does not hold."""

    kind: str  # changed | gap | link | truncated | head
    seq: int
    row_id: str | None
    message: dict[str, str]


class ChainReport(msgspec.Struct, frozen=True):
    """What :func:`verify` found."""

    ok: bool
    sealed: int
    unsealed: int
    head_seq: int
    head_hash: str
    problem: ChainProblem | None = None


def _problem(kind: str, seq: int, row_id: uuid.UUID | None, zh: str, en: str) -> ChainProblem:
    return ChainProblem(kind, seq, str(row_id) if row_id else None, {"zh-CN": zh, "en": en})


async def verify(db: AsyncSession, *, chunk: int = 5000) -> ChainReport:
    """Recompute the chain from the first row; stop at the first problem."""
    head = (
        await db.execute(
            select(AuditChainHead.last_seq, AuditChainHead.last_hash).where(
                AuditChainHead.id == HEAD_ID
            )
        )
    ).one_or_none()
    head_seq, head_hash = (int(head.last_seq), str(head.last_hash)) if head else (0, GENESIS)
    unsealed = int(
        await db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
        )
        or 0
    )
    expected, prev, seen = 1, GENESIS, 0

    def report(problem: ChainProblem | None) -> ChainReport:
        return ChainReport(problem is None, seen, unsealed, head_seq, head_hash, problem)

    if head is None:
        return report(
            _problem("head", 0, None, "审计链头记录缺失。", "The audit chain head row is missing.")
        )
    after = 0
    while True:
        rows = (
            await db.execute(
                select(*_FIELDS, AuditEntry.seq, AuditEntry.prev_hash, AuditEntry.row_hash)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(chunk)
            )
        ).all()
        for r in rows:
            seq = int(r.seq)
            if seq != expected:
                return report(
                    _problem(
                        "gap",
                        expected,
                        None,
                        f"审计链断裂：第 {expected} 条至第 {seq - 1} 条记录缺失（已被删除）。",
                        f"The audit chain is broken: rows {expected} to {seq - 1} are missing "
                        "(deleted).",
                    )
                )
            if r.prev_hash != prev:
                return report(
                    _problem(
                        "link",
                        seq,
                        r.id,
                        f"审计链断裂：第 {seq} 条记录与前一条不相连（记录被移动、插入或改动）。",
                        f"The audit chain is broken: row {seq} does not link to the row before "
                        "it (a row was moved, inserted or changed).",
                    )
                )
            if r.row_hash is None or chain_hash(prev, _row_bytes(seq, r)) != r.row_hash:
                return report(
                    _problem(
                        "changed",
                        seq,
                        r.id,
                        f"审计记录被改动：第 {seq} 条记录的哈希值不符。",
                        f"An audit row was changed: the hash of row {seq} does not match.",
                    )
                )
            prev, expected, seen = r.row_hash, seq + 1, seen + 1
        if len(rows) < chunk:
            break
        after = int(rows[-1].seq)
    last = expected - 1
    if head_seq != last or head_hash != prev:
        if head_seq > last:
            zh = f"审计链末尾被截断：第 {last + 1} 条至第 {head_seq} 条记录缺失。"
            en = (
                f"The end of the audit chain was cut off: rows {last + 1} to {head_seq} "
                "are missing."
            )
            kind = "truncated"
        else:
            zh = f"审计链头（第 {head_seq} 条）与最后一条记录（第 {last} 条）不符。"
            en = f"The audit chain head (row {head_seq}) does not match the last row ({last})."
            kind = "head"
        return report(_problem(kind, last + 1, None, zh, en))
    return report(None)
