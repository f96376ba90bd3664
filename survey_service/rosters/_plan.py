"""The import plan: what applying a roster would do to a school's students (pure)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import msgspec

from survey_service.rosters._model import Gender, RosterPlanError, RosterRow, Status

LeaveReason = Literal["not_in_file", "transferred", "left"]
ImportMode = Literal["replace", "incremental"]
"""``replace``: the file is the whole roster (students missing from it are leavers);
``incremental``: the file only adds and updates students (nobody missing from it leaves)."""

COMPARED_FIELDS: tuple[str, ...] = (
    "name",
    "gender",
    "birth_date",
    "grade",
    "class_name",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "psychology_committee",
    "status",
)
"""Fields an update may change, in the order ``StudentUpdate.changed`` lists them."""


class ExistingStudent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """A student the school already has, as the service layer loads it for planning."""

    student_number: str
    name: str
    gender: Gender | None
    grade: int
    class_name: str
    birth_date: dt.date | None = None
    guardian_name: str | None = None
    guardian_relation: str | None = None
    guardian_phone: str | None = None
    psychology_committee: bool = False
    status: Status = "active"


class StudentUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """An existing student whose roster row changes something.

    Attributes
    ----------
    student_number : str
    row : RosterRow
        The new values. ``None`` optional values in it mean "not given": they never clear data.
    changed : tuple of str
        Field names from :data:`COMPARED_FIELDS` whose value changes.
    """

    student_number: str
    row: RosterRow
    changed: tuple[str, ...]


class StudentLeave(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """An active student to mark as no longer at the school (never deleted: the file stays).

    Attributes
    ----------
    student_number : str
    status : {"transferred", "left"}
        The status to set.
    reason : {"not_in_file", "transferred", "left"}
        Why: absent from the roster, or marked 转出 / 离校 in it.
    row : int or None
        The roster row that said so, if any.
    """

    student_number: str
    status: Literal["transferred", "left"]
    reason: LeaveReason
    row: int | None = None


class ImportCounts(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The preview's numbers."""

    create: int
    update: int
    unchanged: int
    mark_left: int
    skipped: int


class ImportPlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What an apply would do; nothing in it deletes a student.

    Attributes
    ----------
    create : tuple of RosterRow
        New, active students.
    update : tuple of StudentUpdate
        Existing students with changed values (a new grade or class after the summer, a
        corrected name, a new guardian phone, a re-activated student).
    unchanged : tuple of str
        Student numbers in the file whose values are all the same.
    mark_left : tuple of StudentLeave
        Active students absent from the file, or marked transferred/left in it.
    skipped : tuple of RosterRow
        Rows marking as transferred/left a student the school does not have: nothing to do.
    """

    create: tuple[RosterRow, ...]
    update: tuple[StudentUpdate, ...]
    unchanged: tuple[str, ...]
    mark_left: tuple[StudentLeave, ...]
    skipped: tuple[RosterRow, ...]

    @property
    def counts(self) -> ImportCounts:
        """How many students fall in each group."""
        return ImportCounts(
            create=len(self.create),
            update=len(self.update),
            unchanged=len(self.unchanged),
            mark_left=len(self.mark_left),
            skipped=len(self.skipped),
        )


def plan_import(
    existing: Mapping[str, ExistingStudent],
    rows: Sequence[RosterRow],
    *,
    mode: ImportMode = "replace",
) -> ImportPlan:
    """Diff a parsed roster against the school's students by student number.

    Parameters
    ----------
    existing : mapping of str to ExistingStudent
        Every student of the school (any status), keyed by student number.
    rows : sequence of RosterRow
        The rows of an error-free :class:`RosterParse`.
    mode : {"replace", "incremental"}
        ``replace`` (the file is the whole roster): active students missing from it are in
        ``mark_left`` (``not_in_file``). ``incremental``: the file only adds and updates, so
        students missing from it are not listed at all (rows marked 转出/离校 still are).

    Returns
    -------
    ImportPlan
        ``create`` / ``update`` (with the changed fields) / ``unchanged`` / ``mark_left``
        (active students missing from the file, or marked 转出/离校 in it) / ``skipped``.
        An optional value the row leaves empty (``None``) keeps the stored one; students
        already transferred or left and absent from the file are not listed.

    Raises
    ------
    RosterPlanError
        When a key of ``existing`` differs from its student's number, or ``rows`` repeats a
        student number (a parse with errors was passed).
    """
    create: list[RosterRow] = []
    update: list[StudentUpdate] = []
    unchanged: list[str] = []
    mark_left: list[StudentLeave] = []
    skipped: list[RosterRow] = []
    in_file: set[str] = set()
    for row in rows:
        number = row.student_number
        if number in in_file:
            raise RosterPlanError(f"student number {number} appears twice in the rows")
        in_file.add(number)
        current = existing.get(number)
        if current is None:
            (create if row.status == "active" else skipped).append(row)
            continue
        if current.student_number != number:
            raise RosterPlanError(
                f"existing student keyed {number!r} has number {current.student_number!r}"
            )
        if row.status != "active" and current.status == "active":
            mark_left.append(StudentLeave(number, row.status, row.status, row.row))
            continue
        changed = _changed(current, row)
        if changed:
            update.append(StudentUpdate(number, row, changed))
        else:
            unchanged.append(number)
    for number, current in existing.items():
        if current.student_number != number:
            raise RosterPlanError(
                f"existing student keyed {number!r} has number {current.student_number!r}"
            )
        if mode == "replace" and number not in in_file and current.status == "active":
            mark_left.append(StudentLeave(number, "left", "not_in_file"))
    return ImportPlan(
        create=tuple(create),
        update=tuple(update),
        unchanged=tuple(unchanged),
        mark_left=tuple(mark_left),
        skipped=tuple(skipped),
    )


def leavers_token(scope: str, student_numbers: Iterable[str]) -> str | None:
    """The confirmation that marks exactly these students as left: ``"<count>-<digest>"``.

    A preview hands it out for the students missing from the file; an apply marks them as
    left only when given the same value, so a stale preview (another set of students, even
    of the same size) cannot confirm a different set. ``None`` when the set is empty.

    Parameters
    ----------
    scope : str
        What the numbers are unique in (the school's id): a token never fits another school.
    student_numbers : iterable of str
        The students, in any order.
    """
    numbers = sorted(set(student_numbers))
    if not numbers:
        return None
    digest = hashlib.sha256("\n".join([scope, *numbers]).encode()).hexdigest()
    return f"{len(numbers)}-{digest[:16]}"


def _changed(current: ExistingStudent, row: RosterRow) -> tuple[str, ...]:
    changed = []
    for field in COMPARED_FIELDS:
        new = getattr(row, field)
        if new is None:  # not given in the file: keep what is stored
            continue
        if new != getattr(current, field):
            changed.append(field)
    return tuple(changed)
