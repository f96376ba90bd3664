"""Review of an extreme incident (Jiangsu checklist item 5).

Every extreme incident involving a student's mental health gets an investigation and review
report of at least 3,000 characters, filed within two weeks. Recording the incident opens the
review; its deadline is 14 days of clock time later (:func:`incident_review_deadline`); the
report is refused under 3,000 characters (:func:`check_review_report`); a review not filed by
the deadline is escalated to the district at the deadline (:func:`incident_review_escalation`).
These are provincial requirements, not district settings, so they are constants here rather
than policy fields.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

from triage._calendar import require_aware

__all__ = [
    "INCIDENT_REVIEW_PERIOD",
    "MIN_REVIEW_REPORT_CHARS",
    "IncidentReviewStatus",
    "ReviewReportTooShort",
    "check_review_report",
    "count_report_characters",
    "incident_review_deadline",
    "incident_review_escalation",
]

#: Time allowed to file the review report: two weeks of clock time.
INCIDENT_REVIEW_PERIOD = timedelta(days=14)
#: Fewest characters of a review report.
MIN_REVIEW_REPORT_CHARS = 3000


class ReviewReportTooShort(ValueError):
    """A review report is shorter than :data:`MIN_REVIEW_REPORT_CHARS` characters.

    Attributes
    ----------
    count : int
        Characters counted (see :func:`count_report_characters`).
    required : int
        Characters required.
    """

    def __init__(self, count: int, required: int = MIN_REVIEW_REPORT_CHARS) -> None:
        self.count = count
        self.required = required
        super().__init__(
            f"an incident review report needs at least {required:,} characters; this one has "
            f"{count:,} ({required - count:,} short). Characters are counted after removing "
            "surrounding whitespace; every Chinese character, letter, digit, punctuation mark "
            "and inner space counts as one"
        )


def count_report_characters(text: str) -> int:
    """Count the characters of a report as :func:`check_review_report` does.

    The text is put in Unicode NFC form and stripped of surrounding whitespace; then every
    code point counts one: a Chinese character is one character (not two or three bytes), as
    are letters, digits, punctuation and spaces inside the text.

    Raises
    ------
    ValueError
        If ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise ValueError(f"the report must be text, got {type(text).__name__}")
    return len(unicodedata.normalize("NFC", text).strip())


def check_review_report(text: str) -> str:
    """Check that a review report is long enough to be filed.

    Parameters
    ----------
    text : str
        The report.

    Returns
    -------
    str
        The report without surrounding whitespace.

    Raises
    ------
    ReviewReportTooShort
        (a ``ValueError``) if it has fewer than :data:`MIN_REVIEW_REPORT_CHARS` characters, as
        counted by :func:`count_report_characters`; the message gives the count.
    ValueError
        If ``text`` is not a string.
    """
    count = count_report_characters(text)
    if count < MIN_REVIEW_REPORT_CHARS:
        raise ReviewReportTooShort(count)
    return text.strip()


def incident_review_deadline(recorded_at: datetime) -> datetime:
    """Return when the review of an incident recorded at ``recorded_at`` is due.

    Parameters
    ----------
    recorded_at : datetime
        Aware instant the incident was recorded.

    Returns
    -------
    datetime
        ``recorded_at`` plus exactly 14 days (clock time, any hour), in UTC.

    Raises
    ------
    ValueError
        If ``recorded_at`` is naive.
    """
    require_aware(recorded_at, "recorded_at")
    return (recorded_at + INCIDENT_REVIEW_PERIOD).astimezone(UTC)


class IncidentReviewStatus(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where an incident review stands at ``now``.

    Parameters
    ----------
    deadline : datetime
        When the report is due (UTC).
    state : {"pending", "filed_on_time", "overdue", "filed_late"}
        ``pending``: not filed, deadline not reached; ``filed_on_time``: filed at or before
        the deadline; ``overdue``: not filed and the deadline reached; ``filed_late``: filed
        after the deadline.
    escalate_at : datetime or None
        When the district must be told: the deadline, unless the report was filed by then.
    escalate_now : bool
        Whether that time has come at ``now`` (the caller tells the district once and records
        that it did).
    """

    deadline: datetime
    state: Literal["pending", "filed_on_time", "overdue", "filed_late"]
    escalate_at: datetime | None
    escalate_now: bool


def incident_review_escalation(
    recorded_at: datetime, *, filed_at: datetime | None, now: datetime
) -> IncidentReviewStatus:
    """Say whether and when the district must be told about an incident review.

    Parameters
    ----------
    recorded_at : datetime
        Aware instant the incident was recorded.
    filed_at : datetime or None
        Aware instant the report was filed, or ``None``.
    now : datetime
        Aware current instant.

    Returns
    -------
    IncidentReviewStatus
        A review filed at or before the deadline (exactly 14 days is in time) is never
        escalated. One not filed by then is escalated at the deadline; ``escalate_now`` is
        true from the deadline on (a clock that jumps back before it fires nothing early).

    Raises
    ------
    ValueError
        If an instant is naive or ``filed_at`` is before ``recorded_at``.
    """
    deadline = incident_review_deadline(recorded_at)
    require_aware(now, "now")
    if filed_at is not None:
        require_aware(filed_at, "filed_at")
        if filed_at < recorded_at:
            raise ValueError(
                f"filed_at ({filed_at.isoformat()}) is before the incident was recorded "
                f"({recorded_at.isoformat()})"
            )
    reached = now >= deadline
    if filed_at is not None and filed_at <= deadline:
        return IncidentReviewStatus(
            deadline=deadline, state="filed_on_time", escalate_at=None, escalate_now=False
        )
    if filed_at is not None:
        state: Literal["pending", "overdue", "filed_late"] = "filed_late"
    else:
        state = "overdue" if reached else "pending"
    return IncidentReviewStatus(
        deadline=deadline, state=state, escalate_at=deadline, escalate_now=reached
    )
