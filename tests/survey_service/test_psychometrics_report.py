"""``runxin psychometrics report`` (issue 16): reliability, item analysis and DIF by gender of
a seeded campaign, read from a real database (SQLite and PostgreSQL: the read is one join).

The campaign has 300 students (150 boys, 150 girls) who answered GAD-7 (ordered items, item3
planted 0.9 logit higher for girls) and the ASQ (binary), 10 students (2 girls) who also
answered WHO-5 (DIF suppressed: a group below k = 5) and 4 who answered PHQ-2 (the whole
instrument suppressed).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from svc_support import run, runxin_here

from instruments import default_catalogue
from scoring import reliability
from survey_service.campaigns import psychometrics
from survey_service.db import (
    AccessCode,
    AuditEntry,
    Campaign,
    District,
    Response,
    School,
    SchoolClass,
    ScreeningSession,
    Student,
    create_engine,
    create_session_factory,
)

NOW = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
N = 300
SKIPPED_GAD_ITEM5 = (7, 9, 11, 13, 15)  # five girls skipped GAD-7 item5


def _answers(seed: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(girl?, GAD-7 answers 0..3, ASQ answers 0/1), seeded."""
    rng = np.random.default_rng(seed)
    girl = np.arange(N) % 2 == 1
    theta = rng.normal(size=N)
    shift = np.zeros((N, 7))
    shift[girl, 2] = 0.9
    latent = 1.7 * (theta[:, None] + shift) + rng.logistic(size=(N, 7))
    gad = (latent[:, :, None] > np.array([-1.0, 0.8, 2.4])[None, None, :]).sum(axis=2)
    asq = (1.5 * theta[:, None] + rng.logistic(size=(N, 5)) > 1.0).astype(int)
    return girl, gad, asq


async def _seed(url: str) -> dict[str, Any]:
    girl, gad, asq = _answers()
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            district = District(id=uuid.uuid4(), code="PSY", name="Psychometrics district")
            school = School(id=uuid.uuid4(), district_id=district.id, code="PSY-1", name="S")
            klass = SchoolClass(id=uuid.uuid4(), school_id=school.id, grade=8, name="8-1")
            campaign = Campaign(
                id=uuid.uuid4(),
                school_id=school.id,
                name="Autumn screening",
                school_year="2026-2027",
                opens_at=NOW - timedelta(days=10),
                closes_at=NOW + timedelta(days=10),
                battery=["gad7", "asq"],
                languages=["zh-CN"],
            )
            db.add(district)
            await db.flush()
            db.add(school)
            await db.flush()
            db.add_all([klass, campaign])
            await db.flush()
            rows: list[Any] = []
            student_ids = []
            for n in range(N):
                student = Student(
                    id=uuid.uuid4(),
                    school_id=school.id,
                    class_id=klass.id,
                    student_number=f"P{n:04d}",
                    name=f"Student {n}",
                    gender="female" if girl[n] else "male",
                )
                student_ids.append(student.id)
                code = AccessCode(
                    id=uuid.uuid4(),
                    campaign_id=campaign.id,
                    student_id=student.id,
                    code_digest=f"psy{n:061d}",
                    expires_at=NOW,
                )
                session = ScreeningSession(
                    id=uuid.uuid4(),
                    campaign_id=campaign.id,
                    student_id=student.id,
                    access_code_id=code.id,
                    token_digest=f"{n:064d}",
                    language="zh-CN",
                    status="submitted",
                    battery=[],
                    started_at=NOW,
                    submitted_at=NOW,
                )
                answers = {
                    "gad7": {f"item{j + 1}": int(gad[n, j]) for j in range(7)},
                    "asq": {f"q{j + 1}": int(asq[n, j]) for j in range(5)},
                }
                if n in SKIPPED_GAD_ITEM5:
                    answers["gad7"]["item5"] = None
                answers["asq"]["q5"] = int(n in (0, 2, 4))  # 3 "yes": a small cell
                if n == 20:
                    del answers["asq"]["q1"]  # 1 incomplete ASQ: a small cell
                if n < 10:  # odd n are girls: 1, 3, 5, 7, 9 (1, 3, 5 recorded as boys below)
                    answers["who5"] = {f"item{j + 1}": (n + j) % 6 for j in range(5)}
                if n < 4:
                    answers["phq2"] = {"item1": n % 4, "item2": (n + 1) % 4}
                rows += [student, code, session]
                rows += [
                    Response(
                        id=uuid.uuid4(),
                        session_id=session.id,
                        student_id=student.id,
                        instrument_id=iid,
                        instrument_version="1.0.0",
                        answers=a,
                        submitted_at=NOW,
                    )
                    for iid, a in answers.items()
                ]
            for kind in (Student, AccessCode, ScreeningSession, Response):
                db.add_all([r for r in rows if isinstance(r, kind)])
                await db.flush()
            # WHO-5: 3 of its 5 girls recorded as boys, so that only 2 girls answered it (and
            # GAD-7's complete sets: 153 boys, 142 girls, the five skipped answers aside)
            for n in (1, 3, 5):
                (await db.get(Student, student_ids[n])).gender = "male"  # type: ignore[union-attr]
            return {"campaign": campaign.id, "students": student_ids, "girl": girl, "gad": gad}
    finally:
        await engine.dispose()


async def _report(url: str, campaign_id: uuid.UUID) -> psychometrics.PsychometricReport:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            return await psychometrics.campaign_report(
                db, default_catalogue(), campaign_id, now=NOW
            )
    finally:
        await engine.dispose()


async def _audit_rows(url: str) -> list[AuditEntry]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db:
            stmt = select(AuditEntry).where(AuditEntry.action == "psychometrics.read")
            return list((await db.scalars(stmt)).all())
    finally:
        await engine.dispose()


def test_campaign_report_and_cli(database_url: str) -> None:
    seeded = run(_seed(database_url))
    campaign_id = seeded["campaign"]
    report = run(_report(database_url, campaign_id))
    by_id = {r.instrument_id: r for r in report.instruments}
    assert sorted(by_id) == ["asq", "gad7", "phq2", "who5"]

    gad = by_id["gad7"]
    assert (gad.status, gad.n, gad.n_complete) == ("done", N, N - 5)
    x = seeded["gad"].astype(float)
    x[list(SKIPPED_GAD_ITEM5), 4] = np.nan
    expected = reliability.item_analysis(x, low=0, high=3)
    assert gad.alpha == pytest.approx(expected.alpha.alpha, abs=1e-12)
    assert gad.alpha_ci == pytest.approx((expected.alpha.ci_low, expected.alpha.ci_high))
    assert gad.omega == pytest.approx(expected.omega.omega if expected.omega else None)
    assert 0.5 < gad.alpha < 0.95 and gad.omega is not None
    assert [i.item for i in gad.items] == [f"item{j}" for j in range(1, 8)]
    assert gad.items[4].missing == pytest.approx(5 / N)
    assert gad.items[0].missing == 0.0
    assert gad.items[0].ceiling == pytest.approx(expected.items[0].ceiling)
    assert gad.dif is not None and gad.dif.status == "done"
    assert (gad.dif.n_reference, gad.dif.n_focal) == (153, 142)  # see _seed
    cats = {row.item: row for row in gad.dif.items}
    assert cats["item3"].category == "CC" and cats["item3"].effect > 0
    assert all(row.method == "mantel" for row in gad.dif.items)
    assert max(gad.dif.items, key=lambda r: abs(r.effect_size)).item == "item3"

    asq = by_id["asq"]
    assert asq.status == "done" and asq.dif is not None and asq.dif.status == "done"
    assert all(row.method == "mantel_haenszel" for row in asq.dif.items)
    assert {row.category for row in asq.dif.items} <= {"A", "B", "C"}
    # 1 incomplete answer set: n_complete (and so the DIF group counts) would reveal it
    assert asq.n == N and asq.n_complete is None
    assert (asq.dif.n_reference, asq.dif.n_focal) == (None, None)
    q1, q5 = asq.items[0], asq.items[4]
    assert q1.missing is None and q1.mean is not None
    # 3 "yes" to q5: its ceiling is a small cell, and for a yes/no item the mean is that rate
    assert (q5.floor, q5.ceiling, q5.mean, q5.sd) == (None, None, None, None)
    assert q5.r_drop is not None

    who5 = by_id["who5"]
    assert who5.status == "done" and who5.n == 10
    assert who5.dif is not None and who5.dif.status == "suppressed"
    assert (who5.dif.n_reference, who5.dif.n_focal, who5.dif.items) == (None, None, ())

    phq2 = by_id["phq2"]
    assert (phq2.status, phq2.n, phq2.alpha, phq2.items) == ("suppressed", None, None, ())

    # the command line: JSON and text, audited, no student identity in the output
    done = runxin_here(
        "psychometrics", "report", "--campaign", str(campaign_id), "--database-url", database_url
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["campaign_id"] == str(campaign_id)
    gad_json = next(i for i in document["instruments"] if i["instrument_id"] == "gad7")
    assert gad_json["alpha"] == pytest.approx(gad.alpha)
    for sid in seeded["students"]:
        assert str(sid) not in done.stdout
    assert "Student " not in done.stdout and "P0001" not in done.stdout
    text = runxin_here(
        "psychometrics", "report", "--campaign", str(campaign_id), "--format", "text",
        "--database-url", database_url,
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "Cronbach α" in text.stdout and "心理测量报告" in text.stdout
    assert f"{gad.alpha:.3f}" in text.stdout
    assert "phq2" in text.stdout and "少于 5 人" in text.stdout
    audits = run(_audit_rows(database_url))
    assert len(audits) == 3  # the service call and the two command lines
    assert {a.actor_role for a in audits} == {"cli"}
    assert all(a.subject_type == "campaign" for a in audits)
    assert all(a.subject_ids == [str(campaign_id)] for a in audits)


@pytest.mark.sqlite_only
def test_cli_errors_are_one_line(database_url: str) -> None:
    bad = runxin_here(
        "psychometrics", "report", "--campaign", "nope", "--database-url", database_url
    )
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "runxin: --campaign: 'nope' is not a campaign id (a UUID)"
    ]
    missing = str(uuid.uuid4())
    gone = runxin_here(
        "psychometrics", "report", "--campaign", missing, "--database-url", database_url
    )
    assert gone.returncode == 1
    assert gone.stderr.strip().splitlines()[-1] == f"runxin: no campaign with id {missing}"


def test_reverse_keyed_items_are_reversed() -> None:
    ces = default_catalogue()["ces-dc"]
    reverse = ces.scoring.reverse_items
    assert reverse
    item = ces.item(reverse[0])
    j = ces.scoring.scored_items.index(reverse[0])
    x = psychometrics.answer_matrix(ces, [{reverse[0]: item.min_value}, {reverse[0]: "x"}])
    assert x[0, j] == item.max_value
    assert np.isnan(x[1, j]) and np.isnan(x[0, j - 1 if j else j + 1])


def test_help_shows_an_example() -> None:
    r = runxin_here("psychometrics", "report", "--help")
    assert r.returncode == 0, r.stderr
    assert "example" in r.stdout and "runxin psychometrics report --campaign" in r.stdout
    assert "--format {json,text}" in r.stdout
