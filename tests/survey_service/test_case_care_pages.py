"""Issue 13: the whole care workflow on the case page — the care group (add, remove, the
rules that keep it whole), incidents and their review report (the 3,000-character check and
the 14-day deadline), every referral stage, and the district officer's transfer of the case's
student to another school. Refused forms come back localized with the values as typed and
nothing stored.

Real parts: the app in process, SQLite and PostgreSQL, the demo district (two schools).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from page_support import api_submit, csrf, sql, staff_login, text_of, uid
from svc_support import another_client, app_client, battery_answers, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
STACK = re.compile(r'<table class="stack[^"]*"[^>]*>(.*?)</table>', re.S)


class World:
    def __init__(self, http: httpx.Client, clock: ManualClock, database_url: str) -> None:
        self.app, self.clock, self.database_url = http, clock, database_url
        cases = sql(database_url, "SELECT id, tier, student_id FROM cases")
        self.red = next(uid(c) for c, tier, _ in cases if tier == "red")
        self.orange = next(uid(c) for c, tier, _ in cases if tier == "orange")
        self.student = next(s for c, _, s in cases if uid(c) == self.red)

    @contextmanager
    def signed_in(self, username: str) -> Iterator[httpx.Client]:
        with another_client(self.app, timeout=15, follow_redirects=True) as http:
            assert staff_login(http, username).status_code == 200
            yield http

    def staff(self, username: str) -> str:
        return uid(
            sql(self.database_url, "SELECT id FROM staff_users WHERE username = :u", u=username)[0][
                0
            ]
        )

    def members(self) -> list[str]:
        rows = sql(
            self.database_url,
            "SELECT role FROM care_group_members WHERE case_id = :c AND removed_at IS NULL",
            c=UUID(self.red),
        )
        return sorted(r for (r,) in rows)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0, students=12).access_codes
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock), timeout=15) as http:
        api_submit(http, codes[1], battery_answers(gad7=3))  # orange, school A
        api_submit(http, codes[0], battery_answers(RED))  # red, school A, class 八年级1班
        yield World(http, clock, database_url)


def _no_unlabelled_cells(html: str) -> list[str]:
    """Cells of a phone-card table without their column's name (data-label)."""
    return [c for t in STACK.findall(html) for c in re.findall(r"<td(?![^>]*data-label)[^>]*>", t)]


def test_care_group_incidents_and_every_referral_stage(world: World) -> None:
    red = world.red
    with world.signed_in("counsellor1") as http:
        page = http.get(f"/staff/cases/{red}")
        assert page.status_code == 200 and "还没有关爱小组成员" in page.text
        token = csrf(page.text)
        assert world.staff("headteacher1") in page.text  # the school's staff in the select
        assert "区教育局值班员" not in page.text and 'id="transfer"' not in page.text

        def add(**form: str) -> httpx.Response:
            return http.post(f"/staff/cases/{red}/care-group", data={"_csrf": token, **form})

        assert "done=done_ok" in str(
            add(role="counsellor", staff_id=world.staff("counsellor1")).url
        )
        added = add(role="head_teacher", staff_id=world.staff("headteacher1"))
        assert added.status_code == 200 and "八年级1班班主任" in added.text
        # A second head teacher: refused in Chinese, the choice kept, nothing stored.
        second = add(role="head_teacher", staff_id=world.staff("headteacher2"))
        assert second.status_code == 409 and 'id="group-error"' in second.text
        assert "关爱小组只能有一位班主任" in second.text
        assert re.search(rf'value="{world.staff("headteacher2")}" selected', second.text)
        # Another school's counsellor, or no role: the form's mistakes, 422.
        other = add(role="counsellor", staff_id=world.staff("counsellor2"))
        assert other.status_code == 422 and "请从本校的教职工中选择" in other.text
        assert add(staff_id=world.staff("lead1")).status_code == 422
        ((guardian,),) = sql(
            world.database_url, "SELECT id FROM guardians WHERE student_id = :s", s=world.student
        )
        assert add(role="guardian", guardian_id=uid(guardian)).status_code == 200
        assert world.members() == ["counsellor", "guardian", "head_teacher"]
        page = http.get(f"/staff/cases/{red}")
        rows = dict(re.findall(r'data-member="([0-9a-f-]{36})" data-role="(\w+)"', page.text))
        by_role = {role: member for member, role in rows.items()}
        # The last guardian and the last counsellor stay; the head teacher may go.
        for role, words in (
            ("guardian", "至少要有一位监护人"),
            ("counsellor", "至少要有一位心理老师"),
        ):
            kept = http.post(
                f"/staff/cases/{red}/care-group/{by_role[role]}/remove", data={"_csrf": token}
            )
            assert kept.status_code == 409 and words in kept.text
        gone = http.post(
            f"/staff/cases/{red}/care-group/{by_role['head_teacher']}/remove",
            data={"_csrf": token},
        )
        assert gone.status_code == 200 and "移出关爱小组" in gone.text  # the history says so
        assert world.members() == ["counsellor", "guardian"]

        # Incidents: recorded from the case; a time in the future comes back as typed.
        future = http.post(
            f"/staff/cases/{red}/incidents",
            data={
                "_csrf": token,
                "kind": "self_harm",
                "occurred_at": "2026-09-08T09:00",
                "description": "课间在走廊发现学生手臂有划伤",
            },
        )
        assert future.status_code == 422 and "发生时间不能晚于现在" in future.text
        assert "课间在走廊发现学生手臂有划伤</textarea>" in future.text
        assert sql(world.database_url, "SELECT count(*) FROM incidents") == [(0,)]
        for description in ("课间在走廊发现学生手臂有划伤", "学生离校未归，晚上找到"):
            http.post(
                f"/staff/cases/{red}/incidents",
                data={
                    "_csrf": token,
                    "kind": "self_harm",
                    "occurred_at": "2026-09-07T09:00",
                    "description": description,
                },
            )
        page = http.get(f"/staff/cases/{red}")
        assert "自伤 · 2026-09-07 09:00" in page.text and "self_harm" not in text_of(page.text)
        assert "2026-09-21 10:00" in page.text  # the review is due 14 days after recording
        assert "至少 3000 字，已写 <span data-count>0</span> 字" in page.text
        first = re.findall(r"/incidents/([0-9a-f-]{36})/report", page.text)[0]
        short = http.post(
            f"/staff/cases/{red}/incidents/{first}/report",
            data={"_csrf": token, "report": "调" * 2999},
        )
        assert short.status_code == 422
        assert "复盘报告至少需要 3000 字，现在是 2999 字，还差 1 字" in short.text
        assert f">{'调' * 2999}</textarea>" in short.text
        assert "已写 <span data-count>2999</span> 字" in short.text
        assert sql(
            world.database_url, "SELECT count(*) FROM incidents WHERE report IS NOT NULL"
        ) == [(0,)]
        filed = http.post(
            f"/staff/cases/{red}/incidents/{first}/report",
            data={"_csrf": token, "report": "调" * 3000},
        )
        assert filed.status_code == 200 and "已于 2026-09-07 10:00 提交（3000 字）" in filed.text
        assert http.get("/staff/case-care.js").headers["content-type"].startswith("text/javascript")

        # Every referral stage from the page: each form offers the next stage only.
        http.post(f"/staff/cases/{world.orange}/acknowledge", data={"_csrf": token})
        page = http.post(
            f"/staff/cases/{world.orange}/refer",
            data={"_csrf": token, "hospital": "市精神卫生中心"},
        )
        for stage in ("accepted", "seen", "feedback"):
            action, offered = re.search(
                r'action="(/staff/referrals/[0-9a-f-]{36}/advance)">\s*'
                r'<input type="hidden" name="_csrf" value="[^"]+">\s*'
                r'<input type="hidden" name="stage" value="(\w+)">',
                page.text,
            ).groups()  # type: ignore[union-attr]
            assert offered == stage
            if stage == "feedback":
                assert 'name="feedback" required' in page.text
                refused = http.post(action, data={"_csrf": token, "stage": stage})
                assert refused.status_code == 422 and "请写下医院的反馈" in refused.text
            page = http.post(
                action, data={"_csrf": token, "stage": stage, "feedback": "已就诊，建议复诊"}
            )
            assert page.status_code == 200 and f'data-stage="{stage}"' in page.text
        assert "转介已完成" in page.text and "医院已反馈，回到学校跟踪" in page.text
        assert _no_unlabelled_cells(page.text) == []

    # Two weeks later the unfiled review is overdue, in red, with words.
    world.clock.advance(timedelta(days=15))
    with world.signed_in("counsellor1") as http:
        page = http.get(f"/staff/cases/{red}")
        assert re.search(
            r'class="review-due overdue">2026-09-21 10:00 · <span class="overdue">⚠ 已逾期 1 天',
            page.text,
        )
        assert _no_unlabelled_cells(page.text) == []


def test_the_district_officer_transfers_the_student_without_seeing_who(world: World) -> None:
    red = world.red
    ((name, number),) = sql(
        world.database_url,
        "SELECT name, student_number FROM students WHERE id = :s",
        s=world.student,
    )
    (school_b,) = sql(world.database_url, "SELECT name FROM schools WHERE code = 'DEMO-B'")[0]
    ((class_b,),) = sql(
        world.database_url,
        "SELECT k.id FROM classes k JOIN schools s ON s.id = k.school_id "
        "WHERE s.code = 'DEMO-B' AND k.name = '九年级1班'",
    )
    with world.signed_in("counsellor1") as http:
        page = http.get(f"/staff/cases/{red}")
        token = csrf(page.text)
        http.post(
            f"/staff/cases/{red}/care-group",
            data={"_csrf": token, "role": "counsellor", "staff_id": world.staff("counsellor1")},
        )
        # Not a school role's operation: refused before anything moves.
        refused = http.post(
            f"/staff/cases/{red}/transfer",
            data={
                "_csrf": token,
                "school_code": "DEMO-B",
                "class_id": uid(class_b),
                "confirm": "yes",
            },
        )
        assert refused.status_code == 403
    with world.signed_in("district1") as http:
        page = http.get(f"/staff/cases/{red}")
        assert page.status_code == 200 and 'id="deidentified-note"' in page.text
        assert name not in page.text and number not in page.text
        assert f'<option value="DEMO-B">{school_b}</option>' in page.text
        assert 'value="DEMO-A"' not in page.text  # not to the school it is at
        assert _no_unlabelled_cells(page.text) == []
        token = csrf(page.text)
        step = http.get(f"/staff/cases/{red}/transfer", params={"school": "DEMO-B"})
        assert step.status_code == 200 and uid(class_b) in step.text and name not in step.text
        body = {"_csrf": token, "school_code": "DEMO-B", "class_id": uid(class_b)}
        unconfirmed = http.post(f"/staff/cases/{red}/transfer", data=body)
        assert unconfirmed.status_code == 422 and "请勾选确认后再转学" in unconfirmed.text
        assert re.search(rf'value="{uid(class_b)}" selected', unconfirmed.text)
        assert (
            http.post(
                f"/staff/cases/{red}/transfer", data={**body, "school_code": "DEMO-A"}
            ).status_code
            == 422
        )  # the school it is at already
        missing = http.post(f"/staff/cases/{UUID(int=1)}/transfer", data={**body, "confirm": "yes"})
        assert missing.status_code == 404
        moved = http.post(f"/staff/cases/{red}/transfer", data={**body, "confirm": "yes"})
        assert moved.status_code == 200 and "done=done_ok" in str(moved.url)
        assert school_b in moved.text and name not in moved.text
    ((school_now, class_now),) = sql(
        world.database_url,
        "SELECT s.code, st.class_id FROM students st JOIN schools s ON s.id = st.school_id "
        "WHERE st.id = :s",
        s=world.student,
    )
    assert school_now == "DEMO-B" and uid(class_now) == uid(class_b)
    assert world.members() == []  # the former school's counsellor left the group
    with world.signed_in("counsellor1") as http:
        assert http.get(f"/staff/cases/{red}").status_code == 404
    with world.signed_in("counsellor2") as http:
        page = http.get(f"/staff/cases/{red}")
        assert page.status_code == 200 and name in page.text and "转学" in page.text
