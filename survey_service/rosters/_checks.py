"""Staffing and student-role checks from the Jiangsu checklist (pure).

* Item 12 (设立学生心理委员): from grade 4, every class has at least two student psychology
  committee members, at least one boy and one girl.
* Item 10 (师生比1:500配备兼职心理健康教育教师): one part-time mental-health teacher per 500
  students, on top of the full-time ones; item 3 asks every school for at least one
  full- or part-time mental-health teacher.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Protocol

import msgspec

from survey_service.rosters._model import RosterPlanError

COMMITTEE_FROM_GRADE = 4
COMMITTEE_MIN_MEMBERS = 2
STUDENTS_PER_PART_TIME = 500


class ClassMember(Protocol):
    """What :func:`committee_check` reads of a student (a ``RosterRow`` or an
    ``ExistingStudent`` both fit)."""

    @property
    def grade(self) -> int: ...

    @property
    def class_name(self) -> str: ...

    @property
    def gender(self) -> str | None: ...

    @property
    def psychology_committee(self) -> bool | None: ...

    @property
    def status(self) -> str: ...


class ClassCheck(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Item 12 for one class.

    Attributes
    ----------
    grade, class_name : int, str
    students : int
        Active students in the class.
    members, boys, girls : int
        Psychology committee members (心理委员), and of them boys and girls.
    required : bool
        False below grade 4 (the class is exempt and ``ok``).
    ok : bool
    problems : tuple of str
        What is missing, in English with the Chinese term.
    """

    grade: int
    class_name: str
    students: int
    members: int
    boys: int
    girls: int
    required: bool
    ok: bool
    problems: tuple[str, ...]


class RatioCheck(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Items 10 and 3 for one school.

    Attributes
    ----------
    students, part_time, full_time : int
        The inputs.
    required_part_time : int
        ``ceil(students / 500)``.
    missing_part_time : int
        How many part-time teachers are missing to reach 1:500 (0 when enough).
    ok : bool
        Enough part-time teachers and at least one mental-health teacher of either kind.
    problems : tuple of str
    """

    students: int
    part_time: int
    full_time: int
    required_part_time: int
    missing_part_time: int
    ok: bool
    problems: tuple[str, ...]


def committee_check(rows: Iterable[ClassMember]) -> list[ClassCheck]:
    """Check item 12 for every class with active students.

    Parameters
    ----------
    rows : iterable of RosterRow or ExistingStudent
        Students of one school; those transferred or left are not counted. A ``None``
        committee value (no such column in the file) counts as not a member.

    Returns
    -------
    list of ClassCheck
        One per (grade, class), ordered by grade and then class number (``2班`` before
        ``10班``). Classes below grade 4 are listed as exempt (``required=False``, ``ok``).
    """
    tallies: dict[tuple[int, str], list[int]] = {}  # students, members, boys, girls
    for student in rows:
        if student.status != "active":
            continue
        tally = tallies.setdefault((student.grade, student.class_name), [0, 0, 0, 0])
        tally[0] += 1
        if student.psychology_committee:
            tally[1] += 1
            if student.gender == "male":
                tally[2] += 1
            elif student.gender == "female":
                tally[3] += 1
    checks = []
    for (grade, class_name), (students, members, boys, girls) in sorted(
        tallies.items(), key=lambda item: (item[0][0], _natural(item[0][1]))
    ):
        required = grade >= COMMITTEE_FROM_GRADE
        problems: list[str] = []
        if required:
            if members < COMMITTEE_MIN_MEMBERS:
                problems.append(
                    f"needs at least {COMMITTEE_MIN_MEMBERS} psychology committee members "
                    f"(心理委员), has {members}"
                )
            if boys < 1:
                problems.append("needs at least one boy among the committee members (男生)")
            if girls < 1:
                problems.append("needs at least one girl among the committee members (女生)")
        checks.append(
            ClassCheck(
                grade=grade,
                class_name=class_name,
                students=students,
                members=members,
                boys=boys,
                girls=girls,
                required=required,
                ok=not problems,
                problems=tuple(problems),
            )
        )
    return checks


def counsellor_ratio(students: int, part_time_counsellors: int, full_time: int) -> RatioCheck:
    """Check the 1:500 part-time mental-health teacher ratio (item 10) and item 3's minimum.

    Parameters
    ----------
    students : int
        Active students of the school.
    part_time_counsellors : int
        Part-time mental-health teachers (兼职心理健康教育教师).
    full_time : int
        Full-time mental-health teachers (专职). They do not count towards the part-time
        ratio, which the checklist sets in addition to them; they do meet item 3.

    Returns
    -------
    RatioCheck
        E.g. 1,200 students with 2 part-time teachers: ``required_part_time=3``,
        ``missing_part_time=1``.

    Raises
    ------
    RosterPlanError
        When a count is negative.
    """
    if min(students, part_time_counsellors, full_time) < 0:
        raise RosterPlanError("counts of students and counsellors cannot be negative")
    required = math.ceil(students / STUDENTS_PER_PART_TIME)
    missing = max(0, required - part_time_counsellors)
    problems: list[str] = []
    if missing:
        problems.append(
            f"{students} students need {required} part-time mental-health teachers "
            f"(兼职心理健康教育教师, 1:500); {part_time_counsellors} in post, {missing} missing"
        )
    if students and part_time_counsellors + full_time == 0:
        problems.append("the school has no full- or part-time mental-health teacher (专兼职教师)")
    return RatioCheck(
        students=students,
        part_time=part_time_counsellors,
        full_time=full_time,
        required_part_time=required,
        missing_part_time=missing,
        ok=not problems,
        problems=tuple(problems),
    )


_DIGITS = re.compile(r"(\d+)")


def _natural(name: str) -> tuple[tuple[int, str], ...]:
    return tuple(
        (int(part), "") if part.isdigit() else (0, part) for part in _DIGITS.split(name) if part
    )
