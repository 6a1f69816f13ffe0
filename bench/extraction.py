"""Extraction speed against a bare markdown-it-py parse of the same text, in the same run.

    python bench/extraction.py [--documents 1000] [--rounds 5]

The corpus (tests/corpus/docs) is repeated to about --documents documents. Each round times a
bare parse with the same markdown-it configuration (blocks and every inline run), then full
extraction (front matter, parse, section scan, fields, dates, identity; extraction parses the
inline runs of the paragraphs it reads, not of every paragraph); both drop each result once
made. The best round of
each is reported, and the ratio is the median of the rounds' own ratios, which holds on a
shared machine whose speed drifts. Hostile inputs are timed once each at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.extract import extract, format_of  # noqa: E402
from connectors.extract.markdown import MARKDOWN  # noqa: E402
from syncer.errors import DocumentError  # noqa: E402
from syncer.model import Document, DocumentRef  # noqa: E402


def corpus(count: int) -> list[Document]:
    files = sorted((ROOT / "tests" / "corpus" / "docs").iterdir())
    texts = [(path.name, path.read_text(encoding="utf-8")) for path in files]
    documents = []
    for n in range(count):
        name, text = texts[n % len(texts)]
        ref = DocumentRef("bench", f"{n}/{name}", f"{n}/{name}")
        documents.append(Document(ref, name, text, format_of(name)))
    return documents


def _parse_each(documents: list[Document]) -> None:
    for document in documents:
        MARKDOWN.parse(document.text)


def _extract_each(documents: list[Document]) -> None:
    for document in documents:
        extract(document)


def best_of(rounds: int, work: object) -> float:
    assert callable(work)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def hostile() -> list[tuple[str, str]]:
    cases = {
        "50 MB of text": "a" * 50_000_000,
        "binary data": "\x89PNG\x00\x00" * 10_000,
        "100k brackets": "## Action items\n\n- x\n\n" + "[" * 100_000,
        "10k nested lists": "## Action items\n\n" + "- " * 10_000 + "x",
        "10k nested quotes": "> " * 10_000 + "x",
        "20k table rows": "## Action items\n\n| Action |\n|---|\n" + "| x |\n" * 20_000,
    }
    results = []
    for name, text in cases.items():
        document = Document(DocumentRef("bench", name, name), name, text)
        start = time.perf_counter()
        try:
            extract(document)
            outcome = "read"
        except DocumentError as exc:
            outcome = f"refused: {str(exc).split(': ', 1)[1]}"
        results.append((name, f"{(time.perf_counter() - start) * 1000:8.0f} ms  {outcome}"))
    html = "<h2>Action items</h2>" + "<div>" * 10_000 + "x" + "</div>" * 10_000
    laughs = (
        '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><p>&b;</p>'
    )
    for name, text in (
        ("10k nested divs (HTML)", html),
        ("billion laughs (HTML/XML)", laughs * 1000),
    ):
        document = Document(DocumentRef("bench", name, name), name, text, "html")
        start = time.perf_counter()
        extract(document)
        results.append((name, f"{(time.perf_counter() - start) * 1000:8.0f} ms  read"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    documents = corpus(args.documents)
    markdown = [d for d in documents if d.format == "markdown"]
    size = sum(len(d.text) for d in documents)
    items = sum(len(extract(d).items) for d in documents)

    # Rounds alternate the two sides, so that a slower spell of a shared machine weighs on both;
    # the ratio quoted is the median of the rounds' ratios.
    # Both sides drop each result as soon as it is made: keeping them all would slow whichever
    # side makes more objects through the garbage collector, not through its own work.
    rounds = [
        (
            best_of(1, lambda: _parse_each(markdown)),
            best_of(1, lambda: _extract_each(markdown)),
        )
        for _ in range(args.rounds)
    ]
    bare = min(b for b, _ in rounds)
    full = min(f for _, f in rounds)
    ratios = sorted(f / b for b, f in rounds)
    print(f"documents: {len(markdown)} Markdown, {size / 1e6:.1f} MB, {items} items found")
    print(f"bare markdown-it parse: {bare:6.2f} s  {len(markdown) / bare:7.0f} documents/s")
    print(f"pmsync extraction:      {full:6.2f} s  {len(markdown) / full:7.0f} documents/s")
    print(
        f"ratio extraction / bare parse: {statistics.median(ratios):.2f} (budget 1.50; "
        f"rounds {ratios[0]:.2f}-{ratios[-1]:.2f})"
    )
    per_doc = [best_of(3, lambda d=d: extract(d)) * 1000 for d in markdown[:20]]
    print(f"per document: median {statistics.median(per_doc):.1f} ms, max {max(per_doc):.1f} ms")
    print("hostile inputs:")
    for name, line in hostile():
        print(f"  {name:28} {line}")


if __name__ == "__main__":
    main()
