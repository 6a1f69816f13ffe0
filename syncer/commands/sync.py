"""`pmsync plan` and `pmsync sync`: documents to issues, shown or done."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from syncer.commands import common as shared

if TYPE_CHECKING:
    from syncer.applier import Outcome
    from syncer.commands.common import Commands
    from syncer.pipeline import SyncRun


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    plan = shared.add_command(
        commands,
        "plan",
        common,
        run,
        summary="show what sync would do, and why (writes nothing)",
        description="Show what sync would do: each item to file, update or close, with its "
        "owner and due date and where they come from. Writes nothing, anywhere.",
        examples=[
            "pmsync plan",
            "pmsync plan postmortems/2026-05-19-dns.md",
            "pmsync plan --offline examples/",
        ],
    )
    plan.add_argument("--format", choices=["text", "json"], default="text")
    _quiet_option(plan)
    plan.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="read these files or folders instead of the configured sources",
    )
    plan.add_argument(
        "--offline",
        action="store_true",
        help="read no tracker (no config file or account needed): every item as if "
        "its tracker held none of pmsync's issues, i.e. what a merge would file",
    )
    plan.set_defaults(dry_run=True, wait_lock=0.0)
    sync = shared.add_command(
        commands,
        "sync",
        common,
        run,
        summary="file new items and update changed ones",
        description="File each new action item as an issue, update the issues of items "
        "that changed, and close those of items removed; then write the links back to the "
        "post-mortems. Exactly once, however often it runs.",
        examples=["pmsync sync", "pmsync sync --dry-run --format json", "pmsync sync --quiet"],
    )
    sync.add_argument("--format", choices=["text", "json"], default="text")
    _quiet_option(sync)
    sync.add_argument("--dry-run", action="store_true", help="write nothing")
    shared.wait_lock_option(sync)


def _quiet_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only changes and problems (a pipe or a file already gets no unchanged "
        "rows; a terminal gets every row)",
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import writeback
    from syncer.pipeline import sync

    offline = getattr(args, "offline", False)
    paths = getattr(args, "paths", None)
    settings = shared.settings_of(args, required=not offline)
    sources = shared.path_sources(paths, history=True) if paths else None
    shared.show_progress(args)
    with shared.one_writer(args, settings) as stop:
        run = sync(
            settings,
            dry_run=args.dry_run,
            now=shared.now_of(None),
            sources=sources,
            offline=offline,
        )
    counts = run.counts()
    if args.format == "json":
        payload: dict[str, Any] = {**counts, "dry_run": run.dry_run, "offline": run.offline}
        payload["actions"] = [_action_json(o) for o in run.outcomes]
        payload["problems"] = [{"where": p.where, "message": p.message} for p in run.problems]
        payload["notes"] = run.notes
        payload["missing"] = run.missing() or None
        payload["write_back"] = [
            {"document": e.document.ref.uri, "change": e.summary, "diff": writeback.diff(e)}
            for e in run.write_back.edits
        ]
        json.dump(payload, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        every = out.isatty() and not args.quiet
        _print_sync_text(run, counts, out, every=every, summary=not args.quiet)
    shared.log.info("sync_finished", dry_run=run.dry_run, stopped=stop.signalled, **counts)
    if stop.signalled:  # stopped cleanly: what was not written, the next run writes
        if args.format != "json":
            out.write("stopped by a signal: the next sync writes the rest\n")
        return shared.EXIT_FINDINGS
    if any(p.fatal for p in run.problems):
        return shared.EXIT_FATAL
    return shared.EXIT_FINDINGS if counts["failed"] or run.problems else shared.EXIT_OK


def _action_json(outcome: Outcome) -> dict[str, Any]:
    action = outcome.action
    entry: dict[str, Any] = {
        "op": action.op,
        "item": action.item.key if action.item else None,
        "title": action.item.title if action.item else None,
        "basis": action.item.basis if action.item else None,
        "tracker": action.tracker,
        "ref": outcome.ref.key if outcome.ref else None,
        "url": outcome.ref.url if outcome.ref else None,
        "reason": action.reason,
    }
    if action.item is not None and action.op != "close":
        entry |= {
            "owner": action.owner or None,
            "owner_why": action.owner_why or None,
            "due": action.due or None,
            "due_why": action.due_why or None,
        }
    if not outcome.ok:
        entry["error"] = outcome.error
    return entry


def _print_sync_text(
    run: SyncRun, counts: dict[str, int], out: TextIO, *, every: bool, summary: bool
) -> None:
    """The run as a table and a summary line. Unchanged items are listed only with `every`
    (a terminal); without `summary` (--quiet) only changes and problems are printed."""
    from syncer import writeback
    from syncer.planner import KEPT

    rows = [("OP", "TRACKER", "REF", "ITEM", "OWNER", "DUE", "REASON")]
    why: list[str] = []
    for outcome in run.outcomes:
        action = outcome.action
        if not every and outcome.ok and action.op == "unchanged":
            continue
        title = action.item.title if action.item else ""
        title = shared.short(title)
        op = action.op if outcome.ok else f"{action.op} FAILED"
        reason = action.reason if outcome.ok else f"{action.reason}: {outcome.error}"
        ref = outcome.ref.key if outcome.ref else "-"
        owner, due = action.owner or "-", action.due or "-"
        if action.item is not None and action.op not in ("close", "skip"):
            if action.owner and action.owner_why:
                owner += " (tracker)" if action.owner_why == KEPT else " (policy)"
                why.append(f"  {title}: {action.owner}, {action.owner_why}")
            if action.due and action.due_why:
                due += " (tracker)" if action.due_why == KEPT else " (policy)"
                why.append(f"  {title}: due {action.due}, {action.due_why}")
        if action.item is not None and action.item.basis == "inferred":
            title = f"{title} (inferred)"
        rows.append((op, action.tracker, ref, title or "-", owner, due, reason))
    shared.write_table(rows, out)
    if why:
        out.write("filled in by policy (the post-mortem does not say):\n" + "\n".join(why) + "\n")
    failed = {where for where, _ in run.write_back.problems}
    for edit in run.write_back.edits:
        where = edit.document.ref.uri
        if run.dry_run:
            out.write(f"would write back to {where}: {edit.summary}\n{writeback.diff(edit)}")
        elif where not in failed:
            out.write(f"wrote back to {where}: {edit.summary}\n")
    if run.dry_run and run.write_back.unfiled and run.write_back.edits:
        out.write(f"(the {run.write_back.unfiled} new items get their links once filed)\n")
    out.writelines(f"{note}\n" for note in run.notes)
    for problem in run.problems:
        out.write(f"problem: {problem.where}: {problem.message}\n")
    if not summary:
        return
    prefix = "dry run, would have: " if run.dry_run else ""
    if run.offline:
        prefix = "offline (no tracker read), a merge would have: "
    counted = ", ".join(
        f"{name} {number}" for name, number in counts.items() if number or name != "reopened"
    )
    out.write(f"{prefix}{counted}\n")
    if missing := run.missing():
        out.write(f"{missing}\n")
