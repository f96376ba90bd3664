"""Issue 15 in a real browser: the school lead follows the dashboard's link to the annual
report's web page (desktop and 390 px phone, no accessibility problem, the figures shown) and
downloads its PDF; a counsellor prints a student's file for a purpose from the file page; a
head teacher sees neither the print form nor the report links. SQLite only (conftest)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pypdf
from browser_support import DESKTOP, PHONE, accessibility_problems, login, off_loop
from svc_support import battery_answers, live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
NON_ACUTE = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}  # ASQ: a case, not acute
SCHOOL = "润心实验中学"  # DEMO-A (survey_service/services/demo.py)


def _submit(base: str, code: str) -> None:
    with httpx.Client(base_url=base, timeout=15) as http:
        s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
        r = http.post(
            f"/api/v1/student/sessions/{s['session_id']}/submission",
            headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
            json={"answers": battery_answers(NON_ACUTE)},
        )
        assert r.status_code == 201, r.text


def _clean(page: Any, state: str) -> None:
    problems = accessibility_problems(page)
    assert problems == [], (state, problems)


def _pdf_text(path: str | Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(Path(path).read_bytes()))
    return "".join("".join(p.extract_text() for p in reader.pages).split())


def test_annual_report_and_file_print(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    codes = off_loop(seed, settings, now=T0, students=12).access_codes
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        _submit(base, codes[0])  # a case in headteacher1's class

        # The school lead: the dashboard's PDF link downloads the report; its web page link
        # opens the report, on a desktop and on a phone.
        desk = browser.new_context(**DESKTOP, accept_downloads=True)
        page = desk.new_page()
        login(page, base, "lead1")
        page.goto(f"{base}/staff/school")
        _clean(page, "school dashboard")
        with (
            page.expect_response(re.compile(r"/staff/reports/school\?format=pdf")) as answer,
            page.expect_download() as info,
        ):
            page.get_by_role("link", name=re.compile("下载 PDF")).click()
        assert answer.value.status == 200
        assert answer.value.headers["content-type"] == "application/pdf"
        download = info.value
        assert download.suggested_filename == "annual-report-DEMO-A-2026-2027.pdf"
        assert SCHOOL in _pdf_text(download.path())

        page.get_by_role("link", name="网页版").click()
        page.wait_for_url(re.compile(r"/staff/reports/school\?format=html"))
        report_url = page.url
        assert page.get_by_role("heading", level=1).inner_text().endswith("年度报告")
        body = page.inner_text("body")
        assert SCHOOL in body and "学年：2026-2027" in body
        # The figures: 6 of the 12 students are this school's, all invited; one has submitted.
        this_year = page.locator("table").first.locator("tbody tr").first
        cells = this_year.locator("td").all_inner_texts()
        assert cells[1:5] == ["6", "6", "1", "1"], cells
        _clean(page, "annual report, desktop")

        phone = browser.new_context(**PHONE, storage_state=desk.storage_state())
        desk.close()
        page = phone.new_page()
        page.goto(report_url)
        assert SCHOOL in page.inner_text("body")
        _clean(page, "annual report, phone")  # includes: nothing scrolls sideways
        phone.close()

        # The counsellor: the case -> the student's file -> a PDF for a referral.
        desk = browser.new_context(**DESKTOP, accept_downloads=True)
        page = desk.new_page()
        login(page, base, "counsellor1")
        page.locator("#queue tbody tr").first.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/staff/cases/"))
        page.locator("a[href^='/staff/students/']").first.click()
        page.wait_for_url(re.compile(r"/staff/students/[0-9a-f-]{36}$"))
        file_url = page.url
        page.get_by_text("打印档案（PDF）").click()
        _clean(page, "file with the print form open")
        page.get_by_label("用途").select_option(label="转介就医")
        with page.expect_download() as info:
            page.get_by_role("button", name="生成 PDF").click()
        download = info.value
        assert re.fullmatch(r"student-file-\d{8}\.pdf", download.suggested_filename)
        text = _pdf_text(download.path())
        assert "学生心理健康档案" in text and "机密" in text and SCHOOL in text
        desk.close()

        # The head teacher: the same file, no print form; the class page, no report link.
        desk = browser.new_context(**DESKTOP)
        page = desk.new_page()
        login(page, base, "headteacher1")
        page.wait_for_url(re.compile(r"/staff/class$"))
        assert page.locator("a[href*='/staff/reports/']").count() == 0
        page.goto(file_url)
        assert page.locator("#print-file").count() == 0
        assert page.locator("form[action$='/file.pdf']").count() == 0
        assert "打印档案" not in page.inner_text("body")
        desk.close()
