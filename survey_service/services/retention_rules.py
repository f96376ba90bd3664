"""What is expired at ``now``, per kind of data (issue 19: retention). Pure: no database, no
clock — ``now`` and the anchors are passed in, so the rule is tested on its own.

Defaults are conservative where the policy texts say nothing (``reference/china-policy.md``
names no period; PIPL Art. 19 and 47: keep personal information no longer than the purpose
needs, delete it when the purpose is served or consent is withdrawn):

======================  ==========================================================  =========
kind                    what, and from when it counts                               default
======================  ==========================================================  =========
``answers``             raw answers: responses' answers, saved answers, submission  3 years
                        receipts — from the campaign's closing
``results``             scores and triage reasons — from the campaign's closing     3 years
                        (an observation's triage: from its evaluation)
``case_files``          closed case files: events' and tasks' notes, care records,  5 years
                        plans, referrals' hospitals and feedback, observations'
                        notes, incident texts — from the case's closing (records
                        outside a case: from when they were made)
``notifications``       outbox payloads, delivery-attempt errors, operator alert    90 days
                        texts — from when they were made (never a pending one)
``inbox``               in-app inbox items — from when they were made               180 days
``access``              access-code and session-token digests — from the            30 days
                        campaign's closing
``login_attempts``      sign-in attempts — from the attempt                         180 days
``identity``            a student who left (no longer active): name, number, birth  5 years
                        date, guardians' names and phones, consent names — from the
                        latest of their data's anchors (campaigns, cases)
``withdrawn``           answers and results of a campaign whose consent was         30 days
                        withdrawn — from the withdrawal (PIPL Art. 47)
======================  ==========================================================  =========

Held, whatever the dates: everything of a student with an open case (a child at risk keeps
their file while the care team works); pending notifications; the audit log (append-only,
ids only) is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import msgspec

from survey_service.settings import RETENTION_KINDS

DAY = timedelta(days=1)
#: The data kinds with a retention period (defined with their settings).
KINDS = RETENTION_KINDS


class RetentionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Days each kind of data is kept after its anchor (see the module docstring)."""

    answers: int = 3 * 365
    results: int = 3 * 365
    case_files: int = 5 * 365
    notifications: int = 90
    inbox: int = 180
    access: int = 30
    login_attempts: int = 180
    identity: int = 5 * 365
    withdrawn: int = 30

    def days(self, kind: str) -> int:
        if kind not in KINDS:
            raise KeyError(f"unknown data kind {kind!r}")
        return int(getattr(self, kind))


def check(policy: RetentionPolicy) -> list[str]:
    """Problems of a policy: every period a whole number of days, at least 1."""
    return [f"{k}: must be at least 1 day" for k in KINDS if policy.days(k) < 1]


def cutoff(policy: RetentionPolicy, kind: str, now: datetime) -> datetime:
    """Data of ``kind`` whose anchor is at or before this moment is expired (unless held)."""
    return now - policy.days(kind) * DAY


def expired(
    policy: RetentionPolicy, kind: str, anchor: datetime | None, now: datetime, *, held: bool
) -> bool:
    """Whether data of ``kind`` anchored at ``anchor`` is expired at ``now``. Held data (an
    open case) and data without an anchor (nothing says when its purpose ended) never is."""
    if held or anchor is None:
        return False
    return anchor <= cutoff(policy, kind, now)


def screening_expired(
    policy: RetentionPolicy,
    kind: str,
    *,
    closes_at: datetime,
    withdrawn_at: datetime | None,
    now: datetime,
    held: bool,
) -> bool:
    """Answers or results of one campaign: expired ``kind`` days after the campaign closed, or
    ``withdrawn`` days after the guardian withdrew consent, whichever comes first."""
    if kind not in ("answers", "results"):
        raise KeyError(f"{kind!r} is not a screening data kind")
    return expired(policy, kind, closes_at, now, held=held) or expired(
        policy, "withdrawn", withdrawn_at, now, held=held
    )


def identity_expired(
    policy: RetentionPolicy,
    *,
    active: bool,
    anchors: Iterable[datetime | None],
    now: datetime,
    held: bool,
) -> bool:
    """A student's identity is pseudonymised ``identity`` days after the latest anchor of
    their data, once they have left (not active) and no case of theirs is open; a student
    with no dated data at all is kept (nothing says when they left)."""
    if active:
        return False
    known = [a for a in anchors if a is not None]
    return expired(policy, "identity", max(known) if known else None, now, held=held)
