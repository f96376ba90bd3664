"""The annual report from the dashboards (issue 15): ``GET /staff/reports/school`` and
``GET /staff/reports/district`` with ``?year=2026-2027&format=pdf|html&lang=zh-CN|en``.

A school's report (``reports.school``: counsellor, school lead, school admin of that school)
and a district's (``reports.district``: district officer) hold suppressed aggregates only; each
download is audited (``report.download``).
"""

from __future__ import annotations

import functools
from typing import Any

import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency

from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import SECURITY_HEADERS, AnyRequest, request_language
from survey_service.reports import annual, annual_output, annual_render
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Rt = NamedDependency[Runtime]
Sess = NamedDependency[ss.StaffSession]


async def _respond(
    report: annual.SchoolReport | annual.DistrictReport, fmt: str, lang: str, rt: Runtime
) -> Response[bytes]:
    font = annual_output.report_font(rt.settings.report_font) if fmt == "pdf" else None
    body = await anyio.to_thread.run_sync(
        functools.partial(
            annual_render.render, report, fmt=fmt, lang=annual_render.lang_of(lang), font=font
        )
    )
    name = annual_render.filename_of(report, fmt)
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    disposition = "attachment" if fmt == "pdf" else "inline"
    return Response(
        content=body,
        media_type=media,
        headers={**SECURITY_HEADERS, "Content-Disposition": f'{disposition}; filename="{name}"'},
    )


@get("/reports/school", opt={"permission": "reports.school"})
async def school_report(request: AnyRequest, sess: Sess, db: Db, clock: Now, rt: Rt) -> Any:
    """The caller's school's annual report (default: this school year, PDF)."""
    user = ss.require(sess, "reports.school")
    year, fmt = annual_output.check_request(
        request.query_params.get("year"), request.query_params.get("format")
    )
    report = await annual.school_report(db, user, year=year, fmt=fmt, now=clock.now())
    return await _respond(report, fmt, request_language(request), rt)


@get("/reports/district", opt={"permission": "reports.district"})
async def district_report(request: AnyRequest, sess: Sess, db: Db, clock: Now, rt: Rt) -> Any:
    """The caller's district's annual report: every school's row, no class, no student."""
    user = ss.require(sess, "reports.district")
    year, fmt = annual_output.check_request(
        request.query_params.get("year"), request.query_params.get("format")
    )
    report = await annual.district_report(db, user, year=year, fmt=fmt, now=clock.now())
    return await _respond(report, fmt, request_language(request), rt)


ROUTES: list[Any] = [school_report, district_report]
