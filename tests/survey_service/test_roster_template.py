"""The roster templates import cleanly, are generated from the parser's headers and are current."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest

from survey_service.rosters import REQUIRED, SYNONYMS, parse_roster
from survey_service.rosters._read import open_rows

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [ROOT / "docs" / "roster-template.csv", ROOT / "docs" / "roster-template.xlsx"]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_roster_template", ROOT / "scripts" / "make_roster_template.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_roster_template"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_files_equal_the_script_output() -> None:
    script = load_script()
    for path, data in script.outputs().items():
        assert path.read_bytes() == data, (
            f"{path.relative_to(ROOT)} is stale: run scripts/make_roster_template.py"
        )


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.suffix)
def test_template_imports_without_errors(path: Path) -> None:
    script = load_script()
    result = parse_roster(path)
    assert result.errors == ()
    assert result.warnings == ()
    assert len(result.rows) == len(script.EXAMPLES) >= 2
    assert set(result.columns) == set(SYNONYMS)  # every field has its column
    assert list(result.columns.values()) == [names[0] for names in SYNONYMS.values()]
    first = result.rows[0]
    assert first.name == "示例学生一"
    assert first.grade == 7
    assert first.class_name == "1班"
    assert first.guardian_phone == "13800000001"
    assert {row.name for row in result.rows} == {e["name"] for e in script.EXAMPLES}
    for row in result.rows:
        assert "示例" in row.name  # obviously fictional


def test_csv_is_utf8_with_bom() -> None:
    data = TEMPLATES[0].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    data.decode("utf-8")


def test_xlsx_reads_the_same_with_openpyxl_and_the_fast_reader() -> None:
    path = TEMPLATES[1]
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    seen = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    script = load_script()
    assert seen == script.rows()
    for engine in ("fast", "openpyxl"):
        notes: list[str] = []
        rows = [[c or "" for c in cells] for _, cells in open_rows(path, notes, engine=engine)]
        assert rows == script.rows(), engine
        assert notes == []


def test_readme_lists_every_accepted_header() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "### Roster files" in readme
    assert load_script().readme_table() in readme
    table = readme[readme.index("<!-- roster-headers:start") : readme.index("roster-headers:end")]
    for field, names in SYNONYMS.items():
        line = next(line for line in table.splitlines() if line.startswith(f"| `{field}` |"))
        assert f"| {'yes' if field in REQUIRED else 'no'} |" in line, field
        for name in names:
            assert f"`{name}`" in line, (field, name)
