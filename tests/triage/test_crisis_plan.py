"""The crisis-intervention plan (一生一策): validation and its review task."""

from __future__ import annotations

from datetime import UTC, date, datetime

import msgspec
import pytest
from care_calendars import CAL_2026, SH, d, sh

from triage import (
    CareTask,
    CrisisPlan,
    PlanContact,
    PlanError,
    SchoolCalendar,
    plan_review_task,
    validate_plan,
)

TODAY = d("2026-09-15")
PLAN = CrisisPlan(
    version=1,
    warning_signs=("独处时间明显增多", "谈论死亡或告别"),
    coping_steps=("深呼吸并离开当前环境", "去心理辅导室找王老师"),
    contacts=(
        PlanContact(name="陈女士", relation="母亲", phone="138 0000 0000"),
        PlanContact(name="心理援助热线", relation="hotline", phone="12356"),
    ),
    means_safety=("家长收好家中药品和刀具",),
    review_on=d("2026-10-15"),
)


def test_a_complete_plan_passes() -> None:
    assert validate_plan(PLAN, today=TODAY) is PLAN
    revised = msgspec.structs.replace(PLAN, version=2, review_on=d("2026-11-15"))
    assert validate_plan(revised, today=TODAY, previous=PLAN) is revised


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"warning_signs": ()}, "warning_signs needs at least one entry"),
        ({"coping_steps": ()}, "coping_steps needs at least one entry"),
        ({"means_safety": ()}, "means_safety needs at least one entry"),
        ({"contacts": ()}, "contacts needs at least one entry"),
        ({"warning_signs": ("ok", "  ")}, "warning_signs[1] must be non-empty text"),
        (
            {"contacts": (PlanContact(name=" ", relation="母亲", phone="138 0000 0000"),)},
            "contacts[0].name must be non-empty text",
        ),
        (
            {"contacts": (PlanContact(name="陈女士", relation="母亲", phone="n/a"),)},
            "contacts[0].phone is not a phone number",
        ),
        ({"review_on": TODAY}, "review_on (2026-09-15) must be after today (2026-09-15)"),
        ({"review_on": d("2026-01-01")}, "must be after today"),
        ({"version": 0}, "version must be an int >= 1"),
    ],
)
def test_incomplete_plans_are_refused_naming_the_field(
    changes: dict[str, object], words: str
) -> None:
    with pytest.raises(PlanError) as info:
        validate_plan(msgspec.structs.replace(PLAN, **changes), today=TODAY)
    assert isinstance(info.value, ValueError)
    assert words in str(info.value)


def test_every_problem_is_listed() -> None:
    empty = CrisisPlan(
        version=1, warning_signs=(), coping_steps=(), contacts=(), means_safety=(), review_on=TODAY
    )
    with pytest.raises(PlanError) as info:
        validate_plan(empty, today=TODAY)
    assert len(info.value.problems) == 5


def test_revisions_are_numbered_in_sequence() -> None:
    with pytest.raises(PlanError, match="version must be 2"):
        validate_plan(msgspec.structs.replace(PLAN, version=3), today=TODAY, previous=PLAN)


def test_today_must_be_a_date() -> None:
    with pytest.raises(ValueError, match="today must be a date"):
        validate_plan(PLAN, today=datetime(2026, 9, 15, tzinfo=UTC))  # type: ignore[arg-type]


def test_plan_is_a_frozen_struct_without_unknown_fields() -> None:
    data = msgspec.json.encode(PLAN)
    assert msgspec.json.decode(data, type=CrisisPlan) == PLAN
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(data[:-1] + b',"diagnosis":"x"}', type=CrisisPlan)
    with pytest.raises(AttributeError):
        PLAN.version = 2  # type: ignore[misc]


def test_review_task_on_a_school_day() -> None:
    task = plan_review_task(PLAN, calendar=CAL_2026)
    assert task == CareTask(
        kind="plan_review",
        key="plan_review:v1:2026-10-15",
        opens_at=sh(2026, 10, 15).astimezone(UTC),
        due_at=sh(2026, 10, 15, 17).astimezone(UTC),
    )


def test_review_date_in_the_national_day_holiday_is_due_after_it() -> None:
    task = plan_review_task(
        msgspec.structs.replace(PLAN, review_on=d("2026-10-03")), calendar=CAL_2026
    )
    assert task.opens_at.astimezone(SH) == sh(2026, 10, 3)
    assert task.due_at.astimezone(SH) == sh(2026, 10, 8, 17)


def test_review_date_after_the_last_term_counts_weekdays() -> None:
    task = plan_review_task(
        msgspec.structs.replace(PLAN, review_on=d("2027-07-10")), calendar=CAL_2026
    )
    assert task.due_at.astimezone(SH) == sh(2027, 7, 12, 17)  # the Monday after
    plain = plan_review_task(PLAN, calendar=SchoolCalendar(timezone="UTC"))
    assert plain.due_at == datetime(2026, 10, 15, 17, tzinfo=UTC)
    assert isinstance(plain.opens_at, datetime) and plain.opens_at.date() == date(2026, 10, 15)
