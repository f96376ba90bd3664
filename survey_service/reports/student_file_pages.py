"""The student's file as PDF (issue 15): ``GET /staff/students/{id}/file.pdf?purpose=...``.

A counsellor or school lead (``files.print``) asks for it from the file page's form, choosing
the purpose (recorded in the audit log) and the language (``?lang=``).
"""

from __future__ import annotations

import functools
import uuid

import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import SECURITY_HEADERS, AnyRequest, request_language
from survey_service.reports import student_file
from survey_service.services.runtime import Runtime


@get("/students/{student_id:uuid}/file.pdf", opt={"permission": "files.print"})
async def file_pdf(
    request: AnyRequest,
    student_id: FromPath[uuid.UUID],
    sess: NamedDependency[ss.StaffSession],
    db: NamedDependency[AsyncSession],
    rt: NamedDependency[Runtime],
    clock: NamedDependency[Clock],
) -> Response[bytes]:
    """The file laid out for print, "机密 Confidential" on every page; audited with its
    purpose. A missing or unknown ``purpose`` is a 400 naming it."""
    user = ss.require(sess, "files.print")
    lang = request_language(request)
    font = student_file.report_font(rt.settings.report_font)
    printed = await student_file.printable_file(
        db,
        user,
        student_id,
        purpose=request.query_params.get("purpose"),
        lang=lang,
        now=clock.now(),
    )
    pdf = await anyio.to_thread.run_sync(
        functools.partial(student_file.render_file_pdf, printed, lang, font)
    )
    name = f"student-file-{printed.printed_at:%Y%m%d}.pdf"
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            **SECURITY_HEADERS,
            # No name in the file name: it shows in download lists and browser histories.
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


ROUTES = [file_pdf]
