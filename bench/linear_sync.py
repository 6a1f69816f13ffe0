"""Linear API requests of a sync of 1,000 action items, against the fake Linear server.

    python bench/linear_sync.py [--items 1000]

Prints the operations by kind for: the first sync (one issueCreate and one attachmentCreate
per issue, the labels made once), a second sync with nothing changed (the viewer, the team
and twenty pages of 50), and a sync after 10 items changed (ten issueUpdate).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import project, three_syncs  # noqa: E402
from syncer import logs  # noqa: E402
from tests.fakes.linear import FakeLinear  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    logs.configure("error", json=True)
    fake = FakeLinear(limit=100_000, remaining=100_000)
    with fake.running(), tempfile.TemporaryDirectory() as tmp:
        tracker = (
            f'[trackers.lin]\nkind = "linear"\nteam = "OPS"\nurl = "{fake.url}"\n'
            f'api_key = "{fake.api_key}"\nwrite_interval_seconds = 0\n'
            '[routing]\ndefault = "lin"\n'
        )
        people = [
            (name, f'linear = "{email}"')
            for name, email in {"Dana": "dana@acme.test", "Sam": "sam@acme.test"}.items()
        ]
        config, documents = project(Path(tmp), args.items, people, tracker)
        print(f"{args.items} action items in {len(documents)} post-mortems, Linear")
        three_syncs(config, documents, fake.count, fake.writes, fake.reset_counts)


if __name__ == "__main__":
    main()
