"""Issue 13 in a real browser on a 390 px phone: the district officer adds a school (a code in
use is refused first), the school lead adds a class, names its head teacher and ticks a
psychology committee member. Every page state passes the accessibility checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from browser_support import PHONE, accessibility_problems, login, off_loop, press
from svc_support import live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)


def test_schools_and_classes_on_a_phone(database_url: str, browser: Any) -> None:
    settings = make_settings(database_url)
    off_loop(seed, settings, now=T0, students=12)
    with live_server(create_app(settings, clock=ManualClock(T0))) as base:
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        states: dict[str, list[str]] = {}

        def check(state: str) -> None:
            states[state] = accessibility_problems(page)

        # The district officer: the schools list, a refused code, a new school.
        login(page, base, "district1")
        page.goto(f"{base}/staff/admin/schools")
        assert page.locator("#schools tbody tr").count() == 2
        check("schools list")
        page.get_by_label("按学校名称或代码搜索").fill("第二")
        press(page, "搜索")
        assert page.locator("#schools tbody tr").count() == 1
        check("schools search")
        page.get_by_label("学校代码", exact=True).fill("DEMO-A")
        page.get_by_label("学校名称", exact=True).fill("重名的学校")
        press(page, "新增学校")
        assert page.get_by_role("alert").inner_text().startswith("学校代码")
        assert page.get_by_label("学校名称", exact=True).input_value() == "重名的学校"
        check("schools error")
        page.get_by_label("学校代码", exact=True).fill("SCH-9")
        press(page, "新增学校")
        assert page.get_by_role("status").inner_text().endswith("已保存。")
        assert page.locator('#schools tr[data-school="SCH-9"]').count() == 1
        check("schools added")
        page.get_by_role("link", name="润心实验中学 Runxin Experimental Middle School").click()
        page.wait_for_url(re.compile(r"/staff/admin/classes\?school=DEMO-A"))
        check("district classes")
        page.locator("#classes tbody tr").first.get_by_role("link").click()
        page.wait_for_url(re.compile(r"/staff/admin/classes/[0-9a-f-]+$"))
        assert page.locator("#aggregate-note").count() == 1
        check("district class")
        phone.close()

        # The school lead: a class, its head teacher, a committee member.
        phone = browser.new_context(**PHONE)
        page = phone.new_page()
        login(page, base, "lead1")
        page.goto(f"{base}/staff/admin/classes")
        assert page.locator("#classes tbody tr").count() == 3
        check("classes list")
        page.get_by_label("年级").select_option("8")
        page.get_by_label("班级名称", exact=True).fill("八年级1班")
        press(page, "新增班级")
        assert page.get_by_role("alert").inner_text().startswith("班级名称")
        check("classes error")
        page.get_by_label("班级名称", exact=True).fill("八年级3班")
        press(page, "新增班级")
        assert page.get_by_role("status").inner_text().endswith("已保存。")
        assert page.locator("#class-head").inner_text() == "未指定"
        check("new class")
        page.get_by_label("班主任", exact=True).select_option(
            label="八年级2班班主任（headteacher2）"
        )
        press(page, "保存")
        assert page.locator("#class-head").inner_text() == "八年级2班班主任"
        page.get_by_role("link", name="返回班级列表").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="八年级1班", exact=True).click()
        page.wait_for_url(re.compile(r"/staff/admin/classes/[0-9a-f-]+$"))
        rows = page.locator("#students tbody tr")
        assert rows.count() == 2
        check("class page")
        rows.first.get_by_role("checkbox").check()
        press(page, "保存心理委员")
        assert page.locator("#students tbody tr").first.get_by_role("checkbox").is_checked()
        assert "其中心理委员 1 人" in page.locator("#class-counts").inner_text()
        check("committee saved")
        phone.close()
        assert {k: v for k, v in states.items() if v} == {}
