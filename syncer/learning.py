"""What the report and the digest say of learning across post-mortems: promises made again
while the first was open, and incidents that recurred while the earlier one's items were
open. Pure: the post-mortems and their items' issues in, the sections out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from syncer import recurrence
from syncer.model import Postmortem
from syncer.progress import Entry, closed_at


@dataclass(frozen=True, slots=True)
class PromisedAgain:
    """Item `title` of post-mortem `postmortem` promises again what `earlier` (an item's
    issue, of the post-mortem `before`) promised, and `earlier` was open when it did."""

    title: str
    postmortem: Postmortem
    earlier: Entry
    before: Postmortem
    open_days: int  # from the first promise to now, or to when it closed

    @property
    def state(self) -> str:
        """How the first promise stands: "open for 140 days", "dropped after 30 days"."""
        days = f"{self.open_days} day" + ("" if self.open_days == 1 else "s")
        outcome = self.earlier.outcome
        return f"open for {days}" if outcome == "open" else f"{outcome} after {days}"

    def line(self) -> str:
        issue = self.earlier.snapshot.ref.key
        return (
            f"{self.title!r} in {self.postmortem.id} was promised before in {self.before.id} "
            f"({issue}, {self.state}; team {self.earlier.team})"
        )


@dataclass(frozen=True, slots=True)
class Recurred:
    """Post-mortem `postmortem` names what the earlier `before` named (`shared`) while
    `open_items` of the earlier one's items are still open."""

    postmortem: Postmortem
    before: Postmortem
    shared: tuple[str, ...]
    open_items: int

    def line(self) -> str:
        items = "item" if self.open_items == 1 else "items"
        return (
            f"{self.postmortem.title} ({self.postmortem.id}) recurred with {self.open_items} "
            f"{items} open from {self.before.id}: {', '.join(self.shared)}"
        )


@dataclass(frozen=True, slots=True)
class Learning:
    promised: tuple[PromisedAgain, ...] = ()
    recurred: tuple[Recurred, ...] = ()

    def per_team(self) -> dict[str, int]:
        """How many promises made again each team's earlier items account for."""
        return dict(sorted(Counter(p.earlier.team for p in self.promised).items()))

    def only(self, wanted: Callable[[Entry], bool], entries: Sequence[Entry]) -> Learning:
        """What concerns the items `wanted` picks (a digest's recipient)."""
        theirs = {e.postmortem_id for e in entries if wanted(e)}
        return Learning(
            tuple(p for p in self.promised if wanted(p.earlier)),
            tuple(r for r in self.recurred if r.before.id in theirs),
        )


def learning(
    entries: Sequence[Entry],
    postmortems: Sequence[Postmortem],
    *,
    threshold: float,
    window_days: int,
    now: datetime,
    enabled: bool = True,
) -> Learning:
    """The promises made again and the recurrences among `postmortems`, judged by their
    items' issues (`entries`) as they stand at `now`."""
    if not enabled:
        return Learning()
    window = timedelta(days=window_days)
    by_key = {entry.key: entry for entry in entries}
    today = now.date()
    promised = []
    for r in recurrence.repeats(postmortems, threshold, window):
        earlier = by_key.get(r.earlier_item.key)
        again = recurrence.day_of(r.postmortem)
        if earlier is None or not earlier.filed or again is None:
            continue
        ended = closed_at(earlier.snapshot)
        end = ended.date() if ended is not None and earlier.outcome != "open" else today
        if earlier.outcome == "done" and end < again:
            continue  # done before it was promised again: kept, not repeated
        start = _start(r.earlier, earlier)
        promised.append(
            PromisedAgain(
                r.item.title, r.postmortem, earlier, r.earlier, max((end - start).days, 0)
            )
        )
    open_by_pm = Counter(e.postmortem_id for e in entries if e.outcome == "open" and e.filed)
    recurred = [
        Recurred(r.postmortem, r.earlier, r.shared, open_by_pm[r.earlier.id])
        for r in recurrence.recurrences(postmortems, window)
        if open_by_pm[r.earlier.id]
    ]
    promised.sort(key=lambda p: (-p.open_days, p.title))
    recurred.sort(key=lambda r: (-r.open_items, r.postmortem.id, r.before.id))
    return Learning(tuple(promised), tuple(recurred))


def _start(postmortem: Postmortem, entry: Entry) -> date:
    """When a promise was first made: its post-mortem's day, else when its issue was filed."""
    day = recurrence.day_of(postmortem)
    if day is not None:
        return day
    created = entry.snapshot.created_at
    return created.date() if created is not None else date.min
