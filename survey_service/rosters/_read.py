"""Raw rows from a file, streamed: ``(spreadsheet row number, cells)`` one at a time.

CSV: the encoding is UTF-8 (with or without BOM) when the whole file decodes strictly as UTF-8
(checked in 1 MiB chunks, nothing kept), else GB18030 (which includes GBK and GB2312);
UTF-16 LE or BE with a BOM (Excel's "Unicode text") is read too, checked the same way. Anything
else is refused with the encodings accepted named. The delimiter (comma, tab or semicolon)
is the one that splits the first lines into the most fields. Row numbers count records, as a
spreadsheet shows them, so a quoted cell with a line break stays one row.

XLSX: the workbook's active sheet, cached formula values; date cells arrive as dates and numbers
as numbers. Read by the streaming reader in ``_xlsx`` (several times faster than openpyxl's
read-only mode), or by openpyxl in read-only mode for a workbook that reader declines.
"""

from __future__ import annotations

import codecs
import csv
import warnings
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from survey_service.rosters._model import RosterFileError
from survey_service.rosters._xlsx import Unsupported, read_xlsx

RawRows = Generator[tuple[int, Sequence[object]], None, None]

_CHUNK = 1 << 20
_DELIMITERS = (",", "\t", ";")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def detect_kind(path: Path) -> str:
    """``"xlsx"`` or ``"csv"``, from the file's first bytes (the extension breaks no ties)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise RosterFileError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        raise RosterFileError(
            f"{path.name} is a legacy .xls or a password-protected workbook (旧版Excel); "
            "save it as .xlsx or CSV (UTF-8) and try again"
        )
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        raise RosterFileError(f"{path.name} is not a valid .xlsx workbook (文件已损坏)")
    return "csv"


def open_rows(path: Path, notes: list[str], *, engine: str = "fast") -> RawRows:
    """Stream the rows of ``path``; file-level notes (ignored sheets) go to ``notes``.

    ``engine="openpyxl"`` reads a workbook with openpyxl only (the fast reader's reference).
    """
    if detect_kind(path) == "xlsx":
        if engine == "fast":
            try:
                return read_xlsx(path, notes)
            except Unsupported:
                pass
        return _xlsx_rows(path, notes)
    return _csv_rows(path, notes)


# --------------------------------------------------------------------------- CSV


ENCODINGS_ACCEPTED = "UTF-8 (with or without BOM), GB18030/GBK, or UTF-16 with a BOM"


def detect_encoding(path: Path) -> str:
    """The codec to read ``path`` with: ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``.

    A byte-order mark decides (UTF-8 or UTF-16 LE/BE), and the whole file must then decode
    strictly; without one, strict UTF-8 is tried first, then GB18030. A NUL character in the
    text, or a file none of these decode, is a :class:`RosterFileError` naming the encodings
    accepted — never a decoding error halfway through an import.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        candidates = ("utf-16",)
    else:
        candidates = ("utf-8", "gb18030")
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise RosterFileError(
        f"{path.name} is neither UTF-8 nor GB18030 text, nor UTF-16 with a BOM "
        "(文件编码无法识别); "
        f"save it as {ENCODINGS_ACCEPTED} (请另存为 UTF-8、GB18030 或带 BOM 的 UTF-16)"
    )


def _decodes(path: Path, encoding: str) -> bool:
    """True when the whole file decodes strictly with ``encoding`` and has no NUL character."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                if "\x00" in decoder.decode(chunk):
                    return False
            if "\x00" in decoder.decode(b"", final=True):
                return False
        except UnicodeDecodeError:
            return False
    return True


def sniff_delimiter(sample: str) -> str:
    """Comma, tab or semicolon: the one giving the most fields on the first lines."""
    lines = sample.splitlines()[:5]
    best, best_fields = ",", 1
    for delimiter in _DELIMITERS:
        fields = max(
            (len(row) for row in csv.reader(lines, delimiter=delimiter, strict=False)),
            default=0,
        )
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


def _csv_rows(path: Path, notes: list[str]) -> RawRows:
    del notes
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        delimiter = sniff_delimiter(handle.read(64 * 1024))
    return _csv_iter(path, encoding, delimiter)


def _csv_iter(path: Path, encoding: str, delimiter: str) -> RawRows:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, cells
        except csv.Error as exc:
            raise RosterFileError(f"row {number + 1}: the CSV is malformed ({exc})") from exc


# --------------------------------------------------------------------------- XLSX


def _xlsx_rows(path: Path, notes: list[str]) -> RawRows:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style", unsupported extensions
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged upload can fail in many ways inside openpyxl
        raise RosterFileError(
            f"{path.name} is not a readable .xlsx workbook (无法读取的Excel文件): {exc}"
        ) from exc
    sheet = book.active
    if sheet is None or not hasattr(sheet, "iter_rows"):
        book.close()
        raise RosterFileError(f"{path.name} has no worksheet (没有工作表)")
    others = [name for name in book.sheetnames if name != sheet.title]
    if others:
        notes.append(
            f"only the sheet {sheet.title} is read; other sheets are ignored: {', '.join(others)}"
        )
    return _xlsx_iter(book, sheet)


def _xlsx_iter(book: Any, sheet: Any) -> RawRows:
    try:
        sheet.reset_dimensions()  # the stored dimension may be wrong: read every row there is
        yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
    except Exception as exc:  # damaged XML or zip members surface only while reading
        raise RosterFileError(f"the workbook is damaged (文件已损坏): {exc}") from exc
    finally:
        book.close()
