"""A document's life between runs: moved or renamed, read while it was being written, deleted,
or its items taken out and put back. What one run read is compared with what the trackers hold
and with `History`, a small state file of what the last runs read.

- **Moves.** A document identified by its path that vanished this run is paired with one that
  appeared, when most of their items' titles are equal: the new one takes over the old one's
  id, so its issues (and their keys, which never change) follow it.
- **Keys.** Each item takes the key of the issue it is paired with (by the link written back,
  its key, else a close title in the same post-mortem): an issue keeps the key it was filed
  under, however the item is retitled or its document moved.
- **Torn reads.** A read that may have caught a document being written (no items at all, the
  tail of its items gone, a last line cut short) changes nothing for that document; the same
  content read again by a later run is believed.
- **Deleted documents.** A post-mortem missing from its source closes its issues only after
  `[sync] vanished_grace`; one that comes back within it changes nothing.

All functions but `History.load`/`save` are pure. The state file is a convenience: without it
(a fresh container) nothing is closed that would not be closed with it, only later or never.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from syncer import logs, statefile
from syncer.identity import RETITLE_THRESHOLD, title_similarity
from syncer.model import ActionItem, Finding, IssueSnapshot, Postmortem, normalise_title
from syncer.render import issue_title
from syncer.review import is_review

log = logs.get_logger("pmsync.continuity")

STATE_FILE = "documents.json"
STATE_VERSION = 1


# --- what the last runs read ------------------------------------------------------------------


@dataclass(slots=True)
class Seen:
    """One post-mortem, as the last runs read it."""

    source: str = ""
    ref: str = ""  # the document's id in its source
    items: list[str] = field(default_factory=list)  # item keys of the last whole read, in order
    newline: bool = True  # whether that read ended with a line break
    hash: str = ""  # of that read's text: a file moved unchanged (a Git rename) has the same
    held: str = ""  # hash of a read held as possibly torn, believed when it repeats
    missing_since: str = ""  # when a run first missed the document (ISO time)


@dataclass(slots=True)
class History:
    path: Path | None = None
    documents: dict[str, Seen] = field(default_factory=dict)  # by post-mortem id

    @classmethod
    def load(cls, folder: Path) -> History:
        """The state in `folder`; empty when there is none or it cannot be read."""
        path = folder / STATE_FILE
        data = statefile.load(path, "document_state_unreadable")
        if data is None:
            return cls(path)
        found: dict[str, Seen] = {}
        entries = data.get("documents") if isinstance(data, dict) else None
        if not isinstance(entries, dict) or data.get("version") != STATE_VERSION:
            log.warning("document_state_unreadable", path=str(path), error="unknown layout")
            return cls(path)
        for key, entry in entries.items():
            try:
                found[str(key)] = Seen(**entry)
            except TypeError:
                continue
        return cls(path, found)

    def save(self) -> None:
        if self.path is None:
            return
        documents = {key: asdict(seen) for key, seen in sorted(self.documents.items())}
        data = {"version": STATE_VERSION, "documents": documents}
        statefile.save(self.path, data, "document_state_unwritable")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- moves and keys ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Move:
    old: str  # the post-mortem id the issues were filed under (a path)
    new: str  # the document's id now (its new path)


def find_moves(
    postmortems: Sequence[Postmortem],
    snapshots: Iterable[IssueSnapshot],
    present: set[str],
    same: Mapping[str, str] | None = None,
) -> list[Move]:
    """Documents that vanished (their issues name a post-mortem no source holds now: not in
    `present`, the ids of every document listed) paired with documents that appeared (no issue
    names them): one with the very text the vanished one had when last read (`same`: new id →
    old id; a file renamed or moved unchanged, as Git sees a rename), else one where most
    titles match; the best pairs first, each document once."""
    same = same or {}
    titles: dict[str, list[str]] = {}
    for snap in snapshots:
        if snap.postmortem_id and not is_review(snap.item_key):
            titles.setdefault(snap.postmortem_id, []).append(snap.title)
    gone = sorted(pm_id for pm_id in titles if pm_id not in present)
    new = [pm for pm in postmortems if pm.id not in titles and pm.items]
    scored = sorted(
        (
            (1.0 if same.get(pm.id) == old else _overlap(titles[old], pm.items), old, pm.id)
            for old in gone
            for pm in new
        ),
        key=lambda entry: (-entry[0], entry[1], entry[2]),
    )
    moves: list[Move] = []
    taken: set[str] = set()
    for score, old, pm_id in scored:
        if score <= 0.5:
            break
        if old not in taken and pm_id not in taken:
            moves.append(Move(old, pm_id))
            taken |= {old, pm_id}
    return moves


def _overlap(titles: Sequence[str], items: Sequence[ActionItem]) -> float:
    """The share of the two documents' items that are the same item (equal or close titles)."""
    spare = [item for item in items if not item.placeholder]
    same = 0
    for title in titles:
        match = next((i for i in spare if _same_title(title, i)), None)
        if match is not None:
            spare.remove(match)
            same += 1
    return same / max(len(titles), len([i for i in items if not i.placeholder]), 1)


def _same_title(title: str, item: ActionItem) -> bool:
    wanted = normalise_title(title)
    if wanted in (normalise_title(item.title), normalise_title(issue_title(item))):
        return True
    return max(title_similarity(title, item.title), title_similarity(title, issue_title(item))) >= (
        RETITLE_THRESHOLD
    )


def follow(
    postmortems: Sequence[Postmortem], moves: Sequence[Move], snapshots: Iterable[IssueSnapshot]
) -> tuple[list[Postmortem], dict[str, str]]:
    """The post-mortems as their issues know them: a moved one under the id its issues were
    filed under, each item under the key of the issue it is paired with. Also the keys that
    changed (as read → as filed), for the findings."""
    from syncer.planner import pair  # the planner's pairing, the one way items meet issues

    renamed = {move.new: move.old for move in moves}
    by_pm: dict[str | None, dict[str, IssueSnapshot]] = {}
    for snap in snapshots:
        if not is_review(snap.item_key):
            by_pm.setdefault(snap.postmortem_id, {}).setdefault(snap.item_key, snap)
    followed: list[Postmortem] = []
    rekeyed: dict[str, str] = {}
    for pm in postmortems:
        if pm.id in renamed:
            old = renamed[pm.id]
            pm = replace(pm, id=old, items=tuple(replace(i, postmortem_id=old) for i in pm.items))
        items = [(pm, item) for item in pm.items if not item.placeholder]
        paired = pair(items, by_pm.get(pm.id, {}))
        keys = {key: snap.item_key for key, snap in paired.items() if snap.item_key != key}
        if keys:
            rekeyed |= keys
            pm = replace(pm, items=tuple(replace(i, key=keys.get(i.key, i.key)) for i in pm.items))
        followed.append(pm)
    return followed, rekeyed


def as_filed(
    postmortems: Sequence[Postmortem], snapshots: Sequence[IssueSnapshot], present: set[str]
) -> list[Postmortem]:
    """`follow` with the moves found: the post-mortems as the issues in `snapshots` know them
    (`present`: the ids of every document the sources hold now)."""
    moves = find_moves(postmortems, snapshots, present | {pm.id for pm in postmortems})
    return follow(postmortems, moves, snapshots)[0]


def rekey_findings(findings: Iterable[Finding], rekeyed: Mapping[str, str]) -> list[Finding]:
    return [
        replace(f, item_key=rekeyed.get(f.item_key, f.item_key)) if f.item_key else f
        for f in findings
    ]


# --- torn reads -------------------------------------------------------------------------------


def suspect(
    pm: Postmortem, text: str, seen: Seen | None, settled: bool, changing: Collection[str]
) -> str | None:
    """Why this read of a document that is about to change issues may be torn (caught while
    the file was being written), or None when it can be believed: a read of the same content
    that a run before held, or of a source whose reads are whole (`settled`: a Git blob, a
    page version). `changing` are the keys of its items whose issues would change."""
    if seen is not None and seen.held and seen.held == text_hash(text):
        return None  # the same content again: the change is real
    real = [item.key for item in pm.items if not item.placeholder]
    if not real:
        return "no action items were read from it"
    if settled or seen is None:
        return None
    last = text.count("\n") + 1
    cut = text and not text.endswith("\n") and seen.newline
    if cut and any(i.key in changing and last in (i.line, i.end_line) for i in pm.items):
        return "its last line, an action item, is cut short"
    if len(real) < len(seen.items) and seen.items[: len(real)] == real:
        gone = len(seen.items) - len(real)
        return f"its last {gone} action items are gone, as when a file is read half written"
    return None


def seen_now(
    history: History,
    pm: Postmortem,
    text: str,
    *,
    held: bool,
) -> None:
    """Record this run's read of `pm`: a whole read's items, or the hash of a held one."""
    seen = history.documents.setdefault(pm.id, Seen())
    seen.source, seen.ref, seen.missing_since = pm.ref.source, pm.ref.id, ""
    if held:
        seen.held = text_hash(text)
        return
    seen.items = [item.key for item in pm.items if not item.placeholder]
    seen.newline = not text or text.endswith(("\n", "\r"))
    seen.hash = text_hash(text)
    seen.held = ""


def missing(history: History, pm_id: str, now: datetime) -> datetime:
    """When a run first missed the post-mortem `pm_id` (now, the first time)."""
    seen = history.documents.setdefault(pm_id, Seen())
    if seen.missing_since:
        try:
            return datetime.fromisoformat(seen.missing_since)
        except ValueError:
            pass
    seen.missing_since = now.isoformat()
    return now
