"""`pmsync config check` and `pmsync config schema`: the settings, checked or described."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from syncer.commands import common as shared

if TYPE_CHECKING:
    from syncer.commands.common import Commands
    from syncer.settings import Settings


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    config = commands.add_parser(
        "config",
        parents=[common],
        help="settings",
        description="Check the configuration, or print its JSON Schema.",
    )
    config_commands = config.add_subparsers(dest="config_command", required=True)
    validate = shared.add_command(
        config_commands,
        "check",
        common,
        check,
        summary="validate settings and print them, secrets masked",
        description="Validate the configuration file and the files it names (people, "
        "secrets), print the settings with secrets masked, and with --online reach each "
        "tracker once.",
        examples=["pmsync config check", "pmsync --config prod.toml config check --online"],
    )
    validate.add_argument(
        "--online",
        action="store_true",
        help="also reach each tracker once: its address, repository or project",
    )
    shared.add_command(
        config_commands,
        "schema",
        common,
        schema,
        summary="print the JSON Schema of the configuration file (for editors: pmsync.schema.json)",
        description="Print the JSON Schema of the configuration file, for editors that "
        "complete and check TOML (Taplo, Even Better TOML).",
        examples=["pmsync config schema > pmsync.schema.json"],
    )


def check(args: argparse.Namespace, out: TextIO) -> int:
    from connectors import registry
    from connectors.base import ChecksPeople, Verifiable, WebhookStatus
    from rules import select_rules
    from syncer.people import load_directory
    from syncer.pipeline import build_sources, build_trackers
    from syncer.settings import masked_dump

    settings = shared.settings_of(args, required=True, create=False)
    select_rules(settings.rules.select, settings.rules.ignore)  # rule code typos, too
    directory = load_directory(settings)  # and the people file
    build_sources(settings)  # credentials and key files, as sync reads them
    trackers = build_trackers(settings)
    if args.online:  # each tracker's address, repository or project, reached once
        base = settings.serve.public_url
        for name, tracker in trackers.items():
            if isinstance(tracker, Verifiable):
                tracker.verify()
            hooked = settings.trackers[name].webhook_secret_file is not None
            if base and hooked and isinstance(tracker, WebhookStatus):
                url = f"{base.rstrip('/')}/webhooks/{name}"
                if tracker.webhook_at(url):
                    print(
                        f"pmsync: trackers.{name}: its webhook delivers to {url}", file=sys.stderr
                    )
                else:
                    print(
                        f"pmsync: warning: trackers.{name}: no webhook delivers issue events to "
                        f"{url}: run `pmsync webhooks install` (until then, polling only)",
                        file=sys.stderr,
                    )
            account = registry.account_key(tracker.kind)
            if isinstance(tracker, ChecksPeople) and account is not None:
                handles = [h for p in directory.people if (h := p.account(account))]
                tracker.check_people(handles)
    out.write(f"# {settings.origin}: valid\n")
    for warning in _warnings(settings):
        print(f"pmsync: warning: {warning}", file=sys.stderr)
    out.write(_toml(masked_dump(settings)))
    return shared.EXIT_OK


def _warnings(settings: Settings) -> list[str]:
    """What is valid but will not work as people expect."""
    from connectors.sources import markdown_dir

    found = [
        f"sources.{name}.link_base_url is not set: issues link to their post-mortem by a "
        "path relative to the folder, which a browser cannot open from GitHub, GitLab or Jira; "
        'set it to the folder\'s web address (e.g. "https://github.com/acme/postmortems/blob/main/")'
        for name, section in settings.sources.items()
        if isinstance(section, markdown_dir.Config) and section.link_base_url is None
    ]
    found += [
        f"trackers.{name}.webhook_token_file: GitLab sends this legacy token in the clear with "
        "every delivery, where anyone on the way can read and replay it; set webhook_secret_file "
        "to the hook's signing token instead"
        for name, section in settings.trackers.items()
        if getattr(section, "webhook_token_file", None) is not None
        and section.webhook_secret_file is None
    ]
    return found


def schema(args: argparse.Namespace, out: TextIO) -> int:
    from syncer.settings import config_schema

    json.dump(config_schema(), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return shared.EXIT_OK


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
