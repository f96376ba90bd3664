"""Issue 15: the annual screening report of a school and a district — the figures, the PDF, the
command line and the dashboards' download.

A school year of known numbers is written into a real database once per module and engine
(SQLite and PostgreSQL: the report's SQL runs on both): the demo district, then for school
DEMO-A screenings, cases with their deadlines met early or late, care tasks, referrals and
incidents, and a previous year's campaign. The tests read the report back from the data
Structs, from the PDF's text (pypdf) and from page 1 as an image (pypdfium2).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pypdf
import pypdfium2
import pytest
from page_support import sql, staff_login
from sqlalchemy import select, update
from svc_support import another_client, app_client, make_settings, run, runxin_here, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import (
    AccessCode,
    Campaign,
    CareRecord,
    Case,
    CaseTask,
    Consent,
    CrisisPlan,
    Incident,
    Referral,
    School,
    ScreeningSession,
    StaffUser,
    Student,
    TriageRecord,
    create_engine,
    create_session_factory,
)
from survey_service.reports import annual, annual_render
from survey_service.reports.pdf import find_report_font

# Monday 2 November 2026, 10:00 in Shanghai: school year 2026-2027.
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
START = NOW - timedelta(days=20)  # when this year's cases got their tier
LAST_YEAR = datetime(2025, 10, 15, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)

# Yellow cases: hours from the screening to the acknowledgement (deadline 2 h); None: never.
YELLOW_ACK = [1.0, 1.0, 3.0, 0.5, None]


@dataclass(frozen=True)
class World:
    database_url: str
    school_id: uuid.UUID


async def _build(database_url: str) -> uuid.UUID:
    """Write the year of known numbers for DEMO-A (see the module docstring)."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            school = (await db.scalars(select(School).where(School.code == "DEMO-A"))).one()
            counsellor = (
                await db.scalars(select(StaffUser).where(StaffUser.username == "counsellor1"))
            ).one()
            campaign = (
                await db.scalars(select(Campaign).where(Campaign.school_id == school.id))
            ).one()
            students = list(
                (
                    await db.scalars(
                        select(Student)
                        .where(Student.school_id == school.id)
                        .order_by(Student.student_number)
                    )
                ).all()
            )
            assert len(students) == 15
            codes = {
                c.student_id: c
                for c in (
                    await db.scalars(
                        select(AccessCode).where(AccessCode.campaign_id == campaign.id)
                    )
                ).all()
            }
            # Funnel: 15 invited, 1 refused (never started), 1 started only, 13 submitted.
            await db.execute(
                update(Consent)
                .where(Consent.campaign_id == campaign.id, Consent.student_id == students[14].id)
                .values(status="refused")
            )
            tiers = ["red"] + ["orange"] * 2 + ["yellow"] * 5 + ["green"] * 5
            triage_of: dict[uuid.UUID, TriageRecord] = {}
            for i, student in enumerate(students[:14]):
                submitted = i < 13
                session = ScreeningSession(
                    campaign_id=campaign.id,
                    student_id=student.id,
                    access_code_id=codes[student.id].id,
                    token_digest=secrets.token_hex(32),
                    language="zh-CN",
                    status="submitted" if submitted else "started",
                    battery=[],
                    started_at=START - H,
                    submitted_at=START if submitted else None,
                )
                db.add(session)
                await db.flush()
                if submitted:
                    record = TriageRecord(
                        session_id=session.id,
                        student_id=student.id,
                        tier=tiers[i],
                        pathway=None,
                        reasons=[],
                        policy_version="test",
                        evaluated_at=START,
                    )
                    db.add(record)
                    triage_of[student.id] = record
            await db.flush()

            cases: list[Case] = []

            def open_case(student: Student, tier: str, ack_h: float | None, due_h: float) -> Case:
                case = Case(
                    student_id=student.id,
                    school_id=school.id,
                    triage_id=triage_of[student.id].id,
                    tier=tier,
                    pathway=None,
                    status="acknowledged" if ack_h is not None else "open",
                    opened_at=START,
                    acknowledge_by=START + due_h * H,
                    acknowledged_at=START + ack_h * H if ack_h is not None else None,
                    escalation_level=0,
                    ladder=[],
                    next_escalation_at=None,
                    closed_at=None,
                )
                db.add(case)
                cases.append(case)
                return case

            open_case(students[0], "red", 10 / 60, 0.25)
            open_case(students[1], "orange", 1.0, 2.0)
            open_case(students[2], "orange", 1.5, 2.0)
            yellow = [
                open_case(students[3 + n], "yellow", ack, 2.0) for n, ack in enumerate(YELLOW_ACK)
            ]
            await db.flush()

            def task(case: Case, kind: str, due: datetime, done: datetime | None) -> None:
                db.add(
                    CaseTask(
                        case_id=case.id,
                        kind=kind,
                        due_at=due,
                        status="done" if done else "open",
                        completed_at=done,
                        assignee_role="counsellor",
                        escalation_level=0,
                        ladder=[],
                        next_escalation_at=None,
                        data={},
                    )
                )

            # Yellow interviews (10 school days): two done in 24 h and 48 h, three not yet due.
            for n, case in enumerate(yellow):
                if n < 2:
                    task(
                        case, "counsellor_interview", START + 14 * 24 * H, START + 24 * (n + 1) * H
                    )
                else:
                    task(case, "counsellor_interview", NOW + 10 * 24 * H, None)
            # Home visits: one on time, one late, one open past due. Talks: two on time.
            # A plan review not yet due.
            task(yellow[0], "home_visit", START + 5 * 24 * H, START + 4 * 24 * H)
            task(yellow[1], "home_visit", START + 5 * 24 * H, START + 6 * 24 * H)
            task(yellow[2], "home_visit", START + 5 * 24 * H, None)
            task(yellow[0], "talk_start_of_term", START + 3 * 24 * H, START + 24 * H)
            task(yellow[1], "talk_before_midterm", START + 3 * 24 * H, START + 2 * 24 * H)
            task(yellow[3], "plan_review", NOW + 30 * 24 * H, None)
            for case, kind in ((yellow[0], "home_visit"), (yellow[1], "home_visit")):
                db.add(
                    CareRecord(
                        student_id=case.student_id,
                        case_id=case.id,
                        kind=kind,
                        at=START + 4 * 24 * H,
                        staff_id=counsellor.id,
                        summary="家访",
                    )
                )
            db.add(
                CareRecord(
                    student_id=yellow[0].student_id,
                    case_id=yellow[0].id,
                    kind="talk",
                    at=START + 24 * H,
                    staff_id=counsellor.id,
                    summary="谈话",
                )
            )
            db.add(
                CrisisPlan(
                    student_id=yellow[3].student_id,
                    case_id=yellow[3].id,
                    version=1,
                    content={},
                    review_on=date(2026, 12, 1),
                    created_by=counsellor.id,
                    created_at=START + 24 * H,
                )
            )
            # Referrals: one still "sent", five "seen": the 1 is hidden, and so is the 5 that
            # would give it away with the total.
            for n, stage in enumerate(["sent"] + ["seen"] * 5):
                case = cases[n % len(cases)]
                db.add(
                    Referral(
                        case_id=case.id,
                        student_id=case.student_id,
                        hospital="市精神卫生中心",
                        stage=stage,
                        sent_at=START + 24 * H,
                        updated_at=START + 48 * H,
                        feedback=None,
                    )
                )
            # Incidents: filed on time, filed late, not filed and overdue; one last year.
            for recorded, filed in (
                (START, START + 10 * 24 * H),
                (START, START + 16 * 24 * H),
                (START, None),
                (LAST_YEAR, LAST_YEAR + 24 * H),
            ):
                db.add(
                    Incident(
                        school_id=school.id,
                        student_id=None,
                        kind="self_harm",
                        description="…",
                        occurred_at=recorded,
                        recorded_at=recorded,
                        recorded_by=counsellor.id,
                        review_due_at=recorded + 14 * 24 * H,
                        report="…" if filed else None,
                        filed_at=filed,
                        filed_by=counsellor.id if filed else None,
                        escalated_at=None,
                    )
                )
            # Psychology committee: a boy and a girl in one class, one member in another.
            by_class: dict[uuid.UUID, list[Student]] = {}
            for s in students:
                by_class.setdefault(s.class_id, []).append(s)
            first, second = list(by_class.values())[:2]
            first[0].psychology_committee, first[0].gender = True, "male"
            first[1].psychology_committee, first[1].gender = True, "female"
            second[0].psychology_committee = True

            # Last year: a campaign with consent for all, 12 consented, 10 submitted, all green.
            previous = Campaign(
                school_id=school.id,
                name="2025–2026 学年心理健康筛查",
                school_year="2025–2026",
                opens_at=LAST_YEAR - 24 * H,
                closes_at=LAST_YEAR + 30 * 24 * H,
                battery=["phq9"],
                languages=["zh-CN"],
                consent_rule="guardian_all",
            )
            db.add(previous)
            await db.flush()
            for i, student in enumerate(students[:12]):
                db.add(
                    Consent(
                        campaign_id=previous.id,
                        student_id=student.id,
                        status="granted",
                        recorded_by=counsellor.id,
                        recorded_at=LAST_YEAR,
                    )
                )
                if i >= 10:
                    continue
                code = AccessCode(
                    campaign_id=previous.id,
                    student_id=student.id,
                    code_digest=secrets.token_hex(32),
                    expires_at=LAST_YEAR + 30 * 24 * H,
                    used_at=LAST_YEAR,
                )
                db.add(code)
                await db.flush()
                session = ScreeningSession(
                    campaign_id=previous.id,
                    student_id=student.id,
                    access_code_id=code.id,
                    token_digest=secrets.token_hex(32),
                    language="zh-CN",
                    status="submitted",
                    battery=[],
                    started_at=LAST_YEAR,
                    submitted_at=LAST_YEAR,
                )
                db.add(session)
                await db.flush()
                db.add(
                    TriageRecord(
                        session_id=session.id,
                        student_id=student.id,
                        tier="green",
                        pathway=None,
                        reasons=[],
                        policy_version="test",
                        evaluated_at=LAST_YEAR,
                    )
                )
            return school.id
    finally:
        await engine.dispose()


def _pg_admin_url() -> str:
    url = os.environ.get("RUNXIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    parts = urlsplit(url)
    return urlunsplit(("postgres", parts.netloc, "/postgres", parts.query, parts.fragment))


async def _pg(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_url(), timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


class _Worlds:
    """The year of known numbers per engine, built on first use and kept for the module."""

    def __init__(self, request: pytest.FixtureRequest, tmp: pytest.TempPathFactory) -> None:
        self._request, self._tmp = request, tmp
        self._built: dict[str, World] = {}
        self._drop: list[str] = []

    def get(self, engine: str) -> World:
        if engine not in self._built:
            if engine == "sqlite":
                path = self._tmp.mktemp("annual") / "runxin.db"
                shutil.copyfile(self._request.getfixturevalue("sqlite_template"), path)
                database_url = f"sqlite:///{path}"
            else:
                template = self._request.getfixturevalue("pg_template")
                if template is None:
                    pytest.skip("PostgreSQL not reachable")
                name = f"runxin_annual_{uuid.uuid4().hex[:10]}"
                run(_pg(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                self._drop.append(name)
                base = os.environ.get(
                    "RUNXIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
                )
                database_url = base.rsplit("/", 1)[0] + "/" + name
            seed(make_settings(database_url), now=NOW, students=30)
            self._built[engine] = World(database_url, run(_build(database_url)))
        return self._built[engine]

    def close(self) -> None:
        for name in self._drop:
            run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def worlds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_Worlds]:
    built = _Worlds(request, tmp_path_factory)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, worlds: _Worlds) -> World:
    """The figures' SQL runs on both engines."""
    return worlds.get(request.param)


@pytest.fixture(scope="module")
def sqlite_world(worlds: _Worlds) -> World:
    """Rendering, the command line and the route do not depend on the engine."""
    return worlds.get("sqlite")


async def _school_report(database_url: str, year: str | None = None) -> annual.SchoolReport:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            school = await annual.find_school(db, "DEMO-A")
            return await annual.build_school_report(db, school, year=year, now=NOW)
    finally:
        await engine.dispose()


async def _district_report(database_url: str) -> annual.DistrictReport:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            district = await annual.find_district(db, "DEMO")
            return await annual.build_district_report(db, district, year=None, now=NOW)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def school_report(world: World) -> annual.SchoolReport:
    return run(_school_report(world.database_url))


@pytest.fixture(scope="module")
def sqlite_report(sqlite_world: World) -> annual.SchoolReport:
    return run(_school_report(sqlite_world.database_url))


# --- the figures ---------------------------------------------------------------------------------


def test_the_year_defaults_to_the_current_school_year(school_report: annual.SchoolReport) -> None:
    y = school_report.year
    assert (y.label, y.first_day, y.last_day) == ("2026-2027", date(2026, 8, 1), date(2027, 7, 31))
    assert school_report.previous.label == "2025-2026"
    assert annual.school_year_label(datetime(2027, 7, 31, 15, 59, tzinfo=UTC), "Asia/Shanghai") == (
        "2026-2027"
    )
    assert annual.school_year_label(datetime(2027, 7, 31, 16, 0, tzinfo=UTC), "Asia/Shanghai") == (
        "2027-2028"
    )


def test_coverage_funnel_per_school_grade_and_class(school_report: annual.SchoolReport) -> None:
    y = school_report.year
    assert y.funnel == annual.Funnel(invited=15, consented=14, started=14, submitted=13, refused=1)
    assert sum(c.funnel.invited for c in y.classes) == 15 and len(y.classes) == 3
    assert [(g.grade, g.funnel.invited) for g in y.grades] == [(8, 10), (9, 5)]
    # The previous year, beside it: its own campaign (an en dash in its label).
    p = school_report.previous
    assert (p.funnel.invited, p.funnel.consented, p.funnel.submitted) == (15, 12, 10)
    assert p.campaigns == ("2025–2026 学年心理健康筛查",)


def test_tier_counts_hide_small_cells(school_report: annual.SchoolReport) -> None:
    y = school_report.year
    # 1 red and 2 orange are hidden; hiding both protects each (their sum is all one learns).
    assert y.tiers == annual.TierCounts(red=None, orange=None, yellow=5, green=5, total=13)
    assert y.cases == annual.TierCounts(red=None, orange=None, yellow=5, green=0, total=8)
    assert school_report.previous.tiers == annual.TierCounts(
        red=0, orange=0, yellow=0, green=10, total=10
    )


def test_timeliness_against_the_deadlines(school_report: annual.SchoolReport) -> None:
    rows = {(t.tier, t.measure): t for t in school_report.year.timeliness}
    ack = rows["yellow", "acknowledge"]
    met = sorted(h for h in YELLOW_ACK if h is not None)
    assert (ack.due, ack.within, ack.late) == (5, 3, 2)  # 3 h late, and one never acknowledged
    assert ack.share_within == pytest.approx(3 / 5)
    # An independent implementation of the same quantile definition (numpy's "linear").
    assert ack.median_hours == pytest.approx(float(np.median(met)))
    assert ack.p90_hours == pytest.approx(float(np.percentile(met, 90)))
    assess = rows["yellow", "assess"]
    assert (assess.due, assess.within, assess.median_hours) == (2, 2, 36.0)  # 3 not yet due
    assert rows["yellow", "guardian_contact"].due == 0
    # Red (1 case) and orange (2): no statistic of one or two students' care.
    assert not rows["red", "acknowledge"].shown and rows["red", "acknowledge"].median_hours is None
    assert not rows["orange", "assess"].shown
    # Last year had no case: nothing to hide, nothing to show.
    before = school_report.previous.timeliness
    assert all(t.shown and t.due == 0 and t.share_within is None for t in before)


def test_care_duties_referrals_and_incidents(school_report: annual.SchoolReport) -> None:
    y = school_report.year
    duties = {d.kind: d for d in y.duties}
    assert duties["home_visit"] == annual.Duty("home_visit", 3, 2, 1, 1, 2, None)
    assert duties["talk"] == annual.Duty("talk", 2, 2, 2, 0, 1, None)
    assert duties["plan_review"] == annual.Duty("plan_review", 1, 0, 0, 0, None, 1)
    assert y.referrals == annual.Referrals(total=6, sent=None, accepted=0, seen=None, feedback=0)
    assert y.incidents == annual.Incidents(recorded=3, on_time=1, late=1, overdue=1, pending=0)
    assert school_report.previous.incidents.on_time == 1


def test_staffing_checks(school_report: annual.SchoolReport) -> None:
    s = school_report.staffing
    assert (s.enrolment, s.counsellors_full_time, s.counsellors_required, s.ratio_met) == (
        15,
        1,
        1,
        True,
    )
    assert (s.classes, s.committee_members, s.committee_classes_met) == (3, 3, 1)
    assert s.not_recorded  # shown as "not recorded", never estimated


def test_district_report_rows_and_totals(world: World) -> None:
    report = run(_district_report(world.database_url))
    assert [r.school_code for r in report.schools] == ["DEMO-A", "DEMO-B"]
    a, b = report.schools
    assert a.funnel.submitted == 13 and b.funnel == annual.Funnel(15, 15, 0, 0, 0)
    assert report.year.funnel.invited == 30 and report.year.classes == ()
    # District totals are published: school A's hidden red cannot be had from the red column.
    assert a.tiers.red is None and b.tiers.red is None
    assert report.year.tiers.red is None and report.year.tiers.total == 13
    assert a.acknowledged.shown and a.acknowledged.share_within == pytest.approx(6 / 8)
    assert report.staffing.enrolment == 30


def test_a_year_label_is_checked() -> None:
    with pytest.raises(ValueError, match="2026-2027"):
        annual.parse_year("2026-2028")
    assert annual.parse_year("2026–2027") == 2026


# --- the PDF and the HTML -------------------------------------------------------------------------


def test_the_pdf_shows_the_figures_and_page_one_is_not_blank(
    sqlite_report: annual.SchoolReport, tmp_path: Path
) -> None:
    """In Chinese here; the route test reads an English PDF."""
    school_report, lang = sqlite_report, annual_render.lang_of("zh")
    pdf = annual_render.render(school_report, fmt="pdf", lang=lang, font=find_report_font(None))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    squeezed = "".join(text.split())
    assert school_report.school_name.replace(" ", "") in squeezed
    for figure in ("2026-2027", "2025-2026", "86.7%", "60.0%", "1:15.0"):
        assert figure in squeezed, figure
    for words in ("校长签字", "风险分级人数", "按时率", "第1页，共", "系统未记录"):
        assert words in squeezed, words
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=1).to_pil()
    image.save(tmp_path / f"annual-{lang}-page1.png")
    grey = image.convert("L")
    dark = sum(1 for v in grey.getdata() if v < 128)
    assert dark > 0.005 * grey.width * grey.height, "page 1 has text and charts on it"


def test_suppressed_cells_never_appear_as_numbers(
    sqlite_report: annual.SchoolReport, sqlite_world: World
) -> None:
    html = annual_render.school_html(sqlite_report, "en")
    tiers_row = html.split("This year 2026-2027", 2)[2].split("</tr>", 1)[0]
    cells = [c.split("<", 1)[0] for c in tiers_row.split("<td>")[1:]]
    assert cells == ["*", "*", "5", "5", "13"]
    referrals_row = html.split("Feedback received", 1)[1].split("</tr>", 2)[1]
    assert [c.split("<", 1)[0] for c in referrals_row.split("<td>")[1:]] == [
        "2026-2027",
        "6",
        "*",
        "0",
        "*",
        "0",
    ]
    assert "fewer than 5 cases, or not published" in html
    # No student's name is anywhere in the report.
    names = [n for (n,) in sql(sqlite_world.database_url, "SELECT name FROM students")]
    assert names and not [n for n in names if n in html]


# --- the command line --------------------------------------------------------------------------


def test_cli_writes_a_pdf_and_refuses_unknown_schools(sqlite_world: World, tmp_path: Path) -> None:
    world = sqlite_world
    env = {"RUNXIN_DATABASE_URL": world.database_url}
    out = tmp_path / "report.pdf"
    r = runxin_here(
        "report", "--school", "DEMO-A", "--year", "2026-2027", "--format", "pdf", "--lang",
        "zh", "--out", str(out), env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF-") and "wrote" in r.stderr
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: no partial file left
    html = tmp_path / "district.html"
    r = runxin_here(
        "report", "--district", "DEMO", "--format", "html", "--lang", "en", "--out", str(html),
        env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Runxin No. 2 Middle School" in html.read_text(encoding="utf-8")
    for args, message in (
        (("--school", "NOPE"), "no school with code 'NOPE'"),
        (("--school", "DEMO-A", "--year", "2026"), "is not a school year"),
        (("--district", "NOPE"), "no district with code 'NOPE'"),
    ):
        r = runxin_here("report", *args, "--out", str(tmp_path / "x.pdf"), env=env)
        assert r.returncode == 1
        assert r.stderr.strip().count("\n") == 0 and message in r.stderr, r.stderr
    assert not (tmp_path / "x.pdf").exists()
    audited = sql(
        world.database_url,
        "SELECT actor_role, subject_type FROM audit_log WHERE action = 'report.download'",
    )
    assert ("cli", "school") in audited and ("cli", "district") in audited


# --- the dashboards' download ------------------------------------------------------------------


def test_route_serves_the_report_to_the_school_and_refuses_other_roles(
    sqlite_world: World,
) -> None:
    """The access matrix reads both routes on PostgreSQL too (test_access_matrix.py)."""
    world = sqlite_world
    settings = make_settings(world.database_url)
    with app_client(create_app(settings, clock=ManualClock(NOW))) as http:
        assert staff_login(http, "lead1").status_code in (200, 303)
        page = http.get("/staff/school")
        assert "/staff/reports/school?format=pdf" in page.text
        r = http.get("/staff/reports/school", params={"format": "pdf", "lang": "en"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert "annual-report-DEMO-A-2026-2027.pdf" in r.headers["content-disposition"]
        reader = pypdf.PdfReader(io.BytesIO(r.content))
        text = "".join("".join(p.extract_text() for p in reader.pages).split())
        for words in (
            "Annualmental-healthscreeningreport",
            "Principal'ssignature",
            "Withindeadline",
            "Page1of",
            "notrecorded",
            "86.7%",
            "60.0%",
        ):
            assert words in text, words
        r = http.get("/staff/reports/school", params={"format": "html", "year": "2025–2026"})
        assert r.status_code == 200 and "学年：2025-2026" in r.text
        r = http.get("/staff/reports/school", params={"format": "html", "year": "2019-2020"})
        assert r.status_code == 200 and "2019-2020" in r.text  # a year without data: zeros
        for bad in ({"year": "next"}, {"format": "doc"}):
            r = http.get("/staff/reports/school", params=bad)
            assert r.status_code == 422, (bad, r.status_code)
        assert http.get("/staff/reports/district").status_code == 403
        downloads = sql(
            world.database_url,
            "SELECT actor_role, subject_type, detail FROM audit_log "
            "WHERE action = 'report.download' AND actor_role = 'school_lead'",
        )
        details = sorted(
            (d if isinstance(d, dict) else json.loads(d))["format"] for _, _, d in downloads
        )
        assert details == ["html", "html", "pdf"] and {t for _, t, _ in downloads} == {"school"}
        with another_client(http) as head:
            assert staff_login(head, "headteacher1").status_code in (200, 303)
            assert head.get("/staff/reports/school").status_code == 403
        with another_client(http) as officer:
            assert staff_login(officer, "district1").status_code in (200, 303)
            assert "/staff/reports/district?format=pdf" in officer.get("/staff/district").text
            r = officer.get("/staff/reports/district", params={"format": "html", "lang": "zh-CN"})
            assert r.status_code == 200 and "区域学生心理健康筛查年度报告" in r.text
            assert "八年级1班" not in r.text  # no class in the district's report
            assert officer.get("/staff/reports/school").status_code == 403
