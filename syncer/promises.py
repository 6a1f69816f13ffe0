"""Items promised again, in a sync: the link between a repeated item and the earlier item's
issue, both ways, once each.

- An item whose text repeats an earlier post-mortem's item (`syncer.recurrence`) whose issue,
  in the same tracker, is open or was dropped: its issue says "Promised before" with a link
  to the earlier one, and the earlier one gets one comment linking the new one.
- An item that links the issue of another post-mortem's item (its address, or its key such
  as `OPS-12` or `#12`) is marked by its author as the same promise: no issue is filed for
  it, and the earlier issue gets one comment saying where and when it was promised again.

Each comment carries a hidden marker naming the new item. Before commenting, pmsync reads
the earlier issue's comments for that marker, so a second machine, or a run whose state was
lost, never comments twice; `<state_dir>/recurrence.json` remembers the comments made, so
that an unchanged sync reads nothing more.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncer import logs, recurrence, statefile
from syncer.errors import PmsyncError
from syncer.identity import render_remark_marker
from syncer.model import (
    ActionItem,
    Finding,
    IssueSnapshot,
    Postmortem,
    Remark,
    Severity,
    TrackerRef,
    outcome_of,
)

if TYPE_CHECKING:
    from connectors.base import Tracker
    from syncer.applier import Outcome
    from syncer.settings import RecurrenceSettings

log = logs.get_logger("pmsync.promises")

STATE_FILE = "recurrence.json"


@dataclass(frozen=True, slots=True)
class Link:
    """A new item repeats `earlier_item` of the post-mortem `earlier`."""

    earlier: Postmortem
    earlier_item: ActionItem
    score: float


def links(
    postmortems: Sequence[Postmortem], settings: RecurrenceSettings, state: State | None = None
) -> dict[str, Link]:
    """The earlier item each item repeats, by the new item's key; none when turned off.
    `state` keeps the last result: while no post-mortem changes, it is not computed again."""
    if not settings.enabled:
        return {}
    key = recurrence.fingerprint(postmortems, settings.threshold, settings.window)
    items = {(pm.id, item.key): (pm, item) for pm in postmortems for item in pm.items}
    if state is not None and (kept := state.links_for(key)) is not None:
        found = {}
        for new, pm_id, old, score in kept:
            pm, item = items.get((pm_id, old), (None, None))
            if pm is None or item is None:
                break  # not what was kept: compute again
            found[new] = Link(pm, item, score)
        else:
            return found
    repeated = recurrence.repeats(postmortems, settings.threshold, settings.window)
    found = {r.item.key: Link(r.earlier, r.earlier_item, r.score) for r in repeated}
    if state is not None:
        state.keep_links(key, found)
    return found


def by_reference(issues: Iterable[IssueSnapshot]) -> dict[str, IssueSnapshot]:
    """The issues by each way an item can name one: its address, and its key."""
    found: dict[str, IssueSnapshot] = {}
    for snap in issues:
        for name in (snap.ref.key, snap.ref.url):
            if name:
                found.setdefault(name, snap)
    return found


def marked(
    item: ActionItem,
    postmortem: Postmortem,
    issues: Mapping[str, IssueSnapshot],
    read: Collection[str],
) -> IssueSnapshot | None:
    """The issue of another post-mortem's item that `item` links (`issues`: `by_reference`),
    when that post-mortem is read too: its author marks the item as the same promise."""
    for ticket in item.tickets:
        snap = issues.get(ticket)
        theirs = snap.postmortem_id if snap is not None else None
        if snap is not None and theirs and theirs != postmortem.id and theirs in read:
            return snap
    return None


def worth_linking(earlier: IssueSnapshot, own: IssueSnapshot | None) -> bool:
    """Whether a repeat of the item of `earlier` is linked: its issue is open or was
    dropped (a promise not kept); or the new item's issue `own` links it already."""
    if outcome_of(earlier) in ("open", "dropped"):
        return True
    return own is not None and bool(earlier.ref.url) and earlier.ref.url in own.body


def where(postmortem: Postmortem) -> str:
    """The post-mortem as a comment names it: its title linked, and its date."""
    link = postmortem.ref.display_link
    day = f" of {postmortem.incident_date.isoformat()}" if postmortem.incident_date else ""
    return f"[{postmortem.title}]({link}){day}"


def repeat_remark(target: TrackerRef, item: ActionItem, postmortem: Postmortem) -> Remark:
    """The note on the earlier issue for an item that repeats it unmarked: a new issue is
    filed, linked here."""
    return Remark(
        target,
        item.key,
        f"pmsync: this action item was promised again in the post-mortem "
        f"{where(postmortem)}: {{link}}.",
    )


def marked_remark(target: TrackerRef, item: ActionItem, postmortem: Postmortem) -> Remark:
    """The note on the earlier issue for an item its author marked as this issue."""
    return Remark(
        target,
        item.key,
        f"pmsync: this action item was promised again in the post-mortem "
        f"{where(postmortem)}, which links it here; no new issue was filed.",
    )


# --- what the last sync knew: the state file ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filed:
    """An item's issue as the last sync saw it: `lint` names it without asking a tracker."""

    key: str
    url: str
    outcome: str  # open, done or dropped
    since: str  # the day it was filed (ISO), or ""
    owner: str  # its assignees, or ""

    @classmethod
    def of(cls, snap: IssueSnapshot) -> Filed:
        since = snap.created_at.date().isoformat() if snap.created_at else ""
        return cls(snap.ref.key, snap.ref.url, outcome_of(snap), since, ", ".join(snap.assignees))


class State:
    """`<state_dir>/recurrence.json`: the notes made already ("tracker issue-key item-key"),
    each filed item's issue by item key, as the last sync saw them, and the last links
    found with the fingerprint of the post-mortems they were found in."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / STATE_FILE
        data = statefile.load(self.path, "recurrence_state_unreadable")
        data = data if isinstance(data, dict) else {}
        made = data.get("remarked")
        self.made: set[str] = {str(m) for m in made} if isinstance(made, list) else set()
        issues = data.get("issues")
        self.issues: dict[str, list[str]] = {}
        if isinstance(issues, dict):
            self.issues = {
                str(k): [str(x) for x in v]
                for k, v in issues.items()
                if isinstance(v, list) and len(v) == 5
            }
        links = data.get("links")
        self.links: dict[str, Any] = links if isinstance(links, dict) else {}
        self._changed = False

    @staticmethod
    def key(tracker: str, remark: Remark) -> str:
        return f"{tracker} {remark.target.key} {remark.item_key}"

    def add(self, key: str) -> None:
        if key not in self.made:
            self.made.add(key)
            self._changed = True

    def links_for(self, fingerprint: str) -> list[tuple[str, str, str, float]] | None:
        """The links kept for post-mortems of this fingerprint: (new item key, earlier
        post-mortem id, earlier item key, score); None when other post-mortems were linked."""
        kept = self.links
        if kept.get("fingerprint") != fingerprint or not isinstance(kept.get("pairs"), list):
            return None
        try:
            return [(str(a), str(b), str(c), float(d)) for a, b, c, d in kept["pairs"]]
        except (TypeError, ValueError):
            return None

    def keep_links(self, fingerprint: str, found: Mapping[str, Link]) -> None:
        pairs = [
            [new, link.earlier.id, link.earlier_item.key, link.score]
            for new, link in sorted(found.items())
        ]
        self.links = {"fingerprint": fingerprint, "pairs": pairs}
        self._changed = True

    def filed(self, item_key: str) -> Filed | None:
        entry = self.issues.get(item_key)
        return Filed(*entry) if entry is not None else None

    def learn(self, snapshots: Iterable[IssueSnapshot]) -> None:
        """Keep each item's issue as the trackers show it now (the oldest of duplicates)."""
        from syncer.review import is_review  # sync's: lint reads the state without it

        found: dict[str, list[str]] = {}
        for snap in sorted(snapshots, key=lambda s: (s.created_at is None, s.created_at or 0)):
            if snap.item_key and snap.ref.key and not is_review(snap.item_key):
                filed = Filed.of(snap)
                found.setdefault(
                    snap.item_key, [filed.key, filed.url, filed.outcome, filed.since, filed.owner]
                )
        if found != self.issues:
            self.issues = found
            self._changed = True

    def save(self) -> None:
        if self._changed:
            data = {"remarked": sorted(self.made), "issues": self.issues, "links": self.links}
            statefile.save(self.path, data, "recurrence_state_unsaved")
            self._changed = False


# --- lint: the note on the new item -------------------------------------------------------------


def findings(
    postmortems: Sequence[Postmortem],
    among: Sequence[Postmortem],
    threshold: float,
    window: timedelta,
    state: State | None,
    today: date,
) -> list[Finding]:
    """PM601 for each item of `postmortems` that repeats an item of an earlier post-mortem of
    `among` whose promise is still open or was dropped. Where the item stands comes from the
    last sync (`state`), else from the document itself."""
    from rules.catalogue import REPEAT_CODE

    found = []
    for r in recurrence.repeats(postmortems, threshold, window, among=among):
        if _suppressed(REPEAT_CODE, r.postmortem, r.item):
            continue
        filed = state.filed(r.earlier_item.key) if state is not None else None
        outcome = filed.outcome if filed else ("done" if r.earlier_item.is_done else "open")
        if outcome == "done":
            continue
        since = recurrence.day_of(r.earlier)  # promised on the day of its post-mortem
        if since is None and filed is not None and filed.since:
            since = date.fromisoformat(filed.since)
        days = f", {(today - since).days} days" if since is not None else ""
        owner = (filed.owner if filed else "") or r.earlier_item.owner or "nobody"
        issue = filed.key if filed is not None else next(iter(r.earlier_item.tickets), "")
        if filed is not None and {filed.key, filed.url} & set(r.item.tickets):
            continue  # marked as the same promise already
        if issue:
            link = f"{filed.key} {filed.url}".rstrip() if filed is not None else issue
            told = f"; its issue: {link}. Link that issue in this item if it is the same promise"
        else:
            told = "; not filed yet"
        message = (
            f"repeats {r.earlier_item.title!r} from {r.earlier.id} ({outcome}{days}, owner "
            f"{owner}){told}"
        )
        found.append(
            Finding(
                REPEAT_CODE, Severity.INFO, message, r.postmortem.ref.uri, r.item.line, r.item.key
            )
        )
    return found


def _suppressed(code: str, postmortem: Postmortem, item: ActionItem) -> bool:
    return any(code.startswith(p) for p in (*postmortem.suppressed, *item.suppressed))


# --- the comments, once each --------------------------------------------------------------------


def remark(outcomes: Sequence[Outcome], trackers: Mapping[str, Tracker], made: State) -> int:
    """Leave each planned note on its earlier issue, once: after the new issue is filed (its
    link goes in the note), unless the earlier issue holds the note already. A failure is
    logged and tried again next run. The number of notes written."""
    written = 0
    for outcome in outcomes:
        action = outcome.action
        note = action.remark
        if note is None or not outcome.ok:
            continue
        key = State.key(action.tracker, note)
        if key in made.made:
            continue
        new = outcome.ref if action.op != "close" else None
        if "{link}" in note.text and new is None:
            continue
        tracker = trackers[action.tracker]
        try:
            if note.item_key not in tracker.activity(note.target).remarks:
                link = f"{new.key} {new.url}".strip() if new is not None else ""
                text = note.text.replace("{link}", link)
                tracker.comment(note.target, f"{text}\n\n{render_remark_marker(note.item_key)}")
                written += 1
                log.info("repeat_noted", tracker=tracker.name, ref=note.target.key)
            made.add(key)
        except PmsyncError as exc:
            log.warning(
                "repeat_note_failed", tracker=tracker.name, ref=note.target.key, error=str(exc)
            )
    return written
