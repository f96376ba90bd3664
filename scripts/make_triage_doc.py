"""Generate docs/triage.md, the documented tier table, from the policy and the instruments.

Every line of the table is derived from ``triage/policies/default.json`` (rules in policy
order) and the shipped instrument definitions (cut-offs, bands, flags and their sources), so
the document cannot drift from what the code does: ``tests/triage/test_triage_doc.py`` checks
that the committed file equals this script's output.

Usage::

    python scripts/make_triage_doc.py            # rewrite docs/triage.md
    python scripts/make_triage_doc.py --check    # exit 1 if docs/triage.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from instruments import Instrument, default_catalogue
from instruments._spec import Scale
from triage import Policy, load_policy
from triage._policy import Condition, Due, Rule
from triage._safety_floor import FLOOR_ACKNOWLEDGE, FLOOR_TASKS, format_bound, safety_pathways

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "triage.md"
TIERS = ("red", "orange", "yellow")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _selected(cond: Condition, instrument_id: str) -> bool:
    if cond.instruments is not None:
        return instrument_id in cond.instruments
    if cond.except_instruments is not None:
        return instrument_id not in cond.except_instruments
    return True


def _total_source(total: Scale | None, threshold: int) -> str:
    if total is None:
        return ""
    for band in total.bands:
        if band.min <= threshold <= band.max:
            return band.source
    return total.cutoff.source if total.cutoff is not None else ""


def _score_lines(rule: Rule, instrument: Instrument) -> Iterator[tuple[str, str]]:
    """(result, source) lines of a score test of ``rule`` on ``instrument``."""
    cond = rule.condition
    spec = instrument.scoring
    total = spec.total
    if cond.total_at_least is not None or cond.total_at_most is not None:
        low, high = cond.total_at_least, cond.total_at_most
        if low is not None and high is not None:
            result = f"total {low}-{high} (rounded half up)"
        elif low is not None:
            result = f"total >= {low} (rounded half up)"
        else:
            result = f"total <= {high} (rounded half up)"
        yield result, _total_source(total, low if low is not None else int(high or 0))
    elif cond.highest_band:
        bands = total.bands if total is not None else ()
        if bands:
            top = bands[-1]
            yield f"band {top.code} ({_number(top.min)}-{_number(top.max)})", top.source
        elif spec.classification is not None and spec.classification.bands:
            top_code = spec.classification.bands[-1].code
            yield f"band {top_code}", spec.classification.source
    elif cond.positive:
        if spec.positive is not None:
            yield "screen positive (rule of the definition)", spec.positive.source
        elif total is not None and total.cutoff is not None:
            cut = total.cutoff
            bound = (
                f">= {_number(cut.min)}" if cut.min is not None else f"<= {_number(cut.max or 0)}"
            )
            yield f"total {bound} (screening cut-off)", cut.source
        elif spec.classification is not None:
            positives = [b.code for b in spec.classification.bands if b.positive]
            if positives:
                yield f"band {' or '.join(positives)}", spec.classification.source
    elif cond.subscale_positive:
        for subscale in spec.subscales:
            if subscale.cutoff is not None and subscale.cutoff.min is not None:
                yield (
                    f"subscale {subscale.id} >= {_number(subscale.cutoff.min)}",
                    subscale.cutoff.source,
                )
    elif cond.status is not None:
        if cond.status == "invalid" and not spec.validity and not _zero_fill(instrument):
            return
        if cond.status == "unscorable" and (total is None or _zero_fill(instrument)):
            return
        rule_text = total.missing.source if total is not None and total.missing else ""
        yield f"form {cond.status}", rule_text


def _zero_fill(instrument: Instrument) -> bool:
    total = instrument.scoring.total
    return total is not None and type(total.missing).__name__ == "ZeroFillRule"


def _flag_lines(rule: Rule, instrument: Instrument) -> Iterator[tuple[str, str]]:
    cond = rule.condition
    seen: set[str] = set()
    for flag in instrument.scoring.flags:
        if cond.flag is not None and flag.code != cond.flag:
            continue
        if cond.flag_severity is not None and flag.severity != cond.flag_severity:
            continue
        if cond.except_flags is not None and flag.code in cond.except_flags:
            continue
        if flag.code in seen:
            continue
        seen.add(flag.code)
        items = sorted({f.item for f in instrument.scoring.flags if f.code == flag.code and f.item})
        where = f" (item {', '.join(items)})" if items else ""
        yield f"flag {flag.code}, {flag.severity}{where}", flag.source


def table_rows(policy: Policy, catalogue: list[Instrument]) -> list[list[str]]:
    """Rows of the tier table: instrument, result, tier, pathway, rule, reason and source."""
    rows: list[list[str]] = []
    for rule in policy.rules:
        cond = rule.condition
        text = rule.text["en"]
        if cond.observation_severity is not None:
            rows.append(
                [
                    "staff observation",
                    f"severity {cond.observation_severity}",
                    rule.tier,
                    rule.pathway,
                    rule.id,
                    text,
                    "Project decision, Jiangsu checklist item 19 (policy default-2025.2)",
                ]
            )
            continue
        flag_test = cond.flag is not None or cond.flag_severity is not None
        for instrument in catalogue:
            if not _selected(cond, instrument.id):
                continue
            lines = _flag_lines if flag_test else _score_lines
            for result, source in lines(rule, instrument):
                rows.append([instrument.id, result, rule.tier, rule.pathway, rule.id, text, source])
        if cond.flag_severity is not None:
            rows.append(
                [
                    "any other instrument",
                    f"any {cond.flag_severity} flag",
                    rule.tier,
                    rule.pathway,
                    rule.id,
                    text,
                    "Catch-all: a flag fires whatever the total (instruments.md section 3)",
                ]
            )
        elif not flag_test and cond.instruments is None:
            rows.append(
                [
                    "any other instrument",
                    _generic_result(cond),
                    rule.tier,
                    rule.pathway,
                    rule.id,
                    text,
                    "Catch-all for installed instruments (their definition gives the cut-off)",
                ]
            )
    return rows


def _generic_result(cond: Condition) -> str:
    if cond.highest_band:
        return "most severe band"
    if cond.positive:
        return "at or above its screening cut-off"
    if cond.subscale_positive:
        return "a subscale at or above its cut-off"
    if cond.status is not None:
        return f"form {cond.status}"
    return "total in range"


def _due_text(due: Due) -> str:
    if due.until is not None:
        extra = f", fallback {due.fallback}" if due.fallback else ""
        return f"{due.counting}: until {due.until}{extra}"
    return f"{due.counting}: {due.duration}"


def deadline_rows(policy: Policy) -> list[list[str]]:
    """Rows of the deadline table: tier, pathway, task, due, safety floor."""
    guarded = set(safety_pathways(policy))
    rows: list[list[str]] = []
    for tier in TIERS:
        tier_policy = policy.tier_policy(tier)
        for pathway in tier_policy.pathways:
            on_floor = (tier, pathway.id) in guarded
            ack_floor = f"clock, <= {format_bound(FLOOR_ACKNOWLEDGE)}" if on_floor else "-"
            rows.append(
                [tier, pathway.id, "acknowledge", _due_text(pathway.acknowledge), ack_floor]
            )
            for task in pathway.tasks:
                limit = FLOOR_TASKS.get(task.kind)
                floor = f"clock, <= {format_bound(limit)}" if on_floor and limit else "-"
                before = " (acknowledge no later)" if task.acknowledge_before else ""
                rows.append([tier, pathway.id, task.kind, _due_text(task.due) + before, floor])
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render(policy: Policy, catalogue: list[Instrument]) -> str:
    """Return the text of docs/triage.md."""
    out = [
        "# Triage: the tier table",
        "",
        "<!-- Generated by scripts/make_triage_doc.py from triage/policies/default.json and",
        "     instruments/definitions/*.json. Do not edit by hand: run the script. -->",
        "",
        f"Policy version: `{policy.version}`.",
        "",
        "Rules are tried in policy order; a session's tier is the highest tier of any rule that",
        "fires, and the pathway is that of the first fired rule of that tier. No rule ever gives",
        "green: green means no rule fired. Totals are compared after rounding half up. Every",
        "acute, critical or unanswered-critical flag reaches orange or red whatever the total",
        "or the form's status, and the suicide pathways count the wall clock: this is the",
        "safety floor (`triage.check_safety_floor`, `runxin policy check`), which no policy or",
        "override layer may lower.",
        "",
        "## What changed in this version",
        "",
        _cell(policy.description),
        "",
        "## Instrument x result -> tier",
        "",
        "One line per instrument and result a rule reacts to, in policy order; *Source* is the",
        "citation the instrument definition gives for that cut-off, band or flag.",
        "",
        *_table(
            ["Instrument", "Result", "Tier", "Pathway", "Rule", "Reason (en)", "Source"],
            table_rows(policy, catalogue),
        ),
        "",
        "## Deadlines",
        "",
        "`clock` counts elapsed wall-clock time at any hour; `school` counts school hours or",
        "school days on the school's calendar (weekends, holidays and make-up days included).",
        "`until before_going_home` is the end of school hours when the answer comes in on a school",
        "day before school ends, else the end of the calendar day.",
        "",
        *_table(["Tier", "Pathway", "Task", "Due", "Safety floor"], deadline_rows(policy)),
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Write docs/triage.md, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    catalogue = default_catalogue()
    text = render(load_policy(), [catalogue[i] for i in sorted(catalogue)])
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run scripts/make_triage_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
