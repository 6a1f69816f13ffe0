"""`pmsync serve`: the webhook receiver, `/healthz` and `/metrics`, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared

if TYPE_CHECKING:
    from syncer.commands.common import Commands


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    serve = shared.add_command(
        commands,
        "serve",
        common,
        run,
        summary="receive tracker webhooks, so that status flows back in seconds",
        description="An HTTP server on [serve] host and port: /webhooks/<tracker> for each "
        "tracker with a webhook_secret_file (GitHub, GitLab, Jira, Linear), verified before "
        "anything is read; /healthz; /metrics. An event on an issue pmsync filed starts a "
        "sync, which re-reads the tracker and writes back to the post-mortem. `pmsync run "
        "--serve` runs it beside the schedule. See docs/deployment.md.",
        examples=["pmsync serve", "pmsync serve --port 9000"],
    )
    serve.add_argument("--host", help="the address to listen on (default: [serve] host)")
    serve.add_argument("--port", type=int, help="the port (default: [serve] port, 8080)")
    shared.wait_lock_option(serve)


def run(args: argparse.Namespace, out: TextIO) -> int:
    from syncer import server
    from syncer.pipeline import build_sources, build_trackers

    settings = shared.settings_of(args, required=True)
    build_sources(settings)
    build_trackers(settings)  # a setting a tracker refuses stops it before it listens
    clock = lambda: shared.now_of(None)  # noqa: E731 - PMSYNC_NOW is honoured, for rehearsals
    return server.run_serve(settings, clock, args.wait_lock or 60.0, args.host, args.port)
