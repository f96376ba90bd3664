"""Every route handler of the app, gathered per feature module."""

from __future__ import annotations

from typing import Any

from ..pages import student as student_pages
from . import campaigns, care, notifications, schools, staff, student

ROUTE_HANDLERS: list[Any] = [
    student.start_session,
    student.submit,
    student.save_answers,
    staff.login,
    staff.list_cases,
    staff.get_case,
    staff.acknowledge,
    student_pages.entry,
    student_pages.entry_submit,
    student_pages.questionnaire,
    student_pages.questionnaire_submit,
    *care.ROUTES,
    *schools.ROUTES,
    *notifications.ROUTES,
    *campaigns.ROUTES,
]
