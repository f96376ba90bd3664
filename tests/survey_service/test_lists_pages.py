"""Long lists and phones on the staff pages (issue 13): the queue 50 cases a page in its own
order (deadline, then tier; never score) and searched by name or student number, the head
teacher's page searched and paged, the district dashboard's campaign selector, the audit log
page by page, and every wide table a stack of cards (``data-label`` on every cell)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from page_support import api_submit, sql, staff_login, uid
from sqlalchemy import insert, select
from svc_support import another_client, app_client, battery_answers, make_settings, seed

import triage
from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import Case, School, Student, create_engine

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # test_pages_staff.py's seed: a shared template
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
ROW = re.compile(r'<tr class="[^"]*" data-case="([0-9a-f-]{36})">(.*?)</tr>', re.S)
EXTRA = 59  # cases added next to the one a screening opened: 60 in school A
CLASS_NAME = re.compile(r"[七八九]年级\d+班")


@dataclass
class Env:
    app: TestClient[Litestar]
    codes: list[str]
    database_url: str

    @contextmanager
    def signed_in(self, username: str) -> Iterator[httpx.Client]:
        with another_client(self.app, timeout=15, follow_redirects=True) as http:
            assert staff_login(http, username).status_code == 200
            yield http


@pytest.fixture
def env(database_url: str) -> Iterator[Env]:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0, students=12).access_codes
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=15) as http:
        api_submit(http, codes[0], battery_answers(RED))  # school A: a red case
        yield Env(http, codes, database_url)


def rows(html: str) -> list[tuple[str, str]]:
    """(case id, tier) of each queue row, in the order shown."""
    return [
        (cid, re.search(r"tier-(\w+)", body).group(1))  # type: ignore[union-attr]
        for cid, body in ROW.findall(html)
    ]


def stacked(html: str, table_id: str) -> str:
    """The table's markup, after checking that it turns into cards on a phone: class "stack"
    and a ``data-label`` on every cell."""
    match = re.search(rf'<table id="{table_id}" class="stack"[^>]*>(.*?)</table>', html, re.S)
    assert match, f"#{table_id} is not a stacking table"
    cells = re.findall(r"<td\b[^>]*>", match.group(1))
    assert all("data-label=" in c for c in cells), table_id
    return match.group(1)


def add_cases(database_url: str) -> None:
    """``EXTRA`` more open cases in school A, spread over its students: copies of school A's
    one case (from a screening) with deadlines of their own, two to each deadline (the tiers
    differ)."""
    tiers = ("yellow", "red", "orange")

    async def go() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as conn:
                first = (
                    (
                        await conn.execute(
                            select(Case.__table__)
                            .join(School, School.id == Case.school_id)
                            .where(School.code == "DEMO-A")
                        )
                    )
                    .mappings()
                    .one()
                )
                students = (
                    await conn.scalars(
                        select(Student.id)
                        .where(Student.school_id == first["school_id"])
                        .order_by(Student.student_number)
                    )
                ).all()
                await conn.execute(
                    insert(Case),
                    [
                        {
                            **first,
                            "id": uuid.uuid4(),
                            "student_id": students[i % len(students)],
                            "tier": tiers[i % 3],
                            "acknowledge_by": T0 + timedelta(hours=1 + i // 2),
                            "opened_at": T0 - timedelta(minutes=i),
                        }
                        for i in range(EXTRA)
                    ],
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


def _utc(value: Any) -> datetime:
    """A timestamp of a raw SQL row (SQLite gives naive text) in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_queue_and_class_pages_page_and_search(env: Env) -> None:
    add_cases(env.database_url)
    cases = sql(env.database_url, "SELECT id, tier, acknowledge_by, opened_at FROM cases")
    ordered = [
        uid(r[0])
        for r in sorted(cases, key=lambda r: (_utc(r[2]), -triage.TIER_ORDER[r[1]], _utc(r[3])))
    ]
    assert len(ordered) == EXTRA + 1
    with env.signed_in("counsellor1") as http:
        first = http.get("/staff/queue").text
        assert "第 1–50 条，共 60 条（第 1/2 页）" in first and "共 60 个个案" in first
        assert 'href="/staff/queue?page=2" rel="next"' in first
        second = http.get("/staff/queue", params={"page": "2"}).text
        assert len(rows(first)) == 50 and [c for c, _ in rows(first) + rows(second)] == ordered
        assert rows(http.get("/staff/queue", params={"page": "99"}).text) == rows(second)
        assert rows(http.get("/staff/queue", params={"sort": "score"}).text) == rows(first)
        # On a phone a case is a card whose first lines are its deadline and its tier.
        first_cells = re.findall(r'<td data-label="([^"]+)"', stacked(first, "queue"))[:2]
        assert first_cells == ["截止时间", "等级"]
        # A filter counts its own rows and the pager keeps it.
        reds = http.get("/staff/queue", params={"tier": "red"}).text
        assert {t for _, t in rows(reds)} == {"red"} and "共 21 个个案" in reds
        opened = http.get("/staff/queue", params={"state": "open"}).text
        assert 'href="/staff/queue?state=open&amp;page=2" rel="next"' in opened
        # Search by student number: exactly that student's cases (the number is shown).
        number, student = sql(
            env.database_url,
            "SELECT s.student_number, s.id FROM students s JOIN cases c ON c.student_id = s.id "
            "ORDER BY s.student_number LIMIT 1",
        )[0]
        theirs = sql(
            env.database_url,
            "SELECT id FROM cases WHERE student_id = :s",
            s=uuid.UUID(str(student)),
        )
        found = http.get("/staff/queue", params={"q": f" {number} "}).text
        assert {c for c, _ in rows(found)} == {uid(c) for (c,) in theirs}
        assert f'<span class="muted">{number}</span>' in found
        assert rows(http.get("/staff/queue", params={"q": "没有这个人"}).text) == []

    with env.signed_in("district1") as http:  # de-identified: no search, no class
        page = http.get("/staff/queue", params={"q": number}).text
        assert 'name="q"' not in page and len(rows(page)) == 50
        stacked(page, "district-summary")
        stacked(page, "queue")
        assert not CLASS_NAME.search(page)

    with env.signed_in("headteacher1") as http:  # searched by number, cards on a phone
        page = http.get("/staff/class").text
        table = page.split('<table class="not-done stack"', 1)[1].split("</table>", 1)[0]
        assert all("data-label=" in c for c in re.findall(r"<td\b[^>]*>", table))
        numbers = re.findall(r'<td data-label="学号">(\d+)</td>', table)
        assert numbers and f"共 {len(numbers)} 名学生" in page
        one = http.get("/staff/class", params={"q": numbers[-1]}).text
        assert re.findall(r'<td data-label="学号">(\d+)</td>', one) == [numbers[-1]]
        none = http.get("/staff/class", params={"q": "没有这个人"}).text
        assert "没有符合搜索条件的学生。" in none and 'class="not-done' not in none
        assert 'class="card" id="care-' in page and 'class="card" id="care-' not in none
        # The students under care: cards, 20 a page on a pager of their own.
        ((under_care,),) = sql(
            env.database_url,
            "SELECT count(*) FROM cases c JOIN students s ON s.id = c.student_id "
            "JOIN classes k ON k.id = s.class_id JOIN staff_users u ON u.id = k.head_teacher_id "
            "WHERE u.username = 'headteacher1'",
        )
        assert under_care > 20 and page.count('class="card" id="care-') == 20
        assert 'aria-label="需要关注的学生（翻页）"' in page and "care_page=2" in page
        rest = http.get("/staff/class", params={"care_page": "2"}).text
        assert rest.count('class="card" id="care-') == under_care - 20
        # The observation form still offers every student of the class.
        assert none.count("<option value=") == page.count("<option value=")


def test_district_campaign_selector_and_audit_pages(env: Env) -> None:
    with env.signed_in("lead1") as http:  # a second campaign in school A only
        token = http.post(
            "/api/v1/auth/login", json={"username": "lead1", "password": "pw-test-123"}
        ).json()["access_token"]
        spring = http.post(
            "/api/v1/campaigns",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "name": "春季复查",
                "school_year": "2026-2027",
                "opens_at": (T0 + timedelta(days=30)).isoformat(),
                "closes_at": (T0 + timedelta(days=40)).isoformat(),
                "batteries": [{"grades": [8, 9], "instruments": ["phq9"]}],
            },
        )
        assert spring.status_code == 201, spring.text
        spring_id = spring.json()["campaign_id"]
        school = http.get("/staff/school", params={"campaign": spring_id}).text
        invited = re.search(r"（0 / (\d+)）", school)
        assert invited is not None and int(invited.group(1)) > 0
        stacked(school, "coverage")
    demo_b = sql(
        env.database_url,
        "SELECT c.id FROM campaigns c JOIN schools s ON s.id = c.school_id WHERE s.code = 'DEMO-B'",
    )
    with env.signed_in("district1") as http:
        latest = http.get("/staff/district").text
        assert '<option value="" selected>各校最近一次筛查</option>' in latest
        # The district's screening spans both schools; the spring one names its school.
        assert "2026–2027 学年心理健康筛查（2026-2027）</option>" in latest
        assert re.search(r">春季复查（2026-2027） · 润心实验中学[^<、]*</option>", latest)
        row_a = re.search(
            r"<tr data-school=\"DEMO-A\">(.*?)</tr>", stacked(latest, "coverage"), re.S
        )
        assert row_a and '<td class="num" data-label="已提交">1</td>' in row_a.group(1)
        chosen = http.get("/staff/district", params={"campaign": spring_id}).text
        assert re.search(rf'<option value="{spring_id}" selected>', chosen)
        table = stacked(chosen, "coverage")
        row_a = re.search(r'<tr data-school="DEMO-A">(.*?)</tr>', table, re.S)
        row_b = re.search(r'<tr data-school="DEMO-B">(.*?)</tr>', table, re.S)
        assert row_a and row_b and "春季复查" in row_a.group(1) and "—" in row_b.group(1)
        assert f'data-label="应参加">{invited.group(1)}</td>' in row_a.group(1)
        assert '<td class="num" data-label="已提交">0</td>' in row_a.group(1)
        # Another school's campaign of the same screening picks the whole group.
        group = http.get("/staff/district", params={"campaign": uid(demo_b[0][0])}).text
        assert "selected>2026–2027 学年心理健康筛查" in group
        assert re.search(r'<tr data-school="DEMO-A">.*?data-label="已提交">1</td>', group, re.S)
        for bad in ("nope", str(uuid.uuid4())):
            assert http.get("/staff/district", params={"campaign": bad}).status_code == 404
        # Wherever a district page would name a class it names the school first; here the
        # de-identified district sees no class at all (issue 19).
        for page in (latest, chosen):
            assert not CLASS_NAME.search(page)
            for table_id in ("escalations", "incidents"):
                if f'id="{table_id}"' in page:
                    stacked(page, table_id)

    # The audit log, 50 rows a page by the API's cursor, the filters kept in the links.
    with env.signed_in("counsellor1") as http:
        for _ in range(45):
            http.get("/staff/queue")
    with env.signed_in("auditor1") as http:
        first = http.get("/staff/audit", params={"from": "2026-09-01"}).text
        body = stacked(first, "audit-log")
        assert body.count('<th scope="row"') == 50 and "第 1–50 条（第 1 页）" in first
        older = re.search(r'href="([^"]+)" rel="next" id="audit-older"', first)
        assert older and "from=2026-09-01" in older.group(1) and "page=2" in older.group(1)
        second = http.get(older.group(1).replace("&amp;", "&")).text
        assert "第 51–" in second and 'id="audit-newest"' in second
        newest = re.search(r'href="([^"]+)" id="audit-newest"', second)
        assert newest and newest.group(1) == "/staff/audit?from=2026-09-01"
        times = re.findall(r'<time datetime="([^"]+)"', body + stacked(second, "audit-log"))
        assert times == sorted(times, reverse=True)  # newest first, across the pages
