"""Staff login with argon2id passwords and opaque bearer tokens (stored as digests)."""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import select

from survey_service.accounts.schemas import LoginResponse
from survey_service.db import AsyncSession, StaffToken, StaffUser
from survey_service.errors import Unauthorized
from survey_service.security import digest, dummy_password_hash, new_token, verify_password
from survey_service.services.runtime import Runtime


async def login(
    db: AsyncSession, rt: Runtime, *, username: str, password: str, now: datetime
) -> LoginResponse:
    """Exchange a username and password for a bearer token."""
    user = await db.scalar(select(StaffUser).where(StaffUser.username == username))
    # Verifying against a dummy hash (made on first use, with the configured hasher) for
    # unknown users keeps response times alike.
    # argon2 takes ~0.1 s of CPU: off the event loop, so a flood of bad logins does not stall
    # every other request.
    ok = await anyio.to_thread.run_sync(
        verify_password, user.password_hash if user else dummy_password_hash(), password
    )
    if user is None or not ok or not user.active:
        raise Unauthorized(
            "Wrong username or password",
            code="invalid_credentials",
            message={"zh-CN": "用户名或密码错误。", "en": "Wrong username or password."},
        )
    token = new_token()
    expires_at = now + timedelta(seconds=rt.settings.staff_token_ttl_s)
    db.add(
        StaffToken(
            user_id=user.id,
            token_digest=digest(rt.settings.secret_key, token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return LoginResponse(
        access_token=token,
        token_type="bearer",  # noqa: S106 - the scheme name, not a secret
        expires_at=expires_at,
        role=user.role,
        display_name=user.display_name,
    )


async def authenticate(
    db: AsyncSession, rt: Runtime, *, authorization: str | None, now: datetime
) -> StaffUser:
    """The staff user behind ``Authorization: Bearer <token>``, or ``Unauthorized``."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("A bearer token is required", code="missing_token")
    token = authorization[7:].strip()
    row = await db.scalar(
        select(StaffToken).where(StaffToken.token_digest == digest(rt.settings.secret_key, token))
    )
    if row is None or row.expires_at <= now:
        raise Unauthorized("The bearer token is not valid or has expired", code="invalid_token")
    user = await db.get(StaffUser, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("The account is disabled", code="invalid_token")
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
