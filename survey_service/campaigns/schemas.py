"""Wire formats of campaign work answered as Structs (consents)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class ConsentRecorded(msgspec.Struct, frozen=True):
    """A guardian's recorded consent or refusal."""

    consent_id: uuid.UUID
    status: str
    notice_version: str | None = None
    verification_method: str | None = None
    verified_by: uuid.UUID | None = None


class ConsentWithdrawn(msgspec.Struct, frozen=True):
    """A recorded withdrawal (issue 19): how many sessions in progress it stopped and which
    open cases stay open with the counsellor, who was told."""

    consent_id: uuid.UUID
    status: str
    withdrawn_at: datetime
    sessions_stopped: int
    open_cases_kept: list[uuid.UUID]
