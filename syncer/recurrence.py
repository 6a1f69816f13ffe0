"""Learning across post-mortems: an action item promised again, and an incident that recurs
while the items of the one before are still open.

**Repeats.** Two items are the same when they promise the same action on the same object,
whatever their words. Each item is reduced to its terms: words folded to their stem (the
Snowball English stemmer), without the words every sentence has ("the", "should", "make
sure") and without verbs: two items are compared on what they act on. Common abbreviations
are spelled out ("db", "k8s"). Two items' similarity is the cosine of their term sets, each
term weighted by its rarity (inverse document frequency) over every item read together with a
background of post-mortem vocabulary: sharing "alert" says little, sharing "replication" and
"lag" says much. An item repeats the most similar item of an earlier post-mortem at or above
`[recurrence] threshold`, within `[recurrence] window_days`.

Comparing every pair would cost the square of the items; an inverted index over terms looks
only at items that share one of a query's heavy terms (see `repeats`).

**Recurring incidents.** A post-mortem recurs an earlier one when both name the same service,
component, alert or tag in their front matter (`services`, `components`, `alerts`, `tags`).

Everything here is pure: the callers bring the post-mortems, and the issues from a tracker.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any, Protocol

from syncer.model import ActionItem, Postmortem

# In how many of the action items of the shared corpus each term appears: the weights of a
# run that reads few items (`tests/recurrence_score.py --write-background` makes it).
BACKGROUND = "data/recurrence-background.json"
# Tuned on tests/recurrence/pairs.toml (python -m tests.recurrence_score): the defaults of
# `[recurrence] threshold` and `window_days`.
THRESHOLD = 0.6
WINDOW_DAYS = 365


class _Stemmer(Protocol):
    def stemWords(self, words: Sequence[str]) -> list[str]: ...  # its API's name


@functools.cache
def _stemmer() -> _Stemmer:
    import snowballstemmer  # type: ignore[import-untyped]

    stemmer: _Stemmer = snowballstemmer.stemmer("english")
    return stemmer


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("syncer").joinpath("data/recurrence.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@functools.cache
def _words() -> tuple[frozenset[str], dict[str, str], frozenset[str], frozenset[str]]:
    """The stop words; the spellings folded into one (both as written and as stems); the
    stems of verbs; and those of words about the incident itself."""
    from rules.words import word_list

    data = _data()
    stem = _stemmer().stemWords
    stop = frozenset(str(w) for w in data["stop_words"])
    same = {str(k): str(v) for k, v in data["spelled_out"].items()}
    same |= {s: v for k, v in same.items() if (s := stem([k])[0]) not in same and " " not in v}
    raw = {*word_list("action_verbs"), *word_list("concrete_verbs"), *data["verbs"]}
    verbs = frozenset(stem([same.get(str(w), str(w)) for w in raw]))
    own = {part for w in data["own_incident"] for part in _WORD_RE.findall(str(w))}
    return stop, same, verbs, frozenset(stem(sorted(own)))


@functools.cache
def _background() -> tuple[int, dict[str, int]]:
    """How many items the background holds, and in how many of them each term appears."""
    path = resources.files("syncer").joinpath(BACKGROUND)
    table = json.loads(path.read_text(encoding="utf-8"))
    counts = table["terms"]
    return int(table["items"]), {str(k): int(v) for k, v in counts.items()}


_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_URL_RE = re.compile(r"https?://\S+")


@functools.cache
def terms(text: str) -> frozenset[str]:
    """What an item's text does it to: the stems of its words, with spellings folded into one,
    less stop words and verbs."""
    stop, same, verbs, _ = _words()
    words = []
    text = _URL_RE.sub(" ", text.casefold().replace("’", "'"))
    for word in _WORD_RE.findall(text):
        word = word.split("'")[0]
        for part in same.get(word, word).split():
            if part not in stop and not (len(part) == 1 and part.isalpha()):
                words.append(part)
    stems = (same.get(s, s) for s in map(_stem, words))
    return frozenset(s for s in stems if s not in verbs)


@functools.cache
def _stem(word: str) -> str:
    """A word's stem; each word is stemmed once a run (items share most of their words)."""
    return _stemmer().stemWords([word])[0]


def own_incident(found: frozenset[str]) -> bool:
    """Whether an item's terms are all about the incident itself (its report, its review)."""
    return found <= _words()[3]


def text_of(item: ActionItem) -> str:
    """What an item promises: its title, or its description's first line if the title is only
    a reference (`#2127`)."""
    if re.search(r"[A-Za-z]{3}", re.sub(r"https?://\S+|#\d+", "", item.title)):
        return item.title
    return (item.description.splitlines() or [item.title])[0]


@dataclass(slots=True)
class Rarity:
    """Term weights: the rarer a term among the items known, the more it weighs."""

    items: int
    counts: Counter[str]

    @classmethod
    def of(cls, texts: Iterable[frozenset[str]]) -> Rarity:
        total, background = _background()
        counts: Counter[str] = Counter(background)
        for found in texts:
            counts.update(found)
            total += 1
        return cls(total, counts)

    def weight(self, term: str) -> float:
        return math.log((self.items + 1) / (self.counts.get(term, 0) + 1)) + 1.0


def similarity(a: frozenset[str], b: frozenset[str], rarity: Rarity) -> float:
    """The cosine of two term sets, each term weighted by its rarity: 1.0 the same terms,
    0.0 none in common. Two terms at least must be shared, unless a side has only one: a
    single common word ("CPU") is not the same object."""
    common = a & b
    if not _enough(common, a, b):
        return 0.0
    shared = sum(rarity.weight(t) ** 2 for t in common)
    norm_a = sum(rarity.weight(t) ** 2 for t in a)
    norm_b = sum(rarity.weight(t) ** 2 for t in b)
    return shared / math.sqrt(norm_a * norm_b)


def _enough(common: frozenset[str], a: frozenset[str], b: frozenset[str]) -> bool:
    """Two terms at least in common, or the one term of a side that has only one."""
    return bool(common) and len(common) >= min(2, len(a), len(b))


@dataclass(frozen=True, slots=True)
class Repeat:
    """Item `item` of post-mortem `postmortem` promises again what `earlier_item` of the
    earlier post-mortem `earlier` promised; `score` is their similarity."""

    postmortem: Postmortem
    item: ActionItem
    earlier: Postmortem
    earlier_item: ActionItem
    score: float


def day_of(postmortem: Postmortem) -> date | None:
    """The day of a post-mortem: its incident's, else when its document was written."""
    if postmortem.incident_date is not None:
        return postmortem.incident_date
    made = postmortem.ref.created_at or postmortem.ref.updated_at
    return made.date() if made else None


# Bumped when the terms, the weights or the scoring change: results kept under an older one
# are computed again.
VERSION = 1


def fingerprint(postmortems: Sequence[Postmortem], threshold: float, window: timedelta) -> str:
    """What `repeats` depends on, hashed: each post-mortem's id, day and items' keys and
    texts, and the settings. The same fingerprint, the same repeats."""
    digest = hashlib.sha256(f"{VERSION} {threshold!r} {window.days}".encode())
    for postmortem in sorted(postmortems, key=lambda pm: pm.id):
        day = day_of(postmortem)
        digest.update(f"\0{postmortem.id}\0{day}\0{postmortem.template}".encode())
        for item in postmortem.items:
            digest.update(f"\1{item.key}\1{text_of(item)}\1{item.placeholder}".encode())
    return digest.hexdigest()


def repeats(
    postmortems: Sequence[Postmortem],
    threshold: float,
    window: timedelta,
    among: Sequence[Postmortem] | None = None,
) -> list[Repeat]:
    """For each item of `postmortems` that repeats an item of an earlier post-mortem (of
    `among`, by default the same ones), its closest earlier item. Placeholders and template
    items are left out; so are post-mortems with no known date, which have no "earlier".

    Candidates come from an inverted index, through the query's heaviest terms only: an item
    whose shared terms weigh less than threshold² of the query's own cannot reach the
    threshold (the cosine is at most the root of their share), so the light terms that
    thousands of items have need not be looked up; and a candidate whose heavy terms in
    common, with every light term added, still fall short is dropped before its terms are
    compared. The result is that of comparing every pair."""
    among = postmortems if among is None else among
    entries: list[tuple[Postmortem, ActionItem, frozenset[str], date | None]] = []
    seen: set[int] = set()
    for postmortem in (*among, *postmortems):
        if id(postmortem) in seen or postmortem.template:
            continue
        seen.add(id(postmortem))
        day = day_of(postmortem)
        for item in postmortem.items:
            if not item.placeholder:
                found = terms(text_of(item))
                found = frozenset() if own_incident(found) else found
                entries.append((postmortem, item, found, day))
    rarity = Rarity.of(found for _, _, found, _ in entries)
    weight = {t: rarity.weight(t) ** 2 for _, _, found, _ in entries for t in found}
    norms = [sum(weight[t] for t in found) for _, _, found, _ in entries]
    earlier_ids = {id(pm) for pm in among}
    index: dict[str, list[int]] = defaultdict(list)
    for n, (postmortem, _, found, day) in enumerate(entries):
        if id(postmortem) in earlier_ids and day is not None:
            for term in found:
                index[term].append(n)
    wanted = {id(pm) for pm in postmortems}
    found_repeats = []
    for n, (postmortem, item, mine, day) in enumerate(entries):
        if id(postmortem) not in wanted or day is None or not mine:
            continue
        light = 0.0
        heavy = []
        for term in sorted(mine, key=lambda t: (weight[t], t)):
            if light + weight[term] < threshold**2 * norms[n]:
                light += weight[term]
            else:
                heavy.append(term)
        shared_heavy: dict[int, float] = defaultdict(float)
        for term in heavy:
            for other in index.get(term, ()):
                shared_heavy[other] += weight[term]
        reach = threshold * math.sqrt(norms[n])
        best: tuple[float, int] | None = None
        for other, mass in shared_heavy.items():
            # The light terms can add at most `light`: a candidate that cannot reach the
            # threshold even so is not looked at more closely.
            if mass + light < reach * math.sqrt(norms[other]):
                continue
            _, _, theirs, then = entries[other]
            if then is None or not then < day or day - then > window:
                continue
            common = mine & theirs
            if not _enough(common, mine, theirs):
                continue
            score = sum(weight[t] for t in common) / math.sqrt(norms[n] * norms[other])
            if score >= threshold and (best is None or (score, -other) > (best[0], -best[1])):
                best = (score, other)
        if best is not None:
            earlier, earlier_item, _, _ = entries[best[1]]
            found_repeats.append(Repeat(postmortem, item, earlier, earlier_item, best[0]))
    return found_repeats


# --- recurring incidents ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Post-mortem `postmortem` names what the earlier `earlier` named (`shared`)."""

    postmortem: Postmortem
    earlier: Postmortem
    shared: tuple[str, ...]


def recurrences(postmortems: Sequence[Postmortem], window: timedelta) -> list[Recurrence]:
    """Each pair of post-mortems where the later names a service, component, alert or tag the
    earlier named, within `window`: one for every earlier post-mortem, with the names shared."""
    by_topic: Mapping[str, list[Postmortem]] = defaultdict(list)
    for postmortem in postmortems:
        for topic in postmortem.topics:
            by_topic[topic].append(postmortem)
    found = []
    for postmortem in postmortems:
        day = day_of(postmortem)
        if day is None:
            continue
        shared: dict[str, set[str]] = defaultdict(set)
        earlier: dict[str, Postmortem] = {}
        for topic in postmortem.topics:
            for other in by_topic[topic]:
                other_day = day_of(other)
                if other_day is None or not other_day < day or day - other_day > window:
                    continue
                shared[other.id].add(topic)
                earlier[other.id] = other
        found += [
            Recurrence(postmortem, earlier[pm_id], tuple(sorted(topics)))
            for pm_id, topics in shared.items()
        ]
    return found
