"""Jira API requests of a sync of 1,000 action items, against the fake Jira server.

    python bench/jira_sync.py [--items 1000] [--deployment cloud|datacenter]

Prints the requests by kind for: the first sync (bulk create, 50 issues a request), a second
sync with nothing changed, and a sync after 10 items changed.
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
from tests.fakes.jira import FakeJira  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--deployment", choices=["cloud", "datacenter"], default="cloud")
    args = parser.parse_args()
    logs.configure("error", json=True)
    fake = FakeJira(deployment=args.deployment)
    cloud = args.deployment == "cloud"
    with fake.running(), tempfile.TemporaryDirectory() as tmp:
        accounts = {"Dana": "dana", "Sam": "sam", "Priya": "lee1"}
        handles = {n: (f"acc-{a}" if cloud else a) for n, a in accounts.items()}
        auth = 'email = "bot@acme.test"\napi_token = "t"' if cloud else 'token = "t"'
        tracker = (
            f'[trackers.jira]\nkind = "jira"\nurl = "{fake.url}"\n'
            f'deployment = "{args.deployment}"\n'
            f'project = "OPS"\n{auth}\n[routing]\ndefault = "jira"\n'
        )
        people = [(n, f'jira = "{h}"') for n, h in handles.items()]
        config, documents = project(Path(tmp), args.items, people, tracker)
        print(f"{args.items} action items in {len(documents)} post-mortems, Jira {args.deployment}")
        three_syncs(
            config, documents, fake.count, fake.writes, fake.reset_counts, "GET issue/{key}"
        )


if __name__ == "__main__":
    main()
