"""GitHub API requests of a sync of 1,000 action items, against the fake GitHub server.

    python bench/github_sync.py [--items 1000]

Prints the requests by kind for: the first sync, a second sync with nothing changed, and a sync
after 10 items changed. Writes are neither spaced nor capped here (write_interval_seconds = 0,
max_writes_per_minute = 0): the figures are request counts, not timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import GITHUB_PEOPLE, github_tracker, project, three_syncs  # noqa: E402
from syncer import logs  # noqa: E402
from tests.fakes.github import FakeGitHub  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    logs.configure("error", json=True)
    os.environ["GITHUB_TOKEN"] = "ghp_" + "b" * 36
    fake = FakeGitHub()
    with fake.running(), tempfile.TemporaryDirectory() as tmp:
        config, documents = project(Path(tmp), args.items, GITHUB_PEOPLE, github_tracker(fake.url))
        print(f"{args.items} action items in {len(documents)} post-mortems")
        three_syncs(config, documents, fake.count, fake.writes, fake.reset_counts, "GET issue")


if __name__ == "__main__":
    main()
