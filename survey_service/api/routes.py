"""Every route handler of the app, gathered per feature module."""

from __future__ import annotations

from typing import Any

from ..pages import routes as page_routes
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
    *page_routes.STUDENT_ROUTES,
    page_routes.STAFF_ROUTER,
]
