"""`pmsync completion SHELL`: the script that makes a shell complete pmsync's commands and
options (argcomplete's: bash, zsh and fish, from the same parser the commands use)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from syncer.commands import common as shared

if TYPE_CHECKING:
    from syncer.commands.common import Commands

SHELLS = ("bash", "zsh", "fish")


def register(commands: Commands, common: argparse.ArgumentParser) -> None:
    completion = shared.add_command(
        commands,
        "completion",
        common,
        run,
        summary="print the shell's completion script for pmsync",
        description="Print a script that makes the shell complete pmsync's commands, options "
        "and their values. Load it from the shell's start-up file.",
        examples=[
            'eval "$(pmsync completion bash)"        # in ~/.bashrc',
            'eval "$(pmsync completion zsh)"         # in ~/.zshrc',
            "pmsync completion fish > ~/.config/fish/completions/pmsync.fish",
        ],
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")


def run(args: argparse.Namespace, out: TextIO) -> int:
    from argcomplete.shell_integration import shellcode

    out.write(shellcode(["pmsync"], shell=args.shell))
    return shared.EXIT_OK
