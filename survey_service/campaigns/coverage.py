"""Coverage of screening campaigns per class, school and district (checklist items 1, 7, 13).

Counts only: who was invited, may take part (consent), started, submitted or refused. Tier
counts are aggregates with small cells suppressed; nothing here names or ranks a student.
Students' own sessions make ``started``/``submitted`` and the tiers; guardians' sessions of a
campaign's ``guardian_battery`` are counted apart (``guardian_started``/``guardian_submitted``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select

from survey_service.accounts import permissions
from survey_service.accounts.access import schools_in_scope, scope_of
from survey_service.campaigns import suppression
from survey_service.campaigns.service import consent_needed, targets
from survey_service.db import (
    AsyncSession,
    Campaign,
    Consent,
    School,
    ScreeningSession,
    StaffUser,
    TriageRecord,
)
from survey_service.errors import NotFound

# Tier counts of 1-4 are hidden (None), and so are complementary cells wherever the school's
# published ``submitted`` total would otherwise give a hidden count away (suppression.py).
MIN_CELL = suppression.MIN_CELL
TIERS = ("red", "orange", "yellow", "green")


class Counts(msgspec.Struct):
    invited: int = 0
    consented: int = 0
    refused: int = 0
    started: int = 0
    submitted: int = 0
    guardian_started: int = 0
    guardian_submitted: int = 0

    @property
    def coverage(self) -> float:
        return round(self.submitted / self.invited, 4) if self.invited else 0.0


class ClassCoverage(msgspec.Struct, frozen=True):
    class_id: uuid.UUID
    grade: int
    class_name: str
    invited: int
    consented: int
    refused: int
    started: int
    submitted: int
    coverage: float
    guardian_started: int = 0
    guardian_submitted: int = 0


class SchoolCoverage(msgspec.Struct, frozen=True):
    school_id: uuid.UUID
    school_code: str
    school_name: str
    campaign_id: uuid.UUID | None
    campaign_name: str | None
    invited: int
    consented: int
    refused: int
    started: int
    submitted: int
    coverage: float
    tiers: dict[str, int | None]  # None: a small cell, suppressed
    guardian_started: int = 0
    guardian_submitted: int = 0


class CoverageReport(msgspec.Struct, frozen=True):
    scope: str  # school | district
    generated_at: datetime
    schools: list[SchoolCoverage]
    classes: list[ClassCoverage]
    suppressed_below: int = MIN_CELL


def _tier_cells(tiers: Counter[str]) -> dict[str, int | None]:
    """One school's tier counts, small cells and their complements hidden.

    The published table is schools × tiers with each school's total (``submitted``), and no
    per-tier total across schools: rows are independent, so protecting each row on its own
    is exactly protecting the whole table, and a school's row reads the same in the school's
    and the district's view.
    """
    table = suppression.suppress([[tiers.get(t, 0) for t in TIERS]], k=MIN_CELL)
    return dict(zip(TIERS, table.cells[0], strict=True))


async def _campaign_counts(
    db: AsyncSession, campaign: Campaign, now: datetime, head_teacher: StaffUser | None
) -> tuple[Counts, list[ClassCoverage], Counter[str]]:
    school = await db.get_one(School, campaign.school_id)
    today = now.astimezone(ZoneInfo(school.timezone)).date()
    query = select(ScreeningSession).where(ScreeningSession.campaign_id == campaign.id)
    all_sessions = (await db.scalars(query)).all()
    sessions = {s.student_id: s for s in all_sessions if s.respondent == "self"}
    guardian_sessions = {s.student_id: s for s in all_sessions if s.respondent == "parent"}
    consents = {
        c.student_id: c.status
        for c in (await db.scalars(select(Consent).where(Consent.campaign_id == campaign.id))).all()
    }
    per_class: dict[uuid.UUID, tuple[int, str, Counts]] = {}
    total = Counts()
    for student, klass in await targets(db, campaign):
        if head_teacher is not None and klass.head_teacher_id != head_teacher.id:
            continue
        entry = per_class.setdefault(klass.id, (klass.grade, klass.name, Counts()))
        for counts in (entry[2], total):
            counts.invited += 1
            consent = consents.get(student.id)
            if consent in ("refused", "withdrawn"):  # withdrawn (issue 19): not taking part
                counts.refused += 1
            elif consent == "granted" or not consent_needed(campaign, student, today):
                counts.consented += 1
            session = sessions.get(student.id)
            if session is not None:
                counts.started += 1
                if session.status == "submitted":
                    counts.submitted += 1
            guardian = guardian_sessions.get(student.id)
            if guardian is not None:
                counts.guardian_started += 1
                if guardian.status == "submitted":
                    counts.guardian_submitted += 1
    tiers: Counter[str] = Counter()
    submitted_ids = [s.id for s in sessions.values() if s.status == "submitted"]
    if submitted_ids:
        tiers.update(
            (
                await db.scalars(
                    select(TriageRecord.tier).where(TriageRecord.session_id.in_(submitted_ids))
                )
            ).all()
        )
    classes = [
        ClassCoverage(
            cid,
            g,
            name,
            c.invited,
            c.consented,
            c.refused,
            c.started,
            c.submitted,
            c.coverage,
            c.guardian_started,
            c.guardian_submitted,
        )
        for cid, (g, name, c) in sorted(per_class.items(), key=lambda kv: (kv[1][0], kv[1][1]))
    ]
    return total, classes, tiers


async def coverage(
    db: AsyncSession, user: StaffUser, *, campaign_id: uuid.UUID | None, now: datetime
) -> CoverageReport:
    """Coverage of one campaign, or of each school's latest campaign in the caller's scope."""
    permissions.require(user, "coverage.read")
    schools = await schools_in_scope(db, user)
    by_id = {s.id: s for s in schools}
    campaigns: list[Campaign] = []
    if campaign_id is not None:
        campaign = await db.get(Campaign, campaign_id)
        if campaign is None or campaign.school_id not in by_id:
            raise NotFound("No such campaign", code="campaign_not_found")
        campaigns = [campaign]
    else:
        for school in schools:
            latest = await db.scalar(
                select(Campaign)
                .where(Campaign.school_id == school.id)
                .where(Campaign.opens_at <= now)
                .order_by(Campaign.opens_at.desc())
                .limit(1)
            )
            if latest is not None:
                campaigns.append(latest)
    head = user if scope_of(user) == "class" else None  # a head teacher: their classes
    out_schools: list[SchoolCoverage] = []
    out_classes: list[ClassCoverage] = []
    covered = {c.school_id for c in campaigns}
    for campaign in campaigns:
        total, classes, tiers = await _campaign_counts(db, campaign, now, head)
        school = by_id[campaign.school_id]
        show_tiers = user.role != "head_teacher"
        out_schools.append(
            SchoolCoverage(
                school.id,
                school.code,
                school.name,
                campaign.id,
                campaign.name,
                total.invited,
                total.consented,
                total.refused,
                total.started,
                total.submitted,
                total.coverage,
                _tier_cells(tiers) if show_tiers else {},
                total.guardian_started,
                total.guardian_submitted,
            )
        )
        if user.role != "district_officer":
            out_classes.extend(classes)
    for school in schools:
        if school.id not in covered:
            out_schools.append(
                SchoolCoverage(
                    school.id, school.code, school.name, None, None, 0, 0, 0, 0, 0, 0.0, {}
                )
            )
    return CoverageReport(
        scope="district" if scope_of(user) == "district" else "school",
        generated_at=now,
        schools=out_schools,
        classes=out_classes,
    )
