"""How the local-tracker commands grow with the number of items: nothing may be quadratic.

    python bench/scale.py [--sizes 1000,10000,50000] [--people 30,300]

For each size: `sync` (first), `check` three weeks later (a third of the issues have a
comment from their owner), `check` again an hour later, `report` and `digest` (dry run), each
timed (CPU seconds of this process), and the first `check`'s wall time against its CPU time.
The figures are printed with each size's ratio to the size before it, against the ratio of the
sizes themselves (linear growth matches it).

Then an unchanged sync of the middle size with the first and the last number of people in the
directory: resolving owners must not grow with the directory.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import people_file, write_documents  # noqa: E402
from syncer import digest, logs, report  # noqa: E402
from syncer.check import check  # noqa: E402
from syncer.pipeline import sync  # noqa: E402
from syncer.settings import Settings, load_settings  # noqa: E402

T0 = datetime(2026, 3, 4, 9, tzinfo=UTC)
STEPS = ("sync", "check", "check again", "report", "digest")


def _cpu(step: Callable[[], object]) -> float:
    start = time.process_time()
    step()
    return time.process_time() - start


def _project(folder: Path, items: int, people: int) -> Settings:
    (folder / "docs").mkdir()
    write_documents(folder / "docs", items)
    handles = [("Dana", 'email = "dana@acme.test"'), ("Sam", ""), ("Priya", "")]
    handles += [(f"Person {n}", f'email = "p{n}@acme.test"') for n in range(people - 3)]
    people_file(folder / "people.toml", handles)
    config = folder / "config.toml"
    config.write_text(
        'people_file = "people.toml"\nstate_dir = "state"\n'
        '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        '[digest.lists.all]\nchannels = ["json://localhost:1/"]\n'
    )
    return load_settings(config)


def measure(items: int, people: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = _project(Path(tmp), items, people)
        times = {"sync": _cpu(lambda: sync(settings, dry_run=False, now=T0))}
        store = Path(tmp) / "state" / "local-tracker.sqlite3"
        with sqlite3.connect(store) as db:  # the owners' comments, written at once
            when = (T0 + timedelta(days=15)).isoformat()
            db.executemany(
                "INSERT INTO comments (number, author, body, created_at) VALUES (?, ?, ?, ?)",
                ((n, "dana", "Making progress.", when) for n in range(1, items + 1, 3)),
            )
        now = T0 + timedelta(days=21)
        started = time.perf_counter()
        times["check"] = _cpu(lambda: check(settings, now=now, dry_run=False))
        times["check wall"] = time.perf_counter() - started
        later = now + timedelta(hours=1)
        # These change nothing (the first check did it all): the best of two runs each, which
        # keeps a slow spell of the machine out of the figure.
        repeatable: dict[str, Callable[[], object]] = {
            "check again": lambda: check(settings, now=later, dry_run=False),
            "report": lambda: report.render(report.collect(settings, now=later)),
            "digest": lambda: digest.digest(settings, now=later, dry_run=True),
        }
        for step, work in repeatable.items():
            times[step] = min(_cpu(work), _cpu(work))
        return times


def directory_sizes(items: int, few: int, many: int, rounds: int = 5) -> tuple[float, float]:
    """The CPU seconds of an unchanged sync of `items` with `few` and with `many` people in the
    directory, the two run in turn `rounds` times; the best of each."""
    with tempfile.TemporaryDirectory() as tmp:
        projects = []
        for people in (few, many):
            (Path(tmp) / str(people)).mkdir()
            settings = _project(Path(tmp) / str(people), items, people)
            sync(settings, dry_run=False, now=T0)
            projects.append(settings)
        times: list[list[float]] = [[], []]
        for _ in range(rounds):
            for n, settings in enumerate(projects):
                start = time.process_time()
                sync(settings, dry_run=False, now=T0)
                times[n].append(time.process_time() - start)
        return min(times[0]), min(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--people", default="30,300")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    logs.configure("error", json=True)
    results = {size: measure(size, 30) for size in sizes}
    print(f"{'items':>7} " + " ".join(f"{step:>12}" for step in STEPS) + "  (CPU seconds)")
    for size, times in results.items():
        print(f"{size:>7} " + " ".join(f"{times[step]:>12.2f}" for step in STEPS))
    for size, times in results.items():
        wall, cpu = times["check wall"], times["check"]
        print(
            f"check of {size} items: {wall:.2f} s wall, {cpu:.2f} s CPU: {wall / cpu:.2f}x "
            "(budget 2x: its writes are not waiting on commits)"
        )
    for smaller, size in pairwise(sizes):
        ratios = " ".join(f"{results[size][s] / results[smaller][s]:>11.1f}x" for s in STEPS)
        print(f"{size:>7} {ratios}  vs {smaller}: {size / smaller:.0f}x the items")
    middle = sizes[len(sizes) // 2] if len(sizes) > 1 else sizes[0]
    few, many = (int(n) for n in args.people.split(","))
    first, second = directory_sizes(middle, few, many)
    print(
        f"unchanged sync of {middle} items: {first:.2f} s with {few} people, {second:.2f} s "
        f"with {many}: {second / first:.2f}x (budget 1.2x)"
    )


if __name__ == "__main__":
    main()
