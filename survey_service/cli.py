"""The ``runxin`` command line.

Settings come from ``RUNXIN_*`` environment variables; flags override them. Progress goes to
stderr, results to stdout; exit status 0 on success, 1 on a problem the user can fix (with a
message saying what), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import logging.config
import re
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from instruments import Instrument
from survey_service.argtypes import at_least_one
from survey_service.clock import Clock, SystemClock
from survey_service.security import weak_secret_key
from survey_service.settings import (
    DEV_SECRET_KEY,
    Settings,
    SettingsError,
    configured_database_url,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from survey_service.services.runtime import Runtime


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB "
        "(default: $RUNXIN_DATABASE_URL or sqlite:///runxin.db)",
    )
    common.add_argument(
        "--secret-key",
        default=argparse.SUPPRESS,
        help="HMAC key for access codes and tokens (default: $RUNXIN_SECRET_KEY)",
    )
    return common


def _examples(*lines: str) -> dict[str, Any]:
    """``add_parser`` keywords for a ``--help`` that ends with example command lines."""
    return {
        "epilog": "example"
        + ("s" if len(lines) > 1 else "")
        + ":\n"
        + "\n".join(f"  {line}" for line in lines),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }


def _add_assign_class(
    subparsers: Any, name: str, command: str, common: argparse.ArgumentParser
) -> None:
    """``classes assign-head`` and its twin ``staff assign-class``: the same operation, found
    from either side (the class or the account)."""
    parser = subparsers.add_parser(
        name,
        parents=[common],
        help="make a staff account the head teacher of a class",
        **_examples(f"runxin {command} {name} --school SZ-07 --class '1班' --grade 7 wang.li"),
    )
    parser.add_argument("username")
    parser.add_argument("--school", required=True, help="school code")
    parser.add_argument("--class", dest="class_name", required=True, help="class name")
    parser.add_argument("--grade", type=int, required=True)


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="runxin",
        parents=[common],
        description="Runxin 润心: school mental-health screening with risk triage.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser(
        "upgrade",
        parents=[common],
        help="migrate the database to the latest schema",
        **_examples(
            "runxin db upgrade --database-url sqlite:///var/runxin/runxin.db",
            "RUNXIN_DATABASE_URL=postgresql://runxin@db.example:5432/runxin runxin db upgrade",
        ),
    )

    backup = sub.add_parser(
        "backup",
        parents=[common],
        help="write a consistent backup of the database to a new file (while the service "
        "serves); SQLite: a database file, PostgreSQL: a pg_dump custom-format archive",
        **_examples(
            "runxin backup /var/backups/runxin/runxin-$(date +%Y-%m-%d-%H%M%S).db",
            "RUNXIN_DATABASE_URL=postgresql://runxin@db.example:5432/runxin "
            "runxin backup /var/backups/runxin/runxin-$(date +%Y-%m-%d-%H%M%S).dump",
        ),
    )
    backup.add_argument("path", help="the backup file to create (its directory must exist)")
    restore = sub.add_parser(
        "restore",
        parents=[common],
        help="restore a backup into an empty database of the same kind (a new SQLite file, "
        "or a new PostgreSQL database); then check its schema revision",
        **_examples(
            "runxin restore /var/backups/runxin/runxin-2026-09-07-023000.db "
            "--database-url sqlite:///var/runxin/restored.db",
            "createdb runxin_restored && runxin restore runxin-2026-09-07.dump "
            "--database-url postgresql://runxin@db.example:5432/runxin_restored",
        ),
    )
    restore.add_argument("path", help="the backup file (made by `runxin backup`)")

    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="run the HTTP server",
        **_examples(
            "RUNXIN_SECRET_KEY=... runxin serve --host 0.0.0.0 --port 8000 "
            "--base-url https://runxin.example.edu"
        ),
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--base-url", default=None, help="public address used in links")
    serve.add_argument(
        "--workers",
        type=at_least_one,
        default=1,
        help="server processes on this machine (one per core; default 1)",
    )

    worker = sub.add_parser(
        "worker",
        parents=[common],
        help="run the dispatcher and sweeper",
        **_examples("RUNXIN_SECRET_KEY=... runxin worker", "runxin worker --once"),
    )
    worker.add_argument("--once", action="store_true", help="run one pass and exit")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between passes")

    sweep = sub.add_parser(
        "sweep",
        parents=[common],
        help="run the deadline sweeper once",
        **_examples("runxin sweep --at 2026-09-01T08:00:00+08:00"),
    )
    sweep.add_argument("--at", required=True, help="the time to sweep at (ISO 8601 with offset)")

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="seed a demo district (only seeds)",
        **_examples(
            "runxin db upgrade && runxin demo --students 60 --codes-file codes.txt",
        ),
    )
    demo.add_argument("--students", type=int, default=60)
    demo.add_argument("--codes-file", default=None, help="write one access code per line here")
    demo.add_argument("--staff-password", default="runxin-demo")
    demo.add_argument("--webhook-url", default=None)
    demo.add_argument("--webhook-secret", default=None)

    score = sub.add_parser(
        "score",
        help="score one response and print the result as JSON",
        **_examples(
            "runxin score gad7 --answers '[0, 1, 2, 3, 0, 1, 2]'",
            'runxin score phq-a --answers \'{"item1": 1, "item9": null}\'',
        ),
    )
    score.add_argument("instrument_id")
    score.add_argument(
        "--answers",
        required=True,
        help="JSON list in item order (null for missing) or object keyed by item id",
    )

    instruments = sub.add_parser("instruments", help="the instrument library")
    inst_sub = instruments.add_subparsers(dest="instruments_command", required=True)
    inst_list = inst_sub.add_parser(
        "list",
        parents=[common],
        help="list available instruments",
        **_examples("runxin instruments list --json"),
    )
    inst_list.add_argument("--json", action="store_true", help="print JSON")
    inst_show = inst_sub.add_parser(
        "show",
        parents=[common],
        help="show one instrument",
        **_examples("runxin instruments show gad7"),
    )
    inst_show.add_argument("instrument_id")
    inst_show.add_argument("--json", action="store_true", help="print the full definition")
    inst_add = inst_sub.add_parser(
        "add",
        parents=[common],
        help="validate and install a definition file (licensed schools)",
        **_examples("runxin instruments add definitions/sdq.json"),
    )
    inst_add.add_argument("path")
    inst_export = inst_sub.add_parser(
        "export",
        parents=[common],
        help="print an instrument as a FHIR R4 Questionnaire (JSON; see docs/fhir.md)",
        **_examples(
            "runxin instruments export phq9 --format fhir",
            "runxin instruments export gad7 --format fhir --lang en --out gad7.fhir.json",
        ),
    )
    inst_export.add_argument("instrument_id")
    inst_export.add_argument("--format", choices=("fhir",), required=True)
    inst_export.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="the resource's language (default zh)"
    )
    inst_export.add_argument("--out", default=None, help="write here instead of stdout")
    inst_import = inst_sub.add_parser(
        "import",
        help="turn a FHIR R4 Questionnaire (JSON) into an instrument definition draft",
        **_examples("runxin instruments import questionnaire.json --out draft.json"),
    )
    inst_import.add_argument("path", help="the Questionnaire, a JSON file")
    inst_import.add_argument("--out", required=True, help="the draft definition file to write")
    inst_check = inst_sub.add_parser(
        "check",
        help="validate a definition file (or an imported draft): every problem with its path, "
        "exit 1 if any",
        **_examples("runxin instruments check draft.json"),
    )
    inst_check.add_argument("path")

    responses = sub.add_parser("responses", help="stored responses (interoperability)")
    responses_sub = responses.add_subparsers(dest="responses_command", required=True)
    responses_export = responses_sub.add_parser(
        "export",
        parents=[common],
        help="print a stored response as a FHIR R4 QuestionnaireResponse (a read of a "
        "student's answers: audited)",
        **_examples(
            "runxin responses export 0b6f3c1e-8d1a-4c3e-9a57-2f1d4e5a6b7c --format fhir",
        ),
    )
    responses_export.add_argument("response_id")
    responses_export.add_argument("--format", choices=("fhir",), required=True)
    responses_export.add_argument(
        "--with-subject",
        action="store_true",
        help="add the subject as an opaque reference (Patient/<student id>; never a name)",
    )
    responses_export.add_argument("--out", default=None, help="write here instead of stdout")

    rescore = sub.add_parser(
        "rescore",
        parents=[common],
        help="re-score a campaign with the current definitions",
        **_examples(
            "runxin rescore --campaign 0b6f3c1e-8d1a-4c3e-9a57-2f1d4e5a6b7c",
            "runxin rescore --campaign 0b6f3c1e-8d1a-4c3e-9a57-2f1d4e5a6b7c --apply",
        ),
    )
    rescore.add_argument("--campaign", required=True, help="campaign id")
    rescore.add_argument(
        "--apply", action="store_true", help="store the new results (default: only report)"
    )
    rescore.add_argument("--json", action="store_true", help="print the report as JSON")

    roster = sub.add_parser("roster", help="school rosters")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True)
    roster_import = roster_sub.add_parser(
        "import",
        parents=[common],
        help="preview (default) or --apply a roster CSV/XLSX file",
        **_examples(
            "runxin roster import roster-2026.xlsx --school DEMO-A",
            "runxin roster import roster-2026.xlsx --school DEMO-A --apply",
        ),
    )
    roster_import.add_argument("path")
    roster_import.add_argument("--school", required=True, help="school code")
    roster_import.add_argument("--apply", action="store_true", help="import (all or nothing)")
    roster_import.add_argument("--json", action="store_true", help="print the report as JSON")
    roster_import.add_argument(
        "--mode",
        choices=("replace", "incremental"),
        default="replace",
        help="replace: the file is the whole roster (default); incremental: add and update "
        "the students in the file, nobody is treated as leaving",
    )
    roster_import.add_argument(
        "--confirm-leavers",
        metavar="TOKEN",
        help="mark the students missing from the file as left: the token the preview printed "
        "for exactly that list (without it they stay active)",
    )

    policy = sub.add_parser("policy", help="triage policies")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    policy_check = policy_sub.add_parser(
        "check",
        help="check a policy file (and override layers) against the safety floor",
        description="Load a triage policy, apply override layers in order, and check the "
        "result against the safety floor for every shipped instrument: every acute, critical "
        "or unanswered-critical flag reaches orange or red, and suicide-pathway deadlines "
        "count the wall clock (acknowledge within 2 h, safety assessment and guardian contact "
        "within 24 h). Exit 0 when it holds, 1 with one line per problem.",
        **_examples("runxin policy check district-policy.json --layer overrides/DEMO-A.json"),
    )
    policy_check.add_argument(
        "path", nargs="?", default=None, help="policy file (default: the shipped default)"
    )
    policy_check.add_argument(
        "--layer",
        action="append",
        default=[],
        metavar="PATH",
        help="an override layer, applied in order (repeat: district, then school)",
    )

    user = sub.add_parser("user", help="staff accounts (the server operator's actions)")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    reset = user_sub.add_parser(
        "reset-password",
        parents=[common],
        help="set a staff account's password, read from stdin or a prompt (never an argument); "
        "ends its sessions",
        **_examples(
            "runxin user reset-password counsellor1            (prompts twice)",
            "printf '%s\\n' \"$NEW_PASSWORD\" | runxin user reset-password counsellor1",
        ),
    )
    reset.add_argument("username")
    disable = user_sub.add_parser(
        "disable",
        parents=[common],
        help="disable a staff account and end its sessions",
        **_examples("runxin user disable counsellor1"),
    )
    disable.add_argument("username")

    _add_directory_parsers(sub, common)
    _add_report_parser(sub, common)
    _add_export_parser(sub, common)
    from survey_service.norms_cli import add_norms_parser

    add_norms_parser(sub, common)  # runxin norms build|show|load|use (issue 16)
    from survey_service.psychometrics_cli import add_psychometrics_parser

    add_psychometrics_parser(sub, common)  # runxin psychometrics report (issue 16)

    audit_cmd = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit_cmd.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser(
        "seal",
        parents=[common],
        help="chain the audit rows not yet sealed",
        **_examples("runxin audit seal"),
    )
    audit_verify = audit_sub.add_parser(
        "verify",
        parents=[common],
        help="seal, then recompute the hash chain: exit 0 when intact, 1 naming the first "
        "changed, missing or moved row",
        **_examples("runxin audit verify", "runxin audit verify --no-seal"),
    )
    audit_verify.add_argument(
        "--no-seal", action="store_true", help="only verify; seal nothing first"
    )

    retention = sub.add_parser("retention", help="retention of personal data (issue 19)")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    retention_run = retention_sub.add_parser(
        "run",
        parents=[common],
        help="delete or pseudonymise the data whose retention period has passed (counts per "
        "kind; RUNXIN_RETENTION_<KIND>_DAYS set the periods)",
        **_examples(
            "runxin retention run --dry-run",
            "RUNXIN_RETENTION_ANSWERS_DAYS=1095 runxin retention run",
        ),
    )
    retention_run.add_argument(
        "--dry-run", action="store_true", help="count what would change; change nothing"
    )
    retention_run.add_argument("--at", help="run as of this time (ISO 8601 with offset)")

    inbox = sub.add_parser(
        "inbox",
        help="a local webhook receiver that prints what arrives",
        **_examples("runxin inbox --port 8099 --secret whsec-demo"),
    )
    inbox.add_argument("--host", default="127.0.0.1")
    inbox.add_argument("--port", type=int, default=8099)
    inbox.add_argument(
        "--secret",
        action="append",
        default=[],
        help="signing secret to verify (repeat during rotation)",
    )

    simulate = sub.add_parser(
        "simulate",
        help="plan app nodes and database cores for a synthetic province-sized campaign "
        "(no database)",
        description="Simulate when N students' screening submissions arrive over D school days "
        "(Monday to Friday, class periods) and size the service for the peak with the capacity "
        "measured in benchmarks/capacity.json (built-in conservative figures without it).",
        **_examples(
            "runxin simulate --students 10000000 --days 15",
            "runxin simulate --students 3000 --days 1 --whole-school-share 1 --headroom 3",
            "runxin simulate --students 2000000 --days 10 --node-capacity 120 "
            "--db-capacity-per-core 400",
        ),
    )
    simulate.add_argument("--students", type=int, required=True, help="students screened")
    simulate.add_argument("--days", type=int, required=True, help="school days of the campaign")
    simulate.add_argument(
        "--start", default="2026-09-07", help="first day, YYYY-MM-DD (default: 2026-09-07)"
    )
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument(
        "--whole-school-share",
        type=float,
        default=None,
        help="share of schools that screen all classes in one period (default 0.2)",
    )
    simulate.add_argument(
        "--capacity-file",
        default=None,
        help="measured capacity (default: benchmarks/capacity.json of this checkout, if any)",
    )
    simulate.add_argument(
        "--node-capacity", type=float, default=None, help="submissions/s per app node"
    )
    simulate.add_argument(
        "--db-capacity-per-core",
        type=float,
        default=None,
        help="submissions/s per database core",
    )
    simulate.add_argument(
        "--headroom", type=float, default=2.0, help="capacity over the peak (default 2)"
    )
    from survey_service.cat_cli import add_cat_parser

    add_cat_parser(sub)  # runxin cat simulate (issue 16)
    from survey_service.irt_cli import add_irt_parser

    add_irt_parser(sub)  # runxin irt fit (issue 16)
    return parser


def _add_directory_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """``runxin schools|classes|staff ...``: the directory, without SQL (issue 13)."""
    schools = sub.add_parser("schools", help="schools (the server operator's directory)")
    schools_sub = schools.add_subparsers(dest="schools_command", required=True)
    s_add = schools_sub.add_parser(
        "add",
        parents=[common],
        help="add a school (to the only district, or --district CODE)",
        **_examples(
            "runxin schools add SZ-07 '深圳市第七中学'",
            "runxin schools add SZ-07 '深圳市第七中学' --district NS --district-name '南山区'",
        ),
    )
    s_add.add_argument("code")
    s_add.add_argument("name")
    s_add.add_argument("--district", default=None, help="district code")
    s_add.add_argument(
        "--district-name", default=None, help="create the --district with this name if new"
    )
    schools_sub.add_parser(
        "list", parents=[common], help="list the schools", **_examples("runxin schools list")
    )

    classes = sub.add_parser("classes", help="classes of a school")
    classes_sub = classes.add_subparsers(dest="classes_command", required=True)
    c_add = classes_sub.add_parser(
        "add",
        parents=[common],
        help="add a class to a school",
        **_examples(
            "runxin classes add --school SZ-07 --grade 7 '1班'",
            "runxin classes add --school SZ-07 --grade 7 '2班' --head-teacher wang.li",
        ),
    )
    c_add.add_argument("name")
    c_add.add_argument("--school", required=True, help="school code")
    c_add.add_argument("--grade", type=int, required=True)
    c_add.add_argument("--head-teacher", default=None, help="username of a staff account there")
    c_list = classes_sub.add_parser(
        "list",
        parents=[common],
        help="list a school's classes",
        **_examples("runxin classes list --school SZ-07"),
    )
    c_list.add_argument("--school", required=True, help="school code")
    _add_assign_class(classes_sub, "assign-head", "classes", common)

    staff = sub.add_parser("staff", help="staff accounts (the server operator's directory)")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    st_add = staff_sub.add_parser(
        "add",
        parents=[common],
        help="add a staff account; prints a one-time password (change it at first sign-in)",
        **_examples(
            "runxin staff add zhang.min --role counsellor --school SZ-07 --name '张敏'",
            "runxin staff add district.ops --role district_officer",
        ),
    )
    st_add.add_argument("username")
    st_add.add_argument("--role", required=True, help="one of: " + ", ".join(_ROLES))
    st_add.add_argument("--school", default=None, help="school code (school-bound roles)")
    st_add.add_argument(
        "--district", default=None, help="district code (district roles; default: the only one)"
    )
    st_add.add_argument("--name", default=None, help="display name (default: the username)")
    st_add.add_argument("--phone", default=None)
    st_list = staff_sub.add_parser(
        "list",
        parents=[common],
        help="list staff accounts (never their passwords)",
        **_examples("runxin staff list", "runxin staff list --school SZ-07"),
    )
    st_list.add_argument("--school", default=None, help="only this school's accounts")
    _add_assign_class(staff_sub, "assign-class", "staff", common)
    for name, text, example in (
        (
            "reset-password",
            "give a staff account a new one-time password (printed once; to be changed at the "
            "next sign-in); ends its sessions",
            "runxin staff reset-password zhang.min",
        ),
        (
            "disable",
            "disable a staff account and end its sessions",
            "runxin staff disable zhang.min",
        ),
        ("enable", "enable a disabled staff account", "runxin staff enable zhang.min"),
    ):
        st_one = staff_sub.add_parser(name, parents=[common], help=text, **_examples(example))
        st_one.add_argument("username")


def _add_report_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``runxin report``: the annual screening report of a school or a district (issue 15)."""
    report = sub.add_parser(
        "report",
        parents=[common],
        help="the annual screening report of a school or a district, as PDF or HTML",
        **_examples(
            "runxin report --school SZ-07 --out sz07-2026-2027.pdf",
            "runxin report --school SZ-07 --year 2025-2026 --lang en --format html --out r.html",
            "runxin report --district SZ --out district.pdf",
        ),
    )
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--school", metavar="CODE", help="the school's code")
    which.add_argument("--district", metavar="CODE", help="the district's code (all its schools)")
    report.add_argument(
        "--year",
        metavar="LABEL",
        help="the school year, e.g. 2026-2027 (default: the current school year)",
    )
    report.add_argument("--format", choices=("pdf", "html"), default="pdf")
    report.add_argument("--lang", choices=("zh", "en"), default="zh")
    report.add_argument("--out", required=True, metavar="PATH", help="the file to write")


def _add_export_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``runxin export provincial``: a district's de-identified, suppressed counts (issue 15)."""
    export = sub.add_parser("export", help="aggregate exports for other platforms")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    provincial = export_sub.add_parser(
        "provincial",
        parents=[common],
        help="a district's school year as suppressed counts for the provincial platform "
        "(docs/provincial-export.md)",
        **_examples(
            "runxin export provincial --district SZ --format json --out sz-2026-2027.json",
            "runxin export provincial --district SZ --year 2025-2026 --format csv --out sz.csv",
        ),
    )
    provincial.add_argument("--district", required=True, metavar="CODE", help="district code")
    provincial.add_argument(
        "--year",
        metavar="LABEL",
        help="the school year, e.g. 2026-2027 (default: the current school year)",
    )
    provincial.add_argument("--format", choices=("json", "csv"), default="json")
    provincial.add_argument("--out", required=True, metavar="PATH", help="the file to write")


_ROLES = (
    "counsellor",
    "school_lead",
    "school_admin",
    "head_teacher",
    "teacher",
    "district_officer",
    "auditor",
)


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    return Settings.from_env(
        database_url=getattr(args, "database_url", None),
        secret_key=getattr(args, "secret_key", None),
        **extra,
    )


def _err(message: str) -> None:
    print(f"runxin: {message}", file=sys.stderr)


class _CliError(Exception):
    """A problem the user can fix: :func:`main` prints the message as one line, exit 1."""


_NO_SCHEMA = "the database has no Runxin schema yet; run `runxin db upgrade` first"


def _unknown_instrument(exc: Exception) -> str:
    instrument_id = getattr(exc, "instrument_id", exc.args[0] if exc.args else "")
    known = getattr(exc, "known", ())
    return f"unknown instrument {instrument_id!r}; known: {', '.join(known) or '(none)'}"


def _database_url(args: argparse.Namespace) -> str:
    """The database URL the command will use (flag, then environment, then the default)."""
    return configured_database_url(getattr(args, "database_url", None))


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for other databases and ``:memory:``)."""
    for prefix in ("sqlite:///", "sqlite+aiosqlite:///"):
        if url.startswith(prefix):
            path = url.removeprefix(prefix).split("?", 1)[0]
            if not path or path == ":memory:":
                return None
            return Path(path).expanduser().absolute()
    return None


def _check_sqlite_directory(url: str) -> None:
    """Refuse a SQLite file in a directory that does not exist (rather than creating it:
    a typo in the path would otherwise give a new, empty database somewhere unexpected)."""
    path = _sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise _CliError(f"the directory {path.parent} does not exist")


def _where(url: str) -> str:
    """``host:port`` of a database URL, or the SQLite file; never the password."""
    path = _sqlite_path(url)
    if path is not None:
        return str(path)
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # only for a message
        return "the configured address"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def _connect_reason(exc: BaseException) -> str | None:
    """Why connecting failed, when ``exc`` (or what it wraps) is a connection failure."""
    import socket

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "unknown host"
        if isinstance(current, TimeoutError):
            return "timed out"
        if isinstance(current, OSError):
            return (current.strerror or type(current).__name__).lower()
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else current.__cause__ or current.__context__
        )
    return None


def _is_missing_table(exc: BaseException) -> bool:
    text = f"{type(getattr(exc, 'orig', None)).__name__} {exc}"
    return "no such table" in text or "UndefinedTable" in text


def _explain_database_error(exc: BaseException, url: str) -> str | None:
    """One line for a database failure, or ``None`` when ``exc`` is not one."""
    from sqlalchemy.exc import DBAPIError

    reason = _connect_reason(exc)
    if reason is not None:
        if _sqlite_path(url) is not None:
            return f"cannot open the SQLite database {_where(url)} ({reason})"
        return f"cannot reach the database at {_where(url)} ({reason}); is PostgreSQL running?"
    if isinstance(exc, DBAPIError):
        if _is_missing_table(exc):
            return _NO_SCHEMA
        orig = exc.orig if exc.orig is not None else exc
        first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        if _sqlite_path(url) is not None:
            return f"cannot use the SQLite database {_where(url)} ({first})"
        return f"database error at {_where(url)}: {first}"
    return None


async def _schema_heads(url: str) -> tuple[set[str], set[str]] | None:
    """(the database's alembic revisions, this Runxin's heads); ``None`` for a SQLite file
    that does not exist yet (not created by looking). Connection failures raise
    :class:`_CliError`."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from survey_service.db import create_engine
    from survey_service.db._migrate import alembic_config

    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return None
    expected = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    except Exception as exc:
        message = _explain_database_error(exc, url)
        if message is None:
            raise
        raise _CliError(message) from exc
    finally:
        await engine.dispose()
    return current, expected


async def _require_schema(url: str) -> None:
    """Raise :class:`_CliError` unless the database is reachable and at this Runxin's schema."""
    heads = await _schema_heads(url)
    if heads is None or not heads[0]:
        raise _CliError(_NO_SCHEMA)
    current, expected = heads
    if current != expected:
        raise _CliError(
            f"the database schema is at revision {', '.join(sorted(current))}, not this "
            f"Runxin's {', '.join(sorted(expected))}; run `runxin db upgrade` first"
        )


@dataclass
class _Service:
    """What a database command works with (see :func:`_service`)."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    _runtime: Runtime | None = field(default=None, repr=False)

    async def runtime(self) -> Runtime:
        """The runtime (catalogue with the installed definitions, policies), loaded once."""
        if self._runtime is None:
            from survey_service.services.instrument_library import installed_instruments
            from survey_service.services.runtime import load_runtime

            async with self.sessions() as db:
                self._runtime = load_runtime(self.settings, await installed_instruments(db))
        return self._runtime


@contextlib.asynccontextmanager
async def _service(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[_Service]:
    """Set up a command's engine, session factory, runtime (on first use) and clock.

    ``clock`` defaults to the wall clock; the engine is disposed of on exit.
    """
    from survey_service.db import create_engine, create_session_factory
    from survey_service.settings import engine_options

    engine = create_engine(settings.database_url, **engine_options(settings))
    try:
        yield _Service(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            clock=clock if clock is not None else SystemClock(),
        )
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except (SettingsError, _CliError) as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # A database failure past the up-front checks (e.g. the server went away): one line.
        import socket

        from sqlalchemy.exc import SQLAlchemyError

        message = None
        if isinstance(exc, SQLAlchemyError | ConnectionRefusedError | socket.gaierror):
            message = _explain_database_error(exc, _database_url(args))
        if message is None:
            raise
        _err(message)
        return 1


#: Commands that work on the database and so need its schema (checked before they start).
_NEEDS_SCHEMA = frozenset(
    {
        "serve",
        "worker",
        "sweep",
        "demo",
        "rescore",
        "roster",
        "audit",
        "retention",
        "user",
        "report",
        "export",
        "schools",
        "classes",
        "staff",
        "responses",
        "norms",
        "psychometrics",
    }
)


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "score":
        return _cmd_score(args)
    if command == "policy":
        return _cmd_policy_check(args)
    if command == "instruments" and args.instruments_command in {"import", "check"}:
        return _cmd_instruments_file(args)
    if command == "simulate":
        return _cmd_simulate(args)
    if command == "cat":
        from survey_service.cat_cli import run_cat

        return run_cat(args)
    if command == "irt":
        from survey_service.irt_cli import run_irt

        return run_irt(args)
    if command == "inbox":
        from survey_service.webhook_inbox import run_inbox

        run_inbox(args.host, args.port, args.secret, clock=SystemClock())
        return 0
    _check_sqlite_directory(_database_url(args))
    settings = _settings(args, base_url=getattr(args, "base_url", None))
    if command in {"serve", "worker"} and weak_secret_key(settings.secret_key, DEV_SECRET_KEY):
        _err(
            "RUNXIN_SECRET_KEY is not set (or is the public development key): refusing to "
            'start. Set it to a long random value, e.g. `python -c "import secrets; '
            'print(secrets.token_urlsafe(48))"`.\n'
            "runxin: 未设置 RUNXIN_SECRET_KEY（或使用的是公开的开发密钥），拒绝启动。"
            "请将其设置为一个足够长的随机值。"
        )
        return 2
    if settings.secret_key == DEV_SECRET_KEY and command == "demo":
        _err("warning: RUNXIN_SECRET_KEY is not set; using the insecure development key")
    if command == "db":
        from survey_service.db import upgrade

        asyncio.run(_schema_heads(settings.database_url))  # reachable? (one line if not)
        print("migrating database…", file=sys.stderr)
        upgrade(settings.database_url)
        print("database is at the latest schema", file=sys.stderr)
        return 0
    if command in {"backup", "restore"}:
        return _cmd_backup_restore(settings, args)
    if command in _NEEDS_SCHEMA or (command == "instruments" and args.instruments_command == "add"):
        asyncio.run(_require_schema(settings.database_url))
    if command == "serve":
        return _cmd_serve(settings, args.host, args.port, args.workers)
    if command == "worker":
        return asyncio.run(_cmd_worker(settings, once=args.once, interval=args.interval))
    if command == "sweep":
        return asyncio.run(_cmd_sweep(settings, args.at))
    if command == "demo":
        return asyncio.run(_cmd_demo(settings, args))
    if command == "instruments":
        return asyncio.run(_cmd_instruments(settings, args))
    if command == "rescore":
        return asyncio.run(_cmd_rescore(settings, args))
    if command == "responses":
        return asyncio.run(_cmd_responses_export(settings, args))
    if command == "roster":
        return asyncio.run(_cmd_roster(settings, args))
    if command == "audit":
        return asyncio.run(_cmd_audit(settings, args))
    if command == "retention":
        return asyncio.run(_cmd_retention(settings, args))
    if command == "user":
        return _cmd_user(settings, args)
    if command in {"schools", "classes", "staff"}:
        return asyncio.run(_cmd_directory(settings, args))
    if command == "report":
        return asyncio.run(_cmd_report(settings, args))
    if command == "export":
        return asyncio.run(_cmd_export(settings, args))
    if command == "norms":
        from survey_service.norms_cli import run_norms

        return asyncio.run(run_norms(settings, args))
    if command == "psychometrics":
        from survey_service.psychometrics_cli import run_psychometrics

        return asyncio.run(run_psychometrics(settings, args))
    raise AssertionError(command)  # pragma: no cover - argparse restricts commands


def _cmd_backup_restore(settings: Settings, args: argparse.Namespace) -> int:
    """``runxin backup PATH`` / ``runxin restore PATH`` (see ``docs/backup.md``)."""
    from survey_service.operations.backup import (
        BackupError,
        backup_database,
        restore_database,
    )

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    path = Path(args.path)
    try:
        if args.command == "backup":
            made = backup_database(settings.database_url, path, progress=progress)
            print(
                f"backup written: {made.path} ({made.kind}, {made.size_bytes} bytes, "
                f"schema revision {', '.join(made.revisions)})"
            )
            return 0
        restored = restore_database(settings.database_url, path, progress=progress)
    except BackupError as exc:
        _err(str(exc))
        return 1
    revision = ", ".join(restored.revisions)
    print(f"restored {path}: schema revision {revision}, the same as the backup's")
    if restored.upgrade_needed:
        print(
            f"this Runxin's schema is newer ({', '.join(restored.code_heads)}): run "
            "`runxin db upgrade` on this database before starting the service"
        )
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    import scoring
    from instruments import UnknownInstrumentError, default_catalogue

    try:
        instrument = default_catalogue().get(args.instrument_id)
    except UnknownInstrumentError as exc:
        _err(_unknown_instrument(exc))
        return 1
    try:
        raw = json.loads(args.answers)
    except json.JSONDecodeError as exc:
        _err(f"--answers is not valid JSON: {exc}")
        return 1
    try:
        if isinstance(raw, list):
            answers = scoring.answers_from_list(instrument, raw)
        elif isinstance(raw, dict):
            answers = raw
        else:
            _err("--answers must be a JSON list (item order) or an object keyed by item id")
            return 1
        result = scoring.score(instrument, answers)
    except ValueError as exc:
        _err(str(exc))
        return 1
    out = msgspec.to_builtins(result)
    out["instrument"] = out.pop("instrument_id")
    out["subscales"] = {s["subscale_id"]: s for s in out["subscales"]}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _cmd_policy_check(args: argparse.Namespace) -> int:
    from instruments import default_catalogue
    from triage import PolicyError, check_safety_floor, load_policy_layers

    base = Path(args.path) if args.path else None
    layers = [Path(layer) for layer in args.layer]
    try:
        policy = load_policy_layers(base, layers)
    except PolicyError as exc:
        _err(str(exc))
        return 1
    instruments = list(default_catalogue().values())
    problems = check_safety_floor(policy, instruments)
    name = args.path or "the shipped default policy"
    if problems:
        for problem in problems:
            print(f"{problem.kind}: {problem}")
        _err(
            f"policy {policy.version} ({name}) is below the safety floor: "
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        )
        return 1
    flags = sum(len(instrument.scoring.flags) for instrument in instruments)
    print(
        f"ok: policy {policy.version} ({name}, {len(layers)} layer"
        f"{'s' if len(layers) != 1 else ''}) is on the safety floor: {len(policy.rules)} rules, "
        f"{len(instruments)} instruments, {flags} safety flags checked"
    )
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    """``runxin simulate``: the arrival model and the plan (issue 18); no database."""
    from datetime import date

    from survey_service import capacity

    default_file = Path(__file__).resolve().parents[1] / "benchmarks" / "capacity.json"
    path = Path(args.capacity_file) if args.capacity_file else default_file
    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        _err(f"--start must be a date such as 2026-09-07, not {args.start!r}")
        return 2
    if args.capacity_file and not path.is_file():
        _err(f"--capacity-file {path}: no such file")
        return 2
    try:
        measured = (
            capacity.capacity_from_json(path.read_text(encoding="utf-8"), where=str(path))
            if path.is_file()
            else capacity.BUILTIN_CAPACITY
        )
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _err(f"cannot use the capacity file: {exc}")
        return 1
    try:
        chosen = measured.with_overrides(
            node_per_s=args.node_capacity, db_per_core_per_s=args.db_capacity_per_core
        )
        capacity.check_headroom(args.headroom)
        model = (
            capacity.ArrivalModel()
            if args.whole_school_share is None
            else capacity.ArrivalModel(whole_school_share=args.whole_school_share)
        )

        def progress(done: int, total: int) -> None:
            if total >= 1_000_000:
                print(f"simulating: {done:,} of {total:,} students placed", file=sys.stderr)

        arrivals = capacity.simulate_arrivals(
            args.students, args.days, start=start, seed=args.seed, model=model, progress=progress
        )
        plan = capacity.plan_capacity(
            arrivals.summary.peak_minute_per_s,
            arrivals.summary.peak_second_per_s,
            chosen,
            headroom=args.headroom,
        )
    except ValueError as exc:
        _err(str(exc))
        return 2
    print("\n".join(capacity.report(arrivals, plan)))
    return 0


def _cmd_serve(settings: Settings, host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    from survey_service.log_format import process_log_config
    from survey_service.settings import export_for_workers

    logging.config.dictConfig(process_log_config(settings.log_format))
    logging.getLogger("runxin.serve").info(
        "Runxin is serving on http://%s:%s with %s worker process%s "
        "(OpenAPI: /schema/openapi.json)",
        host,
        port,
        workers,
        "es" if workers > 1 else "",
    )
    if workers == 1:
        from survey_service.app import create_app

        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_config=process_log_config(settings.log_format),
            access_log=False,
        )
        return 0
    # Each worker process builds its own app (and engine) from these settings; this process
    # only supervises them (it never imports the app).
    export_for_workers(settings)
    uvicorn.run(
        "survey_service.asgi:app_from_env",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_config=process_log_config(settings.log_format),
        access_log=False,
    )
    return 0


async def _cmd_worker(settings: Settings, *, once: bool, interval: float) -> int:
    import httpx

    from survey_service.log_format import process_log_config
    from survey_service.observability.heartbeat import Heartbeat
    from survey_service.workers import Dispatcher, sweep

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # One HTTP client for the process's whole life, shared by every delivery.
    logging.config.dictConfig(process_log_config(settings.log_format))
    log = logging.getLogger("runxin.worker")
    async with _service(settings) as svc, httpx.AsyncClient() as client:
        runtime = await svc.runtime()
        dispatcher = Dispatcher(svc.sessions, client, settings)
        # /readyz and /metrics see the worker alive while it beats (observability.heartbeat).
        heartbeat = Heartbeat(
            dispatcher.worker_id,
            started_at=svc.clock.now(),
            max_age_s=settings.worker_heartbeat_max_age_s,
        )
        log.info("worker %s started", dispatcher.worker_id, extra={"worker": dispatcher.worker_id})
        while not stop.is_set():
            now = svc.clock.now()
            await heartbeat.beat(svc.sessions, now)
            swept = await sweep(svc.sessions, settings, now=now, runtime=runtime)
            stats = await dispatcher.run_once(now)
            if swept.escalations or swept.task_escalations or stats.claimed:
                log.info(
                    "escalations=%s task_escalations=%s claimed=%s delivered=%s retrying=%s "
                    "failed=%s",
                    swept.escalations,
                    swept.task_escalations,
                    stats.claimed,
                    stats.delivered,
                    stats.retried,
                    stats.failed,
                    extra={"worker": dispatcher.worker_id, "event": "pass"},
                )
            if once:
                break
            if not stats.claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
    return 0


async def _cmd_sweep(settings: Settings, at: str) -> int:
    from survey_service.clock import ManualClock
    from survey_service.workers import sweep

    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        _err(f"--at {at!r} is not an ISO 8601 time")
        return 1
    if when.tzinfo is None:
        _err("--at needs a UTC offset, e.g. 2026-09-01T08:00:00+08:00")
        return 1
    async with _service(settings, clock=ManualClock(when.astimezone(UTC))) as svc:
        runtime = await svc.runtime()
        stats = await sweep(svc.sessions, settings, now=svc.clock.now(), runtime=runtime)
    print(json.dumps(msgspec.to_builtins(stats)))
    return 0


async def _cmd_retention(settings: Settings, args: argparse.Namespace) -> int:
    """``runxin retention run [--dry-run] [--at T]``: progress on stderr, the report as JSON."""
    from survey_service.clock import ManualClock
    from survey_service.services import retention

    clock: Clock | None = None
    if args.at:
        try:
            when = datetime.fromisoformat(args.at)
        except ValueError:
            _err(f"--at {args.at!r} is not an ISO 8601 time")
            return 1
        if when.tzinfo is None:
            _err("--at needs a UTC offset, e.g. 2029-09-01T08:00:00+08:00")
            return 1
        clock = ManualClock(when.astimezone(UTC))
    policy = retention.policy_of(settings)
    async with _service(settings, clock=clock) as svc, svc.sessions() as db:
        print(
            f"retention{' (dry run)' if args.dry_run else ''} at {svc.clock.now().isoformat()}",
            file=sys.stderr,
        )
        try:
            report = await retention.run_retention(
                db,
                policy=policy,
                secret_key=settings.secret_key,
                now=svc.clock.now(),
                dry_run=args.dry_run,
            )
        finally:
            if args.dry_run:
                await db.rollback()  # a dry run changes nothing
        if not args.dry_run:
            await db.commit()
        for kind, tables in report.counts.items():
            detail = ", ".join(f"{t} {n}" for t, n in sorted(tables.items())) or "nothing expired"
            print(f"  {kind} ({policy.days(kind)} days): {detail}", file=sys.stderr)
    print(json.dumps(msgspec.to_builtins(report)))
    return 0


async def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from survey_service.errors import ServiceError
    from survey_service.services.demo import seed_demo
    from survey_service.services.runtime import load_runtime

    rt = load_runtime(settings)
    try:
        async with _service(settings) as svc, svc.sessions() as db, db.begin():
            seeded = await seed_demo(
                db,
                rt,
                students=args.students,
                staff_password=args.staff_password,
                webhook_url=args.webhook_url,
                webhook_secret=args.webhook_secret,
                now=svc.clock.now(),
            )
    except (ServiceError, ValueError) as exc:
        _err(str(exc))
        return 1
    if args.codes_file:
        Path(args.codes_file).write_text("\n".join(seeded.access_codes) + "\n", encoding="utf-8")
    print(f"schools: {', '.join(seeded.school_codes)}")
    for username, role in seeded.usernames.items():
        print(f"staff user: {username}  ({role})")
    print(f"students: {len(seeded.access_codes)}; first access code: {seeded.access_codes[0]}")
    if args.codes_file:
        print(f"access codes written to {args.codes_file}")
    return 0


async def _installed(settings: Settings) -> list[Instrument] | None:
    """Installed definitions, or ``None`` when the database has no schema yet."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from survey_service.services.instrument_library import installed_instruments

    heads = await _schema_heads(settings.database_url)
    if heads is None or not heads[0]:
        return None
    try:
        async with _service(settings) as svc, svc.sessions() as db:
            return await installed_instruments(db)
    except (OperationalError, ProgrammingError):
        return None


async def _cmd_instruments(settings: Settings, args: argparse.Namespace) -> int:
    from instruments import DefinitionError, UnknownInstrumentError, default_catalogue
    from survey_service.services.instrument_library import merge_catalogue

    if args.instruments_command == "add":
        return await _cmd_instruments_add(settings, Path(args.path))
    installed = await _installed(settings)
    if installed is None:
        _err("note: the database has no schema yet; showing shipped instruments only")
    try:
        catalogue = merge_catalogue(default_catalogue(), installed or [])
    except DefinitionError as exc:
        _err(str(exc))
        return 1
    if args.instruments_command == "list":
        items = [catalogue[i] for i in catalogue.ids()]
        if args.json:
            print(json.dumps([_instrument_summary(i) for i in items], ensure_ascii=False, indent=2))
        else:
            for i in items:
                langs = ", ".join(f"{k} ({v.status})" for k, v in i.languages.items())
                print(
                    f"{i.id:<12} v{i.version:<8} {len(i.items):>3} items  {i.title['en']}"
                    f"  [{langs}]"
                )
        return 0
    try:
        instrument = catalogue.get(args.instrument_id)
    except UnknownInstrumentError as exc:
        _err(_unknown_instrument(exc))
        return 1
    if args.instruments_command == "export":
        from instruments.fhir import to_questionnaire

        return _write_json(to_questionnaire(instrument, lang=args.lang), args.out)
    if args.json:
        print(json.dumps(msgspec.to_builtins(instrument), ensure_ascii=False, indent=2))
        return 0
    print(_instrument_text(instrument))
    return 0


def _instrument_summary(i: Instrument) -> dict[str, Any]:
    return {
        "id": i.id,
        "version": i.version,
        "title": i.title,
        "items": len(i.items),
        "languages": {k: v.status for k, v in i.languages.items()},
        "licence": i.licence,
        "min_age": i.min_age,
        "max_age": i.max_age,
    }


def _instrument_text(i: Instrument) -> str:
    lines = [f"{i.id} (version {i.version})"]
    for lang, title in i.title.items():
        lines.append(f"  title [{lang}]: {title}")
    for lang, info in i.languages.items():
        lines.append(f"  language {lang}: {info.status} — {info.source}")
    lines.append(f"  ages: {i.min_age}–{i.max_age}")
    lines.append(f"  licence: {i.licence}")
    lines.append(f"  citation: {i.citation}")
    lines.append("  items:")
    for item in i.items:
        values = "/".join(str(o.value) for o in item.options)
        text = item.text.get("zh-CN") or item.text.get("en") or ""
        lines.append(f"    {item.id:<22} [{values}] {text}")
    return "\n".join(lines)


async def _cmd_instruments_add(settings: Settings, path: Path) -> int:
    from instruments import DefinitionError, default_catalogue
    from survey_service.errors import ServiceError
    from survey_service.services.instrument_library import install_definition

    try:
        document = path.read_bytes()
    except OSError as exc:
        _err(f"cannot read {path}: {exc.strerror}")
        return 1
    try:
        async with _service(settings) as svc, svc.sessions() as db, db.begin():
            instrument, new = await install_definition(
                db,
                document,
                source=str(path),
                shipped=default_catalogue(),
                now=svc.clock.now(),
            )
    except (DefinitionError, ServiceError) as exc:
        _err(str(exc))
        return 1
    state = "installed" if new else "already installed (identical)"
    print(f"{instrument.id} version {instrument.version}: {state}")
    return 0


def _write_json(document: Any, out: str | None) -> int:
    """Print ``document`` as JSON, or write it to ``out`` (saying so on stderr)."""
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        _err(f"cannot write {out}: {exc.strerror}")
        return 1
    print(f"written: {out}", file=sys.stderr)
    return 0


def _cmd_instruments_file(args: argparse.Namespace) -> int:
    """``runxin instruments import PATH --out DRAFT`` and ``runxin instruments check PATH``."""
    from instruments.fhir import definition_problems, from_questionnaire

    path = Path(args.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _err(f"cannot read {path}: {exc.strerror}")
        return 1
    if args.instruments_command == "check":
        problems = definition_problems(data, str(path))
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            _err(f"{path}: {len(problems)} problem(s)")
            return 1
        print(f"{path}: a valid definition")
        return 0
    try:
        resource = json.loads(data)
    except ValueError as exc:
        _err(f"{path}: not valid JSON: {exc}")
        return 1
    try:
        draft = from_questionnaire(resource)
    except ValueError as exc:
        _err(f"{path}: {exc}")
        return 1
    written = _write_json(draft, args.out)
    if written == 0:
        print(
            f"draft {draft['id']} written; FHIR does not carry the scoring rules: complete it, "
            f"then run `runxin instruments check {args.out}`",
            file=sys.stderr,
        )
    return written


async def _cmd_responses_export(settings: Settings, args: argparse.Namespace) -> int:
    """``runxin responses export ID --format fhir``: audited as a read by the operator."""
    import uuid

    from survey_service.errors import ServiceError
    from survey_service.screening.fhir import response_resource_cli

    try:
        response_id = uuid.UUID(args.response_id)
    except ValueError:
        _err(f"{args.response_id!r} is not a response id (a UUID)")
        return 1
    try:
        async with _service(settings) as svc:
            rt = await svc.runtime()
            async with svc.sessions() as db, db.begin():
                resource = await response_resource_cli(
                    db,
                    rt.catalogue,
                    response_id,
                    now=svc.clock.now(),
                    with_subject=args.with_subject,
                )
    except ServiceError as exc:
        _err(exc.detail)
        return 1
    return _write_json(resource, args.out)


async def _cmd_rescore(settings: Settings, args: argparse.Namespace) -> int:
    import uuid

    from survey_service.campaigns.rescore import rescore_campaign
    from survey_service.errors import ServiceError

    try:
        campaign_id = uuid.UUID(args.campaign)
    except ValueError:
        _err(f"--campaign {args.campaign!r} is not a campaign id (a UUID)")
        return 1

    def progress(done: int, total: int) -> None:
        print(f"re-scored {done}/{total} responses", file=sys.stderr)

    try:
        async with _service(settings) as svc:
            rt = await svc.runtime()
            async with svc.sessions() as db, db.begin():
                report = await rescore_campaign(
                    db, rt, campaign_id, apply=args.apply, now=svc.clock.now(), progress=progress
                )
    except ServiceError as exc:
        _err(str(exc))
        return 1
    if args.json:
        print(json.dumps(msgspec.to_builtins(report), ensure_ascii=False, indent=2))
    else:
        print(
            f"campaign {report.campaign_id}: {report.responses} responses, "
            f"{report.unchanged} unchanged, {len(report.changed)} changed, "
            f"{len(report.errors)} errors{' (stored)' if report.applied else ' (not stored)'}"
        )
        for c in report.changed:
            print(
                f"  response {c.response_id} {c.instrument_id}: "
                f"v{c.before.version} {c.before.status}/{c.before.band}/{c.before.total} -> "
                f"v{c.after.version} {c.after.status}/{c.after.band}/{c.after.total}"
            )
        for e in report.errors:
            print(f"  error: {e}")
    return 1 if report.errors else 0


async def _cmd_roster(settings: Settings, args: argparse.Namespace) -> int:
    from survey_service.campaigns.roster_import import import_roster
    from survey_service.errors import ServiceError
    from survey_service.rosters import RosterFileError

    path = Path(args.path)
    if not path.is_file():
        _err(f"{path}: no such file")
        return 1
    print(f"reading {path}…", file=sys.stderr)
    try:
        async with _service(settings) as svc, svc.sessions() as db, db.begin():
            report = await import_roster(
                db,
                school_code=args.school,
                path=path,
                apply=args.apply,
                now=svc.clock.now(),
                confirm_leavers=args.confirm_leavers,
                mode=args.mode,
            )
    except (ServiceError, RosterFileError) as exc:
        _err(str(exc))
        return 1
    if args.json:
        print(json.dumps(msgspec.to_builtins(report), ensure_ascii=False, indent=2))
    else:
        for error in report.errors:
            print(error)
        if report.counts is not None:
            c = report.counts
            verb = "imported" if report.applied else "would import (preview; --apply imports)"
            print(
                f"{args.school}: {verb}: {c.create} new, {c.update} updated, "
                f"{c.unchanged} unchanged, {c.mark_left} marked as left, {c.skipped} skipped"
            )
        _print_leavers(report)
        if report.ratio is not None and not report.ratio.ok:
            print("staffing check: " + "; ".join(report.ratio.problems))
        committee = [
            f"committee check, grade {check.grade} {check.class_name}: " + "; ".join(check.problems)
            for check in report.committee
            if not check.ok
        ]
        # Warnings after the result, a few of each kind and how many more (--json has all).
        _print_some(committee, "class(es) with a committee-member problem")
        _print_some([f"warning: {w}" for w in report.warnings], "warning(s)", sys.stderr)
    if report.errors:
        rows = {m.group(1) for m in (_ROW.match(e) for e in report.errors) if m}
        _err(
            f"{len(report.errors)} error(s) in {len(rows) or len(report.errors)} row(s); "
            "nothing was imported"
        )
        return 1
    return 0


_ROW = re.compile(r"^row (\d+)")
#: How many lines of one kind of warning the roster import prints before summarising.
SHOWN_WARNINGS = 5


def _print_some(lines: list[str], what: str, stream: Any = None) -> None:
    """The first :data:`SHOWN_WARNINGS` lines, then how many more (``--json`` lists all)."""
    out = stream or sys.stdout
    for line in lines[:SHOWN_WARNINGS]:
        print(line, file=out)
    if len(lines) > SHOWN_WARNINGS:
        print(
            f"… and {len(lines) - SHOWN_WARNINGS} more: {len(lines)} {what} in all "
            "(--json lists every one)",
            file=out,
        )


def _print_leavers(report: Any) -> None:
    """Every student the file marks (or would mark) as left, with their open cases."""
    for r in report.leavers:
        why = "not in the file" if r.reason == "not_in_file" else f"{r.reason} (row {r.row})"
        if r.marked:
            state = "marked as left"
        elif report.applied:
            state = "stays active (not confirmed)"
        elif r.reason == "not_in_file":
            state = "would be marked as left only with --confirm-leavers"
        else:
            state = "would be marked as left"
        cases = ", ".join(f"{c.case_id} {c.tier} {c.status}" for c in r.open_cases)
        print(
            f"  leaving: {r.student_number} {r.name} grade {r.grade} {r.class_name}: {why}; "
            f"{state}; open cases: {cases or r.open_case_count}"
        )
    if report.leavers_unconfirmed:
        verb = "were not" if report.applied else "will not be"
        print(
            f"{report.leavers_unconfirmed} student(s) missing from the file {verb} marked as "
            f"left (their open cases stay with the school's counsellors either way); to mark "
            f"exactly them: --apply --confirm-leavers {report.confirm_leavers}"
        )


def _read_new_password(username: str) -> str | None:
    """The new password: the first line of stdin, or typed twice at a prompt (a terminal);
    never a command-line argument (those show in ``ps`` and shell history)."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"new password for {username}: ")
    if getpass.getpass("again: ") != first:
        _err("the two passwords differ; nothing was changed")
        return None
    return first


def _cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from survey_service.accounts import admin
    from survey_service.errors import ServiceError

    password = None
    if args.user_command == "reset-password":
        password = _read_new_password(args.username)
        if password is None:
            return 1

    async def go() -> Any:
        async with _service(settings) as svc, svc.sessions() as db, db.begin():
            if password is not None:
                return await admin.reset_password_by_operator(
                    db, args.username, new_password=password, now=svc.clock.now()
                )
            return await admin.disable_by_operator(db, args.username, now=svc.clock.now())

    try:
        account = asyncio.run(go())
    except ServiceError as exc:
        _err(str(exc))
        return 1
    done = "password reset" if password is not None else "disabled"
    print(f"{account.username}: {done}; {account.sessions_revoked} session(s) ended")
    return 0


async def _cmd_directory(settings: Settings, args: argparse.Namespace) -> int:
    """``runxin schools|classes|staff ...``: one transaction; an error writes nothing."""
    from survey_service.accounts import admin, directory
    from survey_service.errors import ServiceError

    command = args.command
    sub = getattr(args, f"{command}_command")
    lines: list[str] = []
    try:
        async with _service(settings) as svc, svc.sessions() as db, db.begin():
            now = svc.clock.now()
            if (command, sub) == ("schools", "add"):
                school = await directory.add_school(
                    db,
                    args.code,
                    args.name,
                    district_code=args.district,
                    district_name=args.district_name,
                    now=now,
                )
                lines.append(f"school {school.code} added: {school.name} ({school.district_code})")
            elif command == "schools":
                for s in await directory.list_schools(db):
                    lines.append(f"{s.code}\t{s.name}\t{s.district_code}")
            elif (command, sub) == ("classes", "add"):
                c = await directory.add_class(
                    db,
                    args.school,
                    args.grade,
                    args.name,
                    head_teacher=args.head_teacher,
                    now=now,
                )
                head = f"; head teacher {c.head_teacher}" if c.head_teacher else ""
                lines.append(f"{args.school}: class grade {c.grade} {c.name} added{head}")
            elif (command, sub) in {("classes", "assign-head"), ("staff", "assign-class")}:
                c = await directory.assign_head(
                    db, args.school, args.grade, args.class_name, args.username, now=now
                )
                lines.append(
                    f"{args.school}: grade {c.grade} {c.name}: head teacher {c.head_teacher}"
                )
            elif command == "classes":
                for c in await directory.list_classes(db, args.school):
                    lines.append(f"{c.grade}\t{c.name}\t{c.head_teacher or '-'}")
            elif (command, sub) == ("staff", "add"):
                new = await directory.add_staff(
                    db,
                    args.username,
                    role=args.role,
                    school_code=args.school,
                    district_code=args.district,
                    display_name=args.name,
                    phone=args.phone,
                    now=now,
                )
                where = f" at {new.school_code}" if new.school_code else ""
                lines.append(f"staff account {new.username} ({new.role}{where}) added")
                lines.append(f"one-time password: {new.one_time_password}")
                lines.append(
                    "give it to the person privately; they must change it at their first sign-in"
                )
            elif (command, sub) == ("staff", "reset-password"):
                reset = await admin.reset_one_time_by_operator(db, args.username, now=now)
                lines.append(
                    f"{reset.username}: password reset; {reset.sessions_revoked} session(s) ended"
                )
                lines.append(f"one-time password: {reset.password}")
                lines.append(
                    "give it to the person privately; they must change it at their next sign-in"
                )
            elif (command, sub) in {("staff", "disable"), ("staff", "enable")}:
                if sub == "enable":
                    account = await admin.enable_by_operator(db, args.username, now=now)
                else:
                    account = await admin.disable_by_operator(db, args.username, now=now)
                lines.append(
                    f"{account.username}: {sub}d; {account.sessions_revoked} session(s) ended"
                )
            else:
                for u in await directory.list_staff(db, args.school):
                    state = "active" if u.active else "disabled"
                    lines.append(
                        f"{u.username}\t{u.role}\t{u.school_code or '-'}\t{u.display_name}"
                        f"\t{u.phone or '-'}\t{state}"
                    )
    except ServiceError as exc:
        _err(str(exc))
        return 1
    for line in lines:
        print(line)
    return 0


async def _cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    """``runxin report``: gather, render, write atomically; the read is audited (actor ``cli``)."""
    from survey_service.reports import annual_output

    out = Path(args.out)
    if not out.parent.is_dir():
        raise _CliError(f"the directory {out.parent} does not exist")
    try:
        async with _service(settings) as svc, svc.sessions() as db, db.begin():
            body, label = await annual_output.operator_report(
                db,
                school=args.school,
                district=args.district,
                year=args.year,
                fmt=args.format,
                lang=args.lang,
                font_setting=settings.report_font,
                now=svc.clock.now(),
                progress=lambda line: print(line, file=sys.stderr),
            )
            _write_atomically(out, body)
    except annual_output.ReportError as exc:
        raise _CliError(str(exc)) from exc
    print(f"wrote {out} ({label}, {len(body):,} bytes)", file=sys.stderr)
    return 0


async def _cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """``runxin export provincial``: build, write atomically; audited (actor ``cli``)."""
    from survey_service.errors import ServiceError
    from survey_service.reports import annual, provincial

    out = Path(args.out)
    if not out.parent.is_dir():
        raise _CliError(f"the directory {out.parent} does not exist")
    if args.year is not None:
        try:
            annual.parse_year(args.year)
        except ValueError as exc:
            raise _CliError(f"--year: {exc}") from None
    async with _service(settings) as svc, svc.sessions() as db, db.begin():
        try:
            district = await annual.find_district(db, args.district)
        except ServiceError as exc:
            raise _CliError(f"{exc} (区县代码不存在)") from None
        print(f"gathering the figures of district {district.code}…", file=sys.stderr)
        try:
            export = await provincial.build_export(
                db, district, year=args.year, fmt=args.format, now=svc.clock.now()
            )
        except ValueError as exc:
            raise _CliError(f"--year: {exc}") from None
        provincial.record_download(db, None, district, export, fmt=args.format, now=svc.clock.now())
        _write_atomically(out, export.body)
    label = export.document["school_year"]["label"]
    print(f"wrote {out} ({district.code} {label}, {len(export.body):,} bytes)", file=sys.stderr)
    return 0


def _write_atomically(path: Path, body: bytes) -> None:
    """Write ``body`` to a temporary file beside ``path``, then rename it into place."""
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def _cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from survey_service.services import audit

    async with _service(settings) as svc:
        sealed = 0
        if args.audit_command == "seal" or not args.no_seal:
            sealed = await audit.seal_pending(svc.sessions, now=svc.clock.now())
            print(f"sealed {sealed} audit row(s)", file=sys.stderr)
        if args.audit_command == "seal":
            return 0
        async with svc.sessions() as db, db.begin():
            report = await audit.verify(db)
    if report.problem is not None:
        _err(report.problem.message["zh-CN"])
        _err(report.problem.message["en"])
        return 1
    print(
        f"审计链完好：{report.sealed} 条记录，链头 {report.head_seq} {report.head_hash}\n"
        f"audit chain intact: {report.sealed} rows, head {report.head_seq} {report.head_hash}"
        + (f" ({report.unsealed} not sealed yet)" if report.unsealed else "")
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
