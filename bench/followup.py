"""GitHub API requests of `pmsync check` over 1,000 synced items of which 50 are stale.

    python bench/followup.py [--items 1000] [--stale 50]

Syncs the items into the fake GitHub server, lets people comment on all but `--stale` of them,
then checks three weeks after the sync, and hourly until every issue's history (its first
assignment) has been read once, 200 issues a run. Prints the requests by kind of the first
check and of the steady one: the listing, plus reads and writes for the stale items only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import GITHUB_PEOPLE, github_tracker, project  # noqa: E402
from syncer import logs  # noqa: E402
from syncer.check import check  # noqa: E402
from syncer.pipeline import sync  # noqa: E402
from syncer.settings import load_settings  # noqa: E402
from tests.fakes.github import FakeGitHub  # noqa: E402

T0 = datetime(2026, 3, 4, 9, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--stale", type=int, default=50)
    args = parser.parse_args()
    logs.configure("error", json=True)
    os.environ["GITHUB_TOKEN"] = "ghp_" + "b" * 36
    fake = FakeGitHub()
    with fake.running(), tempfile.TemporaryDirectory() as tmp:
        config, _ = project(Path(tmp), args.items, GITHUB_PEOPLE, github_tracker(fake.url))
        settings = load_settings(config)
        fake.clock = lambda: T0
        sync(settings, dry_run=False)
        later = T0 + timedelta(days=15)
        fake.clock = lambda: later
        for number in range(args.stale + 1, args.items + 1):
            fake.comment_as(number, "dana", "Making progress.")
        print(f"{args.items} synced items, {args.stale} untouched for 21 days")
        for hours in range(24):
            now = T0 + timedelta(days=21, hours=hours)
            fake.clock = lambda now=now: now
            fake.reset_counts()
            start = time.perf_counter()
            run = check(settings, now=now, dry_run=False)
            elapsed = time.perf_counter() - start
            counts = fake.count()
            total = sum(counts.values())
            # Each issue's history (its first assignment) is read once, 200 issues a run.
            steady = counts["GET events"] <= args.stale
            if hours == 0 or steady:
                label = (
                    "check"
                    if hours == 0
                    else f"the check once histories are known ({hours} runs read them)"
                )
                print(f"{label}: {total} requests, {fake.writes()} writes, {elapsed:.1f} s")
                print("  " + ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items())))
                print("  " + ", ".join(f"{k} {v}" for k, v in run.counts().items() if v))
            if steady:
                break


if __name__ == "__main__":
    main()
