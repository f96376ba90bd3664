"""schemathesis over the published OpenAPI schema: every operation, fixed seed, a live server.

The app runs under uvicorn on a seeded SQLite database (one per module); staff routes are called
with a counsellor's bearer token so they are exercised beyond 401. For every generated request:
no 5xx, the reply matches its documented schema, its status is documented, and its content type
is the documented one. (The ``Allow``-header check is left out: litestar 2.x answers 405 with the
methods of one handler only when several handlers share a path.)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from svc_support import live_server, make_settings, seed

from survey_service.app import create_app
from survey_service.clock import ManualClock

T0 = datetime(2026, 9, 7, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


class Server:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token = self.login()

    def login(self) -> str:
        r = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": "counsellor1", "password": "pw-test-123"},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("fuzz") / "runxin.db"
    shutil.copyfile(sqlite_template, path)
    app_settings = make_settings(f"sqlite:///{path}")
    seed(app_settings, now=T0, students=6)
    with live_server(create_app(app_settings, clock=ManualClock(T0))) as base_url:
        yield Server(base_url)


# The schema the app publishes at /schema/openapi.json, taken from the app object (building
# the app opens nothing: the database is reached only when it starts).
schema = schemathesis.openapi.from_dict(
    create_app(make_settings("sqlite:///unused.db")).openapi_schema.to_schema()
)
# In the suite: examples and fuzzing (valid and invalid data), a few cases per operation. A longer
# run outside it: RUNXIN_FUZZ_EXAMPLES=100 RUNXIN_FUZZ_COVERAGE=1 (adds the coverage phase's
# boundary sweep, about ten times the requests).
EXAMPLES = int(os.environ.get("RUNXIN_FUZZ_EXAMPLES", "5"))
PHASES = ["examples", "fuzzing"] + (["coverage"] if os.environ.get("RUNXIN_FUZZ_COVERAGE") else [])
schema.config.phases.update(phases=PHASES)
schema.config.generation.update(modes=list(GenerationMode), deterministic=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Any, server: Server) -> None:
    token = server.token
    if case.path == "/api/v1/auth/logout":
        token = server.login()  # logging out must not end the token the other cases use
    case.call_and_validate(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
