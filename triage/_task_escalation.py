"""Escalation of acknowledged but overdue tasks.

Once a case is acknowledged its own ladder stops (:func:`~triage.escalation_ladder`); each of
its tasks then has a ladder of its own, starting when the task falls due: the counsellor(s)
are re-notified at the due time (level 1), the school lead after the policy's
``care.overdue_escalation`` interval for the tier (level 2), and the district duty officer after
the tier's usual ladder interval (level 3, where the tier's ladder reaches the district). Fire
the rungs with :func:`~triage.due_escalations`: each fires exactly once, in order, whatever
the clock does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from triage._calendar import SchoolCalendar, require_aware
from triage._care_tasks import check_case_tier
from triage._deadlines import resolve_due
from triage._escalation import EscalationStep
from triage._policy import CaseTier, Policy

__all__ = ["task_escalation_ladder"]


def task_escalation_ladder(
    task_due_at: datetime,
    *,
    tier: CaseTier,
    calendar: SchoolCalendar,
    policy: Policy,
) -> tuple[EscalationStep, ...]:
    """Build the ladder of a task that is overdue although its case was acknowledged.

    Parameters
    ----------
    task_due_at : datetime
        Aware due time of the task.
    tier : {"yellow", "orange", "red"}
        The case's tier.
    calendar : SchoolCalendar
        The school's calendar, for school-time intervals.
    policy : Policy
        The policy: ``care.overdue_escalation.<tier>`` is the wait from the re-notification to
        the first rung of the tier's ``escalation`` ladder (it replaces that rung's own
        ``after``); later rungs keep their ``after`` intervals.

    Returns
    -------
    tuple of EscalationStep
        Level 1 ``counsellor`` at ``task_due_at`` (in UTC), then one level per rung of the
        tier's ladder, ``due_at`` non-decreasing.

    Raises
    ------
    ValueError
        If ``task_due_at`` is naive, ``tier`` is not a case tier, or the policy has no care
        section.
    """
    require_aware(task_due_at, "task_due_at")
    tier = check_case_tier(tier)
    first_wait = policy.care_policy().overdue_escalation.for_tier(tier)
    previous = task_due_at.astimezone(UTC)
    steps = [EscalationStep(level=1, role="counsellor", due_at=previous)]
    for index, rule in enumerate(policy.tier_policy(tier).escalation):
        wait = first_wait if index == 0 else rule.after
        due_at = previous if wait is None else resolve_due(wait, previous, calendar)
        steps.append(EscalationStep(level=index + 2, role=rule.role, due_at=due_at))
        previous = due_at
    return tuple(steps)
