"""Running pmsync's command line inside a test: the exit code, stdout and stderr."""

from __future__ import annotations

import pytest

from syncer.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err
