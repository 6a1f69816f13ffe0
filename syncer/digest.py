"""Digests for program managers: what is overdue, stalled, unowned, escalated or due soon, and
what was completed since the last digest, for the items each recipient looks after.

Building is pure (snapshots, post-mortems, people and the clock in; digests out). Delivery goes
through Apprise, one URL per channel, plus `file://` folders that pmsync writes itself. A small
state file remembers, per recipient, the figures and open items of each period and the channels
already served, so a digest is never sent twice in one period and trends survive a restart; a
missing state file only means "no trend".
"""

from __future__ import annotations

import hashlib
import html
import json
import statistics
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import DocumentSource, Tracker
from rules.followup import FollowupContext, overdue, stalled
from syncer import logs
from syncer.errors import STOPPING, Interrupted
from syncer.followup import context_of
from syncer.logs import REDACTOR
from syncer.model import IssueSnapshot, Postmortem, TrackerRef
from syncer.people import Directory, load_directory
from syncer.pipeline import build_trackers, read_configured, read_snapshots
from syncer.reading import Problem
from syncer.review import is_review, review_day, review_key
from syncer.settings import DigestSettings, Settings

log = logs.get_logger("pmsync.digest")

SECTIONS = (
    ("overdue", "Overdue"),
    ("stalled", "Stalled"),
    ("unowned", "Unowned"),
    ("escalated", "Escalated"),
    ("due_soon", "Due in the next days"),
    ("completed", "Completed since the last digest"),
)
NO_TEAM = "(no team)"
STATE_FILE = "digest-state.json"
_KEEP_PERIODS = 8


@dataclass(frozen=True, slots=True)
class Entry:
    """One synced issue, with what the documents and the directory say about it."""

    tracker: str
    snapshot: IssueSnapshot
    team: str
    postmortem_id: str
    postmortem_title: str
    owners: tuple[str, ...]  # people-directory keys of the assignees, else their handles
    incident: date | None = None  # the post-mortem's date
    done_in_document: bool = False  # marked done in the post-mortem, whatever the tracker says

    @property
    def filed(self) -> bool:
        """Whether there is an issue: an item done before it was filed has none."""
        return bool(self.snapshot.ref.key)

    @property
    def done(self) -> bool:
        return self.done_in_document or self.snapshot.state == "closed"


@dataclass(frozen=True, slots=True)
class Figures:
    open: int
    overdue: int
    completion_rate: float  # closed / all, 0..1
    median_age_days: float | None  # of open items

    def as_dict(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "overdue": self.overdue,
            "completion_rate": self.completion_rate,
            "median_age_days": self.median_age_days,
        }


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    channels: tuple[str, ...]  # Apprise URLs or file:// folders; secret
    teams: frozenset[str] = frozenset()  # empty: every team
    people: frozenset[str] = frozenset()  # directory keys: a manager's reports

    def wants(self, entry: Entry) -> bool:
        if self.people:
            return bool(self.people & set(entry.owners))
        return not self.teams or entry.team in self.teams


@dataclass(frozen=True, slots=True)
class Digest:
    recipient: str
    period: str
    now: datetime
    sections: Mapping[str, Sequence[Entry]]
    figures: Figures
    previous: Figures | None
    open_keys: tuple[str, ...]
    attachments: tuple[Path, ...] = ()
    # Each item is listed once, in its most urgent section; the other conditions it meets.
    badges: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.sections.values())

    def detail(self, entry: Entry) -> str:
        """An item's line: owner, due date, how late, and its other conditions."""
        return _detail(entry, self.now.date(), self.badges.get(entry.snapshot.item_key, ()))

    @property
    def subject(self) -> str:
        counts = ", ".join(
            f"{len(self.sections[key])} {key.replace('_', ' ')}"
            for key, _ in SECTIONS[:3]
            if self.sections[key]
        )
        return f"Post-mortem actions, {self.period}: " + (counts or "nothing stale")


def period_of(now: datetime, period: str) -> tuple[str, date, date]:
    """The period `now` falls in: its name and first and last day."""
    today = now.date()
    if period == "day":
        return today.isoformat(), today, today
    year, week, weekday = today.isocalendar()
    start = today - timedelta(days=weekday - 1)
    return f"{year}-W{week:02d}", start, start + timedelta(days=6)


def tracked_entries(
    trackers: Mapping[str, Tracker],
    postmortems: Sequence[Postmortem],
    directory: Directory,
    problems: list[Problem],
) -> list[Entry]:
    """`entries_of` every tracker; a tracker that cannot be read is added to `problems`."""
    entries: list[Entry] = []
    for name, tracker in trackers.items():
        snapshots = read_snapshots(name, tracker, problems)
        if snapshots is not None:
            entries += entries_of(name, snapshots, postmortems, directory)
    return entries + _done_unfiled(entries, postmortems, directory)


def _done_unfiled(
    entries: Sequence[Entry], postmortems: Sequence[Postmortem], directory: Directory
) -> list[Entry]:
    """Items marked done in their post-mortem before any issue was filed: they count as done
    in every figure, as an entry with no issue."""
    filed = {entry.snapshot.item_key for entry in entries}
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
                )
            )
    return found


def entries_of(
    tracker: str,
    snapshots: Iterable[IssueSnapshot],
    postmortems: Sequence[Postmortem],
    directory: Directory,
) -> list[Entry]:
    """The action-item issues of one tracker (review tickets left out), with team and owners:
    the post-mortem's team, else the owner's team in the directory."""
    by_id = {pm.id: pm for pm in postmortems}
    done = {item.key for pm in postmortems for item in pm.items if item.is_done}
    found = []
    for snap in snapshots:
        if is_review(snap.item_key):
            continue
        pm = by_id.get(snap.postmortem_id or "")
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
                done_in_document=snap.item_key in done,
            )
        )
    return found


def recipients_of(settings: DigestSettings, directory: Directory) -> list[Recipient]:
    """Named lists, then one recipient per manager with reports (when `email_url` is set)."""
    found = [
        Recipient(
            name=name,
            channels=tuple(c.get_secret_value() for c in entry.channels),
            teams=frozenset(entry.teams),
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
        found.append(Recipient(name=f"manager:{key}", channels=(url,), people=frozenset(people)))
    return found


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def is_overdue(snap: IssueSnapshot, context: FollowupContext) -> bool:
    return overdue(snap, None, None, context) is not None


def is_stalled(snap: IssueSnapshot, context: FollowupContext) -> bool:
    """Labelled stalled by `check`, or not updated at all for the stale period."""
    return snap.state == "open" and (
        "stalled" in snap.labels or stalled(snap, None, None, context) is not None
    )


def figures_of(entries: Sequence[Entry], context: FollowupContext) -> Figures:
    """Open items, overdue ones, the share done (in the tracker or in the post-mortem, filed
    or not), and the median days since the incident of the open ones."""
    open_ = [e for e in entries if not e.done]
    ages = [days for e in open_ if (days := days_since(e.incident, context.today)) is not None]
    return Figures(
        open=len(open_),
        overdue=sum(1 for e in open_ if is_overdue(e.snapshot, context)),
        completion_rate=(len(entries) - len(open_)) / len(entries) if entries else 0.0,
        median_age_days=round(statistics.median(ages), 1) if ages else None,
    )


def days_since(day: date | None, today: date) -> int | None:
    """Whole days from `day` to `today`; None when unknown or still to come."""
    if day is None or day > today:
        return None
    return (today - day).days


def build(
    recipient: Recipient,
    entries: Sequence[Entry],
    *,
    context: FollowupContext,
    settings: DigestSettings,
    state: Mapping[str, Any],
    attachments: Sequence[Path] = (),
) -> Digest:
    """One recipient's digest. `state` is this recipient's part of the state file."""
    now = context.now
    mine = [e for e in entries if recipient.wants(e)]
    period, start, _ = period_of(now, settings.period)
    previous = _previous(state, period)
    today = now.date()
    soon = today + timedelta(days=settings.due_soon_days)
    sections: dict[str, list[Entry]] = {key: [] for key, _ in SECTIONS}
    was_open = set(previous.get("open", ())) if previous else set()
    last_sent = datetime.fromisoformat(previous["at"]) if previous and "at" in previous else None
    badges: dict[str, tuple[str, ...]] = {}
    for entry in mine:
        snap = entry.snapshot
        if entry.done:
            if not entry.filed:
                continue  # done before it was filed: counted, not listed
            if previous is not None:  # open then, or opened since, and closed now
                created = snap.created_at
                done = snap.item_key in was_open or bool(
                    last_sent and created and created > last_sent
                )
            else:  # no history: what closed (last changed) since the period began
                done = snap.updated_at is not None and snap.updated_at.date() >= start
            if done:
                sections["completed"].append(entry)
            continue
        late = is_overdue(snap, context)
        conditions = [
            name
            for name, holds in (
                ("overdue", late),
                ("stalled", is_stalled(snap, context)),
                ("unowned", not snap.assignees),
                ("escalated", "escalated" in snap.labels),
                ("due_soon", not late and snap.due is not None and today <= snap.due <= soon),
            )
            if holds
        ]
        if conditions:  # listed once, in its most urgent section; the rest as badges
            sections[conditions[0]].append(entry)
            badges[snap.item_key] = tuple(conditions[1:])
    for lines in sections.values():
        lines.sort(key=_order)
    before = previous.get("figures") if previous else None
    return Digest(
        recipient=recipient.name,
        period=period,
        now=now,
        sections=sections,
        figures=figures_of(mine, context),
        previous=Figures(**before) if before else None,
        open_keys=tuple(sorted(e.snapshot.item_key for e in mine if not e.done)),
        attachments=tuple(attachments),
        badges=badges,
    )


def _order(entry: Entry) -> tuple[str, str, float, str]:
    """Grouped by team, then post-mortem; oldest first."""
    created = entry.snapshot.created_at
    return (
        entry.team,
        entry.postmortem_title,
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
    f, p = digest.figures, digest.previous
    age = f"{f.median_age_days:g} days" if f.median_age_days is not None else "-"
    return [
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


def _detail(entry: Entry, today: date, badges: Sequence[str] = ()) -> str:
    """Owner, due date, and how late: days overdue, else days since the incident."""
    snap = entry.snapshot
    bits = [", ".join(entry.owners) or "no owner"]
    if snap.due:
        bits.append(f"due {snap.due.isoformat()}")
    overdue_days = days_since(snap.due, today) if snap.due and snap.due < today else None
    if overdue_days:
        bits.append(f"{_days(overdue_days)} overdue")
    elif (since := days_since(entry.incident, today)) is not None:
        bits.append(f"{_days(since)} since the incident")
    bits += [badge.replace("_", " ") for badge in badges]
    return "; ".join(bits)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _shown(digest: Digest) -> Iterator[tuple[str, int, list[tuple[str, str, list[Entry]]]]]:
    """Each non-empty section: its title, size, and lines grouped by team and post-mortem."""
    for key, title in SECTIONS:
        lines = digest.sections[key]
        if not lines:
            continue
        groups: dict[tuple[str, str], list[Entry]] = {}
        for entry in lines:
            groups.setdefault((entry.team, entry.postmortem_title), []).append(entry)
        yield title, len(lines), [(team, pm, group) for (team, pm), group in groups.items()]


def render_text(digest: Digest) -> str:
    out = [digest.subject, f"For {digest.recipient}", ""]
    out += [f"{name}: {value}" for name, value in headline(digest)]
    if digest.previous is None:
        out.append("(no earlier digest: no trend yet)")
    for title, size, groups in _shown(digest):
        out += ["", f"{title} ({size})"]
        for team, pm, group in groups:
            out.append(f"  {team} / {pm}")
            for entry in group:
                snap = entry.snapshot
                out.append(f"    - {snap.ref.key} {snap.title} ({digest.detail(entry)})")
                out.append(f"      {snap.ref.url}")
    if digest.empty:
        out += ["", "Nothing overdue, stalled, unowned, escalated or due soon."]
    return "\n".join(out) + "\n"


def render_markdown(digest: Digest) -> str:
    """For chat channels: Apprise turns Markdown into each service's own format."""
    out = [f"**{digest.subject}**", ""]
    out += [f"- {name}: {value}" for name, value in headline(digest)]
    for title, size, groups in _shown(digest):
        out += ["", f"**{title} ({size})**"]
        for team, pm, group in groups:
            for entry in group:
                snap = entry.snapshot
                out.append(
                    f"- [{snap.ref.key} {snap.title}]({snap.ref.url}) · {team} / {pm} · "
                    + digest.detail(entry)
                )
    return "\n".join(out) + "\n"


_CELL = 'style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top"'


def render_html(digest: Digest) -> str:
    """E-mail-safe HTML: tables and inline styles only, every link also written out."""
    e = html.escape
    figures = "<br>\n".join(f"<b>{e(name)}</b>: {e(value)}" for name, value in headline(digest))
    parts = [
        '<div style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">',
        f"<h2>{e(digest.subject)}</h2>",
        f"<p>For {e(digest.recipient)}</p>",
        f'<p style="font-size:15px">{figures}</p>',
    ]
    if digest.previous is None:
        parts.append("<p><em>No earlier digest: no trend yet.</em></p>")
    for title, size, groups in _shown(digest):
        parts.append(f"<h3>{e(title)} ({size})</h3>")
        parts.append('<table cellspacing="0" style="border-collapse:collapse;width:100%">')
        parts.append(
            f"<tr><th {_CELL}>Team / post-mortem</th><th {_CELL}>Item</th>"
            f"<th {_CELL}>Owner, due, age</th></tr>"
        )
        for team, pm, group in groups:
            for entry in group:
                snap = entry.snapshot
                url = e(snap.ref.url)
                parts.append(
                    f"<tr><td {_CELL}>{e(team)} / {e(pm)}</td>"
                    f'<td {_CELL}><a href="{url}">{e(snap.ref.key)} {e(snap.title)}</a>'
                    f'<br><span style="color:#666;font-size:12px">{url}</span></td>'
                    f"<td {_CELL}>{e(digest.detail(entry))}</td></tr>"
                )
        parts.append("</table>")
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
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            log.error("digest_state_unreadable", path=str(path), error=str(exc))
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

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=2, sort_keys=True), encoding="utf-8")
        temporary.replace(self.path)


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
    directory = load_directory(settings)
    reading = read_configured(settings, sources)
    run = DigestRun(problems=list(reading.problems), dry_run=dry_run)
    active = trackers if trackers is not None else build_trackers(settings, clock=lambda: now)
    entries = tracked_entries(active, reading.postmortems, directory, run.problems)
    state = DigestState.load(settings.path(settings.state_dir) / STATE_FILE)
    followup = settings.followup
    attachments = review_attachments(
        reading.postmortems,
        followup.review_after_weeks,
        settings.path(settings.state_dir) / "reviews",
        now,
        settings.digest.period,
    )
    for recipient in recipients_of(settings.digest, directory):
        built = build(
            recipient,
            entries,
            context=context_of(followup, now),
            settings=settings.digest,
            state=state.of(recipient.name),
            attachments=attachments,
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
    if not dry_run and any(d.status == "sent" for d in run.deliveries):
        try:
            state.save()
        except OSError as exc:
            run.problems.append(Problem(str(state.path), f"cannot save: {exc}", False))
            log.error("digest_state_unsaved", path=str(state.path), error=str(exc))
    return run
