"""The page routes, gathered from the feature slices: student pages at ``/`` and ``/s/…``, staff
pages under one ``/staff`` router (session dependency, CSRF check, HTML error pages). The app
gathers them with the API."""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.di import Provide

from survey_service.accounts import admin_pages as account_admin
from survey_service.accounts import pages as accounts
from survey_service.audit import pages as audit
from survey_service.campaigns import admin_pages as campaign_admin
from survey_service.campaigns import campaign_pages, dashboards
from survey_service.cases import care_pages, export_pages, queue_pages, teacher_pages
from survey_service.cases import pages as cases
from survey_service.notifications import on_call_pages, route_pages
from survey_service.pages import _staff_session as ss
from survey_service.pages import admin
from survey_service.reports import annual_pages, student_file_pages
from survey_service.schools import admin_pages as school_admin
from survey_service.schools import calendar_pages
from survey_service.screening import pages as screening

STUDENT_ROUTES: list[Any] = [
    screening.entry,
    screening.entry_submit,
    screening.questionnaire,
    screening.questionnaire_submit,
    *screening.ROUTES,
]


def staff_router(*handlers: Any) -> Router:
    """Every staff page under ``/staff``, with the session dependency and HTML error pages."""
    return Router(
        path="/staff",
        route_handlers=list(handlers),
        dependencies={"sess": Provide(ss.provide_session)},
        exception_handlers=ss.EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


STAFF_ROUTER = staff_router(
    *accounts.ROUTES,
    *queue_pages.ROUTES,
    *cases.ROUTES,
    *teacher_pages.ROUTES,
    *dashboards.ROUTES,
    *on_call_pages.ROUTES,
    *export_pages.ROUTES,  # issue 19: data rights (F)
    *audit.ROUTES,
    # issue 13: administration and the whole care workflow
    *admin.ROUTES,
    *account_admin.ROUTES,
    *school_admin.ROUTES,
    *campaign_admin.ROUTES,
    *campaign_pages.ROUTES,
    *route_pages.ROUTES,
    *calendar_pages.ROUTES,
    *care_pages.ROUTES,
    *student_file_pages.ROUTES,  # issue 15: the student's file as PDF
    *annual_pages.ROUTES,  # issue 15: the annual report of a school or district
)
PAGE_ROUTES: list[Any] = [*STUDENT_ROUTES, STAFF_ROUTER]
