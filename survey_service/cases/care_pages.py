"""The care workflow on the case page (issue 13): care-group editing, incidents and their
review reports, and the transfer of the case's student to another school of the district.

Thin handlers: each form posts here, calls one service function (``care_group``,
``incidents``) and goes back to the case with the flash (post, redirect, get). A form the
service refuses comes back on the case page with the localized message beside the form and
the values as typed (nothing is stored: the services check before they write). The transfer
has a page of its own, which is also its confirmation step; it names no student, so the
district's de-identified view stays de-identified.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.cases import care_group, incidents
from survey_service.cases import pages as case_pages
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import NotFound, ServiceError, Unprocessable
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, parse_local, redirect, request_language
from survey_service.pages.i18n import TEXT, label
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Rt = NamedDependency[Runtime]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

#: Refusals that are about the case or the incident itself (out of scope, missing, another
#: student's): the 404 page, as for every other page; any other refusal is about the form and
#: comes back with it.
_NOT_THE_FORM = {"case_not_found", "incident_not_found"}


def message_of(exc: ServiceError, lang: str) -> str:
    """The refusal in the reader's language: the service's message, else this slice's text
    for its code (services this slice does not own), else the service's detail."""
    if exc.message and lang in exc.message:
        return exc.message[lang]
    return TEXT[lang].get(f"cc_err_{exc.code}", exc.detail)


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID((value or "").strip())
    except ValueError:
        return None


def _typed(data: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in data.items() if k != ss.CSRF_FIELD}


async def _again(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    rt: Runtime,
    clock: Clock,
    case_id: uuid.UUID,
    form: str,
    exc: ServiceError,
    data: dict[str, str],
) -> Template:
    """The case page again with the refused form's message and values (422; 409 for a
    conflict with the group or the report as they stand)."""
    if isinstance(exc, NotFound) and exc.code in _NOT_THE_FORM:
        raise exc
    status = 409 if exc.status == 409 else 422
    return await case_pages.render_case(
        request,
        sess,
        db,
        rt,
        clock.now(),
        case_id,
        status=status,
        errors={form: message_of(exc, request_language(request))},
        typed={"form": form, **_typed(data)},
    )


def _back(case_id: uuid.UUID, anchor: str) -> Redirect:
    return redirect(f"/staff/cases/{case_id}?done=done_ok#{anchor}")


# --- the care group ---------------------------------------------------------------------------


@post("/cases/{case_id:uuid}/care-group", status_code=303, opt={"permission": "care_group.edit"})
async def group_add(
    request: AnyRequest,
    case_id: FromPath[uuid.UUID],
    data: Form,
    sess: Sess,
    db: Db,
    rt: Rt,
    clock: Now,
) -> Template | Redirect:
    """Add a member: a staff member of the school in a care role, a guardian of the student
    or a classmate as peer supporter (each from a select of the page)."""
    user = ss.require(sess, "care_group.edit")
    try:
        await care_group.add_member(
            db,
            user,
            case_id,
            role=data.get("role", ""),
            staff_id=_uuid(data.get("staff_id")),
            guardian_id=_uuid(data.get("guardian_id")),
            student_id=_uuid(data.get("student_id")),
            now=clock.now(),
        )
    except ServiceError as exc:
        return await _again(request, sess, db, rt, clock, case_id, "group", exc, data)
    return _back(case_id, "group-title")


@post(
    "/cases/{case_id:uuid}/care-group/{member_id:uuid}/remove",
    status_code=303,
    opt={"permission": "care_group.edit"},
)
async def group_remove(
    request: AnyRequest,
    case_id: FromPath[uuid.UUID],
    member_id: FromPath[uuid.UUID],
    data: Form,
    sess: Sess,
    db: Db,
    rt: Rt,
    clock: Now,
) -> Template | Redirect:
    """Remove a member (the page asks first); the last counsellor or guardian stays."""
    user = ss.require(sess, "care_group.edit")
    try:
        await care_group.remove_member(db, user, case_id, member_id, now=clock.now())
    except ServiceError as exc:
        return await _again(request, sess, db, rt, clock, case_id, "group", exc, data)
    return _back(case_id, "group-title")


# --- incidents and their review reports -------------------------------------------------------


@post("/cases/{case_id:uuid}/incidents", status_code=303, opt={"permission": "incidents.record"})
async def incident_record(
    request: AnyRequest,
    case_id: FromPath[uuid.UUID],
    data: Form,
    sess: Sess,
    db: Db,
    rt: Rt,
    clock: Now,
) -> Template | Redirect:
    """Record an extreme incident of the case's student; its review is due in 14 days."""
    user = ss.require(sess, "incidents.record")
    try:
        occurred_at = parse_local(data.get("occurred_at"))
        if occurred_at is None:
            raise Unprocessable("occurred_at: give the time it happened", code="occurred_required")
        await incidents.record_for_case(
            db,
            user,
            case_id,
            kind=data.get("kind", ""),
            description=data.get("description", ""),
            occurred_at=occurred_at,
            now=clock.now(),
        )
    except ServiceError as exc:
        return await _again(request, sess, db, rt, clock, case_id, "incident", exc, data)
    return _back(case_id, "incidents-title")


@post(
    "/cases/{case_id:uuid}/incidents/{incident_id:uuid}/report",
    status_code=303,
    opt={"permission": "incidents.report"},
)
async def incident_report(
    request: AnyRequest,
    case_id: FromPath[uuid.UUID],
    incident_id: FromPath[uuid.UUID],
    data: Form,
    sess: Sess,
    db: Db,
    rt: Rt,
    clock: Now,
) -> Template | Redirect:
    """File the review report; under 3,000 characters it comes back (422) with the message
    and the text as typed, and nothing is stored."""
    user = ss.require(sess, "incidents.report")
    try:
        await incidents.file_report_for_case(
            db, user, case_id, incident_id, report=data.get("report", ""), now=clock.now()
        )
    except ServiceError as exc:
        form = f"report-{incident_id}"
        return await _again(request, sess, db, rt, clock, case_id, form, exc, data)
    return _back(case_id, "incidents-title")


COUNTER_JS = """\
// The review report's character counter (the case page). Counts as the service does:
// Unicode NFC, surrounding whitespace removed, one per code point. Without it the page still
// says how many characters a report needs, and the service counts on submit.
(function () {
  document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("data-counter"));
    var count = out && out.querySelector("[data-count]");
    if (!count) { return; }
    function update() {
      count.textContent = String(Array.from(area.value.normalize("NFC").trim()).length);
    }
    area.addEventListener("input", update);
    update();
  });
})();
"""


@get("/case-care.js", opt={"permission": "incidents.report"}, include_in_schema=False)
async def counter_js() -> Response[str]:
    """The counter script (a file of this service: the pages allow no inline script)."""
    return Response(
        COUNTER_JS,
        media_type="text/javascript",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# --- transfer to another school of the district -----------------------------------------------


async def _transfer_page(
    request: AnyRequest,
    sess: ss.StaffSession,
    db: AsyncSession,
    case_id: uuid.UUID,
    *,
    school_code: str,
    class_id: str = "",
    error: str | None = None,
    status: int = 200,
) -> Template:
    options = await care_group.transfer_options(db, sess.user, case_id)
    school = next((s for s in options.schools if s.code == school_code), None)
    return ss.page(
        request,
        "staff_case_transfer.html",
        sess,
        status=status,
        case_id=case_id,
        options=options,
        school=school,
        class_id=class_id,
        error=error,
        label=label,
    )


@get("/cases/{case_id:uuid}/transfer", opt={"permission": "students.transfer"})
async def transfer_page(
    request: AnyRequest, case_id: FromPath[uuid.UUID], sess: Sess, db: Db
) -> Template:
    """Step two of the transfer (district officer): the chosen school's classes and the
    confirmation; without a school (or an unknown one), the choice of school."""
    ss.require(sess, "students.transfer")
    code = (request.query_params.get("school") or "").strip()
    return await _transfer_page(request, sess, db, case_id, school_code=code)


@post("/cases/{case_id:uuid}/transfer", status_code=303, opt={"permission": "students.transfer"})
async def transfer_save(
    request: AnyRequest,
    case_id: FromPath[uuid.UUID],
    data: Form,
    sess: Sess,
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """Transfer the case's student (the file and open cases follow); a refusal comes back on
    the transfer page with the message, nothing moved."""
    user = ss.require(sess, "students.transfer")
    code = data.get("school_code", "").strip()
    try:
        class_id = _uuid(data.get("class_id"))
        if class_id is None:
            raise Unprocessable("class_id: choose the class", code="class_required")
        if data.get("confirm") != "yes":
            raise Unprocessable("confirm the transfer", code="confirm_required")
        await care_group.transfer_case(
            db, user, case_id, school_code=code, class_id=class_id, now=clock.now()
        )
    except ServiceError as exc:
        if isinstance(exc, NotFound) and exc.code in _NOT_THE_FORM:
            raise
        return await _transfer_page(
            request,
            sess,
            db,
            case_id,
            school_code=code,
            class_id=data.get("class_id", ""),
            error=message_of(exc, request_language(request)),
            status=409 if exc.status == 409 else 422,
        )
    return redirect(f"/staff/cases/{case_id}?done=done_ok")


ROUTES: list[Any] = [
    group_add,
    group_remove,
    incident_record,
    incident_report,
    counter_js,
    transfer_page,
    transfer_save,
]
