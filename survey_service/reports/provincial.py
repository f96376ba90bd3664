"""The provincial aggregate export (issue 15): a district's school year as de-identified,
suppressed counts, in JSON (``docs/schemas/provincial-export.schema.json``) and CSV.

Built on the annual report's figures (:mod:`survey_service.reports.annual`): this module runs
no query of its own beyond finding the district; it reshapes a
:class:`~survey_service.reports.annual.DistrictReport` and adds the protection an export that
leaves the service needs (``docs/provincial-export.md``):

- **Every count is 0, at least k, or null.** A count of 1 to ``k - 1`` (``k`` =
  :data:`~survey_service.campaigns.suppression.MIN_CELL`) is published as
  ``{"value": null, "suppressed": true}``, never as a number.
- **No hidden count can be worked out.** Where counts are published with their totals — the
  schools' coverage and incident reviews with the district's totals, a duty's or deadline's
  parts with its total — the table is protected with complementary cells
  (:func:`survey_service.campaigns.suppression.suppress`); the schools' tier cells come
  protected from the annual report (schools × tiers with both margins). A rate is published
  only when both of its counts are.
- **Nothing about a student.** No id, name, student number, access code, class or answer:
  rows are the district, its schools, tiers, deadlines and duties. Nothing is ordered by a
  score: schools come in the order of their codes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from survey_service.accounts import permissions
from survey_service.campaigns import suppression
from survey_service.db import AsyncSession, District, StaffUser
from survey_service.errors import BadRequest, NotFound
from survey_service.reports import annual
from survey_service.services import audit

SCHEMA_VERSION = "1.0"
KIND = "runxin.provincial-export"
FORMATS = ("json", "csv")
K = suppression.MIN_CELL
#: The operation that downloads the export: the district officer's counts-per-school right.
OPERATION = "cases.district_summary"
COVERAGE = ("invited", "consented", "started", "submitted", "refused")
REVIEWS = ("on_time", "late", "overdue", "pending")
CSV_HEADER = (
    "schema_version",
    "district_code",
    "school_year",
    "scope",
    "school_code",
    "section",
    "item",
    "figure",
    "value",
    "suppressed",
)

Count = dict[str, Any]  # {"value": int | None, "suppressed": bool}
Cells = Sequence[Sequence[int | None]]


def count(value: int | None) -> Count:
    """A published count: shown when 0 or at least ``k``; ``None`` (hidden upstream) or 1 to
    ``k - 1`` is ``{"value": null, "suppressed": true}``."""
    if value is None or 0 < value < K:
        return {"value": None, "suppressed": True}
    if value < 0:
        raise ValueError(f"a count cannot be negative, got {value}")
    return {"value": value, "suppressed": False}


def _shown(c: Count) -> int | None:
    value: int | None = c["value"]
    return value


def _rate(numerator: Count, denominator: Count) -> float | None:
    """``numerator / denominator`` when both are shown and the denominator is not 0."""
    n, d = _shown(numerator), _shown(denominator)
    if n is None or d is None or d == 0:
        return None
    return round(n / d, 4)


@dataclass(frozen=True)
class _Protected:
    """A table of the schools (rows) with the district's column totals, protected together:
    ``cells`` per school, ``rows`` each school's total (``None``: not published), ``columns``
    the district's totals, ``grand`` the district's grand total."""

    cells: Cells
    rows: Sequence[int | None]
    columns: Sequence[int | None]
    grand: int | None


def _protect(table: Sequence[Sequence[int]], *, row_totals: bool) -> _Protected:
    """Protect a schools × measures table published with the district's column totals (and,
    with ``row_totals``, each school's total): primary and complementary suppression. A table
    that cannot be protected while its totals are shown publishes no non-zero figure at all."""
    if not table:
        return _Protected(cells=(), rows=(), columns=(), grand=None)
    width = len(table[0])
    columns = [sum(row[j] for row in table) for j in range(width)]
    grand = sum(columns)
    row_sums = [sum(row) for row in table]
    if len(table) == 1:
        # One school: its row is the district's; protect the row alone, totals follow it.
        if row_totals:
            cells: Cells = suppression.suppress(table, k=K, row_totals=True).cells
        else:
            cells = [[v if v == 0 or v >= K else None for v in table[0]]]
        return _Protected(cells=cells, rows=row_sums, columns=cells[0], grand=grand)
    try:
        cells = suppression.suppress(table, k=K, row_totals=row_totals, column_totals=True).cells
    except ValueError:
        nothing = [[0 if v == 0 else None for v in row] for row in table]
        return _Protected(
            cells=nothing,
            rows=[0 if v == 0 else None for v in row_sums],
            columns=[0 if v == 0 else None for v in columns],
            grand=0 if grand == 0 else None,
        )
    return _Protected(
        cells=cells,
        rows=row_sums if row_totals else [None] * len(table),
        columns=columns,
        grand=grand,
    )


def _within_late(t: annual.Timeliness) -> dict[str, Any]:
    """One deadline's figures: ``within`` and ``late`` protected with their total ``due``."""
    if not t.shown or t.due is None or t.within is None or t.late is None:
        hidden = count(None)
        return {
            "tier": t.tier,
            "measure": t.measure,
            "due": hidden,
            "within": hidden,
            "late": hidden,
            "share_within": None,
            "median_hours": None,
            "p90_hours": None,
        }
    if t.due:
        within_cell, late_cell = suppression.suppress([[t.within, t.late]], k=K).cells[0]
    else:
        within_cell, late_cell = 0, 0
    due, within, late = count(t.due), count(within_cell), count(late_cell)
    published = not (due["suppressed"] or within["suppressed"] or late["suppressed"])
    return {
        "tier": t.tier,
        "measure": t.measure,
        "due": due,
        "within": within,
        "late": late,
        "share_within": _rate(within, due),
        # Times are figures of the deadlines met: only with every count of the row shown.
        "median_hours": t.median_hours if published and t.due >= K else None,
        "p90_hours": t.p90_hours if published and t.due >= K else None,
    }


def _duty(d: annual.Duty) -> dict[str, Any]:
    out: dict[str, Any] = {
        "duty": d.kind,
        "due": count(d.due),
        "done": count(d.done),
        "on_time": count(d.on_time),
        "overdue": count(d.overdue),
    }
    if d.records is not None:
        out["records"] = count(d.records)
    if d.plans is not None:
        out["plans"] = count(d.plans)
    return out


def _coverage(values: Sequence[int | None]) -> dict[str, Any]:
    out: dict[str, Any] = {name: count(v) for name, v in zip(COVERAGE, values, strict=True)}
    out["coverage_rate"] = _rate(out["submitted"], out["invited"])
    return out


def _tiers(t: annual.TierCounts, *, total: int | None, green: bool = True) -> dict[str, Any]:
    out = {"red": count(t.red), "orange": count(t.orange), "yellow": count(t.yellow)}
    if green:
        out["green"] = count(t.green)
    out["total"] = count(total)
    return out


def _reviews(values: Sequence[int | None], total: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"recorded": count(total)}
    out.update({name: count(v) for name, v in zip(REVIEWS, values, strict=True)})
    return out


def build_document(report: annual.DistrictReport) -> dict[str, Any]:
    """The export document (JSON-ready) of a district's annual report; see the schema."""
    year = report.year
    schools = report.schools
    coverage = _protect(
        [[getattr(s.funnel, name) for name in COVERAGE] for s in schools], row_totals=False
    )
    reviews = _protect(
        [[getattr(s.incidents, name) for name in REVIEWS] for s in schools], row_totals=True
    )
    rows = []
    for i, school in enumerate(schools):
        school_coverage = _coverage(coverage.cells[i])
        # A school's screenings by tier add up to its submitted forms: hidden together.
        tier_total = None if school_coverage["submitted"]["suppressed"] else school.tiers.total
        rows.append(
            {
                "code": school.school_code,
                "name": school.school_name,
                "coverage": school_coverage,
                "screenings_by_tier": _tiers(school.tiers, total=tier_total),
                "incident_reviews": _reviews(reviews.cells[i], reviews.rows[i]),
                "ratio_met": school.staffing.ratio_met,
                "counselling_room": school.staffing.counselling_room,
            }
        )
    district_coverage = _coverage(coverage.columns) if schools else _coverage([0] * 5)
    tier_total = None if district_coverage["submitted"]["suppressed"] else year.tiers.total
    staffing = report.staffing
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "generated_at": report.generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "district": {"code": report.district_code, "name": report.district_name},
        "school_year": {
            "label": year.label,
            "first_day": year.first_day.isoformat(),
            "last_day": year.last_day.isoformat(),
        },
        "suppression": {"threshold": K},
        "district_totals": {
            "coverage": district_coverage,
            "screenings_by_tier": _tiers(year.tiers, total=tier_total),
            "cases_by_tier": _tiers(year.cases, total=year.cases.total, green=False),
            "timeliness": [_within_late(t) for t in year.timeliness],
            "care_duties": [_duty(d) for d in year.duties],
            "referrals": {
                "total": count(year.referrals.total),
                "sent": count(year.referrals.sent),
                "accepted": count(year.referrals.accepted),
                "seen": count(year.referrals.seen),
                "feedback": count(year.referrals.feedback),
            },
            "incident_reviews": _reviews(
                reviews.columns if schools else [0] * 4, reviews.grand if schools else 0
            ),
            "staffing": {
                "enrolment": count(staffing.enrolment),
                "counsellors": count(
                    staffing.counsellors_full_time + staffing.counsellors_part_time
                ),
                "counsellors_required": count(staffing.counsellors_required),
                "ratio_met": staffing.ratio_met,
                "classes_from_grade_4": count(staffing.classes),
                "committee_classes_met": count(staffing.committee_classes_met),
                "counselling_rooms_all": staffing.counselling_room,
            },
        },
        "schools": rows,
    }


# --- the files ---------------------------------------------------------------------------------


def _figures(section: str, body: dict[str, Any], item: str = "") -> Iterator[tuple[Any, ...]]:
    for name, value in body.items():
        if name in {"tier", "measure", "duty"}:
            continue
        if isinstance(value, dict):
            yield section, item, name, value["value"], value["suppressed"]
        else:
            yield section, item, name, value, None


def figures(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every figure of the document as ``(scope, school_code, section, item, figure, value,
    suppressed)``; ``suppressed`` is None for a figure that is not a count (a rate, hours, a
    yes/no check)."""
    out: list[tuple[Any, ...]] = []
    totals = doc["district_totals"]
    for section, body in totals.items():
        if isinstance(body, list):
            for entry in body:
                item = f"{entry['tier']}.{entry['measure']}" if "tier" in entry else entry["duty"]
                out += [("district", "", *f) for f in _figures(section, entry, item)]
        else:
            out += [("district", "", *f) for f in _figures(section, body)]
    for school in doc["schools"]:
        for section in ("coverage", "screenings_by_tier", "incident_reviews"):
            out += [("school", school["code"], *f) for f in _figures(section, school[section])]
        for check in ("ratio_met", "counselling_room"):
            out.append(("school", school["code"], "staffing", "", check, school[check], None))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_json(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def to_csv(doc: dict[str, Any]) -> bytes:
    """One row per figure (long format), UTF-8; the same figures as the JSON document."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    head = (doc["schema_version"], doc["district"]["code"], doc["school_year"]["label"])
    for scope, school, section, item, name, value, hidden in figures(doc):
        writer.writerow([*head, scope, school, section, item, name, _cell(value), _cell(hidden)])
    return out.getvalue().encode("utf-8")


def render(doc: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return to_csv(doc)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


# --- who asks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    """A rendered export and its file name (``provincial-{district}-{year}.{fmt}``)."""

    body: bytes
    filename: str
    media_type: str
    document: dict[str, Any]


def _file(doc: dict[str, Any], fmt: str) -> ExportFile:
    name = f"provincial-{doc['district']['code']}-{doc['school_year']['label']}.{fmt}"
    media = "application/json" if fmt == "json" else "text/csv; charset=utf-8"
    return ExportFile(body=render(doc, fmt), filename=name, media_type=media, document=doc)


def check_format(fmt: str | None) -> str:
    if fmt in FORMATS:
        return fmt
    raise BadRequest(
        f"format: must be one of {', '.join(FORMATS)}",
        code="invalid_export_format",
        message={
            "zh-CN": f"导出格式（format）只能是 {'、'.join(FORMATS)}。",
            "en": f"The export format must be one of {', '.join(FORMATS)}.",
        },
        extra={"field": "format"},
    )


async def build_export(
    db: AsyncSession, district: District, *, year: str | None, fmt: str, now: datetime
) -> ExportFile:
    """The export of ``district`` for ``year`` (default: the school year of ``now``); no
    permission check and no audit row (callers: :func:`district_export`, the CLI).

    Raises
    ------
    ValueError
        ``year`` is not a school-year label, or ``fmt`` is not a format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    report = await annual.build_district_report(db, district, year=year, now=now)
    return _file(build_document(report), fmt)


def record_download(
    db: AsyncSession,
    user: StaffUser | None,
    district: District,
    export: ExportFile,
    *,
    fmt: str,
    now: datetime,
) -> None:
    """Audit one download (``export.download``): who, which district, year and format.
    ``user`` None: the operator's command line."""
    audit.record(
        db,
        actor_id=user.id if user is not None else None,
        actor_role=user.role if user is not None else "cli",
        action="export.download",
        subject_type="district",
        subject_ids=[district.id],
        school_id=None,
        now=now,
        detail={
            "export": "provincial",
            "year": export.document["school_year"]["label"],
            "format": fmt,
            "schema_version": SCHEMA_VERSION,
        },
    )


async def district_export(
    db: AsyncSession, user: StaffUser, *, year: str | None, fmt: str | None, now: datetime
) -> ExportFile:
    """The caller's district's export (district officer); the download is audited. A bad
    ``year`` or ``format`` is a 400 naming it."""
    permissions.require(user, OPERATION)
    chosen = check_format(fmt)
    district = await db.get(District, user.district_id)
    if district is None:  # pragma: no cover - an account always has a district
        raise NotFound("No district", code="district_not_found")
    try:
        export = await build_export(db, district, year=year or None, fmt=chosen, now=now)
    except ValueError as exc:
        raise BadRequest(
            f"year: {exc}",
            code="invalid_school_year",
            message={
                "zh-CN": "学年（year）的写法应为两个相连的年份，例如 2026-2027。",
                "en": f"year: {exc}",
            },
            extra={"field": "year"},
        ) from None
    record_download(db, user, district, export, fmt=chosen, now=now)
    return export
