"""The case queue page (``/staff/queue``): active cases by deadline then tier, 50 a page,
filtered by class, tier and state and searched by the student's name or number; never ordered
by score. A district officer sees the de-identified queue (no names, so no search) with the
counts per school. On a phone each case is a card whose first lines are its deadline and tier."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

import triage
from survey_service.accounts import permissions
from survey_service.accounts import views as field_views
from survey_service.accounts.access import scope_of
from survey_service.campaigns import reads as dash_reads
from survey_service.cases import district, reads
from survey_service.cases import service as cases
from survey_service.cases.schemas import CaseOut
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, local_time, request_language, time_left
from survey_service.pages.i18n import label
from survey_service.services.paging import paginate, search_text

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]

TIERS = ("red", "orange", "yellow")


@get("/queue", opt={"permission": "cases.list"})
async def queue(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    """Active cases by deadline then tier, 50 a page; filters by class, tier and state and a
    search by the student's name or number; never ordered by score."""
    user = ss.require(sess, "cases.list")
    lang = request_language(request)
    now = clock.now()
    rows = (await cases.list_cases(db, user, now=now)).items
    q = request.query_params
    class_id, tier, state = q.get("class", ""), q.get("tier", ""), q.get("state", "")
    identity = field_views.lens_of(user).identity
    # Search by the student's name or number (issue 13); the district's rows name no student.
    search = search_text(q.get("q")) if identity else ""
    numbers = (
        await dash_reads.student_numbers(db, [r.student.student_id for r in rows if r.student])
        if identity
        else {}
    )
    with_school = len({r.school_id for r in rows}) > 1  # a class is named with its school

    def class_of(r: CaseOut) -> str:
        if r.student is None:  # the district's rows name no student and no class
            return ""
        return dash_reads.class_label(
            r.school_name or "", r.student.class_name, with_school=with_school
        )

    classes = sorted(
        {(r.student.grade, class_of(r), str(r.student.class_id)) for r in rows if r.student}
        | {(k.grade, k.name, str(k.class_id)) for k in await reads.school_classes(db, user)}
    )
    shown = [
        r
        for r in rows
        if (not class_id or (r.student is not None and str(r.student.class_id) == class_id))
        and (not tier or r.tier == tier)
        and (not state or r.status == state)
        and (not search or _matches(r, search, numbers))
    ]
    kept = {"class": class_id, "tier": tier, "state": state, "q": search, "lang": q.get("lang", "")}
    paged = paginate(shown, "/staff/queue", {**kept, "page": q.get("page", "")})
    items = []
    for r in paged.items:
        left, overdue = time_left(r.deadline or r.acknowledge_by, now, lang)
        number = numbers.get(r.student.student_id, "") if r.student else ""
        items.append(
            {"row": r, "left": left, "overdue": overdue, "number": number, "class": class_of(r)}
        )
    return ss.page(
        request,
        "staff_queue.html",
        sess,
        items=items,
        paged=paged,
        total=len(rows),
        classes=classes,
        tiers=TIERS,
        states=[s for s in triage.CASE_STATES if s != "closed"],
        f_class=class_id,
        f_name=search,
        f_tier=tier,
        f_state=state,
        district=scope_of(user) == "district",
        deidentified=not identity,
        summary=(await district.case_summary(db, user, now=now)).schools
        if permissions.allowed(permissions.role_of(user), "cases.district_summary")
        else None,
        label=label,
        local_time=local_time,
    )


def _matches(row: CaseOut, search: str, numbers: dict[uuid.UUID, str]) -> bool:
    """Whether the search text is part of the row's student's name or student number."""
    if row.student is None:
        return False
    return search in row.student.name or search in numbers.get(row.student.student_id, "")


ROUTES: list[Any] = [queue]
