"""The one access model: staff roles, what each may do, and over which scope.

Deny by default: an operation missing from ``PERMISSIONS`` is allowed to nobody. Every role
check in the service goes through :func:`require` (services) or the route guards built on the
same table; object scoping (district, school, class) is applied by ``access`` and answers 404
for another scope's object, exactly like a missing one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import triage
from survey_service.db import StaffUser
from survey_service.errors import Forbidden


class Role(enum.StrEnum):
    """A staff account's role (``staff_users.role``)."""

    COUNSELLOR = "counsellor"
    SCHOOL_LEAD = "school_lead"
    SCHOOL_ADMIN = "school_admin"
    HEAD_TEACHER = "head_teacher"
    TEACHER = "teacher"
    DISTRICT_OFFICER = "district_officer"
    AUDITOR = "auditor"


C, L, A, H, T, D, U = (
    Role.COUNSELLOR,
    Role.SCHOOL_LEAD,
    Role.SCHOOL_ADMIN,
    Role.HEAD_TEACHER,
    Role.TEACHER,
    Role.DISTRICT_OFFICER,
    Role.AUDITOR,
)


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


# The case actions' roles come from the domain's state machine (``triage.ACTION_ROLES``), so
# the table and the state machine cannot disagree: "acknowledge" per action, "*" for any action.
ACTION_ROLES_OF: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        **{action: _roles(*map(Role, roles)) for action, roles in triage.ACTION_ROLES.items()},
        "*": _roles(*(Role(r) for roles in triage.ACTION_ROLES.values() for r in roles)),
    }
)

#: Which students, cases and schools each role's operations reach (``access`` applies it):
#: ``district`` every school of the account's district; ``school`` the account's school;
#: ``class`` the account's school, and of its students only those of the classes the account
#: is head teacher of; ``none`` no student, case or school at all.
Scope = Literal["district", "school", "class", "none"]
SCOPES: Mapping[Role, Scope] = MappingProxyType(
    {
        Role.COUNSELLOR: "school",
        Role.SCHOOL_LEAD: "school",
        Role.SCHOOL_ADMIN: "school",
        Role.HEAD_TEACHER: "class",
        # A subject teacher is linked to no class: observations of any student of the school.
        Role.TEACHER: "school",
        Role.DISTRICT_OFFICER: "district",
        Role.AUDITOR: "none",  # the audit log only, never a student
    }
)


# operation name -> the roles that may perform it. One line per operation; keep it sorted by
# feature. Scope (district / school / class) is decided by the role, see ``access``.
PERMISSIONS: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        # --- accounts --------------------------------------------------------------------
        "session.own": _roles(*Role),  # sign out, the landing page: every signed-in account
        "inbox.own": _roles(*Role),  # one's own in-app notifications
        "accounts.own_password": _roles(*Role),  # change one's own password
        "accounts.reset_password": _roles(A, D),  # another's: own school (A) / district (D)
        "accounts.set_active": _roles(A, D),  # disable / enable: own school (A) / district (D)
        "accounts.move_school": _roles(D),  # to another school of the officer's district
        "accounts.list": _roles(A, D),  # issue 13: the staff accounts page
        "accounts.create": _roles(A, D),  # a new account with a one-time password
        "admin.page": _roles(A, L, D),  # issue 13: the administration index under /staff/admin
        # --- cases ------------------------------------------------------------------------
        "cases.list": _roles(C, L, D),  # the queue (API and page)
        "cases.acknowledge": _roles(*ACTION_ROLES_OF["acknowledge"], D),  # + the ladder's top
        "cases.act": _roles(*ACTION_ROLES_OF["*"]),  # state moves; per action: triage.ACTION_ROLES
        "cases.tier": _roles(C, L),  # lowering also needs a counsellor (triage.check_tier_change)
        "records.add": _roles(C, L, H),
        "tasks.complete": _roles(C, L, H),  # a head teacher: tasks assigned to head teachers
        "care_group.read": _roles(C, L, D),
        "care_group.edit": _roles(C, L),
        "observations.report": _roles(C, L, H, T),
        "plans.read": _roles(C, L, H),
        "plans.write": _roles(C, L),
        "files.read": _roles(C, L, D, H),
        "files.print": _roles(C, L),  # issue 15: the file as PDF for a handover (audited)
        "students.transfer": _roles(D),
        "referrals.create": _roles(C, L),
        "referrals.advance": _roles(C, L),
        "incidents.record": _roles(C, L),
        "incidents.report": _roles(C, L),
        "incidents.read": _roles(C, L, D),
        "classes.read": _roles(H),  # completion and pupils under care of one's own classes
        "cases.read": _roles(C, L, D),
        "cases.break_glass": _roles(D),  # A2: one case's identities, time-boxed, reasoned
        "cases.district_summary": _roles(D),  # A2: counts per school, no identities
        # --- campaigns --------------------------------------------------------------------
        "campaigns.create": _roles(A, L),
        "campaigns.page": _roles(A, L),  # issue 13: the campaign pages under /staff/admin
        "reminders.send": _roles(A, L),  # remind non-completers' head teachers
        "slips.print": _roles(A, L, H),
        "consent.record": _roles(A, L, C, H),
        "consent.withdraw": _roles(A, L, C, H),  # F: a guardian withdraws consent
        "completion.read": _roles(A, L, C, H),  # a campaign's non-completers
        "coverage.read": _roles(A, L, C, H, D),
        "rosters.import": _roles(A, L),
        "dashboards.read": _roles(C, L, A, D),  # open tasks and staffing behind the dashboards
        "dashboards.school": _roles(C, L, A),
        "dashboards.district": _roles(D),
        "dashboards.export": _roles(C, L, A, D),
        "escalations.read": _roles(D),
        # issue 15: the annual report (suppressed aggregates; a school's has class rows)
        "reports.school": _roles(C, L, A),
        "reports.district": _roles(D),
        # --- notifications ----------------------------------------------------------------
        "routes.edit": _roles(L, A),
        "alerts.read": _roles(L, A, D),
        "rota.read": _roles(C, L, A, D),
        "rota.edit": _roles(L, D),
        "rota.page": _roles(C, L, A),  # the own school's rota page (a district has no own)
        "rota.page_edit": _roles(L),
        # --- schools ----------------------------------------------------------------------
        "calendars.edit": _roles(A, L),
        "schools.list": _roles(D),  # issue 13: the district's schools page
        "schools.create": _roles(D),
        "classes.list": _roles(A, L, D),  # classes with their head teachers and committee
        "classes.edit": _roles(A, L),  # add a class, assign its head teacher and committee
        "students.export": _roles(C, L),  # F: everything held about one student (PIPL)
        # issue 15: one stored response as a FHIR QuestionnaireResponse: its answers, which
        # only the counsellor sees (triage.VISIBILITY); scoped and audited
        "responses.export": _roles(C),
        # --- audit ------------------------------------------------------------------------
        "audit.read": _roles(U),
        "audit.export": _roles(U),
    }
)


#: Routes anyone may call without signing in (full path templates; every other route declares
#: its operation as ``opt={"permission": "feature.verb"}`` and is refused before it runs):
#: the student screening flow, sign-in, liveness and the OpenAPI documents (``/schema...``).
PUBLIC_ROUTES: frozenset[str] = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/student/sessions",
        "/api/v1/student/sessions/{session_id:uuid}/submission",
        "/api/v1/student/sessions/{session_id:uuid}/answers",
        # issue 15: a shipped instrument as a FHIR Questionnaire (published text, no personal
        # data; installed, possibly licensed, definitions are not served)
        "/api/v1/instruments/{instrument_id:str}/fhir",
        "/api/v1/auth/login",
        "/",
        "/s",
        "/s/{code:str}",
        "/s/{code:str}/submit",
        "/s/{code:str}/start",
        "/s/{code:str}/declined",
        "/s/{code:str}/q/{n:int}",
        "/s/{code:str}/saved",
        "/s/{code:str}/review",
        "/s/{code:str}/thanks",
        "/static/autosave.js",
        "/staff/login",
        "/staff",  # redirects to the sign-in page or the role's home
    }
)
PUBLIC_PREFIXES = ("/schema",)


def _untyped(path_template: str) -> str:
    """``/s/{code:str}`` → ``/s/{code}`` (litestar's ``path_template`` drops the types)."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path_template)


_PUBLIC_UNTYPED = frozenset(_untyped(p) for p in PUBLIC_ROUTES)


def is_public(path_template: str) -> bool:
    """Whether a route (its full path template, with or without the parameters' types) is in
    the explicit public list."""
    return _untyped(path_template) in _PUBLIC_UNTYPED or path_template.startswith(PUBLIC_PREFIXES)


def operation_of(opt: Mapping[str, Any]) -> str | None:
    """The operation a route handler declares (``opt["permission"]``), checked to exist."""
    operation = opt.get("permission")
    if operation is None:
        return None
    if not isinstance(operation, str) or operation not in PERMISSIONS:
        raise KeyError(f"unknown operation {operation!r}: add it to PERMISSIONS")
    return operation


def role_of(user: StaffUser) -> Role | None:
    """The typed role of an account, or None for a role this version does not know."""
    try:
        return Role(user.role)
    except ValueError:
        return None


def allowed(role: Role | str | None, operation: str) -> bool:
    """Whether ``role`` may perform ``operation`` (unknown operations: nobody)."""
    if operation not in PERMISSIONS:
        raise KeyError(f"unknown operation {operation!r}: add it to PERMISSIONS")
    return role is not None and role in PERMISSIONS[operation]


def require(user: StaffUser, operation: str) -> Role:
    """The caller's role if it may perform ``operation``; 403 ``forbidden_role`` otherwise."""
    role = role_of(user)
    if role is None or not allowed(role, operation):
        roles = ", ".join(sorted(PERMISSIONS[operation]))
        raise Forbidden(
            f"The role {user.role!r} may not perform {operation!r} (allowed: {roles})",
            code="forbidden_role",
        )
    return role


def scope_of(user: StaffUser) -> Scope:
    """Which students, cases and schools the account's operations reach (see ``SCOPES``)."""
    role = role_of(user)
    return SCOPES[role] if role is not None else "none"


def operations_of(role: Role) -> list[str]:
    """Every operation ``role`` may perform, sorted."""
    return sorted(op for op, roles in PERMISSIONS.items() if role in roles)
