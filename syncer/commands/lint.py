"""`pmsync lint`: documents checked against the rules, as text, JSON, SARIF or annotations."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared
from syncer.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    lint = shared.add_command(
        commands,
        "lint",
        common,
        run,
        summary="check documents against the rules",
        description="Check post-mortems against the rules (SMART, blameless, complete): one "
        "finding per line, `path:line: severity CODE message`. Exit 1 when a finding at "
        "least as severe as --fail-on remains, or a document cannot be read.",
        examples=[
            "pmsync lint postmortems/",
            "pmsync lint postmortems/ --format sarif > pmsync.sarif",
            "pmsync lint postmortems/ --select PM3 --fail-on warning",
        ],
    )
    shared.document_options(
        lint, paths_help="files or folders (default: the documents of the configured local sources)"
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


def run(args: argparse.Namespace, out: TextIO) -> int:
    from rules import select_rules
    from rules.catalogue import REPEAT_CODE, UNREADABLE_CODE
    from syncer import lintformat
    from syncer.model import Finding, Severity

    settings = shared.core_settings(args)
    select = shared.codes(args.select, settings.rules.select if settings else ["PM"])
    ignore = shared.codes(args.ignore, settings.rules.ignore if settings else [])
    try:  # a typo'd code is an error before anything is read
        rules = select_rules(select, ignore)
    except ConfigError as exc:
        if args.select is None and args.ignore is None:
            raise
        raise UsageError("--select/--ignore: " + "; ".join(exc.problems)) from None
    unreadable = next((rule for rule in rules if rule.code == UNREADABLE_CODE), None)
    reading = shared.read_paths(args, settings, select, ignore, documents_told=unreadable is None)
    findings = list(reading.findings)
    if unreadable is not None:  # a document that cannot be read is a finding, where authors look
        findings += [
            Finding(unreadable.code, unreadable.severity, p.message, p.path, max(p.line, 1))
            for p in reading.problems
            if p.path
        ]
    if any(rule.code == REPEAT_CODE for rule in rules):
        findings += shared.repeated_items(args, settings, reading)
        findings.sort(key=lambda f: (f.doc, f.line))
    documents = len(reading.postmortems) + len({p.path for p in reading.problems if p.path})
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
        out.write(lintformat.text(findings, documents))
    if stats is not None and args.format != "json":
        sys.stderr.write(lintformat.statistics_text(stats, rules))
    if args.sarif_out:
        shared.write_out(args.sarif_out, lintformat.dump(lintformat.sarif(findings, rules)))
    if args.summary_out:
        summary = lintformat.summary(findings, rules, documents)
        shared.write_out(args.summary_out, summary, append=True)
    fail_on = Severity(args.fail_on or (settings.rules.fail_on if settings else "error"))
    failing = any(f.severity.rank >= fail_on.rank for f in findings)
    return shared.EXIT_FINDINGS if failing or reading.problems else shared.EXIT_OK
