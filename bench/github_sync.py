"""GitHub API requests of a sync of 1,000 action items, against the fake GitHub server.

    python bench/github_sync.py [--items 1000]

Prints the requests by kind for: the first sync, a second sync with nothing changed, and a sync
after 10 items changed; then an unchanged sync once more, whose list reads are conditional
(answered 304, no rate limit spent), timed against a minimal client making the same reads.
Writes are neither spaced nor capped here (write_interval_seconds = 0, max_writes_per_minute =
0): the figures are request counts, not timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import GITHUB_PEOPLE, github_tracker, project, three_syncs  # noqa: E402
from syncer import logs  # noqa: E402
from syncer.pipeline import sync  # noqa: E402
from syncer.settings import load_settings  # noqa: E402
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
        sync(load_settings(config), dry_run=False)  # the pages as they now are, with ETags
        fake.reset_counts()
        remaining = fake.rate_remaining
        start = time.perf_counter()
        sync(load_settings(config), dry_run=False)
        elapsed = time.perf_counter() - start
        answered = Counter(status for _, status in fake.conditional)
        print(
            f"unchanged sync with the state dir's ETags: {sum(fake.count().values())} requests, "
            f"{len(fake.conditional)} conditional list reads ({answered[304]} answered 304), "
            f"{remaining - fake.rate_remaining} rate-limit points, {fake.writes()} writes"
        )
        baseline = _minimal_client(fake.url, os.environ["GITHUB_TOKEN"])
        print(
            f"  wall time {elapsed:.2f} s; a minimal client making the same reads (no documents "
            f"read, nothing planned) {baseline:.2f} s: {elapsed / baseline:.1f}x"
        )


def _minimal_client(url: str, token: str) -> float:
    """The reads of an unchanged sync, by a client that does nothing else: the account, every
    page of the listing (sent again with its ETag, as pmsync does), one number past the newest
    issue. Timed on the second pass."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    etags: dict[str, str] = {}
    pages: dict[str, list[dict[str, object]]] = {}
    elapsed = 0.0
    for _ in range(2):
        start = time.perf_counter()
        session.get(f"{url}/user").raise_for_status()
        page: str | None = f"{url}/repos/acme/incidents/issues?labels=pmsync&state=all&per_page=100"
        newest = 0
        while page:
            answer = session.get(page, headers={"If-None-Match": etags.get(page, "")})
            if answer.status_code == 200:
                etags[page], pages[page] = answer.headers["ETag"], answer.json()
            newest = max([newest, *(int(str(issue["number"])) for issue in pages[page])])
            page = answer.links.get("next", {}).get("url")
        session.get(f"{url}/repos/acme/incidents/issues/{newest + 1}")
        elapsed = time.perf_counter() - start
    return elapsed


if __name__ == "__main__":
    main()
