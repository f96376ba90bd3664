"""The individual crisis-intervention plan of a student under care (一生一策).

A plan is versioned: every revision is a new :class:`CrisisPlan` with the next ``version``,
never an edit in place. It names the warning signs, the coping steps, the people to contact,
the steps that keep means of self-harm out of reach, and the date it is reviewed; when that
date arrives, :func:`plan_review_task` gives the review task and its due time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import msgspec

from triage._calendar import CalendarError, SchoolCalendar
from triage._care_group import check_phone
from triage._care_tasks import CareTask

__all__ = ["CrisisPlan", "PlanContact", "PlanError", "plan_review_task", "validate_plan"]


class PlanError(ValueError):
    """A crisis plan is incomplete or inconsistent.

    Attributes
    ----------
    problems : tuple of str
        Every problem found, each naming its field (e.g. ``contacts[0].phone``).
    """

    def __init__(self, problems: tuple[str, ...]) -> None:
        self.problems = problems
        super().__init__("crisis plan: " + "; ".join(problems))


class PlanContact(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A person to contact in a crisis.

    Parameters
    ----------
    name : str
        Name (or a service, e.g. ``"12356 心理援助热线"``).
    relation : str
        Relation to the student or role (``"mother"``, ``"班主任"``, ``"hotline"``).
    phone : str
        Phone number (see :func:`~triage.check_phone`).
    """

    name: str
    relation: str
    phone: str


class CrisisPlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One version of a student's crisis-intervention plan.

    Parameters
    ----------
    version : int
        1 for the first plan, one more for every revision.
    warning_signs : tuple of str
        What tells the care group the student is in danger.
    coping_steps : tuple of str
        What the student and the adults around them do then.
    contacts : tuple of PlanContact
        People to contact.
    means_safety : tuple of str
        Steps that keep means of self-harm out of reach.
    review_on : date
        Local date on which the plan is reviewed.
    """

    version: int
    warning_signs: tuple[str, ...]
    coping_steps: tuple[str, ...]
    contacts: tuple[PlanContact, ...]
    means_safety: tuple[str, ...]
    review_on: date


def _check_texts(values: object, field: str, problems: list[str]) -> None:
    if not isinstance(values, tuple | list) or not values:
        problems.append(f"{field} needs at least one entry")
        return
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{field}[{index}] must be non-empty text")


def validate_plan(
    plan: CrisisPlan, *, today: date, previous: CrisisPlan | None = None
) -> CrisisPlan:
    """Check a crisis plan before it is saved.

    Parameters
    ----------
    plan : CrisisPlan
        The plan (a new version).
    today : date
        Today's local date in the school's time zone (passed in, never read from a clock).
    previous : CrisisPlan or None
        The version it replaces, if any: ``plan.version`` must be one more.

    Returns
    -------
    CrisisPlan
        ``plan`` unchanged.

    Raises
    ------
    PlanError
        Listing every problem: an empty warning signs, coping steps, contacts or means-safety
        list or entry; a contact without name, relation or a valid phone number; a review
        date not after ``today``; a version that is not a positive int (or not the one after
        ``previous``).
    ValueError
        If ``today`` is not a date.
    """
    if not isinstance(today, date) or isinstance(today, datetime):
        raise ValueError(f"today must be a date, got {type(today).__name__}")
    if not isinstance(plan, CrisisPlan):
        raise ValueError(f"plan must be a CrisisPlan, got {type(plan).__name__}")
    problems: list[str] = []
    if isinstance(plan.version, bool) or not isinstance(plan.version, int) or plan.version < 1:
        problems.append(f"version must be an int >= 1, got {plan.version!r}")
    elif previous is not None and plan.version != previous.version + 1:
        problems.append(
            f"version must be {previous.version + 1} (the plan replaces version "
            f"{previous.version}), got {plan.version}"
        )
    _check_texts(plan.warning_signs, "warning_signs", problems)
    _check_texts(plan.coping_steps, "coping_steps", problems)
    _check_texts(plan.means_safety, "means_safety", problems)
    if not plan.contacts:
        problems.append("contacts needs at least one entry")
    for index, contact in enumerate(plan.contacts):
        where = f"contacts[{index}]"
        if not isinstance(contact, PlanContact):
            problems.append(f"{where} must be a PlanContact")
            continue
        for name in ("name", "relation"):
            value = getattr(contact, name)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}.{name} must be non-empty text")
        try:
            check_phone(contact.phone, f"{where}.phone")
        except ValueError as exc:
            problems.append(str(exc))
    if not isinstance(plan.review_on, date) or isinstance(plan.review_on, datetime):
        problems.append(f"review_on must be a date, got {type(plan.review_on).__name__}")
    elif plan.review_on <= today:
        problems.append(
            f"review_on ({plan.review_on.isoformat()}) must be after today ({today.isoformat()})"
        )
    if problems:
        raise PlanError(tuple(problems))
    return plan


def plan_review_task(plan: CrisisPlan, *, calendar: SchoolCalendar) -> CareTask:
    """Return the review task a plan raises when its review date arrives.

    Parameters
    ----------
    plan : CrisisPlan
        The plan in force.
    calendar : SchoolCalendar
        The school's calendar.

    Returns
    -------
    CareTask
        Kind ``plan_review``, key ``plan_review:v<version>:<review_on>``; opens at local
        midnight starting ``review_on`` and is due at the end of school hours of the first
        school day on or after ``review_on`` (counted on weekdays, holidays and make-up days
        when the review date is past the calendar's last term).

    Raises
    ------
    ValueError
        If ``plan.review_on`` is not a date.
    """
    review_on = plan.review_on
    if not isinstance(review_on, date) or isinstance(review_on, datetime):
        raise ValueError(f"plan.review_on must be a date, got {type(review_on).__name__}")
    opens_at = datetime.combine(review_on, time(0), tzinfo=calendar.zone).astimezone(UTC)
    try:
        day = calendar.next_school_day(review_on, include=True)
    except CalendarError:
        if not calendar.terms:
            raise
        calendar = calendar.without_terms()
        day = calendar.next_school_day(review_on, include=True)
    due_at = calendar.school_day_bounds(day)[1]
    return CareTask(
        kind="plan_review",
        key=f"plan_review:v{plan.version}:{review_on.isoformat()}",
        opens_at=opens_at,
        due_at=due_at,
    )
