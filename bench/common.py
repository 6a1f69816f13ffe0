"""What the tracker benchmarks share: post-mortems with many items, and the report of a run."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from syncer.pipeline import sync
from syncer.settings import load_settings

OWNERS = ("Dana", "Sam", "Priya")


def write_documents(folder: Path, items: int, per_document: int = 50) -> list[Path]:
    """`items` action items in tables of `per_document`, owned in turn by OWNERS."""
    paths = []
    for doc in range(-(-items // per_document)):
        rows = [
            f"| Add alert {doc}-{n} on queue depth above {n + 10} | {OWNERS[n % 3]} "
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


def change_ten(document: Path) -> None:
    """Move the due dates of the first ten items of a document by a month."""
    text = document.read_text()
    for n in range(10):
        text = text.replace(f"2026-05-{n % 28 + 1:02d} |", f"2026-06-{n % 28 + 1:02d} |", 1)
    document.write_text(text)


def report(
    config: Path,
    label: str,
    counts: Callable[[], Counter[str]],
    writes: Callable[[], int],
    reset: Callable[[], None],
    probe: str = "",
) -> None:
    """Sync once and print the requests it made, by kind; `probe` is the kind of request
    read-your-writes makes (reads by number past the newest listed issue)."""
    reset()
    start = time.perf_counter()
    result = sync(load_settings(config), dry_run=False)
    elapsed = time.perf_counter() - start
    ops: Counter[str] = Counter(o.action.op if o.ok else "failed" for o in result.outcomes)
    seen = counts()
    print(f"{label}: {sum(seen.values())} requests, {writes()} writes, {elapsed:.1f} s")
    print("  " + ", ".join(f"{kind}: {n}" for kind, n in sorted(seen.items())))
    print("  " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())))
    if probe:
        print(f"  read-your-writes: {seen[probe]} request(s) ({probe}); budget in steady state: 1")


# The owners with the GitHub logins the GitHub fake knows as collaborators.
GITHUB_PEOPLE = [
    (name, f'github = "{login}"')
    for name, login in {"Dana": "dana", "Sam": "sam-rivera", "Priya": "priyan"}.items()
]


def github_tracker(url: str) -> str:
    """The GitHub fake at `url` as the tracker everything goes to, writes neither spaced nor
    capped (the figures are request counts, not timings)."""
    return (
        f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{url}"\n'
        'write_interval_seconds = 0\nmax_writes_per_minute = 0\n[routing]\ndefault = "gh"\n'
    )


def project(
    folder: Path, items: int, handles: Sequence[tuple[str, str]], tracker: str
) -> tuple[Path, list[Path]]:
    """In `folder`: post-mortems with `items` items in docs/, the people with their tracker
    handles, and a config reading docs/ into `tracker` (TOML). Returns the config and the
    documents."""
    (folder / "docs").mkdir()
    documents = write_documents(folder / "docs", items)
    people_file(folder / "people.toml", handles)
    config = folder / "config.toml"
    config.write_text(
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n'
        + tracker
    )
    return config, documents


def three_syncs(
    config: Path,
    documents: Sequence[Path],
    counts: Callable[[], Counter[str]],
    writes: Callable[[], int],
    reset: Callable[[], None],
    probe: str = "",
) -> None:
    """The figures of every tracker benchmark: a first sync, a second with nothing changed,
    and one after 10 items changed."""
    for label in ("first sync", "second sync, nothing changed"):
        report(config, label, counts, writes, reset, probe)
    change_ten(documents[0])
    report(config, "sync after 10 items changed", counts, writes, reset, probe)


def people_file(path: Path, handles: Sequence[tuple[str, str]]) -> None:
    """[[people]] entries: (name, tracker field = handle) for each owner."""
    path.write_text("".join(f'[[people]]\nname = "{name}"\n{field}\n\n' for name, field in handles))
