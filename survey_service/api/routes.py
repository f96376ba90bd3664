"""The JSON API's route handlers, gathered per feature module (the app adds the pages)."""

from __future__ import annotations

from typing import Any

from survey_service.api import campaigns, care, notifications, schools, staff, student

API_ROUTES: list[Any] = [
    student.start_session,
    student.submit,
    student.save_answers,
    staff.login,
    staff.list_cases,
    staff.get_case,
    staff.acknowledge,
    *care.ROUTES,
    *schools.ROUTES,
    *notifications.ROUTES,
    *campaigns.ROUTES,
]
