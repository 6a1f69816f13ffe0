"""Scoring extraction against the corpus answer key (tests/corpus/answer-key.json).

Items are matched one to one per document by title, fuzzily as the key asks (token-set ratio
of at least 0.8, or one title a prefix of the other); owner, ticket, status and due are then
compared on the matched pairs. `python -m tests.corpus_score` prints the table per document,
`-v` adds each miss, extra and wrong field, and `--by-org` prints the scores of each
organisation's documents alone: nothing in the extractor is fitted to a document, so each
organisation's row is what a new user with documents of that shape would see.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from difflib import SequenceMatcher
from pathlib import Path
from statistics import fmean
from typing import Any

from connectors.extract import extract_file
from syncer.model import ActionItem, Postmortem, normalise_status

CORPUS = Path(__file__).parent / "corpus"
MATCH_AT = 0.8


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def token_set_ratio(a: str, b: str) -> float:
    """fuzzywuzzy's token-set ratio: shared words against each side's words, best of three."""
    left, right = set(_words(a)), set(_words(b))
    if not left or not right:
        return 0.0
    both = " ".join(sorted(left & right))
    only_left = (both + " " + " ".join(sorted(left - right))).strip()
    only_right = (both + " " + " ".join(sorted(right - left))).strip()
    return max(_ratio(both, only_left), _ratio(both, only_right), _ratio(only_left, only_right))


def title_score(expected: str, found: str) -> float:
    a, b = " ".join(_words(expected)), " ".join(_words(found))
    if a and b and min(len(a), len(b)) >= 12 and (a.startswith(b) or b.startswith(a)):
        return 1.0
    return token_set_ratio(expected, found)


def _owner(value: str | None) -> str | None:
    return " ".join(_words(value)) or None if value else None


def _tickets(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [value] if value else []
    return {re.sub(r"[\s\\]", "", str(v)).rstrip("/").casefold() for v in values}


def _status(value: str | None) -> str | None:
    return normalise_status(value)


def _due(value: str | None) -> str | None:
    return " ".join(_words(value)) or None if value else None


def _item_due(item: ActionItem) -> set[str | None]:
    """What counts as the item's due: its date, or the due text as written."""
    return {_due(item.due.isoformat()) if item.due else None, _due(item.due_text)}


def organisations() -> dict[str, str]:
    """Each corpus document's organisation: the owner of the repository it comes from."""
    found: dict[str, str] = {}
    for line in (CORPUS / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"\| `(?P<file>[^`]+)` \| (?P<owner>[\w.-]+)/", line):
            found[match["file"]] = match["owner"].casefold()
    return found


@dataclass
class DocScore:
    name: str
    expected: int
    found: int
    matched: int
    owner_ok: int = 0
    ticket_ok: int = 0
    status_ok: int = 0
    due_ok: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def score_document(name: str, key: dict[str, Any]) -> DocScore:
    return score_postmortem(name, extract_file(CORPUS / "docs" / name, name), key)


def score_postmortem(name: str, pm: Postmortem, key: dict[str, Any]) -> DocScore:
    """How `pm`, read from the corpus document `name` in any form, scores against its key."""
    found = [item for item in pm.items if not item.placeholder]
    expected: list[dict[str, Any]] = key["items"]
    pairs = sorted(
        (
            (title_score(want["title"], item.title), w, f)
            for w, want in enumerate(expected)
            for f, item in enumerate(found)
        ),
        reverse=True,
    )
    taken_w: set[int] = set()
    taken_f: set[int] = set()
    matches: list[tuple[dict[str, Any], ActionItem]] = []
    for score, w, f in pairs:
        if score < MATCH_AT:
            break
        if w in taken_w or f in taken_f:
            continue
        taken_w.add(w)
        taken_f.add(f)
        matches.append((expected[w], found[f]))
    result = DocScore(name, len(expected), len(found), len(matches))
    result.misses = [want["title"] for w, want in enumerate(expected) if w not in taken_w]
    result.extras = [item.title for f, item in enumerate(found) if f not in taken_f]
    for want, item in matches:
        checks = (
            ("owner", _owner(want["owner"]) == _owner(item.owner), want["owner"], item.owner),
            (
                "ticket",
                _tickets(want["ticket"]) == _tickets(list(item.tickets)),
                want["ticket"],
                list(item.tickets),
            ),
            (
                "status",
                _status(want["status"]) == _status(item.status),
                want["status"],
                item.status,
            ),
            (
                "due",
                _due(want.get("due")) in _item_due(item),
                want.get("due"),
                item.due_text or item.due,
            ),
        )
        for name_, ok, wanted, got in checks:
            if ok:
                setattr(result, f"{name_}_ok", getattr(result, f"{name_}_ok") + 1)
            else:
                result.wrong.append(f"{name_}: {item.title[:50]!r}: want {wanted!r}, got {got!r}")
    return result


def score_corpus() -> list[DocScore]:
    key = json.loads((CORPUS / "answer-key.json").read_text())
    return [score_document(name, doc) for name, doc in sorted(key["documents"].items())]


@dataclass
class Totals:
    precision: float
    recall: float
    owner: float
    ticket: float
    status: float
    due: float


def totals(scores: list[DocScore]) -> Totals:
    expected = sum(s.expected for s in scores)
    found = sum(s.found for s in scores)
    matched = sum(s.matched for s in scores)
    return Totals(
        precision=matched / found if found else 1.0,
        recall=matched / expected if expected else 1.0,
        owner=sum(s.owner_ok for s in scores) / matched if matched else 1.0,
        ticket=sum(s.ticket_ok for s in scores) / matched if matched else 1.0,
        status=sum(s.status_ok for s in scores) / matched if matched else 1.0,
        due=sum(s.due_ok for s in scores) / matched if matched else 1.0,
    )


def _figures(t: Totals) -> str:
    return (
        f"precision {t.precision:.3f}  recall {t.recall:.3f}  owner {t.owner:.3f}  "
        f"ticket {t.ticket:.3f}  status {t.status:.3f}  due {t.due:.3f}"
    )


def by_organisation(scores: list[DocScore]) -> dict[str, Totals]:
    orgs = organisations()
    groups: dict[str, list[DocScore]] = {}
    for s in scores:
        groups.setdefault(orgs.get(s.name, "unknown"), []).append(s)
    return {org: totals(group) for org, group in sorted(groups.items())}


def pooled(scores: list[DocScore]) -> Totals:
    """The figures averaged over organisations, each weighing the same however many documents
    and items it has: what a new organisation can expect, not what the largest one gets."""
    groups = list(by_organisation(scores).values())
    return Totals(*(fmean(getattr(t, f.name) for t in groups) for f in fields(Totals)))


def org_table(scores: list[DocScore]) -> str:
    """Leave-one-organisation-out: each organisation's documents scored on their own."""
    orgs = organisations()
    lines = [f"{'organisation':24} {'docs':>4} {'items':>5}  scores on its documents alone"]
    for org, t in by_organisation(scores).items():
        mine = [s for s in scores if orgs.get(s.name, "unknown") == org]
        items = sum(s.expected for s in mine)
        lines.append(f"{org[:24]:24} {len(mine):4} {items:5}  {_figures(t)}")
    lines.append(f"{'all, per item':24} {len(scores):4} {sum(s.expected for s in scores):5}  ")
    lines[-1] += _figures(totals(scores))
    lines.append(
        f"{'all, per organisation':24} {len(scores):4} {sum(s.expected for s in scores):5}  "
    )
    lines[-1] += _figures(pooled(scores))
    return "\n".join(lines)


def table(scores: list[DocScore], verbose: bool = False) -> str:
    lines = [
        f"{'document':48} {'want':>4} {'got':>4} {'match':>5} {'owner':>5} {'tick':>5} "
        f"{'stat':>5} {'due':>5}"
    ]
    for s in scores:
        lines.append(
            f"{s.name[:48]:48} {s.expected:4} {s.found:4} {s.matched:5} {s.owner_ok:5} "
            f"{s.ticket_ok:5} {s.status_ok:5} {s.due_ok:5}"
        )
        if verbose:
            lines += [f"    miss:  {t[:90]!r}" for t in s.misses]
            lines += [f"    extra: {t[:90]!r}" for t in s.extras]
            lines += [f"    wrong {w[:120]}" for w in s.wrong]
    lines.append(_figures(totals(scores)))
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    scores = score_corpus()
    print(table(scores, verbose="-v" in sys.argv))
    if "--by-org" in sys.argv:
        print()
        print(org_table(scores))
