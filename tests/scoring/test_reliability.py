"""Reliability and item analysis (issue 16) against committed reference values.

``tests/scoring/data/reliability_reference.json`` is written by
``scripts/reference/reliability_reference.py`` (+ ``.R``): pingouin 0.7.0's ``cronbach_alpha``
on its bundled example data, R psych 2.2.9's ``alpha``, ``alpha.ci`` and
``omega(nfactors=1)`` / ``fa(fm="minres")`` on psych's documented example data ``bfi`` (items
A1–A5, A1 reverse keyed) and ``ability`` (16 binary items). The example data are committed
next to it as CSV (empty cell = missing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scoring import reliability

DATA = Path(__file__).parent / "data"
REF: dict[str, Any] = json.loads((DATA / "reliability_reference.json").read_text("utf-8"))


def _csv(name: str) -> np.ndarray:
    return np.genfromtxt(DATA / name, delimiter=",", skip_header=1)


BFI = _csv("bfi_agreeableness.csv")
BFI_KEYED = BFI.copy()
BFI_KEYED[:, 0] = 7 - BFI_KEYED[:, 0]
ABILITY = _csv("ability.csv")
PINGOUIN = _csv("pingouin_cronbach_alpha.csv")


def test_the_example_data_are_the_documented_ones() -> None:
    assert BFI.shape == (2800, 5) and int(np.isnan(BFI).sum()) == 104
    assert ABILITY.shape == (1525, 16) and int(np.isnan(ABILITY).sum()) == 1143
    assert PINGOUIN.shape == (15, 10) and not np.isnan(PINGOUIN).any()


@pytest.mark.parametrize(
    ("data", "key", "missing"),
    [
        (PINGOUIN, "cronbach_alpha_dataset", "pairwise"),
        (BFI_KEYED, "bfi_agreeableness_keyed_pairwise", "pairwise"),
        (BFI_KEYED, "bfi_agreeableness_keyed_listwise", "listwise"),
    ],
)
def test_alpha_and_feldt_interval_match_pingouin(data: np.ndarray, key: str, missing: str) -> None:
    ref = REF["pingouin"][key]
    got = reliability.cronbach_alpha(data, missing=missing)  # type: ignore[arg-type]
    assert got.alpha == pytest.approx(ref["alpha"], abs=1e-6)
    assert got.n == ref["n"]
    assert (got.ci_low, got.ci_high) == pytest.approx(ref["ci_feldt"], abs=1e-6)
    # pingouin itself prints the interval rounded to 3 decimals
    assert (round(got.ci_low, 3), round(got.ci_high, 3)) == pytest.approx(ref["ci_rounded"])


@pytest.mark.parametrize(
    ("data", "ref"),
    [
        (BFI_KEYED, REF["psych"]["bfi_agreeableness"]["alpha_pairwise"]),
        (ABILITY, REF["psych"]["ability"]["alpha_pairwise"]),
    ],
    ids=["bfi", "ability"],
)
def test_alpha_and_item_statistics_match_psych(data: np.ndarray, ref: dict[str, Any]) -> None:
    report = reliability.item_analysis(data)
    assert report.alpha.alpha == pytest.approx(ref["raw_alpha"], abs=1e-6)
    assert report.alpha.ci_low == pytest.approx(ref["feldt_lower"], abs=1e-6)
    assert report.alpha.ci_high == pytest.approx(ref["feldt_upper"], abs=1e-6)
    items = report.items
    assert [i.r_drop for i in items] == pytest.approx(ref["r_drop"], abs=1e-6)
    assert [i.alpha_if_deleted for i in items] == pytest.approx(ref["alpha_drop"], abs=1e-6)
    assert [i.mean for i in items] == pytest.approx(ref["item_mean"], abs=1e-9)
    assert [i.sd for i in items] == pytest.approx(ref["item_sd"], abs=1e-9)
    assert [i.n for i in items] == ref["item_n"]
    assert [i.missing for i in items] == pytest.approx(ref["miss"], abs=1e-9)


def test_listwise_alpha_and_items_match_psych_complete_obs() -> None:
    ref = REF["psych"]["bfi_agreeableness"]["alpha_listwise"]
    report = reliability.item_analysis(BFI_KEYED, missing="listwise")
    assert report.alpha.alpha == pytest.approx(ref["raw_alpha"], abs=1e-6)
    assert (report.alpha.ci_low, report.alpha.ci_high) == pytest.approx(
        (ref["feldt_lower"], ref["feldt_upper"]), abs=1e-6
    )
    assert [i.r_drop for i in report.items] == pytest.approx(ref["r_drop"], abs=1e-6)
    assert [i.alpha_if_deleted for i in report.items] == pytest.approx(ref["alpha_drop"], abs=1e-6)
    assert report.n == report.n_complete == ref["n"]


@pytest.mark.parametrize(
    ("data", "ref"),
    [
        (BFI_KEYED, REF["psych"]["bfi_agreeableness"]["omega_keyed"]),
        (BFI, REF["psych"]["bfi_agreeableness"]["omega_raw"]),
        (ABILITY, REF["psych"]["ability"]["omega"]),
    ],
    ids=["bfi-keyed", "bfi-raw", "ability"],
)
def test_omega_matches_psych(data: np.ndarray, ref: dict[str, Any]) -> None:
    got = reliability.mcdonald_omega(data)
    assert got.omega_psych == pytest.approx(ref["omega_tot"], abs=1e-3)
    assert got.omega == pytest.approx(ref["omega_model"], abs=1e-3)
    assert got.loadings == pytest.approx(np.array(ref["loadings"]), abs=1e-3)
    assert got.uniquenesses == pytest.approx(np.array(ref["uniquenesses"]), abs=1e-3)


def test_a_reverse_keyed_item_lowers_model_omega_but_not_psychs_flipped_omega() -> None:
    raw, keyed = reliability.mcdonald_omega(BFI), reliability.mcdonald_omega(BFI_KEYED)
    assert raw.loadings[0] < 0 < keyed.loadings[0]
    assert raw.omega < keyed.omega - 0.1
    assert raw.omega_psych == pytest.approx(keyed.omega_psych, abs=1e-9)


def test_floor_and_ceiling_on_the_declared_scale() -> None:
    x = np.array([[0, 3, 0], [0, 0, 1], [1, 3, 3], [0, 2, np.nan], [3, 3, 3]], dtype=float)
    report = reliability.item_analysis(x, low=0, high=3)
    first = report.items[0]
    assert (first.floor, first.ceiling, first.missing) == (0.6, 0.2, 0.0)
    third = report.items[2]
    assert (third.n, third.missing, third.floor, third.ceiling) == (4, 0.2, 0.25, 0.5)
    # complete rows: totals 3, 1, 7, 9 -> none at 0, one at 9 of 4
    assert report.n_complete == 4
    assert (report.total_floor, report.total_ceiling) == (0.0, 0.25)
    # observed range instead of the declared one: item 3's lowest seen value is 0
    assert reliability.item_analysis(x).items[1].floor == 0.2
    assert report.omega is not None and report.missing == "pairwise"


def test_an_item_without_variance_has_no_r_drop_but_alpha_stands() -> None:
    x = PINGOUIN[:, :4].copy()
    x[:, 3] = 0.0
    report = reliability.item_analysis(x)
    assert np.isnan(report.items[3].r_drop)
    assert report.items[3].floor == report.items[3].ceiling == 1.0
    assert report.omega is None  # the one-factor model needs variance in every item
    assert report.alpha.alpha == pytest.approx(reliability.cronbach_alpha(x).alpha)


def test_results_are_frozen() -> None:
    result = reliability.cronbach_alpha(PINGOUIN)
    with pytest.raises(AttributeError):
        result.alpha = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        ([[1, 2, 3]], {}, "at least two respondents"),
        ([[1], [2]], {}, "at least two items"),
        ([1, 2, 3], {}, "2-D"),
        ([[1, 2], [1, 2]], {}, "no variance"),
        ([[1, 2], [2, 1]], {"level": 1.5}, "level"),
        ([[1, 2], [2, 3]], {"missing": "mean"}, "missing must be"),
        ([[1, np.nan], [2, np.nan], [np.nan, 1]], {}, "never answered together"),
        ([[1, np.inf], [2, 3]], {}, "infinite"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    data: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        reliability.cronbach_alpha(data, **kwargs)


def test_omega_needs_three_items_with_variance() -> None:
    with pytest.raises(ValueError, match="at least 3 items"):
        reliability.mcdonald_omega(PINGOUIN[:, :2])
    flat = PINGOUIN[:, :3].copy()
    flat[:, 1] = 4.0
    with pytest.raises(ValueError, match="no variance"):
        reliability.mcdonald_omega(flat)
    assert reliability.item_analysis(PINGOUIN[:, :2]).omega is None
