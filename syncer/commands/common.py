"""What the commands share: exit codes, the options every command takes, how a command is
added with its description and examples, the settings and the documents named on the command
line, and plain-text tables."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from syncer import logs
from syncer.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from typing import TypeAlias

    from connectors.sources.folder import MarkdownDirSource
    from syncer.model import Finding
    from syncer.reading import Reading
    from syncer.scheduler import Stop
    from syncer.settings import CoreSettings, Settings

EXIT_OK, EXIT_FINDINGS, EXIT_CONFIG, EXIT_FATAL, EXIT_LOCKED = 0, 1, 2, 3, 4

log = logs.get_logger("pmsync.cli")

Handler = Callable[[argparse.Namespace, TextIO], int]
if TYPE_CHECKING:
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def common_options() -> argparse.ArgumentParser:
    """The options every command takes, before or after its name."""
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
    return common


def add_command(
    commands: Commands,
    name: str,
    common: argparse.ArgumentParser,
    handler: Handler,
    *,
    summary: str,
    description: str,
    examples: Sequence[str],
) -> argparse.ArgumentParser:
    """A command: `summary` in the list of commands, `description` and `examples` in its own
    help."""
    shown = "\n".join(f"  {example}" for example in examples)
    command = commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=description,
        epilog=f"examples:\n{shown}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.set_defaults(handler=handler)
    return command


def document_options(command: argparse.ArgumentParser, *, paths_help: str) -> None:
    """The documents a command reads, named on the command line, and how it reads dates."""
    command.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    command.add_argument(
        "--day-first", action="store_true", help="read 03/04/2026 as 3 April (default: 4 March)"
    )


def wait_lock_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--wait-lock",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another pmsync run holds the state dir's lock, wait this long for it "
        "(default: exit 4 at once)",
    )


@contextmanager
def one_writer(args: argparse.Namespace, settings: Settings) -> Iterator[Stop]:
    """The state dir's lock, held while a command writes: one writer per tracker; and a
    SIGTERM or SIGINT stops the writing cleanly (`Stop` says whether one did)."""
    from syncer import scheduler

    if getattr(args, "dry_run", False):
        yield scheduler.Stop()
        return
    with scheduler.run_lock(settings, args.wait_lock), scheduler.stoppable() as stop:
        yield stop


def settings_of(args: argparse.Namespace, *, required: bool, create: bool = True) -> Settings:
    """The settings; a command that needs a config file also needs a usable state dir."""
    from syncer.configfile import config_path
    from syncer.settings import load_settings, secret_values

    settings = load_settings(config_path(args.config), required=required)
    logs.REDACTOR.add(secret_values(settings))
    if required:
        settings.state_folder(create=create)
    return settings


def path_sources(paths: Sequence[str], history: bool) -> list[MarkdownDirSource]:
    """The files and folders named on the command line, each a source of its own; with
    `history`, Git is asked who last changed them and when (one walk for all the files)."""
    from connectors.sources.folder import DOCUMENT_GLOBS, MarkdownDirSource
    from connectors.sources.git_history import prefetch

    missing = [raw for raw in paths if not Path(raw).exists()]
    if missing:
        raise UsageError("; ".join(f"no such file or folder: {raw}" for raw in missing))
    files = [Path(raw) for raw in paths if not Path(raw).is_dir()]
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


def core_settings(args: argparse.Namespace) -> CoreSettings | None:
    """What `lint` reads of the configuration: the rules, people, teams and policies; None
    when there is no config file."""
    from syncer.configfile import config_path

    path = config_path(args.config)
    if path is None:
        return None
    from syncer.settings import load_settings

    return load_settings(path, required=False, core=True)


def read_paths(
    args: argparse.Namespace,
    settings: CoreSettings | None,
    select: Sequence[str],
    ignore: Sequence[str],
    *,
    history: bool = False,
    documents_told: bool = True,
) -> Reading:
    """The documents named on the command line (else those of the configured folders), read
    and checked against `select`. Git is asked who wrote them and when (`history`) only where
    that is shown or policies use it. Problems go to stderr; a document that cannot be read
    among them unless the command reports it itself (not `documents_told`)."""
    from connectors.extract import ExtractOptions
    from rules import RuleContext
    from syncer.reading import read_documents

    today = now_of(None).date()
    context = RuleContext(today=today)
    if settings is not None:
        from syncer.people import load_directory
        from syncer.policy import Policy, rule_context

        directory = load_directory(settings)
        policy = Policy.of(settings, directory)
        context = rule_context(settings, directory, today, policy)
        history = history or policy.active  # owners and due dates from author and first commit
    sources = path_sources(args.paths, history) if args.paths else configured_folders(args, history)
    reading = read_documents(
        sources,
        options={source.name: ExtractOptions(day_first=args.day_first) for source in sources},
        rule_select=select,
        rule_ignore=ignore,
        context=context,
    )
    for warning in reading.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in reading.problems:
        if documents_told or not problem.path:
            print(f"{problem.where}: error: {problem.message}", file=sys.stderr)
    if skipped := reading.skipped:
        # A folder named on the command line: say what in it was not read.
        shown = ", ".join(name.split(": ", 1)[-1] for name in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        files = "file" if len(skipped) == 1 else "files"
        print(f"{len(skipped)} {files} skipped, not post-mortems: {shown}{more}", file=sys.stderr)
    return reading


def repeated_items(
    args: argparse.Namespace, settings: CoreSettings | None, reading: Reading
) -> list[Finding]:
    """PM601 for the items read that an earlier post-mortem promised already: compared with
    every post-mortem read, and those of the configured folders when PATHs are named (the
    earlier post-mortems live there)."""
    from syncer import promises, recurrence
    from syncer.reading import read_documents

    threshold, window = recurrence.THRESHOLD, timedelta(days=recurrence.WINDOW_DAYS)
    if settings is not None:
        if not settings.recurrence.enabled:
            return []
        threshold, window = settings.recurrence.threshold, settings.recurrence.window
    among = list(reading.postmortems)
    if args.paths and settings is not None:
        try:
            folders = configured_folders(args, history=False)
        except (UsageError, ConfigError):
            folders = []  # no folders configured: the documents named are all there is
        seen = {_resolved(pm.ref.uri) for pm in among}
        among += [
            pm
            for pm in read_documents(folders, rule_select=[]).postmortems
            if _resolved(pm.ref.uri) not in seen
        ]
    state = promises.State(settings.path(settings.state_dir)) if settings is not None else None
    today = now_of(None).date()
    return promises.findings(reading.postmortems, among, threshold, window, state, today)


def _resolved(uri: str) -> str:
    try:
        return str(Path(uri).resolve())
    except (OSError, ValueError):
        return uri


def configured_folders(args: argparse.Namespace, history: bool) -> list[MarkdownDirSource]:
    """The configuration's folders of post-mortems (its `markdown-dir` sources), for a command
    given no PATH; a usage error when there are none."""
    from connectors.sources import markdown_dir
    from syncer.configfile import config_path
    from syncer.settings import load_settings

    path = config_path(args.config)
    folders = []
    if path is not None:
        settings = load_settings(path, required=False)
        context = settings.build_context(lambda: datetime.now(UTC))
        folders = [
            markdown_dir.build(name, section, context)
            for name, section in settings.sources.items()
            if isinstance(section, markdown_dir.Config)
        ]
    if not folders:
        where = f"{path} has no markdown-dir source" if path else "there is no config file"
        raise UsageError(f"name a file or folder to read: {where}")
    for folder in folders:
        folder.history = history
    return folders


def show_progress(args: argparse.Namespace) -> None:
    """A progress display on stderr, for a person at a terminal: never into a pipe, a file,
    cron's mail or JSON output, nor with --quiet."""
    from syncer import progressbar

    wanted = getattr(args, "format", "text") != "json" and not getattr(args, "quiet", False)
    progressbar.enable(sys.stderr if wanted and sys.stderr.isatty() else None)


def write_table(rows: Sequence[Sequence[str]], out: TextIO, indent: str = "") -> None:
    if len(rows) <= 1:
        return
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write(indent + "  ".join([*cells, row[-1]]).rstrip() + "\n")


def codes(value: str | None, default: Sequence[str]) -> list[str]:
    if value is None:
        return list(default)
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def write_out(name: str, text: str, *, append: bool = False) -> None:
    try:
        with open(name, "a" if append else "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"{name}: cannot write: {exc.strerror or exc}") from None


def now_of(value: str | None) -> datetime:
    """--now or $PMSYNC_NOW as an aware time (UTC when no zone is given); else the clock."""
    text = value or os.environ.get("PMSYNC_NOW")
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now: {text!r} is not an ISO date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def short(title: str, width: int = 50) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"
