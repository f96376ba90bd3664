"""Issue 13: staff accounts run from pages, and the forced password change at first sign-in.

A school administrator adds an account and reads its one-time password once; the account signs
in with it and is sent to the password page from every other page (and refused by the JSON API)
until it has chosen its own; resets and disabling end its sessions. Another school's account
answers 404, like a missing one. Real parts: the app in process, SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from page_support import csrf, sql, staff_login, uid
from svc_support import another_client, app_client, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ACCOUNTS = "/staff/admin/staff"


def _user_id(database_url: str, username: str) -> str:
    rows = sql(database_url, "SELECT id FROM staff_users WHERE username = :u", u=username)
    return uid(rows[0][0])


def _must_change(database_url: str, username: str) -> bool:
    rows = sql(
        database_url, "SELECT must_change_password FROM staff_users WHERE username = :u", u=username
    )
    return bool(rows[0][0])


def _count(database_url: str, table: str) -> int:
    return int(sql(database_url, f"SELECT count(*) FROM {table}")[0][0])


def _listed(page: str) -> list[str]:
    return re.findall(r'<tr data-username="([^"]+)"', page)


def _one_time_password(page: str) -> str:
    match = re.search(r'id="one-time-password"[^>]*>([^<]+)<', page)
    assert match, page
    return match.group(1)


def _post(http: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    """A form post with the CSRF token of the page at ``path`` (or of the accounts list)."""
    form = http.get(path)
    token = csrf(form.text if form.status_code == 200 else http.get(ACCOUNTS).text)
    return http.post(path, data={"_csrf": token, **data})


def test_school_admin_adds_resets_and_disables_an_account_that_must_change_its_password(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as admin:
        assert staff_login(admin, "admin1").status_code == 303

        # The list: this school's accounts only, searchable, never a password.
        page = admin.get(ACCOUNTS)
        assert page.status_code == 200
        listed = _listed(page.text)
        assert {"counsellor1", "lead1", "admin1", "headteacher1"} <= set(listed)
        assert not {"counsellor2", "district1", "auditor1"} & set(listed)
        assert "心理老师" in page.text and "$argon2" not in page.text
        assert _listed(admin.get(ACCOUNTS, params={"q": "LEAD"}).text) == ["lead1"]
        assert _listed(admin.get(ACCOUNTS, params={"q": "林静"}).text) == ["counsellor1"]
        assert _listed(admin.get(ACCOUNTS, params={"q": "%"}).text) == []

        # The form offers the school's roles only; bad forms come back as typed, nothing stored.
        form = admin.get(f"{ACCOUNTS}/new")
        assert form.status_code == 200
        assert 'value="counsellor"' in form.text and 'value="district_officer"' not in form.text
        before = (_count(database_url, "staff_users"), _count(database_url, "audit_log"))
        typed = {"username": "counsellor1", "display_name": "张敏", "role": "counsellor"}
        taken = _post(admin, f"{ACCOUNTS}/new", typed)
        assert taken.status_code == 422
        assert "用户名“counsellor1”已被使用" in taken.text and 'value="张敏"' in taken.text
        assert 'id="username" name="username" value="counsellor1"' in taken.text
        assert 'aria-invalid="true"' in taken.text
        officer = _post(admin, f"{ACCOUNTS}/new", {**typed, "username": "zm", "role": "auditor"})
        assert officer.status_code == 422 and "请选择角色" in officer.text
        assert (_count(database_url, "staff_users"), _count(database_url, "audit_log")) == before

        created = _post(admin, f"{ACCOUNTS}/new", {**typed, "username": "zhang.min"})
        assert created.status_code == 200 and "zhang.min" in created.text
        password = _one_time_password(created.text)
        assert len(password) >= 10 and _must_change(database_url, "zhang.min")
        new_id = _user_id(database_url, "zhang.min")

        # Signing in with it: every page leads to the password page, which leads back.
        with another_client(admin) as person:
            signed_in = staff_login(person, "zhang.min", password)
            assert signed_in.headers["location"] == "/staff/queue"
            for path in ("/staff/queue", "/staff/school", "/staff/none"):
                r = person.get(path)
                assert r.status_code == 303, path
                assert r.headers["location"] == f"/staff/password?next={path}"
            assert person.get("/staff/logout").status_code == 200  # signing out stays open
            form = person.get("/staff/password?next=/staff/queue")
            assert form.status_code == 200 and 'id="forced-change"' in form.text
            token = csrf(form.text)

            def change(current: str, new: str, repeat: str | None = None) -> httpx.Response:
                return person.post(
                    "/staff/password",
                    data={
                        "_csrf": token,
                        "next": "/staff/queue",
                        "current_password": current,
                        "new_password": new,
                        "repeat_password": new if repeat is None else repeat,
                    },
                )

            differ = change(password, "a-new-long-password", "another-password")
            assert differ.status_code == 422 and "两次输入的新密码不一致" in differ.text
            assert change(password, "short").status_code == 422
            same = change(password, password)
            assert same.status_code == 422 and "新密码不能与当前密码相同" in same.text
            wrong = change("not-the-password", "a-new-long-password")
            assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
            assert _must_change(database_url, "zhang.min")
            done = change(password, "a-new-long-password")
            assert done.status_code == 303
            assert done.headers["location"] == "/staff/queue?done=acct_password_changed"
            home = person.get(done.headers["location"])
            assert home.status_code == 200 and "密码已修改" in home.text
            assert not _must_change(database_url, "zhang.min")

            # A reset: a new one-time password; the person's session ends; forced again.
            confirm = admin.get(f"{ACCOUNTS}/{new_id}/password")
            assert confirm.status_code == 200 and "生成一次性密码" in confirm.text
            reset = admin.post(f"{ACCOUNTS}/{new_id}/password", data={"_csrf": csrf(confirm.text)})
            assert reset.status_code == 200
            second = _one_time_password(reset.text)
            assert second != password and "1 个登录会话已结束" in reset.text
            assert person.get("/staff/queue").headers["location"].startswith("/staff/login")
            assert _must_change(database_url, "zhang.min")

            # Disabled: no sign-in; enabled again: the password works (and must be changed).
            confirm = admin.get(f"{ACCOUNTS}/{new_id}/active")
            assert "停用" in confirm.text and 'name="active" value="0"' in confirm.text
            off = admin.post(
                f"{ACCOUNTS}/{new_id}/active", data={"_csrf": csrf(confirm.text), "active": "0"}
            )
            assert off.headers["location"] == f"{ACCOUNTS}/{new_id}?done=acct_disabled"
            assert "已停用" in admin.get(off.headers["location"]).text
            assert staff_login(person, "zhang.min", second).status_code == 401
            on = admin.post(
                f"{ACCOUNTS}/{new_id}/active", data={"_csrf": csrf(confirm.text), "active": "1"}
            )
            assert on.status_code == 303
            assert staff_login(person, "zhang.min", second).headers["location"] == "/staff/queue"
            assert person.get("/staff/queue").headers["location"].startswith("/staff/password")

        # Another school's account answers 404 to every action, like a missing one.
        other = _user_id(database_url, "counsellor2")
        token = csrf(admin.get(ACCOUNTS).text)
        for method, path in (
            ("GET", f"{ACCOUNTS}/{other}"),
            ("GET", f"{ACCOUNTS}/{other}/password"),
            ("POST", f"{ACCOUNTS}/{other}/password"),
            ("GET", f"{ACCOUNTS}/{other}/active"),
            ("POST", f"{ACCOUNTS}/{other}/active"),
            ("GET", f"{ACCOUNTS}/00000000-0000-4000-8000-000000000000"),
        ):
            data = {"_csrf": token, "active": "0"} if method == "POST" else None
            assert admin.request(method, path, data=data).status_code == 404, path
        assert _must_change(database_url, "counsellor2") is False

    audit = sql(
        database_url, "SELECT action, actor_role FROM audit_log WHERE action LIKE 'staff.%'"
    )
    assert sorted(a for a, _ in audit) == [
        "staff.created",
        "staff.disabled",
        "staff.enabled",
        "staff.password_reset",
    ]
    assert {r for _, r in audit} == {"school_admin"}
    # Only the administrator's 404s are refusals; the forced redirects are not audited as such.
    denied = sql(database_url, "SELECT actor_role FROM audit_log WHERE action = 'access.denied'")
    assert [r for (r,) in denied] == ["school_admin"] * 6


def test_district_officer_runs_every_school_and_the_districts_own_accounts(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    school_b = seeded.school_codes[1]
    school_b_id = uid(sql(database_url, "SELECT id FROM schools WHERE code=:c", c=school_b)[0][0])
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        assert staff_login(http, "district1").status_code == 303
        every = _listed(http.get(ACCOUNTS).text)
        assert {"district1", "auditor1", "counsellor1", "counsellor2"} <= set(every)
        assert every[:2] == ["auditor1", "district1"]  # the district's own accounts first
        only_b = _listed(http.get(ACCOUNTS, params={"school": school_b_id}).text)
        assert "counsellor2" in only_b and "counsellor1" not in only_b

        typed = {"username": "ops2", "display_name": "值班员", "role": "counsellor", "school": ""}
        no_school = _post(http, f"{ACCOUNTS}/new", typed)
        assert no_school.status_code == 422 and "请为这个账号选择学校" in no_school.text
        district_with_school = _post(
            http, f"{ACCOUNTS}/new", {**typed, "role": "auditor", "school": school_b_id}
        )
        assert (
            district_with_school.status_code == 422
            and "不属于任何学校" in district_with_school.text
        )
        bad_mail = _post(
            http, f"{ACCOUNTS}/new", {**typed, "school": school_b_id, "email": "not-an-address"}
        )
        assert bad_mail.status_code == 422 and "电子邮箱格式不正确" in bad_mail.text
        made = _post(http, f"{ACCOUNTS}/new", {**typed, "role": "district_officer"})
        assert made.status_code == 200 and _one_time_password(made.text)
        rows = sql(database_url, "SELECT school_id FROM staff_users WHERE username='ops2'")
        assert rows == [(None,)]

        # One's own account: no reset or disabling here, the password page instead.
        own = http.get(f"{ACCOUNTS}/{_user_id(database_url, 'district1')}")
        assert own.status_code == 200 and 'href="/staff/password"' in own.text
        assert "/active" not in own.text

    with app_client(create_app(settings, clock=ManualClock(T0))) as lead:
        staff_login(lead, "lead1")
        assert lead.get(ACCOUNTS).status_code == 403
        assert lead.get(f"{ACCOUNTS}/new").status_code == 403


@SQLITE_ONLY
def test_the_api_refuses_a_one_time_password_until_it_is_changed(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        staff_login(http, "admin1")
        made = _post(
            http,
            f"{ACCOUNTS}/new",
            {"username": "li.na", "display_name": "李娜", "role": "counsellor"},
        )
        password = _one_time_password(made.text)
        here, there = (
            {"Authorization": f"Bearer {r.json()['access_token']}"}
            for r in (
                http.post("/api/v1/auth/login", json={"username": "li.na", "password": password})
                for _ in range(2)
            )
        )
        for method, path in (("GET", "/api/v1/cases"), ("GET", "/api/v1/me/notifications")):
            refused = http.request(method, path, headers=here)
            assert refused.status_code == 403, path
            assert refused.json()["type"].endswith("password_change_required")
        assert http.post("/api/v1/auth/logout", headers=there).status_code == 204
        new = {"current_password": password, "new_password": "li-na-chose-this"}
        assert http.post("/api/v1/auth/password", headers=here, json=new).status_code == 204
        assert http.get("/api/v1/cases", headers=here).status_code == 200
