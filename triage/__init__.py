"""Risk triage of Runxin: policy, tiers with reasons, school-time deadlines, escalation, notifier.

Pure domain code: no web framework, no database, no clock (``now`` is always a parameter).

Typical use::

    policy = load_policy()                       # the shipped default policy
    result = evaluate(scores, policy=policy, observations=obs, open_case_tier=None)
    if result.tier != "green":
        deadlines = compute_deadlines(result, submitted_at=t, calendar=cal, policy=policy)
        ladder = escalation_ladder(result.tier, acknowledge_by=deadlines.acknowledge_by,
                                   calendar=cal, policy=policy)
    ...
    for step in due_escalations(ladder, fired_level=stored_level, now=now): ...
"""

from triage._calendar import CalendarError, SchoolCalendar, Term
from triage._deadlines import Deadlines, TaskDeadline, compute_deadlines
from triage._escalation import EscalationStep, due_escalations, escalation_ladder
from triage._evaluate import OPEN_CASE_RULE_ID, Observation, evaluate, round_half_up
from triage._notify import (
    DeliveryOutcome,
    Notification,
    Notifier,
    WebhookNotifier,
    backoff_delay,
    parse_retry_after,
    sign,
    verify_signature,
)
from triage._policy import (
    DEFAULT_POLICY_PATH,
    Policy,
    PolicyError,
    load_policy,
    parse_policy,
)
from triage._result import TIER_ORDER, Reason, Tier, TriageResult

__all__ = [
    "DEFAULT_POLICY_PATH",
    "OPEN_CASE_RULE_ID",
    "TIER_ORDER",
    "CalendarError",
    "Deadlines",
    "DeliveryOutcome",
    "EscalationStep",
    "Notification",
    "Notifier",
    "Observation",
    "Policy",
    "PolicyError",
    "Reason",
    "SchoolCalendar",
    "TaskDeadline",
    "Term",
    "Tier",
    "TriageResult",
    "WebhookNotifier",
    "backoff_delay",
    "compute_deadlines",
    "due_escalations",
    "escalation_ladder",
    "evaluate",
    "load_policy",
    "parse_policy",
    "parse_retry_after",
    "round_half_up",
    "sign",
    "verify_signature",
]
