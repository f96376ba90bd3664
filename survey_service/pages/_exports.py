"""CSV and XLSX downloads of tables (coverage, task lists). Never a ranking by score."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from litestar import Response

Cell = str | int | float | None

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: Cell) -> Cell:
    """A text cell that a spreadsheet would run as a formula is written as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append(list(header))
    for row in rows:
        ws.append([_safe(v) for v in row])
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download(
    name: str, fmt: str, sheet: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
) -> Response[bytes]:
    if fmt == "xlsx":
        body = xlsx_bytes(sheet, header, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = csv_bytes(header, rows)
        media = "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
