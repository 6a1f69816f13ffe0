"""`pmsync issues`: the issues pmsync filed in one tracker."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared
from syncer.errors import UsageError

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    listing = shared.add_command(
        commands,
        "issues",
        common,
        run,
        summary="list the issues pmsync filed in a tracker",
        description="List the issues pmsync filed in one tracker: state, assignee, due date, "
        "labels and title (with no config file: the demo's local tracker).",
        examples=["pmsync issues", "pmsync issues --tracker jira --state all --format json"],
    )
    listing.add_argument(
        "--tracker", help="the tracker's name in the config (default: the local one, if any)"
    )
    listing.add_argument("--state", choices=["open", "closed", "all"], default="open")
    listing.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import lintformat
    from syncer.pipeline import build_trackers

    # With no config file: the default local tracker, in ./.pmsync (where the demo files).
    settings = shared.settings_of(args, required=False)
    trackers = build_trackers(settings)
    name = args.tracker or next(
        (n for n, t in settings.trackers.items() if t.kind == "local"), settings.routing.default
    )
    if name not in trackers:
        known = ", ".join(sorted(trackers))
        raise UsageError(f"--tracker: no tracker named {name!r} (the config has: {known})")
    issues = [s for s in trackers[name].snapshot() if args.state == "all" or s.state == args.state]
    issues.sort(key=lambda s: (len(s.ref.key), s.ref.key))
    if args.format == "json":
        payload = [
            {
                "ref": s.ref.key,
                "url": s.ref.url or None,
                "title": s.title,
                "assignees": list(s.assignees),
                "due": s.due.isoformat() if s.due else None,
                "state": s.state,
                "labels": list(s.labels),
            }
            for s in issues
        ]
        out.write(lintformat.dump({"tracker": name, "issues": payload}))
        return shared.EXIT_OK
    rows = [("REF", "STATE", "ASSIGNEE", "DUE", "LABELS", "TITLE")]
    rows += [
        (
            s.ref.key,
            s.state,
            ", ".join(s.assignees) or "-",
            s.due.isoformat() if s.due else "-",
            ", ".join(label for label in s.labels if label != "pmsync") or "-",
            shared.short(s.title, 70),
        )
        for s in issues
    ]
    shared.write_table(rows, out)
    shown = "" if args.state == "all" else f"{args.state} "
    out.write(f"{lintformat.counted(len(issues), shown + 'issue')} in tracker {name}\n")
    return shared.EXIT_OK
