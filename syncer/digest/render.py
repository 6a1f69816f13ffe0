"""A digest as text, as Markdown (chat channels) and as e-mail-safe HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from syncer.digest.build import _order
from syncer.digest.model import ENDED, NEEDS_YOU, PER_TEAM, Digest, _days
from syncer.progress import (
    Entry,
    Progress,
    TeamRow,
    issue_name,
    web_link,
)


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


def _learning(digest: Digest) -> Iterator[tuple[str, str, list[str]]]:
    """The sections on learning across post-mortems: title, what it counts, lines."""
    learned = digest.learning
    if learned.promised:
        teams = ", ".join(f"{team} {n}" for team, n in learned.per_team().items())
        counted = f"{len(learned.promised)}; by team: {teams}"
        yield "Promised before", counted, [p.line() for p in learned.promised]
    if learned.recurred:
        lines = [r.line() for r in learned.recurred]
        yield "Recurred with open items", str(len(learned.recurred)), lines


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
    for title, counted, lines in _learning(digest):
        out += ["", f"{title.upper()} ({counted})"]
        out += [f"  - {line}" for line in lines]
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
    for title, counted, lines in _learning(digest):
        out += ["", f"**{title} ({counted})**"]
        out += [f"- {line}" for line in lines]
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
    for title, counted, lines in _learning(digest):
        parts.append(f"<h3>{e(title)} ({e(counted)})</h3><ul>")
        parts += [f"<li>{_whole_dates(e(line))}</li>" for line in lines]
        parts.append("</ul>")
    if digest.empty:
        parts.append("<p>Nothing overdue, stalled, unowned, escalated or due soon.</p>")
    parts.append("</div>")
    return "\n".join(parts) + "\n"
