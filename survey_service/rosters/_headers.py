"""Header recognition: Chinese, English and common synonyms mapped to roster fields.

A header is compared after normalisation: NFKC (full-width letters, digits and brackets become
ASCII), case-folded, an annotation in brackets dropped (``性别(男/女)``, ``出生日期（年-月-日）``),
required-markers (``*``) and all whitespace, ``_``, ``-`` and ``.`` removed. So ``学号``,
``Student Number``, ``student_number``, ``ＳＴＵＤＥＮＴ＿ＮＵＭＢＥＲ`` and ``*学号`` all match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from survey_service.rosters._model import RowError

# field -> accepted headers, in order of preference (when two columns mean the same field, the
# one listed first is used and the other ignored with a warning).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "student_number": (
        "学号",
        "学生学号",
        "学生编号",
        "学籍号",
        "全国学籍号",
        "学籍辅号",
        "student_number",
        "student number",
        "student no",
        "student id",
        "student_id",
    ),
    "name": ("姓名", "学生姓名", "name", "student name", "full name"),
    "gender": ("性别", "gender", "sex"),
    "birth_date": (
        "出生日期",
        "出生年月日",
        "出生年月",
        "生日",
        "birth_date",
        "birth date",
        "birthdate",
        "date of birth",
        "dob",
        "birthday",
    ),
    "grade": ("年级", "grade", "grade level", "年级名称"),
    "class_name": ("班级", "班级名称", "班", "class", "class name", "class_name", "classname"),
    "guardian_name": (
        "监护人姓名",
        "监护人",
        "家长姓名",
        "家长",
        "guardian_name",
        "guardian name",
        "guardian",
        "parent name",
        "parent",
    ),
    "guardian_relation": (
        "监护人关系",
        "与学生关系",
        "与学生的关系",
        "关系",
        "guardian_relation",
        "guardian relation",
        "relation",
        "relationship",
    ),
    "guardian_phone": (
        "监护人电话",
        "监护人手机",
        "监护人手机号",
        "监护人联系电话",
        "家长电话",
        "家长手机",
        "家长手机号",
        "家长联系电话",
        "联系电话",
        "手机号",
        "电话",
        "guardian_phone",
        "guardian phone",
        "guardian mobile",
        "parent phone",
        "phone",
        "mobile",
    ),
    "psychology_committee": (
        "心理委员",
        "是否心理委员",
        "学生心理委员",
        "psychology_committee",
        "psychology committee",
        "psychology committee member",
        "committee",
    ),
    "status": ("状态", "学籍状态", "在校状态", "在读状态", "status"),
}

REQUIRED: tuple[str, ...] = ("student_number", "name", "gender", "grade", "class_name")

CHINESE_LABEL: dict[str, str] = {field: names[0] for field, names in SYNONYMS.items()}
"""The Chinese column name of each field, used to name a missing column."""

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_DROP = re.compile(r"[\s_\-.*:]+")


def header_key(text: str) -> str:
    """The comparison key of a header cell (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    stripped = _DROP.sub("", _BRACKETED.sub("", folded))
    return stripped or _DROP.sub("", folded)


_LOOKUP: dict[str, tuple[str, int]] = {
    header_key(name): (field, rank)
    for field, names in SYNONYMS.items()
    for rank, name in enumerate(names)
}


def field_of(header: str) -> str | None:
    """The roster field a header means, or ``None``."""
    hit = _LOOKUP.get(header_key(header))
    return hit[0] if hit else None


class HeaderMap:
    """Which cell index holds which field, and what the header said.

    Parameters
    ----------
    row : int
        The header's spreadsheet row number.
    cells : sequence of str
        The header cells as text (surrounding whitespace removed).
    """

    def __init__(self, row: int, cells: Sequence[str]) -> None:
        self.row = row
        self.index: dict[str, int] = {}
        self.header: dict[str, str] = {}
        self.errors: list[RowError] = []
        self.warnings: list[str] = []
        best: dict[str, tuple[int, int]] = {}  # field -> (rank, index)
        for index, text in enumerate(cells):
            if not text:
                continue
            hit = _LOOKUP.get(header_key(text))
            if hit is None:
                self.warnings.append(
                    f"column {text} is not a roster field and is ignored (未识别的列)"
                )
                continue
            field, rank = hit
            if field in best:
                kept_rank, kept_index = best[field]
                if rank == kept_rank:
                    self.errors.append(
                        RowError(
                            row,
                            text,
                            f"duplicate column: {cells[kept_index]} appears twice (重复的列)",
                        )
                    )
                    continue
                if rank > kept_rank:
                    self._ignored(text, cells[kept_index])
                    continue
                self._ignored(cells[kept_index], text)
            best[field] = (rank, index)
        for field, (_rank, index) in best.items():
            self.index[field] = index
            self.header[field] = cells[index]
        for field in REQUIRED:
            if field not in best:
                accepted = ", ".join(_examples(field))
                self.errors.append(
                    RowError(
                        row,
                        CHINESE_LABEL[field],
                        f"required column is missing (缺少必填列); accepted headers include "
                        f"{accepted}",
                    )
                )

    def _ignored(self, ignored: str, kept: str) -> None:
        self.warnings.append(f"column {ignored} is ignored: column {kept} has the same meaning")

    @property
    def complete(self) -> bool:
        """True when every required field has a column."""
        return all(field in self.index for field in REQUIRED)


def _examples(field: str) -> list[str]:
    """Two Chinese and two English headers accepted for ``field``."""
    names = SYNONYMS[field]
    return [n for n in names if not n.isascii()][:2] + [n for n in names if n.isascii()][:2]


def looks_like_header(cells: Sequence[str]) -> bool:
    """True when a row names at least two roster fields, one of them 学号 or 姓名."""
    fields = {field_of(c) for c in cells if c}
    return len(fields - {None}) >= 2 and bool(fields & {"student_number", "name"})
