"""The school calendar page, ``/staff/admin/calendar`` (issue 13): the school years of the
caller's own school (terms with their exams, holidays and closures, 调休 make-up school days,
school hours), read and set by the school lead or administrator. Plain HTML forms.

Why it matters is said on the page: deadlines that count school time skip weekends and
holidays, the standing care tasks (talks around exams, re-screens) are placed on the terms, and
outside school hours the on-call rota is paged. The form follows the on-call rota page: rows
plus blank rows, a blank row is left out, a bad value comes back as a 422 naming the field with
everything as typed, and nothing is stored then.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template

from survey_service.clock import Clock
from survey_service.db import AsyncSession
from survey_service.errors import Unprocessable
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest, local_time, redirect, request_language
from survey_service.schools import calendars

Db = NamedDependency[AsyncSession]
Now = NamedDependency[Clock]
Sess = NamedDependency[ss.StaffSession]
Form = URLEncodedBody[dict[str, str]]

MAX_ROWS = 60
#: Blank rows under the stored ones: terms, holidays, make-up school days.
BLANK = {"terms": 1, "holidays": 3, "makeup": 2}
_TERM_FIELDS = ("start", "end", "midterm_start", "midterm_end", "final_start", "final_end")


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _blank(kind: str) -> dict[str, str]:
    if kind == "terms":
        return dict.fromkeys(_TERM_FIELDS, "")
    return {"start": "", "end": ""}


def _padded(rows: list[dict[str, str]], kind: str, at_least: int = 0) -> list[dict[str, str]]:
    count = max(BLANK[kind], at_least - len(rows))
    return rows + [_blank(kind) for _ in range(count)]


def _year_form(view: calendars.CalendarPage, year: str | None) -> dict[str, Any]:
    """The form for the school year asked for (``?year=``), else the one in force; a new
    year when asked (``new``) or when the school has none."""
    chosen = next((y for y in view.years if y.label == year), None)
    if chosen is None and year != "new":
        chosen = next((y for y in view.years if y.in_force), None)
    if chosen is None:
        hours = next((y for y in view.years if y.in_force), None)
        return {
            "new": True,
            "label": view.next_label,
            "day_start": hours.day_start if hours else "08:00",
            "day_end": hours.day_end if hours else "17:00",
            "terms": _padded([], "terms", at_least=2),
            "holidays": _padded([], "holidays"),
            "makeup": _padded([], "makeup"),
        }
    terms = [
        {
            "start": _iso(t.start),
            "end": _iso(t.end),
            "midterm_start": _iso(t.midterm_exam.start if t.midterm_exam else None),
            "midterm_end": _iso(t.midterm_exam.end if t.midterm_exam else None),
            "final_start": _iso(t.final_exam.start if t.final_exam else None),
            "final_end": _iso(t.final_exam.end if t.final_exam else None),
        }
        for t in chosen.terms
    ]
    holidays = [
        {"start": _iso(h.start), "end": _iso(h.end) if h.end != h.start else ""}
        for h in chosen.holidays
    ]
    makeup = [{"start": _iso(d), "end": ""} for d in chosen.makeup_workdays]
    return {
        "new": False,
        "label": chosen.label,
        "day_start": chosen.day_start,
        "day_end": chosen.day_end,
        "terms": _padded(terms, "terms"),
        "holidays": _padded(holidays, "holidays"),
        "makeup": _padded(makeup, "makeup"),
    }


def _count(data: dict[str, str], kind: str) -> int:
    try:
        return max(0, min(int(data.get(kind, "0")), MAX_ROWS))
    except ValueError:
        return 0


def _typed_form(data: dict[str, str], labels: set[str]) -> dict[str, Any]:
    """The form as typed, to save and to show again with an error (``labels``: the stored
    years, to say whether the form adds one)."""
    typed: dict[str, Any] = {
        field: data.get(field, "").strip() for field in ("label", "day_start", "day_end")
    }
    typed["new"] = typed["label"] not in labels
    typed["terms"] = [
        {f: data.get(f"term_{i}_{f}", "").strip() for f in _TERM_FIELDS}
        for i in range(_count(data, "terms"))
    ]
    typed["holidays"] = [
        {f: data.get(f"holiday_{i}_{f}", "").strip() for f in ("start", "end")}
        for i in range(_count(data, "holidays"))
    ]
    typed["makeup"] = [
        {"start": data.get(f"makeup_{i}", "").strip(), "end": ""}
        for i in range(_count(data, "makeup"))
    ]
    return typed


def _form_in(typed: dict[str, Any]) -> calendars.CalendarFormIn:
    """What the service checks: the rows with any value (blank rows are left out)."""
    return calendars.CalendarFormIn(
        label=typed["label"],
        day_start=typed["day_start"],
        day_end=typed["day_end"],
        terms=[
            calendars.TermRowIn(index=i, **row)
            for i, row in enumerate(typed["terms"])
            if any(row.values())
        ],
        holidays=[
            calendars.DaysRowIn(index=i, **row)
            for i, row in enumerate(typed["holidays"])
            if any(row.values())
        ],
        makeup_workdays=[
            calendars.DaysRowIn(index=i, start=row["start"])
            for i, row in enumerate(typed["makeup"])
            if row["start"]
        ],
    )


def _render(
    request: AnyRequest,
    sess: ss.StaffSession,
    view: calendars.CalendarPage,
    form: dict[str, Any],
    *,
    error: str | None = None,
    error_field: str | None = None,
    status: int = 200,
) -> Template:
    return ss.page(
        request,
        "staff_admin_calendar.html",
        sess,
        status=status,
        view=view,
        form=form,
        error=error,
        error_field=error_field,
        updated={y.label: local_time(y.updated_at, view.timezone) for y in view.years},
    )


@get("/admin/calendar", opt={"permission": "calendars.edit"})
async def calendar_page(request: AnyRequest, sess: Sess, db: Db, clock: Now) -> Template:
    """The school's calendars; ``?year=`` picks the school year to edit (``new``: a new one)."""
    user = ss.require(sess, "calendars.edit")
    view = await calendars.calendar_page(db, user, now=clock.now())
    return _render(request, sess, view, _year_form(view, request.query_params.get("year")))


@post("/admin/calendar", status_code=303, opt={"permission": "calendars.edit"})
async def calendar_save(
    request: AnyRequest, data: Form, sess: Sess, db: Db, clock: Now
) -> Template | Redirect:
    """Save one school year; a bad value comes back with the message (naming the field) and
    the form as typed. Nothing is stored then."""
    user = ss.require(sess, "calendars.edit")
    try:
        saved = await calendars.put_own_calendar(
            db, user, _form_in(_typed_form(data, set())), now=clock.now()
        )
    except Unprocessable as exc:
        lang = request_language(request)
        view = await calendars.calendar_page(db, user, now=clock.now())
        typed = _typed_form(data, {y.label for y in view.years})
        for kind in BLANK:
            typed[kind] = typed[kind] or _padded([], kind)
        return _render(
            request,
            sess,
            view,
            typed,
            error=(exc.message or {}).get(lang, exc.detail),
            error_field=exc.extra.get("field"),
            status=422,
        )
    return redirect(f"/staff/admin/calendar?{urlencode({'done': 'done_ok', 'year': saved.label})}")


ROUTES: list[Any] = [calendar_page, calendar_save]
