"""Sign-in under attack and staff sessions (issue 19): throttling per account and per address
(before any hashing), every attempt stored and audited although the answer is 401, idle and
absolute timeouts, logout, password change and the administrators' actions ending sessions,
the bounded hashing pool, and the safe defaults (secret key, Secure cookies, HSTS).

The database-specific parts (attempt rows surviving a 401, the throttle's queries) run on
SQLite and PostgreSQL; the rest on SQLite only, to keep the suite fast."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from page_support import hidden, sql, uid
from svc_support import app_client, make_settings, seed

from survey_service import cli, security
from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.settings import DEV_SECRET_KEY, Settings, SettingsError

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
PW = "pw-test-123"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _login(http: httpx.Client, username: str, password: str = PW) -> httpx.Response:
    return http.post("/api/v1/auth/login", json={"username": username, "password": password})


def _bearer(http: httpx.Client, username: str, password: str = PW) -> dict[str, str]:
    r = _login(http, username, password)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _actions(database_url: str, prefix: str) -> list[str]:
    rows = sql(database_url, "SELECT action FROM audit_log WHERE action LIKE :p", p=f"{prefix}%")
    return sorted(r[0] for r in rows)


def _user_id(database_url: str, username: str) -> str:
    return uid(
        sql(database_url, "SELECT id FROM staff_users WHERE username = :u", u=username)[0][0]
    )


# --- throttling -----------------------------------------------------------------------------


def test_ten_failures_throttle_the_account_even_for_the_right_password(database_url: str) -> None:
    """The attempt rows and audit rows persist although every failure answers 401; the 11th
    attempt answers 429 with Retry-After and costs no password check; after the window the
    right password works again."""
    settings = make_settings(database_url)
    seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        for _ in range(10):
            r = _login(http, "counsellor1", "wrong-password")
            assert r.status_code == 401 and r.json()["type"].endswith("invalid_credentials")
            clock.advance(timedelta(seconds=1))
        checks = 0
        real_verify = security.verify_password

        def counting(password_hash: str, password: str) -> bool:
            nonlocal checks
            checks += 1
            return real_verify(password_hash, password)

        security.verify_password = counting
        try:
            throttled = _login(http, "counsellor1", PW)
        finally:
            security.verify_password = real_verify
        assert throttled.status_code == 429 and checks == 0
        assert throttled.headers["retry-after"] == str(15 * 60 - 10)  # the first failure + 15 min
        body = throttled.json()
        assert body["type"] == "urn:runxin:problem:too_many_attempts"
        assert set(body["message"]) == {"zh-CN", "en"}
        # Another account from the same address is not held back by this one.
        assert _login(http, "counsellor2").status_code == 200
        clock.set(T0 + timedelta(minutes=15, seconds=1))
        assert _login(http, "counsellor1").status_code == 200
    user = _user_id(database_url, "counsellor1")
    rows = sql(database_url, "SELECT user_id, ok, address FROM login_attempts")
    mine = [(ok, address) for user_id, ok, address in rows if uid(user_id) == user]
    assert sorted(ok for ok, _ in mine) == [False] * 10 + [True]
    assert {address for _, address in mine} == {"testclient"}
    assert _actions(database_url, "login.") == sorted(
        ["login.failed"] * 10 + ["login.throttled"] + ["login.ok"] * 2
    )


@SQLITE_ONLY
def test_a_success_ends_the_run_of_failures_and_unknown_names_count_too(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:

        def attempt(username: str, password: str) -> int:
            clock.advance(timedelta(seconds=1))
            return _login(http, username, password).status_code

        assert [attempt("lead1", "nope") for _ in range(9)] == [401] * 9
        assert attempt("lead1", PW) == 200
        assert [attempt("lead1", "nope") for _ in range(10)] == [401] * 10
        assert attempt("lead1", PW) == 429
        # An unknown name is throttled exactly like a known one (no account enumeration).
        assert [attempt("nobody-here", "x") for _ in range(10)] == [401] * 10
        assert attempt("nobody-here", "x") == 429
    unknown = sql(database_url, "SELECT user_id FROM login_attempts WHERE username='nobody-here'")
    assert len(unknown) == 10 and {u for (u,) in unknown} == {None}
    assert "nobody-here" not in str(sql(database_url, "SELECT * FROM audit_log"))


@SQLITE_ONLY
def test_one_address_is_throttled_across_accounts(database_url: str) -> None:
    settings = make_settings(database_url, login_max_failures_address=6)
    seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        names = ["counsellor1", "counsellor2", "lead1", "lead2", "headteacher1", "x1"]
        for name in names:
            clock.advance(timedelta(seconds=1))
            assert _login(http, name, "wrong").status_code == 401
        # Claiming another address does not help: the peer is no trusted proxy.
        r = http.post(
            "/api/v1/auth/login",
            json={"username": "district1", "password": PW},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert r.status_code == 429 and int(r.headers["retry-after"]) == 15 * 60 - 5


def test_client_address_believes_only_trusted_proxies() -> None:
    trusted = ("10.0.0.0/8", "192.168.1.5")
    xff = "198.51.100.7, 203.0.113.9, 10.1.2.3"
    assert security.client_address("203.0.113.1", xff, ()) == "203.0.113.1"
    assert security.client_address("203.0.113.1", xff, trusted) == "203.0.113.1"
    assert security.client_address("192.168.1.5", xff, trusted) == "203.0.113.9"
    assert security.client_address("10.9.9.9", "203.0.113.9", trusted) == "203.0.113.9"
    assert security.client_address("10.9.9.9", "junk, 203.0.113.9", trusted) == "203.0.113.9"
    assert security.client_address("10.9.9.9", "10.2.2.2", trusted) == "10.2.2.2"
    assert security.client_address("10.9.9.9", None, trusted) == "10.9.9.9"
    assert security.client_address(None, None, ()) == "unknown"
    with pytest.raises(SettingsError, match="RUNXIN_TRUSTED_PROXIES"):
        Settings.from_env({"RUNXIN_TRUSTED_PROXIES": "10.0.0.1, proxy.example"})
    env = {"RUNXIN_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16", "RUNXIN_STAFF_IDLE_TIMEOUT_S": "60"}
    parsed = Settings.from_env(env)
    assert parsed.trusted_proxies == ("10.0.0.1", "10.1.0.0/16")
    assert parsed.staff_idle_timeout_s == 60


@SQLITE_ONLY
def test_the_login_page_says_when_to_try_again(database_url: str) -> None:
    settings = make_settings(database_url, login_max_failures_account=2)
    seed(settings, now=T0)
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:

        def post(password: str, lang: str) -> httpx.Response:
            form = http.get(f"/staff/login?lang={lang}")
            return http.post(
                "/staff/login",
                data={
                    "_csrf": hidden(form.text, "_csrf"),
                    "username": "lead1",
                    "password": password,
                },
            )

        assert post("wrong", "en").status_code == 401
        assert post("wrong", "en").status_code == 401
        en = post(PW, "en")
        assert en.status_code == 429 and en.headers["retry-after"] == str(15 * 60)
        assert "Too many failed sign-ins. Try again in 15 minutes." in en.text
        zh = post(PW, "zh-CN")
        assert zh.status_code == 429 and "登录失败次数过多，请 15 分钟后再试。" in zh.text
        clock.advance(timedelta(minutes=15))
        assert post(PW, "en").status_code == 303
    assert _actions(database_url, "login.") == sorted(
        ["login.failed"] * 2 + ["login.throttled"] * 2 + ["login.ok"]
    )


def test_hashing_runs_on_a_bounded_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many checks wait, at most ``hashing_threads()`` run at once."""
    running = peak = 0
    lock = threading.Lock()

    def slow(password_hash: str, password: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(security, "verify_password", slow)
    monkeypatch.setattr(security, "hashing_threads", lambda: 2)

    async def flood() -> None:
        await asyncio.gather(*(security.verify_password_async("h", "p") for _ in range(12)))

    asyncio.run(flood())
    assert peak == 2


# --- sessions -------------------------------------------------------------------------------


@SQLITE_ONLY
def test_idle_and_absolute_timeouts_and_logout(database_url: str) -> None:
    settings = make_settings(database_url, staff_idle_timeout_s=30 * 60, staff_token_ttl_s=3600)
    seed(settings, now=T0)
    clock = ManualClock(T0)

    def last_used() -> datetime:
        ((value,),) = sql(database_url, "SELECT last_used_at FROM staff_tokens")
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))

    with app_client(create_app(settings, clock=clock)) as http:
        auth = _bearer(http, "counsellor1")
        clock.advance(timedelta(seconds=30))
        assert http.get("/api/v1/cases", headers=auth).status_code == 200
        assert last_used().replace(tzinfo=UTC) == T0  # not written more than once a minute
        for minutes in (20, 40, 59):  # each request within the idle timeout of the last
            clock.set(T0 + timedelta(minutes=minutes))
            assert http.get("/api/v1/cases", headers=auth).status_code == 200
        assert last_used().replace(tzinfo=UTC) == T0 + timedelta(minutes=59)
        clock.set(T0 + timedelta(minutes=60))  # the absolute end, although not idle
        r = http.get("/api/v1/cases", headers=auth)
        assert r.status_code == 401 and r.json()["type"].endswith("invalid_token")

        clock.set(T0 + timedelta(hours=2))
        auth = _bearer(http, "counsellor1")
        clock.advance(timedelta(minutes=30))  # idle for the whole timeout
        assert http.get("/api/v1/cases", headers=auth).status_code == 401

        auth = _bearer(http, "counsellor1")
        assert http.post("/api/v1/auth/logout", headers=auth).status_code == 204
        assert http.get("/api/v1/cases", headers=auth).status_code == 401
        assert http.post("/api/v1/auth/logout", headers=auth).status_code == 401
    assert _actions(database_url, "logout") == ["logout"]


@SQLITE_ONLY
def test_changing_ones_password_ends_the_other_sessions(database_url: str) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    clock = ManualClock(T0)
    new = "a-new-long-password"
    with app_client(create_app(settings, clock=clock)) as http:
        here, there = _bearer(http, "counsellor1"), _bearer(http, "counsellor1")
        url = "/api/v1/auth/password"
        short = http.post(url, headers=here, json={"current_password": PW, "new_password": "x" * 9})
        assert short.status_code == 400 and short.json()["type"].endswith("weak_password")
        same = http.post(
            url, headers=here, json={"current_password": PW, "new_password": "Counsellor1"}
        )
        assert same.status_code == 400
        wrong = http.post(url, headers=here, json={"current_password": "nope", "new_password": new})
        assert wrong.status_code == 403 and wrong.json()["type"].endswith("wrong_password")
        ok = http.post(url, headers=here, json={"current_password": PW, "new_password": new})
        assert ok.status_code == 204, ok.text
        assert http.get("/api/v1/cases", headers=here).status_code == 200
        assert http.get("/api/v1/cases", headers=there).status_code == 401
        assert _login(http, "counsellor1", PW).status_code == 401
        assert _login(http, "counsellor1", new).status_code == 200
    assert _actions(database_url, "password.") == ["password.change_failed", "password.changed"]
    failures = sql(database_url, "SELECT ok FROM login_attempts WHERE username='counsellor1'")
    assert sorted(bool(ok) for (ok,) in failures) == [False, False, True, True, True, True]


@SQLITE_ONLY
def test_administrators_reset_disable_enable_and_move_within_their_scope(
    database_url: str,
) -> None:
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0)
    school_b = seeded.school_codes[1]
    c1, c2 = _user_id(database_url, "counsellor1"), _user_id(database_url, "counsellor2")
    school_b_id = uid(sql(database_url, "SELECT id FROM schools WHERE code=:c", c=school_b)[0][0])
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        admin, officer = _bearer(http, "admin1"), _bearer(http, "district1")
        victim = _bearer(http, "counsellor1")
        lead = _bearer(http, "lead1")

        reset = {"new_password": "reset-by-admin-1"}
        assert (
            http.post(f"/api/v1/staff/{c2}/password", headers=admin, json=reset).status_code == 404
        )
        assert (
            http.post(f"/api/v1/staff/{c1}/password", headers=lead, json=reset).status_code == 403
        )
        weak = http.post(f"/api/v1/staff/{c1}/password", headers=admin, json={"new_password": "x"})
        assert weak.status_code == 400
        r = http.post(f"/api/v1/staff/{c1}/password", headers=admin, json=reset)
        assert r.status_code == 200 and r.json()["sessions_revoked"] == 1
        assert set(r.json()) == {
            "user_id",
            "username",
            "role",
            "school_id",
            "active",
            "sessions_revoked",
        }
        assert http.get("/api/v1/cases", headers=victim).status_code == 401
        assert _login(http, "counsellor1", PW).status_code == 401
        victim = _bearer(http, "counsellor1", "reset-by-admin-1")

        assert http.post(f"/api/v1/staff/{c2}/disable", headers=admin).status_code == 404
        r = http.post(f"/api/v1/staff/{c1}/disable", headers=admin)
        assert r.status_code == 200 and r.json()["active"] is False
        assert http.get("/api/v1/cases", headers=victim).status_code == 401
        assert _login(http, "counsellor1", "reset-by-admin-1").status_code == 401
        assert http.post(f"/api/v1/staff/{c1}/enable", headers=admin).json()["active"] is True
        victim = _bearer(http, "counsellor1", "reset-by-admin-1")

        move = {"school_id": school_b_id}
        assert http.post(f"/api/v1/staff/{c1}/school", headers=admin, json=move).status_code == 403
        r = http.post(f"/api/v1/staff/{c1}/school", headers=officer, json=move)
        assert r.status_code == 200 and r.json()["school_id"] == school_b_id
        assert r.json()["sessions_revoked"] == 1
        assert http.get("/api/v1/cases", headers=victim).status_code == 401
        # Now of school B: out of the school A administrator's reach.
        assert http.post(f"/api/v1/staff/{c1}/disable", headers=admin).status_code == 404
        missing = "00000000-0000-4000-8000-000000000000"
        assert http.post(f"/api/v1/staff/{missing}/disable", headers=officer).status_code == 404
    assert _actions(database_url, "staff.") == sorted(
        ["staff.password_reset", "staff.disabled", "staff.enabled", "staff.moved"]
    )


@SQLITE_ONLY
def test_cli_resets_a_password_from_stdin_and_disables(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url)
    seed(settings, now=T0)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        old_session = _bearer(http, "lead1")
    url = ["--database-url", database_url]
    monkeypatch.setattr("sys.stdin", io.StringIO("from-the-cli-123\n"))
    assert cli.main(["user", "reset-password", "lead1", *url]) == 0
    assert "lead1: password reset; 1 session(s) ended" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "reset-password", "lead1", *url]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert cli.main(["user", "disable", "nobody", *url]) == 1
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        assert http.get("/api/v1/cases", headers=old_session).status_code == 401
        assert _login(http, "lead1", "from-the-cli-123").status_code == 200
        assert cli.main(["user", "disable", "lead1", *url]) == 0
        assert _login(http, "lead1", "from-the-cli-123").status_code == 401
    rows = sql(database_url, "SELECT actor_role FROM audit_log WHERE action LIKE 'staff.%'")
    assert sorted(r[0] for r in rows) == ["cli", "cli"]


# --- safe defaults --------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
@pytest.mark.parametrize("key", [None, DEV_SECRET_KEY])
def test_serve_and_worker_refuse_to_start_without_a_real_key(
    command: list[str],
    key: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    monkeypatch.delenv("RUNXIN_SECRET_KEY", raising=False)
    if key is not None:
        monkeypatch.setenv("RUNXIN_SECRET_KEY", key)
    assert cli.main([*command, "--database-url", f"sqlite:///{tmp_path}/x.db"]) == 2
    err = capsys.readouterr().err
    assert "RUNXIN_SECRET_KEY" in err and "refusing to start" in err and "拒绝启动" in err


def _cookie_and_hsts(
    base_url: str, database_url: str, via: str = "http://testserver"
) -> tuple[bool, str | None]:
    """Whether the sign-in form's cookie is ``Secure``, and the HSTS header, for a service
    whose public address is ``base_url`` reached at ``via``."""
    settings = make_settings(database_url, base_url=base_url)
    with app_client(create_app(settings, clock=ManualClock(T0))) as http:
        http.base_url = httpx.URL(via)
        r = http.get("/staff/login")
        attributes = [a.strip().lower() for a in r.headers["set-cookie"].split(";")]
        return "secure" in attributes, r.headers.get("strict-transport-security")


@SQLITE_ONLY
def test_cookies_are_secure_unless_local_http_and_hsts_on_https(database_url: str) -> None:
    assert _cookie_and_hsts("http://127.0.0.1:8000", database_url) == (False, None)
    assert _cookie_and_hsts("http://localhost:8000", database_url) == (False, None)
    # Behind a TLS proxy the request arrives as plain http: the public address decides.
    assert _cookie_and_hsts("https://runxin.example.cn", database_url) == (
        True,
        "max-age=31536000",
    )
    assert _cookie_and_hsts("http://runxin.school.example", database_url) == (True, None)
    # A request that did arrive over https gets Secure cookies whatever the address.
    secure, _ = _cookie_and_hsts("http://127.0.0.1:8000", database_url, via="https://testserver")
    assert secure
    assert security.is_local_http("http://[::1]:8000")
    assert not security.is_local_http("https://127.0.0.1")
