"""School and district dashboards: coverage, tier counts (small cells suppressed), overdue
tasks, staffing checks; for the district also escalations and incident reviews. Charts are
inline SVG with the same numbers in tables. Exports: CSV and XLSX of coverage and task lists.
Nothing here lists or orders students by score.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from survey_service.accounts.access import scope_of
from survey_service.campaigns import coverage, reads
from survey_service.cases import incidents
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import NotFound
from survey_service.pages import _charts, _exports
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, local_time, request_language
from survey_service.pages.i18n import TEXT, label
from survey_service.services import audit

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]

TIER_KEYS = ("red", "orange", "yellow", "green")


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def _funnel(t: dict[str, str], chart_id: str, counts: Any) -> Any:
    return _charts.funnel(
        chart_id,
        t["funnel"],
        f"{t['invited']} {counts.invited}, {t['consented']} {counts.consented}, "
        f"{t['started']} {counts.started}, {t['submitted_n']} {counts.submitted}",
        [
            (t["invited"], counts.invited),
            (t["consented"], counts.consented),
            (t["started"], counts.started),
            (t["submitted_n"], counts.submitted),
        ],
    )


@get("/school", opt={"permission": "dashboards.school"})
async def school_page(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    user = ss.require(sess, "dashboards.school")
    t = TEXT[request_language(request)]
    now = clock.now()
    choices = await reads.campaign_choices(db, user)
    chosen = _campaign_param(request.query_params.get("campaign"))
    report = await coverage.coverage(db, user, campaign_id=chosen, now=now)
    school = report.schools[0] if report.schools else None
    work = (await reads.school_work(db, user, now=now)).get(school.school_id) if school else None
    overdue = await reads.open_tasks(db, user, now=now, overdue_only=True)
    classes = report.classes
    bars = _charts.bars(
        "coverage-classes",
        t["coverage_by_class"],
        "; ".join(f"{c.class_name} {c.submitted}/{c.invited}" for c in classes),
        [(c.class_name, c.submitted, c.invited) for c in classes],
    )
    return ss.page(
        request,
        "staff_school.html",
        sess,
        report=report,
        school=school,
        classes=classes,
        work=work,
        overdue=overdue,
        bars=bars if classes else None,
        funnel=_funnel(t, "funnel-school", school) if school and school.campaign_id else None,
        choices=choices,
        tier_keys=TIER_KEYS,
        pct=_pct,
        label=label,
        local_time=local_time,
    )


def _campaign_param(value: str | None) -> uuid.UUID | None:
    """The ``?campaign=`` of a dashboard: none for the latest; not an id answers 404."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("No such campaign", code="campaign_not_found") from None


class _Totals:
    def __init__(self, schools: list[coverage.SchoolCoverage]) -> None:
        self.invited = sum(s.invited for s in schools)
        self.consented = sum(s.consented for s in schools)
        self.started = sum(s.started for s in schools)
        self.submitted = sum(s.submitted for s in schools)
        self.refused = sum(s.refused for s in schools)


@get("/district", opt={"permission": "dashboards.district"})
async def district_page(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    """Coverage per school of each school's latest campaign, or of the campaign chosen with
    ``?campaign=`` (issue 13: a district's screening is one campaign per school, so the choice
    is every school's campaign of that name and school year); escalations, incident reviews
    and staffing. No student, no class: the district's aggregate view."""
    user = ss.require(sess, "dashboards.district")
    lang = request_language(request)
    t = TEXT[lang]
    now = clock.now()
    chosen = _campaign_param(request.query_params.get("campaign"))
    district = await reads.district_coverage(db, user, campaign_id=chosen, now=now)
    report = district.report
    work = await reads.school_work(db, user, now=now)
    escalated = await reads.escalations(db, user, now=now)
    reviews = await incidents.list_incidents(db, user, now=now)
    names = {s.school_id: s.school_name for s in report.schools}
    bars = _charts.bars(
        "coverage-schools",
        t["coverage_by_school"],
        "; ".join(f"{s.school_name} {s.submitted}/{s.invited}" for s in report.schools),
        [(s.school_code, s.submitted, s.invited) for s in report.schools],
    )
    return ss.page(
        request,
        "staff_district.html",
        sess,
        report=report,
        groups=district.groups,
        chosen=district.chosen,
        school_count=district.school_count,
        work=work,
        escalated=escalated,
        reviews=reviews,
        school_names=names,
        bars=bars if report.schools else None,
        funnel=_funnel(t, "funnel-district", _Totals(report.schools)),
        tier_keys=TIER_KEYS,
        now=now,
        pct=_pct,
        label=label,
        local_time=local_time,
    )


EXPORTS = {"coverage.csv", "coverage.xlsx", "tasks.csv", "tasks.xlsx"}


@get("/exports/{name:str}", opt={"permission": "dashboards.export"})
async def export(
    request: AnyRequest, name: FromPath[str], sess: Sess, db: Db, clock: Now
) -> Response[bytes]:
    """Coverage per class (school) or per school (district), or the open-task list by due
    time; CSV or XLSX. Student names appear only in a school's own task list."""
    user = ss.require(sess, "dashboards.export")
    if name not in EXPORTS:
        raise NotFound("No such export", code="export_not_found")
    what, fmt = name.split(".")
    lang = request_language(request)
    t = TEXT[lang]
    now = clock.now()
    district = scope_of(user) == "district"
    if what == "coverage":
        report = await coverage.coverage(db, user, campaign_id=None, now=now)
        counts = [t["invited"], t["consented"], t["refused"], t["started"], t["submitted_n"]]
        if district:
            header = [t["school"], t["campaign"], *counts, t["rate"]]
            rows: list[list[Any]] = [
                [
                    s.school_name,
                    s.campaign_name or "",
                    s.invited,
                    s.consented,
                    s.refused,
                    s.started,
                    s.submitted,
                    s.coverage,
                ]
                for s in report.schools
            ]
        else:
            header = [t["grade_class"], t["col_class"], *counts, t["rate"]]
            rows = [
                [
                    c.grade,
                    c.class_name,
                    c.invited,
                    c.consented,
                    c.refused,
                    c.started,
                    c.submitted,
                    c.coverage,
                ]
                for c in report.classes
            ]
        _audit_download(
            user,
            what,
            fmt,
            "school" if district else "class",
            [s.school_id for s in report.schools]
            if district
            else [c.class_id for c in report.classes],
            len(rows),
            now,
            db,
        )
        return _exports.download("coverage", fmt, t["coverage"], header, rows)
    tasks = await reads.open_tasks(db, user, now=now)
    header = [t["col_school"], t["grade_class"]]
    if not district:  # the district's rows name no student and no class (issue 19)
        header += [t["col_class"], t["col_student"]]
    header += [t["task"], t["assignee"], t["due"], t["overdue"]]
    rows = []
    for r in tasks:
        row: list[Any] = [r.school_name, r.grade]
        if not district:
            row += [r.class_name, r.student_name]
        row += [
            label("task", r.kind, lang),
            label("role", r.assignee_role, lang),
            local_time(r.due_at),
            t["yes"] if r.overdue else t["no"],
        ]
        rows.append(row)
    _audit_download(user, what, fmt, "case", sorted({r.case_id for r in tasks}), len(rows), now, db)
    return _exports.download("tasks", fmt, t["tasks"], header, rows)


def _audit_download(
    user: Any,
    what: str,
    fmt: str,
    subject_type: str,
    subject_ids: list[Any],
    count: int,
    now: Any,
    db: AsyncSession,
) -> None:
    """A download is audited as itself (``export.download``), apart from viewing the list."""
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="export.download",
        subject_type=subject_type,
        subject_ids=subject_ids,
        school_id=user.school_id,
        now=now,
        detail={"export": what, "format": fmt, "count": count},
    )


ROUTES: list[Any] = [school_page, district_page, export]
