"""The safety floor: what no triage policy (or override layer) may lower.

Issue 11, "no suicide-risk answer is ever missed, delayed or configured away". Whatever a
district writes, a policy in force must

* route every acute or critical flag, and every "critical question not answered" flag, of
  every instrument to tier orange or higher (checked by evaluating a synthetic score that
  carries only that flag, so it holds whatever rule syntax produced the tier);
* keep a catch-all per flag severity (a flag of an instrument the policy has never heard of
  still reaches orange), and never exclude a suicide flag from a catch-all without routing it
  elsewhere;
* count every deadline of a suicide pathway (red ``crisis``, orange ``suicide``, and any
  pathway a flag lands on) on the wall clock, with acknowledgement within 2 hours and the
  safety assessment and guardian contact within 24 hours.

The bounds are project decisions built on the sources' actions: NIMH ASQ Toolkit (a positive
screen is not released until assessed; acute positive: STAT evaluation); GLAD-PC (every
positive PHQ item 9 "MUST be followed up by a clinical interview"); instruments.md section 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Literal

import msgspec

from instruments import Instrument
from scoring._result import Flag, FlagSeverity, ScoreResult
from triage._evaluate import evaluate
from triage._policy import Due, EscalationRule, Pathway, Policy, parse_duration
from triage._result import TIER_ORDER

__all__ = [
    "FLOOR_ACKNOWLEDGE",
    "FLOOR_TASKS",
    "FLOOR_TIER",
    "SafetyFloorError",
    "SafetyProblem",
    "check_safety_floor",
    "due_bound",
    "floor_violation",
    "format_bound",
    "require_safety_floor",
    "safety_pathways",
]

#: The lowest tier any acute, critical or "critical question not answered" flag may get.
FLOOR_TIER = "orange"
#: Longest acknowledgement of a suicide pathway (wall clock).
FLOOR_ACKNOWLEDGE = timedelta(hours=2)
#: Tasks every suicide pathway must have, each with its longest deadline (wall clock).
FLOOR_TASKS: dict[str, timedelta] = {
    "safety_assessment": timedelta(hours=24),
    "guardian_contact": timedelta(hours=24),
}
#: Flag severities the floor covers (``follow_up``: a critical question left blank).
FLOOR_SEVERITIES: tuple[FlagSeverity, ...] = ("acute", "critical", "follow_up")
#: Instrument id of the probes for flags of instruments the policy does not know.
UNKNOWN_INSTRUMENT = "(any instrument)"

ProblemKind = Literal["flag", "catch_all", "deadline"]


class SafetyProblem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One way a policy falls below the safety floor.

    Attributes
    ----------
    kind : {"flag", "catch_all", "deadline"}
        ``flag``: a flag of an instrument is routed below orange (or to a pathway that is
        not on the floor); ``catch_all``: a flag severity has no catch-all, or a catch-all
        excludes a flag no other rule routes to orange; ``deadline``: a suicide-pathway
        deadline is missing, too long or counted on school time.
    subject : str
        What is wrong, as a path: ``phq9:phq_item9_positive``, ``rules[critical_flag]``,
        ``tiers[orange].pathways[suicide].acknowledge``.
    message : str
        One line saying what is wrong and what the floor is.
    """

    kind: ProblemKind
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


def due_bound(due: Due) -> timedelta | None:
    """Return the longest a deadline can be after its start, or ``None`` if unbounded.

    Parameters
    ----------
    due : Due
        A deadline rule of a policy.

    Returns
    -------
    timedelta or None
        For ``clock`` counting: the duration, or 24 hours for ``until: end_of_day`` and
        ``until: before_going_home`` (both end by the end of the local day of the start).
        ``None`` for ``school`` counting, whose wall-clock length depends on weekends,
        holidays and term breaks.
    """
    if due.counting != "clock":
        return None
    if due.until in {"end_of_day", "before_going_home"}:
        return timedelta(hours=24)
    if due.duration is None:
        return None
    days, clock = parse_duration(due.duration)
    return timedelta(days=days) + clock


def format_bound(value: timedelta) -> str:
    """Write a wall-clock length for people: ``"15 min"``, ``"2 h"``, ``"1 h 30 min"``."""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _describe_due(due: Due) -> str:
    if due.until is not None:
        return f"{due.counting} until {due.until}"
    return f"{due.counting} {due.duration}"


def floor_violation(due: Due, limit: timedelta) -> str | None:
    """Say why ``due`` is not within ``limit`` of wall-clock time, or return ``None``.

    Parameters
    ----------
    due : Due
        A suicide-pathway deadline.
    limit : timedelta
        Its floor.

    Returns
    -------
    str or None
        A sentence naming the deadline and the floor, ``None`` when it is within.
    """
    if due.counting != "clock":
        return (
            f"counts school time ({_describe_due(due)}); suicide-pathway deadlines count the "
            f"wall clock, at most {format_bound(limit)}"
        )
    bound = due_bound(due)
    if bound is None or bound > limit:
        longest = "unbounded" if bound is None else f"up to {format_bound(bound)}"
        return (
            f"is {_describe_due(due)} ({longest}), longer than the floor of "
            f"{format_bound(limit)} on the wall clock"
        )
    return None


def safety_pathways(policy: Policy) -> tuple[tuple[str, str], ...]:
    """Return the ``(tier, pathway)`` pairs the deadline floor applies to.

    Every pathway of tier red, the orange ``suicide`` pathway, and every pathway a rule on a
    flag routes to, in policy order.

    Parameters
    ----------
    policy : Policy
        The policy.

    Returns
    -------
    tuple of (str, str)
        Tier and pathway id, without repeats.
    """
    found: list[tuple[str, str]] = []
    for tier_policy in policy.tiers:
        for pathway in tier_policy.pathways:
            if tier_policy.tier == "red" or (
                tier_policy.tier == "orange" and pathway.id == "suicide"
            ):
                found.append((tier_policy.tier, pathway.id))
    for rule in policy.rules:
        cond = rule.condition
        if (cond.flag is not None or cond.flag_severity is not None) and rule.tier != "green":
            pair = (rule.tier, rule.pathway)
            if pair not in found:
                found.append(pair)
    return tuple(found)


def _probe(instrument_id: str, version: str, code: str, severity: FlagSeverity) -> ScoreResult:
    return ScoreResult(
        instrument_id=instrument_id,
        instrument_version=version,
        status="scored",  # no total, band or cut-off: only the flag can fire a rule
        total=None,
        band=None,
        prorated=False,
        answered=0,
        missing=(),
        flags=(Flag(code=code, severity=severity),),
    )


def _pathway_problems(tier: str, pathway: Pathway) -> list[SafetyProblem]:
    problems: list[SafetyProblem] = []
    base = f"tiers[{tier}].pathways[{pathway.id}]"
    reason = floor_violation(pathway.acknowledge, FLOOR_ACKNOWLEDGE)
    if reason is not None:
        problems.append(
            SafetyProblem("deadline", f"{base}.acknowledge", f"acknowledgement {reason}")
        )
    tasks = {task.kind: task for task in pathway.tasks}
    for kind, limit in FLOOR_TASKS.items():
        task = tasks.get(kind)
        if task is None:
            problems.append(
                SafetyProblem(
                    "deadline",
                    f"{base}.tasks[{kind}]",
                    f"a suicide pathway needs a {kind} task due within {format_bound(limit)} "
                    "on the wall clock",
                )
            )
            continue
        reason = floor_violation(task.due, limit)
        if reason is not None:
            problems.append(SafetyProblem("deadline", f"{base}.tasks[{kind}].due", reason))
    return problems


def check_safety_floor(
    policy: Policy, instruments: Iterable[Instrument] = ()
) -> tuple[SafetyProblem, ...]:
    """Report every way ``policy`` falls below the safety floor (see the module notes).

    Parameters
    ----------
    policy : Policy
        The policy in force (a base policy or a merge with override layers).
    instruments : iterable of Instrument
        The instruments the policy will triage (e.g. every shipped and installed one); every
        flag they declare with severity acute, critical or follow_up is checked.

    Returns
    -------
    tuple of SafetyProblem
        Empty when the policy is on or above the floor; otherwise one problem per flag,
        catch-all or deadline, flags first.

    Raises
    ------
    ValueError
        If ``policy`` is not a Policy or an instrument is not an Instrument.
    """
    if not isinstance(policy, Policy):
        raise ValueError(f"policy must be a Policy, got {type(policy).__name__}")
    problems: list[SafetyProblem] = []
    floor = TIER_ORDER[FLOOR_TIER]
    landed: list[tuple[str, str]] = []
    declared: dict[str, list[tuple[str, str]]] = {}

    def probe(instrument_id: str, version: str, code: str, severity: FlagSeverity) -> str | None:
        result = evaluate([_probe(instrument_id, version, code, severity)], policy=policy)
        if TIER_ORDER[result.tier] < floor:
            via = f" via rule {result.reasons[0].rule_id}" if result.reasons else " (no rule fires)"
            return f"gives tier {result.tier}{via}; the floor is {FLOOR_TIER} or higher"
        if result.pathway is not None and (result.tier, result.pathway) not in landed:
            landed.append((result.tier, result.pathway))
        return None

    for index, instrument in enumerate(instruments):
        if not isinstance(instrument, Instrument):
            raise ValueError(
                f"instruments[{index}] must be an Instrument, got {type(instrument).__name__}"
            )
        seen: set[tuple[str, str]] = set()
        for flag in instrument.scoring.flags:
            if flag.severity not in FLOOR_SEVERITIES or (flag.code, flag.severity) in seen:
                continue
            seen.add((flag.code, flag.severity))
            declared.setdefault(flag.code, []).append((instrument.id, instrument.version))
            reason = probe(instrument.id, instrument.version, flag.code, flag.severity)
            if reason is not None:
                problems.append(
                    SafetyProblem(
                        "flag",
                        f"{instrument.id}:{flag.code}",
                        f"{flag.severity} flag {flag.code} of instrument {instrument.id} {reason}",
                    )
                )

    for severity in FLOOR_SEVERITIES:
        reason = probe(UNKNOWN_INSTRUMENT, "0", f"unlisted_{severity}_flag", severity)
        if reason is not None:
            problems.append(
                SafetyProblem(
                    "catch_all",
                    f"flag_severity[{severity}]",
                    f"no catch-all rule routes a {severity} flag of any instrument to "
                    f"{FLOOR_TIER} or higher: an unlisted {severity} flag {reason}",
                )
            )
    for rule in policy.rules:
        cond = rule.condition
        if cond.flag_severity is None or cond.except_flags is None:
            continue
        for code in cond.except_flags:
            owners = declared.get(code) or [(UNKNOWN_INSTRUMENT, "0")]
            for instrument_id, version in owners:
                reason = probe(instrument_id, version, code, cond.flag_severity)
                if reason is not None:
                    problems.append(
                        SafetyProblem(
                            "catch_all",
                            f"rules[{rule.id}].condition.except_flags",
                            f"catch-all rule {rule.id} excludes {cond.flag_severity} flag "
                            f"{code} but no other rule routes it to {FLOOR_TIER} or higher: "
                            f"on instrument {instrument_id} it {reason}",
                        )
                    )

    pairs = list(safety_pathways(policy))
    pairs.extend(pair for pair in landed if pair not in pairs)
    ladders_checked: set[str] = set()
    for tier, pathway_id in pairs:
        try:
            tier_policy = policy.tier_policy(tier)
        except ValueError:
            continue
        pathway = next((p for p in tier_policy.pathways if p.id == pathway_id), None)
        if pathway is not None:
            problems.extend(_pathway_problems(tier, pathway))
        if tier not in ladders_checked:
            ladders_checked.add(tier)
            problems.extend(_ladder_problems(tier, tier_policy.escalation))
    return tuple(problems)


def _ladder_problems(tier: str, ladder: Sequence[EscalationRule]) -> list[SafetyProblem]:
    """An unacknowledged suicide-pathway case climbs its ladder on the wall clock: a rung
    counted in school time would wait for Monday (or the end of a holiday)."""
    return [
        SafetyProblem(
            "deadline",
            f"tiers[{tier}].escalation[{index}].after",
            f"escalation to {rung.role} counts school time; a tier that carries a suicide "
            "pathway escalates on the wall clock",
        )
        for index, rung in enumerate(ladder)
        if rung.after is not None and rung.after.counting != "clock"
    ]


class SafetyFloorError(ValueError):
    """A policy in force falls below the safety floor.

    Attributes
    ----------
    source : str
        The policy (file, or base file with its layers) that was checked.
    problems : tuple of SafetyProblem
        Every problem found (never empty).
    """

    def __init__(self, source: str, problems: tuple[SafetyProblem, ...]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"triage policy {source} is below the safety floor "
            f"({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}"
        )


def require_safety_floor(
    policy: Policy, instruments: Iterable[Instrument] = (), *, source: str = "<policy>"
) -> None:
    """Raise unless ``policy`` is on or above the safety floor for ``instruments``.

    Parameters
    ----------
    policy : Policy
        The policy in force.
    instruments : iterable of Instrument
        The instruments it will triage.
    source : str
        Name of the policy in the message (its file, with its layers).

    Raises
    ------
    SafetyFloorError
        Listing every problem :func:`check_safety_floor` found.
    """
    problems = check_safety_floor(policy, instruments)
    if problems:
        raise SafetyFloorError(source, problems)
