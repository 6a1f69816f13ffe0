"""What an issue's history says and its fields do not: when someone was first assigned, and
which changes (pull requests, merge requests, commits) are linked to it. The report measures
time to first assignment and items closed with no linked change from these.

Reading history costs a request or two per issue, so `check` reads it once per issue and
keeps it in `<state_dir>/issue-history.json`: an assignment time once there is one (it never
changes), and the linked changes once the issue is closed. At most `READS_PER_RUN` issues a
tracker a run are read for it, so a first run over a large backlog spreads its cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from syncer import statefile
from syncer.model import Activity, IssueSnapshot
from syncer.review import is_review

FILE = "issue-history.json"
READS_PER_RUN = 200


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known of one issue's history; None: not known (not read yet)."""

    assigned_at: datetime | None = None
    changes: tuple[str, ...] | None = None


@dataclass(slots=True)
class IssueHistory:
    path: Path
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # "tracker key" -> facts

    @classmethod
    def load(cls, state_dir: Path) -> IssueHistory:
        path = state_dir / FILE
        data = statefile.load(path, "issue_history_unreadable")
        return cls(path, data if isinstance(data, dict) else {})

    def of(self, snap: IssueSnapshot) -> Facts:
        kept = self.facts.get(_key(snap))
        if not isinstance(kept, dict):
            return Facts()
        try:
            assigned = kept.get("assigned_at")
            changes = kept.get("changes")
            return Facts(
                datetime.fromisoformat(assigned) if isinstance(assigned, str) else None,
                tuple(str(c) for c in changes) if isinstance(changes, list) else None,
            )
        except ValueError:
            return Facts()

    def wanted(self, snapshots: Sequence[IssueSnapshot]) -> list[IssueSnapshot]:
        """The issues whose history is worth reading: assigned with no time known yet, or
        closed with their linked changes not known yet; at most `READS_PER_RUN`."""
        found = []
        for snap in snapshots:
            if is_review(snap.item_key) or not snap.ref.key:
                continue
            kept = self.facts.get(_key(snap))
            kept = kept if isinstance(kept, dict) else {}
            if (snap.assignees and kept.get("assignment_read") is not True) or (
                snap.state == "closed" and not isinstance(kept.get("changes"), list)
            ):
                found.append(snap)
                if len(found) == READS_PER_RUN:
                    break
        return found

    def learn(self, snap: IssueSnapshot, activity: Activity) -> None:
        entry = self.facts.setdefault(_key(snap), {})
        if activity.assigned_at is not None:
            entry.setdefault("assigned_at", activity.assigned_at.isoformat())
        if snap.assignees:  # a tracker that records no assignment is not asked again
            entry["assignment_read"] = True
        if snap.state == "closed":  # what is linked by the time it closed
            entry["changes"] = list(activity.changes)

    def save(self) -> None:
        statefile.save(self.path, self.facts, "issue_history_unsaved")


def _key(snap: IssueSnapshot) -> str:
    return f"{snap.ref.tracker} {snap.ref.key}"
