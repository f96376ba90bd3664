"""Risk triage of Runxin: policy, tiers with reasons, school-time deadlines, escalation, delivery.

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

Care of a student under care::

    policy = load_policy_layers(district_file, [school_override])   # base + layers
    event = record_transition("open", "acknowledge", actor_id=uid, actor_role="counsellor", at=now)
    tasks = generate_care_tasks(tier, opened_at=t, calendar=cal, policy=policy,
                                school_year=year)
    ladder = task_escalation_ladder(task.due_at, tier=tier, calendar=cal, policy=policy)
"""

from triage._calendar import CalendarError, SchoolCalendar, Term
from triage._care_group import (
    CARE_ROLES,
    CASE_PARTS,
    GROUP_ROLES,
    VISIBILITY,
    CareGroupError,
    CareMember,
    CarePart,
    CareRole,
    Visibility,
    can_see,
    check_care_group,
    check_phone,
    visibility,
)
from triage._care_tasks import (
    CARE_TASK_KINDS,
    REFERRAL_STAGES,
    CareTask,
    CareTaskKind,
    ExamPeriod,
    ReferralStage,
    ReferralStageError,
    SchoolYear,
    TermSchedule,
    check_referral_advance,
    generate_care_tasks,
    referral_follow_up,
    referral_stage_next,
)
from triage._case_state import (
    ACTION_ROLES,
    CASE_ACTIONS,
    CASE_STATES,
    MIN_DECISION_REASON_CHARS,
    OPEN_CASE_STATES,
    TRANSITIONS,
    CaseAction,
    CaseEvent,
    CaseRuleError,
    CaseState,
    IllegalTransition,
    TierDecision,
    allowed_actions,
    check_close,
    check_tier_change,
    may_perform,
    next_state,
    record_transition,
)
from triage._crisis_plan import (
    CrisisPlan,
    PlanContact,
    PlanError,
    plan_review_task,
    validate_plan,
)
from triage._deadlines import Deadlines, TaskDeadline, compute_deadlines
from triage._escalation import (
    CASE_RECIPIENT_ROLES,
    CaseRecipientRole,
    EscalationStep,
    due_escalations,
    escalation_ladder,
    next_rung,
)
from triage._evaluate import OPEN_CASE_RULE_ID, Observation, evaluate
from triage._incident import (
    INCIDENT_REVIEW_PERIOD,
    MIN_REVIEW_REPORT_CHARS,
    IncidentReviewStatus,
    ReviewReportTooShort,
    check_review_report,
    count_report_characters,
    incident_review_deadline,
    incident_review_escalation,
)
from triage._notify import (
    DeliveryOutcome,
    backoff_delay,
    parse_retry_after,
    sign,
    verify_signature,
)
from triage._policy import (
    DEFAULT_POLICY_PATH,
    CarePolicy,
    CaseTier,
    EscalationRole,
    Policy,
    PolicyError,
    load_policy,
    parse_policy,
)
from triage._policy_layers import (
    OVERRIDE_FORMAT,
    PolicyOverride,
    is_protected_rule,
    load_policy_layers,
    merge_policy,
    parse_policy_override,
)
from triage._result import TIER_ORDER, Reason, Tier, TriageResult
from triage._safety_floor import (
    SafetyFloorError,
    SafetyProblem,
    check_safety_floor,
    require_safety_floor,
)
from triage._task_escalation import task_escalation_ladder

__all__ = [
    "ACTION_ROLES",
    "CARE_ROLES",
    "CARE_TASK_KINDS",
    "CASE_ACTIONS",
    "CASE_PARTS",
    "CASE_RECIPIENT_ROLES",
    "CASE_STATES",
    "DEFAULT_POLICY_PATH",
    "GROUP_ROLES",
    "INCIDENT_REVIEW_PERIOD",
    "MIN_DECISION_REASON_CHARS",
    "MIN_REVIEW_REPORT_CHARS",
    "OPEN_CASE_RULE_ID",
    "OPEN_CASE_STATES",
    "OVERRIDE_FORMAT",
    "REFERRAL_STAGES",
    "TIER_ORDER",
    "TRANSITIONS",
    "VISIBILITY",
    "CalendarError",
    "CareGroupError",
    "CareMember",
    "CarePart",
    "CarePolicy",
    "CareRole",
    "CareTask",
    "CareTaskKind",
    "CaseAction",
    "CaseEvent",
    "CaseRecipientRole",
    "CaseRuleError",
    "CaseState",
    "CaseTier",
    "CrisisPlan",
    "Deadlines",
    "DeliveryOutcome",
    "EscalationRole",
    "EscalationStep",
    "ExamPeriod",
    "IllegalTransition",
    "IncidentReviewStatus",
    "Observation",
    "PlanContact",
    "PlanError",
    "Policy",
    "PolicyError",
    "PolicyOverride",
    "Reason",
    "ReferralStage",
    "ReferralStageError",
    "ReviewReportTooShort",
    "SafetyFloorError",
    "SafetyProblem",
    "SchoolCalendar",
    "SchoolYear",
    "TaskDeadline",
    "Term",
    "TermSchedule",
    "Tier",
    "TierDecision",
    "TriageResult",
    "Visibility",
    "allowed_actions",
    "backoff_delay",
    "can_see",
    "check_care_group",
    "check_close",
    "check_phone",
    "check_referral_advance",
    "check_review_report",
    "check_safety_floor",
    "check_tier_change",
    "compute_deadlines",
    "count_report_characters",
    "due_escalations",
    "escalation_ladder",
    "evaluate",
    "generate_care_tasks",
    "incident_review_deadline",
    "incident_review_escalation",
    "is_protected_rule",
    "load_policy",
    "load_policy_layers",
    "may_perform",
    "merge_policy",
    "next_rung",
    "next_state",
    "parse_policy",
    "parse_policy_override",
    "parse_retry_after",
    "plan_review_task",
    "record_transition",
    "referral_follow_up",
    "referral_stage_next",
    "require_safety_floor",
    "sign",
    "task_escalation_ladder",
    "validate_plan",
    "verify_signature",
    "visibility",
]
