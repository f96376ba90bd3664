"""``runxin norms build|show|load|use`` (issue 16); wired into :mod:`survey_service.cli`.

Progress goes to stderr, results to stdout; a problem the user can fix is one line on stderr
and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import msgspec

from survey_service.argtypes import at_least_one
from survey_service.settings import Settings


def add_norms_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``runxin norms`` and its sub-commands to the top-level sub-parsers."""
    norms = sub.add_parser(
        "norms", help="local norms: T-scores and percentile ranks (docs/psychometrics.md)"
    )
    norms_sub = norms.add_subparsers(dest="norms_command", required=True)
    epilog = {"formatter_class": argparse.RawDescriptionHelpFormatter}
    build = norms_sub.add_parser(
        "build",
        parents=[common],
        help="build norm tables from a campaign's scored results (by grade band and gender)",
        epilog="example:\n  runxin norms build --campaign 3f2a... --instrument phq9 --min-cell 50",
        **epilog,
    )
    build.add_argument("--campaign", required=True, metavar="ID", help="the campaign's id")
    build.add_argument("--instrument", metavar="ID", help="one instrument (default: all)")
    build.add_argument(
        "--min-cell",
        type=at_least_one,
        default=50,
        help="minimum results per grade band x gender (default 50); smaller cells are merged "
        "into a neighbouring grade band",
    )
    show = norms_sub.add_parser(
        "show",
        parents=[common],
        help="list the stored norm tables; --json prints them in the file format",
        epilog="example:\n  runxin norms show --instrument phq9 --version 2 --json > phq9-v2.json",
        **epilog,
    )
    show.add_argument("--instrument", metavar="ID")
    show.add_argument("--version", metavar="V")
    show.add_argument("--json", action="store_true", help="the full tables, as loadable JSON")
    load = norms_sub.add_parser(
        "load",
        parents=[common],
        help="store published norm tables from a JSON file (one table or a list)",
        epilog="example:\n  runxin norms load published-phq9-norms.json",
        **epilog,
    )
    load.add_argument("file", help="a runxin-norms/1 JSON document (docs/psychometrics.md)")
    use = norms_sub.add_parser(
        "use",
        parents=[common],
        help="read a campaign's results of an instrument against a norm version (display "
        "only: never changes a band or a tier)",
        epilog="example:\n  runxin norms use --campaign 3f2a... --instrument phq9 --version 1",
        **epilog,
    )
    use.add_argument("--campaign", required=True, metavar="ID")
    use.add_argument("--instrument", required=True, metavar="ID")
    use.add_argument("--version", required=True, metavar="V")


def _campaign_id(text: str) -> uuid.UUID:
    from survey_service.cli import _CliError

    try:
        return uuid.UUID(text)
    except ValueError:
        raise _CliError(f"--campaign {text!r} is not a campaign id (a UUID)") from None


def _line(t: Any) -> str:
    groups = ", ".join(
        f"{g['gender']} {g['grades'][0]}-{g['grades'][1]} (n={g['n']}, raw "
        f"{g['raw'][0]:g}-{g['raw'][1]:g})"
        for g in t.groups
    )
    return (
        f"{t.instrument_id}.{t.scale} version {t.version}: n={t.n}, min cell {t.min_cell}, "
        f"{t.source}; {groups}"
    )


async def run_norms(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``runxin norms ...`` (the schema was checked by the caller)."""
    from survey_service.cli import _CliError, _service
    from survey_service.errors import ServiceError
    from survey_service.norms import service

    def progress(line: str) -> None:
        print(line, file=sys.stderr)

    command = args.norms_command
    data = b""
    if command == "load":
        path = Path(args.file)
        if not path.is_file():
            raise _CliError(f"{path}: no such file")
        data = path.read_bytes()
    try:
        async with _service(settings) as svc:
            rt = await svc.runtime()
            async with svc.sessions() as db, db.begin():
                now = svc.clock.now()
                if command == "build":
                    tables = await service.build_from_campaign(
                        db,
                        rt,
                        _campaign_id(args.campaign),
                        now=now,
                        instrument_id=args.instrument,
                        min_cell=args.min_cell,
                        progress=progress,
                    )
                    for t in tables:
                        print(_line(t))
                elif command == "show":
                    tables = await service.show(
                        db, instrument_id=args.instrument, version=args.version
                    )
                    if args.json:
                        docs = [
                            await service.document_of(db, t.instrument_id, t.version, t.scale)
                            for t in tables
                        ]
                        print(json.dumps(docs, ensure_ascii=False, indent=2))
                    elif not tables:
                        progress(
                            "no norm tables stored"
                            + (" that match" if args.instrument or args.version else "")
                        )
                    for t in [] if args.json else tables:
                        print(_line(t))
                elif command == "load":
                    for one in _documents(data):
                        t = await service.load_document(db, rt, one, now=now)
                        progress(f"loaded {t.instrument_id}.{t.scale} version {t.version}")
                        print(_line(t))
                else:
                    campaign = _campaign_id(args.campaign)
                    scales = await service.choose_norms(
                        db, campaign, args.instrument, args.version, now=now
                    )
                    print(
                        f"campaign {campaign}: {args.instrument} results are read against "
                        f"norms version {args.version} ({', '.join(scales)})"
                    )
    except ServiceError as exc:
        raise _CliError(exc.detail) from None
    return 0


def _documents(data: bytes) -> list[bytes]:
    """One document, or each document of a list, re-encoded for the strict decoder."""
    from survey_service.cli import _CliError

    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _CliError(f"not valid JSON: {exc}") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise _CliError("the file holds no norm table")
    return [msgspec.json.encode(item) for item in items]
