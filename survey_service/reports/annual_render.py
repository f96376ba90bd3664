"""The annual report as HTML and PDF, in Chinese or English (issue 15).

One Jinja template (``templates/report_annual.html``) draws both the HTML page and the PDF from
the figures of :mod:`survey_service.reports.annual`; charts are inline SVG drawn here with
``pages._charts``; the PDF goes through :func:`survey_service.reports.pdf.render_pdf` with the
CJK font embedded. Rendering only: no database, no clock (the report carries its time).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from survey_service.pages import _charts
from survey_service.reports.annual import (
    CASE_TIERS,
    MEASURES,
    MIN_CELL,
    TIERS,
    DistrictReport,
    Funnel,
    SchoolReport,
)
from survey_service.reports.pdf import REPORT_FONT_FAMILY, ReportFont, render_pdf

Lang = Literal["zh-CN", "en"]
FORMATS = ("pdf", "html")
#: The mark of a suppressed cell (explained in the report's notes): never a number.
HIDDEN = "*"

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_T: dict[str, tuple[str, str]] = {
    "title_school": ("学生心理健康筛查年度报告", "Annual mental-health screening report"),
    "title_district": (
        "区域学生心理健康筛查年度报告",
        "District annual mental-health screening report",
    ),
    "school": ("学校", "School"),
    "district": ("区域", "District"),
    "school_year": ("学年", "School year"),
    "period": ("统计期间", "Period"),
    "generated": ("生成时间", "Generated"),
    "campaigns": ("筛查活动", "Screening campaigns"),
    "none": ("无", "none"),
    "s_coverage": ("一、筛查覆盖", "1. Screening coverage"),
    "s_coverage_grade": ("按年级", "By grade"),
    "s_coverage_class": ("按班级", "By class"),
    "s_coverage_school": ("按学校", "By school"),
    "s_tiers": ("二、风险分级人数", "2. Screenings by tier"),
    "s_timeliness": ("三、处置及时性", "3. Timeliness against the deadlines"),
    "s_duties": ("四、关爱工作完成情况", "4. Care duties done"),
    "s_incidents": ("五、极端事件复盘", "5. Incident reviews"),
    "s_staffing": ("六、队伍与机制配备", "6. Staffing checks"),
    "s_schools": ("七、各校情况", "7. Schools"),
    "s_notes": ("说明", "Notes"),
    "invited": ("应筛查", "Invited"),
    "consented": ("可参加（已同意）", "Consented"),
    "started": ("已开始", "Started"),
    "submitted": ("已完成", "Submitted"),
    "refused": ("拒绝或撤回同意", "Refused or withdrawn"),
    "coverage": ("完成率", "Coverage"),
    "this_year": ("本学年", "This year"),
    "previous_year": ("上学年", "Previous year"),
    "grade": ("年级", "Grade"),
    "grade_n": ("{}年级", "Grade {}"),
    "class": ("班级", "Class"),
    "tier": ("等级", "Tier"),
    "tier.red": ("一级（红）", "Red"),
    "tier.orange": ("二级（橙）", "Orange"),
    "tier.yellow": ("三级（黄）", "Yellow"),
    "tier.green": ("未见风险（绿）", "Green"),
    "total": ("合计", "Total"),
    "cases": ("个案数", "Cases"),
    "measure": ("环节", "Step"),
    "measure.acknowledge": ("确认接案", "Acknowledge"),
    "measure.assess": ("完成评估", "Assess"),
    "measure.guardian_contact": ("联系监护人", "Contact guardians"),
    "due": ("已到期", "Due"),
    "within": ("按时", "On time"),
    "late": ("超时", "Late"),
    "share_within": ("按时率", "Within deadline"),
    "median": ("中位用时（小时）", "Median (hours)"),
    "p90": ("90% 分位用时（小时）", "90th percentile (hours)"),
    "not_shown": ("个案不足 {} 例或个案数未公布", "fewer than {} cases, or not published"),
    "note_not_shown": (
        "处置及时性：个案不足 {} 例或个案数未公布的等级，不公布用时与按时率。",
        "Timeliness: a tier with fewer than {} cases, or whose case count is not published, "
        "shows no times and no shares.",
    ),
    "duty": ("工作", "Duty"),
    "duty.home_visit": ("家访", "Home visits"),
    "duty.talk": ("一对一谈心谈话", "One-to-one talks"),
    "duty.plan_review": ("一生一策方案复核", "Plan reviews"),
    "tasks_due": ("应完成", "Due"),
    "done": ("已完成", "Done"),
    "on_time": ("按时完成", "On time"),
    "overdue": ("逾期未完成", "Overdue"),
    "records": ("记录数", "Records"),
    "plans_written": ("方案新建或修订 {} 份", "{} plan versions written"),
    "referrals": ("转介就医", "Referrals to hospital"),
    "ref.total": ("转介", "Referred"),
    "ref.sent": ("已发出待接收", "Sent, not yet accepted"),
    "ref.accepted": ("医院已接收", "Accepted"),
    "ref.seen": ("已就诊", "Seen"),
    "ref.feedback": ("已收到医院反馈", "Feedback received"),
    "inc.recorded": ("登记事件", "Incidents recorded"),
    "inc.on_time": ("14 天内提交复盘", "Review filed within 14 days"),
    "inc.late": ("逾期提交", "Filed late"),
    "inc.overdue": ("逾期未提交", "Overdue, not filed"),
    "inc.pending": ("未到期", "Not yet due"),
    "enrolment": ("在籍学生", "Students enrolled"),
    "counsellors": ("心理健康教师（专职 / 兼职）", "Mental-health teachers (full / part time)"),
    "counsellors_required": (
        "按师生比 1:500 应配",
        "Required at 1:500",
    ),
    "ratio": ("师生比", "Students per teacher"),
    "committee": ("学生心理委员", "Psychology committee members"),
    "committee_classes": (
        "四年级起达标班级（每班 ≥2 名，男女生各 ≥1 名）",
        "Classes from grade 4 meeting the rule (≥ 2 members, ≥ 1 boy and ≥ 1 girl)",
    ),
    "per_class": ("每班平均", "per class"),
    "room": ("心理辅导室", "Counselling room"),
    "yes": ("有", "yes"),
    "no": ("无", "no"),
    "met": ("达标", "met"),
    "not_met": ("未达标", "not met"),
    "not_recorded": ("系统未记录", "not recorded"),
    "nr.room_hours": ("心理辅导室每周开放时长", "Counselling room opening hours a week"),
    "nr.training": ("教师与心理委员培训", "Training of teachers and committee members"),
    "nr.parent_lessons": ("家长学校课时", "Parent-school lessons"),
    "ack_all": ("确认接案按时率（全部等级）", "Acknowledged on time (all tiers)"),
    "duties_on_time": ("关爱工作按时完成", "Care duties on time"),
    "chart_funnel": ("筛查漏斗", "Screening funnel"),
    "chart_grades": ("各年级完成率", "Coverage by grade"),
    "chart_schools": ("各校完成率", "Coverage by school"),
    "chart_years": ("完成率：本学年与上学年", "Coverage: this year and the previous year"),
    "note_hidden": (
        "“{h}”表示为保护学生隐私而不公布的数字：1 至 {k1} 人的格子，"
        "以及可能据以推算出这些格子的格子。",
        "“{h}” marks a number not published to protect students: a count of 1 to {k1}, or a "
        "count from which such a count could be worked out.",
    ),
    "note_year": (
        "学年自 8 月 1 日起至次年 7 月 31 日；筛查数字为该学年各次筛查活动之和；"
        "“应筛查”按今日名册计。",
        "A school year runs from 1 August to 31 July; screening figures add up the year's "
        "campaigns; “invited” counts today's roster.",
    ),
    "note_time": (
        "用时自筛查（或观察报告）确定该个案当前等级之时起计；按时率的分母为已完成或已过期限的环节；"
        "期限依据所用分级政策（默认：红色 15 分钟内确认、当日评估并联系监护人）。",
        "Times run from the screening (or observation) that set the case's current tier; the "
        "share within deadline counts steps done or past their deadline; deadlines are the "
        "triage policy's (default: red acknowledged within 15 minutes, assessed and guardians "
        "contacted the same day).",
    ),
    "note_staff": (
        "队伍配备为今日在系统中登记的情况；依据《江苏省中小学心理健康教育和生命健康关爱工作重点清单》"
        "（苏教办函〔2023〕10号）第 10、12 条。",
        "Staffing is as recorded today; rules from the Jiangsu checklist (Su Jiao Ban Han "
        "[2023] No. 10), items 10 and 12.",
    ),
    "note_no_names": (
        "本报告不含任何学生姓名，也不对学生作任何排序。",
        "This report names no student and ranks no student.",
    ),
    "sign_school": ("校长签字", "Principal's signature"),
    "sign_district": ("负责人签字", "Head of office's signature"),
    "seal": ("（盖章）", "(seal)"),
    "date": ("日期", "Date"),
    "colon": ("：", ": "),
    "lp": ("（", " ("),
    "rp": ("）", ")"),
    "list_sep": ("、", ", "),
}


def lang_of(value: str) -> Lang:
    """``zh``/``zh-CN`` → ``zh-CN``; ``en`` → ``en``.

    Raises
    ------
    ValueError
        Any other language.
    """
    if value in ("zh", "zh-CN", "zh-cn"):
        return "zh-CN"
    if value == "en":
        return "en"
    raise ValueError(f"language must be zh or en (got {value!r})")


def texts(lang: Lang) -> dict[str, str]:
    i = 0 if lang == "zh-CN" else 1
    return {k: v[i] for k, v in _T.items()}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _cell(value: int | None) -> str:
    return HIDDEN if value is None else str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _with_font(svg: Markup) -> Markup:
    """A chart that names the report font (WeasyPrint draws SVG text with the SVG's own font
    attributes, so Chinese labels need it said)."""
    return Markup(  # noqa: S704 - our own chart markup, escaped where it was drawn
        str(svg).replace(
            'font-size="14"',
            f'font-size="14" font-family="{REPORT_FONT_FAMILY}, sans-serif"',
            1,
        )
    )


def _funnel_chart(t: dict[str, str], chart_id: str, f: Funnel) -> Markup:
    steps = [
        (t["invited"], f.invited),
        (t["consented"], f.consented),
        (t["started"], f.started),
        (t["submitted"], f.submitted),
    ]
    return _with_font(
        _charts.funnel(chart_id, t["chart_funnel"], ", ".join(f"{n} {v}" for n, v in steps), steps)
    )


def _bars(t: dict[str, str], chart_id: str, title: str, rows: list[tuple[str, Funnel]]) -> Markup:
    return _with_font(
        _charts.bars(
            chart_id,
            title,
            "; ".join(f"{n} {f.submitted}/{f.invited}" for n, f in rows),
            [(n, f.submitted, f.invited) for n, f in rows],
        )
    )


def _local(value: datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _common(lang: Lang, t: dict[str, str], *, font_css: str) -> dict[str, Any]:
    return {
        "lang": lang,
        "t": t,
        "font_css": Markup(font_css),  # noqa: S704 - ReportFont.css(): a path we resolved
        "font_family": REPORT_FONT_FAMILY,
        "tiers": TIERS,
        "case_tiers": CASE_TIERS,
        "measures": tuple(MEASURES),
        "cell": _cell,
        "pct": _pct,
        "num": _num,
        "hidden_note": t["note_hidden"].format(h=HIDDEN, k1=MIN_CELL - 1),
        "not_shown": t["not_shown"].format(MIN_CELL),
        "note_not_shown": t["note_not_shown"].format(MIN_CELL),
        "page_zh": lang == "zh-CN",
        "HIDDEN_MARK": HIDDEN,
    }


def school_html(report: SchoolReport, lang: Lang, *, font_css: str = "") -> str:
    """The school's report as one self-contained HTML document (styles and charts inline)."""
    t = texts(lang)
    y, p = report.year, report.previous
    grade_rows = [(t["grade_n"].format(g.grade), g.funnel) for g in y.grades]
    return (
        _environment()
        .get_template("report_annual.html")
        .render(
            kind="school",
            report=report,
            title=t["title_school"],
            heading=report.school_name,
            sub=report.district_name,
            generated=_local(report.generated_at, report.timezone),
            funnel_chart=_funnel_chart(t, "annual-funnel", y.funnel),
            years_chart=_bars(
                t, "annual-years", t["chart_years"], [(p.label, p.funnel), (y.label, y.funnel)]
            ),
            grades_chart=_bars(t, "annual-grades", t["chart_grades"], grade_rows)
            if grade_rows
            else None,
            sign=t["sign_school"],
            **_common(lang, t, font_css=font_css),
        )
    )


def district_html(report: DistrictReport, lang: Lang, *, font_css: str = "") -> str:
    """The district's report as one self-contained HTML document."""
    t = texts(lang)
    y, p = report.year, report.previous
    school_rows = [(s.school_code, s.funnel) for s in report.schools]
    return (
        _environment()
        .get_template("report_annual.html")
        .render(
            kind="district",
            report=report,
            title=t["title_district"],
            heading=report.district_name,
            sub=report.district_code,
            generated=_local(report.generated_at, report.timezone),
            funnel_chart=_funnel_chart(t, "annual-funnel", y.funnel),
            years_chart=_bars(
                t, "annual-years", t["chart_years"], [(p.label, p.funnel), (y.label, y.funnel)]
            ),
            grades_chart=_bars(t, "annual-schools", t["chart_schools"], school_rows)
            if school_rows
            else None,
            sign=t["sign_district"],
            **_common(lang, t, font_css=font_css),
        )
    )


def render(
    report: SchoolReport | DistrictReport,
    *,
    fmt: str,
    lang: Lang,
    font: ReportFont | None,
) -> bytes:
    """The report as ``fmt`` (``pdf``: ``font`` required, embedded; ``html``: UTF-8 bytes).

    Blocking (WeasyPrint lays the PDF out): call it in a worker thread from a request handler.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be pdf or html (got {fmt!r})")
    if fmt == "pdf" and font is None:
        raise ValueError("a PDF needs the report font")
    css = font.css() if fmt == "pdf" and font is not None else ""
    if isinstance(report, SchoolReport):
        html = school_html(report, lang, font_css=css)
    else:
        html = district_html(report, lang, font_css=css)
    if fmt == "html" or font is None:
        return html.encode("utf-8")
    return render_pdf(html, font, title=title_of(report, lang))


def title_of(report: SchoolReport | DistrictReport, lang: Lang) -> str:
    t = texts(lang)
    if isinstance(report, SchoolReport):
        return f"{report.school_name} {report.year.label} {t['title_school']}"
    return f"{report.district_name} {report.year.label} {t['title_district']}"


def filename_of(report: SchoolReport | DistrictReport, fmt: str) -> str:
    """An ASCII file name: ``annual-report-SCHOOL-2026-2027.pdf``."""
    code = report.school_code if isinstance(report, SchoolReport) else report.district_code
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in code)
    return f"annual-report-{safe}-{report.year.label}.{fmt}"
