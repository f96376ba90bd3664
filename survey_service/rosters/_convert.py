"""One row's cells to a :class:`RosterRow` or its errors.

This is the hot loop of a 200,000-row import, so it works on a list of cell texts with the
common cases (plain digits, a name without spaces, a valid mobile, repeated grade and class
values) answered by a test or a dictionary look-up; everything else goes to ``_values``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

from survey_service.rosters._headers import HeaderMap
from survey_service.rosters._model import Gender, RosterRow, RowError, Status
from survey_service.rosters._values import (
    Bad,
    Memo,
    cell_text,
    parse_class,
    parse_date,
    parse_gender,
    parse_grade,
    parse_name,
    parse_phone,
    parse_relation,
    parse_status,
    parse_student_number,
    parse_yes_no,
)

EMPTY = "required value is empty (必填)"
_SHARED_LIMIT = 20_000


def _plain_name(text: str) -> bool:
    """True when a name needs no tidying: one word, NFKC-normal, not too long."""
    return (
        len(text) <= 100
        and " " not in text
        and text.isprintable()  # no tabs, ideographic spaces or zero-width characters
        and (text.isascii() or unicodedata.is_normalized("NFKC", text))
    )


class RowConverter:
    """Converts rows under one header; remembers student numbers to report duplicates.

    Parameters
    ----------
    mapping : HeaderMap
        The file's header.
    """

    def __init__(self, mapping: HeaderMap) -> None:
        index = mapping.index
        self.header = mapping.header
        self.order = index
        self.mapped = sorted(index.values())
        self.width = max(self.mapped, default=-1) + 1
        # A missing column reads the "" appended after the row's cells (index -1).
        self.i_number = index.get("student_number", -1)
        self.i_name = index.get("name", -1)
        self.i_gender = index.get("gender", -1)
        self.i_grade = index.get("grade", -1)
        self.i_class = index.get("class_name", -1)
        self.i_birth = index.get("birth_date", -1)
        self.i_guardian = index.get("guardian_name", -1)
        self.i_relation = index.get("guardian_relation", -1)
        self.i_phone = index.get("guardian_phone", -1)
        self.i_committee = index.get("psychology_committee", -1)
        self.i_status = index.get("status", -1)
        self.positions = (
            self.i_number,
            self.i_name,
            self.i_gender,
            self.i_grade,
            self.i_class,
            self.i_birth,
            self.i_guardian,
            self.i_relation,
            self.i_phone,
            self.i_committee,
            self.i_status,
        )
        self.seen: dict[str, int] = {}
        self.grade: Memo[int] = Memo(parse_grade)
        self.klass: Memo[tuple[str, int | None]] = Memo(parse_class)
        self.gender: Memo[Gender] = Memo(parse_gender)
        self.yes_no: Memo[bool] = Memo(parse_yes_no)
        self.status: Memo[Status] = Memo(parse_status)
        self.relation: Memo[str] = Memo(parse_relation)
        self.date: Memo[dt.date] = Memo(parse_date)
        self.shared: dict[str, str] = {}

    def _share(self, text: str) -> str:
        """One string object per distinct value of a repetitive column (class, as written)."""
        shared = self.shared.get(text)
        if shared is not None:
            return shared
        if len(self.shared) < _SHARED_LIMIT:
            self.shared[text] = text
        return text

    def _error(self, row: int, field: str, reason: str) -> tuple[int, RowError]:
        return self.order[field], RowError(row, self.header[field], reason)

    def __call__(self, row: int, cells: Sequence[object]) -> RosterRow | list[RowError] | None:
        """The row's :class:`RosterRow`, its errors in column order, or ``None`` when empty."""
        if isinstance(cells, list):  # CSV: every cell is already text
            texts: list[str] = [c.strip() for c in cells]
        else:
            texts = [c.strip() if type(c) is str else cell_text(c) for c in cells]
        size = len(texts)
        if size < self.width:
            texts.extend([""] * (self.width - size))
        texts.append("")
        if not any(texts[i] for i in self.mapped):
            return None
        errors: list[tuple[int, RowError]] = []
        (
            i_number,
            i_name,
            i_gender,
            i_grade,
            i_class,
            i_birth,
            i_guardian,
            i_relation,
            i_phone,
            i_committee,
            i_status,
        ) = self.positions

        def raw(i: int) -> object:  # the cell as stored (XLSX numbers, dates)
            return cells[i] if 0 <= i < size else None

        # 学号
        student_number: str | None = None
        text = texts[i_number]
        if i_number < 0:
            pass
        elif not text:
            errors.append(self._error(row, "student_number", EMPTY))
        else:
            if text.isdigit() and text.isascii() and len(text) <= 64:
                parsed_number: str | Bad = text
            else:
                parsed_number = parse_student_number(raw(i_number))
            if isinstance(parsed_number, Bad):
                errors.append(self._error(row, "student_number", parsed_number.reason))
            else:
                first = self.seen.get(parsed_number)
                if first is None:
                    self.seen[parsed_number] = row
                    student_number = parsed_number
                else:
                    errors.append(
                        self._error(
                            row,
                            "student_number",
                            f"duplicate student number {parsed_number} (学号重复): "
                            f"first on row {first}",
                        )
                    )

        # 姓名
        name: str | None = None
        text = texts[i_name]
        if i_name < 0:
            pass
        elif not text:
            errors.append(self._error(row, "name", EMPTY))
        elif _plain_name(text):
            name = text
        else:
            parsed_name = parse_name(text)
            if isinstance(parsed_name, Bad):
                errors.append(self._error(row, "name", parsed_name.reason))
            else:
                name = parsed_name

        # 性别
        gender: Gender | None = None
        text = texts[i_gender]
        if i_gender < 0:
            pass
        elif not text:
            errors.append(self._error(row, "gender", EMPTY))
        else:
            parsed_gender = self.gender(text)
            if isinstance(parsed_gender, Bad):
                errors.append(self._error(row, "gender", parsed_gender.reason))
            else:
                gender = parsed_gender

        # 年级
        grade: int | None = None
        text = texts[i_grade]
        if i_grade < 0:
            pass
        elif not text:
            errors.append(self._error(row, "grade", EMPTY))
        else:
            parsed_grade = self.grade(text)
            if isinstance(parsed_grade, Bad):
                errors.append(self._error(row, "grade", parsed_grade.reason))
            else:
                grade = parsed_grade

        # 班级
        class_name: str | None = None
        class_raw = texts[i_class]
        if i_class < 0:
            pass
        elif not class_raw:
            errors.append(self._error(row, "class_name", EMPTY))
        else:
            parsed_class = self.klass(class_raw)
            if isinstance(parsed_class, Bad):
                errors.append(self._error(row, "class_name", parsed_class.reason))
            else:
                class_name, class_grade = parsed_class
                if class_grade is not None and grade is not None and class_grade != grade:
                    errors.append(
                        self._error(
                            row,
                            "class_name",
                            f"class {class_raw!r} is in grade {class_grade} but the grade "
                            f"column (年级) says {grade}",
                        )
                    )
                class_raw = self._share(class_raw)

        # 出生日期 (optional)
        birth_date: dt.date | None = None
        if texts[i_birth]:
            cell = raw(i_birth)
            parsed_date = (
                parse_date(cell) if isinstance(cell, dt.date) else self.date(texts[i_birth])
            )
            if isinstance(parsed_date, Bad):
                errors.append(self._error(row, "birth_date", parsed_date.reason))
            else:
                birth_date = parsed_date

        # 监护人姓名, 关系, 电话 (optional)
        guardian_name: str | None = None
        text = texts[i_guardian]
        if text:
            parsed_guardian = (
                text if _plain_name(text) else parse_name(text, "guardian name (监护人姓名)")
            )
            if isinstance(parsed_guardian, Bad):
                errors.append(self._error(row, "guardian_name", parsed_guardian.reason))
            else:
                guardian_name = parsed_guardian

        guardian_relation: str | None = None
        text = texts[i_relation]
        if text:
            parsed_relation = self.relation(text)
            if isinstance(parsed_relation, Bad):
                errors.append(self._error(row, "guardian_relation", parsed_relation.reason))
            else:
                guardian_relation = parsed_relation

        guardian_phone: str | None = None
        text = texts[i_phone]
        if text:
            parsed_phone = parse_phone(text)
            if isinstance(parsed_phone, Bad):
                errors.append(self._error(row, "guardian_phone", parsed_phone.reason))
            else:
                guardian_phone = parsed_phone

        # 心理委员: None when the file has no such column; an empty cell is "no"
        committee: bool | None = None
        if i_committee >= 0:
            parsed_committee = self.yes_no(texts[i_committee])
            if isinstance(parsed_committee, Bad):
                errors.append(self._error(row, "psychology_committee", parsed_committee.reason))
            else:
                committee = parsed_committee

        # 状态: active when absent or empty
        status: Status = "active"
        if i_status >= 0:
            parsed_status = self.status(texts[i_status])
            if isinstance(parsed_status, Bad):
                errors.append(self._error(row, "status", parsed_status.reason))
            else:
                status = parsed_status

        if errors:
            errors.sort(key=lambda pair: pair[0])
            return [error for _column, error in errors]
        if (
            student_number is None
            or name is None
            or gender is None
            or grade is None
            or class_name is None
        ):
            return []  # a required column is missing: reported once, on the header
        return RosterRow(
            row,
            student_number,
            name,
            gender,
            grade,
            class_name,
            class_raw,
            birth_date,
            guardian_name,
            guardian_relation,
            guardian_phone,
            committee,
            status,
        )
