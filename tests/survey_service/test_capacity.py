"""Capacity planning (issue 18): the arrival model, the sizing arithmetic and `runxin simulate`."""

from __future__ import annotations

import json
import math
from datetime import date, time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from svc_support import runxin_here

from survey_service.capacity import (
    BUILTIN_CAPACITY,
    MAX_DAYS,
    MAX_STUDENTS,
    ArrivalModel,
    Arrivals,
    Capacity,
    Timetable,
    capacity_from_json,
    plan_capacity,
    report,
    school_days,
    simulate_arrivals,
    units_needed,
)

MONDAY = date(2026, 9, 7)


def _in_periods(timetable: Timetable) -> np.ndarray:
    """Seconds of the school day (from ``day_start``) that lie inside a class period."""
    mask = np.zeros(timetable.day_seconds, dtype=bool)
    for offset in timetable.period_offsets():
        mask[offset : offset + timetable.period_seconds] = True
    return mask


# --------------------------------------------------------------------------- calendar


def test_school_days_skip_weekends() -> None:
    friday = date(2026, 9, 11)
    assert school_days(friday, 3) == (friday, date(2026, 9, 14), date(2026, 9, 15))
    saturday = date(2026, 9, 12)
    assert school_days(saturday, 1) == (date(2026, 9, 14),)
    days = school_days(saturday, 10)
    assert days[-1] == date(2026, 9, 25)  # two full weeks, Monday to Friday
    assert len(set(days)) == 10
    assert all(day.weekday() < 5 for day in days)


def test_arrivals_fall_only_on_school_days() -> None:
    arrivals = simulate_arrivals(50_000, 7, start=date(2026, 9, 10), seed=3)  # a Thursday
    assert [d.isoformat() for d in arrivals.dates] == [
        "2026-09-10",
        "2026-09-11",
        "2026-09-14",
        "2026-09-15",
        "2026-09-16",
        "2026-09-17",
        "2026-09-18",
    ]
    per_day = arrivals.per_second.sum(axis=1)
    assert per_day.sum() == 50_000
    assert (per_day > 0).all()  # every school day is used


# --------------------------------------------------------------------------- the model


@settings(max_examples=25, deadline=None)
@given(
    students=st.integers(1, 20_000),
    days=st.integers(1, 12),
    seed=st.integers(0, 2**32),
    share=st.floats(0.0, 1.0),
)
def test_every_student_submits_once_inside_a_class_period(
    students: int, days: int, seed: int, share: float
) -> None:
    model = ArrivalModel(whole_school_share=share)
    arrivals = simulate_arrivals(students, days, start=MONDAY, seed=seed, model=model)
    assert arrivals.summary.total == students
    assert int(arrivals.per_second.sum()) == students
    assert int(arrivals.per_period().sum()) == students
    inside = _in_periods(arrivals.timetable)
    assert int(arrivals.per_second[:, ~inside].sum()) == 0  # breaks, lunch, before, after
    # A class starts at least 2 minutes into its period: nobody submits before that.
    for offset in arrivals.timetable.period_offsets():
        assert int(arrivals.per_second[:, offset : offset + 120].sum()) == 0


def test_a_large_campaign_uses_every_period_and_leaves_breaks_empty() -> None:
    arrivals = simulate_arrivals(300_000, 5, start=MONDAY, seed=11)
    assert (arrivals.per_period() > 0).all()
    inside = _in_periods(arrivals.timetable)
    assert int(arrivals.per_second[:, inside].sum()) == 300_000
    # Completion around 13 minutes after a 2-6 minute start: most submissions arrive in the
    # middle third of a period, few in its first 8 minutes.
    length = arrivals.timetable.period_seconds
    early = sum(
        int(arrivals.per_second[:, o : o + 480].sum()) for o in arrivals.timetable.period_offsets()
    )
    middle = sum(
        int(arrivals.per_second[:, o + 600 : o + 1500].sum())
        for o in arrivals.timetable.period_offsets()
    )
    assert early < 0.01 * 300_000
    assert middle > 0.6 * 300_000
    assert length == 45 * 60


def test_the_same_seed_gives_the_same_arrivals() -> None:
    first = simulate_arrivals(40_000, 4, start=MONDAY, seed=7)
    again = simulate_arrivals(40_000, 4, start=MONDAY, seed=7)
    other = simulate_arrivals(40_000, 4, start=MONDAY, seed=8)
    assert np.array_equal(first.per_second, again.per_second)
    assert first.summary == again.summary
    assert not np.array_equal(first.per_second, other.per_second)


def _brute_force_peak_minute(arrivals: Arrivals) -> int:
    return max(
        int(np.convolve(day, np.ones(60, dtype=np.int64), mode="valid").max())
        for day in arrivals.per_second
    )


def test_summary_agrees_with_a_brute_force_count() -> None:
    arrivals = simulate_arrivals(120_000, 6, start=MONDAY, seed=5)
    s = arrivals.summary
    assert s.peak_second_per_s == int(arrivals.per_second.max())
    assert round(s.peak_minute_per_s * 60) == _brute_force_peak_minute(arrivals)
    per_day = arrivals.per_second.sum(axis=1)
    assert s.peak_day_total == int(per_day.max())
    assert s.peak_day == arrivals.dates[int(per_day.argmax())]
    assert s.peak_period_total == int(arrivals.per_period().max())
    # The reported moments point at the counts reported.
    day = arrivals.dates.index(s.peak_second_at.date())
    second = (s.peak_second_at.hour - 8) * 3600 + s.peak_second_at.minute * 60
    second += s.peak_second_at.second
    assert int(arrivals.per_second[day, second]) == s.peak_second_per_s
    day = arrivals.dates.index(s.peak_minute_from.date())
    start = (s.peak_minute_from.hour - 8) * 3600 + s.peak_minute_from.minute * 60
    start += s.peak_minute_from.second
    assert int(arrivals.per_second[day, start : start + 60].sum()) == round(
        s.peak_minute_per_s * 60
    )
    # Means: over the 9-hour school day and over the 7 x 45 minutes of class periods.
    assert s.mean_per_s_school_hours == pytest.approx(120_000 / (6 * 9 * 3600))
    assert s.mean_per_s_periods == pytest.approx(120_000 / (6 * 7 * 45 * 60))
    assert (
        s.peak_second_per_s
        >= s.peak_minute_per_s
        > s.mean_per_s_periods
        > s.mean_per_s_school_hours
    )


def test_a_whole_school_screens_in_one_period() -> None:
    one_school = {"school_median": 3000.0, "school_min": 3000, "school_max": 3000}
    together = simulate_arrivals(
        3000, 1, start=MONDAY, seed=2, model=ArrivalModel(whole_school_share=1.0, **one_school)
    )
    periods = together.per_period()[0]
    assert sorted(periods.tolist())[-2:] == [0, 3000]  # issue 18: 3,000 in one class period
    apart = simulate_arrivals(
        3000, 1, start=MONDAY, seed=2, model=ArrivalModel(whole_school_share=0.0, **one_school)
    )
    assert (apart.per_period()[0] > 0).sum() > 3  # 67 classes over 7 periods
    assert together.summary.peak_minute_per_s > 2 * apart.summary.peak_minute_per_s


def test_a_custom_timetable_is_honoured() -> None:
    primary = Timetable(
        period_starts=(time(8, 30), time(9, 20), time(13, 30)),
        period_minutes=40,
        day_start=time(8, 0),
        day_end=time(16, 0),
    )
    arrivals = simulate_arrivals(10_000, 2, start=MONDAY, seed=1, timetable=primary)
    assert arrivals.per_second.shape == (2, 8 * 3600)
    assert int(arrivals.per_second[:, ~_in_periods(primary)].sum()) == 0
    assert (arrivals.per_period() > 0).all()


def test_progress_is_reported_up_to_the_total() -> None:
    seen: list[tuple[int, int]] = []
    simulate_arrivals(2_500_000, 3, start=MONDAY, seed=0, progress=lambda d, t: seen.append((d, t)))
    assert len(seen) >= 3
    assert seen[-1] == (2_500_000, 2_500_000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@pytest.mark.parametrize(
    ("students", "days", "seed", "message"),
    [
        (0, 5, 0, "students must be a positive integer"),
        (-3, 5, 0, "students must be a positive integer"),
        (MAX_STUDENTS + 1, 5, 0, "at most"),
        (100, 0, 0, "school days must be a positive integer"),
        (100, -1, 0, "school days must be a positive integer"),
        (100, MAX_DAYS + 1, 0, "at most"),
        (100, 5, -1, "seed must not be negative"),
    ],
)
def test_bad_simulation_input_is_refused(students: int, days: int, seed: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate_arrivals(students, days, start=MONDAY, seed=seed)


def test_bad_model_and_timetable_are_refused() -> None:
    with pytest.raises(ValueError, match="must not overlap"):
        Timetable(period_starts=(time(8, 0), time(8, 30)))
    with pytest.raises(ValueError, match="between 08:00 and 17:00"):
        Timetable(period_starts=(time(16, 30),))
    with pytest.raises(ValueError, match="at least one class period"):
        Timetable(period_starts=())
    with pytest.raises(ValueError, match="between 0 and 1"):
        ArrivalModel(whole_school_share=1.5)
    with pytest.raises(ValueError, match="class_size"):
        ArrivalModel(class_size=0)
    with pytest.raises(ValueError, match="must start before"):
        simulate_arrivals(
            100,
            1,
            start=MONDAY,
            model=ArrivalModel(start_delay_minutes=(1.0, 50.0)),
        )


# --------------------------------------------------------------------------- sizing


def test_sizing_arithmetic_by_hand() -> None:
    assert units_needed(100.0, 25.0, 2.0) == 8  # 2 x 100 / 25 = 8 exactly
    assert units_needed(101.0, 25.0, 2.0) == 9  # 8.08 -> 9
    assert units_needed(0.3, 0.1, 1.0) == 3  # 3.0000000000000004 in floating point
    assert units_needed(0.5, 25.0, 2.0) == 1  # never fewer than one
    capacity = Capacity(
        node_per_s=25.0, db_per_core_per_s=40.0, db="postgresql", node_source="t", db_source="t"
    )
    plan = plan_capacity(100.0, 130.0, capacity, headroom=2.0)
    assert (plan.app_nodes, plan.db_cores) == (8, 5)  # 200/25, 200/40
    assert (plan.app_nodes_peak_second, plan.db_cores_peak_second) == (11, 7)  # 10.4, 6.5
    plan = plan_capacity(100.0, 130.0, capacity, headroom=3.0)
    assert (plan.app_nodes, plan.db_cores) == (12, 8)  # 300/25, 7.5


def test_bad_sizing_input_is_refused() -> None:
    with pytest.raises(ValueError, match="headroom"):
        plan_capacity(10.0, 10.0, BUILTIN_CAPACITY, headroom=0.5)
    with pytest.raises(ValueError, match="capacity must be positive"):
        units_needed(10.0, 0.0, 2.0)
    with pytest.raises(ValueError, match="node_per_s must be a positive number"):
        BUILTIN_CAPACITY.with_overrides(node_per_s=-1.0)
    with pytest.raises(ValueError, match="db_per_core_per_s must be a positive number"):
        BUILTIN_CAPACITY.with_overrides(db_per_core_per_s=math.nan)


MEASURED = {
    "submissions_per_s_per_node": 80.5,
    "db": "postgresql",
    "measured_at": "2026-05-01T10:00:00+08:00",
    "command": "python benchmarks/submit_load.py --db postgresql --seconds 30 --connections 64",
    "machine": "2 cores",
}


def test_capacity_file_is_read_and_labelled() -> None:
    cap = capacity_from_json(json.dumps(MEASURED), where="capacity.json")
    assert cap.node_per_s == 80.5
    assert cap.db == "postgresql"
    assert "submit_load.py" in cap.node_source
    assert "2 cores" in cap.node_source
    assert cap.db_per_core_per_s == BUILTIN_CAPACITY.db_per_core_per_s
    assert "not measured" in cap.db_source  # the file has no database figure
    both = capacity_from_json(
        json.dumps({**MEASURED, "db_submissions_per_s_per_core": 300}), where="capacity.json"
    )
    assert both.db_per_core_per_s == 300.0
    assert "not measured" not in both.db_source
    overridden = both.with_overrides(node_per_s=10.0)
    assert (overridden.node_per_s, overridden.node_source) == (10.0, "given on the command line")
    assert overridden.db_source == both.db_source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[1]", "must hold a JSON object"),
        ('{"db": "postgresql"}', "no submissions_per_s_per_node"),
        ('{"submissions_per_s_per_node": 0}', "must be positive"),
        ('{"submissions_per_s_per_node": "fast"}', "must be a number"),
        ('{"submissions_per_s_per_node": 5, "db": "mysql"}', "db must be one of"),
        (
            '{"submissions_per_s_per_node": 5, "db_submissions_per_s_per_core": -2}',
            "must be positive",
        ),
    ],
)
def test_bad_capacity_file_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        capacity_from_json(text, where="capacity.json")


def test_report_labels_built_in_figures_and_ends_with_the_machine_line() -> None:
    arrivals = simulate_arrivals(30_000, 2, start=MONDAY, seed=4)
    s = arrivals.summary
    plan = plan_capacity(s.peak_minute_per_s, s.peak_second_per_s, BUILTIN_CAPACITY)
    lines = report(arrivals, plan)
    text = " ".join(" ".join(lines).split())  # the report wraps long lines
    assert text.count("built-in conservative figure, not measured") == 2
    assert "30,000" in text
    assert lines[-1] == (
        f"peak_per_s={s.peak_second_per_s} peak_minute_per_s={s.peak_minute_per_s:.2f} "
        f"app_nodes={plan.app_nodes} db_cores={plan.db_cores}"
    )


# --------------------------------------------------------------------------- the command


def _machine(stdout: str) -> dict[str, float]:
    last = stdout.strip().splitlines()[-1]
    return {key: float(value) for key, value in (part.split("=") for part in last.split())}


def test_runxin_simulate_plans_from_the_capacity_file(tmp_path: Path) -> None:
    path = tmp_path / "capacity.json"
    path.write_text(json.dumps({**MEASURED, "db_submissions_per_s_per_core": 30}))
    result = runxin_here(
        "simulate",
        "--students",
        "60000",
        "--days",
        "3",
        "--seed",
        "9",
        "--capacity-file",
        str(path),
        "--headroom",
        "3",
    )
    assert result.returncode == 0, result.stderr
    numbers = _machine(result.stdout)
    assert set(numbers) == {"peak_per_s", "peak_minute_per_s", "app_nodes", "db_cores"}
    assert numbers["peak_per_s"] >= numbers["peak_minute_per_s"] > 0
    assert numbers["app_nodes"] == math.ceil(3 * numbers["peak_minute_per_s"] / 80.5 - 1e-6)
    assert numbers["db_cores"] == math.ceil(3 * numbers["peak_minute_per_s"] / 30 - 1e-6)
    assert "submit_load.py" in result.stdout
    assert "60,000 students over 3 school days" in result.stdout
    # The same seed gives the same plan; flags override the file.
    again = runxin_here(
        "simulate",
        *("--students", "60000", "--days", "3", "--seed", "9"),
        *("--capacity-file", str(path), "--node-capacity", "1000", "--db-capacity-per-core", "1"),
    )
    assert again.returncode == 0, again.stderr
    redo = _machine(again.stdout)
    assert redo["peak_minute_per_s"] == numbers["peak_minute_per_s"]
    assert redo["app_nodes"] == 1
    assert redo["db_cores"] == math.ceil(2 * numbers["peak_minute_per_s"] - 1e-6)
    assert again.stdout.count("given on the command line") == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--students", "0", "--days", "5"], 2, "students must be a positive integer"),
        (["--students", "1000", "--days", "0"], 2, "school days must be a positive integer"),
        (["--students", "1000", "--days", "5", "--headroom", "0.5"], 2, "headroom"),
        (["--students", "1000", "--days", "5", "--node-capacity", "0"], 2, "node_per_s"),
        (["--students", "1000", "--days", "5", "--start", "9/7/2026"], 2, "--start"),
        (["--students", "1000", "--days", "5", "--whole-school-share", "2"], 2, "between 0"),
        (["--students", "many", "--days", "5"], 2, "invalid int value"),
        (
            ["--students", "1000", "--days", "5", "--capacity-file", "/nonexistent.json"],
            2,
            "no such",
        ),
    ],
)
def test_runxin_simulate_refuses_bad_values(args: list[str], code: int, message: str) -> None:
    result = runxin_here("simulate", *args)
    assert result.returncode == code
    assert message in result.stderr
    assert result.stdout == ""


def test_runxin_simulate_refuses_a_broken_capacity_file(tmp_path: Path) -> None:
    path = tmp_path / "capacity.json"
    path.write_text('{"db": "postgresql"}')
    result = runxin_here(
        "simulate", "--students", "1000", "--days", "2", "--capacity-file", str(path)
    )
    assert result.returncode == 1
    assert "no submissions_per_s_per_node" in result.stderr
