"""Hostile input is a 400 naming the field, never a 500, and nothing is written — on SQLite and
PostgreSQL (where a NUL byte in a text column used to fail inside the database).

Covers the JSON API (NUL, bidi overrides in names, over-long values, a control character in a
path parameter), the page forms (staff and student), and roster uploads (every accepted
encoding with Chinese names, an unknown encoding, a missing file part, an empty file, an unknown
extension). A static check walks every request body the API accepts: each string has a
maximum length.
"""

from __future__ import annotations

import codecs
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest
from page_support import hidden, sql
from svc_support import app_client, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

# What these tests check does not depend on the engine: SQLite only (tests/conftest.py).
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
NUL, RLO = "\x00", "\u202e"


@pytest.fixture
def http(database_url: str) -> Iterator[httpx.Client]:
    settings = make_settings(database_url)
    seed(settings, now=T0, students=6)
    with app_client(create_app(settings, clock=ManualClock(T0))) as client:
        yield client


def _auth(http: httpx.Client, username: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": username, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _refused(r: httpx.Response, field: str) -> str:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail = str(r.json()["detail"])
    assert field in detail, detail
    return detail


def test_hostile_json_fields_are_400_naming_the_field(
    http: httpx.Client, database_url: str
) -> None:
    # The login username with a NUL: the request the fuzzer first broke on PostgreSQL.
    r = http.post("/api/v1/auth/login", json={"username": f"counsellor1{NUL}", "password": "x"})
    detail = _refused(r, "username")
    assert "control characters" in detail  # said in words, not as a regex

    staff = _auth(http, "counsellor1")
    at = T0.isoformat()
    some_case, some_student = uuid.uuid4(), uuid.uuid4()
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        (
            "POST",
            "/api/v1/incidents",
            {"kind": "k" * 5000, "description": "d", "occurred_at": at},
            "kind",
        ),
        (
            "POST",
            "/api/v1/incidents",
            {"kind": "self_harm", "description": f"a{NUL}b", "occurred_at": at},
            "description",
        ),
        (
            "POST",
            f"/api/v1/cases/{some_case}/records",
            {"kind": "talk", "summary": NUL},
            "summary",
        ),
        ("POST", f"/api/v1/cases/{some_case}/referrals", {"hospital": f"{RLO}医院"}, "hospital"),
        (
            "POST",
            "/api/v1/observations",
            {"student_id": str(some_student), "kind": "mood", "severity": "low", "note": NUL},
            "note",
        ),
        ("POST", f"/api/v1/cases/{some_case}/acknowledge", {"note": f"ok{NUL}"}, "note"),
        (
            "POST",
            f"/api/v1/cases/{some_case}/tier",
            {"tier": "red", "reason": "r" * 4001},
            "reason",
        ),
        (
            "POST",
            f"/api/v1/campaigns/{some_case}/consents",
            {"student_id": str(some_student), "status": "granted", "guardian_name": f"张{RLO}三"},
            "guardian_name",
        ),
    ]
    for method, path, body, field in cases:
        _refused(http.request(method, path, headers=staff, json=body), field)
    # A name may not end in a line break either ("$" alone would let one through).
    _refused(
        http.post(f"/api/v1/cases/{some_case}/referrals", headers=staff, json={"hospital": "a\n"}),
        "hospital",
    )
    # Free text keeps its line breaks and tabs: this note passes the edge (404: no such case).
    ok = http.post(
        f"/api/v1/cases/{some_case}/acknowledge", headers=staff, json={"note": "a\r\n\tb"}
    )
    assert ok.status_code == 404, ok.text
    # Path parameters: a control character, an over-long school code.
    _refused(http.get("/api/v1/schools/DEMO%00A/on-call", headers=staff), "school_code")
    _refused(http.get(f"/api/v1/schools/{'A' * 33}/on-call", headers=staff), "school_code")
    # Nothing was written.
    assert sql(database_url, "SELECT count(*) FROM incidents") == [(0,)]


def test_page_forms_refuse_control_characters(http: httpx.Client) -> None:
    form = http.get("/staff/login")
    r = http.post(
        "/staff/login",
        data={"_csrf": hidden(form.text, "_csrf"), "username": f"lead1{NUL}", "password": "x"},
    )
    assert r.status_code == 400, r.text
    assert "username" in r.text
    r = http.post("/s", data={"access_code": f"ABCDE{NUL}FGHJK"})
    assert r.status_code == 400, r.text
    assert "access_code" in r.text
    r = http.post("/s", data={"access_code": "x" * 20_001})
    assert r.status_code == 400, r.text


ROSTER = "学号,姓名,性别,年级,班级\r\n{n}1,张三,男,初二,3班\r\n{n}2,李四,女,初二,3班\r\n"


def test_roster_upload_reads_each_encoding_and_refuses_the_rest(
    http: httpx.Client, database_url: str
) -> None:
    lead = _auth(http, "lead1")
    url = "/api/v1/schools/DEMO-A/roster"
    encodings = {
        "U8": ("utf-8", b""),
        "UB": ("utf-8", codecs.BOM_UTF8),
        "GB": ("gb18030", b""),
        "LE": ("utf-16-le", codecs.BOM_UTF16_LE),
        "BE": ("utf-16-be", codecs.BOM_UTF16_BE),
    }
    for prefix, (encoding, bom) in encodings.items():
        body = bom + ROSTER.format(n=prefix).encode(encoding)
        r = http.post(url, headers=lead, params={"apply": "true"}, files={"data": ("r.csv", body)})
        assert r.status_code == 200, (encoding, r.text)
        assert r.json()["counts"]["create"] == 2, (encoding, r.text)
    names = sql(
        database_url,
        "SELECT student_number, name FROM students WHERE name IN ('张三', '李四')",
    )
    assert sorted(names) == sorted(
        (f"{p}{i}", name) for p in encodings for i, name in ((1, "张三"), (2, "李四"))
    )

    def upload(**kw: Any) -> httpx.Response:
        return http.post(url, headers=lead, **kw)

    # UTF-16 without a BOM, a broken UTF-16 file (odd length), a BOM then invalid UTF-8.
    for body in (
        ROSTER.format(n="X").encode("utf-16-le"),
        codecs.BOM_UTF16_LE + ROSTER.format(n="X").encode("utf-16-le") + b"\x00",
        codecs.BOM_UTF8 + b"\xff\xfe\xfa",
    ):
        r = upload(files={"data": ("r.csv", body)})
        assert r.status_code == 400, r.text
        assert "GB18030" in r.json()["detail"] and "UTF-16" in r.json()["detail"]
    # A multipart body without its file part, a text part instead of a file, an empty file,
    # an unknown extension.
    _refused(upload(files={"other": ("r.csv", b"x")}), "data")
    _refused(upload(data={"data": "not a file"}, files={"x": ("", b"")}), "data")
    assert upload(files={"data": ("r.csv", b"")}).json()["type"].endswith(":empty_file")
    r = upload(files={"data": ("r.exe", b"MZ")})
    assert r.status_code == 400 and r.json()["type"].endswith(":unsupported_file"), r.text
    # A control character in a name is a row error (422), nothing imported.
    r = upload(files={"data": ("r.csv", ROSTER.format(n="C").replace("李四", "李\x01四").encode())})
    assert r.status_code == 422 and any("control" in e for e in r.json()["errors"]), r.text


def _request_bodies() -> dict[str, type[Any]]:
    """Every request body type of the JSON API, from the route handlers' signatures."""
    from survey_service.api.routes import API_ROUTES

    found: dict[str, type[Any]] = {}
    for handler in API_ROUTES:
        hints = typing.get_type_hints(handler.fn, include_extras=True)
        data = hints.get("data")
        if data is not None:
            found[handler.handler_name] = data
    return found


def _unbounded_strings(tp: Any, path: str, seen: set[Any], out: list[str]) -> None:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        base, *meta = args
        if base is str:
            if not any(getattr(m, "max_length", None) for m in meta):
                out.append(path)
            return
        _unbounded_strings(base, path, seen, out)
        return
    if tp is str:
        out.append(path)
        return
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if tp in seen:
            return
        seen.add(tp)
        for name, hint in typing.get_type_hints(tp, include_extras=True).items():
            _unbounded_strings(hint, f"{path}.{name}", seen, out)
        return
    if origin is dict:
        _unbounded_strings(args[0], f"{path}{{key}}", seen, out)
        _unbounded_strings(args[1], f"{path}[value]", seen, out)
        return
    for i, arg in enumerate(args):
        _unbounded_strings(arg, f"{path}[{i}]" if origin in (list, tuple) else path, seen, out)


def test_every_string_in_a_request_body_has_a_maximum_length() -> None:
    bodies = _request_bodies()
    assert len(bodies) > 20  # the walk found the API's bodies
    missing: list[str] = []
    for name, tp in bodies.items():
        _unbounded_strings(tp, name, set(), missing)
    assert missing == []
