"""``runxin psychometrics report --campaign ID`` (issue 16); wired into :mod:`survey_service.cli`.

Prints the psychometric report of a campaign (:mod:`survey_service.campaigns.psychometrics`)
as JSON or text on stdout; progress on stderr; a problem the user can fix is one line on stderr
and exit status 1. The read is audited (``psychometrics.read``, actor role ``cli``).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

import msgspec

from survey_service.settings import Settings


def add_psychometrics_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``runxin psychometrics report`` to the top-level sub-parsers."""
    psychometrics = sub.add_parser(
        "psychometrics",
        help="reliability, item analysis and DIF of a campaign (docs/psychometrics.md)",
    )
    psy_sub = psychometrics.add_subparsers(dest="psychometrics_command", required=True)
    report = psy_sub.add_parser(
        "report",
        parents=[common],
        help="the psychometrician's report of a campaign: n, Cronbach's alpha (95%% CI), "
        "McDonald's omega, item statistics and DIF by gender, per instrument (audited)",
        epilog="examples:\n  runxin psychometrics report --campaign 3f2a...\n"
        "  runxin psychometrics report --campaign 3f2a... --format text",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--campaign", required=True, metavar="ID", help="the campaign's id")
    report.add_argument(
        "--format", choices=("json", "text"), default="json", help="output format (default json)"
    )


async def run_psychometrics(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``runxin psychometrics report``."""
    from survey_service.campaigns import psychometrics
    from survey_service.cli import _CliError, _service
    from survey_service.errors import ServiceError

    try:
        campaign_id = uuid.UUID(args.campaign)
    except ValueError:
        raise _CliError(f"--campaign: {args.campaign!r} is not a campaign id (a UUID)") from None
    async with _service(settings) as svc:
        rt = await svc.runtime()
        print(f"analysing the answers of campaign {campaign_id}…", file=sys.stderr)
        async with svc.sessions() as db, db.begin():
            try:
                report = await psychometrics.campaign_report(
                    db, rt.catalogue, campaign_id, now=svc.clock.now()
                )
            except ServiceError as exc:
                raise _CliError(exc.detail) from None
    if args.format == "json":
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(report), indent=2).decode())
        sys.stdout.write("\n")
    else:
        sys.stdout.write(psychometrics.render_text(report))
    return 0
