"""Guardian consent as a record with history, and its withdrawal (issue 19; PIPL Art. 15, 31).

``consents`` holds the current decision per student and campaign (one row: every reader's
check stays one lookup); ``consent_events`` is the append-only history — every grant, refusal
and withdrawal with the notice version the guardian saw, how the decision was verified and by
whom — so a change of mind never erases what was decided before.

What a withdrawal does (decided here, documented in the README):

* Processing for that campaign stops at once: the student's and the guardian's access codes
  for it are refused (403 ``consent_withdrawn``, zh-CN and en, nothing written), no session
  starts, a session in progress can neither save nor submit, and its saved (not submitted)
  answers are erased now. Before they are erased, a *critical* saved answer (self-harm,
  suicide) is triaged at once, as the sweeper would triage it later
  (:func:`~survey_service.screening.saved_triage.triage_before_erasing`): what a child has
  already told us about a risk to their life is never erased unseen (PIPL Art. 13). Nothing
  else of the saved answers is scored or kept.
  The student no longer appears among the non-completers to chase.
* Data already collected (a submitted response, its scores and triage record) is not used for
  anything new and is kept only as long as the retention rules say
  (:mod:`survey_service.services.retention_rules`), then deleted or pseudonymised.
* Safety first: an open case for the student is not closed, lowered or hidden by a withdrawal.
  It stays with the counsellor, who is told (a ``consent_withdrawn`` case event and a
  ``consent.withdrawn`` notification to the counsellor role, no name in it); the care team
  decides what to do with the guardian, as for any case (PIPL Art. 13: protecting a minor's
  life and health).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import student_in_scope
from survey_service.campaigns.schemas import ConsentWithdrawn
from survey_service.cases.events import case_event
from survey_service.db import (
    AsyncSession,
    Campaign,
    Case,
    Consent,
    ConsentEvent,
    ScreeningSession,
    StaffUser,
)
from survey_service.errors import Conflict, NotFound, Unprocessable
from survey_service.notifications.service import enqueue_case_notification
from survey_service.schemas import Kind, Name, Text
from survey_service.screening.saved_triage import triage_before_erasing
from survey_service.services import audit
from survey_service.services.runtime import Runtime

#: How a guardian's decision reached the school (and was verified).
VERIFICATION_METHODS = ("paper_slip", "phone_call", "in_person", "online_form")
DEFAULT_NOTICE_VERSION = "2026.1"
MAX_REASON = 2000

STUDENT_CONSENT_WITHDRAWN = {
    "zh-CN": "你的监护人已经撤回了对本次测评的同意，你不需要再作答，已保存的答案不会被使用。"
    "如果你需要帮助，可以随时联系学校心理老师或下面的热线。",
    "en": "Your guardian has withdrawn their agreement to this screening, so you do not need "
    "to answer it, and answers you saved will not be used. If you need help, you can always "
    "talk to the school counsellor or call one of the lines below.",
}
GUARDIAN_CONSENT_WITHDRAWN = {
    "zh-CN": "学校已记录您撤回了对孩子参加本次测评的同意，因此不需要填写，已保存的答案不会被使用。"
    "如需更改，请联系学校。",
    "en": "The school has recorded that you withdrew your agreement to this screening for "
    "your child, so there is nothing to answer and saved answers will not be used. Contact "
    "the school to change this.",
}


class WithdrawalIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A guardian's withdrawal of consent as the school records it.

    ``channel``: how it reached the school (``paper_slip``, ``phone_call``, ``in_person``,
    ``online_form``); ``reason``: optional, the guardian's own words if they gave any.
    """

    channel: Kind
    reason: Text | None = None
    guardian_name: Name | None = None


def check_method(field: str, value: str) -> None:
    if value not in VERIFICATION_METHODS:
        raise Unprocessable(
            f"{field} must be one of {', '.join(VERIFICATION_METHODS)}, got {value!r}",
            code="invalid_consent",
        )


def add_event(
    db: AsyncSession,
    row: Consent,
    *,
    decision: str,
    method: str | None,
    verified_by: uuid.UUID | None,
    reason: str | None,
    guardian_name: str | None,
    user: StaffUser,
    now: datetime,
) -> None:
    """Append one decision to the history (never updated, never deleted but by retention)."""
    db.add(
        ConsentEvent(
            consent_id=row.id,
            campaign_id=row.campaign_id,
            student_id=row.student_id,
            decision=decision,
            notice_version=row.notice_version,
            guardian_name=guardian_name,
            method=method,
            verified_by=verified_by,
            reason=reason,
            recorded_by=user.id,
            at=now,
        )
    )


async def resume_withdrawn_sessions(
    db: AsyncSession, campaign_id: uuid.UUID, student_id: uuid.UUID
) -> None:
    """Consent given again after a withdrawal: the stopped sessions may start afresh (their
    saved answers were erased at the withdrawal)."""
    for session in (
        await db.scalars(
            select(ScreeningSession).where(
                ScreeningSession.campaign_id == campaign_id,
                ScreeningSession.student_id == student_id,
                ScreeningSession.status == "withdrawn",
            )
        )
    ).all():
        session.status = "started"


async def withdraw_consent(
    db: AsyncSession,
    user: StaffUser,
    campaign_id: uuid.UUID,
    student_id: uuid.UUID,
    data: WithdrawalIn,
    *,
    rt: Runtime,
    now: datetime,
) -> ConsentWithdrawn:
    """Record a guardian's withdrawal and stop all processing for the student in the campaign.

    404 for a campaign or student outside the caller's school; 409 ``consent_not_given`` when
    the guardian had refused (nothing to withdraw), 409 ``consent_already_withdrawn`` when it
    is withdrawn already; 422 for a bad channel. See the module docstring for what it stops.
    """
    permissions.require(user, "consent.withdraw")
    check_method("channel", data.channel)
    reason = (data.reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise Unprocessable(
            f"reason is longer than {MAX_REASON} characters", code="invalid_consent"
        )
    campaign = await db.get(Campaign, campaign_id)
    if campaign is None or user.school_id is None or campaign.school_id != user.school_id:
        raise NotFound("No such campaign", code="campaign_not_found")
    student = await student_in_scope(db, user, student_id)  # a head teacher: own class only
    if student.school_id != campaign.school_id:
        raise NotFound("No such student", code="student_not_found")
    row = await db.scalar(
        select(Consent)
        .where(Consent.campaign_id == campaign.id, Consent.student_id == student.id)
        .with_for_update()
    )
    if row is not None and row.status == "refused":
        raise Conflict(
            "The guardian refused this campaign: there is no consent to withdraw",
            code="consent_not_given",
        )
    if row is not None and row.status == "withdrawn":
        raise Conflict("Consent is already withdrawn", code="consent_already_withdrawn")
    if row is None:  # e.g. a student of 14 or more, or a statutory-basis campaign
        row = Consent(
            campaign_id=campaign.id,
            student_id=student.id,
            status="withdrawn",
            guardian_name=data.guardian_name,
            recorded_by=user.id,
            recorded_at=now,
            notice_version=campaign.consent_notice_version,
        )
        db.add(row)
    row.status = "withdrawn"
    row.withdrawn_at, row.withdrawn_by = now, user.id
    row.withdrawal_channel, row.withdrawal_reason = data.channel, reason
    await db.flush()
    add_event(
        db,
        row,
        decision="withdrawn",
        method=data.channel,
        verified_by=user.id,
        reason=reason,
        guardian_name=data.guardian_name,
        user=user,
        now=now,
    )
    stopped = 0
    for session in (
        await db.scalars(
            select(ScreeningSession)
            .where(
                ScreeningSession.campaign_id == campaign.id,
                ScreeningSession.student_id == student.id,
                ScreeningSession.status != "submitted",
            )
            .with_for_update()
        )
    ).all():
        # Safety first: a critical answer saved but not yet swept reaches the care team now.
        await triage_before_erasing(db, rt, session, now=now)
        session.status = "withdrawn"
        session.partial_answers, session.answer_stamps = {}, {}
        session.answers_saved_at = None
        stopped += 1
    informed: list[uuid.UUID] = []
    for case in (
        await db.scalars(select(Case).where(Case.student_id == student.id, Case.status != "closed"))
    ).all():
        db.add(
            case_event(
                case.id,
                "consent_withdrawn",
                at=now,
                actor_id=user.id,
                data={"campaign_id": str(campaign.id), "channel": data.channel},
            )
        )
        await enqueue_case_notification(
            db,
            case=case,
            event="consent.withdrawn",
            level=case.escalation_level,
            recipient_role="counsellor",
            deadline=now,
            base_url=rt.settings.base_url,
            now=now,
            subject=str(row.id),
        )
        informed.append(case.id)
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="consent.withdraw",
        subject_type="student",
        subject_ids=[student.id],
        school_id=campaign.school_id,
        now=now,
    )
    return ConsentWithdrawn(
        consent_id=row.id,
        status="withdrawn",
        withdrawn_at=now,
        sessions_stopped=stopped,
        open_cases_kept=informed,
    )
