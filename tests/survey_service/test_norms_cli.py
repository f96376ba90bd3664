"""``runxin norms build|show|load|use`` on SQLite and PostgreSQL: norms built from a seeded
campaign, shown, written out and loaded back as a published table, and a campaign's results
read against a chosen version in the student's file (display only)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import norm, percentileofscore
from sqlalchemy import select
from svc_support import run, runxin_here

from survey_service.cases.student_file import student_file
from survey_service.db import (
    AccessCode,
    AuditEntry,
    Campaign,
    District,
    NormTableRecord,
    Response,
    School,
    SchoolClass,
    Score,
    ScreeningSession,
    StaffUser,
    Student,
    create_engine,
    create_session_factory,
)

NOW = datetime(2026, 9, 20, 8, 0, tzinfo=UTC)
# (grade, gender, PHQ-9 totals): grades 7-9: 12 boys, 12 girls; grade 10: 3 girls, 2 boys
# (merged into grades 7-9 with --min-cell 10; with --min-cell 15 the 14 boys are left out).
COHORT: list[tuple[int, str, list[int]]] = [
    (7, "male", [0, 1, 1, 2, 3, 3]),
    (8, "male", [2, 4, 5, 5, 8, 12]),
    (7, "female", [1, 2, 2, 3, 4, 6]),
    (9, "female", [3, 5, 6, 7, 9, 15]),
    (10, "female", [10, 4, 20]),
    (10, "male", [6, 7]),
]


async def _seed(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            district = District(code="NORM", name="Norm district")
            db.add(district)
            await db.flush()
            school = School(district_id=district.id, code="NORM-1", name="Norm school")
            db.add(school)
            await db.flush()
            campaign = Campaign(
                school_id=school.id,
                name="Autumn",
                school_year="2026-2027",
                opens_at=NOW - timedelta(days=10),
                closes_at=NOW + timedelta(days=10),
                battery=["phq9"],
                languages=["zh-CN"],
            )
            counsellor = StaffUser(
                username="norm.counsellor",
                password_hash="x",
                role="counsellor",
                display_name="C",
                district_id=district.id,
                school_id=school.id,
            )
            db.add_all([campaign, counsellor])
            classes: dict[int, SchoolClass] = {}
            for grade in sorted({g for g, _, _ in COHORT}):
                classes[grade] = SchoolClass(school_id=school.id, grade=grade, name=f"{grade}-1")
                db.add(classes[grade])
            await db.flush()
            students: list[tuple[uuid.UUID, int, str, int]] = []
            n = 0
            for grade, gender, totals in COHORT:
                for total in totals:
                    n += 1
                    student = Student(
                        school_id=school.id,
                        class_id=classes[grade].id,
                        student_number=f"S{n:03d}",
                        name=f"Student {n}",
                        gender=gender,
                    )
                    db.add(student)
                    await db.flush()
                    code = AccessCode(
                        campaign_id=campaign.id,
                        student_id=student.id,
                        code_digest=f"{n:064d}",
                        expires_at=NOW + timedelta(days=10),
                    )
                    db.add(code)
                    await db.flush()
                    session = ScreeningSession(
                        campaign_id=campaign.id,
                        student_id=student.id,
                        access_code_id=code.id,
                        token_digest=f"{n:064d}",
                        language="zh-CN",
                        status="submitted",
                        battery=[{"instrument_id": "phq9", "version": "1"}],
                        started_at=NOW,
                        submitted_at=NOW,
                    )
                    db.add(session)
                    await db.flush()
                    response = Response(
                        session_id=session.id,
                        student_id=student.id,
                        instrument_id="phq9",
                        instrument_version="1",
                        answers={},
                        submitted_at=NOW,
                    )
                    db.add(response)
                    await db.flush()
                    db.add(
                        Score(
                            response_id=response.id,
                            session_id=session.id,
                            student_id=student.id,
                            instrument_id="phq9",
                            instrument_version="1",
                            status="scored",
                            total=float(total),
                            band="minimal" if total < 5 else "mild",
                            prorated=False,
                            positive=total >= 10,
                            subscales=[],
                            flags=[],
                            scored_at=NOW,
                        )
                    )
                    students.append((student.id, grade, gender, total))
            return {
                "campaign": str(campaign.id),
                "counsellor": counsellor.id,
                "students": students,
            }
    finally:
        await engine.dispose()


async def _db_call(url: str, fn: Any) -> Any:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            return await fn(db)
    finally:
        await engine.dispose()


def test_build_show_load_and_use(database_url: str, tmp_path: Path) -> None:
    env = {"RUNXIN_DATABASE_URL": database_url}
    seeded = run(_seed(database_url))
    campaign = seeded["campaign"]

    r = runxin_here(
        "norms", "build", "--campaign", campaign, "--instrument", "phq9", "--min-cell", "10",
        env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "phq9.total version 1" in r.stdout
    # Grade 10 (3 girls, 2 boys) is below 10 in both genders: merged into grades 7-9.
    assert "female 7-12 (n=15" in r.stdout and "male 7-12 (n=14" in r.stdout
    assert "read 29 results" in r.stderr and "merged" in r.stderr

    records = run(_db_call(database_url, lambda db: _all(db, NormTableRecord)))
    assert [(t.instrument_id, t.scale, t.version, t.n) for t in records] == [
        ("phq9", "total", "1", 29)
    ]
    document = records[0].document
    # The girls' group against scipy's mean-kind percentile rank and McCall's T.
    girls = next(g for g in document["groups"] if g["gender"] == "female")
    sample = [t for g, gd, t in _flat() if gd == "female"]
    for row in girls["rows"]:
        pr = percentileofscore(sample, row["raw"], kind="mean")
        assert row["percentile"] == pytest.approx(pr, abs=1e-4)
        assert row["t"] == pytest.approx(50 + 10 * norm.ppf(pr / 100), abs=1e-4)
    assert [row["raw"] for row in girls["rows"]] == list(range(1, 21))
    # No student-level data in the stored table.
    text = json.dumps(document)
    for student_id, *_ in seeded["students"]:
        assert str(student_id) not in text
    assert "Student " not in text and "S001" not in text
    # The read of the students' scores is audited (the campaign, counts only).
    audits = run(_db_call(database_url, lambda db: _all(db, AuditEntry)))
    built = [a for a in audits if a.action == "norms.build"]
    assert len(built) == 1 and built[0].subject_ids == [campaign]
    assert built[0].detail["results"] == 29

    shown = runxin_here("norms", "show", "--instrument", "phq9", env=env)
    assert shown.returncode == 0 and "phq9.total version 1" in shown.stdout
    as_json = runxin_here("norms", "show", "--version", "1", "--json", env=env)
    docs = json.loads(as_json.stdout)
    assert len(docs) == 1 and docs[0]["format"] == "runxin-norms/1"

    published = dict(docs[0], version="pub-2026", source="published: test table")
    path = tmp_path / "published.json"
    path.write_text(json.dumps(published), encoding="utf-8")
    loaded = runxin_here("norms", "load", str(path), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "version pub-2026" in loaded.stdout
    again = runxin_here("norms", "load", str(path), env=env)
    assert again.returncode == 1 and "already exist" in again.stderr

    # Before a choice, the file shows no norms; after `use`, T and PR of the chosen version.
    sid = next(s[0] for s in seeded["students"] if s[3] == 9)  # a girl of grade 9
    assert _file_results(database_url, seeded["counsellor"], sid)[0].get("norms") is None
    used = runxin_here(
        "norms", "use", "--campaign", campaign, "--instrument", "phq9", "--version", "pub-2026",
        env=env,
    )  # fmt: skip
    assert used.returncode == 0, used.stderr
    result = _file_results(database_url, seeded["counsellor"], sid)[0]
    (entry,) = result["norms"]
    pr = percentileofscore(sample, 9, kind="mean")
    assert entry["version"] == "pub-2026" and entry["scale"] == "total"
    assert entry["percentile"] == round(pr, 1) and entry["clamped"] is False
    assert entry["t"] == round(50 + 10 * norm.ppf(pr / 100), 1)
    # Display only: the stored band and the score are what they were.
    assert result["band"] == "mild" and result["total"] == 9
    # ... and the file's timeline shows them, in both languages.
    html = _file_html(database_url, seeded["counsellor"], sid)
    assert f"Norms (total): T {entry['t']}, percentile rank {entry['percentile']}" in html["en"]
    assert f"常模（total）：T 分 {entry['t']}，百分等级 {entry['percentile']}" in html["zh-CN"]


def _flat() -> list[tuple[int, str, int]]:
    return [(g, gd, t) for g, gd, totals in COHORT for t in totals]


async def _all(db: Any, model: Any) -> list[Any]:
    return list((await db.scalars(select(model))).all())


def _file_results(url: str, counsellor_id: uuid.UUID, student_id: uuid.UUID) -> Any:
    async def go(db: Any) -> Any:
        user = await db.get_one(StaffUser, counsellor_id)
        found = await student_file(db, user, student_id, now=NOW)
        (screening,) = [e for e in found.entries if e.kind == "screening"]
        return screening.summary["results"]

    return run(_db_call(url, go))


def _file_html(url: str, counsellor_id: uuid.UUID, student_id: uuid.UUID) -> dict[str, str]:
    from survey_service.reports import student_file as printed

    async def go(db: Any) -> dict[str, str]:
        user = await db.get_one(StaffUser, counsellor_id)
        font = printed.report_font(None)
        out = {}
        for lang in ("en", "zh-CN"):
            page = await printed.printable_file(
                db, user, student_id, purpose=printed.PURPOSES[0], lang=lang, now=NOW
            )
            out[lang] = printed.render_file_html(page, lang, font)
        return out

    return run(_db_call(url, go))


@pytest.mark.sqlite_only
def test_norms_errors_are_one_line(database_url: str, tmp_path: Path) -> None:
    env = {"RUNXIN_DATABASE_URL": database_url}
    seeded = run(_seed(database_url))
    cases: list[tuple[tuple[str, ...], str]] = [
        (("norms", "build", "--campaign", "nope"), "not a campaign id"),
        (("norms", "build", "--campaign", str(uuid.uuid4())), "No campaign"),
        (("norms", "build", "--campaign", seeded["campaign"], "--instrument", "zzz"), "zzz"),
        (
            ("norms", "build", "--campaign", seeded["campaign"], "--min-cell", "500"),
            "no norm table could be built",
        ),
        (("norms", "load", str(tmp_path / "missing.json")), "no such file"),
        (("norms", "use", "--campaign", seeded["campaign"], "--instrument", "phq9",
          "--version", "9"), "no norms of phq9"),
    ]  # fmt: skip
    for args, needle in cases:
        r = runxin_here(*args, env=env)
        assert r.returncode == 1, (args, r.stderr)
        # progress lines may come first; the error is one line, the last
        errors = [line for line in r.stderr.splitlines() if line.startswith("runxin: ")]
        assert len(errors) == 1 and needle in errors[0], r.stderr
        assert r.stderr.strip().splitlines()[-1] == errors[0]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "runxin-norms/1"}', encoding="utf-8")
    r = runxin_here("norms", "load", str(bad), env=env)
    assert r.returncode == 1 and "not a valid norm document" in r.stderr
    group = {"grades": [7, 9], "gender": "male", "n": 60, "rows": [
        {"raw": 26, "percentile": 90.0, "t": 62.8}, {"raw": 27, "percentile": 95.0, "t": 66.4},
        {"raw": 28, "percentile": 99.0, "t": 73.3}]}  # fmt: skip
    doc = {
        "format": "runxin-norms/1", "instrument_id": "phq9", "scale": "total", "version": "p",
        "source": "published: x", "created_at": "2026-09-01T00:00:00+00:00", "min_cell": 50,
        "step": 1, "groups": [group],
    }  # fmt: skip
    for changes, needle in [
        ({}, "outside the scale's range [0, 27]"),
        ({"scale": "somatic"}, "phq9 has no scale 'somatic'"),
        ({"instrument_id": "nope"}, "unknown instrument 'nope'"),
    ]:
        bad.write_text(json.dumps({**doc, **changes}), encoding="utf-8")
        r = runxin_here("norms", "load", str(bad), env=env)
        assert r.returncode == 1 and needle in r.stderr, r.stderr
    assert runxin_here("norms", "build", "--campaign", "x", "--min-cell", "0").returncode == 2
    # The boys' cells (12 in grades 7-9, 2 in grade 10) are merged; with --min-cell 15 the
    # boys (14 in all) are left out and the girls (15) kept.
    r = runxin_here("norms", "build", "--campaign", seeded["campaign"], "--min-cell", "15", env=env)
    assert r.returncode == 0, r.stderr
    assert "female 7-12 (n=15" in r.stdout and "; male" not in r.stdout
    assert "male grades 7-12 (n=14) left out" in r.stderr
