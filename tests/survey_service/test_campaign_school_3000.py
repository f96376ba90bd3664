"""A whole campaign for a school, through the API, with exact coverage.

The full size is a school of 3,000 students in 60 classes (about 4 minutes per database on a
2-core machine): run it with ``RUNXIN_SCHOOL_STUDENTS=3000``. The suite runs the same flow
with 150 students in 3 classes, which exercises every step (roster import, campaign, slips,
submissions, coverage) at a size that keeps ``make test`` within its time budget.
"""

from __future__ import annotations

import csv
import os
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from svc_support import battery_answers, live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
N = int(os.environ.get("RUNXIN_SCHOOL_STUDENTS", "150"))
CLASSES = max(1, N // 50)
REFUSED = N // 20  # guardians who decline (150 of 3,000)
CODE = re.compile(r"[23456789A-HJKMNP-Z]{5}-[23456789A-HJKMNP-Z]{5}")


# PostgreSQL, the engine a school of this size runs on; SQLite's campaign path is covered by
# test_campaigns.py and the page tests.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_campaign_for_3000_students(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=1)
    roster = tmp_path / "school.csv"
    with roster.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["学号", "姓名", "性别", "出生日期", "年级", "班级"])
        for i in range(N):
            w.writerow(
                [
                    f"S{i:05d}",
                    f"学生{i}",
                    "男" if i % 2 else "女",
                    "2012-01-15",
                    "8",
                    f"{i % CLASSES + 1}班",
                ]
            )
    with (
        live_server(create_app(settings, clock=ManualClock(T0))) as base,
        httpx.Client(base_url=base, timeout=120) as http,
    ):
        lead = {
            "Authorization": "Bearer "
            + http.post(
                "/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"}
            ).json()["access_token"]
        }
        # The seeded student is not in the file: marked as left with the preview's token.
        file = {"data": ("school.csv", roster.read_bytes(), "text/csv")}
        preview = http.post("/api/v1/schools/DEMO-A/roster", headers=lead, files=file)
        up = http.post(
            "/api/v1/schools/DEMO-A/roster",
            headers=lead,
            params={"apply": "true", "confirm_leavers": preview.json()["confirm_leavers"]},
            files=file,
        )
        assert up.status_code == 200 and up.json()["counts"]["create"] == N
        campaign = http.post(
            "/api/v1/campaigns",
            headers=lead,
            json={
                "name": "全员普查",
                "school_year": "2026-2027",
                "opens_at": T0.isoformat(),
                "closes_at": (T0 + timedelta(days=14)).isoformat(),
                "batteries": [{"grades": [8, 9], "instruments": ["phq9", "gad7", "asq"]}],
                "allow_language_fallback": True,  # the ASQ has no Chinese text
            },
        ).json()["campaign_id"]
        classes = http.get(
            "/api/v1/coverage", headers=lead, params={"campaign_id": campaign}
        ).json()["classes"]
        assert len(classes) == CLASSES and sum(c["invited"] for c in classes) == N
        codes: list[str] = []
        for klass in classes:
            html = http.post(
                f"/api/v1/campaigns/{campaign}/classes/{klass['class_id']}/slips", headers=lead
            ).text
            codes.extend(dict.fromkeys(CODE.findall(html)))
        assert len(codes) == N == len(set(codes))

        non = http.get(f"/api/v1/campaigns/{campaign}/non-completers", headers=lead).json()
        refusing = [n["student_id"] for n in non[:REFUSED]]
        for student_id in refusing:
            r = http.post(
                f"/api/v1/campaigns/{campaign}/consents",
                headers=lead,
                json={"student_id": student_id, "status": "refused"},
            )
            assert r.status_code == 201
        refused_numbers = {n["student_number"] for n in non[:REFUSED]}

        def take_part(index_code: tuple[int, str]) -> str:
            index, code = index_code
            with httpx.Client(base_url=base, timeout=120) as c:
                r = c.post("/api/v1/student/sessions", json={"access_code": code})
                if r.status_code == 403:
                    return "refused"
                assert r.status_code == 201, r.text
                if index % 10 == 9:
                    return "started"  # 1 in 10 starts and does not finish
                s = r.json()
                asq = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0} if index % 10 == 0 else None
                sub = c.post(
                    f"/api/v1/student/sessions/{s['session_id']}/submission",
                    headers={
                        "Authorization": f"Bearer {s['session_token']}",
                        "Idempotency-Key": "k",
                    },
                    json={"answers": battery_answers(asq)},
                )
                assert sub.status_code == 201, sub.text
                return "submitted"

        with ThreadPoolExecutor(max_workers=4) as pool:
            outcomes = list(pool.map(take_part, enumerate(codes)))
        refused = outcomes.count("refused")
        started_only = outcomes.count("started")
        submitted = outcomes.count("submitted")
        assert refused == REFUSED == len(refused_numbers)

        report = http.get("/api/v1/coverage", headers=lead, params={"campaign_id": campaign}).json()
        school = report["schools"][0]
        assert school["invited"] == N
        assert school["refused"] == REFUSED
        assert school["consented"] == N - REFUSED  # aged 14: consent not needed unless refused
        assert school["started"] == submitted + started_only
        assert school["submitted"] == submitted
        assert school["coverage"] == round(submitted / N, 4)
        assert sum(c["submitted"] for c in report["classes"]) == submitted
        tiers = school["tiers"]
        assert tiers["orange"] == sum(
            1 for i, o in enumerate(outcomes) if o == "submitted" and i % 10 == 0
        )
        left = http.get(f"/api/v1/campaigns/{campaign}/non-completers", headers=lead).json()
        assert len(left) == N - submitted
        assert {n["state"] for n in left} == {"refused", "started"}
