"""The risk policy: a versioned data file of rules, deadlines and escalation.

The shipped default (``triage/policies/default.json``) is DESIGN.md's default table. Districts
may ship their own file with a new ``version``; :func:`load_policy` decodes it into frozen
Structs and checks it as a whole, so a malformed file fails at load time with a
:class:`PolicyError` that names the file and the field, never later while triaging a student.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

import msgspec

from triage._result import Tier

__all__ = [
    "DEFAULT_POLICY_PATH",
    "POLICY_FORMAT",
    "CarePolicy",
    "CaseTier",
    "Condition",
    "Due",
    "EscalationRole",
    "EscalationRule",
    "HomeVisitCadence",
    "HomeVisitPolicy",
    "Pathway",
    "Policy",
    "PolicyError",
    "ReferralPolicy",
    "RescreenPolicy",
    "Rule",
    "TalkPolicy",
    "TaskRule",
    "TierCadence",
    "TierDues",
    "TierPolicy",
    "load_policy",
    "parse_policy",
]

#: The file format this code reads (the ``format`` field of every policy file).
POLICY_FORMAT = "runxin.triage-policy/1"
#: The default policy shipped with the package.
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "policies" / "default.json"
#: Languages every bilingual text must carry.
REQUIRED_LANGUAGES = ("en", "zh-CN")

CaseTier = Literal["yellow", "orange", "red"]
Counting = Literal["clock", "school"]
FlagSeverityName = Literal["acute", "critical", "follow_up"]
ObservationSeverityName = Literal["concern", "serious", "imminent_danger"]
IncompleteStatus = Literal["unscorable", "invalid"]
#: A rung of an escalation ladder (``tiers[].escalation[].role``): who is told, above the
#: counsellor, while a case stays unacknowledged. The counsellor is never a rung.
EscalationRole = Literal["school_lead", "district_officer"]

_LADDER_ORDER: dict[str, int] = {"school_lead": 1, "district_officer": 2}


class PolicyError(ValueError):
    """A policy file cannot be read, decoded or is inconsistent.

    Attributes
    ----------
    source : str
        The file (or other source name) being loaded.
    field : str or None
        Path of the offending field, e.g. ``rules[3].condition.total_at_least``; ``None`` when
        the problem is the file as a whole (missing, not JSON).
    problem : str
        What is wrong.
    """

    def __init__(self, source: str, field: str | None, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f" at field `{field}`" if field else ""
        super().__init__(f"triage policy {source}{where}: {problem}")


class Condition(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """When a rule fires; exactly one test is given.

    Tests
    -----
    ``flag``
        a score carries a flag with this code (whatever its status or total);
    ``flag_severity``
        a score carries a flag of this severity (``except_flags`` skips codes handled by more
        specific rules);
    ``total_at_least`` / ``total_at_most``
        the total of a score of one of ``instruments``, rounded half up, lies in the range;
    ``highest_band``
        the score is in its instrument's most severe band;
    ``positive``
        the score is at or above its instrument's screening cut-off;
    ``subscale_positive``
        a subscale of the score is at or above its own cut-off (one match per such subscale,
        e.g. SCARED's five subscales, PSC-17's three);
    ``status``
        the score has this status: ``"unscorable"`` (too many blanks for the instrument's
        missing-data rule) or ``"invalid"`` (a validity rule voided it), so that an
        incomplete form is never silently green;
    ``observation_severity``
        a staff observation of this severity was recorded.

    ``instruments`` restricts a score test to these instrument ids; ``except_instruments``
    excludes ids (for "any other instrument" rules).
    """

    flag: str | None = None
    flag_severity: FlagSeverityName | None = None
    total_at_least: int | None = None
    total_at_most: int | None = None
    highest_band: bool | None = None
    positive: bool | None = None
    subscale_positive: bool | None = None
    status: IncompleteStatus | None = None
    observation_severity: ObservationSeverityName | None = None
    instruments: tuple[str, ...] | None = None
    except_instruments: tuple[str, ...] | None = None
    except_flags: tuple[str, ...] | None = None


class Rule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One trigger of the policy: a condition giving a tier on a pathway, with its reason text."""

    id: str
    tier: Tier
    pathway: str
    condition: Condition
    text: dict[str, str]


class Due(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How a deadline is computed from a starting instant.

    Exactly one of ``duration`` and ``until`` is given.

    ``counting = "clock"``
        ``duration`` is elapsed time (ISO 8601, e.g. ``PT15M``); ``until = "end_of_day"`` is
        23:59:59 local time of the starting day; ``until = "before_going_home"`` is the end of
        school hours when the start lies on a school day before its end of school hours (the
        NIMH ASQ rule that a student who screens positive is not released until assessed),
        else 23:59:59 local time of the starting day; either way within 24 hours of the start
        on the wall clock, at any hour, weekend or holiday.
    ``counting = "school"``
        ``duration`` is either school hours (``PT1H``, counted inside school hours of school
        days) or school days (``P2D``: end of the 2nd school day after the starting day);
        ``until = "end_of_day"`` is the end of the current (or next) school day;
        ``until = "next_term"`` is the start of the first school day of the next term, or
        ``fallback`` (clock time, e.g. ``P120D``) after the start when the calendar has no
        next term.
    """

    counting: Counting
    duration: str | None = None
    until: Literal["end_of_day", "before_going_home", "next_term"] | None = None
    fallback: str | None = None


class TaskRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A task created with a case and its deadline.

    ``acknowledge_before`` means the acknowledgement is due no later than this task (so a
    same-day safety assessment pulls a late-afternoon acknowledgement forward).
    """

    kind: str
    due: Due
    acknowledge_before: bool = False


class Pathway(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Deadlines of one pathway of a tier (e.g. orange ``suicide`` or ``severity``)."""

    id: str
    acknowledge: Due
    tasks: tuple[TaskRule, ...] = ()


class EscalationRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One rung of the escalation ladder, due ``after`` the previous rung.

    The first rung's ``after`` counts from the acknowledge-by deadline (``None``: at it).
    """

    role: EscalationRole
    after: Due | None = None


class TierPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Deadlines and escalation of one case tier."""

    tier: CaseTier
    default_pathway: str
    pathways: tuple[Pathway, ...]
    escalation: tuple[EscalationRule, ...] = ()

    def pathway(self, pathway_id: str | None) -> Pathway:
        """Return the pathway ``pathway_id``, or the default pathway if it is not one of ours."""
        by_id = {p.id: p for p in self.pathways}
        if pathway_id is not None and pathway_id in by_id:
            return by_id[pathway_id]
        return by_id[self.default_pathway]


# -- standing care duties (additive section ``care``) ------------------------------------------

HomeVisitCadence = Literal["school_year", "term"]


class TierCadence(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Home-visit cadence of each case tier: once a ``school_year`` or once a ``term``."""

    yellow: HomeVisitCadence
    orange: HomeVisitCadence
    red: HomeVisitCadence


class HomeVisitPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Home visits to every student under care (Jiangsu checklist item 14: at least yearly)."""

    cadence: TierCadence


class TalkPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Windows of the head teacher's one-to-one talks (checklist item 17), in school days.

    ``start_of_term_school_days``: the first N school days of a term; ``before_exam_school_days``:
    the last N school days before an exam starts; ``after_exam_school_days``: the first N school
    days after it ends. Every window is cut to its term.
    """

    start_of_term_school_days: int
    before_exam_school_days: int
    after_exam_school_days: int


class RescreenPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Re-screening next term: within the first ``within_school_days`` school days of it.

    ``fallback`` (clock duration, e.g. ``P120D``) places the window when the calendar knows no
    next term.
    """

    within_school_days: int
    fallback: str


class ReferralPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Follow-up deadlines of a hospital referral, each counted from the previous stage.

    ``sent`` → ``accepted`` → ``seen`` → ``feedback``.
    """

    accepted: Due
    seen: Due
    feedback: Due


class TierDues(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One deadline rule per case tier."""

    yellow: Due
    orange: Due
    red: Due

    def for_tier(self, tier: str) -> Due:
        """Return the rule of ``tier`` (``yellow``, ``orange`` or ``red``).

        Raises
        ------
        ValueError
            If ``tier`` is not a case tier.
        """
        if tier not in ("yellow", "orange", "red"):
            raise ValueError(f"{tier!r} is not a case tier (yellow, orange, red)")
        due: Due = getattr(self, tier)
        return due


class CarePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Standing care duties of a student under care (section ``care`` of a policy file).

    Attributes
    ----------
    home_visit : HomeVisitPolicy
        Home-visit cadence per tier.
    talks : TalkPolicy
        One-to-one talk windows around the start of term and the exams.
    rescreen : RescreenPolicy
        The re-screening window next term.
    referral : ReferralPolicy
        Referral follow-up deadlines.
    overdue_escalation : TierDues
        Per tier, how long after an overdue task's re-notification of the counsellor(s) the
        first rung above them (the school lead) is told; later rungs follow the tier's
        ``escalation`` intervals.
    description : str
        Free text for people reading the file.
    """

    home_visit: HomeVisitPolicy
    talks: TalkPolicy
    rescreen: RescreenPolicy
    referral: ReferralPolicy
    overdue_escalation: TierDues
    description: str = ""


class Policy(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A complete, versioned triage policy.

    Load it with :func:`load_policy` or :func:`parse_policy`, which check it as a whole; a
    Policy built by hand is not checked.

    Attributes
    ----------
    format : str
        File format identifier, ``"runxin.triage-policy/1"``.
    version : str
        Version of this policy; copied into every :class:`~triage.TriageResult`.
    rules : tuple of Rule
        Triggers; their order breaks ties between rules of the same tier (the first fired
        rule of the highest tier gives the pathway).
    tiers : tuple of TierPolicy
        Deadlines and escalation for ``yellow``, ``orange`` and ``red``.
    open_case_text : dict
        Reason text (``en``, ``zh-CN``) used when an open case keeps its higher tier.
    description : str
        Free text for people reading the file.
    care : CarePolicy or None
        Standing care duties (home visits, talks, re-screening, referral follow-up, overdue
        task escalation). A file without this section gets the shipped default's section at
        load time; ``None`` only on a Policy built by hand.
    disabled_rules : tuple of Rule
        Rules switched off (by a district or school override, see
        :func:`~triage.merge_policy`); never evaluated, kept so that a later layer can switch
        them back on.
    """

    format: Literal["runxin.triage-policy/1"]
    version: str
    rules: tuple[Rule, ...]
    tiers: tuple[TierPolicy, ...]
    open_case_text: dict[str, str]
    description: str = ""
    care: CarePolicy | None = None
    disabled_rules: tuple[Rule, ...] = ()

    def care_policy(self) -> CarePolicy:
        """Return the policy's care section.

        Raises
        ------
        ValueError
            If the policy has none (only possible for a Policy built by hand).
        """
        if self.care is None:
            raise ValueError(f"policy {self.version!r} has no `care` section")
        return self.care

    def tier_policy(self, tier: str) -> TierPolicy:
        """Return the deadlines and escalation of ``tier``.

        Raises
        ------
        ValueError
            If the policy has no entry for ``tier`` (``green`` never has one).
        """
        for entry in self.tiers:
            if entry.tier == tier:
                return entry
        raise ValueError(f"policy {self.version!r} has no deadlines for tier {tier!r}")


# -- durations ------------------------------------------------------------------------------

_DURATION_RE = re.compile(
    r"P(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


def parse_duration(text: str) -> tuple[int, timedelta]:
    """Parse an ISO 8601 duration of days, hours, minutes and seconds.

    Parameters
    ----------
    text : str
        E.g. ``"PT15M"``, ``"PT1H"``, ``"P2D"``, ``"P1DT12H"``. Years, months and weeks are not
        accepted (their length is ambiguous).

    Returns
    -------
    tuple of (int, timedelta)
        The whole-day part and the time part, kept apart so that school counting can tell
        school days from school hours.

    Raises
    ------
    ValueError
        If ``text`` is not such a duration.
    """
    match = _DURATION_RE.fullmatch(text) if isinstance(text, str) else None
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration of days/hours/minutes/seconds "
            "(e.g. 'PT15M', 'PT1H', 'P2D')"
        )
    days = int(match["days"] or 0)
    clock = timedelta(
        hours=float(match["hours"] or 0),
        minutes=float(match["minutes"] or 0),
        seconds=float(match["seconds"] or 0),
    )
    return days, clock


# -- loading ----------------------------------------------------------------------------------

_MSGSPEC_PATH_RE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MSGSPEC_FIELD_RE = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def _split_msgspec_error(message: str) -> tuple[str | None, str]:
    """Turn msgspec's ``"... - at `$.a[0].b`"`` into (``a[0].b``, problem)."""
    path = ""
    match = _MSGSPEC_PATH_RE.search(message)
    if match is not None:
        path = match["path"].lstrip(".")
        message = message[: match.start()]
    field = _MSGSPEC_FIELD_RE.search(message)
    if field is not None:
        path = f"{path}.{field['name']}" if path else field["name"]
    return (path or None), message


def parse_policy(data: bytes | str, *, source: str = "<policy>") -> Policy:
    """Decode and check a policy from JSON text.

    Parameters
    ----------
    data : bytes or str
        The JSON document.
    source : str
        Name used in error messages (a file path, a database row id).

    Returns
    -------
    Policy
        The checked policy.

    Raises
    ------
    PolicyError
        If the JSON is malformed, has unknown or missing fields, wrong types, an unknown tier,
        a bad duration, or inconsistent references (e.g. a rule on an undeclared pathway).

    Notes
    -----
    A document without a ``care`` section gets the shipped default's (so files written before
    that section existed keep loading).
    """
    try:
        policy = msgspec.json.decode(data, type=Policy)
    except msgspec.ValidationError as exc:
        field, problem = _split_msgspec_error(str(exc))
        raise PolicyError(source, field, problem) from exc
    except msgspec.DecodeError as exc:
        raise PolicyError(source, None, f"not valid JSON: {exc}") from exc
    _check_policy(policy, source)
    if policy.care is None:
        policy = msgspec.structs.replace(policy, care=_shipped_care())
    return policy


@functools.cache
def _shipped_care() -> CarePolicy:
    """The ``care`` section of the shipped default policy (for files written without one)."""
    source = str(DEFAULT_POLICY_PATH)
    try:
        policy = msgspec.json.decode(DEFAULT_POLICY_PATH.read_bytes(), type=Policy)
    except (OSError, msgspec.MsgspecError) as exc:
        raise PolicyError(source, None, f"cannot read the shipped default policy: {exc}") from exc
    _check_policy(policy, source)
    if policy.care is None:
        raise PolicyError(source, "care", "the shipped default policy has no care section")
    return policy.care


def load_policy(path: Path | None = None) -> Policy:
    """Load a policy file.

    Parameters
    ----------
    path : Path or None
        The JSON file; ``None`` loads the default policy shipped with the package
        (:data:`DEFAULT_POLICY_PATH`).

    Returns
    -------
    Policy
        The checked policy.

    Raises
    ------
    PolicyError
        If the file cannot be read or is malformed (see :func:`parse_policy`); the message
        names the file and the field.
    """
    file = DEFAULT_POLICY_PATH if path is None else Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise PolicyError(str(file), None, f"cannot read file: {exc.strerror or exc}") from exc
    return parse_policy(data, source=str(file))


# -- whole-file checks ------------------------------------------------------------------------


def _check_text(text: dict[str, str], field: str, source: str) -> None:
    for language in REQUIRED_LANGUAGES:
        value = text.get(language)
        if not isinstance(value, str) or not value.strip():
            raise PolicyError(source, f"{field}.{language}", "missing or empty reason text")


def _check_condition(cond: Condition, field: str, source: str) -> None:
    tests = {
        "flag": cond.flag is not None,
        "flag_severity": cond.flag_severity is not None,
        "total": cond.total_at_least is not None or cond.total_at_most is not None,
        "highest_band": cond.highest_band is not None,
        "positive": cond.positive is not None,
        "subscale_positive": cond.subscale_positive is not None,
        "status": cond.status is not None,
        "observation_severity": cond.observation_severity is not None,
    }
    given = [name for name, present in tests.items() if present]
    if len(given) != 1:
        raise PolicyError(
            source,
            field,
            "a condition needs exactly one test out of flag, flag_severity, "
            "total_at_least/total_at_most, highest_band, positive, subscale_positive, status, "
            "observation_severity; "
            f"got {given or 'none'}",
        )
    test = given[0]
    if cond.flag is not None and not cond.flag:
        raise PolicyError(source, f"{field}.flag", "flag code must not be empty")
    for name in ("highest_band", "positive", "subscale_positive"):
        if getattr(cond, name) is False:
            raise PolicyError(source, f"{field}.{name}", "only `true` is meaningful here")
    if cond.instruments is not None and cond.except_instruments is not None:
        raise PolicyError(
            source,
            f"{field}.except_instruments",
            "give instruments or except_instruments, not both",
        )
    for name in ("instruments", "except_instruments", "except_flags"):
        value = getattr(cond, name)
        if value is not None and (not value or not all(value)):
            raise PolicyError(source, f"{field}.{name}", "must be a non-empty list of ids")
    if test == "observation_severity" and (
        cond.instruments is not None or cond.except_instruments is not None
    ):
        raise PolicyError(
            source, f"{field}.instruments", "an observation test cannot name instruments"
        )
    if cond.except_flags is not None and test != "flag_severity":
        raise PolicyError(
            source, f"{field}.except_flags", "except_flags only goes with flag_severity"
        )
    if test == "total":
        if cond.instruments is None:
            raise PolicyError(
                source,
                f"{field}.instruments",
                "a total test must name its instruments (totals of different instruments "
                "are not comparable)",
            )
        low, high = cond.total_at_least, cond.total_at_most
        if low is not None and high is not None and high < low:
            raise PolicyError(
                source, f"{field}.total_at_most", f"{high} is below total_at_least {low}"
            )


def _check_due(due: Due, field: str, source: str, *, allow_next_term: bool = True) -> None:
    if (due.duration is None) == (due.until is None):
        raise PolicyError(source, field, "give exactly one of `duration` and `until`")
    if due.duration is not None:
        try:
            days, clock = parse_duration(due.duration)
        except ValueError as exc:
            raise PolicyError(source, f"{field}.duration", str(exc)) from exc
        if due.counting == "school" and days and clock:
            raise PolicyError(
                source,
                f"{field}.duration",
                f"{due.duration!r}: school counting takes either school days ('P2D') or "
                "school hours ('PT2H'), not both",
            )
    if due.until == "before_going_home" and due.counting != "clock":
        raise PolicyError(
            source, f"{field}.counting", "until before_going_home needs counting 'clock'"
        )
    if due.until == "next_term":
        if not allow_next_term:
            raise PolicyError(source, f"{field}.until", "next_term is not allowed here")
        if due.counting != "school":
            raise PolicyError(
                source, f"{field}.counting", "until next_term needs counting 'school'"
            )
        if due.fallback is None:
            raise PolicyError(
                source,
                f"{field}.fallback",
                "until next_term needs a clock fallback for calendars without terms, e.g. 'P120D'",
            )
    if due.fallback is not None:
        if due.until != "next_term":
            raise PolicyError(source, f"{field}.fallback", "fallback only goes with next_term")
        try:
            parse_duration(due.fallback)
        except ValueError as exc:
            raise PolicyError(source, f"{field}.fallback", str(exc)) from exc


def _check_policy(policy: Policy, source: str) -> None:
    if not policy.version.strip():
        raise PolicyError(source, "version", "must not be empty")
    _check_text(policy.open_case_text, "open_case_text", source)

    pathways_by_tier: dict[str, set[str]] = {}
    for t_index, tier_policy in enumerate(policy.tiers):
        t_field = f"tiers[{t_index}]"
        if tier_policy.tier in pathways_by_tier:
            raise PolicyError(
                source, f"{t_field}.tier", f"tier {tier_policy.tier!r} is declared twice"
            )
        ids: set[str] = set()
        for p_index, pathway in enumerate(tier_policy.pathways):
            p_field = f"{t_field}.pathways[{p_index}]"
            if not pathway.id:
                raise PolicyError(source, f"{p_field}.id", "must not be empty")
            if pathway.id in ids:
                raise PolicyError(
                    source, f"{p_field}.id", f"pathway {pathway.id!r} is declared twice"
                )
            ids.add(pathway.id)
            _check_due(pathway.acknowledge, f"{p_field}.acknowledge", source, allow_next_term=False)
            kinds: set[str] = set()
            for k_index, task in enumerate(pathway.tasks):
                k_field = f"{p_field}.tasks[{k_index}]"
                if not task.kind or task.kind == "acknowledge" or task.kind in kinds:
                    raise PolicyError(
                        source,
                        f"{k_field}.kind",
                        f"task kind {task.kind!r} is empty, reserved or repeated",
                    )
                kinds.add(task.kind)
                _check_due(task.due, f"{k_field}.due", source)
        if not ids:
            raise PolicyError(source, f"{t_field}.pathways", "a tier needs at least one pathway")
        if tier_policy.default_pathway not in ids:
            raise PolicyError(
                source,
                f"{t_field}.default_pathway",
                f"{tier_policy.default_pathway!r} is not one of this tier's pathways {sorted(ids)}",
            )
        previous_rank = 0
        for e_index, step in enumerate(tier_policy.escalation):
            e_field = f"{t_field}.escalation[{e_index}]"
            rank = _LADDER_ORDER[step.role]
            if rank <= previous_rank:
                raise PolicyError(
                    source,
                    f"{e_field}.role",
                    "the ladder goes up: school_lead, then district_officer, each once",
                )
            previous_rank = rank
            if step.after is not None:
                _check_due(step.after, f"{e_field}.after", source, allow_next_term=False)
        pathways_by_tier[tier_policy.tier] = ids

    for tier in ("yellow", "orange", "red"):
        if tier not in pathways_by_tier:
            raise PolicyError(source, "tiers", f"no deadlines declared for tier {tier!r}")

    if not policy.rules:
        raise PolicyError(source, "rules", "a policy needs at least one rule")
    rule_ids: set[str] = set()
    for r_index, rule in enumerate(policy.rules):
        _check_rule(rule, f"rules[{r_index}]", source, rule_ids, pathways_by_tier)
    for r_index, rule in enumerate(policy.disabled_rules):
        _check_rule(rule, f"disabled_rules[{r_index}]", source, rule_ids, pathways_by_tier)
    if policy.care is not None:
        _check_care(policy.care, "care", source)


def _check_rule(
    rule: Rule,
    r_field: str,
    source: str,
    rule_ids: set[str],
    pathways_by_tier: dict[str, set[str]],
) -> None:
    if not rule.id or rule.id in rule_ids or rule.id == "open_case_tier_kept":
        raise PolicyError(
            source, f"{r_field}.id", f"rule id {rule.id!r} is empty, reserved or repeated"
        )
    rule_ids.add(rule.id)
    if rule.tier == "green":
        raise PolicyError(source, f"{r_field}.tier", "a rule cannot give tier 'green'")
    if rule.pathway not in pathways_by_tier[rule.tier]:
        raise PolicyError(
            source,
            f"{r_field}.pathway",
            f"{rule.pathway!r} is not a pathway of tier {rule.tier!r} "
            f"{sorted(pathways_by_tier[rule.tier])}",
        )
    _check_condition(rule.condition, f"{r_field}.condition", source)
    _check_text(rule.text, f"{r_field}.text", source)


#: Bounds of every school-day window of the ``care`` section.
CARE_WINDOW_SCHOOL_DAYS = (1, 60)


def _check_school_days(value: int, field: str, source: str) -> None:
    low, high = CARE_WINDOW_SCHOOL_DAYS
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PolicyError(
            source,
            field,
            f"must be a whole number of school days from {low} to {high}, got {value!r}",
        )


def _check_care(care: CarePolicy, field: str, source: str) -> None:
    """Check the ``care`` section (``field`` is its path, e.g. ``care``)."""
    talks = care.talks
    for name in ("start_of_term_school_days", "before_exam_school_days", "after_exam_school_days"):
        _check_school_days(getattr(talks, name), f"{field}.talks.{name}", source)
    _check_school_days(
        care.rescreen.within_school_days, f"{field}.rescreen.within_school_days", source
    )
    try:
        days, clock = parse_duration(care.rescreen.fallback)
    except ValueError as exc:
        raise PolicyError(source, f"{field}.rescreen.fallback", str(exc)) from exc
    if not days and not clock:
        raise PolicyError(source, f"{field}.rescreen.fallback", "must be longer than zero")
    for stage in ("accepted", "seen", "feedback"):
        _check_due(
            getattr(care.referral, stage),
            f"{field}.referral.{stage}",
            source,
            allow_next_term=False,
        )
    for tier in ("yellow", "orange", "red"):
        _check_due(
            getattr(care.overdue_escalation, tier),
            f"{field}.overdue_escalation.{tier}",
            source,
            allow_next_term=False,
        )
