"""CPU time of the quick commands against Python's own start-up, measured in the same run.

    python bench/cli.py [--runs 10] [--commits 20000]

Each figure is the median, over --runs pairs, of the CPU time (user + system) of a whole
process, pmsync and its baseline run in turn so that a slower spell of the machine weighs on
both:

- `pmsync --help` and `pmsync lint one.md` (a pre-commit hook's call) against
  `python -c "import markdown_it"` (budgets 2x and 3x);
- `pmsync lint` of a post-mortem inside a Git checkout of --commits commits against the same
  file outside any checkout (budget 1.2x): Git is asked only about the files named, and only
  when a policy needs their history.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "tests" / "corpus" / "docs" / "posthog-2025-09-29-flags-down.md"


def pmsync(*args: str) -> list[str]:
    """The installed `pmsync` command beside this Python, else `python -m syncer`."""
    script = Path(sys.executable).parent / "pmsync"
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "syncer", *args]


def cpu_of(command: Sequence[str], cwd: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(
    runs: int, command: Sequence[str], cwd: Path, baseline: Sequence[str], base_cwd: Path
) -> tuple[float, float, float]:
    """Medians of the command's CPU seconds, the baseline's, and their pairwise ratios."""
    cpu_of(command, cwd), cpu_of(baseline, base_cwd)  # warm the file cache
    pairs = [(cpu_of(command, cwd), cpu_of(baseline, base_cwd)) for _ in range(runs)]
    return (
        statistics.median(a for a, _ in pairs),
        statistics.median(b for _, b in pairs),
        statistics.median(a / b for a, b in pairs),
    )


def checkout(folder: Path, commits: int) -> Path:
    """A Git repository of `commits` commits; the post-mortem is in the first one only, so
    that Git would walk the whole history to date it."""
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    parts: list[bytes] = []
    for n in range(1, commits + 1):
        path, data = (
            ("postmortems/one.md", DOCUMENT.read_bytes())
            if n == 1
            else (f"src/f{n % 500}.txt", f"change {n}\n".encode())
        )
        parent = f"from :{n - 1}\n" if n > 1 else ""
        parts.append(
            f"commit refs/heads/main\nmark :{n}\n"
            f"committer A <a@example.com> {1_600_000_000 + n * 60} +0000\n"
            f"data {len(str(n))}\n{n}\n{parent}M 644 inline {path}\ndata {len(data)}\n".encode()
            + data
            + b"\n"
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=folder, input=b"".join(parts), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=folder, check=True)
    return folder / "postmortems" / "one.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--commits", type=int, default=20000)
    args = parser.parse_args()
    os.environ.pop("PMSYNC_CONFIG", None)
    base = [sys.executable, "-c", "import markdown_it"]
    with tempfile.TemporaryDirectory() as tmp:
        outside = Path(tmp) / "outside"
        outside.mkdir()
        shutil.copy(DOCUMENT, outside / "one.md")
        print(
            f"CPU seconds, medians of {args.runs} pairs; baseline: python -c 'import markdown_it'"
        )
        for label, command, budget in (
            ("pmsync --help", pmsync("--help"), 2.0),
            ("pmsync lint one.md", pmsync("lint", "one.md"), 3.0),
        ):
            mine, theirs, ratio = paired(args.runs, command, outside, base, outside)
            print(
                f"  {label:24} {mine:6.3f} s  baseline {theirs:6.3f} s  {ratio:4.2f}x "
                f"(budget {budget:.1f}x)"
            )
        if shutil.which("git") is None:
            print("  git not found: the checkout figure is skipped")
            return
        inside = checkout(Path(tmp) / "checkout", args.commits)
        mine, theirs, ratio = paired(
            args.runs,
            pmsync("lint", "postmortems/one.md"),
            inside.parent.parent,
            pmsync("lint", "one.md"),
            outside,
        )
        print(
            f"  lint in a {args.commits:,}-commit checkout {mine:6.3f} s, outside one "
            f"{theirs:6.3f} s  {ratio:4.2f}x (budget 1.2x)"
        )


if __name__ == "__main__":
    main()
