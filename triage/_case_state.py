"""The case state machine, case events, closing and tier decisions.

A case moves ``open → acknowledged → assessing → intervening → monitoring → closed``, may be
``referred`` to a partner hospital through the green channel, and may be reopened. The legal
moves are data (:data:`TRANSITIONS`, :data:`ACTION_ROLES`); :func:`next_state` applies one and
rejects every other with :class:`IllegalTransition`. Every move is recorded as a
:class:`CaseEvent` with actor, time and note (:func:`record_transition`).

A case's tier only goes down by a counsellor's recorded decision with a reason
(:func:`check_tier_change`); a later, lower screening result never lowers it by itself (see
:func:`~triage.evaluate`, ``open_case_tier``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal, get_args

import msgspec

from triage._calendar import require_aware
from triage._care_group import CARE_ROLES, CareRole
from triage._policy import CaseTier
from triage._result import TIER_ORDER

__all__ = [
    "ACTION_ROLES",
    "CASE_ACTIONS",
    "CASE_STATES",
    "MIN_DECISION_REASON_CHARS",
    "OPEN_CASE_STATES",
    "TRANSITIONS",
    "CaseAction",
    "CaseEvent",
    "CaseRuleError",
    "CaseState",
    "IllegalTransition",
    "TierDecision",
    "allowed_actions",
    "check_close",
    "check_tier_change",
    "may_perform",
    "next_state",
    "record_transition",
]

CaseState = Literal[
    "open", "acknowledged", "assessing", "intervening", "monitoring", "referred", "closed"
]
CaseAction = Literal[
    "acknowledge",
    "start_assessment",
    "start_intervention",
    "start_monitoring",
    "refer",
    "referral_returned",
    "close",
    "reopen",
]

#: Every case state, in the order of the usual path.
CASE_STATES: tuple[CaseState, ...] = get_args(CaseState)
#: The states of a case that is still open (every state but ``closed``).
OPEN_CASE_STATES: tuple[CaseState, ...] = tuple(s for s in CASE_STATES if s != "closed")
#: Every case action.
CASE_ACTIONS: tuple[CaseAction, ...] = get_args(CaseAction)

#: Fewest characters (after stripping surrounding whitespace) of a closing reason or of the
#: reason for lowering a tier; a Chinese character counts as one.
MIN_DECISION_REASON_CHARS = 10

#: The transition table: state → action → next state. Anything not listed is illegal.
#:
#: * a case is acknowledged (which stops the escalation ladder) or, in a crisis, referred
#:   straight to the partner hospital;
#: * it is closed only after an assessment found no further need (``assessing``) or after a
#:   period of monitoring, never straight from ``open`` or ``acknowledged``: every flag is
#:   followed up by a person;
#: * a referred case comes back to school monitoring when the hospital's feedback arrives;
#: * monitoring can go back to intervention or to a new assessment;
#: * a closed case can be reopened, which starts the acknowledgement again.
TRANSITIONS: Mapping[CaseState, Mapping[CaseAction, CaseState]] = MappingProxyType(
    {
        "open": MappingProxyType({"acknowledge": "acknowledged", "refer": "referred"}),
        "acknowledged": MappingProxyType({"start_assessment": "assessing", "refer": "referred"}),
        "assessing": MappingProxyType(
            {
                "start_intervention": "intervening",
                "start_monitoring": "monitoring",
                "refer": "referred",
                "close": "closed",
            }
        ),
        "intervening": MappingProxyType({"start_monitoring": "monitoring", "refer": "referred"}),
        "monitoring": MappingProxyType(
            {
                "start_assessment": "assessing",
                "start_intervention": "intervening",
                "refer": "referred",
                "close": "closed",
            }
        ),
        "referred": MappingProxyType({"referral_returned": "monitoring"}),
        "closed": MappingProxyType({"reopen": "open"}),
    }
)

#: Who may take each action. The school lead, first rung of the escalation ladder, may
#: acknowledge a case and refer a student in a crisis; everything else is the counsellor's.
ACTION_ROLES: Mapping[CaseAction, frozenset[CareRole]] = MappingProxyType(
    {
        "acknowledge": frozenset({"counsellor", "school_lead"}),
        "start_assessment": frozenset({"counsellor"}),
        "start_intervention": frozenset({"counsellor"}),
        "start_monitoring": frozenset({"counsellor"}),
        "refer": frozenset({"counsellor", "school_lead"}),
        "referral_returned": frozenset({"counsellor"}),
        "close": frozenset({"counsellor"}),
        "reopen": frozenset({"counsellor"}),
    }
)


class IllegalTransition(ValueError):
    """An action that the case's current state does not allow.

    Attributes
    ----------
    state : str
        The case's state.
    action : str
        The rejected action.
    allowed : tuple of str
        The actions the state allows.
    """

    def __init__(self, state: str, action: str, allowed: tuple[str, ...]) -> None:
        self.state = state
        self.action = action
        self.allowed = allowed
        listed = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"a case in state {state!r} cannot take action {action!r}; allowed actions: {listed}"
        )


class CaseRuleError(ValueError):
    """A case decision breaks a rule: no reason, too short a reason, or the wrong role."""


def _check_state(state: object) -> CaseState:
    if state not in TRANSITIONS:
        raise ValueError(f"unknown case state {state!r}; states are {', '.join(CASE_STATES)}")
    return state  # type: ignore[return-value]


def allowed_actions(state: CaseState) -> tuple[CaseAction, ...]:
    """Return the actions a case in ``state`` may take, in :data:`CASE_ACTIONS` order.

    Raises
    ------
    ValueError
        If ``state`` is not a case state.
    """
    table = TRANSITIONS[_check_state(state)]
    return tuple(action for action in CASE_ACTIONS if action in table)


def next_state(state: CaseState, action: CaseAction) -> CaseState:
    """Return the state a case in ``state`` reaches by ``action``.

    Parameters
    ----------
    state : CaseState
        The current state.
    action : CaseAction
        The action taken.

    Returns
    -------
    CaseState
        The new state.

    Raises
    ------
    IllegalTransition
        If ``state`` does not allow ``action`` (the message names both and the allowed
        actions).
    ValueError
        If ``state`` is not a case state.
    """
    table = TRANSITIONS[_check_state(state)]
    if action not in table:
        raise IllegalTransition(state, str(action), allowed_actions(state))
    return table[action]


def may_perform(role: CareRole, action: CaseAction) -> bool:
    """Return whether ``role`` may take ``action`` (see :data:`ACTION_ROLES`).

    Raises
    ------
    ValueError
        If ``role`` or ``action`` is unknown.
    """
    if role not in CARE_ROLES:
        raise ValueError(f"unknown care role {role!r}; roles are {', '.join(CARE_ROLES)}")
    if action not in ACTION_ROLES:
        raise ValueError(f"unknown case action {action!r}; actions are {', '.join(CASE_ACTIONS)}")
    return role in ACTION_ROLES[action]


def _check_reason(reason: object, what: str) -> str:
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        raise CaseRuleError(f"{what} needs a reason")
    if not isinstance(reason, str):
        raise CaseRuleError(f"{what}: the reason must be text, got {type(reason).__name__}")
    text = reason.strip()
    if len(text) < MIN_DECISION_REASON_CHARS:
        raise CaseRuleError(
            f"{what} needs a reason of at least {MIN_DECISION_REASON_CHARS} characters "
            f"(a Chinese character counts as one); got {len(text)}: {text!r}"
        )
    return text


def check_close(reason: str | None) -> str:
    """Check the reason given for closing a case.

    Parameters
    ----------
    reason : str or None
        Why the case is closed.

    Returns
    -------
    str
        The reason without surrounding whitespace.

    Raises
    ------
    CaseRuleError
        If the reason is missing, blank or shorter than :data:`MIN_DECISION_REASON_CHARS`
        characters (counted after stripping surrounding whitespace).
    """
    return _check_reason(reason, "closing a case")


class TierDecision(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A recorded change of a case's tier.

    Parameters
    ----------
    from_tier, to_tier : {"yellow", "orange", "red"}
        The tier before and after.
    reason : str
        Why; required (at least :data:`MIN_DECISION_REASON_CHARS` characters) when lowering,
        may be empty when raising.
    decided_by_role : CareRole
        Who decided; only a counsellor may lower a tier.
    """

    from_tier: CaseTier
    to_tier: CaseTier
    reason: str
    decided_by_role: CareRole

    @property
    def lowers(self) -> bool:
        """Whether the decision lowers the tier."""
        return TIER_ORDER[self.to_tier] < TIER_ORDER[self.from_tier]


def _check_case_tier(value: object, name: str) -> CaseTier:
    if value not in ("yellow", "orange", "red"):
        hint = " (a case is not lowered to green: close it instead)" if value == "green" else ""
        raise CaseRuleError(f"{name} must be yellow, orange or red, got {value!r}{hint}")
    return value


def check_tier_change(
    current: CaseTier, requested: CaseTier, *, reason: str | None, role: CareRole
) -> TierDecision:
    """Check a change of a case's tier and return the decision to record.

    Raising a tier is always allowed (any role, reason optional). Lowering it needs a
    counsellor's decision with a reason of at least :data:`MIN_DECISION_REASON_CHARS`
    characters.

    Parameters
    ----------
    current : {"yellow", "orange", "red"}
        The case's tier now.
    requested : {"yellow", "orange", "red"}
        The tier asked for.
    reason : str or None
        Why.
    role : CareRole
        Role of the person deciding.

    Returns
    -------
    TierDecision
        The decision, reason stripped.

    Raises
    ------
    CaseRuleError
        If a tier is not a case tier (``green`` included: close the case instead), the tier
        does not change, or a lowering comes from another role than the counsellor or without
        a sufficient reason.
    ValueError
        If ``role`` is unknown.
    """
    from_tier = _check_case_tier(current, "current")
    to_tier = _check_case_tier(requested, "requested")
    if role not in CARE_ROLES:
        raise ValueError(f"unknown care role {role!r}; roles are {', '.join(CARE_ROLES)}")
    if from_tier == to_tier:
        raise CaseRuleError(f"the case is already {from_tier!r}; nothing to decide")
    if TIER_ORDER[to_tier] > TIER_ORDER[from_tier]:
        text = reason.strip() if isinstance(reason, str) else ""
        return TierDecision(from_tier=from_tier, to_tier=to_tier, reason=text, decided_by_role=role)
    if role != "counsellor":
        raise CaseRuleError(
            f"only a counsellor may lower a case's tier ({from_tier} → {to_tier}); a {role} may not"
        )
    text = _check_reason(reason, f"lowering a case from {from_tier} to {to_tier}")
    return TierDecision(from_tier=from_tier, to_tier=to_tier, reason=text, decided_by_role=role)


class CaseEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One transition of a case, as recorded in its history.

    Parameters
    ----------
    from_state, to_state : CaseState
        State before and after.
    action : CaseAction
        The action taken.
    actor_id : str
        Who took it (the service's staff id).
    actor_role : CareRole
        In which role.
    at : datetime
        When (UTC-aware).
    note : str or None
        Free text; for ``close`` the checked reason.
    """

    from_state: CaseState
    action: CaseAction
    to_state: CaseState
    actor_id: str
    actor_role: CareRole
    at: datetime
    note: str | None = None


def record_transition(
    state: CaseState,
    action: CaseAction,
    *,
    actor_id: str,
    actor_role: CareRole,
    at: datetime,
    note: str | None = None,
) -> CaseEvent:
    """Check one transition and return the event that records it.

    Parameters
    ----------
    state : CaseState
        The case's state now.
    action : CaseAction
        The action taken.
    actor_id : str
        Who takes it (non-empty).
    actor_role : CareRole
        In which role; must be allowed by :data:`ACTION_ROLES`.
    at : datetime
        Aware instant of the action (``now``, passed in).
    note : str or None
        Free text; closing requires it as the reason (see :func:`check_close`).

    Returns
    -------
    CaseEvent
        The event, ``at`` in UTC and ``note`` stripped (``None`` when blank).

    Raises
    ------
    IllegalTransition
        If ``state`` does not allow ``action``.
    CaseRuleError
        If the role may not take the action, or a close has no sufficient reason.
    ValueError
        If ``at`` is naive, ``actor_id`` is blank, or the role or state is unknown.
    """
    require_aware(at, "at")
    if not isinstance(actor_id, str) or not actor_id.strip():
        raise ValueError("actor_id must be a non-empty string")
    to_state = next_state(state, action)
    if not may_perform(actor_role, action):
        allowed = ", ".join(sorted(ACTION_ROLES[action]))
        raise CaseRuleError(f"a {actor_role} may not {action} a case; allowed roles: {allowed}")
    if action == "close":
        text: str | None = check_close(note)
    elif note is not None and not isinstance(note, str):
        raise ValueError(f"note must be a string or None, got {type(note).__name__}")
    else:
        text = note.strip() if note and note.strip() else None
    return CaseEvent(
        from_state=state,
        action=action,
        to_state=to_state,
        actor_id=actor_id,
        actor_role=actor_role,
        at=at.astimezone(UTC),
        note=text,
    )
