"""The JSON API's route handlers, gathered from the feature slices (the app adds the pages)."""

from __future__ import annotations

from typing import Any

from survey_service.accounts import api as accounts
from survey_service.campaigns import api as campaigns
from survey_service.cases import api as care
from survey_service.cases import queue_api
from survey_service.notifications import api as notifications
from survey_service.schools import api as schools
from survey_service.screening import api as screening

API_ROUTES: list[Any] = [
    screening.start_session,
    screening.submit,
    screening.save_answers,
    *accounts.ROUTES,
    *queue_api.ROUTES,
    *care.ROUTES,
    *schools.ROUTES,
    *notifications.ROUTES,
    *campaigns.ROUTES,
]
