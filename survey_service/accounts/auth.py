"""Staff login with argon2id passwords and opaque bearer tokens (stored as digests).

Sign-in holds under attack (issue 19):

* Throttling before any hashing: ``login_max_failures_account`` failures in a row for one
  account name (known or not), or ``login_max_failures_address`` failures from one client
  address, within ``login_window_s`` answer 429 with the seconds until the window has passed
  (:class:`LoginThrottled`), even for the right password. A success ends the account's run.
* Every attempt is a ``login_attempts`` row and an audit row (``login.ok``, ``login.failed``,
  ``login.throttled``). They are written in short transactions of their own (the request's
  transaction rolls back when the handler answers 401), so :func:`login` takes the session
  factory rather than the request's session. The attempt row is written *before* the password
  is checked (as a failure, turned into a success afterwards), so parallel guesses count at
  once and a crash mid-check counts against the guesser.
* Password checks run on the bounded hashing pool (``security.verify_password_async``).
* Sessions end after ``staff_idle_timeout_s`` without a request and ``staff_token_ttl_s``
  after sign-in, whichever comes first (:func:`authenticate`).

A one-time password (issue 13: a new account, an administrator's reset) is known to someone
else: until the account has chosen its own (:func:`change_password`), it may only change its
password or sign out (:func:`check_password_changed`; the pages redirect to the change form).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from survey_service.accounts import permissions
from survey_service.accounts.schemas import LoginResponse
from survey_service.db import AsyncSession, LoginAttempt, StaffToken, StaffUser
from survey_service.errors import BadRequest, Forbidden, ServiceError, Unauthorized
from survey_service.security import (
    digest,
    dummy_password_hash,
    hash_password_async,
    new_token,
    verify_password_async,
)
from survey_service.services import audit
from survey_service.services.runtime import Runtime
from survey_service.settings import Settings

Sessions = async_sessionmaker[AsyncSession]

#: ``last_used_at`` is written at most this often (no write per request).
TOUCH_EVERY = timedelta(seconds=60)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
USERNAME_KEPT = 100  # login_attempts.username is String(100)
ANONYMOUS = "anonymous"

_WRONG = {"zh-CN": "用户名或密码错误。", "en": "Wrong username or password."}


class LoginThrottled(ServiceError):
    """Too many failed sign-ins for this account or from this address: 429, and
    ``retry_after`` seconds until the window has passed."""

    status, title = 429, "Too many requests"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            f"Too many failed sign-ins; try again in {retry_after} seconds",
            code="too_many_attempts",
            message={
                "zh-CN": f"登录失败次数过多，请 {minutes} 分钟后再试。",
                "en": f"Too many failed sign-ins. Try again in {minutes} minutes.",
            },
            extra={"retry_after": retry_after},
        )
        self.retry_after = retry_after


class PasswordChangeRequired(ServiceError):
    """The account signed in with a one-time password and must choose its own first: 403
    ``password_change_required`` for every operation but changing it and signing out (the
    pages redirect to the password form). Not a :class:`Forbidden`: it is a step to take, not
    an access refusal, so it writes no ``access.denied`` audit row on every page until then."""

    status, title = 403, "Forbidden"

    def __init__(self) -> None:
        super().__init__(
            "Change the one-time password first (POST /api/v1/auth/password)",
            code="password_change_required",
            message={
                "zh-CN": "请先修改一次性密码，再继续使用。",
                "en": "Change your one-time password before you go on.",
            },
        )


#: What an account that must change its password may still do (``accounts.permissions``).
WHILE_PASSWORD_CHANGE_PENDING = frozenset({"accounts.own_password", "session.own"})


def check_password_changed(user: StaffUser, operation: str) -> None:
    """Refuse ``operation`` while the account still has a one-time password.

    Raises
    ------
    PasswordChangeRequired
        ``user.must_change_password`` is set and ``operation`` is neither changing one's own
        password nor signing out.
    """
    if user.must_change_password and operation not in WHILE_PASSWORD_CHANGE_PENDING:
        raise PasswordChangeRequired


# --- sign-in ------------------------------------------------------------------------------


async def login(
    sessions: Sessions,
    rt: Runtime,
    *,
    username: str,
    password: str,
    address: str,
    now: datetime,
) -> LoginResponse:
    """Exchange a username and password for a bearer token.

    Raises
    ------
    LoginThrottled
        Too many recent failures for this account name or from ``address`` (no hashing).
    Unauthorized
        Wrong username or password, or a disabled account (the same answer for each).
    """
    settings = rt.settings
    name = username[:USERNAME_KEPT]
    async with sessions() as db, db.begin():
        user = await db.scalar(select(StaffUser).where(StaffUser.username == username))
        await _serialise_account(db, name)
        wait = await throttled_for(db, settings, username=name, address=address, now=now)
        if wait is not None:
            _audit_attempt(db, user, "login.throttled", now)
        else:
            attempt = LoginAttempt(
                username=name,
                user_id=user.id if user else None,
                address=address[:64],
                at=now,
                ok=False,
            )
            db.add(attempt)
    if wait is not None:
        raise LoginThrottled(wait)
    # An unknown name is checked against a dummy hash: the same time as a wrong password.
    ok = await verify_password_async(
        user.password_hash if user else dummy_password_hash(), password
    )
    ok = ok and user is not None and user.active
    async with sessions() as db, db.begin():
        if not ok or user is None:
            _audit_attempt(db, user, "login.failed", now)
        else:
            await db.execute(
                update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(ok=True)
            )
            _audit_attempt(db, user, "login.ok", now)
            token, expires_at = _issue_token(db, settings, user, now)
    if not ok or user is None:
        raise Unauthorized("Wrong username or password", code="invalid_credentials", message=_WRONG)
    return LoginResponse(
        access_token=token,
        token_type="bearer",  # noqa: S106 - the scheme name, not a secret
        expires_at=expires_at,
        role=user.role,
        display_name=user.display_name,
    )


async def throttled_for(
    db: AsyncSession, settings: Settings, *, username: str, address: str, now: datetime
) -> int | None:
    """Seconds until a sign-in for ``username`` from ``address`` is allowed again, or
    ``None`` when it is allowed now.

    An account name is held back after ``login_max_failures_account`` failures since its last
    success within the window, an address after ``login_max_failures_address`` failures within
    the window; the hold lasts until the oldest failure that makes up the count leaves it.
    """
    window = timedelta(seconds=settings.login_window_s)
    since = now - window
    last_ok = await db.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.ok.is_(True), LoginAttempt.at > since
        )
    )
    waits: list[int] = []
    for column, value, limit, after in (
        (LoginAttempt.username, username, settings.login_max_failures_account, last_ok),
        (LoginAttempt.address, address[:64], settings.login_max_failures_address, None),
    ):
        query = (
            select(LoginAttempt.at)
            .where(column == value, LoginAttempt.ok.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(LoginAttempt.at > after)
        failures = list((await db.scalars(query)).all())
        if limit > 0 and len(failures) >= limit:
            waits.append(max(1, math.ceil((failures[-1] + window - now).total_seconds())))
    return max(waits) if waits else None


async def _serialise_account(db: AsyncSession, username: str) -> None:
    """Make parallel attempts on one account name count one after another. SQLite needs
    nothing (every write transaction begins IMMEDIATE); PostgreSQL takes a transaction-scoped
    advisory lock on the name."""
    if db.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(b"login:" + username.encode()).digest()[:8], "big")
    await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key - (1 << 63)})


def _audit_attempt(db: AsyncSession, user: StaffUser | None, action: str, now: datetime) -> None:
    audit.record(
        db,
        actor_id=user.id if user else None,
        actor_role=user.role if user else ANONYMOUS,
        action=action,
        subject_type="staff_user",
        subject_ids=[user.id] if user else [],
        school_id=user.school_id if user else None,
        now=now,
    )


def _issue_token(
    db: AsyncSession, settings: Settings, user: StaffUser, now: datetime
) -> tuple[str, datetime]:
    token = new_token()
    expires_at = now + timedelta(seconds=settings.staff_token_ttl_s)
    db.add(
        StaffToken(
            user_id=user.id,
            token_digest=digest(settings.secret_key, token),
            created_at=now,
            expires_at=expires_at,
            last_used_at=now,
        )
    )
    return token, expires_at


# --- sessions -----------------------------------------------------------------------------


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ``Unauthorized``."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("A bearer token is required", code="missing_token")
    return authorization[7:].strip()


async def authenticate(
    db: AsyncSession, rt: Runtime, *, authorization: str | None, now: datetime
) -> StaffUser:
    """The staff user behind ``Authorization: Bearer <token>``, or ``Unauthorized``.

    A session ends ``staff_idle_timeout_s`` after its last request and ``staff_token_ttl_s``
    after sign-in. The last use is written at most once a minute, in ``db``'s transaction:
    the caller commits it.
    """
    token = bearer(authorization)
    settings = rt.settings
    row = await db.scalar(
        select(StaffToken).where(StaffToken.token_digest == digest(settings.secret_key, token))
    )
    if (
        row is None
        or row.expires_at <= now
        or row.last_used_at + timedelta(seconds=settings.staff_idle_timeout_s) <= now
    ):
        raise Unauthorized("The bearer token is not valid or has expired", code="invalid_token")
    user = await db.get(StaffUser, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("The account is disabled", code="invalid_token")
    if now - row.last_used_at >= TOUCH_EVERY:
        await db.execute(update(StaffToken).where(StaffToken.id == row.id).values(last_used_at=now))
    return user


async def logout(db: AsyncSession, rt: Runtime, *, token: str) -> bool:
    """Revoke a staff token (sign-out); True when it existed."""
    row = await db.scalar(
        select(StaffToken).where(StaffToken.token_digest == digest(rt.settings.secret_key, token))
    )
    if row is None:
        return False
    await db.delete(row)
    return True


async def sign_out(
    db: AsyncSession, rt: Runtime, *, user: StaffUser, authorization: str | None, now: datetime
) -> None:
    """Revoke the bearer token of this request (``POST /api/v1/auth/logout``), audited."""
    await logout(db, rt, token=bearer(authorization))
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="logout",
        subject_type="staff_user",
        subject_ids=[user.id],
        school_id=user.school_id,
        now=now,
    )


async def revoke_sessions(
    db: AsyncSession, user_id: uuid.UUID, *, keep_digest: str | None = None
) -> int:
    """End every session of an account (but the one ``keep_digest`` names); how many."""
    query = delete(StaffToken).where(StaffToken.user_id == user_id)
    if keep_digest is not None:
        query = query.where(StaffToken.token_digest != keep_digest)
    result = await db.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


# --- passwords ----------------------------------------------------------------------------


def one_time_password() -> str:
    """A random password for someone else to pass on (16 URL-safe characters, 96 bits):
    ``runxin staff add``, the staff accounts page and administrators' resets. The account
    must change it at its next sign-in (``staff_users.must_change_password``)."""
    return secrets.token_urlsafe(12)


def check_new_password(username: str, password: str) -> None:
    """A new password's rules: at least 10 characters, at most 1024, not the username.

    Raises
    ------
    BadRequest
        ``weak_password``, with what is wrong, in English and Chinese.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(
            f"The new password must have at least {MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
            message={
                "zh-CN": f"新密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。",
                "en": f"The new password needs at least {MIN_PASSWORD_LENGTH} characters.",
            },
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(
            f"The new password may have at most {MAX_PASSWORD_LENGTH} characters",
            code="weak_password",
        )
    if password.strip().casefold() == username.strip().casefold():
        raise BadRequest(
            "The new password must not be the username",
            code="weak_password",
            message={
                "zh-CN": "新密码不能与用户名相同。",
                "en": "The new password must not be the username.",
            },
        )


async def change_password(
    sessions: Sessions,
    rt: Runtime,
    *,
    user: StaffUser,
    authorization: str | None,
    current_password: str,
    new_password: str,
    address: str,
    now: datetime,
) -> None:
    """A signed-in user changes their own password; every other session of theirs ends, and
    a one-time password's forced change is done (``must_change_password`` cleared).

    The current password is checked like a sign-in (throttled, counted, audited): a stolen
    token must not become a way to guess it.

    Raises
    ------
    BadRequest
        The new password breaks a rule (nothing is checked or written).
    LoginThrottled
        Too many recent failures for this account or address.
    Forbidden
        ``wrong_password``: the current password is wrong.
    """
    permissions.require(user, "accounts.own_password")
    check_new_password(user.username, new_password)
    if new_password == current_password:
        raise BadRequest(
            "The new password must differ from the current one",
            code="weak_password",
            message={
                "zh-CN": "新密码不能与当前密码相同。",
                "en": "The new password must differ from the current one.",
            },
        )
    settings = rt.settings
    keep = digest(settings.secret_key, bearer(authorization))
    name = user.username[:USERNAME_KEPT]
    async with sessions() as db, db.begin():
        await _serialise_account(db, name)
        wait = await throttled_for(db, settings, username=name, address=address, now=now)
        if wait is not None:
            _audit_attempt(db, user, "password.throttled", now)
        else:
            attempt = LoginAttempt(
                username=name, user_id=user.id, address=address[:64], at=now, ok=False
            )
            db.add(attempt)
    if wait is not None:
        raise LoginThrottled(wait)
    if not await verify_password_async(user.password_hash, current_password):
        async with sessions() as db, db.begin():
            _audit_attempt(db, user, "password.change_failed", now)
        raise Forbidden(
            "The current password is wrong",
            code="wrong_password",
            message={"zh-CN": "当前密码不正确。", "en": "The current password is wrong."},
        )
    new_hash = await hash_password_async(new_password)
    async with sessions() as db, db.begin():
        await db.execute(update(LoginAttempt).where(LoginAttempt.id == attempt.id).values(ok=True))
        await db.execute(
            update(StaffUser)
            .where(StaffUser.id == user.id)
            .values(password_hash=new_hash, must_change_password=False)
        )
        await revoke_sessions(db, user.id, keep_digest=keep)
        _audit_attempt(db, user, "password.changed", now)
