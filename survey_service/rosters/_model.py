"""The roster's value types: parsed rows, row errors and the parse result."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

Gender = Literal["male", "female"]
"""A student's gender as the roster states it (性别)."""

Status = Literal["active", "transferred", "left"]
"""Enrolment status: ``active`` (在读), ``transferred`` (转出) or ``left`` (离校/毕业)."""


class RosterFileError(ValueError):
    """The file cannot be read as a roster at all (not CSV/XLSX, corrupt, undecodable).

    Row-level problems are never raised: they are :class:`RowError` values.
    """


class RosterPlanError(ValueError):
    """``plan_import`` or a check was called with inconsistent input (a programming error)."""


class RosterRow(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """One valid student row of a roster file.

    Attributes
    ----------
    row : int
        The spreadsheet row number (1-based; the header is row 1 in the usual layout).
    student_number : str
        学号 as written (NFKC-normalised, surrounding whitespace removed).
    name : str
        姓名, whitespace tidied (``张 三`` becomes ``张三``).
    gender : {"male", "female"}
    grade : int
        1-12 (初一 = 7, 高一 = 10).
    class_name : str
        The class's display name within its grade, e.g. ``1班`` (from ``七年级1班``, ``3``,
        ``(1)班``, ``一班``); names that are not numbered keep their text (``实验班``).
    class_raw : str
        The class cell as written.
    birth_date : datetime.date or None
    guardian_name, guardian_relation, guardian_phone : str or None
        ``None`` when the column is absent or the cell empty. Phones are digits only.
    psychology_committee : bool or None
        心理委员; ``None`` when the file has no such column (so an import never clears the
        role), ``False`` for an empty cell in a present column.
    status : {"active", "transferred", "left"}
        ``active`` when the column is absent or the cell empty.
    """

    row: int
    student_number: str
    name: str
    gender: Gender
    grade: int
    class_name: str
    class_raw: str
    birth_date: dt.date | None = None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    guardian_phone: str | None = None
    psychology_committee: bool | None = None
    status: Status = "active"


class RowError(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """A problem with one cell, one row or the header.

    Attributes
    ----------
    row : int
        1-based spreadsheet row number (the header row for header problems).
    column : str
        The column's header as written in the file; for a missing column, its Chinese name.
        Empty for a problem with the row as a whole.
    reason : str
        English, with the Chinese term in parentheses where it helps.
    """

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        if self.column:
            return f"row {self.row}, column {self.column}: {self.reason}"
        return f"row {self.row}: {self.reason}"


class RosterParse(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The whole file parsed: valid rows, every error, warnings and the column mapping.

    Attributes
    ----------
    rows : tuple of RosterRow
        The rows that passed (also when other rows failed; an import must check ``ok``).
    errors : tuple of RowError
        In file order; header errors first.
    warnings : tuple of str
        Ignored columns, ignored sheets, skipped title rows.
    columns : dict of str to str
        Field name (``student_number``, ``grade``...) to the header as written in the file.
    """

    rows: tuple[RosterRow, ...]
    errors: tuple[RowError, ...]
    warnings: tuple[str, ...]
    columns: dict[str, str]

    @property
    def ok(self) -> bool:
        """True when the file can be imported: no errors at all."""
        return not self.errors
