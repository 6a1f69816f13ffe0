"""`pmsync run` and `pmsync health`: the loop on its schedule, and whether it lives."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    loop = shared.add_command(
        commands,
        "run",
        common,
        run,
        summary="sync, check and digest on the [schedule] cadence",
        description="The daemon: sync, check and digest on the cadence of [schedule], until "
        "SIGTERM or SIGINT. Logs are JSON on stderr; `pmsync health` tells whether it lives.",
        examples=["pmsync run", "pmsync run --once"],
    )
    loop.add_argument(
        "--once", action="store_true", help="sync, check, then the digest if due; then exit"
    )
    loop.add_argument(
        "--serve",
        action="store_true",
        help="also receive tracker webhooks, /healthz and /metrics on [serve] host and port",
    )
    shared.wait_lock_option(loop)
    shared.add_command(
        commands,
        "health",
        common,
        health,
        summary="exit 0 if the loop's heartbeat is fresh, else 1",
        description="Whether the loop is alive and can write its state: exit 0 while its "
        "heartbeat is fresh and no state file fails to be written; else exit 1, saying why.",
        examples=["pmsync health"],
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import scheduler
    from syncer.pipeline import build_sources, build_trackers

    settings = shared.settings_of(args, required=True)
    # A setting a source or tracker refuses (a missing token) stops the run before it starts,
    # as it stops every other command: exit 2, the setting named.
    build_sources(settings)
    build_trackers(settings)
    clock = lambda: shared.now_of(None)  # noqa: E731 - PMSYNC_NOW is honoured, for tests and rehearsals
    if args.once:
        return scheduler.run_once(settings, clock, wait_lock=args.wait_lock, out=out)
    return scheduler.run_forever(settings, clock, wait_lock=args.wait_lock, with_server=args.serve)


def health(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import scheduler

    settings = shared.settings_of(args, required=True)
    ok, message = scheduler.health(settings, datetime.now(UTC))
    out.write(message + "\n")
    return shared.EXIT_OK if ok else shared.EXIT_FINDINGS
