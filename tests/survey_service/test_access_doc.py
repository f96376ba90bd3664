"""docs/access.md is generated from the access table and the app's routes and cannot drift."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from survey_service.accounts.permissions import PERMISSIONS, Role

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_access_doc", ROOT / "scripts" / "make_access_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_access_doc"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_doc_equals_the_script_output() -> None:
    script = load_script()
    expected = script.render(script.routes())
    committed = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    assert committed == expected, "docs/access.md is stale: run scripts/make_access_doc.py"


def test_doc_lists_every_operation_role_and_staff_route() -> None:
    text = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    for operation in PERMISSIONS:
        assert f"| `{operation}` |" in text, operation
    for role in Role:
        assert f"| {role.value} |" in text, role
    assert "| GET | `/api/v1/cases/{case_id:uuid}` | `cases.read` |" in text
    assert "| POST | `/api/v1/student/sessions` | public |" in text
    assert "**none: refused**" not in text  # every route public or with an operation
    # The auditor reads no student data: no operation about students or cases is theirs.
    auditor = [op for op, roles in PERMISSIONS.items() if Role.AUDITOR in roles]
    assert not [op for op in auditor if op.split(".")[0] in {"cases", "files", "plans"}]
