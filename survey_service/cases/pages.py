"""Case pages: the case and the student's file with actions, and the
crisis plan (一生一策).

Thin handlers: each reads through the audited service functions (``cases``, ``student_file``,
``plans``) or the read-only ``reads``, and each form post calls one service function and
redirects back (post, redirect, get). What a role sees follows ``triage.can_see``.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

import triage
from survey_service.accounts import permissions
from survey_service.accounts import views as field_views
from survey_service.cases import (
    break_glass,
    care_group,
    incidents,
    plans,
    reads,
    referrals,
    student_file,
)
from survey_service.cases import service as cases
from survey_service.cases import workflow as case_workflow
from survey_service.cases.schemas import CaseDetail, PlanOut
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import BadRequest, Conflict, NotFound, Unprocessable
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import (
    AnyRequest,
    lines,
    local_date,
    local_time,
    parse_local,
    redirect,
    request_language,
    safe_next,
    school_year_of,
    time_left,
)
from survey_service.pages.i18n import label
from survey_service.reports import student_file as file_print
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Rt = NamedDependency[Runtime]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

SOON_DAYS = 14  # tasks due later than this are folded away on the case page


def _see(role: str, part: str) -> bool:
    try:
        return triage.can_see(role, part)  # type: ignore[arg-type]
    except triage.CareGroupError:
        return False


# --- the case and the student's file -------------------------------------------------------


def _timeline(entries: list[student_file.FileEntry], now: datetime) -> list[tuple[str, list[Any]]]:
    """What happened, newest first, grouped by school year (open tasks not yet due are listed
    with the tasks, not here)."""
    years: dict[str, list[Any]] = {}
    for entry in sorted(entries, key=lambda e: e.at, reverse=True):
        if entry.kind == "task" and entry.summary.get("status") == "open" and entry.at > now:
            continue
        years.setdefault(school_year_of(entry.at), []).append(entry)
    return list(years.items())


async def _plan(
    db: AsyncSession, sess: ss.StaffSession, student_id: uuid.UUID, now: datetime
) -> PlanOut | None:
    if not _see(sess.user.role, "plan") or not permissions.allowed(sess.user.role, "plans.read"):
        return None
    try:
        return await plans.current_plan(db, sess.user, student_id, now=now)
    except NotFound:
        return None


@get("/cases/{case_id:uuid}", opt={"permission": "cases.read"})
async def case_page(
    request: AnyRequest, case_id: FromPath[uuid.UUID], sess: Sess, db: Db, rt: Rt, clock: Now
) -> Template:
    """The case: deadlines, reasons (counsellors), actions, tasks, history, care group, plan,
    referrals, incidents, and the student's whole file below. Read without identities (the
    district's view), the de-identified case: deadlines, tasks, who was notified, whom to call,
    the transfer and the break-glass forms."""
    ss.require(sess, "cases.read")
    return await render_case(request, sess, db, rt, clock.now(), case_id)


async def render_case(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    rt: Runtime,
    now: datetime,
    case_id: uuid.UUID,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    """The case page; the care forms (``care_pages``) render it again with ``errors`` (form
    name -> localized message) and the values as ``typed`` when the service refused them."""
    user = sess.user
    lang = request_language(request)
    detail = await cases.case_detail(db, user, case_id, now=now)
    forms: dict[str, Any] = {
        "errors": errors or {},
        "typed": typed or {},
        "transfer": (
            await care_group.transfer_options(db, user, case_id)
            if permissions.allowed(user.role, "students.transfer")
            else None
        ),
    }
    if detail.case.student is None:
        return _deidentified_case_page(request, sess, detail, rt, now, lang, status, forms)
    lens = field_views.lens_seen(user, detail.case.view, detail.case.break_glass_until)
    file = await student_file.student_file(db, user, detail.case.student.student_id, now=now)
    group = await care_group.group_page(db, user, case_id, now=now)
    incident_rows = (
        await incidents.student_incidents(db, user, file.student_id, now=now)
        if permissions.allowed(user.role, "incidents.read")
        else []
    )
    case = detail.case
    allowed = [
        a
        for a in triage.allowed_actions(case.status)  # type: ignore[arg-type]
        if user.role in triage.ACTION_ROLES.get(a, frozenset())
    ]
    ack_left, ack_overdue = time_left(case.acknowledge_by, now, lang)
    soon = now + timedelta(days=SOON_DAYS)
    # Open tasks by due time first, then the finished ones, the most recently finished first.
    shown = [t for t in detail.tasks if t.status != "open" or t.due_at <= soon]
    shown.sort(
        key=lambda t: (
            t.status != "open",
            t.due_at.timestamp()
            if t.status == "open"
            else -(t.completed_at or t.due_at).timestamp(),
        )
    )
    tasks = [{"task": t, "left": time_left(t.due_at, now, lang)} for t in shown]
    later = [
        {"task": t, "left": time_left(t.due_at, now, lang)}
        for t in detail.tasks
        if t.status == "open" and t.due_at > soon
    ]
    return ss.page(
        request,
        "staff_case.html",
        sess,
        status=status,
        detail=detail,
        case=case,
        file=file,
        timeline=_timeline(file.entries, now),
        group=group,
        incidents=[
            {"incident": i, "left": time_left(i.review_due_at, now, lang)} for i in incident_rows
        ],
        incident_kinds=incidents.INCIDENT_KINDS,
        report_min=triage.MIN_REVIEW_REPORT_CHARS,
        count_report=triage.count_report_characters,
        now_local=local_time(now).replace(" ", "T"),
        plan=await _plan(db, sess, file.student_id, now),
        referrals=await reads.case_referrals(db, case_id),
        state_actions=[a for a in allowed if a not in {"acknowledge", "close", "refer"}],
        can_close="close" in allowed,
        can_refer="refer" in allowed or permissions.allowed(user.role, "referrals.create"),
        can_ack=case.status == "open" and permissions.allowed(user.role, "cases.acknowledge"),
        can_act=permissions.allowed(user.role, "cases.act"),
        can_tier=case.status != "closed" and permissions.allowed(user.role, "cases.tier"),
        tier_choices=[t for t in ("red", "orange", "yellow") if t != case.tier],
        ack_left=ack_left,
        ack_overdue=ack_overdue,
        tasks=tasks,
        later=later,
        see_reasons=lens.sees("reasons"),
        see_scores=lens.sees("scores"),
        see_notes=lens.sees("talk_notes"),
        break_glass_until=case.break_glass_until,
        record_kinds=sorted(case_workflow.RECORD_KINDS),
        stages=triage.REFERRAL_STAGES,
        label=label,
        local_time=local_time,
        local_date=local_date,
        **forms,
    )


def _deidentified_case_page(
    request: AnyRequest,
    sess: ss.StaffSession,
    detail: CaseDetail,
    rt: Runtime,
    now: datetime,
    lang: str,
    status: int,
    forms: dict[str, Any],
) -> Template:
    """The case as the district sees it: no name, number, class, answers, scores, reasons or
    notes; its deadlines, tasks, who was notified and whom to call, the transfer to another
    school (by the case, no identity needed) and the break-glass form."""
    case = detail.case
    ack_left, ack_overdue = time_left(case.acknowledge_by, now, lang)
    return ss.page(
        request,
        "staff_case_district.html",
        sess,
        status=status,
        detail=detail,
        case=case,
        tasks=[{"task": t, "left": time_left(t.due_at, now, lang)} for t in detail.tasks],
        can_ack=case.status == "open"
        and permissions.allowed(permissions.role_of(sess.user), "cases.acknowledge"),
        can_break_glass=permissions.allowed(permissions.role_of(sess.user), "cases.break_glass"),
        break_glass_minutes=rt.settings.break_glass_minutes,
        break_glass_error=request.query_params.get("error") == "reason_required",
        ack_left=ack_left,
        ack_overdue=ack_overdue,
        label=label,
        local_time=local_time,
        **forms,
    )


@post(
    "/cases/{case_id:uuid}/break-glass",
    status_code=303,
    opt={"permission": "cases.break_glass"},
)
async def case_break_glass(
    case_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, rt: Rt, clock: Now
) -> Redirect:
    """Open the case under break-glass (district officer); a missing or short reason comes
    back to the case with the message, and nothing is written."""
    try:
        await break_glass.open_grant(
            db,
            sess.user,
            case_id,
            reason=data.get("reason", ""),
            minutes=rt.settings.break_glass_minutes,
            base_url=rt.settings.base_url,
            now=clock.now(),
        )
    except BadRequest:
        return redirect(f"/staff/cases/{case_id}?error=reason_required#break-glass")
    return redirect(f"/staff/cases/{case_id}")


@get("/students/{student_id:uuid}", opt={"permission": "files.read"})
async def file_page(
    request: AnyRequest, student_id: FromPath[uuid.UUID], sess: Sess, db: Db, clock: Now
) -> Template:
    """The student's file (一人一档) across years; what shows depends on the role."""
    user = ss.require(sess, "files.read")
    now = clock.now()
    file = await student_file.student_file(db, user, student_id, now=now)
    lens = field_views.lens_seen(user, file.view, file.break_glass_until)
    open_cases = [
        e.summary for e in file.entries if e.kind == "case" and e.summary.get("status") != "closed"
    ]
    upcoming = sorted(
        (e for e in file.entries if e.kind == "task" and e.summary.get("status") == "open"),
        key=lambda e: e.at,
    )
    return ss.page(
        request,
        "staff_file.html",
        sess,
        file=file,
        timeline=_timeline(file.entries, now),
        open_cases=open_cases,
        upcoming=upcoming,
        now=now,
        plan=await _plan(db, sess, student_id, now),
        can_edit_plan=permissions.allowed(user.role, "plans.write"),
        can_open_cases=permissions.allowed(user.role, "cases.read"),
        # issue 15: the form that prints the file as PDF (the roles that may)
        print_purposes=file_print.PURPOSES
        if lens.identity and permissions.allowed(user.role, file_print.OPERATION)
        else (),
        see_reasons=lens.sees("reasons"),
        see_scores=lens.sees("scores"),
        see_notes=lens.sees("talk_notes"),
        identity=lens.identity,
        break_glass_until=file.break_glass_until,
        label=label,
        local_time=local_time,
        local_date=local_date,
    )


def _back_to_case(case_id: uuid.UUID, anchor: str = "") -> Redirect:
    return redirect(f"/staff/cases/{case_id}?done=done_ok{anchor}")


@post("/cases/{case_id:uuid}/acknowledge", status_code=303, opt={"permission": "cases.acknowledge"})
async def case_acknowledge(
    case_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, clock: Now
) -> Redirect:
    await cases.acknowledge(db, sess.user, case_id, note=data.get("note") or None, now=clock.now())
    return _back_to_case(case_id)


@post("/cases/{case_id:uuid}/action", status_code=303, opt={"permission": "cases.act"})
async def case_action(
    case_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, clock: Now
) -> Redirect:
    await case_workflow.apply_action(
        db,
        sess.user,
        case_id,
        action=data.get("action", ""),
        note=data.get("note") or None,
        now=clock.now(),
    )
    return _back_to_case(case_id)


@post("/cases/{case_id:uuid}/tier", status_code=303, opt={"permission": "cases.tier"})
async def case_tier(
    case_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, clock: Now
) -> Redirect:
    """A tier decision with its reason (lowering needs a counsellor and the reason)."""
    await case_workflow.change_tier(
        db,
        sess.user,
        case_id,
        tier=data.get("tier", ""),
        reason=data.get("reason", ""),
        now=clock.now(),
    )
    return _back_to_case(case_id)


@post("/cases/{case_id:uuid}/records", status_code=303, opt={"permission": "records.add"})
async def case_record(
    case_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, clock: Now
) -> Redirect:
    await case_workflow.add_record(
        db,
        sess.user,
        case_id,
        kind=data.get("kind", ""),
        summary=data.get("summary", ""),
        at=parse_local(data.get("at")),
        now=clock.now(),
    )
    return redirect(safe_next(data.get("next"), f"/staff/cases/{case_id}") + "?done=done_ok")


@post("/cases/{case_id:uuid}/refer", status_code=303, opt={"permission": "referrals.create"})
async def case_refer(
    case_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, rt: Rt, clock: Now
) -> Redirect:
    """Record the referral (and its follow-up task); the case moves to ``referred`` when its
    state allows it."""
    now = clock.now()
    await referrals.refer(
        db,
        rt,
        sess.user,
        case_id,
        hospital=data.get("hospital", ""),
        note=data.get("note") or None,
        now=now,
    )
    if sess.user.role in triage.ACTION_ROLES["refer"]:
        # A state that does not allow it (already referred) refuses before writing anything.
        with contextlib.suppress(Conflict):
            await case_workflow.apply_action(
                db, sess.user, case_id, action="refer", note=data.get("note") or None, now=now
            )
    return _back_to_case(case_id)


@post(
    "/referrals/{referral_id:uuid}/advance",
    status_code=303,
    opt={"permission": "referrals.advance"},
)
async def referral_advance(
    referral_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, rt: Rt, clock: Now
) -> Redirect:
    referral = await referrals.advance(
        db,
        rt,
        sess.user,
        referral_id,
        stage=data.get("stage", ""),
        feedback=data.get("feedback") or None,
        now=clock.now(),
    )
    return _back_to_case(referral.case_id)


@post("/tasks/{task_id:uuid}/complete", status_code=303, opt={"permission": "tasks.complete"})
async def task_complete(
    task_id: FromPath[uuid.UUID], data: Form, sess: Sess, db: Db, clock: Now
) -> Redirect:
    task = await case_workflow.complete_task(
        db, sess.user, task_id, note=data.get("note") or None, now=clock.now()
    )
    return redirect(safe_next(data.get("next"), f"/staff/cases/{task.case_id}") + "?done=done_ok")


# --- the crisis plan (一生一策) -------------------------------------------------------------


def _plan_form(plan: PlanOut | None) -> dict[str, str]:
    if plan is None:
        return {
            "warning_signs": "",
            "coping_steps": "",
            "means_safety": "",
            "contacts": "12356 心理援助热线，hotline，12356",
            "review_on": "",
        }
    content = plan.content
    return {
        "warning_signs": "\n".join(content.get("warning_signs", [])),
        "coping_steps": "\n".join(content.get("coping_steps", [])),
        "means_safety": "\n".join(content.get("means_safety", [])),
        "contacts": "\n".join(
            f"{c['name']}，{c['relation']}，{c['phone']}" for c in content.get("contacts", [])
        ),
        "review_on": plan.review_on.isoformat(),
    }


@get("/students/{student_id:uuid}/plan", opt={"permission": "plans.write"})
async def plan_form(
    request: AnyRequest, student_id: FromPath[uuid.UUID], sess: Sess, db: Db, clock: Now
) -> Template:
    ss.require(sess, "plans.write")
    now = clock.now()
    file = await student_file.student_file(db, sess.user, student_id, now=now)
    plan = await _plan(db, sess, student_id, now)
    return ss.page(
        request,
        "staff_plan.html",
        sess,
        file=file,
        plan=plan,
        form=_plan_form(plan),
        error=None,
    )


def _contacts(text: str) -> list[dict[str, str]]:
    out = []
    for line in lines(text):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 3:
            raise Unprocessable(
                f"contacts: write name, relation, phone on each line (got {line!r})",
                code="invalid_plan",
            )
        out.append({"name": parts[0], "relation": parts[1], "phone": parts[2]})
    return out


@post("/students/{student_id:uuid}/plan", status_code=303, opt={"permission": "plans.write"})
async def plan_save(
    request: AnyRequest,
    student_id: FromPath[uuid.UUID],
    data: Form,
    sess: Sess,
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """Save a new version of the plan; an invalid plan comes back with the message and the
    text as typed (the service stores nothing then)."""
    now = clock.now()
    try:
        review_on = date.fromisoformat(data.get("review_on", "").strip())
    except ValueError:
        review_on = None
    try:
        if review_on is None:
            raise Unprocessable("review_on: give the date of the next review", code="invalid_plan")
        await plans.save_plan(
            db,
            sess.user,
            student_id,
            content={
                "warning_signs": lines(data.get("warning_signs")),
                "coping_steps": lines(data.get("coping_steps")),
                "means_safety": lines(data.get("means_safety")),
                "contacts": _contacts(data.get("contacts", "")),
            },
            review_on=review_on,
            now=now,
        )
    except Unprocessable as exc:
        file = await student_file.student_file(db, sess.user, student_id, now=now)
        return ss.page(
            request,
            "staff_plan.html",
            sess,
            status=422,
            file=file,
            plan=await _plan(db, sess, student_id, now),
            form={k: data.get(k, "") for k in _plan_form(None)},
            error=exc.detail,
        )
    return redirect(f"/staff/students/{student_id}?done=plan_saved")


ROUTES: list[Any] = [
    case_page,
    case_break_glass,
    file_page,
    case_acknowledge,
    case_action,
    case_tier,
    case_record,
    case_refer,
    referral_advance,
    task_complete,
    plan_form,
    plan_save,
]
