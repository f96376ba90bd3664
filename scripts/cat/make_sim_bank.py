"""Generate scoring/cat_banks/sim-grm-200.json, the simulated 200-item GRM bank.

The bank is SIMULATED, not published: it exists to exercise and document the CAT engine
(`runxin cat simulate`, tests/scoring/test_cat.py). No student should be screened with it.

* 198 adaptive items ``i001..i198`` and 2 critical items ``sh01``, ``sh02``, all with five
  ordered categories (values 0..4) under Samejima's graded response model in
  slope-intercept form, ``logit P(X >= k) = a*theta + d[k-1]``.
* Slopes ``a ~ LogNormal(log 1.7, 0.3)`` (clipped to [0.8, 3.5]); first threshold
  ``b1 ~ Normal(0.3, 0.9)``, later thresholds ``b_k = b_{k-1} + Uniform(0.4, 1.2)``: a
  symptom bank whose items are mostly endorsed above the population mean; ``d = -a*b``.
  These distributions are this project's choice for a realistic-looking bank, not values
  taken from a publication.
* The critical items carry the bank's own flag rules, in the same JSON schema as an
  instrument definition's ``scoring.flags`` (see instruments/_spec.py ``FlagRule``): any
  answer above 0 on ``sh01`` is a ``critical`` flag, 2 or more on ``sh02`` an ``acute``
  flag, and either left unanswered a ``follow_up`` flag, so triage routes them under the
  safety floor exactly like PHQ-9 item 9.

Usage::

    python scripts/cat/make_sim_bank.py           # rewrite the bank
    python scripts/cat/make_sim_bank.py --check   # exit 1 if the committed file differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec
import numpy as np

from instruments import AnswerIs, FlagRule, Unanswered
from scoring.cat import bank_from_params, dump_bank
from scoring.irt import ItemParams

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "scoring" / "cat_banks" / "sim-grm-200.json"
SEED = 20261206
SOURCE = (
    "simulated by scripts/cat/make_sim_bank.py (seed 20261206): a ~ LogNormal(log 1.7, 0.3), "
    "b1 ~ N(0.3, 0.9), b_k = b_(k-1) + U(0.4, 1.2); not published parameters"
)
FLAG_SOURCE = (
    "simulation bank: modelled on PHQ-9 item 9 (any answer above 0 is followed up, "
    "GLAD-PC) and the ASQ acute question"
)


def build() -> bytes:
    rng = np.random.default_rng(SEED)
    n_adaptive, n_critical, k = 198, 2, 5
    j = n_adaptive + n_critical
    a = np.clip(rng.lognormal(np.log(1.7), 0.3, size=j), 0.8, 3.5)
    b = np.empty((j, k - 1))
    b[:, 0] = rng.normal(0.3, 0.9, size=j)
    for col in range(1, k - 1):
        b[:, col] = b[:, col - 1] + rng.uniform(0.4, 1.2, size=j)
    # critical items: rarely endorsed, high thresholds (as PHQ-9 item 9 in school samples)
    b[n_adaptive:, 0] = [1.2, 1.6]
    for col in range(1, k - 1):
        b[n_adaptive:, col] = b[n_adaptive:, col - 1] + 0.6
    d = np.round(-a[:, None] * b, 4)
    a = np.round(a, 4)
    names = [f"i{i + 1:03d}" for i in range(n_adaptive)] + ["sh01", "sh02"]
    params = ItemParams(names=tuple(names), a=a, d=d, model="grm")
    flags = (
        FlagRule(
            code="sim_self_harm_thoughts",
            severity="critical",
            when=AnswerIs(item="sh01", values=(1, 2, 3, 4)),
            source=FLAG_SOURCE,
            item="sh01",
        ),
        FlagRule(
            code="sim_self_harm_acute",
            severity="acute",
            when=AnswerIs(item="sh02", values=(2, 3, 4)),
            source=FLAG_SOURCE,
            item="sh02",
        ),
        FlagRule(
            code="sim_self_harm_unanswered",
            severity="follow_up",
            when=Unanswered(item="sh01"),
            source=FLAG_SOURCE,
            item="sh01",
        ),
        FlagRule(
            code="sim_self_harm_acute_unanswered",
            severity="follow_up",
            when=Unanswered(item="sh02"),
            source=FLAG_SOURCE,
            item="sh02",
        ),
    )
    bank = bank_from_params(
        params,
        id="sim-grm-200",
        version="1",
        source=SOURCE,
        critical=("sh01", "sh02"),
        content=["symptom"] * n_adaptive + ["self_harm"] * n_critical,
        flags=flags,
        notes=("Simulated bank for the CAT engine and its tests; not for screening students.",),
    )
    return dump_bank(bank)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    data = build()
    if args.check:
        if not OUT.exists() or OUT.read_bytes() != data:
            print(f"{OUT} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(data)
    msgspec.json.decode(data)  # valid JSON
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
