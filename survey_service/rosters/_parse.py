"""Roster parsing: stream a CSV or XLSX file into valid rows and row errors."""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator, Sequence
from itertools import chain
from pathlib import Path
from types import TracebackType

from survey_service.rosters._convert import RowConverter
from survey_service.rosters._headers import HeaderMap, looks_like_header
from survey_service.rosters._model import RosterParse, RosterRow, RowError
from survey_service.rosters._read import RawRows, open_rows
from survey_service.rosters._values import cell_text

_HEADER_SEARCH = 10  # a title row or two above the header is common; look this far

Item = RosterRow | RowError

# Control characters (tabs and line breaks aside), bidi overrides and isolates, lone surrogates:
# never stored (a NUL fails in PostgreSQL; an override makes a name display as another).
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_CONTROL_REASON = "contains control characters or text-direction overrides (含有控制字符)"


def iter_roster(path: str | os.PathLike[str]) -> RosterStream:
    """Stream a roster file: valid rows and errors, one at a time, in file order.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``/``.tsv``/``.txt`` text file or an ``.xlsx`` workbook (detected from the
        content, not the name).

    Returns
    -------
    RosterStream
        An iterator of :class:`RosterRow` and :class:`RowError`; header errors come first. Its
        ``columns`` and header ``warnings`` are known as soon as it is returned.

    Raises
    ------
    RosterFileError
        When the file is not readable as a roster at all (legacy ``.xls``, damaged workbook,
        neither UTF-8 nor GB18030 text).
    """
    return RosterStream(Path(path))


def parse_roster(path: str | os.PathLike[str]) -> RosterParse:
    """Parse a whole roster file (built on :func:`iter_roster`).

    Parameters
    ----------
    path : str or path-like
        See :func:`iter_roster`.

    Returns
    -------
    RosterParse
        Valid rows, every error (row number, column as written, reason), warnings and the
        column mapping. Nothing may be imported unless ``errors`` is empty.

    Raises
    ------
    RosterFileError
        See :func:`iter_roster`.

    Examples
    --------
    >>> result = parse_roster("roster.csv")  # doctest: +SKIP
    >>> for error in result.errors:  # doctest: +SKIP
    ...     print(error)  # row 3, column 性别: gender 'X' is not recognised (性别): ...
    """
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    with iter_roster(path) as stream:
        for item in stream:
            if isinstance(item, RosterRow):
                rows.append(item)
            else:
                errors.append(item)
        return RosterParse(
            rows=tuple(rows),
            errors=tuple(errors),
            warnings=tuple(stream.warnings),
            columns=dict(stream.columns),
        )


class RosterStream(Iterator[Item]):
    """The iterator :func:`iter_roster` returns; also a context manager that closes the file.

    Attributes
    ----------
    columns : dict of str to str
        Field name to the header as written in the file.
    warnings : list of str
        Notes about the file: ignored columns and sheets, skipped title rows. Complete once the
        stream is exhausted.
    header_row : int
        The spreadsheet row of the header (1 unless title rows sit above it).
    """

    def __init__(self, path: Path) -> None:
        self.warnings: list[str] = []
        self.columns: dict[str, str] = {}
        self.header_row = 1
        raw = open_rows(path, self.warnings)
        try:
            self._items = self._start(raw)
        except BaseException:
            raw.close()
            raise
        self._raw = raw

    def __iter__(self) -> RosterStream:
        return self

    def __next__(self) -> Item:
        return next(self._items)

    def close(self) -> None:
        """Close the underlying file (safe to call more than once)."""
        self._items.close()
        self._raw.close()

    def __enter__(self) -> RosterStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self, raw: RawRows) -> Generator[Item, None, None]:
        """Read up to the header now; return the lazy iterator over the rest."""
        buffered: list[tuple[int, Sequence[object]]] = []
        header: tuple[int, list[str]] | None = None
        for number, cells in raw:
            texts = [cell_text(c) for c in cells]
            if not any(texts):
                continue
            buffered.append((number, cells))
            if looks_like_header(texts):
                header = (number, texts)
                break
            if len(buffered) >= _HEADER_SEARCH:
                break
        if not buffered:
            return _just(RowError(1, "", "the file is empty: no header row (文件为空)"))
        if header is None:  # no recognisable header: the first row is it, and is reported
            first_number, first_cells = buffered[0]
            header = (first_number, [cell_text(c) for c in first_cells])
        header_number, header_cells = header
        rest = [item for item in buffered if item[0] > header_number]
        skipped = [item[0] for item in buffered if item[0] < header_number]
        if skipped:
            rows = f"row {skipped[0]}" if len(skipped) == 1 else f"rows {skipped[0]}-{skipped[-1]}"
            self.warnings.append(
                f"{rows} above the header (row {header_number}) skipped as a title (标题行)"
            )
        self.header_row = header_number
        mapping = HeaderMap(header_number, header_cells)
        self.columns = dict(mapping.header)
        self.warnings.extend(mapping.warnings)
        return self._rows(mapping, chain(rest, raw))

    def _rows(
        self, mapping: HeaderMap, raw: Iterator[tuple[int, Sequence[object]]]
    ) -> Generator[Item, None, None]:
        yield from mapping.errors
        convert = RowConverter(mapping)
        data_rows = 0
        for number, cells in raw:
            bad = _control_column(mapping, cells)
            if bad is not None:
                data_rows += 1
                yield RowError(number, bad, _CONTROL_REASON)
                continue
            item = convert(number, cells)
            if item is None:  # an empty row
                continue
            data_rows += 1
            if isinstance(item, RosterRow):
                yield item
            else:
                yield from item
        if data_rows == 0:
            yield RowError(mapping.row + 1, "", "the file has no student rows (没有学生数据)")


def _control_column(mapping: HeaderMap, cells: Sequence[object]) -> str | None:
    """The header of the first read column whose cell has a control character, else None."""
    for field, index in mapping.index.items():
        cell = cells[index] if index < len(cells) else None
        if isinstance(cell, str) and _CONTROL.search(cell):
            return mapping.header[field]
    return None


def _just(item: Item) -> Generator[Item, None, None]:
    yield item
