"""What a digest is: its recipient, its period, its sections and figures, and how an item's line
reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from syncer.learning import Learning
from syncer.progress import (
    Entry,
    Progress,
    Status,
    TeamRow,
)

NEEDS_YOU = {"escalated": "Escalated", "unowned": "Needs an owner"}


PER_TEAM = (("overdue", "Overdue"), ("stalled", "Stalled"), ("due_soon", "Due soon"))


BADGES = {
    "escalated": "escalated",
    "unowned": "no owner",
    "overdue": "overdue",
    "stalled": "stalled",
    "due_soon": "due soon",
}


# What ended since the last digest: done, and dropped (abandoned or removed from the
# post-mortem), which a program manager wants to see apart.
ENDED = {
    "completed": "Completed since the last digest",
    "dropped": "Dropped since the last digest",
}


@dataclass(frozen=True, slots=True)
class Figures:
    open: int
    overdue: int
    completion_rate: float  # done / all, 0..1
    median_age_days: float | None  # days since the incident, of open items

    def as_dict(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "overdue": self.overdue,
            "completion_rate": self.completion_rate,
            "median_age_days": self.median_age_days,
        }


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str  # the state file's key: a list's name, or manager:<name>
    channels: tuple[str, ...]  # Apprise URLs or file:// folders; secret
    teams: frozenset[str] = frozenset()  # empty: every team
    people: frozenset[str] = frozenset()  # directory keys: a manager's reports
    title: str = ""  # how the digest greets them: the manager's name, the list's title

    def wants(self, entry: Entry) -> bool:
        if self.people:
            return bool(self.people & set(entry.owners))
        return not self.teams or entry.team in self.teams


@dataclass(frozen=True, slots=True)
class Changes:
    """Since the last digest (or, with none, since the period began)."""

    since: str  # "the last digest" or "Monday 2026-03-16"
    opened: int
    closed: int  # closed as done
    newly_overdue: int
    dropped: int = 0  # closed as not planned, or removed from the post-mortem


@dataclass(frozen=True, slots=True)
class Digest:
    recipient: str
    period: str
    now: datetime
    # Keyed by condition (escalated, unowned, overdue, stalled, due_soon), "completed" and
    # "dropped".
    sections: Mapping[str, Sequence[Entry]]
    figures: Figures
    previous: Figures | None
    open_keys: tuple[str, ...]
    attachments: tuple[Path, ...] = ()
    # Each item is listed once, in its most urgent section; the other conditions it meets.
    badges: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    title: str = ""
    changes: Changes | None = None
    behind: tuple[TeamRow, ...] = ()
    progress: tuple[Progress, ...] = ()
    quiet_since: Mapping[str, datetime] = field(default_factory=dict)  # stalled: last activity
    statuses: Mapping[str, Status] = field(default_factory=dict)  # of the items listed
    counts: Mapping[str, int] = field(default_factory=dict)  # overdue, stalled, unowned
    due_soon_days: int = 7
    learning: Learning = field(default_factory=Learning)  # promised before, recurred

    @property
    def empty(self) -> bool:
        return not any(self.sections.values())

    @property
    def subject(self) -> str:
        counts = ", ".join(
            f"{self.counts[key]} {key}"
            for key in ("overdue", "stalled", "unowned")
            if self.counts.get(key)
        )
        return f"Post-mortem actions, {self.period}: " + (counts or "nothing stale")

    def detail(self, entry: Entry) -> str:
        """An item's line: owner, due date and how late, how long quiet, other conditions."""
        snap = entry.snapshot
        today = self.now.date()
        status = self.statuses.get(entry.key) or Status(done=entry.done)
        bits = [", ".join(entry.owners) or "no owner"]
        if snap.due:
            due = f"due {snap.due.isoformat()}"
            if status.days_overdue is not None:
                due += f", {_days(status.days_overdue)} overdue"
            bits.append(due)
        quiet = self.quiet_since.get(entry.key)
        said = {"overdue", "due_soon", "unowned"}  # by the due date, and by "no owner"
        if status.stalled and quiet is not None:
            bits.append(f"no activity for {_days((self.now - quiet).days)}")
            said.add("stalled")
        elif status.days_overdue is None and (since := _since(entry.incident, today)) is not None:
            bits.append(f"{_days(since)} since the incident")
        bits += [BADGES[name] for name in status.conditions if name not in said]
        return "; ".join(bits)


def _since(day: date | None, today: date) -> int | None:
    if day is None or day > today:
        return None
    return (today - day).days


def period_of(now: datetime, period: str) -> tuple[str, date, date]:
    """The period `now` falls in: its name and first and last day."""
    today = now.date()
    if period == "day":
        return today.isoformat(), today, today
    year, week, weekday = today.isocalendar()
    start = today - timedelta(days=weekday - 1)
    return f"{year}-W{week:02d}", start, start + timedelta(days=6)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"
