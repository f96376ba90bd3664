"""Re-score a campaign's stored responses with the current instrument definitions.

Results are versioned: a stored score keeps the definition version it was computed with. A
re-score reports every result that would change; with ``apply`` it adds new score rows under
the new version (the old rows stay). Tiers and cases are not touched: a changed result is for a
counsellor to review, never an automatic downgrade.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import msgspec
from sqlalchemy import select

import scoring
from instruments import UnknownInstrumentError
from survey_service.db import AsyncSession, Campaign, Response, Score, ScreeningSession
from survey_service.errors import NotFound
from survey_service.screening.results import score_row
from survey_service.services.runtime import Runtime


class ResultSummary(msgspec.Struct, frozen=True):
    version: str
    status: str
    total: float | None
    band: str | None
    positive: bool | None
    flags: tuple[str, ...]


class RescoreChange(msgspec.Struct, frozen=True):
    response_id: uuid.UUID
    session_id: uuid.UUID
    instrument_id: str
    before: ResultSummary
    after: ResultSummary


class RescoreReport(msgspec.Struct, frozen=True):
    campaign_id: uuid.UUID
    responses: int
    unchanged: int
    changed: tuple[RescoreChange, ...]
    errors: tuple[str, ...]
    applied: bool


def _summary(
    *,
    version: str,
    status: str,
    total: float | None,
    band: str | None,
    positive: bool | None,
    flags: list[str] | tuple[str, ...],
) -> ResultSummary:
    return ResultSummary(version, status, total, band, positive, tuple(sorted(flags)))


def _same(a: ResultSummary, b: ResultSummary) -> bool:
    return (a.status, a.total, a.band, a.positive, a.flags) == (
        b.status,
        b.total,
        b.band,
        b.positive,
        b.flags,
    )


async def rescore_campaign(
    db: AsyncSession,
    rt: Runtime,
    campaign_id: uuid.UUID,
    *,
    apply: bool,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> RescoreReport:
    """Re-score every response of ``campaign_id``; see the module docstring."""
    if await db.get(Campaign, campaign_id) is None:
        raise NotFound(f"No campaign with id {campaign_id}", code="campaign_not_found")
    rows = (
        (
            await db.execute(
                select(Response)
                .join(ScreeningSession, ScreeningSession.id == Response.session_id)
                .where(ScreeningSession.campaign_id == campaign_id)
                .order_by(Response.submitted_at, Response.id)
            )
        )
        .scalars()
        .all()
    )
    latest: dict[uuid.UUID, Score] = {}
    scores = (
        await db.scalars(
            select(Score)
            .join(ScreeningSession, ScreeningSession.id == Score.session_id)
            .where(ScreeningSession.campaign_id == campaign_id)
            .order_by(Score.scored_at)
        )
    ).all()
    for stored in scores:
        latest[stored.response_id] = stored
    changed: list[RescoreChange] = []
    errors: list[str] = []
    unchanged = 0
    for n, response in enumerate(rows, start=1):
        old = latest.get(response.id)
        try:
            instrument = rt.catalogue.get(response.instrument_id)
            result = scoring.score(instrument, response.answers)
        except (UnknownInstrumentError, ValueError) as exc:
            errors.append(f"response {response.id} ({response.instrument_id}): {exc}")
            continue
        after = _summary(
            version=result.instrument_version,
            status=result.status,
            total=result.total,
            band=result.band,
            positive=result.positive,
            flags=[f.code for f in result.flags],
        )
        before = (
            _summary(
                version=old.instrument_version,
                status=old.status,
                total=old.total,
                band=old.band,
                positive=old.positive,
                flags=[f["code"] for f in old.flags],
            )
            if old is not None
            else _summary(
                version="-", status="missing", total=None, band=None, positive=None, flags=()
            )
        )
        if _same(before, after):
            unchanged += 1
        else:
            changed.append(
                RescoreChange(
                    response.id, response.session_id, response.instrument_id, before, after
                )
            )
        if apply and (not _same(before, after) or before.version != after.version):
            db.add(
                score_row(
                    result,
                    response_id=response.id,
                    session_id=response.session_id,
                    student_id=response.student_id,
                    now=now,
                )
            )
        if progress is not None and (n % 1000 == 0 or n == len(rows)):
            progress(n, len(rows))
    return RescoreReport(campaign_id, len(rows), unchanged, tuple(changed), tuple(errors), apply)
