"""District and school layers over a base policy.

A district (or a school) tunes the policy with an override file instead of copying it whole.
An override may change only named sections: deadline durations of existing pathways and
tasks, the escalation timeouts of existing rungs, the ``care`` settings (home-visit cadence,
talk windows, re-screening, referral follow-up, overdue-task escalation), and switch rules off
or back on. It cannot add or change rules, tiers, pathways, tasks or rungs. Layers apply in
order and the result's version names every layer, e.g.
``default-2025.2+district-x.3+school-y.1``.

Override file (format ``runxin.triage-policy-override/1``)::

    {
      "format": "runxin.triage-policy-override/1",
      "version": "school-y.1",
      "description": "Shorter interview deadline for yellow.",
      "tiers": [
        {"tier": "yellow",
         "pathways": [{"id": "elevated",
                       "tasks": [{"kind": "counsellor_interview",
                                  "due": {"counting": "school", "duration": "P5D"}}]}],
         "escalation": [{"role": "school_lead",
                         "after": {"counting": "school", "duration": "PT4H"}}]}
      ],
      "rules": {"disable": ["observation_concern"], "enable": []},
      "care": {"home_visit": {"cadence": {"red": "term"}},
               "talks": {"start_of_term_school_days": 5}}
    }

Two safety rules hold for every layer: a rule that gives red or fires on a flag (an acute or
critical item, an unanswered critical item) cannot be switched off, since a critical item
fires whatever the total; and red's deadlines count the clock, since a crisis does not wait
for school hours. Deadlines of a suicide pathway (every red pathway, orange ``suicide`` and any
pathway a flag rule routes to, see :func:`~triage.check_safety_floor`) may only be tightened:
a layer that counts one on school time or makes it longer than the layer below (or than the
safety floor) is rejected, naming the layer and the field. A malformed override fails with a
:class:`~triage.PolicyError` naming the override file and the field in it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import msgspec

from triage._policy import (
    CaseTier,
    Due,
    EscalationRole,
    HomeVisitCadence,
    Pathway,
    Policy,
    PolicyError,
    Rule,
    TaskRule,
    TierPolicy,
    _check_due,
    _check_policy,
    _split_msgspec_error,
    load_policy,
)
from triage._safety_floor import (
    FLOOR_ACKNOWLEDGE,
    FLOOR_TASKS,
    due_bound,
    format_bound,
    safety_pathways,
)

__all__ = [
    "OVERRIDE_FORMAT",
    "PolicyOverride",
    "is_protected_rule",
    "load_policy_layers",
    "merge_policy",
    "parse_policy_override",
]

#: The file format of override layers.
OVERRIDE_FORMAT = "runxin.triage-policy-override/1"

_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class TaskOverride(_Struct, frozen=True):
    """New deadline of an existing task of a pathway (by ``kind``)."""

    kind: str
    due: Due


class PathwayOverride(_Struct, frozen=True):
    """New deadlines of an existing pathway (by ``id``)."""

    id: str
    acknowledge: Due | None = None
    tasks: tuple[TaskOverride, ...] = ()


class EscalationOverride(_Struct, frozen=True):
    """New timeout of an existing rung of a tier's ladder (by ``role``)."""

    role: EscalationRole
    after: Due


class TierOverride(_Struct, frozen=True):
    """Changes to one tier's deadlines and ladder."""

    tier: CaseTier
    pathways: tuple[PathwayOverride, ...] = ()
    escalation: tuple[EscalationOverride, ...] = ()


class RuleSwitches(_Struct, frozen=True):
    """Rule ids to switch off and back on."""

    disable: tuple[str, ...] = ()
    enable: tuple[str, ...] = ()


class TierCadenceOverride(_Struct, frozen=True):
    """Home-visit cadence of some tiers."""

    yellow: HomeVisitCadence | None = None
    orange: HomeVisitCadence | None = None
    red: HomeVisitCadence | None = None


class HomeVisitOverride(_Struct, frozen=True):
    """Changes to ``care.home_visit``."""

    cadence: TierCadenceOverride | None = None


class TalkOverride(_Struct, frozen=True):
    """Changes to ``care.talks``."""

    start_of_term_school_days: int | None = None
    before_exam_school_days: int | None = None
    after_exam_school_days: int | None = None


class RescreenOverride(_Struct, frozen=True):
    """Changes to ``care.rescreen``."""

    within_school_days: int | None = None
    fallback: str | None = None


class ReferralOverride(_Struct, frozen=True):
    """Changes to ``care.referral``."""

    accepted: Due | None = None
    seen: Due | None = None
    feedback: Due | None = None


class TierDuesOverride(_Struct, frozen=True):
    """Changes to ``care.overdue_escalation``."""

    yellow: Due | None = None
    orange: Due | None = None
    red: Due | None = None


class CareOverride(_Struct, frozen=True):
    """Changes to the ``care`` section."""

    home_visit: HomeVisitOverride | None = None
    talks: TalkOverride | None = None
    rescreen: RescreenOverride | None = None
    referral: ReferralOverride | None = None
    overdue_escalation: TierDuesOverride | None = None


class PolicyOverride(_Struct, frozen=True):
    """A district or school layer over a base policy (see the module documentation).

    Attributes
    ----------
    format : str
        ``"runxin.triage-policy-override/1"``.
    version : str
        The layer's version, e.g. ``"school-y.1"`` (letters, digits, ``.``, ``_``, ``-``);
        appended to the base version with ``+``.
    description : str
        Free text.
    tiers : tuple of TierOverride
        Deadline and timeout changes.
    rules : RuleSwitches or None
        Rules switched off or back on.
    care : CareOverride or None
        Changes to the care settings.
    """

    format: Literal["runxin.triage-policy-override/1"]
    version: str
    description: str = ""
    tiers: tuple[TierOverride, ...] = ()
    rules: RuleSwitches | None = None
    care: CareOverride | None = None


def is_protected_rule(rule: Rule) -> bool:
    """Return whether no override may switch ``rule`` off.

    Rules that give red, and rules that fire on a flag (acute, critical or unanswered
    critical items), are protected: a critical item fires whatever the total.
    """
    cond = rule.condition
    return rule.tier == "red" or cond.flag is not None or cond.flag_severity is not None


# -- parsing -----------------------------------------------------------------------------------


def _check_red_clock(due: Due, field: str, source: str) -> None:
    if due.counting != "clock":
        raise PolicyError(
            source,
            f"{field}.counting",
            "tier red counts the clock in every layer: a crisis does not wait for school hours",
        )


def _check_override(override: PolicyOverride, source: str) -> None:
    if not _VERSION_RE.fullmatch(override.version):
        raise PolicyError(
            source,
            "version",
            f"{override.version!r} must be letters, digits, '.', '_' or '-' "
            "(it is joined to the base version with '+')",
        )
    tiers_seen: set[str] = set()
    for t_index, tier in enumerate(override.tiers):
        t_field = f"tiers[{t_index}]"
        if tier.tier in tiers_seen:
            raise PolicyError(source, f"{t_field}.tier", f"tier {tier.tier!r} is given twice")
        tiers_seen.add(tier.tier)
        dues: list[tuple[Due, str]] = []
        pathway_ids: set[str] = set()
        for p_index, pathway in enumerate(tier.pathways):
            p_field = f"{t_field}.pathways[{p_index}]"
            if pathway.id in pathway_ids:
                raise PolicyError(source, f"{p_field}.id", f"pathway {pathway.id!r} is given twice")
            pathway_ids.add(pathway.id)
            if pathway.acknowledge is not None:
                _check_due(
                    pathway.acknowledge, f"{p_field}.acknowledge", source, allow_next_term=False
                )
                dues.append((pathway.acknowledge, f"{p_field}.acknowledge"))
            kinds: set[str] = set()
            for k_index, task in enumerate(pathway.tasks):
                k_field = f"{p_field}.tasks[{k_index}]"
                if task.kind in kinds:
                    raise PolicyError(source, f"{k_field}.kind", f"task {task.kind!r} given twice")
                kinds.add(task.kind)
                _check_due(task.due, f"{k_field}.due", source)
                dues.append((task.due, f"{k_field}.due"))
        roles: set[str] = set()
        for e_index, step in enumerate(tier.escalation):
            e_field = f"{t_field}.escalation[{e_index}]"
            if step.role in roles:
                raise PolicyError(source, f"{e_field}.role", f"rung {step.role!r} given twice")
            roles.add(step.role)
            _check_due(step.after, f"{e_field}.after", source, allow_next_term=False)
            dues.append((step.after, f"{e_field}.after"))
        if tier.tier == "red":
            for due, field in dues:
                _check_red_clock(due, field, source)
    if override.rules is not None:
        for name in ("disable", "enable"):
            ids: tuple[str, ...] = getattr(override.rules, name)
            for index, rule_id in enumerate(ids):
                if not rule_id or rule_id in ids[:index]:
                    raise PolicyError(
                        source,
                        f"rules.{name}[{index}]",
                        f"rule id {rule_id!r} is empty or repeated",
                    )
        both = sorted(set(override.rules.disable) & set(override.rules.enable))
        if both:
            index = override.rules.enable.index(both[0])
            raise PolicyError(
                source, f"rules.enable[{index}]", f"rule {both[0]!r} is both disabled and enabled"
            )
    care = override.care
    if care is not None:
        if care.referral is not None:
            for stage in ("accepted", "seen", "feedback"):
                due = getattr(care.referral, stage)
                if due is not None:
                    _check_due(due, f"care.referral.{stage}", source, allow_next_term=False)
        if care.overdue_escalation is not None:
            for tier_name in ("yellow", "orange", "red"):
                due = getattr(care.overdue_escalation, tier_name)
                if due is not None:
                    field = f"care.overdue_escalation.{tier_name}"
                    _check_due(due, field, source, allow_next_term=False)
                    if tier_name == "red":
                        _check_red_clock(due, field, source)


def parse_policy_override(data: bytes | str, *, source: str = "<override>") -> PolicyOverride:
    """Decode and check an override layer from JSON text.

    Parameters
    ----------
    data : bytes or str
        The JSON document.
    source : str
        Name used in error messages (the file path).

    Returns
    -------
    PolicyOverride
        The layer, checked on its own (references to the base are checked by
        :func:`merge_policy`).

    Raises
    ------
    PolicyError
        If the JSON is malformed, has unknown fields (a section that may not be overridden),
        wrong types, a bad version, a bad deadline, a red deadline not counting the clock, or
        a rule both disabled and enabled; the message names ``source`` and the field.
    """
    try:
        override = msgspec.json.decode(data, type=PolicyOverride)
    except msgspec.ValidationError as exc:
        field, problem = _split_msgspec_error(str(exc))
        if field == "format":
            problem += (
                f"; an override layer has format {OVERRIDE_FORMAT!r} (a full policy file is "
                "loaded as the base, not as a layer)"
            )
        raise PolicyError(source, field, problem) from exc
    except msgspec.DecodeError as exc:
        raise PolicyError(source, None, f"not valid JSON: {exc}") from exc
    _check_override(override, source)
    return override


# -- merging -----------------------------------------------------------------------------------


def _apply_partial(base: Any, partial: Any) -> Any:
    """Replace the fields of Struct ``base`` given (not ``None``) in Struct ``partial``.

    Nested override Structs apply field by field; a :class:`Due` replaces the old one whole.
    """
    changes: dict[str, Any] = {}
    for field in msgspec.structs.fields(partial):
        value = getattr(partial, field.name)
        if value is None:
            continue
        if isinstance(value, msgspec.Struct) and not isinstance(value, Due):
            value = _apply_partial(getattr(base, field.name), value)
        changes[field.name] = value
    return msgspec.structs.replace(base, **changes)


def _check_tightening(
    new: Due, old: Due, floor: timedelta | None, *, where: str, field: str, source: str
) -> None:
    """Reject a suicide-pathway deadline a layer loosens (school counting, or longer)."""
    if new.counting != "clock":
        raise PolicyError(
            source,
            f"{field}.counting",
            f"{where} counts the wall clock in every layer (a suicide-risk answer does not "
            "wait for school hours); this layer counts school time",
        )
    new_bound, old_bound = due_bound(new), due_bound(old)
    if new_bound is None:  # pragma: no cover - clock dues always have a bound once checked
        raise PolicyError(source, field, f"{where} needs a duration or until end_of_day")
    if floor is not None and new_bound > floor:
        raise PolicyError(
            source,
            field,
            f"{where} may be at most {format_bound(floor)} on the wall clock (the safety floor); "
            f"this layer sets up to {format_bound(new_bound)}",
        )
    if old_bound is not None and new_bound > old_bound:
        raise PolicyError(
            source,
            field,
            f"{where} may only be tightened by a layer: up to {format_bound(new_bound)} is "
            f"longer than the {format_bound(old_bound)} below it",
        )


def _merge_tier(
    tier_policy: TierPolicy,
    change: TierOverride,
    t_field: str,
    source: str,
    guarded: frozenset[tuple[str, str]] = frozenset(),
) -> TierPolicy:
    by_id = {pathway.id: pathway for pathway in tier_policy.pathways}
    new_pathways: dict[str, Pathway] = dict(by_id)
    for p_index, p_change in enumerate(change.pathways):
        p_field = f"{t_field}.pathways[{p_index}]"
        pathway = by_id.get(p_change.id)
        if pathway is None:
            raise PolicyError(
                source,
                f"{p_field}.id",
                f"tier {change.tier!r} has no pathway {p_change.id!r} (it has {sorted(by_id)}); "
                "an override cannot add pathways",
            )
        tasks_by_kind = {task.kind: task for task in pathway.tasks}
        new_tasks: dict[str, TaskRule] = dict(tasks_by_kind)
        for k_index, t_change in enumerate(p_change.tasks):
            task = tasks_by_kind.get(t_change.kind)
            if task is None:
                raise PolicyError(
                    source,
                    f"{p_field}.tasks[{k_index}].kind",
                    f"pathway {pathway.id!r} of tier {change.tier!r} has no task "
                    f"{t_change.kind!r} (it has {sorted(tasks_by_kind)}); an override cannot add "
                    "tasks",
                )
            if (change.tier, pathway.id) in guarded:
                _check_tightening(
                    t_change.due,
                    task.due,
                    FLOOR_TASKS.get(task.kind),
                    where=f"the {task.kind} deadline of suicide pathway {change.tier}/{pathway.id}",
                    field=f"{p_field}.tasks[{k_index}].due",
                    source=source,
                )
            new_tasks[t_change.kind] = msgspec.structs.replace(task, due=t_change.due)
        if p_change.acknowledge is not None and (change.tier, pathway.id) in guarded:
            _check_tightening(
                p_change.acknowledge,
                pathway.acknowledge,
                FLOOR_ACKNOWLEDGE,
                where=f"the acknowledgement of suicide pathway {change.tier}/{pathway.id}",
                field=f"{p_field}.acknowledge",
                source=source,
            )
        acknowledge = p_change.acknowledge or pathway.acknowledge
        new_pathways[pathway.id] = msgspec.structs.replace(
            pathway,
            acknowledge=acknowledge,
            tasks=tuple(new_tasks[task.kind] for task in pathway.tasks),
        )
    rungs = {step.role: step for step in tier_policy.escalation}
    new_rungs = dict(rungs)
    for e_index, e_change in enumerate(change.escalation):
        step = rungs.get(e_change.role)
        if step is None:
            raise PolicyError(
                source,
                f"{t_field}.escalation[{e_index}].role",
                f"tier {change.tier!r} has no rung {e_change.role!r} (it has {sorted(rungs)}); "
                "an override cannot add rungs",
            )
        new_rungs[e_change.role] = msgspec.structs.replace(step, after=e_change.after)
    return msgspec.structs.replace(
        tier_policy,
        pathways=tuple(new_pathways[p.id] for p in tier_policy.pathways),
        escalation=tuple(new_rungs[step.role] for step in tier_policy.escalation),
    )


def _switch_rules(
    rules: tuple[Rule, ...], disabled: tuple[Rule, ...], switches: RuleSwitches, source: str
) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    active = list(rules)
    off = list(disabled)
    for index, rule_id in enumerate(switches.disable):
        field = f"rules.disable[{index}]"
        found = next((rule for rule in active if rule.id == rule_id), None)
        if found is None:
            if any(rule.id == rule_id for rule in off):
                continue
            raise PolicyError(source, field, f"the base policy has no rule {rule_id!r}")
        if is_protected_rule(found):
            raise PolicyError(
                source,
                field,
                f"rule {rule_id!r} cannot be switched off: rules giving red or firing on a "
                "flag (a critical item fires whatever the total) are protected",
            )
        active.remove(found)
        off.append(found)
    for index, rule_id in enumerate(switches.enable):
        field = f"rules.enable[{index}]"
        found = next((rule for rule in off if rule.id == rule_id), None)
        if found is None:
            if any(rule.id == rule_id for rule in active):
                continue
            raise PolicyError(source, field, f"the base policy has no rule {rule_id!r}")
        off.remove(found)
        # Back after the last enabled rule of its tier and pathway (else of its tier).
        anchor = max(
            (
                i
                for i, rule in enumerate(active)
                if (rule.tier, rule.pathway) == (found.tier, found.pathway)
            ),
            default=None,
        )
        if anchor is None:
            anchor = max(
                (i for i, rule in enumerate(active) if rule.tier == found.tier), default=None
            )
        active.insert(len(active) if anchor is None else anchor + 1, found)
    return tuple(active), tuple(off)


def merge_policy(
    base: Policy, override: PolicyOverride | bytes | str, *, source: str = "<override>"
) -> Policy:
    """Apply one override layer to a policy.

    Parameters
    ----------
    base : Policy
        The policy below (the shipped default, a district file, or an earlier merge).
    override : PolicyOverride or bytes or str
        The layer, decoded or as JSON text (then parsed with :func:`parse_policy_override`).
    source : str
        Name of the layer in error messages (its file path).

    Returns
    -------
    Policy
        A new policy with version ``"<base version>+<layer version>"``; ``base`` is not
        changed. Switched-off rules move to ``disabled_rules``; a rule switched back on
        returns after the last enabled rule of its tier and pathway.

    Raises
    ------
    PolicyError
        If the layer is malformed or refers to a tier pathway, task, rung or rule the base
        does not have, switches off a protected rule, or the merged care settings are out of
        range; the message names ``source`` and the field of the layer.
    """
    if isinstance(override, bytes | str):
        override = parse_policy_override(override, source=source)
    elif isinstance(override, PolicyOverride):
        _check_override(override, source)
    else:
        raise ValueError(
            f"override must be a PolicyOverride or JSON text, got {type(override).__name__}"
        )
    tiers = list(base.tiers)
    guarded = frozenset(safety_pathways(base))
    positions = {tier_policy.tier: index for index, tier_policy in enumerate(tiers)}
    for t_index, change in enumerate(override.tiers):
        position = positions.get(change.tier)
        if position is None:
            raise PolicyError(
                source, f"tiers[{t_index}].tier", f"the base policy has no tier {change.tier!r}"
            )
        tiers[position] = _merge_tier(tiers[position], change, f"tiers[{t_index}]", source, guarded)
    rules, disabled = base.rules, base.disabled_rules
    if override.rules is not None:
        rules, disabled = _switch_rules(rules, disabled, override.rules, source)
    care = base.care
    if override.care is not None:
        if care is None:
            raise PolicyError(
                source, "care", f"the base policy {base.version!r} has no care section"
            )
        care = _apply_partial(care, override.care)
    description = base.description
    if override.description.strip():
        description = f"{description}\n[{override.version}] {override.description.strip()}".strip()
    merged = msgspec.structs.replace(
        base,
        version=f"{base.version}+{override.version}",
        tiers=tuple(tiers),
        rules=rules,
        disabled_rules=disabled,
        care=care,
        description=description,
    )
    _check_policy(merged, source)
    return merged


def load_policy_layers(base: Path | None, overrides: Sequence[Path]) -> Policy:
    """Load a base policy and apply override layers in order (district, then school).

    Parameters
    ----------
    base : Path or None
        A full policy file (``None``: the shipped default).
    overrides : sequence of Path
        Override files, applied in order.

    Returns
    -------
    Policy
        The merged policy, version ``"<base>+<layer 1>+<layer 2>…"``.

    Raises
    ------
    PolicyError
        If a file cannot be read or is malformed; the message names the file and the field.
    """
    policy = load_policy(base)
    for path in overrides:
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise PolicyError(str(file), None, f"cannot read file: {exc.strerror or exc}") from exc
        policy = merge_policy(policy, data, source=str(file))
    return policy
