"""`pmsync report`: the program manager's page. Is the backlog of post-mortem actions growing
(open items week by week, from the trackers' own created and closed times)? Are items done by
their due date (per quarter, by priority and by severity), and how long do they take? Which
teams are behind, and on what? Which post-mortems are still open, and was their review held?
Then every item, with filters.

One self-contained HTML page (styles, script and SVG charts inline, no outside request), or
the same figures and rows as JSON or CSV (`--format`). Every figure comes from
`syncer.progress`, as the digest's and the metrics' do.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.base import DocumentSource, Tracker
from rules.followup import FollowupContext
from syncer.followup import context_of
from syncer.history import Facts, IssueHistory
from syncer.learning import Learning, learning
from syncer.model import IssueSnapshot, Postmortem
from syncer.pipeline import set_up
from syncer.progress import (
    NO_TEAM,
    Entry,
    Overview,
    closed_at,
    everyone,
    issue_name,
    overview,
    status_of,
    team_of,
    time_to_assignment,
    tracked_entries,
    unverified,
    web_link,
)
from syncer.reading import Problem
from syncer.settings import Settings

FLAGS = ("overdue", "stalled", "unowned", "escalated", "in progress", "no due date")
TOTALS = (
    ("postmortems", "post-mortems"),
    ("items", "action items"),
    ("open", "open"),
    ("done", "done"),
    ("dropped", "dropped"),
    ("overdue", "overdue"),
    ("stalled", "stalled"),
    ("unowned", "unowned"),
    ("no_due_date", "no due date"),
    ("not_synced", "not synced"),
)


@dataclass(frozen=True, slots=True)
class Row:
    """One action item, as the table and the CSV show it."""

    postmortem: str
    postmortem_link: str  # its web address, else empty
    team: str
    title: str
    owner: str
    priority: str
    severity: str
    due: date | None
    issue: str  # tracker and number, e.g. "jira PAY-3"; empty when not synced
    issue_link: str  # its web address, else empty
    status: str  # "open", "done", "dropped" (abandoned or removed: not done) or "not synced"
    flags: tuple[str, ...]  # of FLAGS
    days_overdue: int | None
    created: datetime | None
    closed: datetime | None
    age_days: float | None = None  # an open issue's days since it was filed (as `open_age`)
    assigned_days: float | None = None  # days from filing to the first assignment, if known
    linked_change: str = ""  # closed as done: "yes" or "no" (a change linked); "": n/a or unknown


@dataclass(slots=True)
class Report:
    now: datetime
    context: FollowupContext
    rows: list[Row] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    postmortems: list[Postmortem] = field(default_factory=list)
    reviews: dict[str, IssueSnapshot] = field(default_factory=dict)
    review_after_weeks: int = 4
    # The issues' histories as `check` keeps them (`syncer.history`), by item key.
    facts: dict[str, Facts] = field(default_factory=dict)
    learning: Learning = field(default_factory=Learning)

    @property
    def overview(self) -> Overview:
        return overview(
            self.entries, self.postmortems, self.reviews, self.context, self.review_after_weeks
        )


def collect(
    settings: Settings,
    *,
    now: datetime,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
) -> Report:
    """Every item of every post-mortem, with its issue where one exists."""
    setup = set_up(settings, now=now, trackers=trackers, sources=sources)
    directory, reading = setup.directory, setup.reading
    postmortems = [pm for pm in reading.postmortems if not pm.template]
    report = Report(
        now=now,
        context=context_of(settings.followup, now),
        problems=list(reading.problems),
        postmortems=postmortems,
        review_after_weeks=settings.followup.review_after_weeks,
    )
    report.entries, postmortems = tracked_entries(
        setup.trackers, postmortems, directory, report.problems, report.reviews, reading.present({})
    )
    report.postmortems = postmortems
    recur = settings.recurrence
    report.learning = learning(
        report.entries,
        postmortems,
        threshold=recur.threshold,
        window_days=recur.window_days,
        now=now,
        enabled=recur.enabled,
    )
    history = IssueHistory.load(settings.path(settings.state_dir))
    report.facts = {entry.key: history.of(entry.snapshot) for entry in report.entries}
    by_id = {pm.id: pm for pm in postmortems}
    report.rows = [
        _row(entry, by_id.get(entry.postmortem_id), report.context, report.facts[entry.key])
        for entry in report.entries
    ]
    filed = {entry.key for entry in report.entries}
    for pm in postmortems:
        for item in pm.items:
            if not item.placeholder and item.key not in filed:
                report.rows.append(
                    Row(
                        postmortem=pm.title,
                        postmortem_link=_web(pm.ref.link),
                        team=pm.team or NO_TEAM,
                        title=item.title,
                        owner=item.owner or "",
                        priority=item.priority or "",
                        severity=pm.severity or "",
                        due=item.due,
                        issue="",
                        issue_link="",
                        status="not synced",
                        flags=() if item.due else ("no due date",),
                        days_overdue=None,
                        created=None,
                        closed=None,
                    )
                )
    report.rows.sort(key=urgency)
    return report


_STANDING = {"open": 1, "not synced": 3, "done": 4, "dropped": 5}


def urgency(row: Row) -> tuple[Any, ...]:
    """Most urgent first: overdue (the longest overdue first), then open items by due date,
    open items with no due date, items not synced yet, done, dropped."""
    if row.days_overdue:
        return (0, -row.days_overdue, row.postmortem, row.title)
    standing = _STANDING.get(row.status, 6)
    if standing == 1 and row.due is None:
        standing = 2
    return (standing, row.due or date.max, row.postmortem, row.title, row.issue)


def _web(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else ""


def _row(entry: Entry, pm: Postmortem | None, context: FollowupContext, facts: Facts) -> Row:
    snap = entry.snapshot
    closed_done = entry.filed and not entry.done_in_document and entry.outcome == "done"
    status = status_of(entry, context)
    flags = [name for name in FLAGS[:4] if getattr(status, name)]
    if entry.outcome == "open" and snap.status_category == "indeterminate":
        flags.append("in progress")
    if entry.outcome == "open" and snap.due is None:
        flags.append("no due date")
    return Row(
        postmortem=entry.postmortem_title,
        postmortem_link=_web(pm.ref.link) if pm else "",
        team=entry.team,
        title=snap.title,
        owner=", ".join(entry.owners),
        priority="" if entry.priority.startswith("(") else entry.priority,
        severity="" if entry.severity.startswith("(") else entry.severity,
        due=snap.due,
        issue=issue_name(snap.ref) if entry.filed else "",
        issue_link=web_link(snap.ref) or "",
        status=entry.outcome,
        flags=tuple(flags),
        days_overdue=status.days_overdue,
        created=snap.created_at,
        closed=closed_at(snap),
        age_days=round(max((context.now - snap.created_at).total_seconds() / 86400, 0.0), 1)
        if entry.outcome == "open" and entry.filed and snap.created_at
        else None,
        assigned_days=_days_between(snap.created_at, facts.assigned_at),
        linked_change=("yes" if facts.changes else "no")
        if closed_done and facts.changes is not None
        else "",
    )


def _days_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds() / 86400, 0.0), 1)


def figures(report: Report) -> dict[str, Any]:
    """Everything the page shows, as numbers: the JSON export and the tests read these."""
    view = report.overview
    totals = view.tally.as_dict()
    not_synced = sum(1 for r in report.rows if r.status == "not synced")
    totals["no_due_date"] += sum(1 for r in report.rows if r.status == "not synced" and not r.due)
    totals.update(
        postmortems=len({r.postmortem for r in report.rows}),
        items=len(report.rows),
        not_synced=not_synced,
    )
    assigned = {k: f.assigned_at for k, f in report.facts.items() if f.assigned_at is not None}
    changes = {k: f.changes for k, f in report.facts.items()}
    return {
        "as_of": report.now.isoformat(),
        "totals": totals,
        "weeks": view.weeks,
        "on_target": {
            "priority": view.on_target_priority,
            "severity": view.on_target_severity,
            "team": view.on_target_team,
        },
        "time_to_close": view.time_to_close,
        "open_age": view.open_age,
        "all_done": view.all_done,
        "time_to_assignment": time_to_assignment(report.entries, assigned, everyone)
        + time_to_assignment(report.entries, assigned, team_of),
        "unverified": unverified(report.entries, changes, everyone)
        + unverified(report.entries, changes, team_of),
        "teams": [
            {
                "team": row.team,
                **{k: getattr(row.tally, k) for k in ("open", "overdue", "stalled", "unowned")},
                "oldest_overdue_days": row.oldest_overdue_days,
                "oldest_overdue": row.oldest_overdue.snapshot.title if row.oldest_overdue else None,
            }
            for row in view.teams
        ],
        "promised_before": [
            {
                "item": p.title,
                "postmortem": p.postmortem.id,
                "earlier_postmortem": p.before.id,
                "earlier_issue": issue_name(p.earlier.snapshot.ref),
                "earlier_link": web_link(p.earlier.snapshot.ref) or "",
                "earlier_status": p.earlier.outcome,
                "open_days": p.open_days,
                "team": p.earlier.team,
            }
            for p in report.learning.promised
        ],
        "promised_before_by_team": report.learning.per_team(),
        "recurred": [
            {
                "postmortem": r.postmortem.id,
                "title": r.postmortem.title,
                "earlier_postmortem": r.before.id,
                "earlier_title": r.before.title,
                "shared": list(r.shared),
                "open_items": r.open_items,
            }
            for r in report.learning.recurred
        ],
        "postmortems": [
            {
                "id": p.postmortem.id,
                "title": p.postmortem.title,
                "team": p.postmortem.team,
                "link": _web(p.postmortem.ref.link),
                "items": p.items,
                "done": p.done,
                "open": p.open,
                "dropped": p.dropped,
                "overdue": p.overdue,
                "review_day": p.review_day.isoformat() if p.review_day else None,
                "review_issue": issue_name(p.review.ref) if p.review else None,
                "review_link": (web_link(p.review.ref) or "") if p.review else "",
                "review_state": p.review_state,
                "review_overdue": p.review is None
                and p.review_day is not None
                and p.review_day < report.context.today,
            }
            for p in view.postmortems
        ],
    }


# --- exports ----------------------------------------------------------------------------------

COLUMNS = (
    "postmortem",
    "postmortem_link",
    "team",
    "item",
    "owner",
    "priority",
    "severity",
    "due",
    "issue",
    "issue_link",
    "status",
    *(flag.replace(" ", "_") for flag in FLAGS),
    "days_overdue",
    "age_days",
    "assigned_days",
    "linked_change",
    "created",
    "closed",
)


def _record(row: Row) -> dict[str, Any]:
    return {
        "postmortem": row.postmortem,
        "postmortem_link": row.postmortem_link,
        "team": row.team,
        "item": row.title,
        "owner": row.owner,
        "priority": row.priority,
        "severity": row.severity,
        "due": row.due.isoformat() if row.due else "",
        "issue": row.issue,
        "issue_link": row.issue_link,
        "status": row.status,
        **{flag.replace(" ", "_"): flag in row.flags for flag in FLAGS},
        "days_overdue": row.days_overdue,
        "age_days": row.age_days,
        "assigned_days": row.assigned_days,
        "linked_change": row.linked_change,
        "created": row.created.isoformat() if row.created else "",
        "closed": row.closed.isoformat() if row.closed else "",
    }


def render_json(report: Report, data: Mapping[str, Any] | None = None) -> str:
    """The figures (`data`, when already computed) and every row."""
    shown = {**(data or figures(report)), "rows": [_record(r) for r in report.rows]}
    return json.dumps(shown, indent=2)


def render_csv(report: Report, data: Mapping[str, Any] | None = None) -> str:
    """RFC 4180: a header row, then one row per item; yes/no for flags; CRLF line ends.
    (`data` is taken as the other renderers take it: the rows alone need no figures.)"""
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in report.rows:
        record = _record(row)
        writer.writerow(
            {
                k: ("yes" if v else "no") if isinstance(v, bool) else ("" if v is None else v)
                for k, v in record.items()
            }
        )
    return out.getvalue()


# --- the page ---------------------------------------------------------------------------------

_STYLE = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,Arial,sans-serif;color:#1f2328;
margin:0 auto;max-width:1400px;padding:16px;overflow-wrap:normal;word-break:normal;
hyphens:none}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px}
a{color:#0969da}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(104px,1fr));gap:8px}
.measures{grid-template-columns:repeat(auto-fill,minmax(220px,1fr));margin-bottom:8px}
.figure{border:1px solid #d0d7de;border-radius:6px;padding:6px 10px}
.figure b{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,360px),1fr));gap:16px}
figure{margin:0;border:1px solid #d0d7de;border-radius:6px;padding:8px;min-width:0}
figcaption{font-weight:600;margin-bottom:4px}
figure p{color:#656d76;margin:4px 0}
svg{display:block;max-width:100%;height:auto}
figure svg{max-width:480px}
svg text{font-size:13px;fill:#1f2328}
.filters{display:flex;gap:8px 12px;flex-wrap:wrap;align-items:center;margin:8px 0}
.filters select{max-width:100%}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;white-space:nowrap}
th[data-sort]{cursor:pointer}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}
.nowrap,td.date{white-space:nowrap}
.wide{overflow-x:auto}
td.n,th.n{text-align:right}
.flag{display:inline-block;border-radius:10px;padding:0 6px;font-size:12px;margin:1px 2px;
white-space:nowrap}
.flag-overdue{background:#ffebe9;color:#82071e}.flag-stalled{background:#fff8c5;color:#6b4f00}
.flag-escalated{background:#fbefff;color:#6e2b8a}.flag-unowned{background:#ddf4ff;color:#0a3069}
.flag-in-progress,.flag-no-due-date{background:#eaeef2;color:#424a53}
.status-done{color:#1a7f37}.status-dropped{color:#9a6700}.status-not-synced{color:#656d76}
progress{width:120px;max-width:100%;vertical-align:middle}
@media (max-width:700px){
  table.cards thead{display:none}
  table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
  table.cards tr{border:1px solid #d0d7de;border-radius:6px;margin:0 0 8px;padding:4px 0}
  table.cards td{border:0;padding:2px 8px}
  table.cards td.n{text-align:left}
  table.cards td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
}
"""

_SCRIPT = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#items tbody tr"));
  var selects = Array.prototype.slice.call(document.querySelectorAll(".filters select"));
  function matches(row, select) {
    if (!select.value) { return true; }
    if (select.name === "flag") {
      return (row.dataset.flags || "").split("|").indexOf(select.value) >= 0;
    }
    return row.dataset[select.name] === select.value;
  }
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var visible = selects.every(function (s) { return matches(row, s); });
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    document.getElementById("shown").textContent = String(shown);
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  apply();
  // Sorting by a column: click its header; click again to reverse.
  document.querySelectorAll("th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () {
      var table = th.closest("table"), body = table.tBodies[0];
      var column = Array.prototype.indexOf.call(th.parentNode.children, th);
      var down = th.getAttribute("aria-sort") === "ascending";
      table.querySelectorAll("th[aria-sort]").forEach(function (other) {
        other.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      var numeric = th.dataset.sort === "number";
      var sorted = Array.prototype.slice.call(body.rows).sort(function (a, b) {
        var x = a.cells[column].dataset.key || a.cells[column].textContent;
        var y = b.cells[column].dataset.key || b.cells[column].textContent;
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return down ? -order : order;
      });
      sorted.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
"""


def render(report: Report, data: Mapping[str, Any] | None = None) -> str:
    """The page; `data` is `figures(report)` when the caller has it already."""
    e = html.escape
    data = data or figures(report)
    totals = data["totals"]
    cards = "".join(
        f'<div class="figure" data-figure="{key}"><b>{totals[key]}</b>{e(label)}</div>'
        for key, label in TOTALS
    )
    weeks = data["weeks"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        "<title>Post-mortem action items</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Post-mortem action items</h1>",
        f"<p>As of {e(report.now.strftime('%Y-%m-%d %H:%M %Z'))}. {_trend(weeks)}</p>",
        f'<div class="figures">{cards}</div>',
        "<h2>Is the backlog growing?</h2>",
        _trends(weeks),
        "<h2>Are items done by their due date?</h2>",
        "<p>Items due in each quarter whose outcome is known (closed, or past their due date): "
        "the share closed by the due date. Open items not yet due are not counted.</p>",
        '<div class="charts">',
        _share_chart("on-target-priority", "By priority", data["on_target"]["priority"]),
        _share_chart("on-target-severity", "By severity", data["on_target"]["severity"]),
        _close_chart("time-to-close", "Days to close, by priority", data["time_to_close"]),
        _share_chart("on-target-team", "By team", data["on_target"]["team"]),
        "</div>",
        "<h2>How fast is follow-up?</h2>",
        _measures(data),
        "<h2>Teams</h2>",
        _bar_chart(
            "overdue-by-team",
            "Overdue items by team",
            {t["team"]: t["overdue"] for t in data["teams"] if t["overdue"]},
        ),
        _team_table(data["teams"]),
        "<h2>Post-mortems</h2>",
        _postmortem_table(data["postmortems"]),
        "<h2>Is the same thing happening again?</h2>",
        _learning(data),
        "<h2>Items</h2>",
        _filters(report.rows),
        _item_table(report.rows),
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


TREND_WEEKS = 4  # weeks of history before a trend is drawn


def _trends(weeks: Sequence[Mapping[str, Any]]) -> str:
    """The backlog's charts, once there are four weeks to draw; until then, says so."""
    if len(weeks) < TREND_WEEKS:
        return (
            f'<p data-note="trends">Trends need {TREND_WEEKS} weeks of history; there '
            f"{'is 1 week' if len(weeks) == 1 else f'are {len(weeks)} weeks'} so far. "
            "The figures above are as of today.</p>"
        )
    return (
        '<div class="charts">'
        + _line_chart("backlog", "Open items at the end of each week", weeks)
        + _week_bars("opened-closed", "Opened and closed per week", weeks)
        + "</div>"
    )


def _measures(data: Mapping[str, Any]) -> str:
    """The measures that compare follow-up across teams, overall and by team: post-mortems
    with every item done; the age of open items and the days to the first assignment (median
    and 90th percentile); items closed with no change linked to them."""
    e = html.escape
    done = data["all_done"]
    share = f"{100 * done['share']:.0f}%" if done["share"] is not None else "-"

    def overall(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        return next((r for r in rows if r["group"] == "all"), None)

    age, assign, bare = (
        overall(data["open_age"]),
        overall(data["time_to_assignment"]),
        overall(data["unverified"]),
    )
    cards = [
        f'<div class="figure" data-figure="all_done"><b>{share}</b>post-mortems with every '
        f"item done ({done['all_done']} of {done['postmortems']})</div>"
    ]
    if age:
        cards.append(
            f'<div class="figure" data-figure="open_age"><b>{age["median_days"]:g} d</b>'
            f"median age of open items (90th percentile {age['p90_days']:g} d)</div>"
        )
    if assign:
        cards.append(
            f'<div class="figure" data-figure="time_to_assignment"><b>{assign["median_days"]:g}'
            f" d</b>median time to first assignment (90th percentile {assign['p90_days']:g} d, "
            f"{assign['assigned']} issues)</div>"
        )
    if bare and bare["closed"]:
        cards.append(
            f'<div class="figure" data-figure="unverified"><b>{bare["unverified"]}</b>closed '
            f"with no linked change, of {bare['closed']} closed"
            + (f" ({bare['unknown']} not read yet)" if bare["unknown"] else "")
            + "</div>"
        )
    teams = sorted(
        {r["group"] for key in ("open_age", "time_to_assignment", "unverified") for r in data[key]}
        - {"all"}
    )

    def of(key: str, team: str) -> Mapping[str, Any]:
        return next((r for r in data[key] if r["group"] == team), {})

    rows = "".join(
        f'<tr data-team="{e(team)}"><td>{e(team)}</td>'
        + _cell("Open", str(of("open_age", team).get("open", 0)), True)
        + _cell("Median age", _days_or_dash(of("open_age", team)), True)
        + _cell("To first assignment", _days_or_dash(of("time_to_assignment", team)), True)
        + _cell(
            "Closed unverified",
            f"{of('unverified', team).get('unverified', 0)} of "
            f"{of('unverified', team).get('closed', 0)}",
            True,
        )
        + "</tr>"
        for team in teams
    )
    table = (
        '<table id="open-age" class="cards"><thead><tr><th>Team</th><th class="n">Open</th>'
        '<th class="n">Median age</th><th class="n">To first assignment</th>'
        '<th class="n">Closed unverified</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return f'<div class="figures measures">{"".join(cards)}</div>{table}'


def _days_or_dash(row: Mapping[str, Any]) -> str:
    """A group's median and 90th percentile in days, or a dash."""
    if not row:
        return "-"
    return f"{row['median_days']:g} d (p90 {row['p90_days']:g} d)"


def _trend(weeks: Sequence[Mapping[str, Any]]) -> str:
    """The backlog's direction over the last four weeks, in words."""
    if len(weeks) < 2:
        return ""
    first, last = weeks[max(0, len(weeks) - 5)], weeks[-1]
    change = last["open"] - first["open"]
    way = "grew" if change > 0 else "shrank" if change < 0 else "held steady"
    by = f" by {abs(change)}" if change else ""
    return f"The backlog {way}{by} since the week of {first['week']}: {last['open']} open items."


def _figure(name: str, caption: str, inner: str) -> str:
    e = html.escape
    return f'<figure data-chart="{name}"><figcaption>{e(caption)}</figcaption>{inner}</figure>'


def _svg(caption: str, height: float, inner: str) -> str:
    return (
        f'<svg viewBox="0 0 360 {height:.0f}" width="100%" role="img" '
        f'aria-label="{html.escape(caption)}">{inner}</svg>'
    )


def _bar_chart(name: str, caption: str, values: Mapping[str, float], unit: str = "") -> str:
    """Horizontal bars, one per label, each carrying its value in `data-value`."""
    e = html.escape
    if not values:
        return _figure(name, caption, "<p>None.</p>")
    top = max(values.values()) or 1
    bars = []
    for i, (label, value) in enumerate(values.items()):
        y = 4 + 26 * i
        width = 170 * value / top
        shown = f"{value:g}{unit}"
        bars.append(
            f'<g class="bar" data-label="{e(label)}" data-value="{value:g}">'
            f"<title>{e(label)}: {shown}</title>"
            f'<text x="0" y="{y + 15}">{e(label[:22])}</text>'
            f'<rect x="140" y="{y}" width="{width:.1f}" height="20" fill="#0969da"></rect>'
            f'<text x="{144 + width:.1f}" y="{y + 15}">{shown}</text></g>'
        )
    return _figure(name, caption, _svg(caption, 26 * len(values) + 8, "".join(bars)))


def _share_chart(name: str, caption: str, rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return _figure(name, caption, "<p>No item has reached its due date yet.</p>")
    values = {f"{r['quarter']} {r['group']}": round(100 * r["share"], 1) for r in rows}
    chart = _bar_chart(name, caption, values, unit="%")
    table = "".join(
        f"<tr><td>{r['quarter']}</td><td>{html.escape(r['group'])}</td>"
        f'<td class="n">{r["on_time"]} of {r["due"]}</td></tr>'
        for r in rows
    )
    return chart.replace(
        "</figure>",
        '<table><thead><tr><th>Quarter</th><th>Group</th><th class="n">On time</th></tr>'
        f"</thead><tbody>{table}</tbody></table></figure>",
    )


def _close_chart(name: str, caption: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """Median (dark) and 90th percentile (light) days to close, per priority."""
    e = html.escape
    if not rows:
        return _figure(name, caption, "<p>No item closed yet.</p>")
    top = max(r["p90_days"] for r in rows) or 1
    bars = []
    for i, r in enumerate(rows):
        y = 4 + 34 * i
        median, p90 = 130 * r["median_days"] / top, 130 * r["p90_days"] / top
        bars.append(
            f'<g class="bar" data-label="{e(r["group"])}" data-median="{r["median_days"]:g}" '
            f'data-p90="{r["p90_days"]:g}" data-value="{r["median_days"]:g}">'
            f"<title>{e(r['group'])}: median {r['median_days']:g} days, 90th percentile "
            f"{r['p90_days']:g} days ({r['closed']} closed)</title>"
            f'<text x="0" y="{y + 19}">{e(r["group"][:22])}</text>'
            f'<rect x="140" y="{y}" width="{p90:.1f}" height="28" fill="#b6e3ff"></rect>'
            f'<rect x="140" y="{y + 6}" width="{median:.1f}" height="16" fill="#0969da"></rect>'
            f'<text x="{144 + p90:.1f}" y="{y + 19}">{r["median_days"]:g} / '
            f"{r['p90_days']:g}</text></g>"
        )
    legend = f'<text x="0" y="{34 * len(rows) + 18}">median / 90th percentile, days</text>'
    return _figure(name, caption, _svg(caption, 34 * len(rows) + 26, "".join(bars) + legend))


def _line_chart(name: str, caption: str, weeks: Sequence[Mapping[str, Any]]) -> str:
    """Open items at the end of each week."""
    if not weeks:
        return _figure(name, caption, "<p>No issues yet.</p>")
    top = max(w["open"] for w in weeks) or 1
    step = 300 / max(len(weeks) - 1, 1)
    points = [(40 + step * i, 150 - 130 * w["open"] / top) for i, w in enumerate(weeks)]
    dots = "".join(
        f'<circle class="point" data-series="open" data-week="{w["week"]}" '
        f'data-value="{w["open"]}" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#cf222e">'
        f"<title>week of {w['week']}: {w['open']} open</title></circle>"
        for (x, y), w in zip(points, weeks, strict=True)
    )
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    inner = (
        '<line x1="40" y1="150" x2="340" y2="150" stroke="#d0d7de"></line>'
        f'<text x="0" y="24">{top}</text><text x="0" y="154">0</text>'
        f'<text x="40" y="172">{weeks[0]["week"]}</text>'
        f'<text x="340" y="172" text-anchor="end">{weeks[-1]["week"]}</text>'
        f'<polyline points="{line}" fill="none" stroke="#cf222e" stroke-width="2"></polyline>'
        + dots
    )
    return _figure(name, caption, _svg(caption, 180, inner))


def _week_bars(name: str, caption: str, weeks: Sequence[Mapping[str, Any]]) -> str:
    """Opened (blue, up) and closed (green, down) per week."""
    if not weeks:
        return _figure(name, caption, "<p>No issues yet.</p>")
    top = max(max(w["opened"], w["closed"]) for w in weeks) or 1
    width = 300 / len(weeks)
    bars = []
    for i, w in enumerate(weeks):
        x = 40 + width * i
        up, down = 65 * w["opened"] / top, 65 * w["closed"] / top
        bars.append(
            f'<g class="week" data-week="{w["week"]}" data-opened="{w["opened"]}" '
            f'data-closed="{w["closed"]}"><title>week of {w["week"]}: {w["opened"]} opened, '
            f"{w['closed']} closed</title>"
            f'<rect x="{x:.1f}" y="{80 - up:.1f}" width="{max(width - 1, 1):.1f}" '
            f'height="{up:.1f}" fill="#0969da"></rect>'
            f'<rect x="{x:.1f}" y="80" width="{max(width - 1, 1):.1f}" height="{down:.1f}" '
            'fill="#1a7f37"></rect></g>'
        )
    inner = (
        '<line x1="40" y1="80" x2="340" y2="80" stroke="#d0d7de"></line>'
        f'<text x="0" y="24">+{top}</text><text x="0" y="150">−{top}</text>'
        + "".join(bars)
        + '<text x="40" y="172" style="fill:#0969da">■ opened</text>'
        '<text x="110" y="172" style="fill:#1a7f37">■ closed</text>'
    )
    return _figure(name, caption, _svg(caption, 180, inner))


def _link(text: str, url: str) -> str:
    e = html.escape
    return f'<a href="{e(url)}">{e(text)}</a>' if url else e(text)


def _cell(label: str, inner: str, numeric: bool = False, key: str = "", kind: str = "") -> str:
    """A table cell; `key` is what sorting by its column compares (else its text)."""
    classes = " ".join(filter(None, ("n" if numeric else "", kind)))
    shown = f' class="{classes}"' if classes else ""
    sort = f' data-key="{html.escape(key)}"' if key else ""
    return f'<td data-label="{label}"{shown}{sort}>{inner}</td>'


def _team_table(teams: Sequence[Mapping[str, Any]]) -> str:
    e = html.escape
    rows = "".join(
        f'<tr data-team="{e(t["team"])}"><td>{e(t["team"])}</td>'
        + "".join(_cell(k.title(), str(t[k]), True) for k in ("open", "overdue", "stalled"))
        + _cell("Unowned", str(t["unowned"]), True)
        + _cell(
            "Oldest overdue",
            f"{e(t['oldest_overdue'])} ({t['oldest_overdue_days']} days)"
            if t["oldest_overdue"]
            else "-",
        )
        + "</tr>"
        for t in teams
    )
    return (
        '<table id="teams" class="cards"><thead><tr><th>Team</th><th class="n">Open</th>'
        '<th class="n">Overdue</th><th class="n">Stalled</th><th class="n">Unowned</th>'
        f"<th>Oldest overdue</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _postmortem_table(postmortems: Sequence[Mapping[str, Any]]) -> str:
    e = html.escape
    rows = []
    for p in postmortems:
        review = (
            f"{_link(p['review_issue'], p['review_link'])} {e(p['review_state'])}"
            if p["review_issue"]
            else e(f"{p['review_state']}, due " if p["review_day"] else "-")
            + (f'<span class="nowrap">{p["review_day"]}</span>' if p["review_day"] else "")
        )
        if p["review_overdue"]:
            review += ' <span class="flag flag-overdue">review overdue</span>'
        rows.append(
            f'<tr data-postmortem="{e(p["id"])}"><td>{_link(p["title"], p["link"])}</td>'
            + _cell("Team", e(p["team"] or "-"))
            + _cell(
                "Done",
                f'<progress max="{p["items"] - p["dropped"]}" value="{p["done"]}"></progress> '
                f"{p['done']} of {p['items'] - p['dropped']}"
                + (f", {p['overdue']} overdue" if p["overdue"] else "")
                + (f", {p['dropped']} dropped" if p["dropped"] else ""),
            )
            + _cell("Review", review)
            + "</tr>"
        )
    return (
        '<table id="postmortems" class="cards"><thead><tr><th>Post-mortem</th><th>Team</th>'
        f"<th>Done</th><th>Review</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _select(name: str, label: str, values: Sequence[str]) -> str:
    e = html.escape
    options = "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)
    return (
        f'<label>{label} <select name="{name}">'
        f'<option value="">all</option>{options}</select></label>'
    )


def _filters(rows: Sequence[Row]) -> str:
    return (
        '<div class="filters">'
        + _select("team", "Team", sorted({r.team for r in rows}))
        + _select("owner", "Owner", sorted({r.owner for r in rows if r.owner}))
        + _select("priority", "Priority", sorted({r.priority for r in rows if r.priority}))
        + _select("status", "Status", ["open", "done", "dropped", "not synced"])
        + _select("flag", "Flag", list(FLAGS))
        + f'<span>Showing <b id="shown">{len(rows)}</b> of {len(rows)}</span></div>'
    )


def _learning(data: Mapping[str, Any]) -> str:
    """Promised before, and recurred with open items: two tables, or a line saying none."""
    e = html.escape
    promised, recurred = data["promised_before"], data["recurred"]
    parts = ['<h3 id="promised-before">Promised before</h3>']
    if promised:
        teams = ", ".join(f"{e(t)} {n}" for t, n in data["promised_before_by_team"].items())
        parts.append(
            "<p>Items a post-mortem promised again while an earlier post-mortem's same item "
            f"was open (or was dropped). By team: {teams}.</p>"
        )
        rows = "".join(
            f"<tr><td>{e(p['item'])}</td>"
            + _cell("Post-mortem", e(p["postmortem"]))
            + _cell("Promised before in", e(p["earlier_postmortem"]))
            + _cell("Issue", _link(p["earlier_issue"], p["earlier_link"]))
            + _cell("Status", e(p["earlier_status"]))
            + _cell("Days open", str(p["open_days"]), True)
            + _cell("Team", e(p["team"]))
            + "</tr>"
            for p in promised
        )
        parts.append(
            '<table id="promised" class="cards"><thead><tr><th>Item</th><th>Post-mortem</th>'
            "<th>Promised before in</th><th>Issue</th><th>Status</th>"
            f'<th class="n">Days open</th><th>Team</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    else:
        parts.append("<p>No item was promised again while an earlier copy was open.</p>")
    parts.append('<h3 id="recurred">Recurred with open items</h3>')
    if recurred:
        parts.append('<ul id="recurred-list">')
        for r in recurred:
            items = "item" if r["open_items"] == 1 else "items"
            parts.append(
                f"<li>{e(r['title'])} ({e(r['postmortem'])}) recurred with {r['open_items']} "
                f"{items} open from {e(r['earlier_postmortem'])}: {e(', '.join(r['shared']))}"
                "</li>"
            )
        parts.append("</ul>")
    else:
        parts.append(
            "<p>No post-mortem names a service, component, alert or tag of an earlier one "
            "whose items are still open.</p>"
        )
    return "\n".join(parts)


def _item_table(rows: Sequence[Row]) -> str:
    """Every item, most urgent first (`urgency`); each column sorts on a click."""
    e = html.escape
    headers = (
        ("Item", "text"),
        ("Post-mortem", "text"),
        ("Team", "text"),
        ("Owner", "text"),
        ("Priority", "text"),
        ("Due", "text"),
        ("Issue", "text"),
        ("Status", "number"),
    )
    head = "".join(f'<th data-sort="{kind}" scope="col">{name}</th>' for name, kind in headers)
    parts = [
        f'<div class="wide"><table id="items" class="cards"><thead><tr>{head}</tr></thead><tbody>'
    ]
    for rank, row in enumerate(rows):
        flags = "".join(
            f'<span class="flag flag-{f.replace(" ", "-")}">'
            + (f"{row.days_overdue} days overdue" if f == "overdue" else f)
            + "</span>"
            for f in row.flags
        )
        due = row.due.isoformat() if row.due else ""
        parts.append(
            f'<tr data-team="{e(row.team)}" data-owner="{e(row.owner)}" '
            f'data-priority="{e(row.priority)}" data-status="{e(row.status)}" '
            f'data-flags="{e("|".join(row.flags))}">'
            f"<td>{e(row.title)}</td>"
            + _cell("Post-mortem", _link(row.postmortem, row.postmortem_link))
            + _cell("Team", e(row.team))
            + _cell("Owner", e(row.owner) or "-")
            + _cell("Priority", e(row.priority) or "-", key=row.priority or "~")
            + _cell("Due", due or "-", key=due or "9999-12-31", kind="date")
            + _cell(
                "Issue",
                f'<span class="nowrap">{_link(row.issue, row.issue_link)}</span>'
                if row.issue
                else "-",
            )
            + _cell(
                "Status",
                f'<span class="status-{row.status.replace(" ", "-")}">{e(row.status)}</span>'
                + flags,
                key=str(rank),
            )
            + "</tr>"
        )
    parts.append("</tbody></table></div>")
    return "".join(parts)
