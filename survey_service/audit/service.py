"""Reading and exporting the audit log (the auditor's role, district scope).

The auditor sees who did what, when, to which ids — never a student's name, answers or tiers.
Pages are keyset-paginated by time (newest first); every list and export is itself audited.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.sql.elements import ColumnElement

from survey_service.accounts import permissions
from survey_service.audit.schemas import AuditExport, AuditFilters, AuditPage, AuditRow
from survey_service.db import AsyncSession, AuditEntry, School, StaffUser
from survey_service.errors import BadRequest, Unprocessable
from survey_service.services import audit

MAX_LIMIT = 500
EXPORT_MAX = 100_000
FORMATS = ("csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _bad(param: str, why: str) -> BadRequest:
    return BadRequest(
        f"{param}: {why}",
        code="invalid_audit_filter",
        message={
            "zh-CN": f"筛选条件“{param}”有误：{why}",
            "en": f"The filter {param!r} is not valid: {why}",
        },
        extra={"field": param},
    )


def _time(param: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(param, "not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise _bad(param, "needs a UTC offset, e.g. 2026-09-01T08:00:00+08:00")
    return when


def parse_filters(raw: Mapping[str, str | None], *, limit: int | None = None) -> AuditFilters:
    """Filters from query parameters (``from``, ``to``, ``actor``, ``action``, ``school``,
    ``subject``, ``cursor``); ``BadRequest`` naming the parameter when one is not valid."""
    since, until = _time("from", raw.get("from")), _time("to", raw.get("to"))
    if since and until and until <= since:
        raise _bad("to", "must be after 'from'")
    subject = (raw.get("subject") or "").strip() or None
    if subject is not None:
        try:
            subject = str(uuid.UUID(subject))
        except ValueError:
            raise _bad("subject", "not an id") from None
    cursor = raw.get("cursor") or None
    if cursor is not None:
        _decode_cursor(cursor)
    n = 100 if limit is None else limit
    if not 1 <= n <= MAX_LIMIT:
        raise _bad("limit", f"must be between 1 and {MAX_LIMIT}")
    return AuditFilters(
        since=since,
        until=until,
        actor=(raw.get("actor") or "").strip() or None,
        action=(raw.get("action") or "").strip() or None,
        school=(raw.get("school") or "").strip() or None,
        subject=subject,
        cursor=cursor,
        limit=n,
    )


def _encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, uuid.UUID(row_id)
    except (ValueError, TypeError):
        raise _bad("cursor", "not a cursor this service gave out") from None


def _scope(user: StaffUser) -> ColumnElement[bool]:
    """Rows of the auditor's district: its schools', and district-wide rows of its staff."""
    schools = select(School.id).where(School.district_id == user.district_id)
    staff = select(StaffUser.id).where(
        or_(StaffUser.district_id == user.district_id, StaffUser.school_id.in_(schools))
    )
    return or_(
        AuditEntry.school_id.in_(schools),
        and_(
            AuditEntry.school_id.is_(None),
            or_(AuditEntry.actor_id.is_(None), AuditEntry.actor_id.in_(staff)),
        ),
    )


async def _conditions(db: AsyncSession, user: StaffUser, f: AuditFilters) -> list[Any]:
    where: list[Any] = [_scope(user)]
    if f.since is not None:
        where.append(AuditEntry.at >= f.since)
    if f.until is not None:
        where.append(AuditEntry.at < f.until)
    if f.action is not None:
        if f.action.endswith("*"):
            where.append(AuditEntry.action.startswith(f.action[:-1], autoescape=True))
        else:
            where.append(AuditEntry.action == f.action)
    if f.actor is not None:
        try:
            where.append(AuditEntry.actor_id == uuid.UUID(f.actor))
        except ValueError:
            where.append(
                AuditEntry.actor_id.in_(select(StaffUser.id).where(StaffUser.username == f.actor))
            )
    if f.school is not None:
        where.append(AuditEntry.school_id.in_(select(School.id).where(School.code == f.school)))
    if f.subject is not None:
        # subject_ids is a JSON list of id strings; the quoted id matches one element exactly.
        where.append(cast(AuditEntry.subject_ids, String).contains(f'"{f.subject}"'))
    return where


def _query(where: list[Any]) -> Any:
    return (
        select(AuditEntry, StaffUser.username, School.code)
        .outerjoin(StaffUser, StaffUser.id == AuditEntry.actor_id)
        .outerjoin(School, School.id == AuditEntry.school_id)
        .where(*where)
    )


def _row(entry: AuditEntry, username: str | None, school_code: str | None) -> AuditRow:
    return AuditRow(
        id=str(entry.id),
        at=entry.at,
        actor_id=str(entry.actor_id) if entry.actor_id else None,
        actor=username,
        actor_role=entry.actor_role,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_ids=[str(s) for s in entry.subject_ids or []],
        school=school_code,
        detail=entry.detail,
        seq=entry.seq,
    )


async def list_entries(
    db: AsyncSession, user: StaffUser, filters: AuditFilters, *, now: datetime
) -> AuditPage:
    """A page of the district's audit log, newest first (auditor only); audited itself."""
    permissions.require(user, "audit.read")
    where = await _conditions(db, user, filters)
    if filters.cursor is not None:
        at, row_id = _decode_cursor(filters.cursor)
        where.append(or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < row_id)))
    rows = (
        await db.execute(
            _query(where)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(filters.limit + 1)
        )
    ).all()
    more = len(rows) > filters.limit
    items = [_row(e, u, s) for e, u, s in rows[: filters.limit]]
    last = rows[filters.limit - 1][0] if more else None
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="audit.read",
        subject_type="audit",
        subject_ids=[],
        school_id=None,
        now=now,
        detail={"count": len(items)},
    )
    return AuditPage(
        items=items,
        count=len(items),
        next_cursor=_encode_cursor(last.at, last.id) if last is not None else None,
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def export_entries(
    db: AsyncSession, user: StaffUser, filters: AuditFilters, fmt: str, *, now: datetime
) -> AuditExport:
    """The filtered log in time order as CSV or JSON (auditor only); the export is audited
    (``export.download``, format and row count)."""
    permissions.require(user, "audit.export")
    if fmt not in FORMATS:
        raise _bad("format", f"must be one of {', '.join(FORMATS)}")
    where = await _conditions(db, user, filters)
    rows = (
        await db.execute(_query(where).order_by(AuditEntry.at, AuditEntry.id).limit(EXPORT_MAX + 1))
    ).all()
    if len(rows) > EXPORT_MAX:
        raise Unprocessable(
            f"more than {EXPORT_MAX} rows match: narrow the filters (from, to)",
            code="audit_export_too_large",
            message={
                "zh-CN": f"符合条件的记录超过 {EXPORT_MAX} 条，请缩小时间范围。",
                "en": f"More than {EXPORT_MAX} rows match; narrow the time range.",
            },
        )
    items = [_row(e, u, s) for e, u, s in rows]
    if fmt == "json":
        body = json.dumps(msgspec.to_builtins(items), ensure_ascii=False).encode()
        media = "application/json"
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        header = [
            "seq", "at", "actor", "actor_id", "actor_role", "action",
            "subject_type", "subject_ids", "school", "detail",
        ]  # fmt: skip
        writer.writerow(header)
        for r in items:
            writer.writerow(
                [
                    _cell(c)
                    for c in (
                        r.seq,
                        r.at.isoformat(),
                        r.actor,
                        r.actor_id,
                        r.actor_role,
                        r.action,
                        r.subject_type,
                        " ".join(r.subject_ids),
                        r.school,
                        json.dumps(r.detail, ensure_ascii=False, sort_keys=True)
                        if r.detail
                        else "",
                    )
                ]
            )
        body = ("\ufeff" + out.getvalue()).encode("utf-8")
        media = "text/csv; charset=utf-8"
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="export.download",
        subject_type="audit",
        subject_ids=[],
        school_id=None,
        now=now,
        detail={"export": "audit", "format": fmt, "count": len(items)},
    )
    return AuditExport(body=body, media_type=media, filename=f"audit.{fmt}", count=len(items))
