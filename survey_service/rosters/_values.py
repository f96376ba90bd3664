"""Cell values: from what schools type into spreadsheets to clean field values.

Every parser takes the cell as text (see :func:`cell_text`) and returns the value or a
:class:`Bad` carrying the reason. Low-cardinality fields (grade, class, gender, yes/no, status,
relation) go through :class:`Memo`, so 200,000 rows cost a dictionary look-up each.

Grades (年级) map to an integer 1-12, using the common 6-3-3 system:

========================================  =====
written                                   grade
========================================  =====
``4``, ``4年级``, ``四年级``, ``Grade 4``    4
``小学一年级``, ``小一``                      1
``预初``, ``预备年级`` (Shanghai)              6
``初一``, ``初中一年级``, ``七年级``, ``7``    7
``初二`` / ``初三``                          8 / 9
``高一``, ``高中一年级``, ``十年级``           10
``高二`` / ``高三``                          11 / 12
========================================  =====

A school on the 5-4 system (初一 is the sixth year) should write the numeric grade (``六年级``).
``2023级`` is an entry cohort, not a grade, and is refused with that reason.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Final, Generic, TypeVar

from survey_service.rosters._model import Gender, Status

T = TypeVar("T")


class Bad:
    """A cell value that failed, with the reason shown to the user."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class Memo(Generic[T]):
    """Cache a text parser's results (bounded, so a hostile file cannot grow it without end)."""

    __slots__ = ("_cache", "_fn", "_limit")

    def __init__(self, fn: Callable[[str], T | Bad], limit: int = 20_000) -> None:
        self._fn = fn
        self._cache: dict[str, T | Bad] = {}
        self._limit = limit

    def __call__(self, text: str) -> T | Bad:
        try:
            return self._cache[text]
        except KeyError:
            value = self._fn(text)
            if len(self._cache) < self._limit:
                self._cache[text] = value
            return value


def nfkc(text: str) -> str:
    """NFKC-normalise (full-width to half-width) unless already plain ASCII."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def cell_text(value: object) -> str:
    """A cell as text: ``None`` is empty; numbers stored as numbers lose a ``.0``."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


# --------------------------------------------------------------------------- student number

_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")  # pasted from web pages
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_SPACE = re.compile(r"\s")


def parse_student_number(value: object) -> str | Bad:
    """学号: text as written; numbers stored as numbers are fine unless Excel lost digits."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e15:
        return Bad(
            "this number is too long for an Excel number cell and has lost digits (学号); "
            "format the column as text and type it again"
        )
    text = _INVISIBLE.sub("", nfkc(cell_text(value)))
    if _SCIENTIFIC.fullmatch(text):
        return Bad(
            f"{text} is in scientific notation, so Excel has lost digits (学号); format the "
            "column as text and export again"
        )
    if _SPACE.search(text):
        return Bad(f"student number {text!r} contains spaces (学号)")
    if len(text) > 64:
        return Bad("student number is longer than 64 characters (学号)")
    return text


# --------------------------------------------------------------------------- names

_CJK = r"[\u2e80-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
_CJK_GAP = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")


def tidy_name(text: str) -> str:
    """Collapse whitespace, drop invisible characters and the spaces people type between
    Chinese characters (``张 三`` → ``张三``)."""
    text = _INVISIBLE.sub("", nfkc(text))
    parts = text.split()
    if len(parts) <= 1:
        return text
    return _CJK_GAP.sub("", " ".join(parts))


def parse_name(text: str, what: str = "name (姓名)", limit: int = 100) -> str | Bad:
    """A person's name, tidied; at most ``limit`` characters."""
    name = tidy_name(text)
    if len(name) > limit:
        return Bad(f"{what} is longer than {limit} characters")
    return name


# --------------------------------------------------------------------------- gender

_GENDERS: Final[dict[str, Gender]] = {
    "男": "male",
    "男生": "male",
    "男性": "male",
    "m": "male",
    "male": "male",
    "boy": "male",
    "女": "female",
    "女生": "female",
    "女性": "female",
    "f": "female",
    "female": "female",
    "girl": "female",
}


def parse_gender(text: str) -> Gender | Bad:
    """性别: 男/女, M/F, male/female (any case, full-width too)."""
    hit = _GENDERS.get(nfkc(text).casefold().replace(" ", ""))
    if hit is None:
        return Bad(f"gender {text!r} is not recognised (性别): use 男/女, M/F or male/female")
    return hit


# --------------------------------------------------------------------------- grade

_CN_DIGITS: Final[dict[str, int]] = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"


def number(text: str) -> int | None:
    """``7``, ``07``, ``七``, ``十``, ``十二`` as an int; ``None`` otherwise."""
    if text.isascii() and text.isdigit():
        return int(text)
    if len(text) == 1:
        return 10 if text == "十" else _CN_DIGITS.get(text)
    if len(text) == 2 and text[0] == "十":
        unit = _CN_DIGITS.get(text[1])
        return None if unit is None else 10 + unit
    return None


_LEVELS: Final[dict[str, tuple[int, int]]] = {  # level -> (offset, years)
    "小学": (0, 6),
    "小": (0, 6),
    "初中": (6, 3),
    "初": (6, 3),
    "高中": (9, 3),
    "高": (9, 3),
}
_GRADE_FORMS = (
    re.compile(r"(?:grade|g)?(?P<n>\d{1,2})(?:年级|th|st|nd|rd)?"),
    re.compile(rf"(?P<level>小学|初中|高中)?(?P<n>{_NUM})年级"),
    re.compile(r"(?P<level>[初高小])中?(?P<n>[一二三四五六1-6])(?:年级)?"),
)
_PRE_JUNIOR = re.compile(r"预(?:初|备)(?:年级|班)?")
_COHORT = re.compile(r"(?:19|20)\d\d(?:级|届)?")
GRADE_HINT = "use 1-12, 七年级, 初一 or 高一"


def grade_value(text: str) -> int | None:
    """The grade 1-12 that ``text`` names (already NFKC, casefolded, no spaces), or ``None``."""
    if _PRE_JUNIOR.fullmatch(text):
        return 6
    for form in _GRADE_FORMS:
        m = form.fullmatch(text)
        if m is None:
            continue
        n = number(m["n"])
        if n is None:
            return None
        level = m.groupdict().get("level")
        if level:
            offset, years = _LEVELS[level]
            if 1 <= n <= years:
                n += offset
            elif not offset < n <= offset + years:  # 初中七年级 is already absolute
                return None
        return n if 1 <= n <= 12 else None
    return None


def parse_grade(text: str) -> int | Bad:
    """年级 → 1-12 (see the module docstring for the mapping)."""
    key = _SPACE.sub("", nfkc(text).casefold())
    grade = grade_value(key)
    if grade is not None:
        return grade
    if _COHORT.fullmatch(key):
        return Bad(f"{text!r} looks like an entry cohort, not a grade (年级): {GRADE_HINT}")
    return Bad(f"grade {text!r} is not recognised (年级): {GRADE_HINT}")


# --------------------------------------------------------------------------- class

_CLASS_PREFIX = re.compile(
    rf"(?:小学|初中|高中)?{_NUM}年级|[初高小]中?[一二三四五六1-6](?:年级)?|预(?:初|备)(?:年级)?"
    r"|\d{1,2}(?=[-.(])"
)
_CLASS_NUMBER = re.compile(rf"(?:class)?\(?(?P<n>{_NUM}|\d{{3}})\)?班?", re.IGNORECASE)


def parse_class(text: str) -> tuple[str, int | None] | Bad:
    """班级 → (display name, grade named in the class or ``None``).

    ``七年级1班`` → (``1班``, 7); ``初一(3)班`` → (``3班``, 7); ``3`` → (``3班``, None);
    ``一班`` → (``1班``, None); ``实验班`` → (``实验班``, None).
    """
    compact = _SPACE.sub("", nfkc(text))
    grade: int | None = None
    rest = compact
    prefix = _CLASS_PREFIX.match(compact)
    if prefix is not None:
        grade = grade_value(prefix.group().casefold())
        if grade is not None:
            rest = compact[prefix.end() :].lstrip("-.·")
            if not rest:
                return Bad(f"class {text!r} names a grade but no class (班级), e.g. 七年级1班")
    m = _CLASS_NUMBER.fullmatch(rest)
    if m is not None:
        n = number(m["n"]) if len(m["n"]) < 3 else int(m["n"])
        if n:
            return f"{n}班", grade
    if len(rest) > 50:
        return Bad("class name is longer than 50 characters (班级)")
    return rest, grade


# --------------------------------------------------------------------------- birth date

_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")


def parse_date(value: object) -> dt.date | Bad:
    """出生日期: a date cell, ``2013-05-02``, ``2013/5/2``, ``2013.5.2``, ``2013年5月2日``,
    ``20130502``."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = nfkc(cell_text(value))
        m = _DATE.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
        bad = Bad(f"date {text!r} is not a valid date (出生日期): use YYYY-MM-DD, e.g. 2013-05-02")
        if m is None:
            return bad
        try:
            day = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            return bad
    if not 1900 <= day.year <= 2100:
        return Bad(f"date {day.isoformat()} is out of range (出生日期)")
    return day


# --------------------------------------------------------------------------- phone

_PHONE_NOISE = re.compile(r"[\s\-()—–]")
_COUNTRY = re.compile(r"(?:\+86|0086|86)(?P<rest>1\d{10}|[1-9]\d{8,10})")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(?:010|02\d)\d{8}|0[3-9]\d{2}\d{7,8}")


def parse_phone(value: object) -> str | Bad:
    """监护人电话: a mainland mobile (11 digits from 13-19) or a landline with its area code.

    Spaces, dashes and brackets are dropped and a +86 prefix removed; the result is digits only
    (``13812345678``, ``02512345678``).
    """
    text = cell_text(value)
    if len(text) == 11 and _MOBILE.fullmatch(text):
        return text
    digits = _PHONE_NOISE.sub("", nfkc(text))
    country = _COUNTRY.fullmatch(digits)
    if country is not None:
        rest = country["rest"]
        digits = rest if rest.startswith("1") else "0" + rest
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    return Bad(
        f"phone {text!r} is not a mainland mobile (11 digits starting with 1) or a landline "
        "with its area code (电话号码)"
    )


# --------------------------------------------------------------------------- yes / no, status

_YES_NO: Final[dict[str, bool]] = {
    "是": True,
    "否": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "1": True,
    "0": False,
    "true": True,
    "false": False,
    "√": True,
    "✓": True,
    "✔": True,
    "×": False,
    "✗": False,
    "心理委员": True,
    "": False,
}


def parse_yes_no(text: str) -> bool | Bad:
    """心理委员: 是/否, yes/no, Y/N, 1/0, true/false, √/×; an empty cell is no."""
    hit = _YES_NO.get(nfkc(text).casefold().replace(" ", ""))
    if hit is None:
        return Bad(f"{text!r} is not yes or no (心理委员): use 是/否, Y/N or 1/0")
    return hit


_STATUSES: Final[dict[str, Status]] = {
    "": "active",
    "在读": "active",
    "在校": "active",
    "在籍": "active",
    "正常": "active",
    "active": "active",
    "enrolled": "active",
    "转出": "transferred",
    "转学": "transferred",
    "已转出": "transferred",
    "transferred": "transferred",
    "transfer": "transferred",
    "transferredout": "transferred",
    "离校": "left",
    "毕业": "left",
    "已毕业": "left",
    "休学": "left",
    "退学": "left",
    "left": "left",
    "graduated": "left",
}


def parse_status(text: str) -> Status | Bad:
    """状态: 在读/在校 → active; 转出/转学 → transferred; 离校/毕业/休学/退学 → left."""
    hit = _STATUSES.get(_SPACE.sub("", nfkc(text).casefold()))
    if hit is None:
        return Bad(f"status {text!r} is not recognised (状态): use 在读, 转出 or 离校")
    return hit


def parse_relation(text: str) -> str | Bad:
    """监护人关系: free text (父亲, 母亲, 祖父...), tidied; at most 20 characters."""
    rel = _SPACE.sub("", nfkc(text))
    if len(rel) > 20:
        return Bad("relation is longer than 20 characters (监护人关系)")
    return rel
