"""The head teacher's page: completion of their classes, students of theirs under care with
what is asked of them (the next task; later ones folded), and a form to report an observation.
Never answers, scores or reasons. Lists are paged and searched by name or student number; on a
phone the tables become cards."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.campaigns import reads as dash_reads
from survey_service.cases import observations, reads
from survey_service.cases import workflow as case_workflow
from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import Unprocessable
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import (
    AnyRequest,
    local_time,
    parse_local,
    redirect,
    request_language,
    time_left,
)
from survey_service.pages.i18n import LABELS, label
from survey_service.services.paging import paginate, search_text
from survey_service.services.runtime import Runtime

Db = NamedDependency[AsyncSession]
Rt = NamedDependency[Runtime]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

CARE_PER_PAGE = 20  # a student under care is a card with forms: fewer to a page


@get("/class", opt={"permission": "classes.read"})
async def class_page(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    """Completion of the head teacher's classes (the students not finished yet, 50 a page) and
    the students under care with their next task (20 a page); both searched by the student's
    name or number. The observation form lists every student of the classes."""
    user = ss.require(sess, "classes.read")
    lang = request_language(request)
    now = clock.now()
    q = request.query_params
    search = search_text(q.get("q"))
    completion = await reads.class_completion(db, user, now=now)
    care = await reads.pupils_under_care(db, user, now=now)
    numbers = {p.student_id: p.student_number for c in completion for p in c.pupils}
    numbers |= await dash_reads.student_numbers(
        db, [p.student_id for p in care if p.student_id not in numbers]
    )

    def found(student_id: uuid.UUID, name: str) -> bool:
        return not search or search in name or search in numbers.get(student_id, "")

    kept = {
        "q": search,
        "lang": q.get("lang", ""),
        "page": q.get("page", ""),
        "care_page": q.get("care_page", ""),
    }
    not_done = paginate(
        [(c, p) for c in completion for p in c.not_done if found(p.student_id, p.name)],
        "/staff/class",
        kept,
    )
    care_paged = paginate(
        [p for p in care if found(p.student_id, p.name)],
        "/staff/class",
        kept,
        per_page=CARE_PER_PAGE,
        param="care_page",
    )
    due = {
        t.task_id: time_left(t.due_at, now, lang) for pupil in care_paged.items for t in pupil.tasks
    }
    return ss.page(
        request,
        "staff_class.html",
        sess,
        completion=completion,
        not_done=not_done,
        care=care_paged,
        care_total=len(care),
        numbers=numbers,
        search=search,
        due=due,
        pupils=[p for c in completion for p in c.pupils],
        severities=observations.SEVERITIES,
        obs_kinds=list(LABELS["obs_kind"]),
        label=label,
        local_time=local_time,
    )


def _uuid(value: str | None, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value or "")
    except ValueError as exc:
        raise Unprocessable(f"{field}: choose one", code=f"invalid_{field}") from exc


@post("/class/observations", status_code=303, opt={"permission": "observations.report"})
async def report(data: Form, sess: Sess, db: Db, rt: Rt, clock: Now) -> Redirect:
    """Report an observation; the head teacher learns that the counsellor was told, no tier."""
    outcome = await observations.report_observation(
        db,
        rt,
        sess.user,
        student_id=_uuid(data.get("student_id"), "student"),
        kind=data.get("kind", ""),
        severity=data.get("severity", ""),
        note=data.get("note") or None,
        observed_at=parse_local(data.get("observed_at")),
        now=clock.now(),
    )
    done = "obs_done_case" if outcome.case_id is not None else "obs_done"
    return redirect(f"/staff/class?done={done}")


@post("/class/talks", status_code=303, opt={"permission": "records.add"})
async def talk(data: Form, sess: Sess, db: Db, clock: Now) -> Redirect:
    """Record a one-to-one talk on a case of a student of the head teacher's class."""
    await case_workflow.add_record(
        db,
        sess.user,
        _uuid(data.get("case_id"), "case"),
        kind="talk",
        summary=data.get("summary", ""),
        at=parse_local(data.get("at")),
        now=clock.now(),
    )
    return redirect("/staff/class?done=done_ok")


ROUTES: list[Any] = [class_page, report, talk]
