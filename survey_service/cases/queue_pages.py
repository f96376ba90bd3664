"""The case queue page (``/staff/queue``): active cases by deadline then tier, filtered by
class, tier, state and the student's name; never ordered by score. A district officer sees
the de-identified queue with the counts per school."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

import triage
from survey_service.accounts import permissions
from survey_service.accounts import views as field_views
from survey_service.accounts.access import scope_of
from survey_service.cases import district, reads
from survey_service.cases import service as cases
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, local_time, request_language, time_left
from survey_service.pages.i18n import label

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]

TIERS = ("red", "orange", "yellow")


@get("/queue", opt={"permission": "cases.list"})
async def queue(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    """Active cases by deadline then tier; filters by class, tier and state; never by score."""
    user = ss.require(sess, "cases.list")
    lang = request_language(request)
    now = clock.now()
    rows = (await cases.list_cases(db, user, now=now)).items
    q = request.query_params
    class_id, tier, state = q.get("class", ""), q.get("tier", ""), q.get("state", "")
    # Search by the student's name (issue 13); the district's rows name no student.
    name = " ".join(q.get("q", "").split())[:50]
    classes = sorted(
        {
            (r.student.grade, r.student.class_name, str(r.student.class_id))
            for r in rows
            if r.student is not None  # the district's rows name no student and no class
        }
    )
    for k in await reads.school_classes(db, user):
        classes.append((k.grade, k.name, str(k.class_id)))
    classes = sorted(set(classes))
    shown = [
        r
        for r in rows
        if (not class_id or (r.student is not None and str(r.student.class_id) == class_id))
        and (not tier or r.tier == tier)
        and (not state or r.status == state)
        and (not name or (r.student is not None and name in r.student.name))
    ]
    items = []
    for r in shown:
        left, overdue = time_left(r.deadline or r.acknowledge_by, now, lang)
        items.append({"row": r, "left": left, "overdue": overdue})
    return ss.page(
        request,
        "staff_queue.html",
        sess,
        items=items,
        total=len(rows),
        classes=classes,
        tiers=TIERS,
        states=[s for s in triage.CASE_STATES if s != "closed"],
        f_class=class_id,
        f_name=name,
        f_tier=tier,
        f_state=state,
        district=scope_of(user) == "district",
        deidentified=not field_views.lens_of(user).identity,
        summary=(await district.case_summary(db, user, now=now)).schools
        if permissions.allowed(permissions.role_of(user), "cases.district_summary")
        else None,
        label=label,
        local_time=local_time,
    )



ROUTES: list[Any] = [queue]
