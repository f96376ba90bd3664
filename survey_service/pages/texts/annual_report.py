"""Page text: the annual report links on the school and district dashboards (issue 15).
Merged into ``survey_service.pages.i18n``."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "annual_title": "年度筛查报告",
        "annual_intro": "本学年的覆盖、分级人数（小格隐藏）、处置及时性、关爱工作与队伍配备，"
        "附上学年对比和校长签字栏；不含学生姓名。下载会记入审计日志。",
        "annual_intro_district": "各校的覆盖、分级人数（小格隐藏）、处置及时性与队伍配备，"
        "附上学年对比；不含班级和学生。下载会记入审计日志。",
        "annual_pdf": "下载 PDF（可打印签字）",
        "annual_html": "网页版",
        "annual_year": "学年（留空为本学年，如 2025-2026）",
        "annual_format": "格式",
        "annual_get": "生成报告",
    },
    "en": {
        "annual_title": "Annual screening report",
        "annual_intro": "This school year's coverage, tier counts (small cells hidden), "
        "timeliness, care duties and staffing, beside the previous year, with a line for the "
        "principal's signature; no student's name. Downloads are recorded in the audit log.",
        "annual_intro_district": "Every school's coverage, tier counts (small cells hidden), "
        "timeliness and staffing, beside the previous year; no class, no student. Downloads "
        "are recorded in the audit log.",
        "annual_pdf": "Download PDF (to print and sign)",
        "annual_html": "Web page",
        "annual_year": "School year (empty: this year, e.g. 2025-2026)",
        "annual_format": "Format",
        "annual_get": "Make the report",
    },
}
LABELS: dict[str, dict[str, tuple[str, str]]] = {}
