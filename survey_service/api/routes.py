"""The JSON API's route handlers, gathered from the feature slices (the app adds the pages)."""

from __future__ import annotations

from typing import Any

from survey_service.accounts import api as accounts
from survey_service.api.problems import document_errors
from survey_service.audit import api as audit
from survey_service.campaigns import api as campaigns
from survey_service.cases import api as care
from survey_service.cases import district_api, export_api, queue_api
from survey_service.notifications import api as notifications
from survey_service.reports import provincial_api
from survey_service.schools import api as schools
from survey_service.screening import api as screening
from survey_service.screening import fhir_api

API_ROUTES: list[Any] = [
    screening.start_session,
    screening.submit,
    screening.save_answers,
    *accounts.ROUTES,
    *queue_api.ROUTES,
    *district_api.ROUTES,
    *care.ROUTES,
    *schools.ROUTES,
    *notifications.ROUTES,
    *campaigns.ROUTES,
    *export_api.ROUTES,  # issue 19: data rights (F)
    *audit.ROUTES,  # issue 19: the audit log (C)
    *fhir_api.ROUTES,  # issue 15: FHIR Questionnaire / QuestionnaireResponse
    *provincial_api.ROUTES,  # issue 15: the provincial aggregate export
]

# Every error reply (400, 401, 403, 404, 409, 410, 413, 422, 429) is in the OpenAPI schema.
document_errors(API_ROUTES)
