"""The `pmsync` command line.

Exit codes: 0 ok; 1 findings or item-level failures (`health`: unhealthy); 2 usage or config
error; 3 fatal; 4 another run holds the lock.
Command output goes to stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from syncer import logs
from syncer.errors import ConfigError, FatalError, Locked, UsageError

if TYPE_CHECKING:
    from connectors.sources.folder import MarkdownDirSource
    from rules import Rule
    from rules.followup import FollowupRule
    from syncer.applier import Outcome
    from syncer.model import Postmortem
    from syncer.pipeline import SyncRun
    from syncer.reading import Reading
    from syncer.scheduler import Stop
    from syncer.settings import CoreSettings, Settings

# Each command imports what it uses when it runs: `--help`, `lint`, `extract` and `rules` load
# no tracker client, no notification library and no metrics library.

EXIT_OK, EXIT_FINDINGS, EXIT_CONFIG, EXIT_FATAL, EXIT_LOCKED = 0, 1, 2, 3, 4

log = logs.get_logger("pmsync.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # Options valid before and after the command are SUPPRESSed, so fill them in here.
    args.config = getattr(args, "config", None)
    # An interactive command prints its result; its log shows only what goes wrong besides.
    # The loop (`run`) has only its log to speak through.
    args.log_level = getattr(args, "log_level", "info" if args.handler is _cmd_run else "warning")
    logs.configure(args.log_level)
    out = sys.stdout
    try:
        code: int = args.handler(args, out)
        return code
    except ConfigError as exc:
        where = f"{exc.source}: " if exc.source else ""
        for problem in exc.problems:
            print(f"pmsync: config error: {where}{logs.REDACTOR.scrub(problem)}", file=sys.stderr)
        return EXIT_CONFIG
    except FatalError as exc:
        print(f"pmsync: fatal: {logs.REDACTOR.scrub(str(exc))}", file=sys.stderr)
        return EXIT_FATAL
    except Locked as exc:
        print(f"pmsync: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except UsageError as exc:
        print(f"pmsync: error: {logs.REDACTOR.scrub(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        # The reader went away (`pmsync … | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default: $PMSYNC_CONFIG, else ./config.toml)",
    )
    common.add_argument(
        "--log-level",
        default=argparse.SUPPRESS,
        choices=["debug", "info", "warning", "error"],
        help="least important log events to show (default: info)",
    )
    parser = argparse.ArgumentParser(
        prog="pmsync",
        description="Turn post-mortem action items into tracked issues.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser(
        "extract", parents=[common], help="print the action items found in documents"
    )
    extract.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    extract.add_argument(
        "--day-first", action="store_true", help="read 03/04/2026 as 3 April (default: 4 March)"
    )
    extract.add_argument("--format", choices=["json", "table"], default="table")
    extract.set_defaults(handler=_cmd_extract)

    lint = commands.add_parser("lint", parents=[common], help="check documents against the rules")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    lint.add_argument(
        "--day-first", action="store_true", help="read 03/04/2026 as 3 April (default: 4 March)"
    )
    lint.add_argument(
        "--format",
        choices=["text", "json", "sarif", "github"],
        default="text",
        help="text: path:line: CODE message; sarif: SARIF 2.1.0; github: Actions annotations",
    )
    lint.add_argument(
        "--statistics",
        action="store_true",
        help="also count the items each code flags, and their share of all items",
    )
    lint.add_argument(
        "--sarif-out", metavar="FILE", help="also write the findings as SARIF 2.1.0 to FILE"
    )
    lint.add_argument(
        "--summary-out",
        metavar="FILE",
        help="also append a Markdown summary to FILE (a CI job's $GITHUB_STEP_SUMMARY)",
    )
    lint.add_argument("--select", help="comma-separated code prefixes to check (default: all)")
    lint.add_argument("--ignore", help="comma-separated code prefixes to leave out")
    lint.add_argument(
        "--fail-on",
        choices=["info", "warning", "error"],
        help="exit 1 when a finding at least this severe remains (default: error)",
    )
    lint.set_defaults(handler=_cmd_lint)

    for name, dry, text in (
        ("plan", True, "show what sync would do, and why (writes nothing)"),
        ("sync", False, "file new items and update changed ones"),
    ):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("--format", choices=["text", "json"], default="text")
        if dry:
            command.add_argument(
                "paths",
                nargs="*",
                metavar="PATH",
                help="read these files or folders instead of the configured sources",
            )
            command.add_argument(
                "--offline",
                action="store_true",
                help="read no tracker (no config file or account needed): every item as if "
                "its tracker held none of pmsync's issues, i.e. what a merge would file",
            )
        else:
            command.add_argument("--dry-run", action="store_true", help="write nothing")
            _wait_lock_option(command)
        command.set_defaults(handler=_cmd_sync, dry_run=dry, wait_lock=0.0)

    follow = commands.add_parser(
        "check", parents=[common], help="flag stalled and overdue issues, nudge their owners"
    )
    follow.add_argument("--format", choices=["text", "json"], default="text")
    follow.add_argument("--dry-run", action="store_true", help="write nothing")
    follow.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="evaluate as of this moment, e.g. 2026-05-04 or 2026-05-04T09:00 (also PMSYNC_NOW)",
    )
    _wait_lock_option(follow)
    follow.set_defaults(handler=_cmd_check)

    digests = commands.add_parser(
        "digest", parents=[common], help="build and send the digests of stale items"
    )
    digests.add_argument("--dry-run", action="store_true", help="print the digests, send nothing")
    digests.add_argument(
        "--out", metavar="FILE", help="also write every digest here (HTML if FILE ends in .html)"
    )
    digests.add_argument(
        "--now", metavar="ISO-TIME", help="as of this moment (also PMSYNC_NOW), as for check"
    )
    _wait_lock_option(digests)
    digests.set_defaults(handler=_cmd_digest)

    loop = commands.add_parser(
        "run", parents=[common], help="sync, check and digest on the [schedule] cadence"
    )
    loop.add_argument(
        "--once", action="store_true", help="sync, check, then the digest if due; then exit"
    )
    _wait_lock_option(loop)
    loop.set_defaults(handler=_cmd_run)
    alive = commands.add_parser(
        "health", parents=[common], help="exit 0 if the loop's heartbeat is fresh, else 1"
    )
    alive.set_defaults(handler=_cmd_health)

    page = commands.add_parser(
        "report",
        parents=[common],
        help="write the program manager's report: one HTML page, or its figures as JSON or CSV",
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
    page.set_defaults(handler=_cmd_report)

    listing = commands.add_parser(
        "issues", parents=[common], help="list the issues pmsync filed in a tracker"
    )
    listing.add_argument(
        "--tracker", help="the tracker's name in the config (default: the local one, if any)"
    )
    listing.add_argument("--state", choices=["open", "closed", "all"], default="open")
    listing.add_argument("--format", choices=["text", "json"], default="text")
    listing.set_defaults(handler=_cmd_issues)

    catalogue = commands.add_parser("rules", parents=[common], help="list the rule catalogue")
    catalogue.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    catalogue.set_defaults(handler=_cmd_rules)

    config = commands.add_parser("config", parents=[common], help="settings")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser(
        "check", parents=[common], help="validate settings and print them, secrets masked"
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also reach each tracker once: its address, repository or project",
    )
    check.set_defaults(handler=_cmd_config_check)
    schema = config_commands.add_parser(
        "schema",
        parents=[common],
        help="print the JSON Schema of the configuration file (for editors: pmsync.schema.json)",
    )
    schema.set_defaults(handler=_cmd_config_schema)
    return parser


def _wait_lock_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--wait-lock",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another pmsync run holds the state dir's lock, wait this long for it "
        "(default: exit 4 at once)",
    )


@contextmanager
def _one_writer(args: argparse.Namespace, settings: Settings) -> Iterator[Stop]:
    """The state dir's lock, held while a command writes: one writer per tracker; and a
    SIGTERM or SIGINT stops the writing cleanly (`Stop` says whether one did)."""
    from syncer import scheduler

    if getattr(args, "dry_run", False):
        yield scheduler.Stop()
        return
    with scheduler.run_lock(settings, args.wait_lock), scheduler.stoppable() as stop:
        yield stop


def _settings(args: argparse.Namespace, *, required: bool) -> Settings:
    """The settings; a command that needs a config file also needs a usable state dir."""
    from syncer.configfile import config_path
    from syncer.settings import load_settings, secret_values

    settings = load_settings(config_path(args.config), required=required)
    logs.REDACTOR.add(secret_values(settings))
    if required:
        settings.state_folder(create=args.handler is not _cmd_config_check)
    return settings


def _path_sources(paths: Sequence[str], history: bool) -> list[MarkdownDirSource]:
    from connectors.sources.folder import DOCUMENT_GLOBS, MarkdownDirSource

    missing = [raw for raw in paths if not Path(raw).exists()]
    if missing:
        raise UsageError("; ".join(f"no such file or folder: {raw}" for raw in missing))
    from connectors.sources.git_history import prefetch

    files = [Path(raw) for raw in paths if not Path(raw).is_dir()]
    # One walk of each repository's history for all the files named.
    known = prefetch(files) if history and files else {}
    sources = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            sources.append(MarkdownDirSource(raw, path, DOCUMENT_GLOBS, history=history))
        else:
            # A file named on the command line is read wherever a link to it points.
            change = known.get(path)
            sources.append(
                MarkdownDirSource(
                    raw,
                    path.parent,
                    [path.name],
                    follow_symlinks=True,
                    history={path.name: change} if change else False,
                )
            )
    return sources


def _core_settings(args: argparse.Namespace) -> CoreSettings | None:
    """What `lint` reads of the configuration: the rules, people, teams and policies; None
    when there is no config file."""
    from syncer.configfile import config_path

    path = config_path(args.config)
    if path is None:
        return None
    from syncer.settings import load_settings

    return load_settings(path, required=False, core=True)


def _read_paths(
    args: argparse.Namespace,
    settings: CoreSettings | None,
    select: Sequence[str],
    ignore: Sequence[str],
    *,
    history: bool = False,
) -> Reading:
    """The documents named on the command line, read and checked against `select`. Git is
    asked who wrote them and when (`history`) only where that is shown or policies use it."""
    from connectors.extract import ExtractOptions
    from rules import RuleContext
    from syncer.reading import read_documents

    today = _now(None).date()
    context = RuleContext(today=today)
    if settings is not None:
        from syncer.people import load_directory
        from syncer.policy import Policy, rule_context

        directory = load_directory(settings)
        policy = Policy.of(settings, directory)
        context = rule_context(settings, directory, today, policy)
        history = history or policy.active  # owners and due dates from author and first commit
    sources = _path_sources(args.paths, history)
    reading = read_documents(
        sources,
        options={source.name: ExtractOptions(day_first=args.day_first) for source in sources},
        rule_select=select,
        rule_ignore=ignore,
        context=context,
    )
    for problem in reading.problems:
        print(f"{problem.where}: error: {problem.message}", file=sys.stderr)
    if skipped := reading.skipped:
        # A folder named on the command line: say what in it was not read.
        shown = ", ".join(name.split(": ", 1)[-1] for name in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        files = "file" if len(skipped) == 1 else "files"
        print(f"{len(skipped)} {files} skipped, not post-mortems: {shown}{more}", file=sys.stderr)
    return reading


def _cmd_extract(args: argparse.Namespace, out: TextIO) -> int:
    # No rules: extraction alone, with who wrote each document and when.
    reading = _read_paths(args, None, (), (), history=True)
    if args.format == "json":
        payload = {"documents": [_document_json(pm) for pm in reading.postmortems]}
        json.dump(payload, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for pm in reading.postmortems:
            _print_document_table(pm, out)
    return EXIT_FINDINGS if reading.problems else EXIT_OK


def _document_json(pm: Postmortem) -> dict[str, Any]:
    return {
        "path": pm.ref.uri,
        "id": pm.id,
        "title": pm.title,
        "source": pm.ref.source,
        "link": pm.ref.link or None,
        "updated_at": pm.ref.updated_at.isoformat() if pm.ref.updated_at else None,
        "author": pm.ref.author or None,
        "template": pm.template,
        "items": [
            {
                "key": item.key,
                "title": item.title,
                "owner": item.owner,
                "due": item.due.isoformat() if item.due else None,
                "due_text": item.due_text,
                "tickets": list(item.tickets),
                "kind": item.kind,
                "priority": item.priority,
                "status": item.status,
                "placeholder": item.placeholder,
                "line": item.line,
                "basis": item.basis,
            }
            for item in pm.items
        ],
    }


def _print_document_table(pm: Postmortem, out: TextIO) -> None:
    from syncer import lintformat

    label = " (template)" if pm.template else ""
    out.write(f"{pm.ref.uri}: {pm.title}{label} — {lintformat.counted(len(pm.items), 'item')}\n")
    rows = [("LINE", "BASIS", "OWNER", "DUE", "STATUS", "TITLE")]
    for item in pm.items:
        due = item.due.isoformat() if item.due else (item.due_text or "-")
        title = _short(item.title, 70)
        if item.placeholder:
            title = f"[placeholder] {title}"
        rows.append((str(item.line), item.basis, item.owner or "-", due, item.status or "-", title))
    _write_table(rows, out, indent="  ")
    out.write("\n")


def _write_table(rows: Sequence[Sequence[str]], out: TextIO, indent: str = "") -> None:
    if len(rows) <= 1:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write(indent + "  ".join([*cells, row[-1]]).rstrip() + "\n")


def _codes(value: str | None, default: Sequence[str]) -> list[str]:
    if value is None:
        return list(default)
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def _cmd_lint(args: argparse.Namespace, out: TextIO) -> int:
    from rules import select_rules
    from syncer import lintformat
    from syncer.model import Severity

    settings = _core_settings(args)
    select = _codes(args.select, settings.rules.select if settings else ["PM"])
    ignore = _codes(args.ignore, settings.rules.ignore if settings else [])
    try:  # a typo'd code is an error before anything is read
        rules = select_rules(select, ignore)
    except ConfigError as exc:
        if args.select is None and args.ignore is None:
            raise
        raise UsageError("--select/--ignore: " + "; ".join(exc.problems)) from None
    reading = _read_paths(args, settings, select, ignore)
    findings = reading.findings
    stats = lintformat.statistics(reading.postmortems, findings) if args.statistics else None
    if args.format == "json":
        payload = lintformat.as_json(findings)
        if stats is not None:
            payload["statistics"] = stats
        out.write(lintformat.dump(payload))
    elif args.format == "sarif":
        out.write(lintformat.dump(lintformat.sarif(findings, rules)))
    elif args.format == "github":
        out.write(lintformat.github(findings, rules))
    else:
        out.write(lintformat.text(findings, len(reading.postmortems)))
    if stats is not None and args.format != "json":
        sys.stderr.write(lintformat.statistics_text(stats, rules))
    if args.sarif_out:
        _write_out(args.sarif_out, lintformat.dump(lintformat.sarif(findings, rules)))
    if args.summary_out:
        summary = lintformat.summary(findings, rules, len(reading.postmortems))
        _write_out(args.summary_out, summary, append=True)
    fail_on = Severity(args.fail_on or (settings.rules.fail_on if settings else "error"))
    failing = any(f.severity.rank >= fail_on.rank for f in findings)
    return EXIT_FINDINGS if failing or reading.problems else EXIT_OK


def _write_out(name: str, text: str, *, append: bool = False) -> None:
    try:
        with open(name, "a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"{name}: cannot write: {exc.strerror or exc}") from None


def listed() -> tuple[Rule | FollowupRule, ...]:
    """Every rule with a code: what `lint` checks in documents, and what `check` finds in
    trackers."""
    from rules import CATALOGUE
    from rules.followup import FOLLOWUP_RULES

    return (*CATALOGUE, *FOLLOWUP_RULES)


def _cmd_rules(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import lintformat

    if args.format == "markdown":
        out.write(rules_markdown())
    elif args.format == "json":
        out.write(lintformat.dump({"rules": [_rule_json(rule) for rule in listed()]}))
    else:
        for rule in listed():
            out.write(f"{rule.code}  {rule.name:28} {rule.severity!s:8} {rule.doc.what}\n")
    return EXIT_OK


def _rule_json(rule: Rule | FollowupRule) -> dict[str, Any]:
    doc = rule.doc
    return {
        "code": rule.code,
        "name": rule.name,
        "severity": str(rule.severity),
        "what": doc.what,
        "why": doc.why,
        "example": doc.example,
        "instead": doc.instead,
    }


def rules_markdown() -> str:
    """docs/rules.md: the catalogue, one section per rule (a test keeps the file in step)."""
    parts = [
        "# pmsync rules\n",
        "Generated by `pmsync rules --format markdown`; do not edit by hand.\n",
        "Select and ignore rules by code prefix (`[rules] select` / `ignore`, `--select` /",
        "`--ignore`); suppress one for the next item with `<!-- pmsync: ignore PM301 -->`, or",
        "for a whole document with `pmsync_ignore: PM301` in its front matter.\n",
        "PM1xx to PM4xx are checked in documents (`pmsync lint`, and before each sync); PM5xx",
        "are found by `pmsync check` in the issues of the trackers.\n",
        "| code | name | severity |",
        "|---|---|---|",
        *(f"| [{r.code}](#{r.code.lower()}) | {r.name} | {r.severity} |" for r in listed()),
        "",
    ]
    for rule in listed():
        doc = rule.doc
        parts += [
            f"## {rule.code}\n",
            f"`{rule.name}`, {rule.severity} by default.\n",
            f"**What it checks.** {doc.what}\n",
            f"**Why it matters.** {doc.why}\n",
            "**Example**\n",
            f"```markdown\n{doc.example}\n```\n",
            "**Instead**\n",
            f"```markdown\n{doc.instead}\n```\n",
        ]
    return "\n".join(parts)


def _cmd_sync(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import writeback
    from syncer.pipeline import sync

    offline = getattr(args, "offline", False)
    paths = getattr(args, "paths", None)
    settings = _settings(args, required=not offline)
    sources = _path_sources(paths, history=True) if paths else None
    with _one_writer(args, settings) as stop:
        run = sync(settings, dry_run=args.dry_run, now=_now(None), sources=sources, offline=offline)
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
        _print_sync_text(run, counts, out)
    log.info("sync_finished", dry_run=run.dry_run, stopped=stop.signalled, **counts)
    if stop.signalled:  # stopped cleanly: what was not written, the next run writes
        if args.format != "json":
            out.write("stopped by a signal: the next sync writes the rest\n")
        return EXIT_FINDINGS
    if any(p.fatal for p in run.problems):
        return EXIT_FATAL
    return EXIT_FINDINGS if counts["failed"] or run.problems else EXIT_OK


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


def _print_sync_text(run: SyncRun, counts: dict[str, int], out: TextIO) -> None:
    from syncer import writeback
    from syncer.planner import KEPT

    rows = [("OP", "TRACKER", "REF", "ITEM", "OWNER", "DUE", "REASON")]
    why: list[str] = []
    for outcome in run.outcomes:
        action = outcome.action
        title = action.item.title if action.item else ""
        title = _short(title)
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
    _write_table(rows, out)
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
    prefix = "dry run, would have: " if run.dry_run else ""
    if run.offline:
        prefix = "offline (no tracker read), a merge would have: "
    summary = ", ".join(
        f"{name} {number}" for name, number in counts.items() if number or name != "reopened"
    )
    out.write(f"{prefix}{summary}\n")
    if missing := run.missing():
        out.write(f"{missing}\n")


def _now(value: str | None) -> datetime:
    """--now or $PMSYNC_NOW as an aware time (UTC when no zone is given); else the clock."""
    text = value or os.environ.get("PMSYNC_NOW")
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now: {text!r} is not an ISO date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import lintformat
    from syncer.check import UNOWNED, check

    settings = _settings(args, required=True)
    with _one_writer(args, settings):
        run = check(settings, now=_now(args.now), dry_run=args.dry_run)
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
                (op, o.action.tracker, ref.key if ref else "-", _short(title), postmortem, reason)
            )
        _write_table(rows, out)
        for finding in run.findings:
            if finding.code == UNOWNED:
                title, postmortem, where = run.titles.get(
                    finding.item_key or "", ("-", "-", finding.doc)
                )
                out.write(f"{where}: {_short(title)} ({postmortem}): {finding.message}\n")
        for ref in run.not_checked:
            out.write(f"not checked: {ref.tracker} {ref.key}\n")
        for problem in run.problems:
            out.write(f"problem: {problem.where}: {problem.message}\n")
        prefix = "dry run, would have: " if run.dry_run else ""
        out.write(
            prefix + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()) + "\n"
        )
    log.info("check_finished", dry_run=run.dry_run, **counts)
    if any(p.fatal for p in run.problems):
        return EXIT_FATAL
    return EXIT_FINDINGS if counts["failed"] or run.not_checked or run.problems else EXIT_OK


def _short(title: str, width: int = 50) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"


def _cmd_digest(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import digest

    settings = _settings(args, required=True)
    with _one_writer(args, settings):
        run = digest.digest(settings, now=_now(args.now), dry_run=args.dry_run)
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
    _write_table(rows, out)
    for problem in run.problems:
        out.write(f"problem: {problem.where}: {problem.message}\n")
    if not run.digests:
        out.write("no recipients: set [digest] email_url with managers, or [digest.lists]\n")
    log.info(
        "digest_finished",
        dry_run=run.dry_run,
        digests=len(run.digests),
        sent=sum(1 for d in run.deliveries if d.status == "sent"),
        failed=run.failed,
    )
    if any(p.fatal for p in run.problems):
        return EXIT_FATAL
    return EXIT_FINDINGS if run.failed or run.problems else EXIT_OK


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import scheduler
    from syncer.pipeline import build_sources, build_trackers

    settings = _settings(args, required=True)
    # A setting a source or tracker refuses (a missing token) stops the run before it starts,
    # as it stops every other command: exit 2, the setting named.
    build_sources(settings)
    build_trackers(settings)
    clock = lambda: _now(None)  # noqa: E731 - PMSYNC_NOW is honoured, for tests and rehearsals
    if args.once:
        return scheduler.run_once(settings, clock, wait_lock=args.wait_lock, out=out)
    return scheduler.run_forever(settings, clock, wait_lock=args.wait_lock)


def _cmd_health(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import scheduler

    settings = _settings(args, required=True)
    ok, message = scheduler.health(settings, datetime.now(UTC))
    out.write(message + "\n")
    return EXIT_OK if ok else EXIT_FINDINGS


def _cmd_issues(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import lintformat
    from syncer.pipeline import build_trackers

    # With no config file: the default local tracker, in ./.pmsync (where the demo files).
    settings = _settings(args, required=False)
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
        return EXIT_OK
    rows = [("REF", "STATE", "ASSIGNEE", "DUE", "LABELS", "TITLE")]
    rows += [
        (
            s.ref.key,
            s.state,
            ", ".join(s.assignees) or "-",
            s.due.isoformat() if s.due else "-",
            ", ".join(label for label in s.labels if label != "pmsync") or "-",
            _short(s.title, 70),
        )
        for s in issues
    ]
    _write_table(rows, out)
    shown = "" if args.state == "all" else f"{args.state} "
    out.write(f"{lintformat.counted(len(issues), shown + 'issue')} in tracker {name}\n")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import report

    settings = _settings(args, required=True)
    built = report.collect(settings, now=_now(args.now))
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
        return EXIT_FATAL
    return EXIT_FINDINGS if built.problems else EXIT_OK


def _cmd_config_check(args: argparse.Namespace, out: TextIO) -> int:
    from rules import select_rules
    from syncer.people import load_directory
    from syncer.pipeline import build_sources, build_trackers
    from syncer.settings import masked_dump

    settings = _settings(args, required=True)
    select_rules(settings.rules.select, settings.rules.ignore)  # rule code typos, too
    load_directory(settings)  # and the people file
    build_sources(settings)  # credentials and key files, as sync reads them
    trackers = build_trackers(settings)
    if args.online:  # each tracker's address, repository or project, reached once
        for tracker in trackers.values():
            verify = getattr(tracker, "verify", None)
            if verify is not None:
                verify()
    out.write(f"# {settings.origin}: valid\n")
    out.write(_toml(masked_dump(settings)))
    return EXIT_OK


def _cmd_config_schema(args: argparse.Namespace, out: TextIO) -> int:
    from syncer.settings import config_schema

    json.dump(config_schema(), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return EXIT_OK


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """Settings as TOML, for `config check`: plain keys first, then tables, then arrays of them."""
    lines = []
    tables = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((f"[{prefix}{key}]", value, f"{prefix}{key}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables += [(f"[[{prefix}{key}]]", entry, f"{prefix}{key}.") for entry in value]
        else:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    text = "".join(line + "\n" for line in lines)
    for header, value, inner in tables:
        text += f"\n{header}\n{_toml(value, inner)}"
    return text


if __name__ == "__main__":
    sys.exit(main())
