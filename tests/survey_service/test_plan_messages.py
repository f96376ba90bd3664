"""Issue 13: the crisis-plan form's errors in the page language. Every problem
``triage.validate_plan`` finds is explained by field and line, in Chinese without the plan's
internal field names, and in English."""

from __future__ import annotations

import re
from datetime import date

import pytest

import triage
from survey_service.cases.plans import explain_plan_problems

TODAY = date(2026, 9, 7)


def _problems(**changes: object) -> tuple[str, ...]:
    plan = {
        "version": 1,
        "warning_signs": ("不说话",),
        "coping_steps": ("深呼吸",),
        "means_safety": ("药品由家长保管",),
        "contacts": (triage.PlanContact(name="王芳", relation="母亲", phone="13900001234"),),
        "review_on": date(2026, 10, 1),
        **changes,
    }
    with pytest.raises(triage.PlanError) as raised:
        triage.validate_plan(triage.CrisisPlan(**plan), today=TODAY)  # type: ignore[arg-type]
    return raised.value.problems


@pytest.mark.parametrize(
    ("changes", "zh", "en"),
    [
        ({"warning_signs": ()}, "预警信号：至少填写一项。", "Warning signs: give at least one."),
        (
            {"coping_steps": ("深呼吸", " ")},
            "应对步骤第 2 行不能为空。",
            "Coping steps, line 2, is empty.",
        ),
        (
            {"contacts": (triage.PlanContact(name="王芳", relation="母亲", phone="12"),)},
            "联系人第 1 行：电话号码不正确。",
            "Contacts, line 1: the phone number is not valid.",
        ),
        (
            {"contacts": (triage.PlanContact(name=" ", relation="母亲", phone="13900001234"),)},
            "联系人第 1 行：请填写姓名。",
            "Contacts, line 1: give the name.",
        ),
        ({"contacts": ()}, "联系人：至少填写一项。", "Contacts: give at least one."),
        ({"review_on": TODAY}, "复核日期须晚于今天。", "The review date must be after today."),
        ({"version": 0}, "方案刚被他人更新", "Someone else has just saved the plan"),
    ],
)
def test_each_plan_problem_in_both_languages(changes: dict[str, object], zh: str, en: str) -> None:
    message = explain_plan_problems(_problems(**changes))
    assert zh in message["zh-CN"] and en in message["en"]
    assert not re.search(r"[A-Za-z_]{3,}", message["zh-CN"]), message["zh-CN"]


def test_several_problems_each_once() -> None:
    problems = _problems(warning_signs=(), coping_steps=(), review_on=TODAY)
    message = explain_plan_problems(problems + problems)
    assert (
        message["zh-CN"] == "预警信号：至少填写一项。应对步骤：至少填写一项。复核日期须晚于今天。"
    )
