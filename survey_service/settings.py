"""Service settings: read from ``RUNXIN_*`` environment variables, overridable by CLI flags.

Nothing here runs at import time; :meth:`Settings.from_env` is called by the CLI or by tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///runxin.db"
DEV_SECRET_KEY = "dev-insecure-secret-change-me"  # noqa: S105 - flagged loudly when used


#: The longest a break-glass read may last, whatever the setting says (4 hours).
MAX_BREAK_GLASS_MINUTES = 240


#: Data kinds with a retention period (issue 19; see ``services/retention_rules.py``).
RETENTION_KINDS = (
    "answers",
    "results",
    "case_files",
    "notifications",
    "inbox",
    "access",
    "login_attempts",
    "identity",
    "withdrawn",
)


#: Log line formats (``Settings.log_format``; ``survey_service/log_format.py`` writes them).
LOG_FORMATS = ("json", "text")

#: The shortest ``RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S`` accepted: a worker beats at most every
#: quarter of it, and a busy pass (a batch of slow deliveries) must not look like a dead worker.
MIN_HEARTBEAT_MAX_AGE_S = 10

#: SQLite ``PRAGMA synchronous`` levels the service accepts (see ``Settings.sqlite_synchronous``).
SQLITE_SYNCHRONOUS = ("full", "normal")


class SettingsError(ValueError):
    """A setting has a value the service cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service needs to start.

    Attributes
    ----------
    database_url:
        ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``; the service picks its own
        async drivers (aiosqlite, asyncpg).
    secret_key:
        Key for HMAC digests of access codes and tokens. Must be long and random in production.
    base_url:
        Public address used in links inside notifications.
    max_body_bytes:
        Largest request body accepted (413 above it).
    staff_token_ttl_s:
        Lifetime of a staff bearer token (the absolute session timeout).
    staff_idle_timeout_s:
        A staff session ends after this long without a request (issue 19).
    login_window_s / login_max_failures_account / login_max_failures_address:
        Sign-in throttling: this many failures in a row for one account name, or in all from
        one client address, within the window answer 429 until the window has passed.
    trusted_proxies:
        Addresses or networks of reverse proxies whose ``X-Forwarded-For`` is believed
        (``RUNXIN_TRUSTED_PROXIES``, comma-separated); none by default.
    max_in_flight:
        Requests one process handles at once (``RUNXIN_MAX_IN_FLIGHT``); one more is refused at
        once with 503 ``overloaded`` and ``Retry-After`` instead of queueing (``/healthz`` never
        is). Why 256: :mod:`survey_service.overload`.
    db_pool_timeout_s:
        The longest a request waits for a database connection (``RUNXIN_DB_POOL_TIMEOUT_S``,
        seconds): for a free one in the pool and, on PostgreSQL, for a new one to open. Past it
        the reply is 503 with ``Retry-After``, never a request hanging for half a minute.
    sqlite_synchronous:
        SQLite's durability (``RUNXIN_SQLITE_SYNCHRONOUS``): ``full`` (the default) syncs the
        write-ahead log to disk at every commit, so an accepted submission survives a power cut
        or an operating-system crash; ``normal`` syncs only at checkpoints — a commit still
        survives the service being killed (the kill-loop test), but the last ones before a power
        cut may be lost (never a corrupted file). README: "Durability on SQLite".
    log_format:
        ``json`` (the default: one JSON object a line, for a log collector) or ``text``
        (``RUNXIN_LOG_FORMAT``); see ``survey_service/log_format.py``.
    worker_heartbeat_max_age_s:
        ``/readyz`` is ready only while some ``runxin worker`` beat within this many seconds
        (``RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S``, default 120, at least 10); a worker beats every
        loop, at most every quarter of this. No worker ever beating is not ready either: no
        alert would be sent (docs/operations.md).
    metrics_token:
        When set (``RUNXIN_METRICS_TOKEN``), ``GET /metrics`` needs ``Authorization: Bearer``
        with it; unset, ``/metrics`` is open and must be reachable from the internal network
        only (docs/operations.md).
    metrics_multiproc_dir:
        ``PROMETHEUS_MULTIPROC_DIR`` (the name ``prometheus_client`` itself reads at import, to
        keep its counters in files there): when set, ``/metrics`` adds up the counters of every
        server process writing to that folder (``runxin serve --workers N``). It must exist and
        be emptied before the service starts.
    report_font:
        A TrueType/OpenType font file with Chinese glyphs for PDF reports
        (``RUNXIN_REPORT_FONT``); unset, the usual system locations are searched
        (``survey_service/reports/pdf.py``). The font is embedded in every PDF, so the reader
        needs no Chinese font of its own.
    policy_path / policy_overrides_dir / instruments_dirs:
        Optional district triage policy file, a folder of override layers
        (``district.json``, ``<SCHOOL_CODE>.json``) and extra instrument definition folders.
    """

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEV_SECRET_KEY
    base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 256 * 1024
    staff_token_ttl_s: int = 12 * 3600
    staff_idle_timeout_s: int = 30 * 60
    login_window_s: int = 15 * 60
    login_max_failures_account: int = 10
    login_max_failures_address: int = 50
    trusted_proxies: tuple[str, ...] = ()
    max_in_flight: int = 256
    db_pool_timeout_s: float = 5.0
    sqlite_synchronous: str = "full"
    log_format: str = "json"
    worker_heartbeat_max_age_s: int = 120
    metrics_token: str | None = None
    metrics_multiproc_dir: str | None = None
    report_font: str | None = None
    policy_path: str | None = None
    policy_overrides_dir: str | None = None
    instruments_dirs: tuple[str, ...] = ()
    dispatch_batch: int = 50
    dispatch_lease_s: int = 60
    dispatch_concurrency: int = 16
    dispatch_max_attempts: int = 8
    # How long a district officer's break-glass read of one case lasts (issue 19).
    break_glass_minutes: int = 30
    # Retention in days per data kind (issue 19; ``RUNXIN_RETENTION_<KIND>_DAYS``; what each
    # kind covers and the defaults' reasons: ``services/retention_rules.py``).
    retention_answers_days: int = 3 * 365
    retention_results_days: int = 3 * 365
    retention_case_files_days: int = 5 * 365
    retention_notifications_days: int = 90
    retention_inbox_days: int = 180
    retention_access_days: int = 30
    retention_login_attempts_days: int = 180
    retention_identity_days: int = 5 * 365
    retention_withdrawn_days: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``RUNXIN_*`` variables, then apply non-``None`` overrides."""
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        mapping = {
            "RUNXIN_DATABASE_URL": "database_url",
            "RUNXIN_SECRET_KEY": "secret_key",
            "RUNXIN_BASE_URL": "base_url",
            "RUNXIN_POLICY_PATH": "policy_path",
            "RUNXIN_POLICY_OVERRIDES_DIR": "policy_overrides_dir",
            "RUNXIN_METRICS_TOKEN": "metrics_token",
            "PROMETHEUS_MULTIPROC_DIR": "metrics_multiproc_dir",
            "RUNXIN_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
            "RUNXIN_LOG_FORMAT": "log_format",
            "RUNXIN_REPORT_FONT": "report_font",
        }
        for var, field in mapping.items():
            if source.get(var):
                values[field] = source[var]
        for var, field in (
            ("RUNXIN_MAX_BODY_BYTES", "max_body_bytes"),
            ("RUNXIN_STAFF_TOKEN_TTL_S", "staff_token_ttl_s"),
            ("RUNXIN_BREAK_GLASS_MINUTES", "break_glass_minutes"),
            ("RUNXIN_STAFF_IDLE_TIMEOUT_S", "staff_idle_timeout_s"),
            ("RUNXIN_LOGIN_MAX_FAILURES_ACCOUNT", "login_max_failures_account"),
            ("RUNXIN_LOGIN_MAX_FAILURES_ADDRESS", "login_max_failures_address"),
            ("RUNXIN_MAX_IN_FLIGHT", "max_in_flight"),
            ("RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S", "worker_heartbeat_max_age_s"),
        ):
            if source.get(var):
                try:
                    values[field] = int(source[var])
                except ValueError as exc:
                    raise SettingsError(f"{var} must be an integer, got {source[var]!r}") from exc
        if source.get("RUNXIN_DB_POOL_TIMEOUT_S"):
            try:
                values["db_pool_timeout_s"] = float(source["RUNXIN_DB_POOL_TIMEOUT_S"])
            except ValueError as exc:
                raise SettingsError(
                    "RUNXIN_DB_POOL_TIMEOUT_S must be a number of seconds, "
                    f"got {source['RUNXIN_DB_POOL_TIMEOUT_S']!r}"
                ) from exc
        if source.get("RUNXIN_INSTRUMENTS_DIRS"):
            values["instruments_dirs"] = tuple(
                p for p in source["RUNXIN_INSTRUMENTS_DIRS"].split(os.pathsep) if p
            )
        if source.get("RUNXIN_TRUSTED_PROXIES"):
            values["trusted_proxies"] = tuple(
                p.strip() for p in source["RUNXIN_TRUSTED_PROXIES"].split(",") if p.strip()
            )
        for kind in RETENTION_KINDS:  # issue 19: RUNXIN_RETENTION_<KIND>_DAYS, whole days >= 1
            var = f"RUNXIN_RETENTION_{kind.upper()}_DAYS"
            if source.get(var):
                try:
                    days = int(source[var])
                except ValueError as exc:
                    raise SettingsError(f"{var} must be a whole number of days") from exc
                if days < 1:
                    raise SettingsError(f"{var} must be at least 1 day, got {days}")
                values[f"retention_{kind}_days"] = days
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = msgspec.convert(values, cls)
        database_urls(settings.database_url)  # validate early, with a clear message
        if not 1 <= settings.break_glass_minutes <= MAX_BREAK_GLASS_MINUTES:
            raise SettingsError(
                f"RUNXIN_BREAK_GLASS_MINUTES must be between 1 and {MAX_BREAK_GLASS_MINUTES}, "
                f"got {settings.break_glass_minutes}"
            )
        if settings.max_in_flight < 1:
            raise SettingsError(
                f"RUNXIN_MAX_IN_FLIGHT must be at least 1, got {settings.max_in_flight}"
            )
        if settings.sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise SettingsError(
                "RUNXIN_SQLITE_SYNCHRONOUS must be one of "
                f"{', '.join(SQLITE_SYNCHRONOUS)}, got {settings.sqlite_synchronous!r}"
            )
        if settings.log_format not in LOG_FORMATS:
            raise SettingsError(
                f"RUNXIN_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
                f"got {settings.log_format!r}"
            )
        if not 0 < settings.db_pool_timeout_s <= 300:
            raise SettingsError(
                "RUNXIN_DB_POOL_TIMEOUT_S must be more than 0 and at most 300 seconds, "
                f"got {settings.db_pool_timeout_s}"
            )
        if settings.worker_heartbeat_max_age_s < MIN_HEARTBEAT_MAX_AGE_S:
            raise SettingsError(
                "RUNXIN_WORKER_HEARTBEAT_MAX_AGE_S must be at least "
                f"{MIN_HEARTBEAT_MAX_AGE_S} seconds, got {settings.worker_heartbeat_max_age_s}"
            )
        if settings.metrics_multiproc_dir and not Path(settings.metrics_multiproc_dir).is_dir():
            raise SettingsError(
                f"PROMETHEUS_MULTIPROC_DIR: the directory {settings.metrics_multiproc_dir} "
                "does not exist"
            )
        _check_proxies(settings.trusted_proxies)
        return settings


def _check_proxies(proxies: tuple[str, ...]) -> None:
    import ipaddress

    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise SettingsError(
                f"RUNXIN_TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
            ) from exc


class DatabaseUrls(msgspec.Struct, frozen=True):
    """The async URL the app uses and the dialect name."""

    async_url: str
    dialect: str  # "sqlite" or "postgresql"


def configured_database_url(flag: str | None = None) -> str:
    """The database URL a command uses: the flag, else ``RUNXIN_DATABASE_URL``, else the
    default (read here, where the environment is read)."""
    return flag or os.environ.get("RUNXIN_DATABASE_URL") or DEFAULT_DATABASE_URL


def database_urls(url: str) -> DatabaseUrls:
    """Translate a user-facing database URL into the async driver URL.

    ``sqlite:///PATH`` becomes ``sqlite+aiosqlite:///PATH``; ``postgresql://...`` (or
    ``postgres://``) becomes ``postgresql+asyncpg://...``. Anything else is rejected.
    """
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise SettingsError("RUNXIN_DATABASE_URL: sqlite URL needs a file path")
        if path != ":memory:":
            folder = Path(path).expanduser().resolve().parent
            if not folder.is_dir():  # never created silently: a typo would hide the data
                raise SettingsError(f"RUNXIN_DATABASE_URL: the directory {folder} does not exist")
        return DatabaseUrls(f"sqlite+aiosqlite:///{path}", "sqlite")
    if url.startswith("sqlite+aiosqlite:///"):
        return DatabaseUrls(url, "sqlite")
    for prefix in ("postgresql://", "postgres://", "postgresql+asyncpg://"):
        if url.startswith(prefix):
            return DatabaseUrls("postgresql+asyncpg://" + url.removeprefix(prefix), "postgresql")
    raise SettingsError(
        "RUNXIN_DATABASE_URL must start with sqlite:/// or postgresql:// "
        f"(got {url.split('://', maxsplit=1)[0]!r}://...)"
    )


#: The resolved settings as JSON, set by ``runxin serve --workers N`` for its worker processes.
SERVE_SETTINGS_ENV = "RUNXIN_SERVE_SETTINGS_JSON"


def export_for_workers(settings: Settings) -> None:
    """Hand the settings the command resolved (flags over ``RUNXIN_*``) to the worker processes
    uvicorn starts (they inherit the environment)."""
    os.environ[SERVE_SETTINGS_ENV] = msgspec.json.encode(settings).decode()


def settings_for_worker() -> Settings:
    """The settings of one server worker process: those exported by ``runxin serve``, else
    ``RUNXIN_*``."""
    raw = os.environ.get(SERVE_SETTINGS_ENV)
    return msgspec.json.decode(raw, type=Settings) if raw else Settings.from_env()


def engine_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``create_engine`` that bound the wait for a connection: the pool's
    ``pool_timeout`` and, on PostgreSQL, asyncpg's connect timeout (a host that drops packets
    would otherwise hold a request for a minute), both ``db_pool_timeout_s``. An in-memory
    SQLite database has a single static connection and no pool to wait for. On SQLite also its
    durability level (``sqlite_synchronous``)."""
    urls = database_urls(settings.database_url)
    wait = settings.db_pool_timeout_s
    if urls.dialect == "postgresql":
        return {"pool_timeout": wait, "connect_args": {"timeout": wait}}
    if urls.async_url.endswith("/:memory:"):
        return {"sqlite_synchronous": settings.sqlite_synchronous}
    return {"pool_timeout": wait, "sqlite_synchronous": settings.sqlite_synchronous}


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment for a program a command runs (``pg_dump``, ``pg_restore``): this
    process's, with ``extra`` on top. Secrets such as ``PGPASSWORD`` travel this way, never on
    the program's command line (which ``ps`` shows to every user of the machine)."""
    return {**os.environ, **extra}
