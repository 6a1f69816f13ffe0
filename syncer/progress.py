"""What the report, the digest and the metrics count, computed once.

An `Entry` is one action item with its issue (or an item done before it was filed). `status_of`
says, at one instant, whether it is overdue, stalled, unowned, escalated or due soon; `tally`
counts those; the rest are the program manager's views over the same entries: per team, per
post-mortem, the backlog week by week from the trackers' created and closed times, completion
within the due date per quarter, and time to close. Pure: entries and the clock in.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from connectors.base import Tracker
from rules.followup import FollowupContext, due_soon, overdue, stalled
from syncer.continuity import as_filed
from syncer.model import IssueSnapshot, ItemOutcome, Postmortem, TrackerRef, outcome_of
from syncer.people import Directory
from syncer.pipeline import read_snapshots
from syncer.reading import Problem
from syncer.review import is_review, review_day, review_key

NO_TEAM = "(no team)"
NONE = "(none)"  # no priority or severity written
# Most urgent first: an item is listed once, under the first condition it meets.
CONDITIONS = ("escalated", "unowned", "overdue", "stalled", "due_soon")


@dataclass(frozen=True, slots=True)
class Entry:
    """One action item's issue, with what the documents and the directory say about it."""

    tracker: str
    snapshot: IssueSnapshot
    team: str
    postmortem_id: str
    postmortem_title: str
    owners: tuple[str, ...]  # people-directory names of the assignees, else their handles
    incident: date | None = None  # the post-mortem's date
    done_in_document: bool = False  # marked done in the post-mortem, whatever the tracker says
    priority: str = NONE  # as the item states it
    severity: str = NONE  # the post-mortem's

    @property
    def filed(self) -> bool:
        """Whether there is an issue: an item done before it was filed has none."""
        return bool(self.snapshot.ref.key)

    @property
    def outcome(self) -> ItemOutcome:
        """Done in the post-mortem, else as its issue stands (`outcome_of`)."""
        return "done" if self.done_in_document else outcome_of(self.snapshot)

    @property
    def done(self) -> bool:
        return self.outcome == "done"

    @property
    def dropped(self) -> bool:
        return self.outcome == "dropped"

    @property
    def key(self) -> str:
        return self.snapshot.item_key


def web_link(ref: TrackerRef) -> str | None:
    """The issue's address on the web; None for the local tracker's file."""
    return ref.url if ref.url.startswith(("https://", "http://")) else None


def issue_name(ref: TrackerRef) -> str:
    """How a row names its issue: tracker and number (`local #12`, `jira PAY-3`)."""
    return f"{ref.tracker} {ref.key}".strip()


# --- reading ----------------------------------------------------------------------------------


def tracked_entries(
    trackers: Mapping[str, Tracker],
    postmortems: Sequence[Postmortem],
    directory: Directory,
    problems: list[Problem],
    reviews: dict[str, IssueSnapshot] | None = None,
    present: set[str] | None = None,
) -> tuple[list[Entry], list[Postmortem]]:
    """`entries_of` every tracker, plus the items done before they were filed, and the
    post-mortems as the entries name them; a tracker that
    cannot be read is added to `problems`. Review issues go to `reviews`, by post-mortem id.
    The post-mortems are taken as their issues know them (`continuity.as_filed`: a moved one
    under its old id, retitled items under their issues' keys); `present` are the ids of the
    documents the sources hold."""
    read = {}
    for name, tracker in trackers.items():
        snapshots = read_snapshots(name, tracker, problems)
        if snapshots is not None:
            read[name] = snapshots
    every = [snap for snapshots in read.values() for snap in snapshots]
    postmortems = as_filed(postmortems, every, present or set())
    entries: list[Entry] = []
    for name, snapshots in read.items():
        entries += entries_of(name, snapshots, postmortems, directory)
        if reviews is not None:
            reviews.update(reviews_of(snapshots, postmortems))
    return entries + _done_unfiled(entries, postmortems, directory), postmortems


def reviews_of(
    snapshots: Iterable[IssueSnapshot], postmortems: Sequence[Postmortem]
) -> dict[str, IssueSnapshot]:
    keys = {review_key(pm.id): pm.id for pm in postmortems}
    return {keys[s.item_key]: s for s in snapshots if s.item_key in keys}


def entries_of(
    tracker: str,
    snapshots: Iterable[IssueSnapshot],
    postmortems: Sequence[Postmortem],
    directory: Directory,
) -> list[Entry]:
    """The action-item issues of one tracker (review issues left out), with team and owners:
    the post-mortem's team, else the owner's team in the directory."""
    by_id = {pm.id: pm for pm in postmortems}
    items = {item.key: item for pm in postmortems for item in pm.items}
    found = []
    for snap in snapshots:
        if is_review(snap.item_key):
            continue
        pm = by_id.get(snap.postmortem_id or "")
        item = items.get(snap.item_key)
        people = [directory.resolve(handle) for handle in snap.assignees]
        owners = tuple(p.key if p else h for p, h in zip(people, snap.assignees, strict=True))
        team = (pm.team if pm else None) or next((p.team for p in people if p and p.team), None)
        found.append(
            Entry(
                tracker=tracker,
                snapshot=snap,
                team=team or NO_TEAM,
                postmortem_id=snap.postmortem_id or "",
                postmortem_title=pm.title if pm else (snap.postmortem_id or ""),
                owners=owners,
                incident=pm.incident_date if pm else None,
                done_in_document=bool(item and item.is_done),
                priority=_label(item.priority if item else None),
                severity=_label(pm.severity if pm else None),
            )
        )
    return found


def _label(value: str | None) -> str:
    return value.strip() if value and value.strip() else NONE


def _done_unfiled(
    entries: Sequence[Entry], postmortems: Sequence[Postmortem], directory: Directory
) -> list[Entry]:
    """Items marked done in their post-mortem before any issue was filed: they count as done
    in every figure, as an entry with no issue."""
    filed = {entry.key for entry in entries}
    found = []
    for pm in postmortems:
        if pm.template:
            continue
        for item in pm.items:
            if item.placeholder or not item.is_done or item.key in filed:
                continue
            person = directory.resolve(item.owner)
            snap = IssueSnapshot(
                ref=TrackerRef(pm.route or "", "", ""),
                item_key=item.key,
                state="closed",
                title=item.title,
                body="",
                postmortem_id=pm.id,
                status_category="done",
            )
            found.append(
                Entry(
                    tracker=pm.route or "",
                    snapshot=snap,
                    team=pm.team or (person.team if person and person.team else None) or NO_TEAM,
                    postmortem_id=pm.id,
                    postmortem_title=pm.title,
                    owners=(person.key,) if person else (),
                    incident=pm.incident_date,
                    done_in_document=True,
                    priority=_label(item.priority),
                    severity=_label(pm.severity),
                )
            )
    return found


# --- one item at one instant ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    done: bool
    dropped: bool = False  # closed as not planned or removed from the post-mortem: not done
    overdue: bool = False
    stalled: bool = False
    unowned: bool = False
    escalated: bool = False
    due_soon: bool = False
    days_overdue: int | None = None  # whole days since the due date, when overdue

    @property
    def conditions(self) -> tuple[str, ...]:
        """The conditions it meets, most urgent first."""
        return tuple(name for name in CONDITIONS if getattr(self, name))


def status_of(entry: Entry, context: FollowupContext) -> Status:
    """Overdue from the day after its due date (the grace days only delay `check`'s label and
    nudges); stalled when `check` labelled it so or nothing changed on it for the stale period;
    unowned with nobody assigned; due soon within the due-soon days."""
    snap = entry.snapshot
    if entry.done or entry.dropped:
        return Status(done=entry.done, dropped=entry.dropped)
    late = overdue(snap, None, None, replace(context, grace=timedelta(0))) is not None
    return Status(
        done=False,
        overdue=late,
        stalled="stalled" in snap.labels or stalled(snap, None, None, context) is not None,
        unowned=not snap.assignees,
        escalated="escalated" in snap.labels,
        due_soon=not late and due_soon(snap, None, None, context) is not None,
        days_overdue=(context.today - snap.due).days if late and snap.due else None,
    )


@dataclass(frozen=True, slots=True)
class Tally:
    items: int = 0
    open: int = 0
    done: int = 0
    dropped: int = 0  # abandoned: neither open nor done, and not in the completion rate
    overdue: int = 0
    stalled: int = 0
    unowned: int = 0
    escalated: int = 0
    due_soon: int = 0
    no_due_date: int = 0  # open items with no due date

    @property
    def completion_rate(self) -> float:
        """Done of the items still meant to be done (dropped ones left out)."""
        meant = self.done + self.open
        return self.done / meant if meant else 0.0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def tally(entries: Iterable[Entry], context: FollowupContext) -> Tally:
    counts = {f.name: 0 for f in fields(Tally)}
    for entry in entries:
        status = status_of(entry, context)
        counts["items"] += 1
        counts[entry.outcome] += 1
        for name in CONDITIONS:
            counts[name] += getattr(status, name)
        counts["no_due_date"] += entry.outcome == "open" and entry.snapshot.due is None
    return Tally(**counts)


# --- views ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamRow:
    team: str
    tally: Tally
    oldest_overdue: Entry | None
    oldest_overdue_days: int | None


def by_team(entries: Sequence[Entry], context: FollowupContext) -> list[TeamRow]:
    """Each team's figures and its longest-overdue item; the teams most overdue first."""
    teams: dict[str, list[Entry]] = {}
    for entry in entries:
        teams.setdefault(entry.team, []).append(entry)
    rows = []
    for team, mine in teams.items():
        late = [(s.days_overdue or 0, e) for e in mine if (s := status_of(e, context)).overdue]
        oldest = max(late, key=lambda pair: (pair[0], pair[1].key), default=None)
        rows.append(
            TeamRow(team, tally(mine, context), oldest[1] if oldest else None, _first(oldest))
        )
    return sorted(rows, key=lambda r: (-r.tally.overdue, -(r.oldest_overdue_days or 0), r.team))


def _first(pair: tuple[int, Entry] | None) -> int | None:
    return pair[0] if pair else None


def behind(entries: Sequence[Entry], context: FollowupContext) -> list[TeamRow]:
    """The teams with overdue items, most overdue first: who is falling behind."""
    return [row for row in by_team(entries, context) if row.tally.overdue]


@dataclass(frozen=True, slots=True)
class Progress:
    postmortem: Postmortem
    items: int
    done: int
    open: int
    overdue: int
    dropped: int
    review_day: date | None
    review: IssueSnapshot | None

    @property
    def review_state(self) -> str:
        if self.review is None:
            return "not opened" if self.review_day else "no incident date"
        return self.review.state


def progress(
    entries: Sequence[Entry],
    postmortems: Sequence[Postmortem],
    reviews: Mapping[str, IssueSnapshot],
    context: FollowupContext,
    review_after_weeks: int,
) -> list[Progress]:
    """Each post-mortem with items: how many are done, and its review. Oldest incident first."""
    mine: dict[str, list[Entry]] = {}
    for entry in entries:
        mine.setdefault(entry.postmortem_id, []).append(entry)
    found = []
    for pm in postmortems:
        if pm.template or pm.id not in mine:
            continue
        counted = tally(mine[pm.id], context)
        found.append(
            Progress(
                postmortem=pm,
                items=counted.items,
                done=counted.done,
                open=counted.open,
                overdue=counted.overdue,
                dropped=counted.dropped,
                review_day=review_day(pm, review_after_weeks),
                review=reviews.get(pm.id),
            )
        )
    return sorted(found, key=lambda p: (p.postmortem.incident_date or date.max, p.postmortem.id))


# --- over time --------------------------------------------------------------------------------


def closed_at(snap: IssueSnapshot) -> datetime | None:
    """When a closed issue was closed: the tracker's closing time, else its last update."""
    if snap.state != "closed":
        return None
    return snap.closed_at or snap.updated_at


def _day(moment: datetime, zone: tzinfo | None) -> date:
    return moment.astimezone(zone).date() if zone else moment.date()


def weekly(entries: Sequence[Entry], now: datetime) -> list[dict[str, Any]]:
    """The backlog week by week (weeks from Monday), from each issue's created and closed
    time: opened and closed in the week, and open at its end (at `now` for this week)."""
    zone = now.tzinfo
    spans = [
        (_day(s.created_at, zone), _day(c, zone) if (c := closed_at(s)) else None)
        for e in entries
        if (s := e.snapshot).created_at and e.filed
    ]
    if not spans:
        return []
    today = _day(now, zone)
    monday = min(opened for opened, _ in spans)
    monday -= timedelta(days=monday.weekday())
    weeks = []
    while monday <= today:
        end = min(monday + timedelta(days=6), today)
        weeks.append(
            {
                "week": monday.isoformat(),
                "opened": sum(1 for o, _ in spans if monday <= o <= end),
                "closed": sum(1 for _, c in spans if c is not None and monday <= c <= end),
                "open": sum(1 for o, c in spans if o <= end and (c is None or c > end)),
            }
        )
        monday += timedelta(weeks=1)
    return weeks


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def on_target(
    entries: Sequence[Entry], now: datetime, by: Callable[[Entry], str]
) -> list[dict[str, Any]]:
    """Completion within the due date: per quarter of the due date and per group (`by`), the
    items due whose outcome is known (closed, or past their due date) and the share closed by
    their due date. Items with no due date, open and not yet due, or dropped are not counted."""
    zone = now.tzinfo
    today = _day(now, zone)
    groups: dict[tuple[str, str], list[int]] = {}
    for entry in entries:
        snap = entry.snapshot
        if snap.due is None or not entry.filed or entry.dropped:
            continue
        closed = closed_at(snap)
        if closed is None and snap.due >= today:
            continue  # still open, not yet due: no outcome yet
        counts = groups.setdefault((quarter_of(snap.due), by(entry)), [0, 0])
        counts[0] += 1
        counts[1] += closed is not None and _day(closed, zone) <= snap.due
    return [
        {
            "quarter": quarter,
            "group": group,
            "due": due,
            "on_time": on_time,
            "share": round(on_time / due, 4),
        }
        for (quarter, group), (due, on_time) in sorted(groups.items())
    ]


def time_to_close(entries: Sequence[Entry], by: Callable[[Entry], str]) -> list[dict[str, Any]]:
    """Days from filing to closing of the issues closed as done, per group: how many, the median and
    the 90th percentile (linear between the closest ranks, as spreadsheets' PERCENTILE)."""
    groups: dict[str, list[float]] = {}
    for entry in entries:
        snap = entry.snapshot
        closed = closed_at(snap)
        if closed is None or snap.created_at is None or not entry.filed or entry.dropped:
            continue
        days = (closed - snap.created_at).total_seconds() / 86400
        groups.setdefault(by(entry), []).append(max(days, 0.0))
    return _spread(groups, "closed")


def _spread(groups: Mapping[str, Sequence[float]], counted: str) -> list[dict[str, Any]]:
    """Per group (sorted): how many (named `counted`), the median and the 90th percentile."""
    return [
        {
            "group": group,
            counted: len(days),
            "median_days": round(statistics.median(days), 1),
            "p90_days": round(percentile(days, 0.9), 1),
        }
        for group, days in sorted(groups.items())
    ]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def open_age(
    entries: Sequence[Entry], now: datetime, by: Callable[[Entry], str]
) -> list[dict[str, Any]]:
    """How long the open items have been open, in days since filing, per group: how many, the
    median and the 90th percentile."""
    groups: dict[str, list[float]] = {}
    for entry in entries:
        snap = entry.snapshot
        if entry.outcome != "open" or not entry.filed or snap.created_at is None:
            continue
        days = max((now - snap.created_at).total_seconds() / 86400, 0.0)
        groups.setdefault(by(entry), []).append(days)
    return _spread(groups, "open")


def time_to_assignment(
    entries: Sequence[Entry], assigned: Mapping[str, datetime], by: Callable[[Entry], str]
) -> list[dict[str, Any]]:
    """Days from filing to the first assignment, per group, of the issues whose first
    assignment is known (`assigned`, by item key): how many, the median and 90th percentile."""
    groups: dict[str, list[float]] = {}
    for entry in entries:
        at, created = assigned.get(entry.key), entry.snapshot.created_at
        if at is None or created is None or not entry.filed:
            continue
        groups.setdefault(by(entry), []).append(max((at - created).total_seconds() / 86400, 0.0))
    return _spread(groups, "assigned")


def unverified(
    entries: Sequence[Entry],
    changes: Mapping[str, tuple[str, ...] | None],
    by: Callable[[Entry], str],
) -> list[dict[str, Any]]:
    """Items closed as done in the tracker with no change linked to them, per group: of the
    closed whose history is known, how many have no pull request, merge request or commit
    linked (`unknown`: closed, history not read yet)."""
    groups: dict[str, list[int]] = {}
    for entry in entries:
        if not entry.filed or entry.done_in_document or entry.outcome != "done":
            continue
        counts = groups.setdefault(by(entry), [0, 0, 0])
        linked = changes.get(entry.key)
        if linked is None:
            counts[2] += 1
        else:
            counts[0] += 1
            counts[1] += not linked
    return [
        {
            "group": group,
            "closed": closed,
            "unverified": bare,
            "share": round(bare / closed, 4) if closed else None,
            "unknown": unknown,
        }
        for group, (closed, bare, unknown) in sorted(groups.items())
    ]


def all_done(postmortems: Sequence[Progress]) -> dict[str, Any]:
    """The post-mortems whose items are all done (dropped ones aside), of those with items."""
    counted = [p for p in postmortems if p.items - p.dropped > 0]
    done = sum(1 for p in counted if p.done == p.items - p.dropped)
    return {
        "postmortems": len(counted),
        "all_done": done,
        "share": round(done / len(counted), 4) if counted else None,
    }


def everyone(entry: Entry) -> str:
    return "all"


def team_of(entry: Entry) -> str:
    return entry.team


def by_priority(entry: Entry) -> str:
    return entry.priority


def by_severity(entry: Entry) -> str:
    return entry.severity


@dataclass(slots=True)
class Overview:
    """Everything a program manager's view shows, for one set of entries."""

    now: datetime
    tally: Tally
    teams: list[TeamRow]
    postmortems: list[Progress]
    weeks: list[dict[str, Any]]
    on_target_priority: list[dict[str, Any]]
    on_target_severity: list[dict[str, Any]]
    on_target_team: list[dict[str, Any]]
    time_to_close: list[dict[str, Any]]
    open_age: list[dict[str, Any]]  # everyone first, then per team
    all_done: dict[str, Any]


def overview(
    entries: Sequence[Entry],
    postmortems: Sequence[Postmortem],
    reviews: Mapping[str, IssueSnapshot],
    context: FollowupContext,
    review_after_weeks: int,
) -> Overview:
    progressed = progress(entries, postmortems, reviews, context, review_after_weeks)
    return Overview(
        now=context.now,
        tally=tally(entries, context),
        teams=by_team(entries, context),
        postmortems=progressed,
        weeks=weekly(entries, context.now),
        on_target_priority=on_target(entries, context.now, by_priority),
        on_target_severity=on_target(entries, context.now, by_severity),
        on_target_team=on_target(entries, context.now, team_of),
        time_to_close=time_to_close(entries, by_priority),
        open_age=open_age(entries, context.now, everyone) + open_age(entries, context.now, team_of),
        all_done=all_done(progressed),
    )
