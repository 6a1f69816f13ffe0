"""`pmsync report`: the program manager's report, as HTML, JSON or CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared
from syncer.errors import UsageError

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    page = shared.add_command(
        commands,
        "report",
        common,
        run,
        summary="write the program manager's report: one HTML page, or its figures as JSON or CSV",
        description="Write the program manager's report: every item by urgency, the measures "
        "that compare follow-up across teams, and their trends; or its figures as JSON or CSV.",
        examples=[
            "pmsync report",
            "pmsync report --out /srv/www/followup.html",
            "pmsync report --format csv --out - > items.csv",
        ],
    )
    page.add_argument(
        "--format",
        choices=("html", "json", "csv"),
        default="html",
        help="html: the page; json: its figures and rows; csv: one row per item (default: html)",
    )
    page.add_argument(
        "--out",
        metavar="FILE",
        help="where to write it, - for standard output (default: report.FORMAT)",
    )
    page.add_argument("--now", metavar="ISO-TIME", help="as of this moment (also PMSYNC_NOW)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import report

    settings = shared.settings_of(args, required=True)
    built = report.collect(settings, now=shared.now_of(args.now))
    numbers = report.figures(built)  # computed once, for the export and the summary
    render = {"html": report.render, "json": report.render_json, "csv": report.render_csv}
    text = render[args.format](built, numbers)
    target = args.out or f"report.{args.format}"
    if target == "-":
        sys.stdout.write(text)
        out = sys.stderr  # the summary must not mix with the export
    else:
        try:
            # newline="" keeps the CSV's CRLF line ends as they are on every OS.
            Path(target).write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"--out {target}: cannot write: {exc.strerror or exc}") from None
    totals = numbers["totals"]
    out.write(
        f"{target}: {totals['postmortems']} post-mortems, {totals['items']} items, "
        f"{totals['open']} open, {totals['done']} done, {totals['overdue']} overdue, "
        f"{totals['not_synced']} not synced\n"
    )
    for problem in built.problems:
        out.write(f"problem: {problem.where}: {problem.message}\n")
    if any(p.fatal for p in built.problems):
        return shared.EXIT_FATAL
    return shared.EXIT_FINDINGS if built.problems else shared.EXIT_OK
