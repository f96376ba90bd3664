"""Wire formats of campaign work answered as Structs (consents)."""

from __future__ import annotations

import uuid

import msgspec


class ConsentRecorded(msgspec.Struct, frozen=True):
    """A guardian's recorded consent or refusal."""

    consent_id: uuid.UUID
    status: str
