"""Administrators' actions on staff accounts (issue 19): reset a password, disable or enable
an account, move it to another school. Each ends every session of the account and is audited.

Scope: a school administrator acts on the accounts of their own school, a district officer on
those of their district; any other account answers 404, exactly like a missing one.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update

from survey_service.accounts import permissions
from survey_service.accounts.auth import check_new_password, revoke_sessions
from survey_service.accounts.schemas import StaffAccountView
from survey_service.db import AsyncSession, School, SchoolClass, StaffUser
from survey_service.errors import BadRequest, NotFound
from survey_service.security import hash_password_async
from survey_service.services import audit

#: Who runs ``runxin user ...`` on the server (audit rows of the command line).
CLI_ACTOR = "cli"


def _not_found() -> NotFound:
    return NotFound("No such staff account", code="staff_not_found")


async def staff_in_scope(db: AsyncSession, actor: StaffUser, user_id: uuid.UUID) -> StaffUser:
    """The account, if ``actor`` administers it (row locked for the change); 404 otherwise."""
    target = await db.scalar(select(StaffUser).where(StaffUser.id == user_id).with_for_update())
    if target is None or target.district_id != actor.district_id:
        raise _not_found()
    if actor.role != permissions.Role.DISTRICT_OFFICER and (
        actor.school_id is None or target.school_id != actor.school_id
    ):
        raise _not_found()
    return target


def _view(user: StaffUser, revoked: int) -> StaffAccountView:
    return StaffAccountView(
        user_id=user.id,
        username=user.username,
        role=user.role,
        school_id=user.school_id,
        active=user.active,
        sessions_revoked=revoked,
    )


def _audit(
    db: AsyncSession,
    actor: StaffUser | None,
    target: StaffUser,
    action: str,
    *,
    now: datetime,
    school_id: uuid.UUID | None = None,
) -> None:
    audit.record(
        db,
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else CLI_ACTOR,
        action=action,
        subject_type="staff_user",
        subject_ids=[target.id],
        school_id=school_id if school_id is not None else target.school_id,
        now=now,
    )


async def reset_password(
    db: AsyncSession, actor: StaffUser, user_id: uuid.UUID, *, new_password: str, now: datetime
) -> StaffAccountView:
    """Set another staff member's password; all their sessions end."""
    permissions.require(actor, "accounts.reset_password")
    target = await staff_in_scope(db, actor, user_id)
    check_new_password(target.username, new_password)
    target.password_hash = await hash_password_async(new_password)
    revoked = await revoke_sessions(db, target.id)
    _audit(db, actor, target, "staff.password_reset", now=now)
    return _view(target, revoked)


async def set_active(
    db: AsyncSession, actor: StaffUser, user_id: uuid.UUID, *, active: bool, now: datetime
) -> StaffAccountView:
    """Disable (every session ends) or enable an account."""
    permissions.require(actor, "accounts.set_active")
    target = await staff_in_scope(db, actor, user_id)
    if target.id == actor.id and not active:
        raise BadRequest("An account cannot disable itself", code="cannot_disable_self")
    target.active = active
    revoked = 0 if active else await revoke_sessions(db, target.id)
    _audit(db, actor, target, "staff.enabled" if active else "staff.disabled", now=now)
    return _view(target, revoked)


async def move_school(
    db: AsyncSession, actor: StaffUser, user_id: uuid.UUID, *, school_id: uuid.UUID, now: datetime
) -> StaffAccountView:
    """Move a school-bound account to another school of the officer's district; every session
    ends, and the account stops being head teacher of its old school's classes."""
    permissions.require(actor, "accounts.move_school")
    target = await staff_in_scope(db, actor, user_id)
    school = await db.get(School, school_id)
    if school is None or school.district_id != actor.district_id:
        raise NotFound("No such school", code="school_not_found")
    # Only a school-bound account moves (a district officer or auditor belongs to the district).
    if permissions.scope_of(target) not in ("school", "class"):
        raise BadRequest(
            f"A {target.role} account belongs to the district, not to a school",
            code="not_a_school_account",
        )
    old_school = target.school_id
    if old_school != school.id:
        await db.execute(
            update(SchoolClass)
            .where(SchoolClass.head_teacher_id == target.id)
            .values(head_teacher_id=None)
        )
        target.school_id = school.id
    revoked = await revoke_sessions(db, target.id)
    _audit(db, actor, target, "staff.moved", now=now, school_id=old_school)
    return _view(target, revoked)


# --- the command line (``runxin user ...``): the server's operator, no actor account -------


async def _by_username(db: AsyncSession, username: str) -> StaffUser:
    user = await db.scalar(
        select(StaffUser).where(StaffUser.username == username).with_for_update()
    )
    if user is None:
        raise NotFound(f"No staff account named {username!r}", code="staff_not_found")
    return user


async def reset_password_by_operator(
    db: AsyncSession, username: str, *, new_password: str, now: datetime
) -> StaffAccountView:
    """``runxin user reset-password``: set the password; every session ends."""
    target = await _by_username(db, username)
    check_new_password(target.username, new_password)
    target.password_hash = await hash_password_async(new_password)
    revoked = await revoke_sessions(db, target.id)
    _audit(db, None, target, "staff.password_reset", now=now)
    return _view(target, revoked)


async def disable_by_operator(
    db: AsyncSession, username: str, *, now: datetime
) -> StaffAccountView:
    """``runxin user disable``: disable the account; every session ends."""
    target = await _by_username(db, username)
    target.active = False
    revoked = await revoke_sessions(db, target.id)
    _audit(db, None, target, "staff.disabled", now=now)
    return _view(target, revoked)
