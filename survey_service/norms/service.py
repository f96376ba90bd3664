"""Norm tables in the database: build from a campaign, load a published file, show, choose.

* :func:`build_from_campaign` reads the campaign's latest scored results with each student's
  grade (their class) and gender, builds one table per scale with :func:`scoring.norms.
  build_norms` and stores it under a new version. The read of the students' scores is audited
  (``norms.build``, one row per build, ids and counts only); the stored table holds aggregates
  only (per group: n and one row per raw score).
* :func:`load_document` stores a published table (``scoring.norms.NormDocument`` JSON).
* :func:`choose_norms` says which version a campaign's results of an instrument are read
  against; :func:`norms_for_results` adds the T-score and percentile rank to the results the
  student's file displays. Display only: nothing here is read by scoring or triage, so a norm
  can never change a band, a flag, a tier or the safety floor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import select

from instruments import Instrument
from scoring import norms as pure
from survey_service.db import (
    AsyncSession,
    Campaign,
    CampaignNorm,
    NormTableRecord,
    SchoolClass,
    Score,
    ScreeningSession,
    Student,
)
from survey_service.errors import Conflict, NotFound, Unprocessable
from survey_service.services import audit
from survey_service.services.runtime import Runtime


class NormTableSummary(msgspec.Struct, frozen=True):
    """What ``runxin norms build|show|load`` prints about one stored table."""

    id: uuid.UUID
    instrument_id: str
    scale: str
    version: str
    source: str
    created_at: datetime
    min_cell: int
    n: int
    groups: list[dict[str, Any]]
    notes: list[str]


def _scales(instrument: Instrument) -> list[tuple[str, tuple[float, float], float]]:
    """(scale id, range, step) of the instrument's total (``"total"``) and subscales."""
    spec = instrument.scoring
    out: list[tuple[str, tuple[float, float], float]] = []
    if spec.total is not None:
        t = spec.total
        out.append(("total", (float(t.range[0]), float(t.range[1])), 10.0**-t.decimals))
    for s in spec.subscales:
        out.append((s.id, (float(s.range[0]), float(s.range[1])), 10.0**-s.decimals))
    return out


def _summary(record: NormTableRecord) -> NormTableSummary:
    doc = record.document
    return NormTableSummary(
        id=record.id,
        instrument_id=record.instrument_id,
        scale=record.scale,
        version=record.version,
        source=record.source,
        created_at=record.created_at,
        min_cell=record.min_cell,
        n=record.n,
        groups=[
            {
                "grades": g["grades"],
                "gender": g["gender"],
                "n": g["n"],
                "raw": [g["rows"][0]["raw"], g["rows"][-1]["raw"]],
            }
            for g in doc["groups"]
        ],
        notes=list(doc.get("notes", [])),
    )


async def _next_version(db: AsyncSession, instrument_id: str) -> str:
    versions = (
        await db.scalars(
            select(NormTableRecord.version).where(NormTableRecord.instrument_id == instrument_id)
        )
    ).all()
    numbers = [int(v) for v in versions if v.isdigit()]
    return str(max(numbers, default=0) + 1)


async def _version_taken(db: AsyncSession, instrument_id: str, scale: str, version: str) -> bool:
    found = await db.scalar(
        select(NormTableRecord.id).where(
            NormTableRecord.instrument_id == instrument_id,
            NormTableRecord.scale == scale,
            NormTableRecord.version == version,
        )
    )
    return found is not None


async def build_from_campaign(
    db: AsyncSession,
    rt: Runtime,
    campaign_id: uuid.UUID,
    *,
    now: datetime,
    instrument_id: str | None = None,
    min_cell: int = 50,
    grade_bands: Sequence[tuple[int, int]] = pure.DEFAULT_GRADE_BANDS,
    progress: Callable[[str], None] | None = None,
) -> list[NormTableSummary]:
    """Build and store the norm tables of a campaign (every scored instrument, or one).

    Raises
    ------
    NotFound
        No such campaign, or an unknown ``instrument_id``.
    Unprocessable
        No scored results to build from, or every cell below ``min_cell``.
    """
    say = progress or (lambda _line: None)
    campaign = await db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}", code="campaign_not_found")
    if instrument_id is not None and rt.catalogue.get(instrument_id, None) is None:
        raise NotFound(f"unknown instrument {instrument_id!r}", code="instrument_not_found")
    query = (
        select(Score, SchoolClass.grade, Student.gender)
        .join(ScreeningSession, ScreeningSession.id == Score.session_id)
        .join(Student, Student.id == Score.student_id)
        .join(SchoolClass, SchoolClass.id == Student.class_id)
        .where(ScreeningSession.campaign_id == campaign_id)
        .order_by(Score.scored_at, Score.id)
    )
    if instrument_id is not None:
        query = query.where(Score.instrument_id == instrument_id)
    latest: dict[uuid.UUID, tuple[Score, int, str | None]] = {}
    for score, grade, gender in (await db.execute(query)).all():
        latest[score.response_id] = (score, grade, gender)  # the newest score of each response
    say(f"read {len(latest)} results of campaign {campaign_id}")
    by_instrument: dict[str, list[tuple[Score, int, str | None]]] = {}
    for row in latest.values():
        if row[0].status == "scored":
            by_instrument.setdefault(row[0].instrument_id, []).append(row)
    if not by_instrument:
        raise Unprocessable(
            f"campaign {campaign_id} has no scored results"
            + (f" of {instrument_id}" if instrument_id else "")
            + " to build norms from",
            code="norms_no_results",
        )
    audit.record(
        db,
        actor_id=None,
        actor_role="cli",
        action="norms.build",
        subject_type="campaign",
        subject_ids=[campaign_id],
        school_id=campaign.school_id,
        now=now,
        detail={
            "instruments": ",".join(sorted(by_instrument)),
            "results": sum(len(v) for v in by_instrument.values()),
        },
    )
    built: list[NormTableSummary] = []
    for inst_id in sorted(by_instrument):
        instrument = rt.catalogue.get(inst_id, None)
        if instrument is None:
            say(f"{inst_id}: not in the instrument library, skipped")
            continue
        rows = by_instrument[inst_id]
        grades = np.array([g for _, g, _ in rows], dtype=np.float64)
        genders = np.array([gd if gd in pure.GENDERS else None for _, _, gd in rows], dtype=object)
        if not _scales(instrument):
            say(f"{inst_id}: no total or subscale to build norms for, skipped")
            continue
        version = await _next_version(db, inst_id)
        for scale, score_range, step in _scales(instrument):
            raw = np.array([_raw(score, scale) for score, _, _ in rows], dtype=np.float64)
            try:
                table = pure.build_norms(
                    raw,
                    grades,
                    genders,
                    instrument_id=inst_id,
                    scale=scale,
                    score_range=score_range,
                    step=step,
                    min_cell=min_cell,
                    grade_bands=grade_bands,
                )
            except ValueError as exc:
                say(f"{inst_id}.{scale}: skipped ({exc})")
                continue
            for note in table.notes:
                say(f"{inst_id}.{scale}: {note}")
            if not table.groups:
                say(f"{inst_id}.{scale}: skipped, no cell reaches {min_cell} results")
                continue
            doc = pure.table_to_document(
                table,
                version=version,
                source=f"campaign:{campaign_id}",
                created_at=now.isoformat(),
            )
            record = _record(doc, now=now, campaign_id=campaign_id)
            db.add(record)
            built.append(_summary(record))
            say(
                f"{inst_id}.{scale}: version {version}, {table.n} results, "
                f"{len(table.groups)} groups"
            )
    if not built:
        raise Unprocessable(
            f"no norm table could be built: no grade band x gender cell reaches {min_cell} "
            "results (lower --min-cell, or build from a larger campaign)",
            code="norms_cells_too_small",
        )
    await db.flush()
    return built


def _raw(score: Score, scale: str) -> float:
    if scale == "total":
        return float("nan") if score.total is None else float(score.total)
    for sub in score.subscales:
        if sub.get("subscale_id") == scale and sub.get("score") is not None:
            return float(sub["score"])
    return float("nan")


def _record(
    doc: pure.NormDocument, *, now: datetime, campaign_id: uuid.UUID | None
) -> NormTableRecord:
    return NormTableRecord(
        id=uuid.uuid4(),
        instrument_id=doc.instrument_id,
        scale=doc.scale,
        version=doc.version,
        source=doc.source,
        campaign_id=campaign_id,
        min_cell=doc.min_cell,
        n=sum(g.n for g in doc.groups),
        created_at=now,
        document=msgspec.to_builtins(doc),
    )


async def load_document(
    db: AsyncSession, rt: Runtime, data: bytes, *, now: datetime
) -> NormTableSummary:
    """Store a norm table from a file (published norms); see :class:`scoring.norms.NormDocument`.

    Raises
    ------
    Unprocessable
        Not a valid document, an unknown instrument or scale, or a raw score outside the scale.
    Conflict
        That instrument, scale and version are already stored.
    """
    try:
        doc = pure.decode_document(data)
    except ValueError as exc:
        raise Unprocessable(str(exc), code="norms_bad_document") from None
    instrument = rt.catalogue.get(doc.instrument_id, None)
    if instrument is None:
        raise Unprocessable(f"unknown instrument {doc.instrument_id!r}", code="norms_bad_document")
    scales = {s: r for s, r, _ in _scales(instrument)}
    if doc.scale not in scales:
        raise Unprocessable(
            f"{doc.instrument_id} has no scale {doc.scale!r}; scales: {', '.join(scales)}",
            code="norms_bad_document",
        )
    low, high = scales[doc.scale]
    for g in doc.groups:
        if g.rows[0].raw < low or g.rows[-1].raw > high:
            raise Unprocessable(
                f"raw scores of grades {g.grades[0]}-{g.grades[1]} {g.gender} lie outside the "
                f"scale's range [{low:g}, {high:g}]",
                code="norms_bad_document",
            )
    if await _version_taken(db, doc.instrument_id, doc.scale, doc.version):
        raise Conflict(
            f"norms {doc.instrument_id}.{doc.scale} version {doc.version!r} already exist",
            code="norms_version_exists",
        )
    record = _record(doc, now=now, campaign_id=None)
    db.add(record)
    audit.record(
        db,
        actor_id=None,
        actor_role="cli",
        action="norms.load",
        subject_type="norm_table",
        subject_ids=[record.id],
        school_id=None,
        now=now,
        detail={"instrument": doc.instrument_id, "scale": doc.scale, "version": doc.version},
    )
    await db.flush()
    return _summary(record)


async def show(
    db: AsyncSession, *, instrument_id: str | None = None, version: str | None = None
) -> list[NormTableSummary]:
    """The stored tables (newest first within an instrument), optionally of one instrument
    and version."""
    query = select(NormTableRecord).order_by(
        NormTableRecord.instrument_id, NormTableRecord.created_at.desc(), NormTableRecord.scale
    )
    if instrument_id is not None:
        query = query.where(NormTableRecord.instrument_id == instrument_id)
    if version is not None:
        query = query.where(NormTableRecord.version == version)
    return [_summary(r) for r in (await db.scalars(query)).all()]


async def document_of(
    db: AsyncSession, instrument_id: str, version: str, scale: str = "total"
) -> dict[str, Any]:
    """The stored document of one table (the file format), for ``norms show --json``."""
    record = await db.scalar(
        select(NormTableRecord).where(
            NormTableRecord.instrument_id == instrument_id,
            NormTableRecord.version == version,
            NormTableRecord.scale == scale,
        )
    )
    if record is None:
        raise NotFound(
            f"no norms {instrument_id}.{scale} version {version!r}", code="norms_not_found"
        )
    return dict(record.document)


async def choose_norms(
    db: AsyncSession, campaign_id: uuid.UUID, instrument_id: str, version: str, *, now: datetime
) -> list[str]:
    """Read the campaign's results of ``instrument_id`` against ``version`` (every scale that
    version has); returns the scales. Replaces an earlier choice."""
    campaign = await db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}", code="campaign_not_found")
    tables = (
        await db.scalars(
            select(NormTableRecord).where(
                NormTableRecord.instrument_id == instrument_id,
                NormTableRecord.version == version,
            )
        )
    ).all()
    if not tables:
        raise NotFound(
            f"no norms of {instrument_id} version {version!r}; see `runxin norms show`",
            code="norms_not_found",
        )
    for table in tables:
        chosen = await db.scalar(
            select(CampaignNorm).where(
                CampaignNorm.campaign_id == campaign_id,
                CampaignNorm.instrument_id == instrument_id,
                CampaignNorm.scale == table.scale,
            )
        )
        if chosen is None:
            db.add(
                CampaignNorm(
                    campaign_id=campaign_id,
                    instrument_id=instrument_id,
                    scale=table.scale,
                    norm_table_id=table.id,
                    chosen_at=now,
                )
            )
        else:
            chosen.norm_table_id, chosen.chosen_at = table.id, now
    audit.record(
        db,
        actor_id=None,
        actor_role="cli",
        action="norms.choose",
        subject_type="campaign",
        subject_ids=[campaign_id],
        school_id=campaign.school_id,
        now=now,
        detail={"instrument": instrument_id, "version": version},
    )
    await db.flush()
    return sorted(t.scale for t in tables)


async def norms_for_results(
    db: AsyncSession,
    campaign_id: uuid.UUID,
    scores: Sequence[Score],
    *,
    grade: int | None,
    gender: str | None,
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Per score id, the T-score and percentile rank of each scale with a chosen norm table.

    Each entry: ``scale``, ``version``, ``t`` and ``percentile`` (1 decimal; ``None`` when no
    group matches the student) and ``clamped`` (the raw score lay outside the norm group's
    observed range). The caller has already checked the reader may see scores.
    """
    if not scores:
        return {}
    chosen = (
        await db.execute(
            select(CampaignNorm.instrument_id, NormTableRecord)
            .join(NormTableRecord, NormTableRecord.id == CampaignNorm.norm_table_id)
            .where(CampaignNorm.campaign_id == campaign_id)
        )
    ).all()
    tables: dict[str, list[NormTableRecord]] = {}
    for inst_id, record in chosen:
        tables.setdefault(inst_id, []).append(record)
    out: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for score in scores:
        for record in sorted(tables.get(score.instrument_id, []), key=lambda r: r.scale):
            table = pure.table_from_document(msgspec.convert(record.document, pure.NormDocument))
            read = pure.apply_norms(
                table,
                [_raw(score, record.scale)],
                [-1 if grade is None else grade],
                np.array([gender if gender in pure.GENDERS else None], dtype=object),
            )
            found = bool(read.group[0] >= 0)
            out.setdefault(score.id, []).append(
                {
                    "scale": record.scale,
                    "version": record.version,
                    "t": round(float(read.t[0]), 1) if found else None,
                    "percentile": round(float(read.percentile[0]), 1) if found else None,
                    "clamped": bool(read.clamped[0]),
                }
            )
    return out


__all__ = [
    "NormTableSummary",
    "build_from_campaign",
    "choose_norms",
    "document_of",
    "load_document",
    "norms_for_results",
    "show",
]
