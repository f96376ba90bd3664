"""The school's screening campaigns as the administration pages list them, and what the campaign
wizard may offer (issue 13). No web framework here: the pages call these and render.

A campaign's numbers are counted the way the coverage report counts them
(:mod:`survey_service.campaigns.coverage`): the students in scope are the school's *active*
students of the campaign's classes whose grade has a battery (``service.targets``), and a
student has completed when their own session is submitted; a guardian's session of the guardian
battery does not count. Counts only, nothing about answers or tiers.

The wizard offers, per grade present in the school's roster, the student (self-report)
instruments the campaign service accepts for that grade's typical ages
(:func:`survey_service.campaigns.validity.check_batteries`), and the parent-report instruments
for the guardian questionnaire. The service checks everything again when the form is sent
(the roster's birth dates, the languages): the choices only spare the school a refusal.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from instruments import Catalogue, Instrument
from survey_service.accounts import permissions
from survey_service.campaigns.service import battery_for, guardian_battery
from survey_service.campaigns.validity import Battery, check_batteries
from survey_service.db import (
    AsyncSession,
    Campaign,
    School,
    SchoolClass,
    ScreeningSession,
    StaffUser,
    Student,
)
from survey_service.errors import NotFound

CampaignStatus = Literal["upcoming", "open", "closed"]
#: The statuses a campaign's window gives it, in the order a school meets them.
STATUSES: tuple[CampaignStatus, ...] = ("upcoming", "open", "closed")


def status_of(opens_at: datetime, closes_at: datetime, now: datetime) -> CampaignStatus:
    """``upcoming`` before the window, ``open`` inside it, ``closed`` from ``closes_at``."""
    if now < opens_at:
        return "upcoming"
    if now < closes_at:
        return "open"
    return "closed"


def window_days(opens_at: datetime, closes_at: datetime, tz: str) -> tuple[date, date]:
    """The window as the school reads it: its first and last day (inclusive) in school time.

    A campaign that closes at midnight ends the day before: its last day is the day before
    ``closes_at``, which is how the wizard stores an end date.
    """
    zone = ZoneInfo(tz)
    last = closes_at - timedelta(microseconds=1)
    return opens_at.astimezone(zone).date(), max(last, opens_at).astimezone(zone).date()


@dataclass(frozen=True)
class CampaignRow:
    """One campaign of the list: its window, status, who answers and how far it got.

    ``respondents``: ``("self",)``, or ``("self", "parent")`` when guardians answer a guardian
    questionnaire. ``in_scope``: active students the campaign is for; ``completed``: of them,
    those who submitted their own questionnaire.
    """

    campaign_id: uuid.UUID
    name: str
    school_year: str
    opens_at: datetime
    closes_at: datetime
    first_day: date
    last_day: date
    status: CampaignStatus
    respondents: tuple[str, ...]
    in_scope: int
    completed: int

    @property
    def coverage(self) -> float:
        """Completed over in scope (0 when nobody is in scope), as in the coverage report."""
        return round(self.completed / self.in_scope, 4) if self.in_scope else 0.0


@dataclass(frozen=True)
class SchoolCampaigns:
    """The caller's school and its campaigns, newest window first."""

    school_code: str
    school_name: str
    timezone: str
    rows: list[CampaignRow]


async def own_school(db: AsyncSession, user: StaffUser) -> School:
    """The caller's school (these pages are for school roles; anyone else has none)."""
    school = await db.get(School, user.school_id) if user.school_id is not None else None
    if school is None:
        raise NotFound("No school for this account", code="school_not_found")
    return school


async def school_campaigns(db: AsyncSession, user: StaffUser, *, now: datetime) -> SchoolCampaigns:
    """Every campaign of the caller's school with its counts, newest window first (then by
    name). Three queries whatever the number of campaigns: the campaigns, the school's active
    students with their grade, and the submitted sessions of those campaigns."""
    permissions.require(user, "campaigns.page")
    school = await own_school(db, user)
    campaigns = (
        await db.scalars(
            select(Campaign)
            .where(Campaign.school_id == school.id)
            .order_by(Campaign.opens_at.desc(), Campaign.closes_at.desc(), Campaign.name)
        )
    ).all()
    students = (
        await db.execute(
            select(Student.id, Student.class_id, SchoolClass.grade)
            .join(SchoolClass, SchoolClass.id == Student.class_id)
            .where(Student.school_id == school.id, Student.status == "active")
        )
    ).all()
    submitted: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if campaigns:
        for campaign_id, student_id in (
            await db.execute(
                select(ScreeningSession.campaign_id, ScreeningSession.student_id).where(
                    ScreeningSession.campaign_id.in_([c.id for c in campaigns]),
                    ScreeningSession.respondent == "self",
                    ScreeningSession.status == "submitted",
                )
            )
        ).all():
            submitted[campaign_id].add(student_id)
    rows = []
    for campaign in campaigns:
        classes = (
            {uuid.UUID(str(i)) for i in campaign.target_class_ids}
            if campaign.target_class_ids is not None
            else None
        )
        grades: dict[int, bool] = {}
        in_scope: list[uuid.UUID] = []
        for student_id, class_id, grade in students:
            if classes is not None and class_id not in classes:
                continue
            if grade not in grades:
                grades[grade] = bool(battery_for(campaign, grade))
            if grades[grade]:
                in_scope.append(student_id)
        done = submitted.get(campaign.id, set())
        first, last = window_days(campaign.opens_at, campaign.closes_at, school.timezone)
        rows.append(
            CampaignRow(
                campaign_id=campaign.id,
                name=campaign.name,
                school_year=campaign.school_year,
                opens_at=campaign.opens_at,
                closes_at=campaign.closes_at,
                first_day=first,
                last_day=last,
                status=status_of(campaign.opens_at, campaign.closes_at, now),
                respondents=("self", "parent") if guardian_battery(campaign) else ("self",),
                in_scope=len(in_scope),
                completed=sum(1 for s in in_scope if s in done),
            )
        )
    return SchoolCampaigns(school.code, school.name, school.timezone, rows)


# --------------------------------------------------------------------------- the wizard


@dataclass(frozen=True)
class InstrumentChoice:
    """An instrument the wizard offers: its id (the form value), title per language, validated
    age range and the languages it has text in, with each text's validation status."""

    instrument_id: str
    title: dict[str, str]
    min_age: int
    max_age: int
    languages: dict[str, str]

    def title_in(self, lang: str) -> str:
        """The title in ``lang``, else in English (every definition has English)."""
        return self.title.get(lang) or self.title.get("en") or self.instrument_id


@dataclass(frozen=True)
class WizardOptions:
    """What the campaign form offers for the caller's school.

    ``grades``: the grades with active students, ascending; ``per_grade``: for each, the
    student instruments the service accepts for its typical ages; ``guardian``: the
    parent-report instruments (the guardian questionnaire). ``today``: in school time.
    """

    school_code: str
    school_name: str
    timezone: str
    today: date
    grades: list[int]
    per_grade: dict[int, list[InstrumentChoice]]
    guardian: list[InstrumentChoice]


def _choice(instrument: Instrument) -> InstrumentChoice:
    return InstrumentChoice(
        instrument_id=instrument.id,
        title=dict(instrument.title),
        min_age=instrument.min_age,
        max_age=instrument.max_age,
        languages={lang: info.status for lang, info in instrument.languages.items()},
    )


def fits_grade(instrument: Instrument, grade: int) -> bool:
    """Whether the campaign service accepts ``instrument`` in a student battery for ``grade``
    (its respondent and the grade's typical ages; languages aside, which the form decides)."""
    found = check_batteries(
        [Battery(0, [grade], [instrument])], languages=[], allow_language_fallback=True
    )
    return not found.problems


async def wizard_options(
    db: AsyncSession, user: StaffUser, catalogue: Catalogue, *, now: datetime
) -> WizardOptions:
    """The grades of the caller's school roster and the instruments to offer for each."""
    permissions.require(user, "campaigns.create")
    school = await own_school(db, user)
    grades = sorted(
        set(
            (
                await db.scalars(
                    select(SchoolClass.grade)
                    .join(Student, Student.class_id == SchoolClass.id)
                    .where(SchoolClass.school_id == school.id, Student.status == "active")
                    .distinct()
                )
            ).all()
        )
    )
    # Those with validated Chinese text first: the students of a Chinese school answer them.
    instruments = sorted(
        catalogue.values(),
        key=lambda i: (
            "zh-CN" not in i.languages,
            "zh-CN" in i.languages and i.languages["zh-CN"].status != "validated",
            i.id,
        ),
    )
    return WizardOptions(
        school_code=school.code,
        school_name=school.name,
        timezone=school.timezone,
        today=now.astimezone(ZoneInfo(school.timezone)).date(),
        grades=grades,
        per_grade={
            grade: [_choice(i) for i in instruments if fits_grade(i, grade)] for grade in grades
        },
        guardian=[_choice(i) for i in instruments if i.respondent == "parent"],
    )
