"""Building a digest is pure: entries, post-mortems, the state and the clock in; one digest per
recipient out, on the same figures as the report and the metrics."""

from __future__ import annotations

import statistics
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rules.followup import FollowupContext, last_activity
from syncer import logs
from syncer.digest.model import (
    BADGES,
    ENDED,
    Changes,
    Digest,
    Figures,
    Recipient,
    _since,
    period_of,
)
from syncer.digest.state import _previous
from syncer.learning import Learning
from syncer.model import Activity, IssueSnapshot, Postmortem
from syncer.people import Directory
from syncer.progress import (
    Entry,
    Status,
    behind,
    progress,
    status_of,
    tally,
)
from syncer.review import review_day, review_key
from syncer.settings import DigestSettings

log = logs.get_logger("pmsync.digest")


def recipients_of(settings: DigestSettings, directory: Directory) -> list[Recipient]:
    """Named lists, then one recipient per manager with reports (when `email_url` is set)."""
    found = [
        Recipient(
            name=name,
            channels=tuple(c.get_secret_value() for c in entry.channels),
            teams=frozenset(entry.teams),
            title=entry.title or f"the {name} list",
        )
        for name, entry in sorted(settings.lists.items())
    ]
    reports: dict[str, set[str]] = {}
    for person in directory.people:
        manager = directory.resolve(person.manager)
        if manager is not None:
            reports.setdefault(manager.key, set()).add(person.key)
    for key, people in sorted(reports.items()):
        manager = next(p for p in directory.people if p.key == key)
        if not (settings.email_url and settings.email_url.get_secret_value()) or not manager.emails:
            log.info("manager_without_digest", manager=key, reason="no email_url or no e-mail")
            continue
        url = _with_query(settings.email_url.get_secret_value(), to=manager.emails[0])
        found.append(
            Recipient(name=f"manager:{key}", channels=(url,), people=frozenset(people), title=key)
        )
    return found


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def figures_of(entries: Sequence[Entry], context: FollowupContext) -> Figures:
    """Open items, overdue ones, the share done (in the tracker or in the post-mortem, filed
    or not), and the median days since the incident of the open ones."""
    counted = tally(entries, context)
    ages = [
        days
        for e in entries
        if e.outcome == "open" and (days := _since(e.incident, context.today)) is not None
    ]
    return Figures(
        open=counted.open,
        overdue=counted.overdue,
        completion_rate=counted.completion_rate,
        median_age_days=round(statistics.median(ages), 1) if ages else None,
    )


def build(
    recipient: Recipient,
    entries: Sequence[Entry],
    *,
    context: FollowupContext,
    settings: DigestSettings,
    state: Mapping[str, Any],
    attachments: Sequence[Path] = (),
    postmortems: Sequence[Postmortem] = (),
    reviews: Mapping[str, IssueSnapshot] | None = None,
    activities: Mapping[str, Activity] | None = None,
    review_after_weeks: int = 4,
    learning: Learning | None = None,
) -> Digest:
    """One recipient's digest. `state` is this recipient's part of the state file;
    `activities` the people's last activity on stalled issues, by item key; `learning` what
    was promised again and what recurred, of every team (the recipient's part is kept)."""
    now = context.now
    mine = [e for e in entries if recipient.wants(e)]
    period, start, _ = period_of(now, settings.period)
    previous = _previous(state, period)
    sections: dict[str, list[Entry]] = {key: [] for key in (*BADGES, *ENDED)}
    was_open = set(previous.get("open", ())) if previous else set()
    last_sent = datetime.fromisoformat(previous["at"]) if previous and "at" in previous else None
    # What changed is counted from the last digest, else from the period's first day.
    since = last_sent or datetime.combine(start, datetime.min.time(), tzinfo=now.tzinfo)
    first_day = last_sent.date() + timedelta(days=1) if last_sent else start
    badges: dict[str, tuple[str, ...]] = {}
    quiet: dict[str, datetime] = {}
    statuses: dict[str, Status] = {}
    opened = newly_overdue = 0
    for entry in mine:
        snap = entry.snapshot
        opened += bool(entry.filed and snap.created_at and snap.created_at > since)
        if entry.outcome != "open":
            if not entry.filed:
                continue  # done before it was filed: counted, not listed
            if previous is not None:  # open then, or opened since, and closed now
                created = snap.created_at
                ended = entry.key in was_open or bool(created and created > since)
            else:  # no history: what closed since the period began
                closed = snap.closed_at or snap.updated_at
                ended = closed is not None and closed >= since
            if ended:
                sections["completed" if entry.done else "dropped"].append(entry)
            continue
        status = statuses[entry.key] = status_of(entry, context)
        if status.overdue and snap.due:
            became = snap.due + timedelta(days=1)  # its first day overdue
            newly_overdue += became >= first_day
        if status.stalled:
            activity = (activities or {}).get(entry.key)
            last = snap.last_human_activity_at or last_activity(snap, activity)
            if last is not None:
                quiet[entry.key] = last
        conditions = status.conditions
        if conditions:  # listed once, in its most urgent section; the rest as badges
            sections[conditions[0]].append(entry)
            badges[entry.key] = conditions[1:]
    for lines in sections.values():
        lines.sort(key=lambda e: _order(e, statuses.get(e.key)))
    counted = tally(mine, context)
    before = previous.get("figures") if previous else None
    keys = {e.postmortem_id for e in mine}
    return Digest(
        recipient=recipient.name,
        title=recipient.title or recipient.name,
        period=period,
        now=now,
        sections=sections,
        figures=figures_of(mine, context),
        previous=Figures(**before) if before else None,
        open_keys=tuple(sorted(e.key for e in mine if e.outcome == "open")),
        attachments=tuple(attachments),
        badges=badges,
        changes=Changes(
            since="the last digest" if last_sent else f"{start:%A} {start.isoformat()}",
            opened=opened,
            closed=len(sections["completed"]),
            dropped=len(sections["dropped"]),
            newly_overdue=newly_overdue,
        ),
        behind=tuple(behind(mine, context)),
        progress=tuple(
            p
            for p in progress(
                mine,
                [pm for pm in postmortems if pm.id in keys],
                reviews or {},
                context,
                review_after_weeks,
            )
            if p.open
        ),
        quiet_since=quiet,
        statuses=statuses,
        due_soon_days=context.due_soon.days,
        counts={"overdue": counted.overdue, "stalled": counted.stalled, "unowned": counted.unowned},
        learning=(learning or Learning()).only(recipient.wants, entries),
    )


def _order(entry: Entry, status: Status | None = None) -> tuple[str, int, float, str]:
    """Grouped by team; the longest overdue first, then the oldest."""
    created = entry.snapshot.created_at
    return (
        entry.team,
        -(status.days_overdue or 0) if status else 0,
        created.timestamp() if created else float("inf"),
        entry.snapshot.ref.key,
    )


def review_attachments(
    postmortems: Sequence[Postmortem],
    weeks: int,
    folder: Path,
    now: datetime,
    period: str,
) -> list[Path]:
    """The `.ics` invitations of reviews that fall in this digest's period."""
    _, start, end = period_of(now, period)
    found = []
    for pm in postmortems:
        day = review_day(pm, weeks)
        path = folder / f"{review_key(pm.id)}.ics"
        if day is not None and start <= day <= end and path.is_file():
            found.append(path)
    return found
