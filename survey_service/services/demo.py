"""Seed a demo district: two schools, classes, students, staff, an open campaign, access codes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import msgspec
from sqlalchemy import select

from survey_service.db import (
    AccessCode,
    AsyncSession,
    Campaign,
    Consent,
    District,
    Guardian,
    School,
    SchoolCalendarRecord,
    SchoolClass,
    StaffUser,
    Student,
)
from survey_service.errors import Conflict
from survey_service.schools.calendars import CalendarDocument, ExamIn, TermIn
from survey_service.security import digest, hash_password, new_access_code, normalize_access_code
from survey_service.services.runtime import Runtime

DEMO_DISTRICT = "DEMO"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "子涵",
    "欣怡",
    "梓萱",
    "浩然",
    "宇轩",
    "思远",
    "雨桐",
    "俊杰",
    "可馨",
    "一诺",
    "嘉怡",
    "明哲",
]
SCHOOLS = [
    ("DEMO-A", "润心实验中学", "Runxin Experimental Middle School"),
    ("DEMO-B", "润心第二中学", "Runxin No. 2 Middle School"),
]
# Grades 8 and 9 (typically 13-15 years old; see services.campaign_validity.grade_ages): the
# validated Chinese PHQ-9 and GAD-7 are set from age 13 (their definitions' age_source), so a
# grade-7 class (12-13) would be outside their range. Birth dates below fit the grade.
CLASSES = [(8, "八年级1班"), (8, "八年级2班"), (9, "九年级1班")]
# The Chinese battery: the validated Chinese PHQ-9 (widely used with adolescents in China;
# instruments.md section 4) and GAD-7, and the ASQ, which has no published Chinese text: it is
# given in English with a notice (the campaign allows the fallback) and each result records
# the language and its validation status.
DEMO_BATTERY = ["phq9", "gad7", "asq"]


def demo_calendar(now: datetime) -> tuple[str, CalendarDocument]:
    """A plausible school year around ``now`` (demo data, not an official calendar)."""
    y = now.year if now.month >= 8 else now.year - 1
    doc = CalendarDocument(
        terms=[
            TermIn(
                start=date(y, 9, 1),
                end=date(y + 1, 1, 22),
                midterm_exam=ExamIn(start=date(y, 11, 9), end=date(y, 11, 10)),
                final_exam=ExamIn(start=date(y + 1, 1, 18), end=date(y + 1, 1, 20)),
            ),
            TermIn(
                start=date(y + 1, 2, 22),
                end=date(y + 1, 7, 2),
                midterm_exam=ExamIn(start=date(y + 1, 4, 26), end=date(y + 1, 4, 27)),
                final_exam=ExamIn(start=date(y + 1, 6, 28), end=date(y + 1, 6, 30)),
            ),
        ],
        holidays=[date(y, 10, d) for d in range(1, 8)] + [date(y + 1, 5, d) for d in range(1, 6)],
        makeup_workdays=[],
    )
    return f"{y}-{y + 1}", doc


def demo_birth_date(now: datetime, grade: int, rng: random.Random) -> date:
    """A birth date typical of ``grade`` in the school year around ``now``.

    Children start grade 1 in the September after they turn 6 (cut-off 31 August), so a
    student of grade g was born between 1 September of year y-g-6 and 31 August of year y-g-5
    (y: the year the school year starts): aged g+5 on 1 September, g+6 by the summer.
    """
    y = now.year if now.month >= 9 else now.year - 1
    month, day = rng.randint(1, 12), rng.randint(1, 28)  # the same draws as before (names)
    return date(y - grade - (6 if month >= 9 else 5), month, day)


@dataclass
class DemoSeed:
    school_codes: list[str] = field(default_factory=list)
    usernames: dict[str, str] = field(default_factory=dict)  # username -> role@school
    access_codes: list[str] = field(default_factory=list)
    campaign_ids: list[str] = field(default_factory=list)


async def seed_demo(
    db: AsyncSession,
    rt: Runtime,
    *,
    students: int,
    staff_password: str,
    webhook_url: str | None,
    webhook_secret: str | None,
    now: datetime,
    seed: int = 2026,
) -> DemoSeed:
    """Create the demo district. Refuses (``Conflict``) if it already exists."""
    if students < 1:
        raise ValueError("--students must be at least 1")
    if await db.scalar(select(District.id).where(District.code == DEMO_DISTRICT)):
        raise Conflict(
            "The demo district already exists in this database; use a fresh database file",
            code="demo_exists",
        )
    rng = random.Random(seed)  # noqa: S311 - deterministic fake names, not security
    out = DemoSeed()
    district = District(
        code=DEMO_DISTRICT,
        name="润心示范区 Runxin Demo District",
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )
    db.add(district)
    await db.flush()
    password_hash = hash_password(staff_password)
    officer = StaffUser(
        username="district1",
        password_hash=password_hash,
        role="district_officer",
        display_name="区教育局值班员",
        district_id=district.id,
        school_id=None,
    )
    db.add(officer)
    out.usernames["district1"] = "district_officer"
    # Reads the audit log of the district (issue 19); sees ids, never a student's record.
    db.add(
        StaffUser(
            username="auditor1",
            password_hash=password_hash,
            role="auditor",
            display_name="区审计员",
            district_id=district.id,
            school_id=None,
        )
    )
    out.usernames["auditor1"] = "auditor"

    schools: list[School] = []
    classes: list[SchoolClass] = []
    for n, (code, zh, en) in enumerate(SCHOOLS, start=1):
        school = School(
            district_id=district.id,
            code=code,
            name=f"{zh} {en}",
            timezone="Asia/Shanghai",
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            counselling_room="心理辅导室（综合楼 2 楼）周一至周五 12:00–13:30, 16:30–17:30",
            city_help_line=None,
        )
        db.add(school)
        await db.flush()
        schools.append(school)
        out.school_codes.append(code)
        for username, role, display in (
            # People's names, as a real school enters them (the help box says their role).
            (f"counsellor{n}", "counsellor", ("林静", "周敏")[(n - 1) % 2]),
            (f"lead{n}", "school_lead", ("陈建国", "赵立新")[(n - 1) % 2]),
            # The school's information administrator (信息管理员): accounts and rosters.
            (f"admin{n}", "school_admin", ("王海燕", "刘洋")[(n - 1) % 2]),
        ):
            db.add(
                StaffUser(
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    display_name=display,
                    district_id=district.id,
                    school_id=school.id,
                    email=f"{username}@{code.lower()}.runxin.example",
                    phone=f"139{n:04d}{len(out.usernames):04d}",
                )
            )
            out.usernames[username] = f"{role}@{code}"
        for grade, name in CLASSES:
            head = StaffUser(
                username=f"headteacher{len(classes) + 1}",
                password_hash=password_hash,
                role="head_teacher",
                display_name=f"{name}班主任",
                district_id=district.id,
                school_id=school.id,
            )
            db.add(head)
            await db.flush()
            out.usernames[head.username] = f"head_teacher@{code} {name}"
            klass = SchoolClass(
                school_id=school.id, grade=grade, name=name, head_teacher_id=head.id
            )
            db.add(klass)
            classes.append(klass)
    await db.flush()

    label, calendar = demo_calendar(now)
    for school in schools:
        db.add(
            SchoolCalendarRecord(
                school_id=school.id,
                label=label,
                first_day=calendar.terms[0].start,
                last_day=calendar.terms[-1].end,
                document=msgspec.to_builtins(calendar),
                updated_at=now,
            )
        )

    campaigns = {}
    for school in schools:
        campaign = Campaign(
            school_id=school.id,
            name="2026–2027 学年心理健康筛查",
            school_year="2026-2027",
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=30),
            battery=list(DEMO_BATTERY),
            languages=["zh-CN", "en"],
            allow_language_fallback=True,  # the ASQ has no Chinese text (see DEMO_BATTERY)
        )
        db.add(campaign)
        campaigns[school.id] = campaign
    await db.flush()
    out.campaign_ids = [str(c.id) for c in campaigns.values()]
    recorder = officer.id

    for i in range(students):
        klass = classes[i % len(classes)]
        student = Student(
            school_id=klass.school_id,
            class_id=klass.id,
            student_number=f"2026{i + 1:05d}",
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            gender=rng.choice(["male", "female"]),
            birth_date=demo_birth_date(now, klass.grade, rng),
        )
        db.add(student)
        await db.flush()
        db.add(
            Guardian(
                student_id=student.id,
                name=rng.choice(SURNAMES) + "女士",
                relation="母亲",
                phone=f"1380000{i + 1:04d}",
            )
        )
        campaign = campaigns[klass.school_id]
        code = new_access_code()
        db.add(
            AccessCode(
                campaign_id=campaign.id,
                student_id=student.id,
                code_digest=digest(rt.settings.secret_key, normalize_access_code(code)),
                expires_at=campaign.closes_at,
                used_at=None,
            )
        )
        # Demo guardians have returned their consent forms (the campaign asks for consent
        # under 14, the default rule).
        db.add(
            Consent(
                campaign_id=campaign.id,
                student_id=student.id,
                status="granted",
                guardian_name=None,
                recorded_by=recorder,
                recorded_at=now,
            )
        )
        out.access_codes.append(code)
    return out
