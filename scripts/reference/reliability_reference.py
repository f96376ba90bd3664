"""Reference values for scoring/reliability.py and scoring/dif.py (issue 16).

Writes ``tests/scoring/data/reliability_reference.json`` from established implementations:

- pingouin ``cronbach_alpha`` (Vallat 2018, JOSS 3:1026) on its bundled example
  ``pingouin.read_dataset("cronbach_alpha")`` (15 respondents × 10 items; committed wide as
  ``tests/scoring/data/pingouin_cronbach_alpha.csv``) and on psych's ``bfi`` A1–A5 with NaN;
  pingouin rounds its interval to 3 decimals, so the unrounded Feldt interval is also
  recomputed with scipy from pingouin's formula;
- R ``psych::alpha``, ``psych::alpha.ci`` and ``psych::omega(nfactors=1)``/``fa(fm="minres")``
  on ``bfi`` A1–A5 and ``ability`` (``reliability_reference.R``, run from here);
- statsmodels ``StratifiedTable`` (MH odds ratio, RBG SE of its log, MH χ²) and R
  ``mantelhaen.test`` on a seeded simulation with a planted DIF item
  (``tests/scoring/data/dif_simulated.csv``).

Run from the repository root, in a separate environment (never the project's .venv)::

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install numpy pandas pingouin statsmodels
    /tmp/refvenv/bin/python scripts/reference/reliability_reference.py

R with psych is needed too (Debian: apt-get install r-base-core r-cran-psych).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import statsmodels
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable

DATA = Path("tests/scoring/data")


def simulate_dif() -> pd.DataFrame:
    """2,000 respondents × 10 Rasch items; item5 is 0.8 logit harder for the focal group."""
    rng = np.random.default_rng(20261206)
    n, b = 2000, np.linspace(-1.5, 1.5, 10)
    focal = rng.random(n) < 0.5
    theta = rng.normal(0.0, 1.0, n)
    shift = np.zeros((n, 10))
    shift[focal, 4] = 0.8
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - b[None, :] - shift)))
    x = (rng.random((n, 10)) < p).astype(int)
    frame = pd.DataFrame(x, columns=[f"item{i + 1}" for i in range(10)])
    frame.insert(0, "group", np.where(focal, "focal", "ref"))
    return frame


def feldt(alpha: float, n: int, k: int, level: float = 0.95) -> list[float]:
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return [
        1 - (1 - alpha) * stats.f.isf((1 - level) / 2, df1, df2),
        1 - (1 - alpha) * stats.f.isf((1 + level) / 2, df1, df2),
    ]


def pingouin_case(wide: pd.DataFrame, nan_policy: str) -> dict[str, object]:
    alpha, ci = pingouin.cronbach_alpha(data=wide, nan_policy=nan_policy)
    n = len(wide) if nan_policy == "pairwise" else int(wide.notna().all(axis=1).sum())
    return {
        "alpha": float(alpha),
        "ci_rounded": [float(v) for v in ci],
        "ci_feldt": feldt(float(alpha), n, wide.shape[1]),
        "n": n,
    }


def mh_statsmodels(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    items = [c for c in frame.columns if c.startswith("item")]
    total = frame[items].sum(axis=1)
    ref = frame["group"] == "ref"
    out = {}
    for item in items:
        tables = []
        for level in sorted(total.unique()):
            at = total == level
            a = int((at & ref & (frame[item] == 1)).sum())
            b = int((at & ref & (frame[item] == 0)).sum())
            c = int((at & ~ref & (frame[item] == 1)).sum())
            d = int((at & ~ref & (frame[item] == 0)).sum())
            if (a + b) > 0 and (c + d) > 0 and a + b + c + d > 1:
                tables.append(np.array([[a, b], [c, d]], dtype=float))
        st = StratifiedTable(tables)
        test = st.test_null_odds(correction=True)
        out[item] = {
            "odds_ratio": float(st.oddsratio_pooled),
            "logodds_se": float(st.logodds_pooled_se),
            "chi2_corrected": float(test.statistic),
            "p_corrected": float(test.pvalue),
        }
    return out


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    sim = simulate_dif()
    sim.to_csv(DATA / "dif_simulated.csv", index=False)
    long = pingouin.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", columns="Items", values="Scores")
    wide.to_csv(DATA / "pingouin_cronbach_alpha.csv", index=False)
    command = ["Rscript", "scripts/reference/reliability_reference.R"]  # Rscript on the PATH
    r_json = subprocess.run(  # noqa: S603 - a fixed command line
        command,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    psych = json.loads(r_json)
    bfi = pd.read_csv(DATA / "bfi_agreeableness.csv")
    bfi["A1"] = 7 - bfi["A1"]
    result = {
        "generated_by": "scripts/reference/reliability_reference.py (+ .R)",
        "pingouin_version": pingouin.__version__,
        "statsmodels_version": statsmodels.__version__,
        "pingouin": {
            "cronbach_alpha_dataset": pingouin_case(wide, "pairwise"),
            "bfi_agreeableness_keyed_pairwise": pingouin_case(bfi, "pairwise"),
            "bfi_agreeableness_keyed_listwise": pingouin_case(bfi, "listwise"),
        },
        "psych": psych,
        "statsmodels_mh": mh_statsmodels(sim),
    }
    out = DATA / "reliability_reference.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
