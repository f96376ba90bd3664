"""The architecture, checked on the syntax tree of every source file.

* Packages depend one way: instruments → scoring → triage → survey_service.
* The domain (instruments, scoring, triage) never imports web or database code, never reads
  the clock and never reads the environment: time and settings are passed in.
* Inside survey_service the layers depend one way too, in every feature slice (``screening``,
  ``cases``, ``campaigns``, ``notifications``, ``schools``, ``accounts``) and in the shared
  ``services``, ``api`` and ``pages``: the wire schemas and the database models depend on
  nothing above them; services never import a controller (``api``, ``pages``), a worker or
  the app; JSON controllers and page controllers never import each other; only ``clock.py``
  reads the wall clock and only ``settings.py`` reads the environment.

Imports are read from the source (relative ones resolved), so a lazy import inside a function
is caught too, and calls are matched on the syntax tree, so ``datetime.today()`` or
``time.monotonic()`` cannot hide behind another spelling of the same call.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["instruments", "scoring", "triage", "survey_service"]
DOMAIN = ["instruments", "scoring", "triage"]
WEB_AND_DB = {"litestar", "sqlalchemy", "alembic", "uvicorn", "aiosqlite", "asyncpg"}

#: Calls that read the wall clock (or a clock of the machine) instead of taking ``now``.
CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
}
#: Where a clock may be read, and why.
CLOCK_ALLOWED = {
    # The one wall clock of the service: everything else takes a Clock or ``now``.
    "survey_service/clock.py": {"*"},
    # The notifier adapters time their own I/O (latency of an attempt), never a timestamp.
    "triage/channels/": {("time", "perf_counter")},
    "triage/_notify.py": {("time", "perf_counter")},
}
#: Where the environment may be read: the settings, once, at start-up.
ENV_ALLOWED = {"survey_service/settings.py"}

#: The feature slices of survey_service: each holds its wire formats (``schemas``), services,
#: JSON controllers (``api``, ``*_api``) and page controllers (``pages``, ``*_pages``,
#: ``dashboards``, ``flow``).
SLICES = ("accounts", "audit", "campaigns", "cases", "notifications", "schools", "screening")
_API_NAMES = re.compile(r"^(api|\w+_api)$")
_PAGE_NAMES = re.compile(r"^(pages|\w+_pages|dashboards|flow)$")


def _kind(module: str) -> str:
    """The layer of a survey_service module: schemas, db, service, worker, api, page, app or
    other (settings, clock, errors, security, cli and the like)."""
    parts = module.split(".")
    if parts[0] != "survey_service" or len(parts) == 1:
        return "other"
    top = parts[1]
    if top in {"schemas", "db", "migrations"}:
        return "db" if top == "migrations" else top
    if top == "services":
        return "service"
    if top == "workers":
        return "worker"
    if top == "api":
        return "api"
    if top == "pages":
        return "page"
    if top in {"app", "cli"}:
        return top
    if top in SLICES:
        if len(parts) == 2:
            return "service"  # the slice's __init__
        leaf = parts[2]
        if leaf == "schemas":
            return "schemas"
        if _API_NAMES.match(leaf):
            return "api"
        if _PAGE_NAMES.match(leaf):
            return "page"
        return "service"
    return "other"


#: What a module of each layer may not import.
INNER_FORBIDDEN = {
    "schemas": {"db", "service", "worker", "api", "page", "app", "cli", "other"},
    "db": {"schemas", "service", "worker", "api", "page", "app", "cli"},
    "service": {"worker", "api", "page", "app", "cli"},
    "worker": {"api", "page", "app", "cli"},
    "api": {"page", "worker", "app", "cli"},
    "page": {"api", "worker", "app", "cli"},
}


def _sources(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom, root: Path = ROOT) -> list[str]:
    """Absolute module names an ``import from`` refers to (``from . import x`` → ``pkg.x``)."""
    if node.level == 0:
        return [node.module] if node.module else []
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    if node.module:
        module = ".".join([*base, node.module])
        return [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return [".".join([*base, alias.name]) for alias in node.names]


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(_resolve(path, node, root))
    return found


def _package_imports(package: str) -> set[tuple[str, str]]:
    return {
        (str(path.relative_to(ROOT)), name.split(".")[0])
        for path in _sources(package)
        for name in _imports(path)
    }


@pytest.mark.parametrize("package", LAYERS)
def test_no_upward_imports(package: str) -> None:
    above = set(LAYERS[LAYERS.index(package) + 1 :])
    bad = sorted((f, m) for f, m in _package_imports(package) if m in above)
    assert not bad, f"{package} imports a layer above it: {bad}"


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_never_touch_web_or_database(package: str) -> None:
    bad = sorted((f, m) for f, m in _package_imports(package) if m in WEB_AND_DB)
    assert not bad, f"{package} imports web or database code: {bad}"


def _clock_calls(path: Path) -> list[tuple[str, str, int]]:
    """``(module or class, function, line)`` of every clock call: ``datetime.now()``,
    ``dt.datetime.today()``, ``time.monotonic()``, and ``now()`` imported ``from time``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in {"time", "datetime"}:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value
            owner_name = (
                owner.id
                if isinstance(owner, ast.Name)
                else owner.attr
                if isinstance(owner, ast.Attribute)
                else None
            )
            if owner_name is not None and (owner_name, func.attr) in CLOCK_CALLS:
                calls.append((owner_name, func.attr, node.lineno))
        elif isinstance(func, ast.Name) and func.id in imported:
            module, name = imported[func.id]
            if (module, name) in CLOCK_CALLS:
                calls.append((module, name, node.lineno))
    return calls


def _clock_allowed(relative: str, call: tuple[str, str]) -> bool:
    for prefix, allowed in CLOCK_ALLOWED.items():
        if relative == prefix or (prefix.endswith("/") and relative.startswith(prefix)):
            return "*" in allowed or call in allowed
    return False


@pytest.mark.parametrize("package", LAYERS)
def test_only_the_clock_reads_the_clock(package: str) -> None:
    offenders = []
    for path in _sources(package):
        relative = str(path.relative_to(ROOT))
        for owner, name, line in _clock_calls(path):
            if not _clock_allowed(relative, (owner, name)):
                offenders.append(f"{relative}:{line}: {owner}.{name}()")
    assert not offenders, "the clock is read outside survey_service/clock.py: " + ", ".join(
        offenders
    )


def _env_reads(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in {"environ", "getenv", "environb"} for a in node.names)
        ):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("package", LAYERS)
def test_only_the_settings_read_the_environment(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources(package)
        if str(path.relative_to(ROOT)) not in ENV_ALLOWED
        for line in _env_reads(path)
    ]
    assert not offenders, f"the environment is read outside settings.py: {offenders}"


def _layer_offenders(layer: str, root: Path = ROOT) -> list[str]:
    forbidden = INNER_FORBIDDEN[layer]
    offenders = []
    for path in sorted((root / "survey_service").rglob("*.py")):
        module = _module_name(path, root)
        if _kind(module) != layer:
            continue
        for name in sorted(_imports(path, root)):
            if name.startswith("survey_service.") and _kind(name) in forbidden:
                offenders.append(f"{path.relative_to(root)} imports {name}")
    return offenders


@pytest.mark.parametrize("layer", sorted(INNER_FORBIDDEN))
def test_service_layers_depend_one_way(layer: str) -> None:
    offenders = _layer_offenders(layer)
    assert not offenders, offenders


#: What a controller may take from the database package: the request's session and the
#: signed-in user (the dependencies give both). Rows never reach a controller.
CONTROLLER_DB_NAMES = {"AsyncSession", "StaffUser", "READ_ONLY"}


def test_controllers_query_nothing_and_get_no_rows() -> None:
    offenders = []
    for path in _sources("survey_service"):
        module = _module_name(path)
        if _kind(module) not in {"api", "page"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "survey_service.db":
                extra = {a.name for a in node.names} - CONTROLLER_DB_NAMES
                if extra:
                    offenders.append(f"{module} imports {sorted(extra)} from survey_service.db")
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{module} imports {n}" for n in names if n.split(".")[0] == "sqlalchemy"]
    assert not offenders, offenders


def test_every_slice_module_has_a_layer() -> None:
    kinds = {
        _module_name(path): _kind(_module_name(path))
        for slice_ in SLICES
        for path in (ROOT / "survey_service" / slice_).rglob("*.py")
    }
    assert kinds and set(kinds.values()) <= {"schemas", "service", "api", "page"}
    assert _kind("survey_service.cases.schemas") == "schemas"
    assert _kind("survey_service.cases.queue_api") == "api"
    assert _kind("survey_service.screening.pages") == "page"
    assert _kind("survey_service.cases.service") == "service"


def test_the_checks_see_what_they_forbid(tmp_path: Path) -> None:
    """The rules are not vacuous: each catches a planted offender."""
    planted = tmp_path / "survey_service" / "services" / "planted.py"
    planted.parent.mkdir(parents=True)
    source = (
        "import os\nimport time\nfrom datetime import date\nfrom ..api import staff\n"
        "def f():\n    date.today()\n    time.monotonic()\n    return os.environ\n"
    )
    planted.write_text(source, encoding="utf-8")
    assert _imports(planted, tmp_path) >= {"survey_service.api.staff", "os", "time", "datetime"}
    assert {(o, n) for o, n, _ in _clock_calls(planted)} == {
        ("date", "today"),
        ("time", "monotonic"),
    }
    assert _env_reads(planted) == [8]
    assert _layer_offenders("service", tmp_path) == [
        "survey_service/services/planted.py imports survey_service.api",
        "survey_service/services/planted.py imports survey_service.api.staff",
    ]
