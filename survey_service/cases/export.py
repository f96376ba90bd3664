"""Everything held about one student, for the student and their guardians (PIPL Art. 45; the
minors' right to view and copy their data): JSON and a printable page.

Complete by construction: the tables exported are found by walking the schema's foreign keys
down from ``students`` (a table that refers to the student, or to a row that does — a case, a
session, an outbox message — is included), so a table added later is exported without anyone
remembering to add it. Two kinds of row refer to the student without a foreign key and are
added by name: in-app inbox items (by the outbox delivery id) and audit rows (their
``subject_ids``). Secrets are withheld (access-code and session-token digests, passwords).
Rows are in time order, never by score.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Column, String, Table, cast, or_, select

from survey_service.accounts import permissions
from survey_service.accounts.access import student_in_scope
from survey_service.db import AsyncSession, Base, School, SchoolClass, StaffUser
from survey_service.services import audit

#: Columns never exported: authentication secrets (digests of codes and tokens).
WITHHELD = frozenset({"code_digest", "token_digest", "password_hash", "webhook_secret"})
WITHHELD_TEXT = "[withheld]"
#: Rows that name the student without a foreign key, found by their content.
BY_CONTENT = ("inbox_items", "audit_log")
#: Tables of ids whose mention in an audit row's ``subject_ids`` makes it about the student.
AUDIT_SUBJECTS = (
    "students",
    "cases",
    "screening_sessions",
    "observations",
    "referrals",
    "incidents",
    "crisis_plans",
    "consents",
)


class StudentExport(msgspec.Struct, frozen=True):
    """One student's data: ``student`` (with school and class names) and ``tables``: per
    table, every row held about them (column → value)."""

    student_id: uuid.UUID
    generated_at: datetime
    student: dict[str, Any]
    school: str
    class_name: str
    tables: dict[str, list[dict[str, Any]]]


def exported_tables() -> list[str]:
    """The tables whose rows can be about a student: every table reachable from ``students``
    by following foreign keys from child to parent, in dependency order, then
    :data:`BY_CONTENT`."""
    reached = {"students"}
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            if table.name in reached:
                continue
            if any(fk.column.table.name in reached for fk in table.foreign_keys):
                reached.add(table.name)
                changed = True
    ordered = [t.name for t in Base.metadata.sorted_tables if t.name in reached]
    return [t for t in ordered if t != "students"] + [t for t in BY_CONTENT if t not in reached]


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(table: Table, row: Any) -> dict[str, Any]:
    return {
        c.name: WITHHELD_TEXT if c.name in WITHHELD else _plain(row._mapping[c])
        for c in table.columns
    }


def _order(table: Table) -> list[Column[Any]]:
    """Time order (the first timestamp column), then id: never by score."""
    times = [c for c in table.columns if c.name in ("at", "created_at", "recorded_at")]
    times += [c for c in table.columns if c.name.endswith("_at") and c not in times]
    return [*times[:1], *table.primary_key.columns]


async def _gather(db: AsyncSession, student_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    ids: dict[str, set[Any]] = {"students": {student_id}}
    out: dict[str, list[dict[str, Any]]] = {}
    tables = Base.metadata.tables
    # Sorted tables, repeated until nothing new: a row may refer to a parent found later.
    names = [n for n in exported_tables() if n not in BY_CONTENT]
    for _ in range(3):
        grew = False
        for name in names:
            table = tables[name]
            conditions = [
                fk.parent.in_(ids[fk.column.table.name])
                for fk in table.foreign_keys
                if ids.get(fk.column.table.name)
            ]
            if not conditions:
                continue
            rows = (
                await db.execute(select(table).where(or_(*conditions)).order_by(*_order(table)))
            ).all()
            pk = next(iter(table.primary_key.columns))
            found = {r._mapping[pk] for r in rows}
            if not found <= ids.get(name, set()):
                grew = True
            ids.setdefault(name, set()).update(found)
            out[name] = [_row(table, r) for r in rows]
        if not grew:
            break
    for name in names:
        out.setdefault(name, [])
    out["inbox_items"] = await _inbox(db, ids)
    out["audit_log"] = await _audit_rows(db, ids)
    return out


async def _inbox(db: AsyncSession, ids: dict[str, set[Any]]) -> list[dict[str, Any]]:
    table = Base.metadata.tables["inbox_items"]
    outbox = Base.metadata.tables["outbox"]
    if not ids.get("outbox"):
        return []
    deliveries = select(outbox.c.delivery_id).where(outbox.c.id.in_(ids["outbox"]))
    rows = await db.execute(
        select(table).where(table.c.delivery_id.in_(deliveries)).order_by(*_order(table))
    )
    return [_row(table, r) for r in rows.all()]


def _mentions(column: Any, values: Iterable[Any]) -> list[Any]:
    return [cast(column, String).like(f"%{v}%") for v in values]


async def _audit_rows(db: AsyncSession, ids: dict[str, set[Any]]) -> list[dict[str, Any]]:
    table = Base.metadata.tables["audit_log"]
    subjects = {str(i) for name in AUDIT_SUBJECTS for i in ids.get(name, ())}
    rows = await db.execute(
        select(table)
        .where(or_(*_mentions(table.c.subject_ids, sorted(subjects))))
        .order_by(*_order(table))
    )
    return [_row(table, r) for r in rows.all()]


async def student_export(
    db: AsyncSession, user: StaffUser, student_id: uuid.UUID, *, now: datetime
) -> StudentExport:
    """Everything held about the student (counsellor or school lead of the student's school;
    another school's student is 404). Audited as ``student.export``."""
    permissions.require(user, "students.export")
    student = await student_in_scope(db, user, student_id)
    school = await db.get_one(School, student.school_id)
    klass = await db.get_one(SchoolClass, student.class_id)
    students = Base.metadata.tables["students"]
    row = (await db.execute(select(students).where(students.c.id == student.id))).one()
    tables = await _gather(db, student.id)
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="student.export",
        subject_type="student",
        subject_ids=[student.id],
        school_id=student.school_id,
        now=now,
    )
    return StudentExport(
        student_id=student.id,
        generated_at=now,
        student=_row(students, row),
        school=school.name,
        class_name=klass.name,
        tables=tables,
    )
