"""Issue 15: the student's file (一人一档) printed as PDF for a handover — what the file shows,
"机密 Confidential" and who printed it on every page, least access, audited with its purpose.

Real parts: the app in process on a manual clock, WeasyPrint with the CJK font, SQLite (what a
page shows is not engine-specific; the access matrix reads this route on PostgreSQL too). The
care work is built once for the module over the API; each test reads it back.
"""

from __future__ import annotations

import io
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pypdf
import pypdfium2
import pytest
from page_support import sql, staff_login, uid
from svc_support import another_client, app_client, battery_answers, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.reports.student_file import PURPOSES

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
NON_ACUTE = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}  # ASQ: orange, suicide-related
PLAN = {
    "warning_signs": ["午饭时一个人躲在教室", "stops eating lunch"],
    "coping_steps": ["和好朋友去操场走走"],
    "contacts": [{"name": "王老师", "relation": "心理老师", "phone": "12356"}],
    "means_safety": ["家长把药品锁好"],
}
TALK = "第一次个别谈话：谈到睡眠和考试压力。"
HOSPITAL = "市精神卫生中心"
INCIDENT = "课间在走廊划伤手臂，校医处理后通知家长。"


@dataclass(frozen=True)
class World:
    http: httpx.Client
    database_url: str
    student_id: str
    student_name: str
    student_number: str
    guardian_name: str


def _auth(http: httpx.Client, username: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": username, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    path = tmp_path_factory.mktemp("file_pdf") / "runxin.db"
    shutil.copyfile(sqlite_template, path)
    database_url = f"sqlite:///{path}"
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0, students=6)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        s = http.post(
            "/api/v1/student/sessions", json={"access_code": seeded.access_codes[0]}
        ).json()
        r = http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": battery_answers(NON_ACUTE)},
        )
        assert r.status_code == 201, r.text
        staff = _auth(http, "counsellor1")
        (case,) = http.get("/api/v1/cases", headers=staff).json()["items"]
        case_id = case["case_id"]
        ((student_id, name, number),) = sql(
            database_url,
            "SELECT s.id, s.name, s.student_number FROM students s "
            "JOIN cases c ON c.student_id = s.id WHERE c.id = :c",
            c=uuid.UUID(case_id),
        )
        student = uid(student_id)
        ((guardian_id, guardian_name),) = sql(
            database_url,
            "SELECT id, name FROM guardians WHERE student_id = :s",
            s=uuid.UUID(student),
        )[:1]
        for path_, body in (
            (f"/api/v1/cases/{case_id}/records", {"kind": "talk", "summary": TALK}),
            (
                f"/api/v1/cases/{case_id}/care-group",
                {"role": "guardian", "guardian_id": uid(guardian_id)},
            ),
            (f"/api/v1/cases/{case_id}/referrals", {"hospital": HOSPITAL}),
            (
                "/api/v1/incidents",
                {
                    "kind": "self_harm",
                    "description": INCIDENT,
                    "occurred_at": (T0 - timedelta(hours=2)).isoformat(),
                    "student_id": student,
                },
            ),
        ):
            r = http.post(path_, headers=staff, json=body)
            assert r.status_code == 201, (path_, r.text)
        r = http.put(
            f"/api/v1/students/{student}/plan",
            headers=staff,
            json={"content": PLAN, "review_on": (T0 + timedelta(days=30)).date().isoformat()},
        )
        assert r.status_code == 200, r.text
        clock.advance(timedelta(hours=1))
        assert staff_login(http, "counsellor1").status_code in (200, 303)
        yield World(http, database_url, student, name, number, guardian_name)


def _pdf(world: World, **params: str) -> httpx.Response:
    return world.http.get(
        f"/staff/students/{world.student_id}/file.pdf", params={"purpose": "transfer", **params}
    )


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def printed(world: World) -> bytes:
    r = _pdf(world)
    assert r.status_code == 200, r.text
    return r.content


def test_the_pdf_holds_the_file_with_confidential_and_the_printer_on_every_page(
    world: World, printed: bytes
) -> None:
    pages = _text(printed)
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        assert "机密 Confidential" in page, f"page {n} has no header"
        assert "打印人：林静（心理老师） 打印时间：2026-09-07 11:00" in page, f"page {n}"
        assert f"{n} / {len(pages)}" in page
    text = "\n".join(pages)
    # Identity as the file page shows it.
    for shown in (world.student_name, world.student_number, "学生心理健康档案（一人一档）"):
        assert shown in text
    assert "用途：转学交接" in text
    # The crisis plan, the records, the tier with its reasons, the care group, guardian
    # contacts, referrals and incidents.
    for shown in (
        "午饭时一个人躲在教室",
        "和好朋友去操场走走",
        "家长把药品锁好",
        "王老师",
        TALK,
        HOSPITAL,
        INCIDENT,
        world.guardian_name,
        "风险等级变化及原因",
        "关爱小组",
        "监护人联系方式",
    ):
        assert shown in text, shown
    assert "二级" in text or "橙" in text  # the orange tier, in Chinese
    assert "ASQ" in text or "asq" in text  # the screening result with its instrument


def test_the_english_print_and_page_one_as_an_image(world: World, printed: bytes) -> None:
    r = _pdf(world, lang="en", purpose="referral")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["cache-control"] == "no-store"
    assert world.student_name not in r.headers["content-disposition"]
    text = "\n".join(_text(r.content))
    assert "Student mental-health file" in text and "Purpose: Referral to a hospital" in text
    assert "Printed by 林静 (Counsellor) at 2026-09-07 11:00" in text
    assert "Tier history and reasons" in text and "stops eating lunch" in text
    image = pypdfium2.PdfDocument(printed)[0].render(scale=1).to_pil().convert("L")
    darkest, lightest = image.getextrema()
    assert lightest == 255 and darkest < 80, "page 1 is blank"
    inked = sum(image.histogram()[:128])
    assert inked > 2000, f"page 1 has almost no ink ({inked} dark pixels)"


def test_every_print_is_audited_with_its_purpose(world: World, printed: bytes) -> None:
    rows = sql(
        world.database_url,
        "SELECT subject_ids, actor_role, detail FROM audit_log "
        "WHERE action = 'student.file_print' ORDER BY at, seq",
    )
    mine = [
        (json.loads(s) if isinstance(s, str) else s, json.loads(d) if isinstance(d, str) else d)
        for s, role, d in rows
        if role == "counsellor"
    ]
    # The module's first print (``printed``): the student, the purpose and the language.
    assert ([world.student_id], {"purpose": "transfer", "language": "zh-CN", "format": "pdf"}) in (
        mine
    )
    assert all(subjects == [world.student_id] for subjects, _ in mine)
    # The reads it is made of are audited as such, too.
    actions = {a for (a,) in sql(world.database_url, "SELECT DISTINCT action FROM audit_log")}
    assert {"student.file", "plan.read", "student.file_print"} <= actions


def test_a_purpose_is_required_and_the_file_page_offers_the_form(world: World) -> None:
    for params in ({"purpose": ""}, {"purpose": "curiosity"}):
        r = _pdf(world, **params)
        assert r.status_code == 400 and "purpose" in r.text, r.text
    page = world.http.get(f"/staff/students/{world.student_id}")
    assert page.status_code == 200
    assert f'action="/staff/students/{world.student_id}/file.pdf"' in page.text
    assert [p for p in PURPOSES if f'<option value="{p}">' in page.text] == list(PURPOSES)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("headteacher1", 403),  # reads the file of their class, may not print it
        ("district1", 403),
        ("admin1", 403),
        ("counsellor2", 404),  # another school's counsellor: as if there were no such student
        ("lead1", 200),
    ],
)
def test_who_may_print(world: World, username: str, status: int) -> None:
    with another_client(world.http) as other:  # type: ignore[arg-type]
        assert staff_login(other, username).status_code in (200, 303)
        r = other.get(
            f"/staff/students/{world.student_id}/file.pdf", params={"purpose": "transfer"}
        )
        assert r.status_code == status, r.text[:200]
        if status != 200:
            assert not r.content.startswith(b"%PDF")
            assert world.student_name not in r.text
        page = other.get(f"/staff/students/{world.student_id}")
        assert ("file.pdf" in page.text) == (status == 200)
