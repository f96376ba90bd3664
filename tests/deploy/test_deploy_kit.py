"""The deployment kit (issue 14) agrees with the code: every command it runs is one the CLI
accepts, every setting it names is one the service reads (and every setting is documented in
the examples), the image runs as a non-root user from the lock file with a health check, and
the compose file has the services a district needs. No image is built here (no registry of
images can be reached from the test machines); this is what can be checked without one."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from survey_service.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
ENV_EXAMPLES = [ROOT / "deploy" / "env.example", ROOT / "deploy" / "systemd" / "runxin.env.example"]
SETTINGS_SOURCE = (ROOT / "survey_service" / "settings.py").read_text(encoding="utf-8")


def _parses(argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's way of saying no
        pytest.fail(f"`runxin {' '.join(argv)}` is not a valid command line ({exc.code})")


def _settings_read() -> set[str]:
    names = set(re.findall(r'"((?:RUNXIN|PROMETHEUS)_[A-Z_]+)"', SETTINGS_SOURCE))
    names |= {
        f"RUNXIN_RETENTION_{k.upper()}_DAYS"
        for k in re.findall(r'^    "(\w+)",$', SETTINGS_SOURCE, re.M)
    }
    return names


def test_compose_has_the_services_and_every_command_is_valid() -> None:
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = doc["services"]
    assert {"postgres", "migrate", "app", "worker"} <= set(services)
    for name in ("migrate", "app", "worker"):
        _parses(list(services[name]["command"]))
    assert services["app"]["healthcheck"]["test"][-1].count("/readyz") == 1
    assert "--workers" in services["app"]["command"]
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"


def test_every_unit_runs_a_valid_command_with_hardening() -> None:
    assert {u.name for u in UNITS} >= {"runxin.service", "runxin-worker.service"}
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        assert {"[Unit]", "[Service]"} <= set(re.findall(r"^\[\w+\]", text, re.M)), unit.name
        assert re.search(r"^NoNewPrivileges=(yes|true)$", text, re.M), unit.name
        assert re.search(r"^User=runxin$", text, re.M), unit.name
        (start,) = re.findall(r"^ExecStart=(.+)$", text, re.M)
        argv = shlex.split(start)
        if Path(argv[0]).name == "runxin":
            _parses(argv[1:])
    backup = (ROOT / "deploy" / "systemd" / "runxin-backup.sh").read_text(encoding="utf-8")
    assert re.search(r'"\$RUNXIN" backup "\$partial"', backup)
    _parses(["backup", "/var/backups/runxin/x.db"])


def test_every_setting_named_is_real_and_every_real_one_is_in_the_examples() -> None:
    real = _settings_read()
    assert {"RUNXIN_DATABASE_URL", "RUNXIN_SECRET_KEY", "RUNXIN_LOG_FORMAT"} <= real
    named: set[str] = set()
    for path in [*ENV_EXAMPLES, COMPOSE, *UNITS]:
        named |= set(re.findall(r"\b((?:RUNXIN|PROMETHEUS)_[A-Z_]*[A-Z])\b", path.read_text()))
    assert named - real == set(), "named in the kit but never read by the service"
    for example in ENV_EXAMPLES:
        text = example.read_text(encoding="utf-8")
        missing = {n for n in real if n not in text and not n.startswith("RUNXIN_RETENTION_")}
        # Set by compose or the unit, and `runxin serve --workers` for its own processes.
        missing -= {"PROMETHEUS_MULTIPROC_DIR", "RUNXIN_SERVE_SETTINGS_JSON"}
        assert missing == set(), f"{example.name} does not explain {sorted(missing)}"


def test_the_image_runs_unprivileged_from_the_lock_with_a_health_check() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "-c requirements.lock" in text
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    assert re.search(r'^ENTRYPOINT \["runxin"\]', text, re.M)
