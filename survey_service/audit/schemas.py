"""Wire formats of the audit log as the auditor reads it: ids only, never a student's record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class AuditRow(msgspec.Struct, frozen=True):
    """One audit row. ``seq`` is its place in the hash chain (``None`` until sealed)."""

    id: str
    at: datetime
    actor_id: str | None
    actor: str | None
    actor_role: str
    action: str
    subject_type: str
    subject_ids: list[str]
    school: str | None
    detail: dict[str, Any] | None
    seq: int | None


class AuditPage(msgspec.Struct, frozen=True):
    """A page of the log, newest first; ``next_cursor`` fetches the older rows."""

    items: list[AuditRow]
    count: int
    next_cursor: str | None


class AuditFilters(msgspec.Struct, frozen=True):
    """Parsed filters: ``since`` inclusive, ``until`` exclusive; ``action`` ending in ``*`` is a
    prefix; ``actor`` a username or an account id; ``school`` a school code."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    school: str | None = None
    subject: str | None = None
    cursor: str | None = None
    limit: int = 100


class AuditExport(msgspec.Struct, frozen=True):
    """An export file: its bytes, media type and file name."""

    body: bytes
    media_type: str
    filename: str
    count: int
