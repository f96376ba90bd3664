"""Wire formats of staff login."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from survey_service.schemas import Request, single_line


class LoginRequest(Request, frozen=True):
    username: Annotated[str, single_line(100)]
    password: Annotated[str, single_line(1024)]


class LoginResponse(msgspec.Struct, frozen=True):
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime
    role: str
    display_name: str


class PasswordChangeRequest(Request, frozen=True):
    """``POST /api/v1/auth/password``: the signed-in user's own password."""

    current_password: Annotated[str, single_line(1024)]
    new_password: Annotated[str, single_line(1024)]


class PasswordResetRequest(Request, frozen=True):
    """An administrator sets a staff member's new password."""

    new_password: Annotated[str, single_line(1024)]


class MoveSchoolRequest(Request, frozen=True):
    """A district officer moves a staff account to another school of the district."""

    school_id: uuid.UUID


class StaffAccountView(msgspec.Struct, frozen=True):
    """A staff account after an administrator's action (no password, no token)."""

    user_id: uuid.UUID
    username: str
    role: str
    school_id: uuid.UUID | None
    active: bool
    sessions_revoked: int
