"""Whether a campaign's batteries are valid for the students who will answer them (issue 11).

Pure rules, no database: the caller passes the instruments, the campaign's languages and the
ages of the targeted students. Three checks, each naming the battery, the instrument and what
is wrong in zh-CN and en:

* **Age.** Every grade of a battery must lie inside each instrument's validated age range
  (``Instrument.min_age``/``max_age``, cited in the definition's ``age_source``). A grade's
  ages are its *typical* ages in China (:func:`grade_ages`) and, where the roster has birth
  dates, the actual ages of its targeted students from the day the campaign opens to the day
  it closes. Both must fit: typical ages protect the students imported after the campaign is
  set up.
* **Respondent.** A parent- or teacher-report form (``Instrument.respondent``) is never put in
  a student battery: the student would be answering for the guardian or the teacher. A
  parent-report form belongs in the campaign's ``guardian_battery``, answered by each student's
  guardian through a guardian access code; the guardian battery holds parent-report forms
  only. Teacher forms are not built yet, so a teacher-report form cannot be part of a campaign.
  A guardian battery's ages are those of the children it is about: the grades of every
  student battery.
* **Language.** An instrument with no text in one of the campaign's languages would be given
  in English to students who chose that language; that needs the campaign's explicit
  ``allow_language_fallback``. Text that is not validated (``LanguageInfo.status``) and an
  allowed fallback are returned as warnings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from instruments import FALLBACK_LANGUAGE, Instrument

NO_UPPER_AGE = 120
"""A definition's ``max_age`` of 120 means "no upper limit"."""

GRADE_AGE_RULE = (
    "Typical age of a grade in China: children start grade 1 in the September after they turn "
    "6 (义务教育法 Compulsory Education Law of the PRC, Art. 11: '凡年满六周岁的儿童 ... 应当送其"
    "入学'; local enrolment rules usually count the age on 31 August [local practice, not "
    "verified per province]), so a student of grade g is g+5 at the start of the school year "
    "and g+6 by its end. Students who started at 7 or repeated a year are older, and some "
    "started early; the roster's birth dates catch them."
)

LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "zh-CN": ("中文", "Chinese"),
    "en": ("英文", "English"),
}


def grade_ages(grade: int) -> tuple[int, int]:
    """The typical ages (in whole years) of a school grade in China during a school year.

    Grade g (1-12, 小学一年级 to 高三) is age g+5 at the start of the school year and g+6 by
    its end; see :data:`GRADE_AGE_RULE`.
    """
    return grade + 5, grade + 6


def age_on(birth: date, day: date) -> int:
    """Age in completed years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Finding:
    """One problem or warning: a stable ``code``, where it is, and the text in zh-CN and en."""

    code: str
    instrument: str
    message: dict[str, str]
    battery: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "instrument": self.instrument}
        if self.battery is not None:
            out["battery"] = self.battery
        out.update(self.details)
        out["message"] = dict(self.message)
        return out


@dataclass
class Validity:
    """The result of :func:`check_batteries`: problems refuse the campaign, warnings do not."""

    problems: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Battery:
    """One grade band of a campaign: its index in the request, grades and instruments.

    ``respondent``: ``"self"`` for a student battery (``batteries[index]``), ``"parent"`` for
    the campaign's ``guardian_battery`` (its grades: those of every student battery).
    """

    index: int
    grades: Sequence[int]
    instruments: Sequence[Instrument]
    respondent: str = "self"

    @property
    def where(self) -> str:
        return "guardian_battery" if self.respondent == "parent" else f"batteries[{self.index}]"


def age_range_text(instrument: Instrument) -> tuple[str, str]:
    """The instrument's age range as zh-CN and en text, e.g. ``13 岁及以上`` / ``13 and over``."""
    low, high = instrument.min_age, instrument.max_age
    if high >= NO_UPPER_AGE:
        return f"{low} 岁及以上", f"ages {low} and over"
    return f"{low}–{high} 岁", f"ages {low}–{high}"


def _span(ages: tuple[int, int]) -> tuple[str, str]:
    low, high = ages
    return (f"{low} 岁", f"{low}") if low == high else (f"{low}–{high} 岁", f"{low}–{high}")


def _outside(instrument: Instrument, ages: tuple[int, int]) -> bool:
    return ages[0] < instrument.min_age or ages[1] > instrument.max_age


def check_batteries(
    batteries: Iterable[Battery],
    *,
    languages: Sequence[str],
    allow_language_fallback: bool,
    student_ages: dict[int, list[tuple[int, int]]] | None = None,
) -> Validity:
    """Check every battery for age, respondent and language; see the module docstring.

    ``student_ages`` maps a grade to the ``(age when the campaign opens, age when it closes)``
    of each targeted student of that grade with a birth date in the roster.
    """
    out = Validity()
    student_ages = student_ages or {}
    seen_language: set[tuple[str, str]] = set()
    for battery in batteries:
        where = battery.where
        index = None if battery.respondent == "parent" else battery.index
        marks = (len(out.problems), len(out.warnings))
        for instrument in battery.instruments:
            if instrument.respondent != battery.respondent:
                out.problems.append(_respondent_problem(battery, instrument))
                continue
            for grade in battery.grades:
                finding = _age_problem(where, index, instrument, grade, student_ages.get(grade, []))
                if finding is not None:
                    out.problems.append(finding)
            for language in languages:
                if (instrument.id, language) in seen_language:
                    continue
                seen_language.add((instrument.id, language))
                _language(
                    out,
                    where,
                    index,
                    instrument,
                    language=language,
                    allow_fallback=allow_language_fallback,
                )
        if battery.respondent == "parent":  # name the guardian battery in every finding
            for found, mark in ((out.problems, marks[0]), (out.warnings, marks[1])):
                found[mark:] = [
                    replace(f, details={**f.details, "in": where}) for f in found[mark:]
                ]
    return out


def _respondent_problem(battery: Battery, instrument: Instrument) -> Finding:
    where = battery.where
    if battery.respondent == "parent":
        return _not_parent_problem(battery, instrument)
    if instrument.respondent == "parent":
        zh_end = (
            "请把它放入 guardian_battery（家长问卷）：由家长通过家长登录条上的登录码填写，"
            "结果记入该学生名下。"
        )
        en_end = (
            "Put it in guardian_battery instead: the guardian answers it with the guardian "
            "access code printed on the guardian slips, and the result is the student's."
        )
        zh_who, en_who, zh_kind = "学生的家长或监护人", "the student's parent or guardian", "家长"
    else:
        zh_end = "系统尚未提供教师作答链接，因此不能放入本次测评。"
        en_end = "Teacher forms are not built yet, so it cannot be part of a campaign."
        zh_who, en_who, zh_kind = "老师", "a teacher", "教师"
    return Finding(
        code="respondent_not_student",
        instrument=instrument.id,
        battery=battery.index,
        details={"respondent": instrument.respondent},
        message={
            "zh-CN": f"{where}：{instrument.id} 是{zh_kind}填写的量表，须由{zh_who}作答，"
            f"不能由学生本人作答。{zh_end}",
            "en": f"{where}: {instrument.id} is a {instrument.respondent}-report form: it must be "
            f"answered by {en_who}, not by the student. {en_end}",
        },
    )


def _not_parent_problem(battery: Battery, instrument: Instrument) -> Finding:
    if instrument.respondent == "self":
        zh_end = "它应由学生本人作答，请放入 batteries（学生问卷）。"
        en_end = "It is answered by the student: put it in batteries instead."
        zh_kind, en_kind = "学生自评", "self-report"
    else:
        zh_end = "系统尚未提供教师作答链接，因此不能放入本次测评。"
        en_end = "Teacher forms are not built yet, so it cannot be part of a campaign."
        zh_kind, en_kind = "教师填写", "teacher-report"
    return Finding(
        code="respondent_not_parent",
        instrument=instrument.id,
        details={"respondent": instrument.respondent, "in": battery.where},
        message={
            "zh-CN": f"{battery.where}：{instrument.id} 是{zh_kind}量表，家长问卷只能包含"
            f"由家长填写的量表。{zh_end}",
            "en": f"{battery.where}: {instrument.id} is a {en_kind} form; the guardian battery "
            f"holds parent-report forms only. {en_end}",
        },
    )


def _age_problem(
    where: str,
    index: int | None,
    instrument: Instrument,
    grade: int,
    students: list[tuple[int, int]],
) -> Finding | None:
    zh_range, en_range = age_range_text(instrument)
    details: dict[str, Any] = {
        "grade": grade,
        "min_age": instrument.min_age,
        "max_age": instrument.max_age,
    }
    typical = grade_ages(grade)
    if _outside(instrument, typical):
        zh_span, en_span = _span(typical)
        return Finding(
            code="age_range",
            instrument=instrument.id,
            battery=index,
            details={**details, "ages": list(typical), "basis": "typical_grade_age"},
            message={
                "zh-CN": f"{where}：{instrument.id} 适用于 {zh_range}，但 {grade} 年级学生通常为 "
                f"{zh_span}（按我国 6 周岁入学推算），不在适用年龄范围内。",
                "en": f"{where}: {instrument.id} is for {en_range}, but grade {grade} students "
                f"are typically aged {en_span} in China (school starts at 6), outside that range.",
            },
        )
    outside = [ages for ages in students if _outside(instrument, ages)]
    if not outside:
        return None
    actual = (min(a for a, _ in outside), max(b for _, b in outside))
    zh_span, en_span = _span(actual)
    n = len(outside)
    return Finding(
        code="age_range",
        instrument=instrument.id,
        battery=index,
        details={**details, "ages": list(actual), "students": n, "basis": "roster_birth_dates"},
        message={
            "zh-CN": f"{where}：{instrument.id} 适用于 {zh_range}，但花名册中 {grade} 年级有 {n} "
            f"名学生在筛查期间为 {zh_span}（按出生日期），不在适用年龄范围内。",
            "en": f"{where}: {instrument.id} is for {en_range}, but {n} targeted grade {grade} "
            f"student{'s' if n != 1 else ''} will be aged {en_span} during the campaign (roster "
            "birth dates), outside that range.",
        },
    )


def _language(
    out: Validity,
    where: str,
    index: int | None,
    instrument: Instrument,
    *,
    language: str,
    allow_fallback: bool,
) -> None:
    zh_name, en_name = LANGUAGE_NAMES.get(language, (language, language))
    given = instrument.resolve_language(language)
    if given != language:
        details = {"language": language, "given_in": given}
        if not allow_fallback:
            out.problems.append(
                Finding(
                    code="language_missing",
                    instrument=instrument.id,
                    battery=index,
                    details=details,
                    message={
                        "zh-CN": f"{where}：{instrument.id} 没有{zh_name}（{language}）文本，选择"
                        f"{zh_name}的学生会看到英文版。请换用其他量表、从 languages 中去掉 "
                        f"{language}，或设置 allow_language_fallback 明确同意以英文作答。",
                        "en": f"{where}: {instrument.id} has no {en_name} ({language}) text, so "
                        f"students who choose {en_name} would get it in English. Choose another "
                        f"instrument, remove {language} from languages, or set "
                        "allow_language_fallback to accept the English form.",
                    },
                )
            )
            return
        status = instrument.languages[FALLBACK_LANGUAGE].status
        out.warnings.append(
            Finding(
                code="language_fallback",
                instrument=instrument.id,
                details={**details, "status": status},
                message={
                    "zh-CN": f"{instrument.id} 没有{zh_name}文本：选择{zh_name}的学生将以英文作答，"
                    "页面会提示这一点；结果会记录作答语言。",
                    "en": f"{instrument.id} has no {en_name} text: students who choose {en_name} "
                    "answer it in English, with a notice; each result records the language.",
                },
            )
        )
        return
    info = instrument.languages[language]
    if info.status != "validated":
        out.warnings.append(
            Finding(
                code="language_unvalidated",
                instrument=instrument.id,
                details={"language": language, "status": info.status, "source": info.source},
                message={
                    "zh-CN": f"{instrument.id} 的{zh_name}版本尚未经过验证：学生会看到提示，"
                    "结果旁会注明“未验证”，解读时请谨慎。",
                    "en": f"The {en_name} text of {instrument.id} is not validated: students see "
                    "a notice, results are marked 'not validated'; read them with care.",
                },
            )
        )
