"""Printable reports (issue 15): HTML from the screens' templates, laid out as PDF."""

from survey_service.reports.pdf import (
    REPORT_FONT_FAMILY,
    ReportFont,
    ReportFontMissing,
    find_report_font,
    render_pdf,
)

__all__ = [
    "REPORT_FONT_FAMILY",
    "ReportFont",
    "ReportFontMissing",
    "find_report_font",
    "render_pdf",
]
