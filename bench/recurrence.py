"""What finding items promised again costs a sync: 10,000 items in 1,000 post-mortems.

    python bench/recurrence.py [--items 10000] [--documents 1000] [--rounds 5]

Two projects hold the same post-mortems, one a day for three years, their items made of
words drawn by Zipf's law from a vocabulary of 5,000 (a few words in every other item, most
in a handful), with one item in fifty a rewording of an earlier one. One project has
`[recurrence] enabled = false`: the baseline. Each is synced once on the local tracker; then
both are synced unchanged in turn, `rounds` times, and the best CPU time of each is printed,
with their ratio (budget 1.2x). Then one item of the newest post-mortem changes before each
round, so that every link is found again, and the same is printed. Each timed sync starts
with empty in-process caches, as a new process would.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syncer import logs, recurrence  # noqa: E402
from syncer.pipeline import sync  # noqa: E402
from syncer.settings import Settings, load_settings  # noqa: E402

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
VERBS = ("Add", "Document", "Automate", "Alert on", "Test", "Limit", "Monitor", "Fix", "Remove")
SYLLABLES = ("ka", "lo", "mi", "ra", "te", "vu", "no", "si", "pe", "dar", "gul", "zen", "bri")


def vocabulary(size: int) -> list[str]:
    """Made-up technical nouns; `write_documents` draws them by Zipf's law, as words are."""
    words = (
        a + b + c + d for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES for d in "aeiou"
    )
    return list(itertools.islice(words, size))


def write_documents(folder: Path, items: int, documents: int, seed: int = 11) -> int:
    """The post-mortems, one a day; returns how many items are rewordings of earlier ones.
    Each item names five nouns of a vocabulary of 5,000, the commonest five thousand times as
    often as the rarest, as in real post-mortems, where "alert" and "database" are
    everywhere and the name of a queue is in one."""
    rng = random.Random(seed)
    nouns = vocabulary(5000)
    weights = [1 / rank for rank in range(1, len(nouns) + 1)]
    per = items // documents
    written: list[str] = []
    repeated = 0
    for doc in range(documents):
        day = date(2024, 1, 1) + timedelta(days=doc)
        rows = []
        for n in range(per):
            if written and rng.random() < 0.02:
                words = rng.choice(written[-3000:]).split()
                rng.shuffle(words)  # the same words, another order: a rewording
                title = " ".join(words)
                repeated += 1
            else:
                a, b, c, d, e = rng.choices(nouns, weights, k=5)
                title = f"{rng.choice(VERBS)} the {a} {b} of {c} for {d} {e}"
            written.append(title)
            rows.append(f"| {title} | Dana | 2026-05-{n % 28 + 1:02d} |")
        (folder / f"pm-{doc:04d}.md").write_text(
            f"---\nid: PM-{doc}\ndate: {day.isoformat()}\nservices: [{rng.choice(nouns)}]\n"
            f"---\n# Incident {doc}\n\n## Action items\n\n| Action | Owner | Due |\n"
            "|---|---|---|\n" + "\n".join(rows) + "\n"
        )
    return repeated


def project(folder: Path, docs: Path, enabled: bool) -> Settings:
    folder.mkdir()
    (folder / "people.toml").write_text('[[people]]\nname = "Dana"\n')
    config = folder / "config.toml"
    config.write_text(
        f'people_file = "people.toml"\nstate_dir = "state"\n[sources.docs]\n'
        f'kind = "markdown-dir"\npath = "{docs}"\n'
        f"[recurrence]\nenabled = {str(enabled).lower()}\nwindow_days = 3650\n"
    )
    return load_settings(config)


def timed(settings: Settings, changed: bool = False) -> float:
    recurrence.terms.cache_clear()
    recurrence._stem.cache_clear()
    start = time.process_time()
    run = sync(settings, dry_run=False, now=NOW)
    elapsed = time.process_time() - start
    updates = sum(1 for o in run.outcomes if o.action.op not in ("unchanged", "skip"))
    assert (updates > 0) == changed, f"{updates} issues written"
    return elapsed


def edit(docs: Path, round_: int) -> None:
    """Change one item of the newest post-mortem: the links must be found again."""
    newest = max(docs.iterdir())
    lines = newest.read_text().splitlines()
    row = next(n for n, line in enumerate(lines) if line.startswith("| ") and "Dana" in line)
    lines[row] = f"| Rotate the keys of the vault, round {round_} | Dana | 2026-05-01 |"
    newest.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logs.configure("error", json=True)
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        repeated = write_documents(docs, args.items, args.documents)
        baseline = project(Path(tmp) / "off", docs, enabled=False)
        learning = project(Path(tmp) / "on", docs, enabled=True)
        first = {}
        for name, settings in (("without", baseline), ("with", learning)):
            start = time.perf_counter()
            run = sync(settings, dry_run=False, now=NOW)
            first[name] = time.perf_counter() - start
            linked = sum(1 for o in run.outcomes if o.action.remark is not None)
            print(f"first sync {name} recurrence: {first[name]:.1f} s, {linked} items linked")
        print(f"({repeated} of {args.items} items were written as rewordings of earlier ones)")
        times: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(args.rounds):
            times["without"].append(timed(baseline))
            times["with"].append(timed(learning))
        off, on = min(times["without"]), min(times["with"])
        print(
            f"unchanged sync of {args.items} items in {args.documents} post-mortems: "
            f"{off:.2f} s CPU without recurrence, {on:.2f} s with: {on / off:.2f}x (budget 1.2x)"
        )
        changed: dict[str, list[float]] = {"without": [], "with": []}
        for n in range(args.rounds):
            edit(docs, n)
            changed["without"].append(timed(baseline, changed=True))
            changed["with"].append(timed(learning, changed=True))
        off, on = min(changed["without"]), min(changed["with"])
        print(
            f"sync after one item changed (every link found again): {off:.2f} s CPU without "
            f"recurrence, {on:.2f} s with: {on / off:.2f}x"
        )


if __name__ == "__main__":
    main()
