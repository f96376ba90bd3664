"""The administration index, ``/staff/admin`` (issue 13): the sections a role may open, each a
page of its feature slice. A section shows only when the role may perform its operation
(``accounts.permissions``), so the index and the guards cannot disagree."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from survey_service.accounts import permissions
from survey_service.pages import _staff_session as ss
from survey_service.pages._web import AnyRequest

Sess = NamedDependency[ss.StaffSession]

#: (path, title key, description key, operation), in the order a school goes live.
SECTIONS = (
    ("/staff/admin/schools", "admin_schools", "admin_schools_intro", "schools.list"),
    ("/staff/admin/staff", "admin_staff", "admin_staff_intro", "accounts.list"),
    ("/staff/admin/classes", "admin_classes", "admin_classes_intro", "classes.list"),
    ("/staff/admin/roster", "admin_roster", "admin_roster_intro", "rosters.import"),
    ("/staff/admin/calendar", "admin_calendar", "admin_calendar_intro", "calendars.edit"),
    ("/staff/admin/routes", "admin_routes", "admin_routes_intro", "routes.edit"),
    ("/staff/on-call", "on_call_title", "admin_on_call_intro", "rota.page"),
    ("/staff/admin/campaigns", "admin_campaigns", "admin_campaigns_intro", "campaigns.page"),
)


@get("/admin", opt={"permission": "admin.page"})
async def admin_index(request: AnyRequest, sess: Sess) -> Template:
    user = ss.require(sess, "admin.page")
    role = permissions.role_of(user)
    sections = [
        (path, title, intro)
        for path, title, intro, operation in SECTIONS
        if permissions.allowed(role, operation)
    ]
    return ss.page(request, "staff_admin.html", sess, sections=sections)


ROUTES: list[Any] = [admin_index]
