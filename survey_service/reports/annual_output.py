"""The annual report made into a file: for the operator's ``runxin report`` and for the
dashboards' download (issue 15). Gathers the figures (:mod:`.annual`), renders them
(:mod:`.annual_render`) and records the read in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from survey_service.db import AsyncSession
from survey_service.errors import NotFound, ServiceError, Unprocessable
from survey_service.reports import annual, annual_render
from survey_service.reports.pdf import ReportFont, ReportFontMissing, find_report_font


class ReportError(Exception):
    """A report the operator asked for cannot be made; the message is one line."""


class ReportUnavailable(ServiceError):
    """The server cannot lay out a PDF now (no Chinese font installed): 503."""

    status, title = 503, "Service unavailable"


def report_font(configured: str | None) -> ReportFont:
    """The font a PDF embeds, or :class:`ReportUnavailable` saying what to install."""
    try:
        return find_report_font(configured)
    except ReportFontMissing as exc:
        raise ReportUnavailable(str(exc), code="report_font_missing") from None


def check_request(year: str | None, fmt: str | None) -> tuple[str | None, str]:
    """A download's ``?year=`` and ``?format=`` checked: 422 naming what is wrong."""
    chosen = fmt or "pdf"
    if chosen not in annual_render.FORMATS:
        raise Unprocessable(
            f"format must be pdf or html (got {chosen!r})",
            code="invalid_format",
            message={"zh-CN": "格式只能是 pdf 或 html。", "en": "The format must be pdf or html."},
        )
    if year:
        try:
            annual.parse_year(year)
        except ValueError as exc:
            raise Unprocessable(
                str(exc),
                code="invalid_school_year",
                message={
                    "zh-CN": "学年请写成相邻的两个年份，例如 2026-2027。",
                    "en": "Write the school year as two consecutive years, e.g. 2026-2027.",
                },
            ) from None
    return year or None, chosen


async def operator_report(
    db: AsyncSession,
    *,
    school: str | None,
    district: str | None,
    year: str | None,
    fmt: str,
    lang: str,
    font_setting: str | None,
    now: datetime,
    progress: Callable[[str], None],
) -> tuple[bytes, str]:
    """The report of school ``school`` or district ``district`` as bytes, and its year label;
    audited as a download by the operator (``actor_role="cli"``).

    Raises
    ------
    ReportError
        Unknown school or district, a bad year label, no font for a PDF.
    """
    try:
        chosen_lang = annual_render.lang_of(lang)
        if year:
            annual.parse_year(year)
        font = find_report_font(font_setting) if fmt == "pdf" else None
        report: annual.SchoolReport | annual.DistrictReport
        if school is not None:
            found = await annual.find_school(db, school)
            progress(f"gathering the annual report of school {found.code}…")
            report = await annual.build_school_report(db, found, year=year, now=now)
            scope, subject = "school", found.id
        elif district is not None:
            area = await annual.find_district(db, district)
            progress(f"gathering the annual report of district {area.code}…")
            report = await annual.build_district_report(db, area, year=year, now=now)
            scope, subject = "district", area.id
        else:
            raise ReportError("name a school (--school CODE) or a district (--district CODE)")
        progress(f"rendering {fmt} for {report.year.label}…")
        body = annual_render.render(report, fmt=fmt, lang=chosen_lang, font=font)
    except NotFound as exc:
        raise ReportError(exc.detail) from None
    except (ValueError, ReportFontMissing) as exc:
        raise ReportError(str(exc)) from None
    annual.record_download(db, None, scope, subject, label=report.year.label, fmt=fmt, now=now)
    return body, report.year.label
