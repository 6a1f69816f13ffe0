"""Digests for program managers, per recipient: what changed since the last digest and which
teams fall behind; then what needs them (escalated items, items with no owner); then, team by
team, overdue items (with days overdue), stalled ones (with days since people last touched
them) and those due soon; each item once, in its most urgent section, the rest as badges; then
the progress of each post-mortem with open items, what was completed, and what was dropped.

Building is pure (entries, post-mortems and the clock in; digests out), on the same figures
as the report and the metrics (`syncer.progress`). Delivery goes through Apprise, one URL per
channel, plus `file://` folders that pmsync writes itself. A small state file remembers, per
recipient, the figures and open items of each period and the channels already served, so a
digest is never sent twice in one period and trends survive a restart; a missing state file
only means "no trend".
"""

from __future__ import annotations

import hashlib
import html
import re
import statistics
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import DocumentSource, Tracker
from rules.followup import FollowupContext, last_activity
from syncer import logs, statefile
from syncer.errors import STOPPING, Interrupted
from syncer.followup import context_of
from syncer.logs import REDACTOR
from syncer.model import Activity, IssueSnapshot, Postmortem
from syncer.people import Directory
from syncer.pipeline import read_activities, set_up
from syncer.progress import (
    Entry,
    Progress,
    Status,
    TeamRow,
    behind,
    issue_name,
    progress,
    status_of,
    tally,
    tracked_entries,
    web_link,
)
from syncer.reading import Problem
from syncer.review import review_day, review_key
from syncer.settings import DigestSettings, Settings

log = logs.get_logger("pmsync.digest")

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
STATE_FILE = "digest-state.json"
_KEEP_PERIODS = 8


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
) -> Digest:
    """One recipient's digest. `state` is this recipient's part of the state file;
    `activities` the people's last activity on stalled issues, by item key."""
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


def _valid_record(record: object) -> bool:
    """A period's record as pmsync writes it: channels sent to, open items, when."""
    if not isinstance(record, dict):
        return False
    if not isinstance(record.get("sent", []), list) or not isinstance(record.get("open", []), list):
        return False
    try:
        datetime.fromisoformat(str(record.get("at", "2000-01-01")))
    except ValueError:
        return False
    return True


def _previous(state: Mapping[str, Any], period: str) -> Mapping[str, Any] | None:
    """The latest recorded period before `period`."""
    periods = state.get("periods", {})
    earlier = sorted(p for p in periods if p < period)
    return periods[earlier[-1]] if earlier else None


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


# --- rendering --------------------------------------------------------------------------------


def _change(now: float | None, before: float | None, percent: bool = False) -> str:
    if now is None or before is None:
        return ""
    delta = (now - before) * (100 if percent else 1)
    if abs(delta) < 0.05:
        return " (no change)"
    shown = f"{delta:+.0f} pt" if percent else f"{delta:+g}"
    return f" ({shown} since last digest)"


def headline(digest: Digest) -> list[tuple[str, str]]:
    """What changed, who is behind, then the figures and their trend."""
    f, p = digest.figures, digest.previous
    age = f"{f.median_age_days:g} days" if f.median_age_days is not None else "-"
    lines = []
    if digest.changes is not None:
        c = digest.changes
        lines.append(
            (
                f"Since {c.since}",
                f"{c.opened} opened, {c.closed} closed"
                + (f", {c.dropped} dropped" if c.dropped else "")
                + f", {c.newly_overdue} newly overdue",
            )
        )
    if digest.behind:
        lines.append(("Falling behind", "; ".join(_behind(row) for row in digest.behind[:3])))
    lines += [
        ("Open", f"{f.open}{_change(f.open, p.open if p else None)}"),
        ("Overdue", f"{f.overdue}{_change(f.overdue, p.overdue if p else None)}"),
        (
            "Completion rate",
            f"{f.completion_rate:.0%}"
            + _change(f.completion_rate, p.completion_rate if p else None, percent=True),
        ),
        (
            "Median days since the incident, open items",
            age + _change(f.median_age_days, p.median_age_days if p else None),
        ),
    ]
    return lines


def _behind(row: TeamRow) -> str:
    oldest = f", the oldest {_days(row.oldest_overdue_days)}" if row.oldest_overdue_days else ""
    return f"{row.team} ({row.tally.overdue} overdue{oldest})"


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


@dataclass(frozen=True, slots=True)
class _Block:
    """A part of the digest: a heading and its lists, each with a sub-heading (or none)."""

    title: str
    size: int
    lists: tuple[tuple[str, tuple[Entry, ...]], ...]


def _blocks(digest: Digest) -> Iterator[_Block]:
    """Needs you (escalated items, and those that need an owner: nobody to nudge); then each
    team (those behind first), its overdue, stalled, due-soon items."""
    needs = [
        (f"{title} ({len(found)})", found)
        for key, title in NEEDS_YOU.items()
        if (
            found := tuple(
                sorted(digest.sections[key], key=lambda e: _order(e, digest.statuses.get(e.key)))
            )
        )
    ]
    if needs:
        yield _Block("Needs you", sum(len(found) for _, found in needs), tuple(needs))
    teams: dict[str, list[tuple[str, tuple[Entry, ...]]]] = {}
    order = {row.team: i for i, row in enumerate(digest.behind)}
    for key, title in PER_TEAM:
        by_team: dict[str, list[Entry]] = {}
        for entry in digest.sections[key]:
            by_team.setdefault(entry.team, []).append(entry)
        for team, listed in by_team.items():
            if key == "due_soon":
                title = f"Due in the next {_days(digest.due_soon_days)}"
            teams.setdefault(team, []).append((f"{title} ({len(listed)})", tuple(listed)))
    for team in sorted(teams, key=lambda t: (order.get(t, len(order)), t)):
        lists = teams[team]
        yield _Block(team, sum(len(found) for _, found in lists), tuple(lists))
    for key, title in ENDED.items():
        if ended := tuple(digest.sections[key]):
            yield _Block(title, len(ended), (("", ended),))


def _progress_line(item: Progress) -> str:
    pm = item.postmortem
    team = f" ({pm.team})" if pm.team else ""
    line = f"{pm.title}{team}: {item.done} of {item.items - item.dropped} done"
    if item.dropped:
        line += f", {item.dropped} dropped"
    if item.overdue:
        line += f", {item.overdue} overdue"
    if item.review is not None:
        line += f"; review {issue_name(item.review.ref)} {item.review.state}"
    elif item.review_day is not None:
        line += f"; review on {item.review_day.isoformat()}"
    return line


def render_text(digest: Digest) -> str:
    out = [digest.subject, f"For {digest.title or digest.recipient}", ""]
    out += [f"{name}: {value}" for name, value in headline(digest)]
    if digest.previous is None:
        out.append("(no earlier digest: no trend yet)")
    for block in _blocks(digest):
        out += ["", f"{block.title.upper()} ({block.size})"]
        for title, entries in block.lists:
            if title:
                out.append(f"  {title}")
            for entry in entries:
                snap = entry.snapshot
                out.append(f"  - {snap.title} [{issue_name(snap.ref)}]")
                where = f"{entry.team} / {entry.postmortem_title}"
                out.append(f"    {where}; {digest.detail(entry)}")
                if link := web_link(snap.ref):
                    out.append(f"    {link}")
    if digest.progress:
        out += ["", f"POST-MORTEMS WITH OPEN ITEMS ({len(digest.progress)})"]
        out += [f"  - {_progress_line(item)}" for item in digest.progress]
    if digest.empty:
        out += ["", "Nothing overdue, stalled, unowned, escalated or due soon."]
    return "\n".join(out) + "\n"


def render_markdown(digest: Digest) -> str:
    """For chat channels: Apprise turns Markdown into each service's own format."""
    out = [f"**{digest.subject}**", ""]
    out += [f"- {name}: {value}" for name, value in headline(digest)]
    for block in _blocks(digest):
        out += ["", f"**{block.title} ({block.size})**"]
        for title, entries in block.lists:
            if title:
                out.append(f"_{title}_")
            for entry in entries:
                snap = entry.snapshot
                link = web_link(snap.ref)
                name = f"{snap.ref.key} {snap.title}"
                shown = f"[{name}]({link})" if link else f"{snap.title} ({issue_name(snap.ref)})"
                out.append(
                    f"- {shown} · {entry.team} / {entry.postmortem_title} · {digest.detail(entry)}"
                )
    if digest.progress:
        out += ["", "**Post-mortems with open items**"]
        out += [f"- {_progress_line(item)}" for item in digest.progress]
    return "\n".join(out) + "\n"


_CELL = (
    'style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top;'
    'overflow-wrap:anywhere"'
)


_DATE_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _whole_dates(text: str) -> str:
    """Dates kept on one line: long addresses may break anywhere, a date never."""
    return _DATE_RE.sub(lambda m: f'<span style="white-space:nowrap">{m.group(0)}</span>', text)


def render_html(digest: Digest) -> str:
    """E-mail-safe HTML: tables and inline styles only, every web link also written out;
    two columns at most, so that a phone shows it without scrolling sideways."""
    e = html.escape
    figures = "<br>".join(f"<b>{e(name)}</b>: {e(value)}" for name, value in headline(digest))
    parts = [
        '<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222;'
        'max-width:760px;overflow-wrap:anywhere">',
        f"<h2>{e(digest.subject)}</h2>",
        f"<p>For {e(digest.title or digest.recipient)}</p>",
        f'<p style="font-size:15px">{figures}</p>',
    ]
    if digest.previous is None:
        parts.append("<p><em>No earlier digest: no trend yet.</em></p>")
    for block in _blocks(digest):
        parts.append(f"<h3>{e(block.title)} ({block.size})</h3>")
        for title, entries in block.lists:
            if title:
                parts.append(f"<h4>{e(title)}</h4>")
            parts.append('<table cellspacing="0" style="border-collapse:collapse;width:100%">')
            for entry in entries:
                snap = entry.snapshot
                link = web_link(snap.ref)
                name = e(f"{snap.ref.key} {snap.title}")
                item = (
                    f'<a href="{e(link)}">{name}</a><br>'
                    f'<span style="color:#666;font-size:12px">{e(link)}</span>'
                    if link
                    else f"{e(snap.title)} ({e(issue_name(snap.ref))})"
                )
                parts.append(
                    f"<tr><td {_CELL}>{item}</td><td {_CELL}>"
                    f"{e(entry.team)} / {e(entry.postmortem_title)}<br>"
                    f"{_whole_dates(e(digest.detail(entry)))}</td></tr>"
                )
            parts.append("</table>")
    if digest.progress:
        parts.append(f"<h3>Post-mortems with open items ({len(digest.progress)})</h3><ul>")
        parts += [f"<li>{_whole_dates(e(_progress_line(item)))}</li>" for item in digest.progress]
        parts.append("</ul>")
    if digest.empty:
        parts.append("<p>Nothing overdue, stalled, unowned, escalated or due soon.</p>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"


# --- state and delivery -----------------------------------------------------------------------


def channel_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]


def channel_name(url: str) -> str:
    """A channel as logs may show it: scheme and host, never a token or password."""
    if url.startswith("file://"):
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("mailto", "mailtos"):
        return f"{parts.scheme}://{parts.hostname or ''}"
    return f"{parts.scheme}://…{channel_id(url)[:6]}"  # other URLs carry tokens everywhere


@dataclass(slots=True)
class DigestState:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DigestState:
        data = statefile.load(path, "digest_state_unreadable")
        if data is None:
            return cls(path)
        if not isinstance(data, dict) or not isinstance(data.get("recipients", {}), dict):
            log.error("digest_state_unreadable", path=str(path), error="not a pmsync state")
            return cls(path)
        recipients = {}
        for name, entry in data.get("recipients", {}).items():
            periods = entry.get("periods", {}) if isinstance(entry, dict) else None
            if not isinstance(periods, dict):
                continue
            recipients[name] = {
                **entry,
                "periods": {
                    period: record for period, record in periods.items() if _valid_record(record)
                },
            }
        if recipients != data.get("recipients", {}):
            log.error("digest_state_unreadable", path=str(path), error="entries of a wrong shape")
        return cls(path, {**data, "recipients": recipients})

    def of(self, recipient: str) -> dict[str, Any]:
        found: dict[str, Any] = self.data.setdefault("recipients", {}).setdefault(recipient, {})
        return found

    def sent(self, recipient: str, period: str, url: str) -> bool:
        periods = self.of(recipient).get("periods", {})
        return channel_id(url) in periods.get(period, {}).get("sent", [])

    def record(self, digest: Digest, url: str) -> None:
        periods = self.of(digest.recipient).setdefault("periods", {})
        entry = periods.setdefault(digest.period, {"sent": []})
        entry["figures"] = digest.figures.as_dict()
        entry["open"] = list(digest.open_keys)
        entry["at"] = digest.now.isoformat()
        if channel_id(url) not in entry["sent"]:
            entry["sent"].append(channel_id(url))
        for old in sorted(periods)[:-_KEEP_PERIODS]:
            del periods[old]

    def save(self) -> bool:
        """Whether the state was written (a full disk leaves it as it was, and says so)."""
        return statefile.save(self.path, self.data, "digest_state_unsaved")


@dataclass(frozen=True, slots=True)
class Delivery:
    recipient: str
    channel: str  # channel_name(): safe to show
    status: str  # "sent", "skipped" or "failed"
    detail: str = ""


def deliver(digest: Digest, url: str, base: Path) -> str | None:
    """Send one digest to one channel; the reason it failed, or None. `file://FOLDER` (relative
    to `base`, or `file:///absolute`) writes the digest there as .txt and .html."""
    if url.startswith("file://"):
        return _write_files(digest, base / url.removeprefix("file://"))
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "not a channel URL Apprise understands"
    is_mail = urllib.parse.urlsplit(url).scheme in ("mailto", "mailtos")
    attach = apprise.AppriseAttachment()
    for path in digest.attachments if is_mail else ():
        attach.add(str(path))
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
        ok = notifier.notify(
            title=digest.subject,
            body=render_html(digest) if is_mail else render_markdown(digest),
            body_format=apprise.NotifyFormat.HTML if is_mail else apprise.NotifyFormat.MARKDOWN,
            attach=attach if len(attach) else None,
        )
        messages = captured.getvalue().strip()
    if ok:
        return None
    return REDACTOR.scrub("; ".join(messages.splitlines())) or "delivery failed"


def _write_files(digest: Digest, folder: Path) -> str | None:
    stem = f"{digest.recipient.replace(':', '-')}-{digest.period}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stem}.txt").write_text(render_text(digest), encoding="utf-8")
        (folder / f"{stem}.html").write_text(render_html(digest), encoding="utf-8")
    except OSError as exc:
        return f"cannot write {folder}: {exc.strerror or exc}"
    return None


@dataclass(slots=True)
class DigestRun:
    digests: list[Digest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def failed(self) -> int:
        return sum(1 for d in self.deliveries if d.status == "failed")


def digest(
    settings: Settings,
    *,
    now: datetime,
    dry_run: bool,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
) -> DigestRun:
    """Build every recipient's digest and (unless dry) send it to each channel not yet served
    this period. A failed channel is reported and retried on the next run. Periods (weeks,
    days) are those of `[schedule] timezone`."""
    now = now.astimezone(ZoneInfo(settings.schedule.timezone))
    setup = set_up(settings, now=now, trackers=trackers, sources=sources)
    directory, reading, active = setup.directory, setup.reading, setup.trackers
    run = DigestRun(problems=list(reading.problems), dry_run=dry_run)
    reviews: dict[str, IssueSnapshot] = {}
    entries, postmortems = tracked_entries(
        active, reading.postmortems, directory, run.problems, reviews, reading.present({})
    )
    state = DigestState.load(settings.path(settings.state_dir) / STATE_FILE)
    followup = settings.followup
    context = replace(
        context_of(followup, now), due_soon=timedelta(days=settings.digest.due_soon_days)
    )
    recipients = recipients_of(settings.digest, directory)
    activities = _quiet(active, entries, context, run.problems) if recipients else {}
    attachments = review_attachments(
        postmortems,
        followup.review_after_weeks,
        settings.path(settings.state_dir) / "reviews",
        now,
        settings.digest.period,
    )
    for recipient in recipients:
        built = build(
            recipient,
            entries,
            context=context,
            settings=settings.digest,
            state=state.of(recipient.name),
            attachments=attachments,
            postmortems=postmortems,
            reviews=reviews,
            activities=activities,
            review_after_weeks=followup.review_after_weeks,
        )
        run.digests.append(built)
        for url in recipient.channels:
            name = channel_name(url)
            if state.sent(recipient.name, built.period, url):
                run.deliveries.append(
                    Delivery(recipient.name, name, "skipped", f"already sent in {built.period}")
                )
                continue
            if dry_run:
                run.deliveries.append(Delivery(recipient.name, name, "would send"))
                continue
            if STOPPING.is_set():
                run.deliveries.append(Delivery(recipient.name, name, "failed", str(Interrupted())))
                continue
            error = deliver(built, url, settings.path(Path(".")))
            if error is None:
                state.record(built, url)
                run.deliveries.append(Delivery(recipient.name, name, "sent"))
                log.info("digest_sent", recipient=recipient.name, channel=name)
            else:
                run.deliveries.append(Delivery(recipient.name, name, "failed", error))
                log.info("digest_failed", recipient=recipient.name, channel=name, error=error)
    sent = any(d.status == "sent" for d in run.deliveries)
    if not dry_run and sent and not state.save():
        message = "cannot save (disk full or read only?): the next run may send again"
        run.problems.append(Problem(str(state.path), message, False))
    return run


def _quiet(
    trackers: Mapping[str, Tracker],
    entries: Sequence[Entry],
    context: FollowupContext,
    problems: list[Problem],
) -> dict[str, Activity]:
    """People's last activity on the stalled issues, by item key: a few reads, for the few
    that are stuck. An issue whose activity cannot be read shows no quiet days."""
    found: dict[str, Activity] = {}
    for name, tracker in trackers.items():
        stuck = {
            e.snapshot.ref: e.key
            for e in entries
            if e.tracker == name and e.filed and status_of(e, context).stalled
        }
        if stuck:
            read, _ = read_activities(name, tracker, list(stuck), problems)
            found.update((stuck[ref], activity) for ref, activity in read.items())
    return found
