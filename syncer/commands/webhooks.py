"""`pmsync webhooks install`: each tracker's webhook made (or given a new secret) pointing at
`[serve] public_url`, with a fresh secret written to the tracker's `webhook_secret_file`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared
from syncer.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    hooks = shared.add_command(
        commands,
        "webhooks",
        common,
        install,
        summary="set up the trackers' webhooks for `pmsync serve`",
        description="install: make each tracker's webhook for issue events point at [serve] "
        "public_url/webhooks/<tracker>, signed with a fresh secret written to the tracker's "
        "webhook_secret_file (GitHub: the repository hook). A hook already there gets the "
        "new secret. See docs/deployment.md.",
        examples=["pmsync webhooks install", "pmsync webhooks install --tracker gh"],
    )
    hooks.add_argument("action", choices=["install"], help="install: make or renew the hooks")
    hooks.add_argument("--tracker", help="only this tracker (default: every one that can)")


def install(args: argparse.Namespace, out: TextIO) -> int:
    from connectors.base import Webhooks
    from syncer.pipeline import build_trackers

    settings = shared.settings_of(args, required=True)
    base = settings.serve.public_url
    if not base:
        raise ConfigError(
            ["serve.public_url: set the address trackers deliver to"], settings.origin
        )
    trackers = build_trackers(settings)
    names = [args.tracker] if args.tracker else list(trackers)
    if args.tracker and args.tracker not in trackers:
        raise UsageError(f"--tracker: no tracker named {args.tracker!r}")
    done = 0
    for name in names:
        tracker = trackers[name]
        if not isinstance(tracker, Webhooks):
            if args.tracker:
                raise UsageError(f"--tracker: pmsync cannot set up {tracker.kind} webhooks")
            continue
        target = settings.trackers[name].webhook_secret_file
        if target is None:
            raise ConfigError(
                [f"trackers.{name}.webhook_secret_file: name the file the secret goes to"],
                settings.origin,
            )
        path = settings.path(target)
        secret = tracker.fresh_webhook_secret()
        temporary = path.with_name(f".{path.name}.new")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
        url = f"{base.rstrip('/')}/webhooks/{name}"
        try:
            said = tracker.install_webhook(url, secret)
            os.replace(temporary, path)  # only once the tracker has it: never one it lacks
        finally:
            temporary.unlink(missing_ok=True)
        out.write(f"{name}: {said}; secret in {path}\n")
        done += 1
    if not done:
        out.write("no configured tracker's webhook can be set up by pmsync\n")
    return shared.EXIT_OK
