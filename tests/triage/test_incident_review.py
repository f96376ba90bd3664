"""Incident review: the 14-day deadline, the 3,000-character report, escalation to the district."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from care_calendars import sh
from hypothesis import given, settings
from hypothesis import strategies as st
from triage_strategies import instants

from triage import (
    INCIDENT_REVIEW_PERIOD,
    MIN_REVIEW_REPORT_CHARS,
    IncidentReviewStatus,
    ReviewReportTooShort,
    check_review_report,
    count_report_characters,
    incident_review_deadline,
    incident_review_escalation,
)

# 10 Chinese characters and a full stop: 11 characters, 33 bytes in UTF-8.
SENTENCE = "学生情况讲清工作疏漏。"
RECORDED = sh(2026, 10, 12, 16, 30)
DEADLINE = sh(2026, 10, 26, 16, 30)


def chinese(n: int) -> str:
    return (SENTENCE * (n // len(SENTENCE) + 1))[:n]


def test_report_of_3000_chinese_characters_is_accepted() -> None:
    report = chinese(3000)
    assert len(report.encode("utf-8")) == 9000  # bytes are not what counts
    assert count_report_characters(report) == 3000
    assert check_review_report(f"\n  {report}  \n") == report


def test_report_of_2999_chinese_characters_is_refused_with_the_count() -> None:
    with pytest.raises(ReviewReportTooShort) as info:
        check_review_report(chinese(2999))
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.count, error.required) == (2999, MIN_REVIEW_REPORT_CHARS)
    assert "2,999" in str(error) and "3,000" in str(error) and "(1 short)" in str(error)
    assert "Chinese character" in str(error)


def test_surrounding_whitespace_does_not_count_but_inner_spaces_do() -> None:
    with pytest.raises(ReviewReportTooShort, match="2,999"):
        check_review_report(" " * 500 + chinese(2999) + "\n" * 500)
    padded = chinese(1500) + " " + chinese(1499)
    assert check_review_report(padded) == padded


def test_decomposed_characters_count_once() -> None:
    # "é" typed as e + combining accent counts as one character, as it is read.
    assert count_report_characters("e\u0301" * 3) == 3
    with pytest.raises(ValueError, match="must be text"):
        check_review_report(None)  # type: ignore[arg-type]


def test_deadline_is_14_days_of_clock_time() -> None:
    assert timedelta(days=14) == INCIDENT_REVIEW_PERIOD
    deadline = incident_review_deadline(RECORDED)
    assert deadline == DEADLINE and deadline.tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        incident_review_deadline(datetime(2026, 10, 12))


def test_escalation_at_exactly_14_days() -> None:
    just_before = incident_review_escalation(
        RECORDED, filed_at=None, now=DEADLINE - timedelta(microseconds=1)
    )
    assert just_before == IncidentReviewStatus(
        deadline=DEADLINE, state="pending", escalate_at=DEADLINE, escalate_now=False
    )
    at = incident_review_escalation(RECORDED, filed_at=None, now=DEADLINE)
    assert (at.state, at.escalate_at, at.escalate_now) == ("overdue", DEADLINE, True)


def test_a_report_filed_at_the_deadline_is_in_time() -> None:
    status = incident_review_escalation(
        RECORDED, filed_at=DEADLINE, now=DEADLINE + timedelta(days=3)
    )
    assert (status.state, status.escalate_at, status.escalate_now) == ("filed_on_time", None, False)


def test_a_late_report_was_still_escalated_at_the_deadline() -> None:
    late = DEADLINE + timedelta(seconds=1)
    status = incident_review_escalation(RECORDED, filed_at=late, now=late)
    assert (status.state, status.escalate_at, status.escalate_now) == ("filed_late", DEADLINE, True)


def test_errors() -> None:
    with pytest.raises(ValueError, match="before the incident was recorded"):
        incident_review_escalation(RECORDED, filed_at=RECORDED - timedelta(hours=1), now=DEADLINE)
    with pytest.raises(ValueError, match="timezone-aware"):
        incident_review_escalation(RECORDED, filed_at=None, now=datetime(2026, 10, 27))
    with pytest.raises(ValueError, match="timezone-aware"):
        incident_review_escalation(RECORDED, filed_at=datetime(2026, 10, 27), now=DEADLINE)


MOVES = st.lists(st.integers(-3 * 86400, 6 * 86400), max_size=25)


@settings(max_examples=200, deadline=None)
@given(instants(), st.one_of(st.none(), st.integers(0, 30 * 86400)), MOVES)
def test_the_district_is_told_once_at_the_deadline_whatever_the_clock_does(
    recorded: datetime, filed_after: int | None, moves: list[int]
) -> None:
    filed = None if filed_after is None else recorded + timedelta(seconds=filed_after)
    deadline = recorded + timedelta(days=14)
    on_time = filed is not None and filed <= deadline
    told: list[datetime] = []
    now = recorded
    for move in [*moves, None]:
        now = deadline + timedelta(days=1) if move is None else now + timedelta(seconds=move)
        status = incident_review_escalation(recorded, filed_at=filed, now=now)
        assert status.deadline == deadline
        if status.escalate_now:
            assert now >= deadline, "escalated early"
            assert status.escalate_at == deadline
            if not told:  # the caller records that it told the district
                told.append(now)
        else:
            assert now < deadline or on_time
    assert len(told) == (0 if on_time else 1)
