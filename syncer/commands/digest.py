"""`pmsync digest`: the digests of stale items, built and sent."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared
from syncer.errors import UsageError

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    digests = shared.add_command(
        commands,
        "digest",
        common,
        run,
        summary="build and send the digests of stale items",
        description="Build each manager's and each list's digest of stale, overdue and "
        "unowned items, and send it by e-mail or webhook, once per recipient and period.",
        examples=["pmsync digest --dry-run", "pmsync digest --out digest.html"],
    )
    digests.add_argument("--dry-run", action="store_true", help="print the digests, send nothing")
    digests.add_argument(
        "--out", metavar="FILE", help="also write every digest here (HTML if FILE ends in .html)"
    )
    digests.add_argument(
        "--now", metavar="ISO-TIME", help="as of this moment (also PMSYNC_NOW), as for check"
    )
    shared.wait_lock_option(digests)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import digest

    settings = shared.settings_of(args, required=True)
    with shared.one_writer(args, settings):
        run = digest.digest(settings, now=shared.now_of(args.now), dry_run=args.dry_run)
    if args.out:
        as_html = args.out.endswith(".html")
        render = digest.render_html if as_html else digest.render_text
        joiner = "\n<hr>\n" if as_html else "\n" + "-" * 72 + "\n"
        try:
            Path(args.out).write_text(joiner.join(map(render, run.digests)), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--out {args.out}: cannot write: {exc.strerror or exc}") from None
    if run.dry_run:
        for built in run.digests:
            out.write(digest.render_text(built) + "\n")
    rows = [("RECIPIENT", "CHANNEL", "STATUS", "DETAIL")]
    rows += [(d.recipient, d.channel, d.status, d.detail) for d in run.deliveries]
    shared.write_table(rows, out)
    for problem in run.problems:
        out.write(f"problem: {problem.where}: {problem.message}\n")
    if not run.digests:
        out.write("no recipients: set [digest] email_url with managers, or [digest.lists]\n")
    shared.log.info(
        "digest_finished",
        dry_run=run.dry_run,
        digests=len(run.digests),
        sent=sum(1 for d in run.deliveries if d.status == "sent"),
        failed=run.failed,
    )
    if any(p.fatal for p in run.problems):
        return shared.EXIT_FATAL
    return shared.EXIT_FINDINGS if run.failed or run.problems else shared.EXIT_OK
