"""The access model, generated from the app's routes and ``accounts.permissions``.

* Deny by default: every registered route is in the explicit public list or declares an
  operation of ``PERMISSIONS`` (a new staff route without one fails here), and the guard
  refuses an undeclared route at run time.
* The matrix: every role × every staff route (JSON API and pages, reads and writes) ×
  {own object, same school other class, other school, missing object}. A role the table does
  not allow gets 403 before the handler runs; an allowed one reaches its own object (any
  answer but 401/403/404: a validation 4xx or a 409 is fine, only the access decision is under
  test); another school's object and a missing one answer 404; another class of the same
  school answers 404 for a head teacher and is reachable for the school's roles. Signed out:
  401 on the API, the sign-in page for pages.

One seeded district on SQLite (school B moved to a second district, so it is another school
for everyone, the district officer included); a representative sample runs on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from page_support import api_submit, csrf, staff_login
from sqlalchemy import select, update
from svc_support import another_client, app_client, battery_answers, make_settings, seed

from survey_service.accounts.permissions import (
    PERMISSIONS,
    PUBLIC_ROUTES,
    SCOPES,
    Role,
    is_public,
    operation_of,
)
from survey_service.app import create_app
from survey_service.clock import ManualClock
from survey_service.db import (
    Case,
    CaseTask,
    District,
    Guardian,
    School,
    SchoolClass,
    StaffUser,
    Student,
    create_engine,
    create_session_factory,
)
from survey_service.security import hash_password

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)
PASSWORD = "pw-test-123"
USERS = {
    Role.COUNSELLOR: "counsellor1",
    Role.SCHOOL_LEAD: "lead1",
    Role.SCHOOL_ADMIN: "admin1",
    Role.HEAD_TEACHER: "headteacher1",  # of class 八年级1班 of school A
    Role.TEACHER: "teacher1",
    Role.DISTRICT_OFFICER: "district1",
    Role.AUDITOR: "auditor1",
}
TARGETS = ("own", "other_class", "other_school", "missing")
RED = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
ORANGE = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # full template, with the parameters' types
    operation: str | None

    @property
    def page(self) -> bool:
        return self.path == "/staff" or self.path.startswith("/staff/")

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{(\w+)(?::\w+)?\}", self.path)


def app_routes(app: Litestar) -> list[Route]:
    """Every (method, path) the app serves, with its declared operation (no OPTIONS)."""
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(getattr(handler, "http_methods", ())):
                if method in {"OPTIONS", "HEAD"}:
                    continue
                out.append(Route(method, route.path, operation_of(handler.opt)))
    return sorted(set(out), key=lambda r: (r.path, r.method))


# --- deny by default ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def routes() -> list[Route]:
    app = create_app(make_settings("sqlite:///unused.db"))
    return app_routes(app)


def test_every_route_is_public_or_declares_a_known_operation(routes: list[Route]) -> None:
    undeclared = [f"{r.method} {r.path}" for r in routes if r.operation is None]
    assert [u for u in undeclared if not is_public(u.split(" ", 1)[1])] == []
    # Nothing public declares an operation, and the public list names only existing routes.
    assert [r for r in routes if r.operation and is_public(r.path)] == []
    paths = {r.path for r in routes}
    assert sorted(p for p in PUBLIC_ROUTES if p not in paths) == []
    # Every operation a route declares exists (operation_of raises otherwise), and every
    # role is a known one with a scope.
    assert set(SCOPES) == set(Role)
    assert all(roles <= set(Role) for roles in PERMISSIONS.values())


def test_a_route_without_a_permission_is_refused(tmp_path: Path) -> None:
    """The guard denies by default: a staff route that forgets its operation answers 403."""
    from litestar import get

    from survey_service.app import access_guard

    @get("/api/v1/forgotten", guards=[access_guard])
    async def forgotten() -> dict[str, str]:
        return {"data": "children's health"}

    @get("/healthz", guards=[access_guard])
    async def public() -> dict[str, str]:
        return {"status": "ok"}

    from survey_service.errors import EXCEPTION_HANDLERS

    app = Litestar([forgotten, public], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as http:
        r = http.get("/api/v1/forgotten")
        assert r.status_code == 403 and "declares no permission" in r.text
        assert http.get("/healthz").status_code == 200


# --- the seeded world ----------------------------------------------------------------------


@dataclass
class World:
    http: TestClient[Litestar]
    database_url: str
    routes: list[Route]
    ids: dict[str, dict[str, Any]]  # target -> path parameter -> value
    bodies: dict[str, dict[str, Any]]  # target -> values for bodies (student_id, guardian_id)
    tokens: dict[Role, dict[str, str]] = field(default_factory=dict)
    pages: dict[Role, httpx.Client] = field(default_factory=dict)
    csrf: dict[Role, str] = field(default_factory=dict)


async def _prepare(database_url: str) -> None:
    """Staff the seed lacks (school admin, teacher, auditor) and a second district holding
    school B."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            a = await db.scalar(select(School).where(School.code == "DEMO-A"))
            assert a is not None
            pw = hash_password(PASSWORD)
            seeded = set((await db.scalars(select(StaffUser.username))).all())
            for username, role, school in (
                ("admin1", "school_admin", a.id),
                ("teacher1", "teacher", a.id),
                ("auditor1", "auditor", None),
            ):
                if username in seeded:
                    continue
                db.add(
                    StaffUser(
                        username=username,
                        password_hash=pw,
                        role=role,
                        display_name=username,
                        district_id=a.district_id,
                        school_id=school,
                    )
                )
            other = District(code="OTHER", name="Another district")
            db.add(other)
            await db.flush()
            await db.execute(
                update(School).where(School.code == "DEMO-B").values(district_id=other.id)
            )
    finally:
        await engine.dispose()


async def _objects(database_url: str, students: list[uuid.UUID]) -> dict[str, Any]:
    """Per student: the case, a task (a head teacher's where there is one), a guardian."""
    engine = create_engine(database_url)
    out: dict[str, Any] = {}
    try:
        async with create_session_factory(engine)() as db:
            for sid in students:
                student = await db.get_one(Student, sid)
                case = await db.scalar(select(Case).where(Case.student_id == sid))
                assert case is not None
                tasks = list(
                    (await db.scalars(select(CaseTask).where(CaseTask.case_id == case.id))).all()
                )
                heads = [t for t in tasks if t.assignee_role == "head_teacher"]
                guardian = await db.scalar(select(Guardian).where(Guardian.student_id == sid))
                assert guardian is not None and tasks
                out[str(sid)] = {
                    "case_id": case.id,
                    "task_id": (heads or tasks)[0].id,
                    "guardian_id": guardian.id,
                    "class_id": student.class_id,
                }
            schools = {s.code: s for s in (await db.scalars(select(School))).all()}
            out["classes"] = {
                k.id: k.school_id for k in (await db.scalars(select(SchoolClass))).all()
            }
            out["schools"] = schools
    finally:
        await engine.dispose()
    return out


def _api_login(http: TestClient[Litestar], username: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _world(database_url: str) -> Iterator[World]:
    settings = make_settings(database_url)
    codes = seed(settings, now=T0, students=6).access_codes
    asyncio.run(_prepare(database_url))
    with app_client(create_app(settings, clock=ManualClock(T0)), timeout=15) as http:
        # Students 0, 1 and 3: school A class 8-1 (head teacher 1), school A class 8-2,
        # school B (now of another district).
        api_submit(http, codes[0], battery_answers(RED))
        api_submit(http, codes[1], battery_answers(ORANGE))
        api_submit(http, codes[3], battery_answers(RED))
        engine_ids = asyncio.run(_student_ids(database_url))
        s0, s1, s3 = engine_ids
        found = asyncio.run(_objects(database_url, [s0, s1, s3]))
        schools = found["schools"]
        a, b = schools["DEMO-A"], schools["DEMO-B"]
        camp = asyncio.run(_campaigns(database_url))
        tokens = {role: _api_login(http, user) for role, user in USERS.items()}
        a_staff, b_staff = _api_login(http, "counsellor1"), _api_login(http, "counsellor2")
        referrals, incidents = {}, {}
        for sid, who in ((s0, a_staff), (s1, a_staff), (s3, b_staff)):
            case_id = found[str(sid)]["case_id"]
            r = http.post(f"/api/v1/cases/{case_id}/referrals", json={"hospital": "H"}, headers=who)
            assert r.status_code == 201, r.text
            referrals[sid] = r.json()["referral_id"]
            plan = {
                "content": {
                    "warning_signs": ["withdrawn"],
                    "coping_steps": ["walk"],
                    "means_safety": ["lock cabinet"],
                    "contacts": [{"name": "12356", "relation": "hotline", "phone": "12356"}],
                },
                "review_on": (T0 + timedelta(days=30)).date().isoformat(),
            }
            r = http.put(f"/api/v1/students/{sid}/plan", json=plan, headers=who)
            assert r.status_code == 200, r.text
        for key, who in (("A", a_staff), ("B", b_staff)):
            r = http.post(
                "/api/v1/incidents",
                json={
                    "kind": "self_harm",
                    "description": "matrix",
                    "occurred_at": (T0 - timedelta(hours=1)).isoformat(),
                },
                headers=who,
            )
            assert r.status_code == 201, r.text
            incidents[key] = r.json()["incident_id"]

        def values(sid: uuid.UUID, school: School, incident: str) -> dict[str, Any]:
            o = found[str(sid)]
            return {
                "case_id": o["case_id"],
                "student_id": sid,
                "task_id": o["task_id"],
                "referral_id": referrals[sid],
                "incident_id": incident,
                "campaign_id": camp[school.id],
                "class_id": o["class_id"],
                "school_code": school.code,
                "guardian_id": o["guardian_id"],
            }

        missing = {
            k: uuid.uuid4()
            for k in ("case_id", "student_id", "task_id", "referral_id", "incident_id")
        }
        ids = {
            "own": values(s0, a, incidents["A"]),
            "other_class": values(s1, a, incidents["A"]),
            "other_school": values(s3, b, incidents["B"]),
            "missing": {
                **missing,
                "campaign_id": uuid.uuid4(),
                "class_id": found[str(s0)]["class_id"],
                "school_code": "NOPE",
                "guardian_id": uuid.uuid4(),
            },
        }
        for v in ids.values():
            v.update(label="matrix", name="coverage.csv", item_id=uuid.uuid4())
        world = World(http, database_url, app_routes(http.app), ids, {})
        world.tokens = tokens
        with contextlib.ExitStack() as stack:
            for role, user in USERS.items():
                page = stack.enter_context(another_client(http, follow_redirects=False))
                assert staff_login(page, user).status_code == 303
                world.pages[role] = page
                world.csrf[role] = csrf(page.get("/staff/logout").text)
            yield world


async def _student_ids(database_url: str) -> list[uuid.UUID]:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            numbers = ["202600001", "202600002", "202600004"]
            rows = {
                s.student_number: s.id
                for s in (
                    await db.scalars(select(Student).where(Student.student_number.in_(numbers)))
                ).all()
            }
            return [rows[n] for n in numbers]
    finally:
        await engine.dispose()


async def _campaigns(database_url: str) -> dict[uuid.UUID, uuid.UUID]:
    from survey_service.db import Campaign

    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db:
            return {c.school_id: c.id for c in (await db.scalars(select(Campaign))).all()}
    finally:
        await engine.dispose()


async def _add_member(database_url: str, case_id: uuid.UUID) -> uuid.UUID:
    """A fresh care-group member (a guardian) of the case, for one removal."""
    from survey_service.db import CareGroupMember

    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            case = await db.get_one(Case, case_id)
            guardian = await db.scalar(
                select(Guardian).where(Guardian.student_id == case.student_id)
            )
            member = CareGroupMember(
                case_id=case.id,
                role="guardian",
                staff_id=None,
                guardian_id=guardian.id if guardian else None,
                student_id=None,
                added_at=T0,
                removed_at=None,
            )
            db.add(member)
            await db.flush()
            return member.id
    finally:
        await engine.dispose()


# --- what to send to each known staff route --------------------------------------------------

Body = Callable[[dict[str, Any]], dict[str, Any]]
ALL = TARGETS
SCHOOL_LEVEL = ("own", "other_school", "missing")  # objects of a school, not of a class
OWN = ("own",)
_AT = (T0 - timedelta(hours=1)).isoformat()


def _none(v: dict[str, Any]) -> dict[str, Any]:
    return {}


def _json(**fixed: Any) -> Body:
    return lambda v: {"json": fixed}


def _form(**fixed: Any) -> Body:
    return lambda v: {"data": fixed}


#: (method, path) -> (targets to try, request keyword arguments from the target's ids).
KNOWN: dict[tuple[str, str], tuple[tuple[str, ...], Body]] = {
    ("GET", "/api/v1/cases"): (OWN, _none),
    ("GET", "/api/v1/cases/{case_id:uuid}"): (ALL, _none),
    ("POST", "/api/v1/cases/{case_id:uuid}/acknowledge"): (ALL, _none),
    ("POST", "/api/v1/cases/{case_id:uuid}/actions"): (ALL, _json(action="start_assessment")),
    ("POST", "/api/v1/cases/{case_id:uuid}/tier"): (
        ALL,
        _json(tier="red", reason="raised in the access matrix"),
    ),
    ("POST", "/api/v1/cases/{case_id:uuid}/records"): (ALL, _json(kind="note", summary="m")),
    ("POST", "/api/v1/tasks/{task_id:uuid}/complete"): (ALL, _json()),
    ("GET", "/api/v1/cases/{case_id:uuid}/care-group"): (ALL, _none),
    ("POST", "/api/v1/cases/{case_id:uuid}/care-group"): (
        ALL,
        lambda v: {"json": {"role": "guardian", "guardian_id": str(v["guardian_id"])}},
    ),
    ("DELETE", "/api/v1/cases/{case_id:uuid}/care-group/{member_id:uuid}"): (ALL, _none),
    ("POST", "/api/v1/observations"): (
        ALL,
        lambda v: {
            "json": {"student_id": str(v["student_id"]), "kind": "withdrawn", "severity": "concern"}
        },
    ),
    ("GET", "/api/v1/students/{student_id:uuid}/plan"): (ALL, _none),
    ("PUT", "/api/v1/students/{student_id:uuid}/plan"): (
        ALL,
        _json(content={}, review_on="2026-01-01"),  # in the past: refused after the scope
    ),
    ("GET", "/api/v1/students/{student_id:uuid}/file"): (ALL, _none),
    ("POST", "/api/v1/students/{student_id:uuid}/transfer"): (
        ALL,
        lambda v: {"json": {"school_code": "DEMO-A", "class_id": str(uuid.uuid4())}},
    ),
    ("POST", "/api/v1/cases/{case_id:uuid}/referrals"): (ALL, _json(hospital="H")),
    ("POST", "/api/v1/referrals/{referral_id:uuid}/stage"): (ALL, _json(stage="accepted")),
    ("POST", "/api/v1/incidents"): (
        ALL,
        lambda v: {
            "json": {
                "kind": "other",
                "description": "m",
                "occurred_at": _AT,
                "student_id": str(v["student_id"]),
            }
        },
    ),
    ("POST", "/api/v1/incidents/{incident_id:uuid}/report"): (SCHOOL_LEVEL, _json(report="x")),
    ("GET", "/api/v1/incidents"): (OWN, _none),
    ("PUT", "/api/v1/schools/{school_code:str}/calendars/{label:str}"): (
        SCHOOL_LEVEL,
        _json(terms=[{"start": "2026-09-01", "end": "2027-01-20"}]),
    ),
    ("GET", "/api/v1/schools/{school_code:str}/on-call"): (SCHOOL_LEVEL, _none),
    ("PUT", "/api/v1/schools/{school_code:str}/on-call"): (SCHOOL_LEVEL, _json(entries=[])),
    ("PUT", "/api/v1/schools/{school_code:str}/notification-routes"): (
        SCHOOL_LEVEL,
        _json(routes=[]),
    ),
    ("GET", "/api/v1/me/notifications"): (OWN, _none),
    ("POST", "/api/v1/me/notifications/{item_id:uuid}/read"): (("missing",), _none),
    ("GET", "/api/v1/operator/alerts"): (OWN, _none),
    ("POST", "/api/v1/campaigns"): (OWN, _json()),  # refused as invalid, after the role
    ("POST", "/api/v1/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/slips"): (
        ALL,
        _none,
    ),
    ("POST", "/api/v1/campaigns/{campaign_id:uuid}/consents"): (
        ALL,
        lambda v: {"json": {"student_id": str(v["student_id"]), "status": "granted"}},
    ),
    ("GET", "/api/v1/campaigns/{campaign_id:uuid}/non-completers"): (SCHOOL_LEVEL, _none),
    ("GET", "/api/v1/coverage"): (OWN, _none),
    ("GET", "/api/v1/district/provincial-export"): (OWN, _none),  # issue 15
    ("POST", "/api/v1/schools/{school_code:str}/roster"): (
        SCHOOL_LEVEL,
        lambda v: {"files": {"data": ("roster.csv", b"nothing useful\n", "text/csv")}},
    ),
    ("GET", "/staff/none"): (OWN, _none),
    ("GET", "/staff/logout"): (OWN, _none),
    ("GET", "/staff/queue"): (OWN, _none),
    ("GET", "/staff/cases/{case_id:uuid}"): (ALL, _none),
    ("GET", "/staff/students/{student_id:uuid}"): (ALL, _none),
    # issue 15: the file as PDF (a purpose is required; rendering runs for the allowed roles)
    ("GET", "/staff/students/{student_id:uuid}/file.pdf"): (
        ALL,
        lambda v: {"params": {"purpose": "transfer"}},
    ),
    ("POST", "/staff/cases/{case_id:uuid}/acknowledge"): (ALL, _form()),
    ("POST", "/staff/cases/{case_id:uuid}/action"): (ALL, _form(action="start_assessment")),
    ("POST", "/staff/cases/{case_id:uuid}/records"): (ALL, _form(kind="note", summary="m")),
    ("POST", "/staff/cases/{case_id:uuid}/refer"): (ALL, _form(hospital="H")),
    ("POST", "/staff/referrals/{referral_id:uuid}/advance"): (ALL, _form(stage="accepted")),
    ("POST", "/staff/tasks/{task_id:uuid}/complete"): (ALL, _form()),
    ("GET", "/staff/students/{student_id:uuid}/plan"): (ALL, _none),
    ("POST", "/staff/students/{student_id:uuid}/plan"): (ALL, _form(review_on="")),
    ("GET", "/staff/class"): (OWN, _none),
    ("POST", "/staff/class/observations"): (
        ALL,
        lambda v: {
            "data": {"student_id": str(v["student_id"]), "kind": "withdrawn", "severity": "concern"}
        },
    ),
    ("POST", "/staff/class/talks"): (
        ALL,
        lambda v: {"data": {"case_id": str(v["case_id"]), "summary": "m"}},
    ),
    ("GET", "/staff/school"): (OWN, _none),
    ("GET", "/staff/district"): (OWN, _none),
    ("GET", "/staff/exports/{name:str}"): (OWN, _none),
    # issue 15: the annual report (HTML: the same figures, without laying out a PDF)
    ("GET", "/staff/reports/school"): (OWN, lambda v: {"params": {"format": "html"}}),
    ("GET", "/staff/reports/district"): (OWN, lambda v: {"params": {"format": "html"}}),
    ("GET", "/staff/on-call"): (OWN, _none),
    ("POST", "/staff/on-call"): (OWN, _form(rows="0")),
    ("GET", "/staff/admin"): (OWN, _none),
    # --- issue 13: accounts administration pages ---
    ("GET", "/staff/admin/staff"): (OWN, _none),
    ("GET", "/staff/admin/staff/new"): (OWN, _none),
    ("POST", "/staff/admin/staff/new"): (OWN, _form(username="")),  # 422, after the role
    ("GET", "/staff/password"): (OWN, _none),
    ("POST", "/staff/password"): (OWN, _form()),  # 422 (no current password), after the role
    # --- issue 13: schools and classes pages ---
    ("GET", "/staff/admin/schools"): (OWN, _none),
    ("POST", "/staff/admin/schools"): (OWN, _form()),  # refused as invalid, after the role
    ("GET", "/staff/admin/classes"): (OWN, _none),
    ("POST", "/staff/admin/classes"): (OWN, _form()),
    # The "missing" target's class_id is the own class: a class page has no other object.
    ("GET", "/staff/admin/classes/{class_id:uuid}"): (
        ("own", "other_class", "other_school"),
        _none,
    ),
    ("POST", "/staff/admin/classes/{class_id:uuid}/head"): (
        ("own", "other_class", "other_school"),
        _form(head="nobody"),
    ),
    ("POST", "/staff/admin/classes/{class_id:uuid}/committee"): (
        ("own", "other_class", "other_school"),
        _form(),
    ),
    # --- issue 13: campaign wizard and roster pages ---
    ("GET", "/staff/admin/campaigns"): (OWN, _none),
    ("GET", "/staff/admin/campaigns/new"): (OWN, _none),
    ("POST", "/staff/admin/campaigns/new"): (OWN, _form(name="")),
    ("GET", "/staff/admin/roster"): (OWN, _none),
    ("POST", "/staff/admin/roster"): (OWN, _form(mode="replace")),
    ("POST", "/staff/admin/roster/apply"): (OWN, _form(mode="replace")),
    # --- issue 13: one campaign's pages (slips, consent, reminders) ---
    ("GET", "/staff/admin/campaigns/{campaign_id:uuid}"): (SCHOOL_LEVEL, _none),
    ("GET", "/staff/admin/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/slips"): (
        ALL,
        _none,
    ),
    ("POST", "/staff/admin/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/slips"): (
        ALL,
        _form(),  # no confirmation: the confirmation page again, nothing printed
    ),
    ("GET", "/staff/admin/campaigns/{campaign_id:uuid}/consents"): (SCHOOL_LEVEL, _none),
    ("POST", "/staff/admin/campaigns/{campaign_id:uuid}/consents"): (
        ALL,
        lambda v: {
            "data": {
                "student_id": str(v["student_id"]),
                "decision": "granted",
                "method": "in_person",
            }
        },
    ),
    ("POST", "/staff/admin/campaigns/{campaign_id:uuid}/consents/preview"): (
        SCHOOL_LEVEL,
        lambda v: {"files": {"file": ("c.csv", "学号,同意\n1,x\n".encode(), "text/csv")}},
    ),
    ("POST", "/staff/admin/campaigns/{campaign_id:uuid}/consents/import"): (
        SCHOOL_LEVEL,
        _form(rows="0"),
    ),
    (
        "GET",
        "/staff/admin/campaigns/{campaign_id:uuid}/classes/{class_id:uuid}/non-completers",
    ): (ALL, _none),
    ("POST", "/staff/admin/campaigns/{campaign_id:uuid}/reminders"): (
        ALL,
        lambda v: {"data": {"class_id": str(v["class_id"])}},
    ),
    # --- issue 13: notification routes and calendar pages ---
    ("GET", "/staff/admin/routes"): (OWN, _none),
    ("POST", "/staff/admin/routes"): (OWN, _form(rows="1", kind_0="sms")),  # 422, after the role
    ("GET", "/staff/admin/calendar"): (OWN, _none),
    ("POST", "/staff/admin/calendar"): (OWN, _form()),  # 422 (no label), after the role
    # --- issue 13: case page care workflow ---
    ("POST", "/staff/cases/{case_id:uuid}/care-group"): (
        ALL,
        lambda v: {"data": {"role": "guardian", "guardian_id": str(v["guardian_id"])}},
    ),
    ("POST", "/staff/cases/{case_id:uuid}/care-group/{member_id:uuid}/remove"): (ALL, _form()),
    ("POST", "/staff/cases/{case_id:uuid}/incidents"): (
        ALL,
        _form(kind="other", description="m", occurred_at=_AT),
    ),
    # The matrix's incidents name no student, so no case reaches them: refusals only.
    ("POST", "/staff/cases/{case_id:uuid}/incidents/{incident_id:uuid}/report"): (
        ("other_school", "missing"),
        _form(report="x"),
    ),
    ("GET", "/staff/case-care.js"): (OWN, _none),
    ("GET", "/staff/cases/{case_id:uuid}/transfer"): (ALL, _none),
    ("POST", "/staff/cases/{case_id:uuid}/transfer"): (
        ALL,
        lambda v: {
            "data": {"school_code": "DEMO-B", "class_id": str(v["class_id"]), "confirm": "yes"}
        },
    ),
    # --- issue 13: lists ---
}
#: Allowed for every role and ending the session the matrix keeps using: role checks only.
NOT_RUN_PERMITTED = {("POST", "/staff/logout"), ("POST", "/api/v1/auth/logout")}


def _denied(r: httpx.Response) -> bool:
    """An access refusal: 401, 404, or a 403 of the role check. A 403 of a rule about the
    object (a tier that cannot be lowered by this role, say) is the handler's answer, past the
    access decision."""
    if r.status_code in (401, 404):
        return True
    return r.status_code == 403 and (
        "forbidden_role" in r.text or "forbidden_route" in r.text or "<html" in r.text.lower()
    )


def _call(world: World, role: Role | None, route: Route, target: str, body: Body) -> httpx.Response:
    values = dict(world.ids[target])
    if "member_id" in route.params:
        values["member_id"] = (
            uuid.uuid4()
            if target == "missing"
            else asyncio.run(_add_member(world.database_url, values["case_id"]))
        )

    def fill(m: re.Match[str]) -> str:
        name, kind = m.group(1), m.group(2)
        if name in values:
            return str(values[name])
        return str(uuid.uuid4()) if kind == "uuid" else "x"  # another engineer's parameter

    url = re.sub(r"\{(\w+)(?::(\w+))?\}", fill, route.path)
    kwargs = body(values)
    if route.page:
        client: httpx.Client = world.pages[role] if role else _anonymous(world)
        if route.method != "GET" and role is not None:
            kwargs["data"] = {**kwargs.get("data", {}), "_csrf": world.csrf[role]}
        return client.request(route.method, url, **kwargs)
    headers = world.tokens[role] if role else {}
    return world.http.request(route.method, url, headers=headers, **kwargs)


_ANON: dict[int, httpx.Client] = {}


def _anonymous(world: World) -> httpx.Client:
    key = id(world)
    if key not in _ANON:
        _ANON[key] = TestClient(world.http.app, base_url=str(world.http.base_url))
        _ANON[key].blocking_portal = world.http.blocking_portal  # type: ignore[attr-defined]
        _ANON[key].follow_redirects = False
    return _ANON[key]


#: Targets tried with one allowed role per scope kind of each route (the scope rule is one
#: function of the kind, ``access``): another class and a missing object. Another school is
#: tried with every allowed role.
SAMPLED = {"other_class", "missing"}


def _first_of_scope(route: Route, role: Role) -> Role:
    assert route.operation is not None
    allowed = [r for r in Role if r in PERMISSIONS[route.operation]]
    return next(r for r in allowed if SCOPES[r] == SCOPES[role])


def run_matrix(
    world: World,
    roles: tuple[Role, ...] = tuple(Role),
    only: set[tuple[str, str]] | None = None,
) -> tuple[list[str], int]:
    """Every check; the list of what did not answer as the table says, and how many ran."""
    problems: list[str] = []
    ran = 0
    staff_routes = [r for r in world.routes if r.operation is not None]
    for route in staff_routes:
        key = (route.method, route.path)
        if only is not None and key not in only:
            continue
        targets, body = KNOWN.get(key, (OWN, _none))
        r = _call(world, None, route, targets[0], body)
        ran += 1
        signed_out = (
            r.status_code in (302, 303) and "/staff/login" in r.headers.get("location", "")
            if route.page
            else r.status_code == 401
        )
        if not signed_out:
            problems.append(f"signed out {key}: {r.status_code}")
        for role in roles:
            assert route.operation is not None
            if role not in PERMISSIONS[route.operation]:
                r = _call(world, role, route, targets[0], body)
                ran += 1
                if r.status_code != 403:
                    problems.append(f"{role} {key} not allowed: {r.status_code} {r.text[:120]}")
                continue
            if key not in KNOWN or key in NOT_RUN_PERMITTED:
                continue  # another engineer's route: its own tests cover what it does
            for target in targets:
                if target in SAMPLED and role != _first_of_scope(route, role):
                    continue
                r = _call(world, role, route, target, body)
                ran += 1
                reach = target == "own" or (target == "other_class" and SCOPES[role] != "class")
                ok = not _denied(r) if reach else r.status_code == 404
                if not ok:
                    problems.append(f"{role} {key} {target}: {r.status_code} {r.text[:160]}")
    return problems, ran


@pytest.fixture(scope="module")
def sqlite_world(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[World]:
    path = tmp_path_factory.mktemp("matrix") / "runxin.db"
    shutil.copyfile(sqlite_template, path)
    yield from _world(f"sqlite:///{path}")


def test_known_routes_exist(sqlite_world: World) -> None:
    served = {(r.method, r.path) for r in sqlite_world.routes}
    assert sorted(k for k in KNOWN if k not in served) == []


def test_matrix_every_role_every_route_every_scope(sqlite_world: World) -> None:
    problems, ran = run_matrix(sqlite_world)
    assert problems == [], "\n".join(problems)
    assert ran > 500


PG_SAMPLE = {
    ("GET", "/api/v1/cases/{case_id:uuid}"),
    ("POST", "/api/v1/cases/{case_id:uuid}/records"),
    ("GET", "/api/v1/students/{student_id:uuid}/file"),
    ("GET", "/staff/cases/{case_id:uuid}"),
}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_matrix_sample_on_postgresql(database_url: str) -> None:
    for world in _world(database_url):
        problems, ran = run_matrix(
            world,
            roles=(Role.COUNSELLOR, Role.HEAD_TEACHER, Role.DISTRICT_OFFICER, Role.AUDITOR),
            only=PG_SAMPLE,
        )
        assert problems == [], "\n".join(problems)
        assert ran > 25


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_page_and_read_answers_on_postgresql(database_url: str) -> None:
    """Every staff GET route (page or API) answers its own object on PostgreSQL, with the first
    role allowed to read it: each read's queries run on the scale-out engine. The page tests
    that check what a page shows run on SQLite only (tests/survey_service/test_pages_*.py)."""
    for world in _world(database_url):
        problems: list[str] = []
        ran = 0
        for route in world.routes:
            key = (route.method, route.path)
            if route.method != "GET" or route.operation is None or key not in KNOWN:
                continue
            role = next(r for r in Role if r in PERMISSIONS[route.operation])
            targets, body = KNOWN[key]
            r = _call(world, role, route, targets[0], body)
            ran += 1
            if _denied(r) or r.status_code >= 500:
                problems.append(f"{role} {key}: {r.status_code} {r.text[:160]}")
        assert problems == [], "\n".join(problems)
        assert ran >= 40  # every GET route of the table (40 when this was written)


def test_case_actions_follow_the_domain_state_machine() -> None:
    """The table's case operations come from ``triage.ACTION_ROLES`` and cannot disagree."""
    import triage

    acting = {Role(r) for roles in triage.ACTION_ROLES.values() for r in roles}
    assert PERMISSIONS["cases.act"] == acting
    assert {Role(r) for r in triage.ACTION_ROLES["acknowledge"]} < PERMISSIONS["cases.acknowledge"]
    # The auditor reads the audit log and nothing about a student or a case.
    assert SCOPES[Role.AUDITOR] == "none"
    student_ops = {op for op in PERMISSIONS if op.split(".")[0] in {"cases", "files", "plans"}}
    assert not [op for op in student_ops if Role.AUDITOR in PERMISSIONS[op]]
