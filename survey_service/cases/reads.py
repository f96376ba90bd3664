"""Reads of students under care for the staff and head-teacher pages: classes in scope, a case's
referrals, names, a class's completion and its pupils under care. Every read that names
individual students adds an audit row in the request's transaction; no query orders
anything by a score.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

import triage
from survey_service.accounts import permissions
from survey_service.cases import views
from survey_service.cases.schemas import ClassRef, ReferralOut
from survey_service.cases.service import OPEN_STATES
from survey_service.db import (
    AccessCode,
    AsyncSession,
    Campaign,
    Case,
    CaseTask,
    Consent,
    Guardian,
    Referral,
    SchoolClass,
    ScreeningSession,
    StaffUser,
    Student,
)
from survey_service.services import audit


async def school_classes(db: AsyncSession, user: StaffUser) -> list[ClassRef]:
    """The classes of the caller's school (for filters); none for a district officer."""
    if user.school_id is None:
        return []
    rows = (
        await db.scalars(
            select(SchoolClass)
            .where(SchoolClass.school_id == user.school_id)
            .order_by(SchoolClass.grade, SchoolClass.name)
        )
    ).all()
    return [ClassRef(class_id=k.id, grade=k.grade, name=k.name) for k in rows]


async def case_referrals(db: AsyncSession, case_id: uuid.UUID) -> list[ReferralOut]:
    """A case's referrals; call only after the case was read through an audited service."""
    rows = (
        await db.scalars(
            select(Referral).where(Referral.case_id == case_id).order_by(Referral.sent_at)
        )
    ).all()
    return [views.referral(r) for r in rows]


async def names(
    db: AsyncSession,
    *,
    staff_ids: Sequence[uuid.UUID] = (),
    guardian_ids: Sequence[uuid.UUID] = (),
    student_ids: Sequence[uuid.UUID] = (),
) -> dict[uuid.UUID, str]:
    """Display names of care-group members of a case already read through a service."""
    out: dict[uuid.UUID, str] = {}
    if staff_ids:
        for u in (await db.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids)))).all():
            out[u.id] = u.display_name
    if guardian_ids:
        for g in (await db.scalars(select(Guardian).where(Guardian.id.in_(guardian_ids)))).all():
            out[g.id] = f"{g.name}（{g.relation}）"
    if student_ids:
        for s in (await db.scalars(select(Student).where(Student.id.in_(student_ids)))).all():
            out[s.id] = s.name
    return out


@dataclass(frozen=True)
class PupilStatus:
    student_id: uuid.UUID
    name: str
    student_number: str
    status: str  # none | started | submitted | refused


@dataclass(frozen=True)
class ClassCompletion:
    class_id: uuid.UUID
    grade: int
    name: str
    campaign_name: str | None
    pupils: list[PupilStatus]

    @property
    def done(self) -> int:
        return sum(1 for p in self.pupils if p.status == "submitted")

    @property
    def not_done(self) -> list[PupilStatus]:
        return [p for p in self.pupils if p.status != "submitted"]


async def _latest_campaign(
    db: AsyncSession, school_id: uuid.UUID, now: datetime
) -> Campaign | None:
    return await db.scalar(
        select(Campaign)
        .where(Campaign.school_id == school_id, Campaign.opens_at <= now)
        .order_by(Campaign.opens_at.desc())
        .limit(1)
    )


async def class_completion(
    db: AsyncSession, user: StaffUser, *, now: datetime
) -> list[ClassCompletion]:
    """Who in the head teacher's classes has (not) finished the school's current campaign.

    Only whether each student finished: never answers, scores or tiers. Audited.
    """
    permissions.require(user, "classes.read")
    classes = (
        await db.scalars(
            select(SchoolClass)
            .where(SchoolClass.head_teacher_id == user.id)
            .order_by(SchoolClass.grade, SchoolClass.name)
        )
    ).all()
    if not classes or user.school_id is None:
        return []
    campaign = await _latest_campaign(db, user.school_id, now)
    students = (
        await db.scalars(
            select(Student)
            .where(Student.class_id.in_([k.id for k in classes]))
            .order_by(Student.student_number)
        )
    ).all()
    students = [s for s in students if s.status == "active"]
    status: dict[uuid.UUID, str] = {}
    invited: set[uuid.UUID] | None = None
    if campaign is not None:
        invited = set(
            (
                await db.scalars(
                    select(AccessCode.student_id).where(
                        AccessCode.campaign_id == campaign.id, AccessCode.respondent == "self"
                    )
                )
            ).all()
        )
        for s in (
            await db.scalars(
                # The student's own session: a guardian's form is not the student's completion.
                select(ScreeningSession).where(
                    ScreeningSession.campaign_id == campaign.id,
                    ScreeningSession.respondent == "self",
                )
            )
        ).all():
            status[s.student_id] = s.status
        for student_id in await _refusals(db, campaign.id):
            status.setdefault(student_id, "refused")
    out = []
    for klass in classes:
        pupils = [
            PupilStatus(s.id, s.name, s.student_number, status.get(s.id, "none"))
            for s in students
            if s.class_id == klass.id and (invited is None or s.id in invited or s.id in status)
        ]
        out.append(
            ClassCompletion(
                klass.id, klass.grade, klass.name, campaign.name if campaign else None, pupils
            )
        )
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="class.completion",
        subject_type="student",
        subject_ids=[p.student_id for c in out for p in c.not_done],
        school_id=user.school_id,
        now=now,
    )
    return out


async def _refusals(db: AsyncSession, campaign_id: uuid.UUID) -> list[uuid.UUID]:
    """Students whose guardian declined the campaign."""
    rows = await db.scalars(
        select(Consent.student_id).where(
            Consent.campaign_id == campaign_id,
            Consent.status.in_(("refused", "withdrawn")),  # withdrawn: issue 19
        )
    )
    return list(rows.all())


@dataclass(frozen=True)
class CareTaskRow:
    task_id: uuid.UUID
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class PupilUnderCare:
    student_id: uuid.UUID
    name: str
    class_name: str
    case_id: uuid.UUID
    tasks: list[CareTaskRow]


async def pupils_under_care(
    db: AsyncSession, user: StaffUser, *, now: datetime
) -> list[PupilUnderCare]:
    """Students of the head teacher's classes with an active case, and the open tasks assigned
    to head teachers (``triage.can_see(head_teacher, "tasks")``). No tier, score or reason."""
    permissions.require(user, "classes.read")
    rows = (
        await db.execute(
            select(Case, Student, SchoolClass)
            .join(Student, Student.id == Case.student_id)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(SchoolClass.head_teacher_id == user.id, Case.status.in_(OPEN_STATES))
            .order_by(SchoolClass.grade, SchoolClass.name, Student.student_number)
        )
    ).all()
    case_ids = [c.id for c, _, _ in rows]
    tasks: dict[uuid.UUID, list[CareTaskRow]] = {}
    if case_ids and triage.can_see("head_teacher", "tasks"):
        for t in (
            await db.scalars(
                select(CaseTask)
                .where(
                    CaseTask.case_id.in_(case_ids),
                    CaseTask.status == "open",
                    CaseTask.assignee_role == "head_teacher",
                )
                .order_by(CaseTask.due_at)
            )
        ).all():
            tasks.setdefault(t.case_id, []).append(CareTaskRow(t.id, t.kind, t.due_at))
    out = [PupilUnderCare(s.id, s.name, k.name, c.id, tasks.get(c.id, [])) for c, s, k in rows]
    audit.record(
        db,
        actor_id=user.id,
        actor_role=user.role,
        action="class.under_care",
        subject_type="student",
        subject_ids=[p.student_id for p in out],
        school_id=user.school_id,
        now=now,
    )
    return out
