"""The page routes: student pages at ``/`` and ``/s/…``, staff pages under one ``/staff``
router (session dependency, CSRF check, HTML error pages). The app gathers them with the API."""

from __future__ import annotations

from typing import Any

from survey_service.pages import dashboards, on_call, staff, student, teacher

STUDENT_ROUTES: list[Any] = [
    student.entry,
    student.entry_submit,
    student.questionnaire,
    student.questionnaire_submit,
    *student.ROUTES,
]
STAFF_ROUTER = staff.router(*teacher.ROUTES, *dashboards.ROUTES, *on_call.ROUTES)
PAGE_ROUTES: list[Any] = [*STUDENT_ROUTES, STAFF_ROUTER]
