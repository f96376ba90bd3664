"""Issue 12: the care services hand out wire Structs, never ORM rows, and the care API's
handlers map nothing themselves (parse, call one service function, return its result)."""

from __future__ import annotations

import ast
import inspect
import typing
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from survey_service.accounts.views import Lens, View
from survey_service.cases import care_group, incidents, observations, plans, referrals, student_file
from survey_service.cases import service as cases
from survey_service.cases import views as care_views
from survey_service.cases import workflow as case_workflow
from survey_service.cases.schemas import CaseOut
from survey_service.db import (
    Base,
    Case,
    CaseTask,
    Incident,
    School,
    SchoolClass,
    Student,
    TriageRecord,
)

ROOT = Path(__file__).resolve().parents[2]
CARE_SERVICES = [care_group, case_workflow, incidents, observations, plans, referrals, student_file]
T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _types_in(hint: object) -> typing.Iterator[object]:
    yield hint
    for arg in typing.get_args(hint):
        yield from _types_in(arg)


@pytest.mark.parametrize("module", CARE_SERVICES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_public_care_service_functions_return_no_rows(module: ModuleType) -> None:
    checked = 0
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("_") or fn.__module__ != module.__name__:
            continue
        returned = typing.get_type_hints(fn).get("return")
        rows = [t for t in _types_in(returned) if isinstance(t, type) and issubclass(t, Base)]
        assert not rows, f"{module.__name__}.{name} returns ORM rows: {rows}"
        checked += 1
    assert checked


def test_the_care_api_maps_no_rows() -> None:
    """cases/api.py imports no model but the session and the caller's row (for dependencies)."""
    tree = ast.parse((ROOT / "survey_service" / "cases" / "api.py").read_text(encoding="utf-8"))
    from_db = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "survey_service.db"
        for alias in node.names
    }
    assert from_db and from_db <= {"AsyncSession", "StaffUser"}


def _incident(*, filed_at: datetime | None, report: str | None = None) -> Incident:
    return Incident(
        id=uuid.uuid4(),
        school_id=uuid.uuid4(),
        student_id=None,
        kind="self_harm",
        description="x",
        occurred_at=T0 - timedelta(days=1),
        recorded_at=T0,
        recorded_by=uuid.uuid4(),
        review_due_at=T0 + timedelta(days=14),
        report=report,
        filed_at=filed_at,
        filed_by=None,
        escalated_at=None,
    )


def test_incident_overdue_is_decided_at_the_given_now() -> None:
    row = _incident(filed_at=None)
    due = row.review_due_at
    assert not care_views.incident(row, now=due).overdue  # due, not yet past it
    assert care_views.incident(row, now=due + timedelta(seconds=1)).overdue
    out = care_views.incident(row, now=T0)
    assert (out.incident_id, out.school_id, out.review_due_at) == (row.id, row.school_id, due)
    assert out.report_characters is None


def test_a_filed_incident_is_never_overdue_and_counts_its_report() -> None:
    row = _incident(filed_at=T0 + timedelta(days=3), report="  " + "字" * 3000 + "\n")
    out = care_views.incident(row, now=T0 + timedelta(days=30))
    assert not out.overdue
    assert out.report_characters == 3000


# --- the queue (one read for the API and the page: deadline, then tier, never score) --------


def _queue_item(
    *, tier: str, status: str, acknowledge_by: datetime, task_due: datetime | None = None
) -> CaseOut:
    school = School(id=uuid.uuid4(), name="第一中学")
    klass = SchoolClass(id=uuid.uuid4(), school_id=school.id, grade=8, name="八年级2班")
    student = Student(id=uuid.uuid4(), school_id=school.id, class_id=klass.id, name="学生")
    triage_row = TriageRecord(id=uuid.uuid4(), reasons=[])
    case = Case(
        id=uuid.uuid4(),
        student_id=student.id,
        school_id=school.id,
        tier=tier,
        pathway=None,
        status=status,
        opened_at=T0,
        acknowledge_by=acknowledge_by,
        acknowledged_at=None if status == "open" else T0,
        escalation_level=0,
    )
    task = None
    if task_due is not None:
        task = CaseTask(id=uuid.uuid4(), case_id=case.id, kind="home_visit", due_at=task_due)
    lens = Lens(view=View.FULL, role="counsellor")
    return cases._case_out(
        case, student, klass, triage_row, T0, lens=lens, school=school, next_open=task
    )


def test_the_queue_deadline_is_the_next_open_task_once_acknowledged() -> None:
    hour = timedelta(hours=1)
    open_red = _queue_item(tier="red", status="open", acknowledge_by=T0 + hour, task_due=T0)
    assert (open_red.deadline, open_red.next_task) == (T0 + hour, "acknowledge")
    assert (open_red.school_name, open_red.student.class_name) == ("第一中学", "八年级2班")
    acked = _queue_item(
        tier="yellow", status="acknowledged", acknowledge_by=T0, task_due=T0 + 5 * hour
    )
    assert (acked.deadline, acked.next_task) == (T0 + 5 * hour, "home_visit")
    idle = _queue_item(tier="orange", status="monitoring", acknowledge_by=T0 - hour)
    assert (idle.deadline, idle.next_task) == (T0 - hour, None)
    same_deadline_yellow = _queue_item(tier="yellow", status="open", acknowledge_by=T0 + hour)
    ordered = sorted([acked, same_deadline_yellow, open_red, idle], key=cases._queue_order)
    assert ordered == [idle, open_red, same_deadline_yellow, acked]
