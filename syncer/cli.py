"""The `pmsync` command line.

Exit codes: 0 ok; 1 findings or item-level failures (`health`: unhealthy); 2 usage or config
error; 3 fatal; 4 another run holds the lock.
Command output goes to stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from syncer import logs
from syncer.commands.common import EXIT_CONFIG, EXIT_FATAL, EXIT_LOCKED, EXIT_OK
from syncer.errors import ConfigError, FatalError, Locked, UsageError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (`pmsync completion`)
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    # Options valid before and after the command are SUPPRESSed, so fill them in here.
    args.config = getattr(args, "config", None)
    # An interactive command prints its result; its log shows only what goes wrong besides.
    # The loop (`run`) has only its log to speak through.
    args.log_level = getattr(args, "log_level", "info" if args.command == "run" else "warning")
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
    from syncer.commands import MODULES
    from syncer.commands.common import common_options

    common = common_options()
    parser = argparse.ArgumentParser(
        prog="pmsync",
        description="Turn post-mortem action items into tracked issues.",
        parents=[common],
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0, help="print pmsync's version and exit"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in MODULES:
        module.register(commands, common)
    return parser


class _Version(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("pmsync")
        except PackageNotFoundError:
            number = "unknown (not installed)"
        print(f"pmsync {number}")
        parser.exit()


if __name__ == "__main__":
    sys.exit(main())
