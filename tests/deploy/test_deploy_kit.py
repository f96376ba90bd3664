"""The deployment kit (issue 14) agrees with the code: every command it runs is one the CLI
accepts, every setting it names is one the service reads (and every setting is documented in
the examples), the image runs as a non-root user from the lock file with a health check, and
the compose file has the services a district needs. No image is built here (no registry of
images can be reached from the test machines); this is what can be checked without one: the
files parsed, the systemd units verified by ``systemd-analyze`` where it is installed, the
health-check commands run against a stub server, the backup script run with the real
``runxin backup``, and every link of ``docs/deploy.md`` followed."""

from __future__ import annotations

import http.server
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from survey_service.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SYSTEMD = ROOT / "deploy" / "systemd"
UNITS = sorted(SYSTEMD.glob("*.service"))
TIMERS = sorted(SYSTEMD.glob("*.timer"))
BACKUP_SCRIPT = SYSTEMD / "runxin-backup.sh"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
ENV_EXAMPLES = [ROOT / "deploy" / "env.example", SYSTEMD / "runxin.env.example"]
SETTINGS_SOURCE = (ROOT / "survey_service" / "settings.py").read_text(encoding="utf-8")
RUNXIN = str(Path(sys.executable).parent / "runxin")

#: Where docs/deploy.md installs what the units run (checked against its install steps).
INSTALLED = {
    "/opt/runxin/bin/runxin": None,
    "/usr/local/bin/runxin-backup": "deploy/systemd/runxin-backup.sh",
}
#: Without these a deployment is insecure or broken: each example must set them (compose:
#: the env file together with the compose file's own environment).
REQUIRED = {"RUNXIN_DATABASE_URL", "RUNXIN_SECRET_KEY", "RUNXIN_BASE_URL", "RUNXIN_TRUSTED_PROXIES"}
#: Values that must never be written into the kit: they are generated per deployment.
SECRETS = {"RUNXIN_SECRET_KEY", "RUNXIN_METRICS_TOKEN", "POSTGRES_PASSWORD"}


def _parses(argv: list[str]) -> None:
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's way of saying no (or, for --help, yes)
        if exc.code != 0:
            pytest.fail(f"`runxin {' '.join(argv)}` is not a valid command line ({exc.code})")


def _settings_read() -> set[str]:
    names = set(re.findall(r'"((?:RUNXIN|PROMETHEUS)_[A-Z_]+)"', SETTINGS_SOURCE))
    names |= {
        f"RUNXIN_RETENTION_{k.upper()}_DAYS"
        for k in re.findall(r'^    "(\w+)",$', SETTINGS_SOURCE, re.M)
    }
    return names


def _compose() -> Any:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _set_in(path: Path) -> dict[str, str]:
    """``VAR=value`` lines that are not comments."""
    pairs = re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", path.read_text(encoding="utf-8"), re.M)
    return dict(pairs)


def _unit_values(text: str, key: str) -> list[str]:
    return re.findall(rf"^{key}=(.*)$", text, re.M)


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_has_the_services_and_every_command_is_valid() -> None:
    services = _compose()["services"]
    assert {"postgres", "migrate", "app", "worker"} <= set(services)
    runxin_services = [n for n, s in services.items() if s.get("image") == "runxin:latest"]
    assert {"migrate", "app", "worker"} <= set(runxin_services)
    for name in runxin_services:
        _parses([str(a) for a in services[name]["command"]])
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["worker"]["command"] == ["worker"]
    app_command = services["app"]["command"]
    assert isinstance(app_command, list)
    assert app_command[0] == "serve" and int(app_command[app_command.index("--workers") + 1]) >= 2
    assert services["app"]["healthcheck"]["test"][-1].count("/readyz") == 1
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"


def test_compose_orders_the_start_keeps_data_and_secrets_outside() -> None:
    doc = _compose()
    services = doc["services"]
    postgres = services["postgres"]
    assert str(postgres["image"]).startswith("postgres:")
    (volume,) = postgres["volumes"]
    assert volume.endswith(":/var/lib/postgresql/data") and volume.split(":")[0] in doc["volumes"]
    assert services["migrate"]["restart"] == "no"
    for name in ("app", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
        assert needs["postgres"] == {"condition": "service_healthy"}, name
        assert services[name]["env_file"] == ".env", name
    # The image's HEALTHCHECK probes port 8000: off for the services that serve no HTTP.
    for name in ("migrate", "worker"):
        assert services[name]["healthcheck"] == {"disable": True}, name
    # Every process of the app shares one metrics folder, on a tmpfs (empty at every start).
    app = services["app"]
    folder = app["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert any(str(t).split(":")[0] == folder for t in app["tmpfs"])
    # Secrets only as ${...} from .env, never a value in the file.
    text = COMPOSE.read_text(encoding="utf-8")
    for name in SECRETS:
        for value in re.findall(rf"^\s*{name}:\s*(\S.*)$", text, re.M):
            assert value.startswith("${"), f"{name} has a literal value in docker-compose.yml"
    assert "RUNXIN_SECRET_KEY" not in text  # it comes from .env through env_file alone
    # Every file the compose file mounts is in the repository.
    for service in services.values():
        for mount in service.get("volumes", []):
            source = str(mount).split(":")[0]
            if source.startswith("./deploy/"):
                assert (ROOT / source).is_file(), f"{source} is mounted but missing"


def test_prometheus_scrapes_the_metrics_with_the_token_and_loads_the_alert_rules() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    (job,) = config["scrape_configs"]
    # deploy/prometheus/alerts.yml's RunxinDown rule names the job.
    alerts = (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8")
    assert f'job="{job["job_name"]}"' in alerts
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    secret = job["authorization"]["credentials_file"]
    services = _compose()["services"]
    assert "metrics_token" in services["prometheus"]["secrets"]
    assert secret == "/run/secrets/metrics_token"
    assert _compose()["secrets"]["metrics_token"] == {"environment": "RUNXIN_METRICS_TOKEN"}
    mounts = {str(m).split(":")[1] for m in services["prometheus"]["volumes"]}
    assert {"/etc/prometheus/prometheus.yml", "/etc/prometheus/alerts.yml"} <= mounts
    targets = [t for s in job["static_configs"] for t in s["targets"]]
    assert targets == ["app:8000"]


# --- systemd ---------------------------------------------------------------------------------


def test_every_unit_runs_a_valid_command_with_hardening() -> None:
    assert {u.name for u in UNITS} == {
        "runxin.service",
        "runxin-worker.service",
        "runxin-backup.service",
    }
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        sections = set(re.findall(r"^\[(\w+)\]", text, re.M))
        # The backup is started by its timer only: no [Install].
        expected = {"Unit", "Service"} | ({"Install"} if "backup" not in unit.name else set())
        assert sections == expected, unit.name
        for key, value in {
            "User": "runxin",
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "PrivateTmp": "yes",
            "EnvironmentFile": "/etc/runxin/runxin.env",
        }.items():
            assert _unit_values(text, key) == [value], f"{unit.name}: {key}"
        assert "/var/lib/runxin" in " ".join(_unit_values(text, "ReadWritePaths")).split()
        assert _unit_values(text, "CapabilityBoundingSet") == [""], unit.name
        if "backup" not in unit.name:
            assert _unit_values(text, "Restart") == ["on-failure"], unit.name
        (start,) = _unit_values(text, "ExecStart")
        assert "%" not in start  # a systemd specifier would be expanded; the script names dates
        argv = shlex.split(start)
        assert argv[0] in INSTALLED, f"{unit.name} runs {argv[0]}, which the guide never installs"
        if Path(argv[0]).name == "runxin":
            _parses(argv[1:])
    serve = shlex.split(_unit_values((SYSTEMD / "runxin.service").read_text(), "ExecStart")[0])
    assert serve[1] == "serve"
    assert "--workers" in serve
    # docs/deploy.md installs what the units run, from these files.
    doc = DEPLOY_DOC.read_text(encoding="utf-8")
    for target, source in INSTALLED.items():
        if source is not None:
            assert re.search(rf"install -m 0755 {re.escape(source)} {re.escape(target)}", doc)
        else:
            assert target.removesuffix("/bin/runxin") in doc


def test_the_backup_timer_runs_the_backup_nightly() -> None:
    (timer,) = TIMERS
    text = timer.read_text(encoding="utf-8")
    assert set(re.findall(r"^\[(\w+)\]", text, re.M)) == {"Unit", "Timer", "Install"}
    (unit,) = _unit_values(text, "Unit")
    assert (SYSTEMD / unit).is_file()
    assert _unit_values(text, "Persistent") == ["true"]
    (when,) = _unit_values(text, "OnCalendar")
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:00", when)  # once a day
    backup = (SYSTEMD / unit).read_text(encoding="utf-8")
    assert _unit_values(backup, "Type") == ["oneshot"]
    assert "/var/backups/runxin" in " ".join(_unit_values(backup, "ReadWritePaths")).split()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_analyze_verify_finds_nothing_but_the_programs_not_installed_here() -> None:
    """``systemd-analyze verify`` checks every key and value; here it can only complain that
    the programs the units run are not installed on the test machine."""
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, UNITS + TIMERS)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    allowed = re.compile(
        r"^[\w.-]+\.service: Command (?P<path>\S+) is not executable: No such file or directory$"
    )
    problems = []
    for line in (done.stdout + done.stderr).splitlines():
        found = allowed.match(line)
        if not line.strip() or (found and found["path"] in INSTALLED):
            continue
        problems.append(line)
    assert problems == []


# --- the backup script -----------------------------------------------------------------------


def _run_backup(backup_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(BACKUP_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ["PATH"], "BACKUP_DIR": str(backup_dir), **env},
    )


def test_the_backup_script_makes_a_real_backup_and_prunes_only_old_ones(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "runxin.db"
    shutil.copyfile(sqlite_template, database)
    backups = tmp_path / "backups"
    backups.mkdir()
    day = 24 * 3600
    old = [backups / "runxin-2026-01-01-023000.db", backups / "runxin-2026-01-02-023000.dump"]
    recent = backups / "runxin-2026-01-20-023000.db"
    unrelated = backups / "notes.txt"
    for path, age_days in ((old[0], 15), (old[1], 14.1), (recent, 13.9), (unrelated, 99)):
        path.write_text("x")
        os.utime(path, (time.time() - age_days * day, time.time() - age_days * day))

    done = _run_backup(
        backups, KEEP_DAYS="14", RUNXIN=RUNXIN, RUNXIN_DATABASE_URL=f"sqlite:///{database}"
    )

    assert done.returncode == 0, done.stderr
    made = sorted(backups.glob("runxin-20??-??-??-??????.db"))
    (new,) = [p for p in made if p != recent]
    assert new.read_bytes().startswith(b"SQLite format 3")
    assert new.stat().st_mode & 0o077 == 0  # private to its owner
    assert not any(p.exists() for p in old)
    assert recent.exists() and unrelated.exists()
    assert "removed 2 backup(s)" in done.stdout
    # The command line the script ran is the one the CLI accepts.
    _parses(["backup", str(new)])


def test_the_backup_script_names_a_postgresql_dump_and_prunes_nothing_when_the_backup_fails(
    tmp_path: Path,
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "runxin-2026-01-01-023000.dump"
    old.write_text("x")
    os.utime(old, (time.time() - 30 * 24 * 3600, time.time() - 30 * 24 * 3600))
    argv_file = tmp_path / "argv"
    failing = tmp_path / "runxin"
    failing.write_text(f'#!/bin/bash\nprintf "%s\\n" "$@" > {argv_file}\nexit 1\n')
    failing.chmod(0o755)

    done = _run_backup(
        backups, RUNXIN=str(failing), RUNXIN_DATABASE_URL="postgresql://runxin@db:5432/runxin"
    )

    assert done.returncode != 0
    argv = argv_file.read_text().splitlines()
    assert argv[0] == "backup" and re.fullmatch(r"runxin-[\d-]{17}\.dump", Path(argv[1]).name)
    _parses(argv)
    assert old.exists()  # a failed backup never deletes the last good one

    refused = _run_backup(backups, RUNXIN=str(failing), KEEP_DAYS="0")
    assert refused.returncode == 1 and "KEEP_DAYS" in refused.stderr


# --- the environment examples ----------------------------------------------------------------


def test_every_setting_named_is_real_and_every_real_one_is_in_the_examples() -> None:
    real = _settings_read()
    assert {"RUNXIN_DATABASE_URL", "RUNXIN_SECRET_KEY", "RUNXIN_LOG_FORMAT"} <= real
    named: set[str] = set()
    for path in [*ENV_EXAMPLES, COMPOSE, *UNITS, BACKUP_SCRIPT, DEPLOY_DOC]:
        named |= set(re.findall(r"\b((?:RUNXIN|PROMETHEUS)_[A-Z_]*[A-Z])\b", path.read_text()))
    assert named - real == set(), "named in the kit but never read by the service"
    for example in ENV_EXAMPLES:
        text = example.read_text(encoding="utf-8")
        missing = {n for n in real if n not in text and not n.startswith("RUNXIN_RETENTION_")}
        # Set by compose or the unit, and `runxin serve --workers` for its own processes.
        missing -= {"PROMETHEUS_MULTIPROC_DIR", "RUNXIN_SERVE_SETTINGS_JSON"}
        assert missing == set(), f"{example.name} does not explain {sorted(missing)}"


def test_the_examples_set_every_required_setting_and_no_secret() -> None:
    compose_env = set(_compose()["services"]["app"]["environment"])
    for example, also in ((ENV_EXAMPLES[0], compose_env), (ENV_EXAMPLES[1], set())):
        values = _set_in(example)
        assert set(values) | also >= REQUIRED, f"{example.name} lacks {REQUIRED - set(values)}"
        for name in SECRETS & set(values):
            assert values[name] == "", f"{example.name} ships a value for {name}"
    systemd_values = _set_in(ENV_EXAMPLES[1])
    assert systemd_values["RUNXIN_DATABASE_URL"].startswith("sqlite:////var/lib/runxin/")
    assert systemd_values["RUNXIN_BASE_URL"].startswith("https://")
    assert _set_in(ENV_EXAMPLES[0])["RUNXIN_BASE_URL"].startswith("https://")
    # The compose network's fixed gateway is the proxy the compose example trusts.
    gateway = _compose()["networks"]["default"]["ipam"]["config"][0]["gateway"]
    assert _set_in(ENV_EXAMPLES[0])["RUNXIN_TRUSTED_PROXIES"] == gateway


# --- the image ---------------------------------------------------------------------------------


def test_the_image_runs_unprivileged_from_the_lock_with_a_health_check() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "-c requirements.lock" in text
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, re.M)
    assert re.search(r'^ENTRYPOINT \["runxin"\]', text, re.M)


def test_the_image_is_multi_stage_on_slim_python_without_compilers() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base.startswith("python:3.11-slim")
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2 and stages[0].startswith("${PYTHON_IMAGE} AS build")
    final = stages[1]
    assert "COPY --from=build /opt/runxin /opt/runxin" in final
    assert re.search(r"pip wheel .*--wheel-dir /wheels \.", stages[0])
    assert re.search(r"pip install -c requirements\.lock /wheels/runxin-\*\.whl", stages[0])
    installed = " ".join(re.findall(r"apt-get install ([^\n\\&]+)", final))
    assert installed.split() == ["--yes", "--no-install-recommends", "postgresql-client"]
    for tool in ("gcc", "g++", "clang", "build-essential", "make", "-dev", "curl", "wget"):
        assert tool not in installed, f"the final image installs {tool}"
    assert re.search(r"^EXPOSE 8000$", final, re.M)
    (cmd,) = re.findall(r"^CMD (\[.*\])$", final, re.M)
    command = yaml.safe_load(cmd)
    assert command == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    _parses(command)
    # Every file the build copies is in the build context (not excluded by .dockerignore).
    ignored = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for must in (".venv", ".git", "*.db", "demo-codes.txt", ".env", ".pytest_cache", "tests"):
        assert must in ignored, f".dockerignore lets {must} into the build context"
    for copied in re.findall(r"^COPY (?!--)(.+) \S+$", stages[0], re.M):
        for source in copied.split():
            assert source not in ignored and (ROOT / source).exists(), source


class _Stub(http.server.BaseHTTPRequestHandler):
    status: ClassVar[dict[str, int]] = {"/healthz": 200, "/readyz": 503}

    def do_GET(self) -> None:
        self.send_response(self.status.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_health_checks_are_python_that_passes_on_200_and_fails_otherwise(
    stub_port: int,
) -> None:
    """The image's HEALTHCHECK (on /healthz) and the compose app's (on /readyz) run with the
    image's Python, since slim has no curl: here against a stub answering 200 and 503."""
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    (image_check,) = re.findall(r'CMD \["python", "-c", "(.*)"\]$', dockerfile, re.M)
    compose_check = _compose()["services"]["app"]["healthcheck"]["test"]
    assert compose_check[:3] == ["CMD", "python", "-c"]
    for code, expected in ((image_check, 0), (compose_check[3], 1)):
        assert "127.0.0.1:8000/" in code
        done = subprocess.run(
            [sys.executable, "-I", "-c", code.replace(":8000/", f":{stub_port}/")],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == expected, code


# --- docs/deploy.md ----------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_the_guide_links_resolve_and_the_readme_links_it() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(links) > 10
    for link in links:
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        path = (DEPLOY_DOC.parent / target).resolve() if target else DEPLOY_DOC
        assert path.exists(), f"docs/deploy.md links {link}, which does not exist"
        if anchor:
            assert anchor in _anchors(path), f"docs/deploy.md links {link}: no such heading"
    for needed in ("backup.md", "upgrades.md", "operations.md", "scaling.md"):
        assert needed in links or any(link.startswith(needed + "#") for link in links), needed
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/deploy.md" in readme
    assert "make demo" in readme and "make test" in readme


def test_every_command_line_in_the_guide_is_valid() -> None:
    """Each line of the guide's shell blocks that runs ``runxin`` (or ``rx``, the guide's
    wrapper for the ``runxin`` user, or ``docker compose run --rm cli``) is a command line the
    CLI accepts."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^ *```sh\n(.*?)^ *```", text, re.M | re.S)
    lines = "".join(blocks).replace("\\\n", " ").splitlines()
    checked = []
    for raw in lines:
        line = re.sub(r"\$\([^)]*\)", "DATE", raw.split(" #")[0]).strip()
        words = shlex.split(line) if line else []
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value runxin ...
            words = words[1:]
        if words[:1] in (["runxin"], ["rx"]):
            argv = words[1:]
        elif words[:5] == ["docker", "compose", "run", "--rm", "cli"]:
            argv = words[5:]
        else:
            continue
        _parses(argv)
        checked.append(argv[0])
    assert {"db", "schools", "staff", "simulate", "backup"} <= set(checked)
