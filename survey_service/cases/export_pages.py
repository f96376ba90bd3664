"""The printable page of everything held about one student (issue 19, data rights)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from survey_service.cases import export
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest
from survey_service.pages.i18n import label


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@get("/students/{student_id:uuid}/export", opt={"permission": "students.export"})
async def export_page(
    request: AnyRequest,
    student_id: FromPath[uuid.UUID],
    sess: NamedDependency[ss.StaffSession],
    db: NamedDependency[AsyncSession],
    clock: NamedDependency[Clock],
) -> Template:
    """Every table held about the student, one section each (printable)."""
    data = await export.student_export(db, sess.user, student_id, now=clock.now())
    sections = [
        (name, list(rows[0].keys()) if rows else [], [[_cell(r[k]) for k in r] for r in rows])
        for name, rows in data.tables.items()
    ]
    return ss.page(
        request,
        "staff_export.html",
        sess,
        export=data,
        student_rows=[(k, _cell(v)) for k, v in data.student.items()],
        sections=sections,
        label=label,
    )


ROUTES = [export_page]
