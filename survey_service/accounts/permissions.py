"""The one access model: staff roles, what each may do, and over which scope.

Deny by default: an operation missing from ``PERMISSIONS`` is allowed to nobody. Every role
check in the service goes through :func:`require` (services) or the route guards built on the
same table; object scoping (district, school, class) is applied by ``access`` and answers 404
for another scope's object, exactly like a missing one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

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


# operation name -> the roles that may perform it. One line per operation; keep it sorted by
# feature. Scope (district / school / class) is decided by the role, see ``access``.
PERMISSIONS: Mapping[str, frozenset[Role]] = MappingProxyType(
    {
        # --- accounts --------------------------------------------------------------------
        # --- cases ------------------------------------------------------------------------
        "cases.read": _roles(C, L, D),
        # --- campaigns --------------------------------------------------------------------
        # --- notifications ----------------------------------------------------------------
        # --- schools ----------------------------------------------------------------------
        # --- audit ------------------------------------------------------------------------
    }
)


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
