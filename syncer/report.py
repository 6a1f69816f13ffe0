"""`pmsync report`: one self-contained HTML page of every post-mortem and action item, their
status in the trackers, filters, and charts (open vs closed over time, age of open items,
overdue by team). No external assets: styles, script and SVG charts are all inline.

`figures()` computes everything the page shows, so tests can compare the page to the data.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from connectors.base import DocumentSource, Tracker
from rules.followup import FollowupContext
from syncer.digest import Entry, days_since, is_overdue, is_stalled, tracked_entries
from syncer.followup import context_of
from syncer.people import load_directory
from syncer.pipeline import build_trackers, read_configured
from syncer.reading import Problem
from syncer.settings import Settings

AGE_BUCKETS = ((0, 7, "0–7 days"), (8, 30, "8–30 days"), (31, 90, "31–90 days"))
OLDEST = "over 90 days"


@dataclass(frozen=True, slots=True)
class Row:
    postmortem: str
    team: str
    title: str
    owner: str
    due: date | None
    tracker: str
    ref: str
    url: str
    status: str  # "open", "in progress", "done" or "not synced"
    overdue: bool
    stalled: bool
    escalated: bool
    since_incident: int | None  # days since the post-mortem's date
    days_overdue: int | None = None


@dataclass(slots=True)
class Report:
    now: datetime
    rows: list[Row] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def collect(
    settings: Settings,
    *,
    now: datetime,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
) -> Report:
    """Every item of every post-mortem, with its issue where one exists."""
    directory = load_directory(settings)
    reading = read_configured(settings, sources)
    report = Report(now=now, problems=list(reading.problems))
    active = trackers if trackers is not None else build_trackers(settings, clock=lambda: now)
    report.entries = tracked_entries(active, reading.postmortems, directory, report.problems)
    issued = {e.snapshot.item_key: e for e in report.entries}
    context = context_of(settings.followup, now)
    for pm in reading.postmortems:
        if pm.template:
            continue
        for item in pm.items:
            if item.placeholder:
                continue
            entry = issued.pop(item.key, None)
            report.rows.append(
                _row(pm.title, pm.team, item.title, item.owner, entry, context, pm.incident_date)
            )
            if item.is_done:  # done in the post-mortem: done, filed or not
                report.rows[-1] = replace(report.rows[-1], status="done", overdue=False)
    for entry in issued.values():  # issues whose item left the documents
        report.rows.append(
            _row(
                entry.postmortem_title,
                None,
                entry.snapshot.title,
                None,
                entry,
                context,
                entry.incident,
            )
        )
    report.rows.sort(key=lambda r: (r.postmortem, r.title))
    return report


def _row(
    postmortem: str,
    team: str | None,
    title: str,
    owner: str | None,
    entry: Entry | None,
    context: FollowupContext,
    incident: date | None,
) -> Row:
    since = days_since(incident, context.today)
    if entry is None:
        return Row(
            postmortem,
            team or "(no team)",
            title,
            owner or "",
            None,
            "",
            "",
            "",
            "not synced",
            False,
            False,
            False,
            since,
        )
    snap = entry.snapshot
    status = (
        "done"
        if snap.state == "closed"
        else ("in progress" if snap.status_category == "indeterminate" else "open")
    )
    is_open = snap.state == "open"
    late = is_overdue(snap, context)
    return Row(
        postmortem=postmortem,
        team=entry.team,
        title=snap.title,
        owner=", ".join(entry.owners),
        due=snap.due,
        tracker=entry.tracker,
        ref=snap.ref.key,
        url=snap.ref.url,
        status=status,
        overdue=late,
        stalled=is_stalled(snap, context),
        escalated=is_open and "escalated" in snap.labels,
        since_incident=since,
        days_overdue=days_since(snap.due, context.today) if late and snap.due else None,
    )


def figures(report: Report) -> dict[str, Any]:
    """Everything the page shows as numbers."""
    rows = report.rows
    synced = [r for r in rows if r.status != "not synced"]
    open_ = [r for r in synced if r.status != "done"]
    ages = Counter(_bucket(r.since_incident) for r in open_ if r.since_incident is not None)
    return {
        "postmortems": len({r.postmortem for r in rows}),
        "items": len(rows),
        "open": len(open_),
        "done": len(synced) - len(open_),
        "overdue": sum(1 for r in rows if r.overdue),
        "not_synced": len(rows) - len(synced),
        "age": {label: ages.get(label, 0) for label in (*(b[2] for b in AGE_BUCKETS), OLDEST)},
        "overdue_by_team": dict(sorted(Counter(r.team for r in rows if r.overdue).items())),
        "over_time": _over_time(report),
    }


def _bucket(days: int) -> str:
    return next((label for low, high, label in AGE_BUCKETS if low <= days <= high), OLDEST)


def _over_time(report: Report) -> list[dict[str, Any]]:
    """Open and closed issues at the end of each week, from the first issue to now. A closed
    issue counts as closed from its last update (trackers do not all expose a closing time)."""
    snaps = [e.snapshot for e in report.entries if e.snapshot.created_at]
    if not snaps:
        return []
    end = report.now.date()
    start = min(s.created_at.date() for s in snaps if s.created_at)
    weeks = []
    day = start + timedelta(days=6 - start.weekday())  # the first Sunday
    while True:
        edge = min(day, end)
        created = [s for s in snaps if s.created_at and s.created_at.date() <= edge]
        closed = sum(
            1
            for s in created
            if s.state == "closed" and (s.updated_at is None or s.updated_at.date() <= edge)
        )
        weeks.append({"week": edge.isoformat(), "open": len(created) - closed, "closed": closed})
        if day >= end:
            return weeks
        day += timedelta(weeks=1)


# --- the page ---------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif;color:#1f2328;
margin:0 auto;max-width:1200px;padding:16px 24px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:24px 0 8px}
.figures{display:flex;gap:12px;flex-wrap:wrap}
.figure{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:90px}
.figure b{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px}
figure{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:11px;fill:#1f2328}
.filters{display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin:8px 0}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
.flag{display:inline-block;border-radius:10px;padding:0 6px;font-size:12px;margin-left:4px}
.overdue{background:#ffebe9;color:#82071e}.stalled{background:#fff8c5;color:#6b4f00}
.escalated{background:#fbefff;color:#6e2b8a}.status-done{color:#1a7f37}
.status-not-synced{color:#656d76}
"""

_SCRIPT = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#items tbody tr"));
  var selects = Array.prototype.slice.call(document.querySelectorAll(".filters select"));
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var visible = selects.every(function (s) {
        return !s.value || row.dataset[s.name] === s.value;
      });
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    document.getElementById("shown").textContent = String(shown);
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  apply();
})();
"""


def render(report: Report) -> str:
    e = html.escape
    data = figures(report)
    cards = "".join(
        f'<div class="figure" data-figure="{key}"><b>{data[key]}</b>{e(label)}</div>'
        for key, label in (
            ("postmortems", "post-mortems"),
            ("items", "action items"),
            ("open", "open"),
            ("done", "done"),
            ("overdue", "overdue"),
            ("not_synced", "not synced"),
        )
    )
    rows = report.rows
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        "<title>Post-mortem action items</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Post-mortem action items</h1>",
        f"<p>As of {e(report.now.strftime('%Y-%m-%d %H:%M %Z'))}.</p>",
        f'<div class="figures">{cards}</div>',
        '<h2>Charts</h2><div class="charts">',
        _line_chart("over-time", "Open and closed over time", data["over_time"]),
        _bar_chart("age", "Open items, days since the incident", data["age"]),
        _bar_chart("overdue-by-team", "Overdue by team", data["overdue_by_team"]),
        "</div>",
        "<h2>Items</h2>",
        '<div class="filters">',
        _select("team", "Team", sorted({r.team for r in rows})),
        _select("owner", "Owner", sorted({r.owner for r in rows if r.owner})),
        _select("status", "Status", ["open", "in progress", "done", "not synced"]),
        f'<span>Showing <b id="shown">{len(rows)}</b> of {len(rows)}</span></div>',
        '<table id="items"><thead><tr><th>Post-mortem</th><th>Team</th><th>Item</th>'
        "<th>Owner</th><th>Due</th><th>Days</th><th>Issue</th><th>Status</th></tr></thead>"
        "<tbody>",
    ]
    for row in rows:
        flags = "".join(
            f'<span class="flag {name}">{name}</span>'
            for name, on in (
                ("overdue", row.overdue),
                ("stalled", row.stalled),
                ("escalated", row.escalated),
            )
            if on
        )
        issue = f'{e(row.tracker)} <a href="{e(row.url)}">{e(row.ref)}</a>' if row.ref else "-"
        parts.append(
            f'<tr data-team="{e(row.team)}" data-owner="{e(row.owner)}" '
            f'data-status="{e(row.status)}"><td>{e(row.postmortem)}</td><td>{e(row.team)}</td>'
            f"<td>{e(row.title)}</td><td>{e(row.owner) or '-'}</td>"
            f"<td>{row.due.isoformat() if row.due else '-'}</td><td>{_age(row)}</td>"
            f"<td>{issue}</td>"
            f'<td class="status-{row.status.replace(" ", "-")}">{e(row.status)}{flags}</td></tr>'
        )
    parts += ["</tbody></table>", f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _age(row: Row) -> str:
    """Days overdue for an overdue item, else days since the incident."""
    if row.status == "done":
        return "-"
    if row.overdue and row.days_overdue is not None:
        return f"{row.days_overdue} overdue"
    return "-" if row.since_incident is None else f"{row.since_incident} since the incident"


def _select(name: str, label: str, values: Sequence[str]) -> str:
    options = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)
    return (
        f'<label>{label} <select name="{name}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def _figure(name: str, caption: str, inner: str) -> str:
    e = html.escape
    return f'<figure data-chart="{name}"><figcaption>{e(caption)}</figcaption>{inner}</figure>'


def _bar_chart(name: str, caption: str, values: Mapping[str, int]) -> str:
    """Horizontal bars, one per label, each carrying its value in `data-value`."""
    e = html.escape
    if not values:
        return _figure(name, caption, "<p>None.</p>")
    top = max(values.values()) or 1
    height = 26 * len(values) + 8
    bars = []
    for i, (label, value) in enumerate(values.items()):
        y = 4 + 26 * i
        width = 200 * value / top
        bars.append(
            f'<g class="bar" data-label="{e(label)}" data-value="{value}">'
            f"<title>{e(label)}: {value}</title>"
            f'<text x="0" y="{y + 15}">{e(label)}</text>'
            f'<rect x="110" y="{y}" width="{width:.1f}" height="20" fill="#0969da"></rect>'
            f'<text x="{114 + width:.1f}" y="{y + 15}">{value}</text></g>'
        )
    svg = f'<svg viewBox="0 0 360 {height}" width="100%" role="img" aria-label="{e(caption)}">'
    return _figure(name, caption, svg + "".join(bars) + "</svg>")


def _line_chart(name: str, caption: str, weeks: Sequence[Mapping[str, Any]]) -> str:
    """Open (red) and closed (green) issues at the end of each week."""
    e = html.escape
    if not weeks:
        return _figure(name, caption, "<p>No issues yet.</p>")
    top = max(max(w["open"], w["closed"]) for w in weeks) or 1
    step = 300 / max(len(weeks) - 1, 1)
    series = []
    for key, colour in (("open", "#cf222e"), ("closed", "#1a7f37")):
        points = [(40 + step * i, 150 - 130 * w[key] / top) for i, w in enumerate(weeks)]
        dots = "".join(
            f'<circle class="point" data-series="{key}" data-week="{w["week"]}" '
            f'data-value="{w[key]}" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
            f"<title>{key} at {w['week']}: {w[key]}</title></circle>"
            for (x, y), w in zip(points, weeks, strict=True)
        )
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        series.append(
            f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"></polyline>'
            + dots
        )
    axis = (
        f'<text x="0" y="24">{top}</text><text x="0" y="154">0</text>'
        f'<text x="40" y="172">{weeks[0]["week"]}</text>'
        f'<text x="340" y="172" text-anchor="end">{weeks[-1]["week"]}</text>'
        '<text x="40" y="190" style="fill:#cf222e">● open</text>'
        '<text x="100" y="190" style="fill:#1a7f37">● closed</text>'
    )
    svg = (
        f'<svg viewBox="0 0 360 196" width="100%" role="img" aria-label="{e(caption)}">'
        '<line x1="40" y1="150" x2="340" y2="150" stroke="#d0d7de"></line>'
    )
    return _figure(name, caption, svg + axis + "".join(series) + "</svg>")
