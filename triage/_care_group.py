"""The care group of a case and what each role may see of it.

Every student under care has a care group (Jiangsu checklist item 13): the counsellor, the
head teacher, relevant teachers, guardian contacts and, optionally, a peer supporter. The
school lead and the district duty officer are the rungs of the escalation ladder. Each role
sees only the parts of a case it needs (:data:`VISIBILITY`); a head teacher never sees answers
or scores, a peer supporter sees only their own tasks, and guardians see nothing inside the
system: they are contacts the care team calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal, get_args

import msgspec

__all__ = [
    "CARE_ROLES",
    "CASE_PARTS",
    "GROUP_ROLES",
    "VISIBILITY",
    "CareGroupError",
    "CareMember",
    "CarePart",
    "CareRole",
    "Visibility",
    "can_see",
    "check_care_group",
    "check_phone",
    "visibility",
]

CareRole = Literal[
    "counsellor",
    "head_teacher",
    "teacher",
    "guardian",
    "peer_supporter",
    "school_lead",
    "district_officer",
]
CarePart = Literal["answers", "scores", "reasons", "plan", "talk_notes", "tasks", "contact_details"]
#: ``all``: every item of the part; ``own``: only items assigned to or written by the viewer;
#: ``none``: nothing.
Visibility = Literal["all", "own", "none"]

#: Every role, in the order of the care group and then the escalation ladder.
CARE_ROLES: tuple[CareRole, ...] = get_args(CareRole)
#: Every part of a case.
CASE_PARTS: tuple[CarePart, ...] = get_args(CarePart)
#: Roles that can be members of a case's care group (the others are escalation rungs).
GROUP_ROLES: frozenset[CareRole] = frozenset(
    {"counsellor", "head_teacher", "teacher", "guardian", "peer_supporter"}
)


def _row(**parts: Visibility) -> Mapping[CarePart, Visibility]:
    row: dict[CarePart, Visibility] = dict.fromkeys(CASE_PARTS, "none")
    for part, value in parts.items():
        row[part] = value  # type: ignore[index]
    return MappingProxyType(row)


#: What each role may see of a case.
#:
#: * counsellor: everything (the student's file, 一人一档);
#: * head teacher: the plan, the talk notes and tasks of the case and the guardians' contact
#:   details, never answers, scores or reasons (reasons carry totals as evidence);
#: * teacher: the plan (warning signs, coping steps) and their own tasks and talk notes;
#: * guardian: nothing inside the system (contacts only);
#: * peer supporter: only their own tasks;
#: * school lead: the plan, the tasks and the contact details, to act when escalated to;
#: * district officer: the tasks and their deadlines, to act when escalated to.
VISIBILITY: Mapping[CareRole, Mapping[CarePart, Visibility]] = MappingProxyType(
    {
        "counsellor": _row(
            answers="all",
            scores="all",
            reasons="all",
            plan="all",
            talk_notes="all",
            tasks="all",
            contact_details="all",
        ),
        "head_teacher": _row(plan="all", talk_notes="all", tasks="all", contact_details="all"),
        "teacher": _row(plan="all", talk_notes="own", tasks="own"),
        "guardian": _row(),
        "peer_supporter": _row(tasks="own"),
        "school_lead": _row(plan="all", tasks="all", contact_details="all"),
        "district_officer": _row(tasks="all"),
    }
)


class CareGroupError(ValueError):
    """An unknown role or part, or a malformed care group."""


def visibility(role: CareRole, part: CarePart) -> Visibility:
    """Return how much of ``part`` a ``role`` may see: ``all``, ``own`` or ``none``.

    Raises
    ------
    CareGroupError
        If ``role`` or ``part`` is unknown.
    """
    if role not in VISIBILITY:
        raise CareGroupError(f"unknown care role {role!r}; roles are {', '.join(CARE_ROLES)}")
    if part not in CASE_PARTS:
        raise CareGroupError(f"unknown case part {part!r}; parts are {', '.join(CASE_PARTS)}")
    return VISIBILITY[role][part]


def can_see(role: CareRole, part: CarePart, *, own: bool = False) -> bool:
    """Return whether ``role`` may see ``part`` of a case.

    Parameters
    ----------
    role : CareRole
        The viewer's role.
    part : CarePart
        The part of the case.
    own : bool
        Whether the item is the viewer's own (a task assigned to them, a talk note they
        wrote). Parts a role sees only ``own`` items of are hidden when ``own`` is false.

    Returns
    -------
    bool

    Raises
    ------
    CareGroupError
        If ``role`` or ``part`` is unknown.
    """
    level = visibility(role, part)
    return level == "all" or (level == "own" and own)


_PHONE_RE = re.compile(r"\+?[0-9][0-9 \-]*[0-9]")


def check_phone(phone: str, field: str = "phone") -> str:
    """Check a phone number and return it without surrounding whitespace.

    Digits with an optional leading ``+`` and inner spaces or hyphens, at least 3 digits (so
    ``110``, ``120`` and ``12356`` pass) and at most 20.

    Raises
    ------
    ValueError
        If ``phone`` is not such a number; the message names ``field``.
    """
    if not isinstance(phone, str):
        raise ValueError(f"{field} must be text, got {type(phone).__name__}")
    text = phone.strip()
    digits = sum(ch.isdigit() for ch in text)
    if _PHONE_RE.fullmatch(text) is None or not 3 <= digits <= 20:
        raise ValueError(f"{field} is not a phone number: {phone!r}")
    return text


class CareMember(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A member of a case's care group.

    Parameters
    ----------
    role : CareRole
        One of :data:`GROUP_ROLES`.
    person_id : str
        The service's id of the staff member, student or guardian.
    name : str
        Display name.
    relation : str or None
        For a guardian, the relation to the student (e.g. ``"mother"``, ``"母亲"``).
    phone : str or None
        Contact number; required for a guardian.
    """

    role: CareRole
    person_id: str
    name: str
    relation: str | None = None
    phone: str | None = None


def check_care_group(members: Sequence[CareMember]) -> tuple[CareMember, ...]:
    """Check a case's care group.

    A group has at least one counsellor, exactly one head teacher, any number of
    relevant teachers, at least one guardian contact (with relation and phone number), and at
    most one peer supporter; nobody appears twice in the same role.

    Parameters
    ----------
    members : sequence of CareMember
        The group.

    Returns
    -------
    tuple of CareMember
        The members, in the given order.

    Raises
    ------
    CareGroupError
        Naming every problem found.
    """
    members = tuple(members)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    counts: dict[str, int] = dict.fromkeys(GROUP_ROLES, 0)
    for index, member in enumerate(members):
        where = f"members[{index}]"
        if not isinstance(member, CareMember):
            problems.append(f"{where} is not a CareMember")
            continue
        if member.role not in GROUP_ROLES:
            problems.append(
                f"{where}.role: {member.role!r} is not a care-group role "
                f"({', '.join(sorted(GROUP_ROLES))})"
            )
            continue
        counts[member.role] += 1
        if not member.person_id.strip():
            problems.append(f"{where}.person_id must not be empty")
        if not member.name.strip():
            problems.append(f"{where}.name must not be empty")
        if (member.role, member.person_id) in seen:
            problems.append(f"{where}: {member.person_id!r} is already a {member.role}")
        seen.add((member.role, member.person_id))
        if member.role == "guardian":
            if not (member.relation or "").strip():
                problems.append(f"{where}.relation is required for a guardian")
            if member.phone is None:
                problems.append(f"{where}.phone is required for a guardian")
        if member.phone is not None:
            try:
                check_phone(member.phone, f"{where}.phone")
            except ValueError as exc:
                problems.append(str(exc))
    if counts["counsellor"] < 1:
        problems.append("a care group needs at least one counsellor")
    if counts["head_teacher"] != 1:
        problems.append(
            f"a care group needs exactly one head_teacher, got {counts['head_teacher']}"
        )
    if counts["guardian"] < 1:
        problems.append("a care group needs at least one guardian contact")
    if counts["peer_supporter"] > 1:
        problems.append(
            f"a care group has at most one peer_supporter, got {counts['peer_supporter']}"
        )
    if problems:
        raise CareGroupError("care group: " + "; ".join(problems))
    return members
