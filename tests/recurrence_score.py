"""Scoring repeat detection (syncer/recurrence.py) on pairs written from the shared corpus.

`tests/recurrence/pairs.toml` holds pairs of action items and a person's answer: the same
action on the same object, or not. The pairs come in couples sharing their first item (a
rewording, then a look-alike); couples alternate between the tuning half and the held-out
half, so that no item tunes the threshold it is scored on.

    python -m tests.recurrence_score             # precision and recall, both halves
    python -m tests.recurrence_score --sweep     # the held-out figures at other thresholds
    python -m tests.recurrence_score --corpus    # every repeat claimed in the corpus itself
    python -m tests.recurrence_score --write-background

The last writes the term counts the weights start from, out of the answer key's items.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from syncer import recurrence
from syncer.settings import RecurrenceSettings

HERE = Path(__file__).parent
PAIRS = HERE / "recurrence" / "pairs.toml"
KEY = HERE / "corpus" / "answer-key.json"


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    same: bool
    held_out: bool


def pairs() -> list[Pair]:
    found = []
    couple = -1
    last = None
    for entry in tomllib.loads(PAIRS.read_text(encoding="utf-8"))["pair"]:
        if entry["a"] != last:
            couple += 1
            last = entry["a"]
        found.append(Pair(entry["a"], entry["b"], bool(entry["same"]), couple % 2 == 1))
    return found


def score(pair: Pair) -> float:
    a, b = recurrence.terms(pair.a), recurrence.terms(pair.b)
    return recurrence.similarity(a, b, recurrence.Rarity.of([a, b]))


@dataclass(frozen=True, slots=True)
class Figures:
    precision: float
    recall: float
    pairs: int
    positives: int

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.2f}  recall {self.recall:.2f}  "
            f"({self.pairs} pairs, {self.positives} repeats)"
        )


def figures(scored: list[tuple[Pair, float]], threshold: float) -> Figures:
    claimed = [p for p, s in scored if s >= threshold]
    right = sum(1 for p in claimed if p.same)
    positives = sum(1 for p, _ in scored if p.same)
    return Figures(
        right / len(claimed) if claimed else 1.0,
        right / positives if positives else 1.0,
        len(scored),
        positives,
    )


def corpus_claims(threshold: float) -> list[recurrence.Repeat]:
    """The repeats claimed among the corpus's own post-mortems, as pmsync reads them."""
    from connectors.extract import extract_file

    docs = sorted((HERE / "corpus" / "docs").iterdir())
    postmortems = [extract_file(path) for path in docs if path.is_file()]
    return recurrence.repeats(postmortems, threshold, timedelta(days=100 * 365))


def write_background() -> None:
    key = json.loads(KEY.read_text(encoding="utf-8"))
    titles = [item["title"] for doc in key["documents"].values() for item in doc["items"]]
    counts: Counter[str] = Counter()
    for title in titles:
        counts.update(recurrence.terms(title))
    table = {"items": len(titles), "terms": dict(sorted(counts.items()))}
    target = Path(recurrence.__file__).parent / recurrence.BACKGROUND
    target.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{target}: {len(titles)} items, {len(counts)} terms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--corpus", action="store_true")
    parser.add_argument("--write-background", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every wrong pair")
    args = parser.parse_args()
    if args.write_background:
        write_background()
        return
    threshold = RecurrenceSettings().threshold
    scored = [(pair, score(pair)) for pair in pairs()]
    tuning = [(p, s) for p, s in scored if not p.held_out]
    held = [(p, s) for p, s in scored if p.held_out]
    print(f"threshold {threshold}")
    print(f"  tuning    {figures(tuning, threshold)}")
    print(f"  held out  {figures(held, threshold)}")
    if args.sweep:
        for step in range(20, 80, 5):
            t = step / 100
            print(f"  at {t:.2f}: tuning {figures(tuning, t)} | held out {figures(held, t)}")
    if args.verbose:
        for pair, s in scored:
            if (s >= threshold) != pair.same:
                half = "held" if pair.held_out else "tune"
                print(f"  {half} {s:.2f} same={pair.same}: {pair.a!r} ~ {pair.b!r}")
    if args.corpus:
        claims = corpus_claims(threshold)
        print(f"repeats claimed in the corpus: {len(claims)}")
        for r in claims:
            print(f"  {r.score:.2f} {r.postmortem.id}: {r.item.title[:70]!r}")
            print(f"       ~ {r.earlier.id}: {r.earlier_item.title[:70]!r}")


if __name__ == "__main__":
    main()
