"""A roster apply never drops a student silently (issue 19).

A 6-student file over the 36-student demo school: the preview lists the 30 missing students
with their open cases; an apply without the preview's confirmation marks nobody as left; a
confirmation for another set is refused with nothing written; the right one marks exactly
those 30, and their open cases stay open with the school's counsellors.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from svc_support import app_client, make_settings, roster_csv, run, seed

from survey_service import cli
from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import (
    AuditEntry,
    Case,
    School,
    SchoolClass,
    Student,
    create_engine,
    create_session_factory,
)

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SECRET = "test-secret-key-0123456789"  # make_settings' key


def _school_a(database_url: str) -> dict[str, Any]:
    """DEMO-A's students (number -> id, status, row data) and every case of the school."""

    async def go() -> dict[str, Any]:
        engine = create_engine(database_url)
        try:
            async with create_session_factory(engine)() as db:
                school = await db.scalar(select(School).where(School.code == "DEMO-A"))
                assert school is not None
                rows = (
                    await db.execute(
                        select(Student, SchoolClass)
                        .join(SchoolClass, SchoolClass.id == Student.class_id)
                        .where(Student.school_id == school.id)
                        .order_by(Student.student_number)
                    )
                ).all()
                cases = (await db.scalars(select(Case).where(Case.school_id == school.id))).all()
                audit = (
                    await db.scalars(
                        select(AuditEntry).where(AuditEntry.action == "roster.leavers_cases")
                    )
                ).all()
                return {
                    "students": {
                        s.student_number: {
                            "id": s.id,
                            "status": s.status,
                            "row": [
                                s.student_number,
                                s.name,
                                "男" if s.gender == "male" else "女",
                                str(k.grade),
                                k.name,
                            ],
                        }
                        for s, k in rows
                    },
                    "cases": {
                        c.id: (c.student_id, c.status, c.school_id == school.id) for c in cases
                    },
                    "audited": [set(a.subject_ids) for a in audit],
                }
        finally:
            await engine.dispose()

    return run(go())


def _cli(capsys: pytest.CaptureFixture[str], database_url: str, *args: str) -> tuple[int, str]:
    options = ["--school", "DEMO-A", "--database-url", database_url, "--secret-key", SECRET]
    code = cli.main(["roster", "import", *args, *options])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_missing_students_are_listed_and_marked_left_only_when_confirmed(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=72)  # 36 students at each demo school
    before = _school_a(database_url)
    numbers = sorted(before["students"])
    assert len(numbers) == 36
    kept, missing = numbers[:6], numbers[6:]
    with_case = missing[:21]

    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=30) as http:

        def auth(user: str) -> dict[str, str]:
            r = http.post("/api/v1/auth/login", json={"username": user, "password": "pw-test-123"})
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        counsellor, lead = auth("counsellor1"), auth("lead1")
        opened: dict[str, tuple[str, str, str]] = {}  # number -> (case id, tier, status)
        for number in with_case:
            r = http.post(
                "/api/v1/observations",
                headers=counsellor,
                json={
                    "student_id": str(before["students"][number]["id"]),
                    "kind": "withdrawn",
                    "severity": "serious",
                },
            )
            assert r.status_code == 201, r.text
            case = http.get(f"/api/v1/cases/{r.json()['case_id']}", headers=counsellor).json()
            opened[number] = (r.json()["case_id"], case["case"]["tier"], case["case"]["status"])

        six = roster_csv([before["students"][n]["row"] for n in kept])
        seven = roster_csv([before["students"][n]["row"] for n in kept + missing[:1]])

        def upload(body: bytes, **params: str) -> httpx.Response:
            return http.post(
                "/api/v1/schools/DEMO-A/roster",
                headers=lead,
                params=params,
                files={"data": ("roster.csv", body, "text/csv")},
            )

        # The preview lists the 30 with their open cases (id, tier, status) and a token.
        preview = upload(six)
        assert preview.status_code == 200, preview.text
        report = preview.json()
        assert report["counts"]["mark_left"] == 30 and report["leavers_unconfirmed"] == 30
        leavers = {r["student_number"]: r for r in report["leavers"]}
        assert sorted(leavers) == missing
        assert {r["reason"] for r in leavers.values()} == {"not_in_file"}
        assert not any(r["marked"] for r in leavers.values())
        for number, r in leavers.items():
            assert r["student_id"] == str(before["students"][number]["id"])
            expected = [opened[number]] if number in opened else []
            assert [(c["case_id"], c["tier"], c["status"]) for c in r["open_cases"]] == expected
            assert r["open_case_count"] == len(expected)
        token = report["confirm_leavers"]
        assert token.startswith("30-")

        # An apply without the confirmation imports the rest and marks nobody as left.
        applied = upload(six, apply="true")
        assert applied.status_code == 200, applied.text
        assert applied.json()["applied"] is True
        assert applied.json()["counts"]["mark_left"] == 0
        assert applied.json()["leavers_unconfirmed"] == 30
        assert applied.json()["confirm_leavers"] == token
        assert {s["status"] for s in _school_a(database_url)["students"].values()} == {"active"}

        # A confirmation for another set (a stale preview, or a forged one of the same size)
        # is refused and writes nothing.
        token_29 = upload(seven).json()["confirm_leavers"]
        assert token_29.startswith("29-") and token_29 != token
        for stale, body in ((token_29, six), (token, seven), ("30-0123456789abcdef", six)):
            refused = upload(body, apply="true", confirm_leavers=stale)
            assert refused.status_code == 409, refused.text
            assert refused.json()["type"].endswith("leavers_changed")
        assert {s["status"] for s in _school_a(database_url)["students"].values()} == {"active"}

    # The CLI prints the list with the cases and the token; a stale token fails (exit 1).
    path = tmp_path / "six.csv"
    path.write_bytes(six)
    code, out = _cli(capsys, database_url, str(path))
    assert code == 0, out
    listed = [line for line in out.splitlines() if line.startswith("  leaving: ")]
    assert len(listed) == 30 and all("not in the file" in line for line in listed)
    number = with_case[0]
    assert any(number in line and opened[number][0] in line for line in listed)
    assert f"--confirm-leavers {token}" in out
    code, out = _cli(capsys, database_url, str(path), "--apply", "--confirm-leavers", token_29)
    assert code == 1 and "preview again" in out, out
    code, out = _cli(capsys, database_url, str(path), "--apply", "--confirm-leavers", token)
    assert code == 0, out
    assert "30 marked as left" in out and "were not marked" not in out

    # Exactly the 30 are marked as left; their 21 open cases stay open with the school.
    after = _school_a(database_url)
    assert {n for n, s in after["students"].items() if s["status"] == "left"} == set(missing)
    assert {n for n, s in after["students"].items() if s["status"] == "active"} == set(kept)
    assert after["cases"] == before["cases"] | {
        uuid.UUID(case_id): (before["students"][n]["id"], status, True)
        for n, (case_id, _tier, status) in opened.items()
    }
    case_ids = {c for c, _t, _s in opened.values()}
    assert any(case_ids <= audited for audited in after["audited"])  # the case read is audited
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=30) as http:
        r = http.post(
            "/api/v1/auth/login", json={"username": "counsellor1", "password": "pw-test-123"}
        )
        queue = http.get(
            "/api/v1/cases", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert queue.status_code == 200, queue.text
        assert case_ids <= {i["case_id"] for i in queue.json()["items"]}
