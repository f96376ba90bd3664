"""Incremental roster upload: add and update only, beside the full replace (issue 13).

Over the 36-student demo school, a file with 3 new students and 1 corrected name: in
``incremental`` mode it adds 3, updates 1 and lists no leavers (nothing to confirm), and
everyone else stays active; the same file in ``replace`` mode still lists the missing
students as leavers. An unknown mode is a 422 naming the allowed ones, with nothing written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from svc_support import app_client, make_settings, roster_csv, run, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import School, SchoolClass, Student, create_engine, create_session_factory

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def _students(database_url: str) -> dict[str, dict[str, Any]]:
    """DEMO-A's students: number -> name, status and roster row."""

    async def go() -> dict[str, dict[str, Any]]:
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
                    )
                ).all()
                return {
                    s.student_number: {
                        "name": s.name,
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
                }
        finally:
            await engine.dispose()

    return run(go())


def test_incremental_adds_and_updates_without_leavers(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=72)  # 36 students at each demo school
    before = _students(database_url)
    numbers = sorted(before)
    assert len(numbers) == 36
    changed = numbers[0]
    template = before[changed]["row"]
    new = [f"N{9000 + i}" for i in range(3)]
    rows = [[changed, "改名同学", *template[2:]]]
    rows += [[n, f"新同学{i}", "女", *template[3:]] for i, n in enumerate(new)]
    body = roster_csv(rows)

    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=30) as http:
        r = http.post("/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"})
        lead = {"Authorization": f"Bearer {r.json()['access_token']}"}

        def upload(**params: str) -> httpx.Response:
            return http.post(
                "/api/v1/schools/DEMO-A/roster",
                headers=lead,
                params=params,
                files={"data": ("roster.csv", body, "text/csv")},
            )

        # An unknown mode: 422 naming the allowed modes, nothing written.
        bad = upload(apply="true", mode="merge")
        assert bad.status_code == 422, bad.text
        assert bad.json()["type"].endswith("invalid_mode")
        assert "replace" in bad.text and "incremental" in bad.text
        assert _students(database_url) == before

        # Replace (the default) treats the file as the whole roster: 35 leavers to confirm.
        for params in ({}, {"mode": "replace"}):
            replace = upload(**params)
            assert replace.status_code == 200, replace.text
            report = replace.json()
            assert report["mode"] == "replace"
            assert report["counts"]["create"] == 3 and report["counts"]["update"] == 1
            assert report["counts"]["mark_left"] == 35
            assert sorted(r["student_number"] for r in report["leavers"]) == numbers[1:]
            assert report["confirm_leavers"].startswith("35-")
            assert report["leavers_unconfirmed"] == 35

        # Incremental: the preview adds 3, updates 1, and lists no leavers.
        preview = upload(mode="incremental")
        assert preview.status_code == 200, preview.text
        report = preview.json()
        assert report["mode"] == "incremental" and report["applied"] is False
        assert report["counts"] == {
            "create": 3,
            "update": 1,
            "unchanged": 0,
            "mark_left": 0,
            "skipped": 0,
        }
        assert report["leavers"] == [] and report["confirm_leavers"] is None
        assert report["leavers_unconfirmed"] == 0
        assert _students(database_url) == before

        applied = upload(mode="incremental", apply="true")
        assert applied.status_code == 200, applied.text
        report = applied.json()
        assert report["mode"] == "incremental" and report["applied"] is True
        assert report["counts"]["create"] == 3 and report["counts"]["update"] == 1
        assert report["counts"]["mark_left"] == 0 and report["leavers"] == []

        after = _students(database_url)
        assert set(after) == set(numbers) | set(new)
        assert {s["status"] for s in after.values()} == {"active"}
        assert after[changed]["name"] == "改名同学"
        assert [after[n]["name"] for n in new] == ["新同学0", "新同学1", "新同学2"]
        for number in numbers[1:]:
            assert after[number] == before[number]

        # The same file in replace mode still lists everyone else as leaving.
        replace = upload(mode="replace")
        assert replace.status_code == 200, replace.text
        report = replace.json()
        assert report["counts"]["create"] == 0 and report["counts"]["update"] == 0
        assert sorted(r["student_number"] for r in report["leavers"]) == numbers[1:]
        assert {r["reason"] for r in report["leavers"]} == {"not_in_file"}
        assert report["confirm_leavers"].startswith("35-")
