"""GitLab API requests of a sync of 1,000 action items, against the fake GitLab server.

    python bench/gitlab_sync.py [--items 1000]

Prints the requests by kind for: the first sync (one POST per issue), a second sync with
nothing changed (the budget: at most 12 requests for 1,000 items: the account, ten pages of
100 and one read-your-writes probe), and a sync after 10 items changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import project, three_syncs  # noqa: E402
from syncer import logs  # noqa: E402
from tests.fakes.gitlab import FakeGitLab  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    logs.configure("error", json=True)
    fake = FakeGitLab()
    os.environ["GITLAB_TOKEN"] = "glpat-bench-0000000000"
    with fake.running(), tempfile.TemporaryDirectory() as tmp:
        tracker = (
            f'[trackers.lab]\nkind = "gitlab"\nurl = "{fake.url}"\nproject = "{fake.project}"\n'
            'write_interval_seconds = 0\nmax_writes_per_minute = 0\n[routing]\ndefault = "lab"\n'
        )
        people = [
            (name, f'gitlab = "{user}"')
            for name, user in {"Dana": "dana", "Sam": "sam", "Priya": "priya"}.items()
        ]
        config, documents = project(Path(tmp), args.items, people, tracker)
        print(f"{args.items} action items in {len(documents)} post-mortems, GitLab")
        three_syncs(config, documents, fake.count, fake.writes, fake.reset_counts, "GET issue")


if __name__ == "__main__":
    main()
