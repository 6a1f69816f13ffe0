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

from bench.common import change_ten, people_file, report, write_documents  # noqa: E402
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
        folder = Path(tmp)
        (folder / "docs").mkdir()
        documents = write_documents(folder / "docs", args.items)
        logins = {"Dana": "dana", "Sam": "sam-rivera", "Priya": "priyan"}
        people_file(folder / "people.toml", [(n, f'github = "{g}"') for n, g in logins.items()])
        config = folder / "config.toml"
        config.write_text(
            f'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            f'write_interval_seconds = 0\nmax_writes_per_minute = 0\n[routing]\ndefault = "gh"\n'
        )
        print(f"{args.items} action items in {len(documents)} post-mortems")
        for label in ("first sync", "second sync, nothing changed"):
            report(config, label, fake.count, fake.writes, fake.reset_counts)
        change_ten(documents[0])
        report(config, "sync after 10 items changed", fake.count, fake.writes, fake.reset_counts)


if __name__ == "__main__":
    main()
