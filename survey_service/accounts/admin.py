"""Administrators' actions on staff accounts (issue 19): reset a password, disable or enable
an account, move it to another school. Each ends every session of the account and is audited.
Issue 13 adds the staff accounts page's services: list the accounts, add one with a one-time
password, reset a password to a new one-time password.

Scope: a school administrator acts on the accounts of their own school, a district officer on
those of their district; any other account answers 404, exactly like a missing one.

A password an administrator sets or is shown is known to someone else: the account must
change it at its next sign-in (``staff_users.must_change_password``, see ``auth``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select, update

from survey_service.accounts import permissions
from survey_service.accounts.auth import check_new_password, one_time_password, revoke_sessions
from survey_service.accounts.permissions import Role
from survey_service.accounts.schemas import StaffAccountView
from survey_service.db import AsyncSession, School, SchoolClass, StaffUser
from survey_service.errors import BadRequest, NotFound, Unprocessable
from survey_service.security import hash_password_async
from survey_service.services import audit

#: Who runs ``runxin user ...`` on the server (audit rows of the command line).
CLI_ACTOR = "cli"


def _not_found() -> NotFound:
    return NotFound("No such staff account", code="staff_not_found")


def _administers(actor: StaffUser, target: StaffUser | None) -> bool:
    if target is None or target.district_id != actor.district_id:
        return False
    return actor.role == permissions.Role.DISTRICT_OFFICER or (
        actor.school_id is not None and target.school_id == actor.school_id
    )


async def staff_in_scope(db: AsyncSession, actor: StaffUser, user_id: uuid.UUID) -> StaffUser:
    """The account, if ``actor`` administers it (row locked for the change); 404 otherwise."""
    target = await db.scalar(select(StaffUser).where(StaffUser.id == user_id).with_for_update())
    if target is None or not _administers(actor, target):
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
    detail: dict[str, str | int] | None = None,
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
        detail=detail,
    )


async def _set_password(
    db: AsyncSession, actor: StaffUser | None, target: StaffUser, password: str, now: datetime
) -> int:
    """Store a password someone else chose or was shown: it must be changed at the next
    sign-in; every session ends; audited. How many sessions ended."""
    check_new_password(target.username, password)
    target.password_hash = await hash_password_async(password)
    target.must_change_password = True
    revoked = await revoke_sessions(db, target.id)
    _audit(db, actor, target, "staff.password_reset", now=now)
    return revoked


async def reset_password(
    db: AsyncSession, actor: StaffUser, user_id: uuid.UUID, *, new_password: str, now: datetime
) -> StaffAccountView:
    """Set another staff member's password (they must change it at their next sign-in); all
    their sessions end."""
    permissions.require(actor, "accounts.reset_password")
    target = await staff_in_scope(db, actor, user_id)
    revoked = await _set_password(db, actor, target, new_password, now)
    return _view(target, revoked)


async def set_active(
    db: AsyncSession, actor: StaffUser, user_id: uuid.UUID, *, active: bool, now: datetime
) -> StaffAccountView:
    """Disable (every session ends) or enable an account."""
    permissions.require(actor, "accounts.set_active")
    target = await staff_in_scope(db, actor, user_id)
    if target.id == actor.id and not active:
        raise BadRequest(
            "An account cannot disable itself",
            code="cannot_disable_self",
            message={"zh-CN": "不能停用自己的账号。", "en": "You cannot disable your own account."},
        )
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
    """``runxin user reset-password``: set the password (to be changed at the next sign-in);
    every session ends."""
    target = await _by_username(db, username)
    revoked = await _set_password(db, None, target, new_password, now)
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


async def enable_by_operator(db: AsyncSession, username: str, *, now: datetime) -> StaffAccountView:
    """``runxin staff enable``: enable a disabled account."""
    target = await _by_username(db, username)
    target.active = True
    _audit(db, None, target, "staff.enabled", now=now)
    return _view(target, 0)


async def reset_one_time_by_operator(
    db: AsyncSession, username: str, *, now: datetime
) -> OneTimePassword:
    """``runxin staff reset-password``: a new one-time password; every session ends."""
    target = await _by_username(db, username)
    password = one_time_password()
    revoked = await _set_password(db, None, target, password, now)
    return _one_time(target, password, revoked)


# --- the staff accounts page (issue 13) ------------------------------------------------------

#: The roles a school administrator may give a new account (all of their school).
SCHOOL_ROLES: tuple[Role, ...] = (
    Role.COUNSELLOR,
    Role.SCHOOL_LEAD,
    Role.HEAD_TEACHER,
    Role.TEACHER,
    Role.SCHOOL_ADMIN,
)
#: A district officer may also add the district's own accounts (no school).
DISTRICT_ROLES: tuple[Role, ...] = (Role.DISTRICT_OFFICER, Role.AUDITOR)

USERNAME_MAX, DISPLAY_NAME_MAX, EMAIL_MAX, PHONE_MAX = 100, 200, 200, 32
_USERNAME = re.compile(r"^\S+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]*$")


@dataclass(frozen=True, slots=True)
class AccountRow:
    """A staff account as the accounts page shows it: never a password or its hash."""

    user_id: uuid.UUID
    username: str
    display_name: str
    role: str
    school_id: uuid.UUID | None
    school_name: str | None
    active: bool
    must_change_password: bool
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class SchoolChoice:
    school_id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class AccountChoices:
    """What an administrator may pick: the schools (a district officer: every school of the
    district; a school administrator: their own) and the roles of a new account."""

    schools: list[SchoolChoice]
    roles: tuple[str, ...]
    district: bool


@dataclass(frozen=True, slots=True)
class AccountList:
    """The accounts an administrator sees (already searched and filtered), and the choices of
    the list's school filter."""

    rows: list[AccountRow]
    choices: AccountChoices


@dataclass(frozen=True, slots=True)
class NewAccount:
    """The add-account form, as typed (checked by :func:`create_account`)."""

    username: str
    display_name: str
    role: str
    school_id: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class OneTimePassword:
    """A password shown once to the administrator who passes it on (stored only hashed)."""

    user_id: uuid.UUID
    username: str
    display_name: str
    password: str
    sessions_revoked: int


def _one_time(target: StaffUser, password: str, revoked: int) -> OneTimePassword:
    return OneTimePassword(
        user_id=target.id,
        username=target.username,
        display_name=target.display_name,
        password=password,
        sessions_revoked=revoked,
    )


def creatable_roles(actor: StaffUser) -> tuple[str, ...]:
    """The roles ``actor`` may give a new account."""
    roles = SCHOOL_ROLES
    if actor.role == Role.DISTRICT_OFFICER:
        roles = SCHOOL_ROLES + DISTRICT_ROLES
    return tuple(r.value for r in roles)


def _account_query() -> Select[StaffUser, str]:
    return select(StaffUser, School.name).outerjoin(School, School.id == StaffUser.school_id)


def _row(user: StaffUser, school_name: str | None) -> AccountRow:
    return AccountRow(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        school_id=user.school_id,
        school_name=school_name,
        active=user.active,
        must_change_password=user.must_change_password,
        email=user.email,
        phone=user.phone,
    )


async def account_choices(db: AsyncSession, actor: StaffUser) -> AccountChoices:
    """The schools and roles ``actor`` may give a new account (and filter the list by)."""
    permissions.require(actor, "accounts.list")
    district = actor.role == Role.DISTRICT_OFFICER
    query = select(School).where(School.district_id == actor.district_id).order_by(School.code)
    if not district:
        query = query.where(School.id == actor.school_id)
    schools = [SchoolChoice(s.id, s.code, s.name) for s in await db.scalars(query)]
    return AccountChoices(schools=schools, roles=creatable_roles(actor), district=district)


async def list_accounts(
    db: AsyncSession, actor: StaffUser, *, search: str = "", school_id: uuid.UUID | None = None
) -> AccountList:
    """The accounts ``actor`` administers, district accounts first, then by school and
    username; ``search`` matches a part of the name or the username (any case); a district
    officer may keep one school's (``school_id``)."""
    permissions.require(actor, "accounts.list")
    district = actor.role == Role.DISTRICT_OFFICER
    query = _account_query().where(StaffUser.district_id == actor.district_id)
    if not district:
        query = query.where(StaffUser.school_id == actor.school_id)
    elif school_id is not None:
        query = query.where(StaffUser.school_id == school_id)
    if search:
        pattern = f"%{_escaped(search)}%"
        query = query.where(
            or_(
                StaffUser.username.ilike(pattern, escape="\\"),
                StaffUser.display_name.ilike(pattern, escape="\\"),
            )
        )
    query = query.order_by(School.code.is_not(None), School.code, StaffUser.username)
    rows = [_row(user, name) for user, name in (await db.execute(query)).all()]
    return AccountList(rows=rows, choices=await account_choices(db, actor))


def _escaped(text: str) -> str:
    """``text`` for a LIKE pattern: its own ``%``, ``_`` and ``\\`` match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def account(db: AsyncSession, actor: StaffUser, user_id: uuid.UUID) -> AccountRow:
    """One account ``actor`` administers; 404 for any other, exactly like a missing one."""
    permissions.require(actor, "accounts.list")
    found = (await db.execute(_account_query().where(StaffUser.id == user_id))).first()
    if found is None or not _administers(actor, found[0]):
        raise _not_found()
    return _row(found[0], found[1])


def _invalid(field: str, detail: str, zh: str, en: str) -> Unprocessable:
    return Unprocessable(
        detail, code="invalid_account", message={"zh-CN": zh, "en": en}, extra={"field": field}
    )


async def _new_account_school(
    db: AsyncSession, actor: StaffUser, role: Role, school_id: str
) -> uuid.UUID | None:
    """The school of a new account: a school administrator's own; a district officer's pick
    among the district's schools (none for a district account)."""
    if role in DISTRICT_ROLES:
        if school_id.strip():
            raise _invalid(
                "school",
                "a district account belongs to no school",
                "区级账号（区教育局、审计员）不属于任何学校，请将“学校”留空。",
                "A district account (district officer, auditor) belongs to no school: "
                "leave “School” empty.",
            )
        return None
    if actor.role != Role.DISTRICT_OFFICER:
        return actor.school_id
    try:
        wanted = uuid.UUID(school_id.strip())
    except ValueError:
        wanted = None
    school = await db.get(School, wanted) if wanted is not None else None
    if school is None or school.district_id != actor.district_id:
        raise _invalid(
            "school",
            "a school account needs a school of the district",
            "请为这个账号选择学校。",
            "Choose the school of this account.",
        )
    return school.id


async def _checked(db: AsyncSession, actor: StaffUser, form: NewAccount) -> tuple[Role, str, str]:
    username, display_name = form.username.strip(), " ".join(form.display_name.split())
    if not username or len(username) > USERNAME_MAX or not _USERNAME.match(username):
        raise _invalid(
            "username",
            f"a username has 1 to {USERNAME_MAX} characters and no spaces",
            f"用户名须为 1–{USERNAME_MAX} 个字符，且不含空格。",
            f"A username has 1 to {USERNAME_MAX} characters and no spaces.",
        )
    if not display_name or len(display_name) > DISPLAY_NAME_MAX:
        raise _invalid(
            "display_name",
            f"a display name has 1 to {DISPLAY_NAME_MAX} characters",
            f"请填写姓名（最多 {DISPLAY_NAME_MAX} 个字符）。",
            f"Enter the name (at most {DISPLAY_NAME_MAX} characters).",
        )
    if form.role not in creatable_roles(actor):
        raise _invalid(
            "role", f"role {form.role!r} cannot be given here", "请选择角色。", "Choose a role."
        )
    email, phone = form.email.strip(), form.phone.strip()
    if email and (len(email) > EMAIL_MAX or not _EMAIL.match(email)):
        raise _invalid(
            "email",
            "not an e-mail address",
            "电子邮箱格式不正确（例如 name@school.cn）。",
            "The e-mail address is not valid (e.g. name@school.cn).",
        )
    if phone and (len(phone) > PHONE_MAX or not _PHONE.match(phone)):
        raise _invalid(
            "phone",
            "not a phone number",
            "电话号码只能包含数字、空格、“+”、“-”和括号。",
            "A phone number has only digits, spaces, “+”, “-” and brackets.",
        )
    if await db.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise _invalid(
            "username",
            f"a staff account named {username!r} already exists",
            f"用户名“{username}”已被使用，请换一个。",
            f"The username “{username}” is taken: choose another.",
        )
    return Role(form.role), username, display_name


async def create_account(
    db: AsyncSession, actor: StaffUser, form: NewAccount, *, now: datetime
) -> OneTimePassword:
    """Add a staff account with a one-time password (shown once, stored hashed, to be changed
    at the first sign-in). Every check comes before the first write.

    Raises
    ------
    Unprocessable
        ``invalid_account`` with ``extra["field"]`` naming the form field (a username taken,
        a role this administrator may not give, a school missing or outside the district...).
    """
    permissions.require(actor, "accounts.create")
    role, username, display_name = await _checked(db, actor, form)
    school_id = await _new_account_school(db, actor, role, form.school_id)
    password = one_time_password()
    user = StaffUser(
        username=username,
        password_hash=await hash_password_async(password),
        role=role.value,
        display_name=display_name,
        district_id=actor.district_id,
        school_id=school_id,
        active=True,
        email=form.email.strip() or None,
        phone=form.phone.strip() or None,
        must_change_password=True,
    )
    db.add(user)
    await db.flush()
    _audit(db, actor, user, "staff.created", now=now, detail={"role": role.value})
    return _one_time(user, password, 0)


async def reset_one_time(
    db: AsyncSession, actor: StaffUser, user_id: uuid.UUID, *, now: datetime
) -> OneTimePassword:
    """A new one-time password for an account ``actor`` administers; its sessions end and it
    must change the password at its next sign-in. One's own password is changed on the
    password page instead (a reset would end the administrator's own session)."""
    permissions.require(actor, "accounts.reset_password")
    target = await staff_in_scope(db, actor, user_id)
    if target.id == actor.id:
        raise BadRequest(
            "Change your own password on the password page",
            code="cannot_reset_self",
            message={
                "zh-CN": "自己的密码请在“修改密码”页面修改。",
                "en": "Change your own password on the “Change password” page.",
            },
        )
    password = one_time_password()
    revoked = await _set_password(db, actor, target, password, now)
    return _one_time(target, password, revoked)
