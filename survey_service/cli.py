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
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from .settings import DEV_SECRET_KEY, Settings, SettingsError


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
    db_sub.add_parser("upgrade", parents=[common], help="migrate the database to the latest schema")

    serve = sub.add_parser("serve", parents=[common], help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--base-url", default=None, help="public address used in links")

    worker = sub.add_parser("worker", parents=[common], help="run the dispatcher and sweeper")
    worker.add_argument("--once", action="store_true", help="run one pass and exit")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between passes")

    sweep = sub.add_parser("sweep", parents=[common], help="run the deadline sweeper once")
    sweep.add_argument("--at", required=True, help="the time to sweep at (ISO 8601 with offset)")

    demo = sub.add_parser("demo", parents=[common], help="seed a demo district (only seeds)")
    demo.add_argument("--students", type=int, default=60)
    demo.add_argument("--codes-file", default=None, help="write one access code per line here")
    demo.add_argument("--staff-password", default="runxin-demo")
    demo.add_argument("--webhook-url", default=None)
    demo.add_argument("--webhook-secret", default=None)

    score = sub.add_parser("score", help="score one response and print the result as JSON")
    score.add_argument("instrument_id")
    score.add_argument(
        "--answers",
        required=True,
        help="JSON list in item order (null for missing) or object keyed by item id",
    )

    inbox = sub.add_parser("inbox", help="a local webhook receiver that prints what arrives")
    inbox.add_argument("--host", default="127.0.0.1")
    inbox.add_argument("--port", type=int, default=8099)
    inbox.add_argument(
        "--secret",
        action="append",
        default=[],
        help="signing secret to verify (repeat during rotation)",
    )
    return parser


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    return Settings.from_env(
        database_url=getattr(args, "database_url", None),
        secret_key=getattr(args, "secret_key", None),
        **extra,
    )


def _err(message: str) -> None:
    print(f"runxin: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except SettingsError as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "score":
        return _cmd_score(args)
    if command == "inbox":
        from .inbox import run_inbox

        run_inbox(args.host, args.port, args.secret)
        return 0
    settings = _settings(args, base_url=getattr(args, "base_url", None))
    if settings.secret_key == DEV_SECRET_KEY:
        _err("warning: RUNXIN_SECRET_KEY is not set; using the insecure development key")
    if command == "db":
        from .db import upgrade

        print("migrating database…", file=sys.stderr)
        upgrade(settings.database_url)
        print("database is at the latest schema", file=sys.stderr)
        return 0
    if command == "serve":
        return _cmd_serve(settings, args.host, args.port)
    if command == "worker":
        return asyncio.run(_cmd_worker(settings, once=args.once, interval=args.interval))
    if command == "sweep":
        return asyncio.run(_cmd_sweep(settings, args.at))
    if command == "demo":
        return asyncio.run(_cmd_demo(settings, args))
    raise AssertionError(command)  # pragma: no cover - argparse restricts commands


def _cmd_score(args: argparse.Namespace) -> int:
    import scoring
    from instruments import UnknownInstrumentError, default_catalogue

    try:
        instrument = default_catalogue().get(args.instrument_id)
    except UnknownInstrumentError as exc:
        _err(str(exc.args[0]) if exc.args else str(exc))
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


def _cmd_serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from .app import create_app

    app = create_app(settings)
    print(
        f"Runxin is serving on http://{host}:{port}  (OpenAPI: /schema/openapi.json)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    return 0


async def _cmd_worker(settings: Settings, *, once: bool, interval: float) -> int:
    import httpx

    from triage import WebhookNotifier

    from .db import create_engine, create_session_factory
    from .workers import Dispatcher, sweep

    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with httpx.AsyncClient() as client:
            dispatcher = Dispatcher(sessions, WebhookNotifier(client), settings)
            print(f"worker {dispatcher.worker_id} started", file=sys.stderr)
            while not stop.is_set():
                now = datetime.now(UTC)
                swept = await sweep(sessions, settings, now=now)
                stats = await dispatcher.run_once(now)
                if swept.escalations or stats.claimed:
                    print(
                        f"{now:%H:%M:%S} escalations={swept.escalations} "
                        f"claimed={stats.claimed} delivered={stats.delivered} "
                        f"retrying={stats.retried} failed={stats.failed}",
                        file=sys.stderr,
                    )
                if once:
                    break
                if not stats.claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=interval)
    finally:
        await engine.dispose()
    return 0


async def _cmd_sweep(settings: Settings, at: str) -> int:
    from .db import create_engine, create_session_factory
    from .workers import sweep

    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        _err(f"--at {at!r} is not an ISO 8601 time")
        return 1
    if when.tzinfo is None:
        _err("--at needs a UTC offset, e.g. 2026-09-01T08:00:00+08:00")
        return 1
    engine = create_engine(settings.database_url)
    try:
        stats = await sweep(create_session_factory(engine), settings, now=when.astimezone(UTC))
    finally:
        await engine.dispose()
    print(json.dumps(msgspec.to_builtins(stats)))
    return 0


async def _cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from .db import create_engine, create_session_factory
    from .errors import ServiceError
    from .services.demo import seed_demo
    from .services.runtime import load_runtime

    rt = load_runtime(settings)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            seeded = await seed_demo(
                db,
                rt,
                students=args.students,
                staff_password=args.staff_password,
                webhook_url=args.webhook_url,
                webhook_secret=args.webhook_secret,
                now=datetime.now(UTC),
            )
    except (ServiceError, ValueError) as exc:
        _err(str(exc))
        return 1
    finally:
        await engine.dispose()
    if args.codes_file:
        Path(args.codes_file).write_text("\n".join(seeded.access_codes) + "\n", encoding="utf-8")
    print(f"schools: {', '.join(seeded.school_codes)}")
    for username, role in seeded.usernames.items():
        print(f"staff user: {username}  ({role})")
    print(f"students: {len(seeded.access_codes)}; first access code: {seeded.access_codes[0]}")
    if args.codes_file:
        print(f"access codes written to {args.codes_file}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
