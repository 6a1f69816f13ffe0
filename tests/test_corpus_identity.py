"""Issues filed from the first extractor's reading of the corpus keep their identity when
today's extractor reads the same documents: every item is matched to its issue (same key, or
the retitle rule), so a re-sync after the upgrade files no duplicate."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import date
from pathlib import Path

from connectors.extract import extract_file
from connectors.trackers.local import LocalTracker
from syncer.applier import apply
from syncer.identity import parse_marker
from syncer.model import ActionItem, DocumentRef, Postmortem
from syncer.people import Directory
from syncer.planner import Target, plan
from syncer.settings import SyncSettings
from tests.corpus_score import CORPUS

TARGET = {"t": Target("t", "local", ("postmortem",))}


def _first_reading() -> list[Postmortem]:
    """The first extractor's items, as it read the first 20 corpus documents."""
    saved = json.loads((CORPUS / "extraction-v1.json").read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(ActionItem)}
    postmortems = []
    for name, items in saved["documents"].items():
        values = [
            ActionItem(
                **{
                    **{k: v for k, v in item.items() if k in fields},
                    "due": date.fromisoformat(item["due"]) if item["due"] else None,
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
    return Counter(action.op for action in result.actions)


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
