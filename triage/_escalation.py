"""The escalation ladder of an unacknowledged case and which rungs are due at a given time.

Level 0 is the counsellor(s), notified when the case opens; the ladder computed here holds the
levels above it (school lead, then district duty officer), each due after its interval while
the case stays unacknowledged. The caller stores the highest level it has fired and passes it
back, so every rung fires exactly once, in order, however the clock jumps.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import msgspec

from triage._calendar import SchoolCalendar, require_aware
from triage._deadlines import resolve_due
from triage._policy import Policy
from triage._result import Tier

__all__ = [
    "CASE_RECIPIENT_ROLES",
    "CaseRecipientRole",
    "EscalationStep",
    "due_escalations",
    "escalation_ladder",
    "next_rung",
]

#: Who a case notification can go to: the counsellor (level 0, told when the case opens) or a
#: rung of the escalation ladder (one of :data:`~triage.EscalationRole`).
CaseRecipientRole = Literal["counsellor", "school_lead", "district_officer"]
#: The members of :data:`CaseRecipientRole`, counsellor first.
CASE_RECIPIENT_ROLES: tuple[CaseRecipientRole, ...] = (
    "counsellor",
    "school_lead",
    "district_officer",
)


class EscalationStep(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One rung of the ladder: who is notified and from when.

    Parameters
    ----------
    level : int
        1 for the first rung above the counsellor, 2 for the next, and so on.
    role : {"counsellor", "school_lead", "district_officer"}
        Who is notified: a rung of the policy's ladder (:data:`~triage.EscalationRole`), or
        the counsellor re-notified about an overdue task (:func:`~triage.task_escalation_ladder`).
    due_at : datetime
        UTC-aware instant from which the rung fires if the case is still unacknowledged.
    """

    level: int
    role: CaseRecipientRole
    due_at: datetime


def escalation_ladder(
    tier: Tier,
    *,
    acknowledge_by: datetime,
    calendar: SchoolCalendar,
    policy: Policy,
) -> tuple[EscalationStep, ...]:
    """Build the escalation ladder of a case of ``tier``.

    Level 1 is due at ``acknowledge_by`` (plus the first rung's ``after`` interval, if the
    policy gives one); each further level is due its ``after`` interval (clock or school
    time, per the policy) after the previous one.

    Parameters
    ----------
    tier : Tier
        The case's tier (yellow, orange or red).
    acknowledge_by : datetime
        Aware acknowledge-by deadline of the case (see :func:`~triage.compute_deadlines`).
    calendar : SchoolCalendar
        The school's calendar, for school-time intervals.
    policy : Policy
        The policy.

    Returns
    -------
    tuple of EscalationStep
        Rungs in level order with non-decreasing ``due_at``; empty when the policy gives the
        tier no ladder.

    Raises
    ------
    ValueError
        If ``tier`` is green (no case) or ``acknowledge_by`` is naive.
    """
    require_aware(acknowledge_by, "acknowledge_by")
    if tier == "green":
        raise ValueError("a green result opens no case and has no escalation ladder")
    steps: list[EscalationStep] = []
    previous = acknowledge_by.astimezone(UTC)
    for level, rule in enumerate(policy.tier_policy(tier).escalation, start=1):
        due_at = previous if rule.after is None else resolve_due(rule.after, previous, calendar)
        steps.append(EscalationStep(level=level, role=rule.role, due_at=due_at))
        previous = due_at
    return tuple(steps)


def due_escalations(
    ladder: Sequence[EscalationStep], *, fired_level: int, now: datetime
) -> tuple[EscalationStep, ...]:
    """Return the rungs to fire now.

    Parameters
    ----------
    ladder : sequence of EscalationStep
        The case's ladder (levels unique, ``due_at`` non-decreasing with level).
    fired_level : int
        Highest level already fired (0 when only the counsellor was notified).
    now : datetime
        Aware current instant.

    Returns
    -------
    tuple of EscalationStep
        Every rung with ``level > fired_level`` and ``due_at <= now``, in level order. After a
        jump of the clock by days, all overdue rungs come out at once; after a jump back,
        nothing fires early. The caller then stores the highest level returned.

    Raises
    ------
    ValueError
        If ``now`` is naive, ``fired_level`` is negative, or the ladder has repeated levels or
        a rung due before a lower one.
    """
    require_aware(now, "now")
    if isinstance(fired_level, bool) or not isinstance(fired_level, int) or fired_level < 0:
        raise ValueError(f"fired_level must be an int >= 0, got {fired_level!r}")
    ordered = sorted(ladder, key=lambda step: step.level)
    for step in ordered:
        require_aware(step.due_at, f"due_at of escalation level {step.level}")
    for lower, higher in itertools.pairwise(ordered):
        if lower.level == higher.level:
            raise ValueError(f"escalation ladder repeats level {lower.level}")
        if higher.due_at < lower.due_at:
            raise ValueError(
                f"escalation level {higher.level} is due before level {lower.level}; "
                "a ladder must not skip a rung"
            )
    return tuple(step for step in ordered if step.level > fired_level and step.due_at <= now)


def next_rung(
    ladder: Sequence[EscalationStep], *, failed: CaseRecipientRole
) -> EscalationStep | None:
    """The rung to tell when a notification to ``failed`` finally failed.

    Parameters
    ----------
    ladder : sequence of EscalationStep
        The case's ladder (:func:`escalation_ladder`: the policy's ``tiers[].escalation`` for
        the case's tier), in any order.
    failed : {"counsellor", "school_lead", "district_officer"}
        Whom the failed notification was for.

    Returns
    -------
    EscalationStep or None
        The rung above the rung of ``failed``; for the counsellor, when not on the ladder, the
        first rung; ``None`` when there is none (the top of the ladder, a tier without a
        ladder, or a role the ladder does not hold).

    Raises
    ------
    ValueError
        If ``failed`` is not a case recipient role.
    """
    if failed not in CASE_RECIPIENT_ROLES:
        raise ValueError(f"failed must be one of {CASE_RECIPIENT_ROLES}, got {failed!r}")
    ordered = sorted(ladder, key=lambda step: step.level)
    for lower, higher in itertools.pairwise(ordered):
        if lower.role == failed:
            return higher
    if failed == "counsellor" and all(step.role != failed for step in ordered):
        return ordered[0] if ordered else None
    return None
