"""Wire formats of staff login."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from survey_service.schemas import Request


class LoginRequest(Request, frozen=True):
    username: str
    password: str


class LoginResponse(msgspec.Struct, frozen=True):
    access_token: str
    token_type: Literal["bearer"]
    expires_at: datetime
    role: str
    display_name: str
