"""Issue 13: the schools and classes administration pages. The district officer lists, searches
and adds schools; a school lead adds a class, names its head teacher and ticks its psychology
committee members; refused forms answer 422 naming the field and store nothing; another
school's class answers 404; the student list is paged, searchable and audited, and the
district's view of a class names no student.

Real parts: the app in process, SQLite and PostgreSQL, the demo seed.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest
from page_support import csrf, sql, staff_login, uid
from sqlalchemy import select
from svc_support import another_client, app_client, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import StaffUser, create_engine, create_session_factory
from survey_service.schools import directory_admin

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
SCHOOLS, CLASSES = "/staff/admin/schools", "/staff/admin/classes"


def _one(database_url: str, statement: str, **params: object) -> str:
    ((value,),) = sql(database_url, statement, **params)
    return uid(value)


def _count(database_url: str, table: str) -> int:
    ((n,),) = sql(database_url, f"SELECT COUNT(*) FROM {table}")  # a fixed table name
    return int(n)


def _class_id(database_url: str, school: str, name: str) -> str:
    return _one(
        database_url,
        "SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id "
        "WHERE s.code = :school AND c.name = :name",
        school=school,
        name=name,
    )


def _rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr {attribute}="([^"]+)"', html)


def _post(http: httpx.Client, path: str, page: str, **form: str) -> httpx.Response:
    return http.post(path, data={"_csrf": csrf(page), **form})


def _paged_students(database_url: str, class_id: str) -> list[tuple[int, int, list[str], str]]:
    """Pages of one student each through the service (the pages use 50 a page): per page its
    number, the page count, the student numbers and the next link."""

    async def go() -> list[tuple[int, int, list[str], str]]:
        engine = create_engine(database_url)
        out = []
        try:
            async with create_session_factory(engine)() as db:
                lead = await db.scalar(select(StaffUser).where(StaffUser.username == "lead1"))
                assert lead is not None
                for page in ("1", "2"):
                    view = await directory_admin.class_page(
                        db,
                        lead,
                        UUID(class_id),
                        search="",
                        query={"page": page, "q": ""},
                        path=f"{CLASSES}/{class_id}",
                        now=T0,
                        per_page=1,
                    )
                    assert view.students is not None
                    s = view.students
                    link = s.next_url or s.prev_url or ""
                    numbers = [r.student_number for r in s.items]
                    out.append((s.page, s.pages, numbers, link))
                await db.rollback()
        finally:
            await engine.dispose()
        return out

    return asyncio.run(go())


def test_district_officer_adds_schools_and_a_lead_sets_up_classes(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=12)
    with app_client(create_app(settings, clock=ManualClock(T0))) as officer:
        # --- the district officer: schools ------------------------------------------------
        assert staff_login(officer, "district1").status_code == 303
        page = officer.get(SCHOOLS)
        assert page.status_code == 200, page.text
        assert _rows(page.text, "data-school") == ["DEMO-A", "DEMO-B"]
        row_a = page.text.split('data-school="DEMO-A"')[1].split("</tr>")[0]
        assert re.findall(r'class="num"[^>]*>(\d+)<', row_a)[:2] == ["3", "6"]  # classes, pupils
        assert _rows(officer.get(SCHOOLS, params={"q": "第二"}).text, "data-school") == ["DEMO-B"]
        assert _rows(officer.get(SCHOOLS, params={"q": "demo-a"}).text, "data-school") == ["DEMO-A"]
        assert "没有符合条件的学校" in officer.get(SCHOOLS, params={"q": "nothing"}).text

        schools = _count(database_url, "schools")
        for form, field in (
            ({"code": "DEMO-A", "name": "重名学校"}, "学校代码"),  # a code in use
            ({"code": "NEW 1", "name": "新学校"}, "学校代码"),
            ({"code": "SCH-9", "name": " "}, "学校名称"),
            ({"code": "SCH-9", "name": "新学校", "timezone": "Mars/Olympus"}, "时区"),
        ):
            refused = _post(officer, SCHOOLS, page.text, **form)
            assert refused.status_code == 422, (form, refused.text)
            error = re.search(r'role="alert"[^>]*>([^<]+)<', refused.text)
            assert error and error.group(1).startswith(field), (form, error)
            assert f'value="{form["code"]}"' in refused.text  # as typed
            assert 'aria-invalid="true"' in refused.text
        assert _count(database_url, "schools") == schools

        added = _post(
            officer,
            SCHOOLS,
            page.text,
            code="SCH-9",
            name="润心第九中学",
            timezone="",
            room="心理辅导室（3 楼）",
        )
        assert added.status_code == 303 and added.headers["location"] == f"{SCHOOLS}?done=done_ok"
        listed = officer.get(added.headers["location"])
        assert "已保存" in listed.text and "SCH-9" in _rows(listed.text, "data-school")
        assert sql(
            database_url,
            "SELECT timezone, counselling_room FROM schools WHERE code = 'SCH-9'",
        ) == [("Asia/Shanghai", "心理辅导室（3 楼）")]
        officer_id = _one(database_url, "SELECT id FROM staff_users WHERE username = 'district1'")
        audited = sql(
            database_url,
            "SELECT actor_id, actor_role FROM audit_log WHERE action = 'school.created'",
        )
        assert [(uid(a), r) for a, r in audited] == [(officer_id, "district_officer")]

        # The officer's classes page: a school of the district to choose, another's is 404.
        empty = officer.get(CLASSES, params={"school": "SCH-9"})
        assert empty.status_code == 200 and "没有符合条件的班级" in empty.text
        assert 'name="school"' in empty.text and "新增班级" not in empty.text  # no classes.edit
        b_classes = officer.get(CLASSES, params={"school": "DEMO-B"})
        assert len(_rows(b_classes.text, "data-class")) == 3
        assert officer.get(CLASSES, params={"school": "NOPE"}).status_code == 404
        a81 = _class_id(database_url, "DEMO-A", "八年级1班")
        counts = officer.get(f"{CLASSES}/{a81}")
        assert counts.status_code == 200 and "区级视图只显示人数" in counts.text
        names = [n for (n,) in sql(database_url, "SELECT name FROM students")]
        assert not [n for n in names if n in counts.text]  # the district's view names nobody

        # --- the school lead: classes -----------------------------------------------------
        with another_client(officer) as lead:
            assert staff_login(lead, "lead1").status_code == 303
            assert lead.get(SCHOOLS).status_code == 403
            classes = lead.get(CLASSES)
            assert classes.status_code == 200
            assert len(_rows(classes.text, "data-class")) == 3
            assert "八年级1班班主任" in classes.text  # the head teacher's display name
            assert _rows(lead.get(CLASSES, params={"q": "九年级"}).text, "data-class") == [
                _class_id(database_url, "DEMO-A", "九年级1班")
            ]
            assert lead.get(CLASSES, params={"school": "DEMO-B"}).status_code == 404

            total = _count(database_url, "classes")
            for form, field in (
                ({"grade": "8", "name": "八年级1班"}, "班级名称"),  # already there
                ({"grade": "13", "name": "十三年级1班"}, "年级"),
                ({"grade": "7", "name": ""}, "班级名称"),
            ):
                refused = _post(lead, CLASSES, classes.text, **form)
                assert refused.status_code == 422, (form, refused.text)
                error = re.search(r'role="alert"[^>]*>([^<]+)<', refused.text)
                assert error and error.group(1).startswith(field), (form, error)
            assert _count(database_url, "classes") == total

            made = _post(lead, CLASSES, classes.text, grade="7", name="七年级1班")
            assert made.status_code == 303
            new_id = _class_id(database_url, "DEMO-A", "七年级1班")
            assert made.headers["location"] == f"{CLASSES}/{new_id}?done=done_ok"
            fresh = lead.get(made.headers["location"])
            assert "未指定" in fresh.text and "没有符合条件的在读学生" in fresh.text

            # The head teacher: an active head-teacher account of the school, or none.
            head1 = _one(database_url, "SELECT id FROM staff_users WHERE username='headteacher1'")
            head4 = _one(database_url, "SELECT id FROM staff_users WHERE username='headteacher4'")
            lead_id = _one(database_url, "SELECT id FROM staff_users WHERE username = 'lead1'")
            assert f'value="{head1}"' in fresh.text and f'value="{head4}"' not in fresh.text
            for wrong in (head4, lead_id, "nonsense"):  # another school's, not a head teacher
                refused = _post(lead, f"{CLASSES}/{new_id}/head", fresh.text, head=wrong)
                assert refused.status_code == 422 and "班主任：" in refused.text
            assert sql(
                database_url, "SELECT head_teacher_id FROM classes WHERE id = :c", c=UUID(new_id)
            ) == [(None,)]
            named = _post(lead, f"{CLASSES}/{new_id}/head", fresh.text, head=head1)
            assert named.status_code == 303
            shown = lead.get(named.headers["location"])
            assert re.search(r'id="class-head">八年级1班班主任<', shown.text)
            assert re.search(rf'<option value="{head1}" selected>', shown.text)
            cleared = _post(lead, f"{CLASSES}/{new_id}/head", shown.text, head="")
            assert cleared.status_code == 303
            assert 'id="class-head">未指定<' in lead.get(f"{CLASSES}/{new_id}").text

            # Committee members: ticked on the page shown; the list is audited as read.
            class_page = lead.get(f"{CLASSES}/{a81}")
            students = _rows(class_page.text, "data-student")
            numbers = re.findall(r'data-label="学号">([^<]+)<', class_page.text)
            assert len(students) == 2 and numbers == sorted(numbers)
            first, second = students
            form = {f"shown_{s}": "1" for s in students} | {f"member_{first}": "1"}
            saved = _post(lead, f"{CLASSES}/{a81}/committee", class_page.text, **form)
            assert saved.status_code == 303
            committee = dict(
                (uid(i), bool(c))
                for i, c in sql(
                    database_url,
                    "SELECT id, psychology_committee FROM students WHERE class_id = :c",
                    c=UUID(a81),
                )
            )
            assert committee == {first: True, second: False}
            after = lead.get(saved.headers["location"])
            assert re.search(rf'name="member_{first}" value="1" checked', after.text)
            assert "其中心理委员 1 人" in after.text
            listing = lead.get(CLASSES).text.split(f'data-class="{a81}"')[1].split("</tr>")[0]
            assert re.findall(r'class="num"[^>]*>(\d+)<', listing) == ["2", "1"]
            read = sql(
                database_url,
                "SELECT subject_ids FROM audit_log WHERE action = 'class.students_read' "
                "AND actor_role = 'school_lead'",
            )
            shown_ids = [json.loads(i) if isinstance(i, str) else i for (i,) in read]
            assert shown_ids and all(len(ids) == 2 for ids in shown_ids)  # the rows shown
            assert sql(
                database_url,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'class.committee_set'",
            ) == [(1,)]

            # Search by number and by name; paging keeps the search.
            one = lead.get(f"{CLASSES}/{a81}", params={"q": numbers[1]})
            assert _rows(one.text, "data-student") == [second]
            pages = _paged_students(database_url, a81)
            assert [(p, n, len(s)) for p, n, s, _ in pages] == [(1, 2, 1), (2, 2, 1)]
            assert [s[0] for _, _, s, _ in pages] == numbers
            assert pages[0][3] == f"{CLASSES}/{a81}?page=2" and pages[1][3] == f"{CLASSES}/{a81}"

            # Another school's class: 404 to read and to change, nothing changed.
            b81 = _class_id(database_url, "DEMO-B", "八年级1班")
            assert lead.get(f"{CLASSES}/{b81}").status_code == 404
            b_student = _one(
                database_url, "SELECT id FROM students WHERE class_id = :c LIMIT 1", c=UUID(b81)
            )
            for path, form in (
                (
                    f"{CLASSES}/{b81}/committee",
                    {f"shown_{b_student}": "1", f"member_{b_student}": "1"},
                ),
                (f"{CLASSES}/{b81}/head", {"head": head1}),
            ):
                assert _post(lead, path, class_page.text, **form).status_code == 404
            assert sql(
                database_url,
                "SELECT COUNT(*) FROM students WHERE psychology_committee = :yes",
                yes=True,
            ) == [(1,)]
