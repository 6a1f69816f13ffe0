"""`pmsync check`: stalled and overdue issues flagged, their owners nudged."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from syncer.commands import common as shared

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    follow = shared.add_command(
        commands,
        "check",
        common,
        run,
        summary="flag stalled and overdue issues, nudge their owners",
        description="Read every issue pmsync filed: flag the stalled and the overdue, nudge "
        "their owners once per interval, escalate to managers, open the follow-up review "
        "issue weeks after each incident, and write status back to the post-mortems.",
        examples=["pmsync check", "pmsync check --dry-run --now 2026-05-04"],
    )
    follow.add_argument("--format", choices=["text", "json"], default="text")
    follow.add_argument("--dry-run", action="store_true", help="write nothing")
    follow.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="evaluate as of this moment, e.g. 2026-05-04 or 2026-05-04T09:00 (also PMSYNC_NOW)",
    )
    shared.wait_lock_option(follow)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import lintformat
    from syncer.check import UNOWNED, check

    settings = shared.settings_of(args, required=True)
    with shared.one_writer(args, settings):
        run = check(settings, now=shared.now_of(args.now), dry_run=args.dry_run)
    counts = run.counts()
    if args.format == "json":
        payload: dict[str, Any] = {**counts, "dry_run": run.dry_run}
        payload["actions"] = [
            {
                "op": o.action.op,
                "tracker": o.action.tracker,
                "ref": ref.key if (ref := o.ref or o.action.ref) else None,
                "url": ref.url if ref else None,
                "item": o.action.item_key,
                "reason": o.action.reason,
                "labels": list(o.action.labels),
                **({"error": o.error} if not o.ok else {}),
            }
            for o in run.outcomes
        ]
        payload["findings"] = [
            {"code": f.code, "message": f.message, "item": f.item_key, "url": f.doc}
            for f in run.findings
        ]
        payload["not_checked"] = [ref.key for ref in run.not_checked]
        payload["problems"] = [{"where": p.where, "message": p.message} for p in run.problems]
        out.write(lintformat.dump(payload))
    else:
        rows = [("OP", "TRACKER", "REF", "ITEM", "POST-MORTEM", "REASON")]
        for o in run.outcomes:
            op = o.action.op if o.ok else f"{o.action.op} FAILED"
            reason = o.action.reason if o.ok else f"{o.action.reason}: {o.error}"
            ref = o.ref or o.action.ref
            title, postmortem, _ = run.titles.get(o.action.item_key, ("-", "-", ""))
            rows.append(
                (
                    op,
                    o.action.tracker,
                    ref.key if ref else "-",
                    shared.short(title),
                    postmortem,
                    reason,
                )
            )
        shared.write_table(rows, out)
        for finding in run.findings:
            if finding.code == UNOWNED:
                title, postmortem, where = run.titles.get(
                    finding.item_key or "", ("-", "-", finding.doc)
                )
                out.write(f"{where}: {shared.short(title)} ({postmortem}): {finding.message}\n")
        for ref in run.not_checked:
            out.write(f"not checked: {ref.tracker} {ref.key}\n")
        for problem in run.problems:
            out.write(f"problem: {problem.where}: {problem.message}\n")
        prefix = "dry run, would have: " if run.dry_run else ""
        out.write(
            prefix + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()) + "\n"
        )
    shared.log.info("check_finished", dry_run=run.dry_run, **counts)
    if any(p.fatal for p in run.problems):
        return shared.EXIT_FATAL
    return (
        shared.EXIT_FINDINGS
        if counts["failed"] or run.not_checked or run.problems
        else shared.EXIT_OK
    )
