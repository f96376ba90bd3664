"""The psychometrician's report of a campaign (issue 16): reliability, item analysis and DIF.

Reads the submitted answers of a campaign per instrument (``responses`` joined to the
campaign's ``screening_sessions`` and the students' recorded gender), and computes with the
pure functions of :mod:`scoring.reliability` and :mod:`scoring.dif`: n, Cronbach's α with its
Feldt interval, McDonald's ω, the classical item statistics, and DIF between girls (focal) and
boys (reference) matched on the total score. Only aggregates leave this module: never a
student's identity or answers, never an ordering of students.

Small cells (``suppression.MIN_CELL``, k = 5) are hidden: an instrument answered by fewer than
k students gets no statistics and no count; DIF runs only when both genders have at least k
complete answer sets (otherwise neither group's count is shown); a floor, ceiling or
missingness rate whose count is 1 to k − 1 is shown as ``None``, and with it the mean and SD
of a two-valued item (whose mean is its ceiling rate); the count of complete answer sets (and
the DIF group counts) are left out when 1 to k − 1 sets are incomplete. Reverse-keyed items are
reversed (``min + max − value``) before the analysis, as the scoring spec keys them; items not
in the instrument's ``scored_items`` are left out. Reading the report is audited
(``psychometrics.read``) in the caller's transaction.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import msgspec
import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instruments import Catalogue, Instrument
from scoring import dif, reliability
from survey_service.campaigns.suppression import MIN_CELL
from survey_service.db import Campaign, Response, ScreeningSession, Student
from survey_service.errors import NotFound
from survey_service.services import audit

REFERENCE, FOCAL = "male", "female"


class ItemRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Classical statistics of one item (rates ``None`` where their count is 1 to k − 1)."""

    item: str
    mean: float | None
    sd: float | None
    r_drop: float | None
    alpha_if_deleted: float | None
    missing: float | None
    floor: float | None
    ceiling: float | None


class DifRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """DIF of one item: ``mantel_haenszel`` (binary) or ``mantel`` (ordered categories).

    ``effect`` is ΔMH (ETS delta, negative: the item favours boys) for binary items and the
    standardized mean difference (girls − boys) for ordered ones; ``effect_size`` is ΔMH again
    for binary items (the delta scale is itself the effect size) and SMD / SD for ordered ones;
    ``category`` is ETS A/B/C (binary) or AA/BB/CC (ordered).
    """

    item: str
    method: Literal["mantel_haenszel", "mantel"]
    chi2: float
    p_value: float
    effect: float
    effect_size: float
    category: str


class DifSummary(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """DIF by gender; ``status`` ``suppressed`` when a group has fewer than k complete sets."""

    status: Literal["done", "suppressed", "not_computable"]
    reference: str
    focal: str
    matching: str
    n_reference: int | None
    n_focal: int | None
    items: tuple[DifRow, ...]


class InstrumentReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The statistics of one instrument (version) in the campaign."""

    instrument_id: str
    version: str
    status: Literal["done", "suppressed", "not_computable", "unknown_instrument"]
    n: int | None
    n_complete: int | None
    items_analysed: tuple[str, ...]
    alpha: float | None = None
    alpha_ci: tuple[float, float] | None = None
    omega: float | None = None
    omega_psych: float | None = None
    total_floor: float | None = None
    total_ceiling: float | None = None
    items: tuple[ItemRow, ...] = ()
    dif: DifSummary | None = None
    note: str = ""


class PsychometricReport(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The psychometrician's report of one campaign."""

    campaign_id: str
    campaign_name: str
    school_year: str
    min_cell: int
    missing: str
    confidence_level: float
    instruments: tuple[InstrumentReport, ...]


async def campaign_report(
    db: AsyncSession,
    catalogue: Catalogue,
    campaign_id: uuid.UUID,
    *,
    now: datetime,
    actor_id: uuid.UUID | None = None,
    actor_role: str = "cli",
) -> PsychometricReport:
    """Build the psychometric report of campaign ``campaign_id`` and audit the read.

    Raises
    ------
    NotFound
        No campaign with that id.
    """
    campaign = await db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign with id {campaign_id}", code="campaign_not_found")
    rows = await db.execute(
        select(
            Response.instrument_id, Response.instrument_version, Response.answers, Student.gender
        )
        .join(ScreeningSession, ScreeningSession.id == Response.session_id)
        .join(Student, Student.id == Response.student_id)
        .where(ScreeningSession.campaign_id == campaign_id)
        .order_by(Response.instrument_id, Response.instrument_version, Response.id)
    )
    groups: dict[tuple[str, str], list[tuple[Mapping[str, Any], str | None]]] = defaultdict(list)
    for instrument_id, version, answers, gender in rows:
        groups[(instrument_id, version)].append((answers or {}, gender))
    reports = tuple(
        _instrument_report(iid, version, catalogue.get(iid, None), answer_sets)
        for (iid, version), answer_sets in sorted(groups.items())
    )
    audit.record(
        db,
        actor_id=actor_id,
        actor_role=actor_role,
        action="psychometrics.read",
        subject_type="campaign",
        subject_ids=[campaign.id],
        school_id=campaign.school_id,
        now=now,
        detail={"report": "psychometrics", "instruments": len(reports)},
    )
    return PsychometricReport(
        campaign_id=str(campaign.id),
        campaign_name=campaign.name,
        school_year=campaign.school_year,
        min_cell=MIN_CELL,
        missing="pairwise",
        confidence_level=0.95,
        instruments=reports,
    )


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _rate(rate: float, n: int) -> float | None:
    """A rate of ``n`` answers, hidden when its count is 1 to k − 1."""
    if not math.isfinite(rate):
        return None
    count = round(rate * n)
    return None if 0 < count < MIN_CELL else float(rate)


def answer_matrix(instrument: Instrument, answer_sets: list[Mapping[str, Any]]) -> np.ndarray:
    """The ``(N, J)`` matrix of the scored items, reverse-keyed items reversed, NaN missing."""
    spec = instrument.scoring
    reverse = set(spec.reverse_items)
    x = np.full((len(answer_sets), len(spec.scored_items)), np.nan)
    for j, item_id in enumerate(spec.scored_items):
        item = instrument.item(item_id)
        allowed = set(item.values)
        for i, answers in enumerate(answer_sets):
            value = answers.get(item_id)
            if isinstance(value, int) and not isinstance(value, bool) and value in allowed:
                x[i, j] = item.min_value + item.max_value - value if item_id in reverse else value
    return x


def _instrument_report(
    instrument_id: str,
    version: str,
    instrument: Instrument | None,
    answer_sets: list[tuple[Mapping[str, Any], str | None]],
) -> InstrumentReport:
    n = len(answer_sets)
    if instrument is None:
        return InstrumentReport(
            instrument_id, version, "unknown_instrument", None, None, (),
            note="the instrument is not in the catalogue",
        )  # fmt: skip
    names = instrument.scoring.scored_items
    if n < MIN_CELL:
        return InstrumentReport(
            instrument_id, version, "suppressed", None, None, names,
            note=f"fewer than {MIN_CELL} answer sets",
        )  # fmt: skip
    x = answer_matrix(instrument, [a for a, _ in answer_sets])
    low = np.array([instrument.item(i).min_value for i in names], dtype=float)
    high = np.array([instrument.item(i).max_value for i in names], dtype=float)
    if len(names) < 2:
        return InstrumentReport(
            instrument_id, version, "not_computable", n, None, names,
            note="fewer than two scored items",
        )  # fmt: skip
    try:
        result = reliability.item_analysis(x, names=names, low=low, high=high)
    except ValueError as exc:
        return InstrumentReport(
            instrument_id, version, "not_computable", n, None, names, note=str(exc)
        )
    items = tuple(_item_row(instrument, s, n) for s in result.items)
    genders = np.array([g for _, g in answer_sets], dtype=object)
    return InstrumentReport(
        instrument_id=instrument_id,
        version=version,
        status="done",
        n=n,
        n_complete=None if _small(n - result.n_complete) else result.n_complete,
        items_analysed=names,
        alpha=result.alpha.alpha,
        alpha_ci=(result.alpha.ci_low, result.alpha.ci_high),
        omega=result.omega.omega if result.omega is not None else None,
        omega_psych=result.omega.omega_psych if result.omega is not None else None,
        total_floor=_rate(result.total_floor, result.n_complete),
        total_ceiling=_rate(result.total_ceiling, result.n_complete),
        items=items,
        dif=_dif(instrument, x, genders, show_counts=not _small(n - result.n_complete)),
    )


def _small(count: int) -> bool:
    """Whether a count is a small cell (1 to k − 1)."""
    return 0 < count < MIN_CELL


def _item_row(instrument: Instrument, s: reliability.ItemStatistics, n: int) -> ItemRow:
    """One item's row; for a two-valued item the mean *is* the ceiling rate, so when its floor
    or ceiling is a small cell the mean and SD go too (complementary suppression)."""
    floor, ceiling = _rate(s.floor, s.n), _rate(s.ceiling, s.n)
    mean, sd = _finite(s.mean), _finite(s.sd)
    hidden = (floor is None and math.isfinite(s.floor)) or (
        ceiling is None and math.isfinite(s.ceiling)
    )
    if hidden and len(instrument.item(s.name).values) == 2:
        floor = ceiling = mean = sd = None
    return ItemRow(
        item=s.name,
        mean=mean,
        sd=sd,
        r_drop=_finite(s.r_drop),
        alpha_if_deleted=_finite(s.alpha_if_deleted),
        missing=_rate(s.missing, n),
        floor=floor,
        ceiling=ceiling,
    )


def _dif(
    instrument: Instrument, x: np.ndarray, genders: np.ndarray, *, show_counts: bool
) -> DifSummary:
    """DIF girls vs boys; the group counts are left out when they would let a small count of
    incomplete answer sets be worked out (``show_counts`` False)."""
    complete = ~np.isnan(x).any(axis=1)
    known = complete & ((genders == REFERENCE) | (genders == FOCAL))
    n_ref = int((known & (genders == REFERENCE)).sum())
    n_foc = int((known & (genders == FOCAL)).sum())
    matching = "total score of the scored items, studied item included (complete answer sets)"
    if n_ref < MIN_CELL or n_foc < MIN_CELL:
        return DifSummary("suppressed", REFERENCE, FOCAL, matching, None, None, ())
    xs, focal = x[known], genders[known] == FOCAL
    total = xs.sum(axis=1)
    rows = []
    try:
        for j, item_id in enumerate(instrument.scoring.scored_items):
            item = instrument.item(item_id)
            column = xs[:, j]
            if len(item.values) == 2:
                binary = (column == item.max_value).astype(float)
                b = dif.mantel_haenszel(binary, focal, total)
                rows.append(
                    DifRow(item_id, "mantel_haenszel", b.chi2, b.p_value, b.delta, b.delta,
                           b.category)
                )  # fmt: skip
            else:
                o = dif.mantel_ordinal(column, focal, total)
                rows.append(
                    DifRow(item_id, "mantel", o.chi2, o.p_value, o.smd, o.effect_size,
                           o.category)
                )  # fmt: skip
    except ValueError:
        return DifSummary("not_computable", REFERENCE, FOCAL, matching, None, None, ())
    if not show_counts:
        return DifSummary("done", REFERENCE, FOCAL, matching, None, None, tuple(rows))
    return DifSummary("done", REFERENCE, FOCAL, matching, n_ref, n_foc, tuple(rows))


_TEXT_STATUS = {
    "done": "",
    "suppressed": "suppressed: fewer than {k} / 少于 {k} 人，不显示",
    "not_computable": "not computable / 无法计算",
    "unknown_instrument": "instrument not in the catalogue / 量表不在目录中",
}


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render_text(report: PsychometricReport) -> str:
    """The report as plain text (bilingual headings), one block per instrument."""
    out = [
        f"Psychometric report / 心理测量报告: {report.campaign_name} ({report.school_year})",
        f"campaign {report.campaign_id}; small cells < {report.min_cell} hidden / 小于"
        f" {report.min_cell} 的单元格不显示; missing answers: {report.missing} / 缺失值：成对删除",
    ]
    for r in report.instruments:
        out.append("")
        out.append(f"== {r.instrument_id} {r.version}")
        if r.status != "done":
            note = f" ({r.note})" if r.status == "not_computable" and r.note else ""
            out.append(_TEXT_STATUS[r.status].format(k=report.min_cell) + note)
            continue
        ci = r.alpha_ci or (math.nan, math.nan)
        complete = "—" if r.n_complete is None else str(r.n_complete)
        out.append(
            f"n = {r.n} (complete / 完整 {complete}); "
            f"Cronbach α = {_num(r.alpha)} [{ci[0]:.3f}, {ci[1]:.3f}]; "
            f"McDonald ω = {_num(r.omega)}"
        )
        out.append(
            f"total floor / 总分地板 {_num(r.total_floor)}; "
            f"ceiling / 天花板 {_num(r.total_ceiling)}"
        )
        out.append("item / 条目     mean    sd  r.drop α-del  miss floor ceil")
        for i in r.items:
            out.append(
                f"{i.item:<14}{_num(i.mean, 2):>6}{_num(i.sd, 2):>6}{_num(i.r_drop, 2):>7}"
                f"{_num(i.alpha_if_deleted, 2):>6}{_num(i.missing, 2):>6}{_num(i.floor, 2):>6}"
                f"{_num(i.ceiling, 2):>6}"
            )
        d = r.dif
        if d is None:
            continue
        if d.status != "done":
            out.append(
                "DIF by gender / 性别 DIF: " + _TEXT_STATUS[d.status].format(k=report.min_cell)
            )
            continue
        n_f = "—" if d.n_focal is None else d.n_focal
        n_r = "—" if d.n_reference is None else d.n_reference
        out.append(
            f"DIF by gender / 性别 DIF (focal {d.focal} n={n_f}, reference {d.reference} "
            f"n={n_r}; matched on the total score / 按总分匹配):"
        )
        for row in d.items:
            out.append(
                f"  {row.item:<14}{row.method:<16} χ²={row.chi2:7.2f} p={row.p_value:.3f} "
                f"effect={row.effect:+.2f} {row.category}"
            )
    return "\n".join(out) + "\n"
