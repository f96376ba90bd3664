"""Instruments installed by schools and districts (``runxin instruments add``).

A licensed school loads its own definition file (for example SCL-90 or MSSMHS scoring with its
own item text). It is validated exactly like a shipped definition, stored in the database so
every process sees it, and joins the catalogue at start-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from instruments import Catalogue, DefinitionError, Instrument, parse_definition
from survey_service.db import AsyncSession, InstrumentDefinition
from survey_service.errors import Conflict


async def installed_instruments(db: AsyncSession) -> list[Instrument]:
    """The newest installed version of each installed instrument id."""
    rows = (
        await db.scalars(select(InstrumentDefinition).order_by(InstrumentDefinition.installed_at))
    ).all()
    latest: dict[str, InstrumentDefinition] = {}
    for row in rows:
        latest[row.instrument_id] = row
    return [
        parse_definition(row.document, f"database:{row.instrument_id}@{row.version}")
        for row in latest.values()
    ]


def merge_catalogue(base: Catalogue, installed: Sequence[Instrument]) -> Catalogue:
    """The shipped catalogue plus installed instruments (which may not replace shipped ones)."""
    return Catalogue([*base.values(), *installed])


async def install_definition(
    db: AsyncSession, document: bytes, *, source: str, shipped: Catalogue, now: datetime
) -> tuple[Instrument, bool]:
    """Validate and store one definition; returns ``(instrument, newly_installed)``.

    Raises ``DefinitionError`` naming the file and field for a malformed definition, and
    ``Conflict`` when the id belongs to a shipped instrument or the same id and version is
    already installed with different content. Installing identical content again is a no-op.
    """
    instrument = parse_definition(document, source)
    if instrument.id in shipped:
        raise Conflict(
            f"{source}: instrument id {instrument.id!r} is a shipped instrument and cannot be "
            "replaced; give the definition its own id",
            code="instrument_id_taken",
        )
    digest = hashlib.sha256(document).hexdigest()
    existing = await db.scalar(
        select(InstrumentDefinition).where(
            InstrumentDefinition.instrument_id == instrument.id,
            InstrumentDefinition.version == instrument.version,
        )
    )
    if existing is not None:
        if existing.sha256 == digest:
            return instrument, False
        raise Conflict(
            f"{source}: {instrument.id} version {instrument.version} is already installed with "
            "different content; raise the version to install a changed definition",
            code="instrument_version_exists",
        )
    db.add(
        InstrumentDefinition(
            instrument_id=instrument.id,
            version=instrument.version,
            document=document.decode("utf-8"),
            sha256=digest,
            installed_at=now,
        )
    )
    return instrument, True


__all__ = [
    "DefinitionError",
    "install_definition",
    "installed_instruments",
    "merge_catalogue",
]
