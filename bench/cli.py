"""CPU time of the quick commands against Python's own start-up, measured in the same run.

    python bench/cli.py [--runs 10] [--commits 20000]

Each figure is the median, over --runs pairs, of the CPU time (user + system) of a whole
process, pmsync and its baseline run in turn so that a slower spell of the machine weighs on
both:

- `pmsync --help` and `pmsync lint one.md` (a pre-commit hook's call) against
  `python -c "import markdown_it"` (budgets 2x and 3x);
- `pmsync lint` of a post-mortem inside a Git checkout of --commits commits against the same
  file outside any checkout (budget 1.2x): Git is asked only about the files named, and only
  when a policy needs their history;
- `pmsync lint` of 20 post-mortems named one by one, with the owner and due-date policies
  that read who committed them and when, inside the checkout against the same files outside
  any checkout (budget 1.2x): the history is walked once per repository and kept in its Git
  folder, so later runs read only the commits since. The first run, which walks it all, and a
  run after a new commit are printed too.
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


def checkout(folder: Path, commits: int, documents: Sequence[Path]) -> Path:
    """A Git repository of `commits` commits; the post-mortems are in the first ones only
    (`one.md`, then `documents` by name), so that Git would walk the whole history to date
    them. Its `postmortems` folder."""
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    early = [("postmortems/one.md", DOCUMENT)] + [(f"postmortems/{d.name}", d) for d in documents]
    parts: list[bytes] = []
    for n in range(1, commits + 1):
        path, data = (
            (early[n - 1][0], early[n - 1][1].read_bytes())
            if n <= len(early)
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
    return folder / "postmortems"


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
        documents = sorted((ROOT / "tests" / "corpus" / "docs").glob("*.md"))[:20]
        inside = checkout(Path(tmp) / "checkout", args.commits, documents)
        mine, theirs, ratio = paired(
            args.runs,
            pmsync("lint", "postmortems/one.md"),
            inside.parent,
            pmsync("lint", "one.md"),
            outside,
        )
        print(
            f"  lint in a {args.commits:,}-commit checkout {mine:6.3f} s, outside one "
            f"{theirs:6.3f} s  {ratio:4.2f}x (budget 1.2x)"
        )
        history_policies(args.runs, args.commits, Path(tmp), inside, documents)


def history_policies(
    runs: int, commits: int, tmp: Path, inside: Path, documents: Sequence[Path]
) -> None:
    """Lint of many files with policies that read Git history, inside the checkout and out."""
    config = tmp / "policies.toml"
    config.write_text('[policy.owner]\nfallback = ["postmortem"]\n[policy.due]\ndefault = "30d"\n')
    outside = tmp / "outside-many"
    outside.mkdir()
    for document in documents:
        shutil.copy(document, outside / document.name)
    names = [d.name for d in documents]
    lint = pmsync("--config", str(config), "lint", *names)
    kept = subprocess.run(
        ["git", "rev-parse", "--git-common-dir"], cwd=inside, capture_output=True, text=True
    )
    cache = (inside / kept.stdout.strip() / "pmsync-history.json").resolve()
    print(f"  lint of {len(names)} files with history policies, {commits:,}-commit checkout:")
    cache.unlink(missing_ok=True)
    first = cpu_of(lint, inside)
    outside_once = cpu_of(lint, outside)
    print(f"    first run (walks the history once) {first:6.3f} s, outside {outside_once:6.3f} s")
    mine, theirs, ratio = paired(runs, lint, inside, lint, outside)
    print(f"    later runs {mine:6.3f} s, outside {theirs:6.3f} s  {ratio:4.2f}x (budget 1.2x)")
    (inside.parent / "src" / "f1.txt").write_text("one more change\n")
    who = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", *who, "commit", "-qam", "more"], cwd=inside, check=True)
    after = cpu_of(lint, inside)
    print(f"    after a new commit (reads it alone) {after:6.3f} s")


if __name__ == "__main__":
    main()
