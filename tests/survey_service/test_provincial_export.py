"""Issue 15: the provincial aggregate export — a district's school year as de-identified,
suppressed counts, in JSON that validates against the committed JSON Schema and in CSV with the
same figures; no student identifier anywhere; small cells null; API (district officer,
audited) and ``runxin export provincial``.

Real parts: the demo district seeded into SQLite, screenings submitted over HTTP, the app in
process on a manual clock, the CLI's own code path; the annual report's queries under it run on
PostgreSQL in test_access_matrix (every GET route) and in the annual report's tests.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from page_support import sql
from svc_support import app_client, battery_answers, make_settings, runxin_here, seed

from survey_service.app import create_app
from survey_service.campaigns import suppression
from survey_service.clock import ManualClock
from survey_service.reports import provincial

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(
    (ROOT / "docs" / "schemas" / "provincial-export.schema.json").read_text(encoding="utf-8")
)
T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai, school year 2026-2027
ORANGE = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}  # ASQ non-acute positive: orange
STUDENTS = 24  # 12 per demo school (classes alternate: 3 of DEMO-A, then 3 of DEMO-B)


@dataclass(frozen=True)
class World:
    http: httpx.Client
    database_url: str
    district: dict[str, str]


def _auth(http: httpx.Client, username: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": username, "password": "pw-test-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _submit(http: httpx.Client, code: str, asq: dict[str, int | None] | None = None) -> None:
    s = http.post("/api/v1/student/sessions", json={"access_code": code}).json()
    r = http.post(
        f"/api/v1/student/sessions/{s['session_id']}/submission",
        headers={"Authorization": f"Bearer {s['session_token']}", "Idempotency-Key": "k"},
        json={"answers": battery_answers(asq)},
    )
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[World]:
    path = tmp_path_factory.mktemp("provincial") / "runxin.db"
    shutil.copyfile(sqlite_template, path)
    database_url = f"sqlite:///{path}"
    settings = make_settings(database_url)
    seeded = seed(settings, now=T0, students=STUDENTS)
    codes = seeded.access_codes
    school_a = [codes[i] for i in range(STUDENTS) if i % 6 < 3]
    school_b = [codes[i] for i in range(STUDENTS) if i % 6 >= 3]
    clock = ManualClock(T0)
    with app_client(create_app(settings, clock=clock)) as http:
        # DEMO-A: 7 screened green and 1 orange (a small cell); DEMO-B: 6 green.
        for code in school_a[:7] + school_b[:6]:
            _submit(http, code)
        _submit(http, school_a[7], ORANGE)
        # One incident at DEMO-A: a review count of 1.
        r = http.post(
            "/api/v1/incidents",
            headers=_auth(http, "counsellor1"),
            json={
                "kind": "self_harm",
                "description": "课间自伤，已处理。",
                "occurred_at": (T0 - timedelta(hours=1)).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        clock.advance(timedelta(days=1))
        ((code, name),) = sql(database_url, "SELECT code, name FROM districts")
        yield World(http, database_url, {"code": code, "name": name})


@pytest.fixture(scope="module")
def exported(world: World) -> dict[str, httpx.Response]:
    officer = _auth(world.http, "district1")
    out = {}
    for fmt in ("json", "csv"):
        r = world.http.get(
            "/api/v1/district/provincial-export",
            params={"format": fmt, "year": "2026-2027"},
            headers=officer,
        )
        assert r.status_code == 200, r.text
        out[fmt] = r
    return out


def _counts(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every count object of the document, with where it is."""
    if isinstance(node, dict):
        if set(node) == {"value", "suppressed"}:
            yield where, node
            return
        for key, value in node.items():
            yield from _counts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _counts(value, f"{where}[{i}]")


def test_the_json_validates_against_the_committed_schema(exported: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    doc = exported["json"].json()
    validator = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    assert doc["schema_version"] == provincial.SCHEMA_VERSION == "1.0"
    assert doc["school_year"] == {
        "label": "2026-2027",
        "first_day": "2026-08-01",
        "last_day": "2027-07-31",
    }
    assert [s["code"] for s in doc["schools"]] == ["DEMO-A", "DEMO-B"]
    assert exported["json"].headers["content-disposition"] == (
        f'attachment; filename="provincial-{doc["district"]["code"]}-2026-2027.json"'
    )
    # The schema refuses a small count shown as a number, and a hidden one without its flag.
    bad = json.loads(json.dumps(doc))
    bad["district_totals"]["coverage"]["refused"] = {"value": 3, "suppressed": False}
    assert not validator.is_valid(bad)
    bad["district_totals"]["coverage"]["refused"] = {"value": None, "suppressed": False}
    assert not validator.is_valid(bad)
    bad["district_totals"]["coverage"]["refused"] = {"value": 7, "suppressed": False}
    bad["schools"][0]["student_id"] = str(uuid.uuid4())
    assert not validator.is_valid(bad)


def test_small_cells_are_null_and_every_count_is_zero_k_or_null(
    world: World, exported: dict[str, Any]
) -> None:
    doc = exported["json"].json()
    counts = list(_counts(doc))
    assert len(counts) > 60
    for where, c in counts:
        if c["suppressed"]:
            assert c["value"] is None, where
        else:
            assert c["value"] == 0 or c["value"] >= suppression.MIN_CELL, (where, c)
    totals = doc["district_totals"]
    hidden = {"value": None, "suppressed": True}
    # One orange screening in the district: hidden, and green with it (the total is shown).
    assert totals["screenings_by_tier"]["orange"] == hidden
    assert totals["screenings_by_tier"]["green"] == hidden
    assert totals["screenings_by_tier"]["total"] == {"value": 14, "suppressed": False}
    assert totals["screenings_by_tier"]["red"] == {"value": 0, "suppressed": False}
    school_a, school_b = doc["schools"]
    assert school_a["screenings_by_tier"]["orange"] == hidden
    assert school_a["screenings_by_tier"]["total"] == {"value": 8, "suppressed": False}
    assert school_b["screenings_by_tier"]["total"] == {"value": 6, "suppressed": False}
    # DEMO-B's green is hidden too: shown, it would give DEMO-A's from the district's.
    assert school_b["screenings_by_tier"]["green"] == hidden
    # The one incident: its school's and the district's review counts are hidden.
    assert school_a["incident_reviews"]["recorded"] == hidden
    assert totals["incident_reviews"]["recorded"] == hidden
    assert totals["cases_by_tier"]["orange"] == hidden
    # Coverage: large enough to show, with its rate.
    assert school_a["coverage"]["submitted"] == {"value": 8, "suppressed": False}
    assert totals["coverage"]["submitted"] == {"value": 14, "suppressed": False}
    assert totals["coverage"]["invited"] == {"value": STUDENTS, "suppressed": False}
    assert totals["coverage"]["coverage_rate"] == round(14 / STUDENTS, 4)
    # The one orange case's deadlines: every count and time of its rows hidden.
    for row in totals["timeliness"]:
        if row["tier"] == "orange":
            assert row["due"] == hidden and row["median_hours"] is None, row


def test_the_csv_has_the_same_figures_as_the_json(exported: dict[str, Any]) -> None:
    doc = exported["json"].json()
    assert exported["csv"].headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported["csv"].content.decode("utf-8"))))
    assert tuple(rows[0]) == provincial.CSV_HEADER
    assert {(r["schema_version"], r["district_code"], r["school_year"]) for r in rows} == {
        ("1.0", doc["district"]["code"], "2026-2027")
    }

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    # The JSON's figures, read here independently of the module's flattening.
    expected: dict[tuple[str, str, str, str, str], tuple[str, str]] = {}
    for section, body in doc["district_totals"].items():
        entries = body if isinstance(body, list) else [body]
        for entry in entries:
            item = (
                f"{entry['tier']}.{entry['measure']}" if "tier" in entry else entry.get("duty", "")
            )
            for name, value in entry.items():
                if name in {"tier", "measure", "duty"}:
                    continue
                if isinstance(value, dict):
                    shown = (text(value["value"]), text(value["suppressed"]))
                else:
                    shown = (text(value), "")
                expected[("district", "", section, item, name)] = shown
    for school in doc["schools"]:
        for section in ("coverage", "screenings_by_tier", "incident_reviews"):
            for name, value in school[section].items():
                shown = (
                    (text(value["value"]), text(value["suppressed"]))
                    if isinstance(value, dict)
                    else (text(value), "")
                )
                expected[("school", school["code"], section, "", name)] = shown
        for check in ("ratio_met", "counselling_room"):
            expected[("school", school["code"], "staffing", "", check)] = (text(school[check]), "")
    got = {
        (r["scope"], r["school_code"], r["section"], r["item"], r["figure"]): (
            r["value"],
            r["suppressed"],
        )
        for r in rows
    }
    assert len(got) == len(rows), "a figure is in the CSV twice"
    assert got == expected


def _identifiers(database_url: str) -> set[str]:
    found: set[str] = set()
    for sid, name, number in sql(database_url, "SELECT id, name, student_number FROM students"):
        found |= {str(uuid.UUID(str(sid))), str(uuid.UUID(str(sid))).replace("-", ""), name}
        found.add(number)
    for gid, gname, phone in sql(database_url, "SELECT id, name, phone FROM guardians"):
        found |= {str(uuid.UUID(str(gid))), gname, phone}
    for (cid,) in sql(database_url, "SELECT id FROM cases"):
        found.add(str(uuid.UUID(str(cid))))
    for (digest,) in sql(database_url, "SELECT code_digest FROM access_codes"):
        found.add(digest)
    for (class_name,) in sql(database_url, "SELECT DISTINCT name FROM classes"):
        found.add(class_name)
    return {f for f in found if f}


def test_no_identifier_of_a_student_appears(world: World, exported: dict[str, Any]) -> None:
    identifiers = _identifiers(world.database_url)
    assert len(identifiers) > STUDENTS * 3
    for fmt, response in exported.items():
        body = response.content.decode("utf-8")
        leaked = sorted(i for i in identifiers if i in body)
        assert leaked == [], (fmt, leaked)


def test_only_the_district_officer_downloads_and_each_download_is_audited(
    world: World, exported: dict[str, Any]
) -> None:
    for username in ("counsellor1", "lead1", "admin1", "auditor1"):
        r = world.http.get(
            "/api/v1/district/provincial-export", headers=_auth(world.http, username)
        )
        assert r.status_code == 403, (username, r.status_code)
    officer = _auth(world.http, "district1")
    for params, field in (({"format": "xml"}, "format"), ({"year": "2026"}, "year")):
        r = world.http.get("/api/v1/district/provincial-export", params=params, headers=officer)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    rows = sql(
        world.database_url,
        "SELECT actor_role, subject_type, detail FROM audit_log WHERE action = 'export.download'",
    )
    details = [json.loads(d) if isinstance(d, str) else d for role, kind, d in rows]
    assert {"district_officer"} == {role for role, _, _ in rows}
    assert {"district"} == {kind for _, kind, _ in rows}
    assert sorted(d["format"] for d in details if d["export"] == "provincial") == ["csv", "json"]


def test_the_command_line_writes_the_same_kind_of_file(
    world: World, exported: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "export.json"
    district = world.district["code"]
    db = ["--database-url", world.database_url]
    r = runxin_here("export", "provincial", "--district", district, "--year", "2026-2027",
                    "--format", "json", "--out", str(out), *db)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    Draft202012Validator(SCHEMA, format_checker=FormatChecker()).validate(doc)
    api = exported["json"].json()
    # The same figures as the API's (the CLI runs on the wall clock: only the time differs,
    # and what depends on it — deadlines passed since — is not compared).
    for key in ("district", "school_year"):
        assert doc[key] == api[key], key
    for mine, theirs in zip(doc["schools"], api["schools"], strict=True):
        for key in ("code", "coverage", "screenings_by_tier"):
            assert mine[key] == theirs[key], (mine["code"], key)
    assert (
        doc["district_totals"]["screenings_by_tier"]
        == (api["district_totals"]["screenings_by_tier"])
    )
    csv_out = tmp_path / "export.csv"
    r = runxin_here("export", "provincial", "--district", district, "--year", "2026-2027",
                    "--format", "csv", "--out", str(csv_out), *db)  # fmt: skip
    assert r.returncode == 0 and csv_out.read_text(encoding="utf-8").startswith("schema_version,")
    audited = sql(
        world.database_url,
        "SELECT count(*) FROM audit_log WHERE action = 'export.download' AND actor_role = 'cli'",
    )
    assert audited == [(2,)]
    # Errors: one line on stderr, exit 1, nothing written.
    for args, says in (
        (["--district", "NOPE", "--out", str(tmp_path / "x.json")], "NOPE"),
        (["--district", district, "--year", "26-27", "--out", str(tmp_path / "y.json")], "--year"),
        (["--district", district, "--out", str(tmp_path / "missing" / "z.json")], "directory"),
    ):
        r = runxin_here("export", "provincial", *args, *db)
        assert r.returncode == 1 and says in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1, r.stderr
    assert not any(tmp_path.glob("[xy].json"))


def test_a_hidden_cell_cannot_be_worked_out_from_the_totals() -> None:
    """Schools × review states with every margin published: the one small cell is hidden
    with complements, and no hidden cell follows from the totals and visible cells."""
    table = [[3, 9, 0, 6], [8, 12, 0, 5], [10, 6, 0, 7]]
    protected = provincial._protect(table, row_totals=True)
    hidden = {
        (i, j) for i, row in enumerate(protected.cells) for j, v in enumerate(row) if v is None
    }
    assert (0, 0) in hidden and len(hidden) >= 4
    assert suppression.derivable(hidden, 3, 4, row_totals=True, column_totals=True) == set()
    assert list(protected.columns) == [21, 27, 0, 18] and protected.grand == 66
    # One school: its row is the district's; the row protects itself, the totals follow it.
    single = provincial._protect([[3, 9, 0, 6]], row_totals=True)
    assert single.cells[0][0] is None and single.columns == single.cells[0]
