"""Issues filed from an earlier extractor's reading of the corpus keep their identity when
today's extractor reads the same documents: every item is matched to its issue (same key, or
the retitle rule), so a re-sync after the upgrade files no duplicate; an item no longer read
is closed as removed, once, and never filed again."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import date
from pathlib import Path

from connectors.extract import extract_file
from connectors.trackers.local import LocalTracker
from syncer.applier import apply
from syncer.identity import RETITLE_THRESHOLD, parse_marker, title_similarity
from syncer.model import ActionItem, DocumentRef, PlannedAction, Postmortem
from syncer.people import Directory
from syncer.planner import Target, plan
from syncer.settings import SyncSettings
from tests.corpus_score import CORPUS

TARGET = {"t": Target("t", "local", ("postmortem",))}


def _first_reading(name: str = "extraction-v1.json") -> list[Postmortem]:
    """An earlier extractor's items, as it read the corpus: the first extractor (v1, the first
    20 documents) or the second (v2, all 65, before items had a basis)."""
    saved = json.loads((CORPUS / name).read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(ActionItem)}
    postmortems = []
    for name, items in saved["documents"].items():
        values = [
            ActionItem(
                **{
                    **{k: v for k, v in item.items() if k in fields},
                    "due": date.fromisoformat(item["due"]) if item["due"] else None,
                    "snooze": date.fromisoformat(item["snooze"]) if item.get("snooze") else None,
                    "tickets": tuple(item["tickets"]),
                    "suppressed": frozenset(item["suppressed"]),
                }
            )
            for item in items
        ]
        postmortems.append(_postmortem(name, values))
    return postmortems


def _postmortem(name: str, items: list[ActionItem] | tuple[ActionItem, ...]) -> Postmortem:
    return Postmortem(name, DocumentRef("t", name, name), name, items=tuple(items), route="t")


def _sync(tracker: LocalTracker, postmortems: list[Postmortem]) -> Counter[str]:
    return Counter(action.op for action in _sync_actions(tracker, postmortems))


def _sync_actions(tracker: LocalTracker, postmortems: list[Postmortem]) -> list[PlannedAction]:
    result = plan(
        postmortems,
        {"t": tracker.snapshot()},
        TARGET,
        Directory.from_entries([]),
        {},
        SyncSettings(),
    )
    outcomes = apply(result, {"t": tracker})
    assert all(outcome.ok for outcome in outcomes)
    return list(result.actions)


def test_upgrading_the_extractor_files_no_duplicate(tmp_path: Path) -> None:
    tracker = LocalTracker("t", tmp_path / "issues.sqlite")
    first = _first_reading()
    filed = _sync(tracker, first)
    # Items done before they were filed are not filed; every other real item is.
    real = sum(1 for pm in first for i in pm.items if not i.placeholder and not i.is_done)
    assert filed["create"] == real

    now = [_postmortem(pm.id, extract_file(CORPUS / "docs" / pm.id, pm.id).items) for pm in first]
    ops = _sync(tracker, now)

    open_keys = Counter(
        parse_marker(snap.body).item_key  # type: ignore[union-attr]
        for snap in tracker.snapshot()
        if snap.state == "open" and parse_marker(snap.body)
    )
    assert ops["create"] == 0, ops
    assert ops["close"] == 0, ops
    assert max(open_keys.values()) == 1
    assert sum(open_keys.values()) == filed["create"]


def test_upgrading_from_the_second_extractor_keeps_every_issue_still_read(tmp_path: Path) -> None:
    """The second extractor's reading of all 65 documents, synced, then today's: items still
    read keep their issues; the items it no longer reads (the second extractor's inventions)
    are closed once as removed; only items it newly finds are created; a sync after that
    writes nothing, so nothing closed is ever filed again."""
    tracker = LocalTracker("t", tmp_path / "issues.sqlite")
    before = _first_reading("extraction-v2.json")
    _sync(tracker, before)
    titles = {pm.id: [i.title for i in pm.items] for pm in before}

    def known(pm_id: str, title: str) -> bool:
        return any(title_similarity(title, old) >= RETITLE_THRESHOLD for old in titles[pm_id])

    now = [_postmortem(pm.id, extract_file(CORPUS / "docs" / pm.id, pm.id).items) for pm in before]
    actions = _sync_actions(tracker, now)
    created = [a.item for a in actions if a.op == "create" and a.item]
    closed = [a for a in actions if a.op == "close"]
    assert created
    assert all(not known(i.postmortem_id, i.title) for i in created), created
    assert closed
    still_open = {i.key for pm in now for i in pm.items if not i.is_done and not i.placeholder}
    closed_keys = {
        parse_marker(snap.body).item_key  # type: ignore[union-attr]
        for snap in tracker.snapshot()
        if snap.state == "closed" and parse_marker(snap.body)
    }
    assert len(closed_keys) >= len(closed)
    assert not closed_keys & still_open
    assert {a.op for a in _sync_actions(tracker, now)} <= {"skip", "unchanged"}
    open_keys = Counter(
        parse_marker(snap.body).item_key  # type: ignore[union-attr]
        for snap in tracker.snapshot()
        if snap.state == "open" and parse_marker(snap.body)
    )
    assert max(open_keys.values()) == 1
