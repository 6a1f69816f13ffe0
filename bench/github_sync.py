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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syncer import logs  # noqa: E402
from syncer.pipeline import sync  # noqa: E402
from syncer.settings import load_settings  # noqa: E402
from tests.fakes.github import FakeGitHub  # noqa: E402

PEOPLE = ["dana", "sam-rivera", "priyan"]


def write_documents(folder: Path, items: int, per_document: int = 50) -> list[Path]:
    paths = []
    for doc in range(-(-items // per_document)):
        rows = [
            f"| Add alert {doc}-{n} on queue depth above {n + 10} | {PEOPLE[n % 3]} "
            f"| 2026-05-{n % 28 + 1:02d} |"
            for n in range(min(per_document, items - doc * per_document))
        ]
        path = folder / f"pm-{doc:03d}.md"
        path.write_text(
            f"---\nid: PM-{doc}\ndate: 2026-03-04\n---\n# Incident {doc}\n\n## Action items\n\n"
            "| Action | Owner | Due |\n|---|---|---|\n" + "\n".join(rows) + "\n"
        )
        paths.append(path)
    return paths


def run(config: Path, fake: FakeGitHub, label: str) -> None:
    fake.reset_counts()
    start = time.perf_counter()
    result = sync(load_settings(config), dry_run=False)
    elapsed = time.perf_counter() - start
    ops: dict[str, int] = {}
    for outcome in result.outcomes:
        key = outcome.action.op if outcome.ok else "failed"
        ops[key] = ops.get(key, 0) + 1
    counts = fake.count()
    print(f"{label}: {sum(counts.values())} requests, {fake.writes()} writes, {elapsed:.1f} s")
    print("  " + ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items())))
    print("  " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())))


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
        (folder / "people.toml").write_text(
            "".join(f'[[people]]\nname = "{p}"\ngithub = "{p}"\n\n' for p in PEOPLE)
        )
        config = folder / "config.toml"
        config.write_text(
            f'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            f'write_interval_seconds = 0\nmax_writes_per_minute = 0\n[routing]\ndefault = "gh"\n'
        )
        print(f"{args.items} action items in {len(documents)} post-mortems")
        run(config, fake, "first sync")
        run(config, fake, "second sync, nothing changed")
        text = documents[0].read_text()
        for n in range(10):
            text = text.replace(f"2026-05-{n % 28 + 1:02d} |", f"2026-06-{n % 28 + 1:02d} |", 1)
        documents[0].write_text(text)
        run(config, fake, "sync after 10 items changed")


if __name__ == "__main__":
    main()
