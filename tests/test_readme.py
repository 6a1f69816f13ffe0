"""The README leads: its first screen holds the two set-up commands and the way to a real
tracker; its runnable code blocks run as written; every page it links to exists."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
RUNNABLE = re.compile(r"<!-- runnable -->\n```sh\n(.*?)```", re.DOTALL)


def test_the_first_screen_holds_the_two_commands_and_the_way_on() -> None:
    first = "\n".join(README.splitlines()[:45])
    assert "make demo" in first
    assert "make test" in first
    assert "From the demo to your own GitHub or Jira" in README.split("## Documentation")[0]


def test_every_linked_page_exists() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")) or target == "…":
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_no_snippet_needs_a_placeholder_filled_in() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "<you>" not in page.read_text(), page.name


@pytest.mark.parametrize("block", RUNNABLE.findall(README))
def test_the_runnable_blocks_run_as_written(block: str, tmp_path: Path) -> None:
    """In a copy of the project after `make demo` (its sync), with the project's environment."""
    for name in ("examples", "config.example.toml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {**os.environ, "PMSYNC_NOW": "2026-07-01T09:30:00+00:00"}
    demo = [".venv/bin/pmsync", "--config", "config.example.toml", "sync"]
    subprocess.run(demo, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    for line in block.splitlines():
        command = line.split("#", 1)[0].strip()
        if not command:
            continue
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert done.stdout, command
