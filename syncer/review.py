"""The follow-up review: `review_after_weeks` after an incident, one issue per post-mortem that
lists every action item with its owner, due date and live status, and asks what the review
must answer. It is found again by its key (`review-<hash of the post-mortem id>`), updated in
place, and its meeting comes as an `.ics` invitation for the digest to attach.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from syncer.identity import content_hash
from syncer.model import IssueDraft, IssueSnapshot, Person, Postmortem, outcome_of
from syncer.render import SYNC_LABEL, safe_text

REVIEW_LABEL = "pmsync-review"
REVIEW_PREFIX = "review-"
QUESTIONS = (
    "Which items are done, and did they address the root cause they were meant to?",
    "Which items are stuck, and why?",
    "Which items should be re-scoped, re-assigned or dropped, and who decides?",
    "Is anything missing: a cause no item addresses?",
)


def review_key(postmortem_id: str) -> str:
    return REVIEW_PREFIX + hashlib.sha256(postmortem_id.encode()).hexdigest()[:12]


def is_review(item_key: str) -> bool:
    return item_key.startswith(REVIEW_PREFIX)


def review_day(postmortem: Postmortem, weeks: int) -> date | None:
    if postmortem.incident_date is None:
        return None
    return postmortem.incident_date + timedelta(weeks=weeks)


def _status(snap: IssueSnapshot | None) -> str:
    if snap is None:
        return "not filed"
    if (outcome := outcome_of(snap)) != "open":
        return outcome
    flags = [label for label in ("overdue", "stalled", "escalated") if label in snap.labels]
    base = "in progress" if snap.status_category == "indeterminate" else "open"
    return f"{base} ({', '.join(flags)})" if flags else base


def review_draft(
    postmortem: Postmortem,
    snapshots: Mapping[str, IssueSnapshot],
    facilitator: Person | None,
    assignee: str | None,
    day: date,
) -> IssueDraft:
    """The review issue for a post-mortem, as the tracker shows its items now."""
    lines = [
        f"Follow-up review of the post-mortem [{safe_text(postmortem.title)}]"
        f"({postmortem.ref.display_link}), due {day.isoformat()}.",
        "",
        "| Action item | Owner | Due | Status | Issue |",
        "|---|---|---|---|---|",
    ]
    for item in postmortem.items:
        if item.placeholder:
            continue
        snap = snapshots.get(item.key)
        owner = safe_text(item.owner or "none")
        due = item.due.isoformat() if item.due else (item.due_text or "none")
        link = f"[{snap.ref.key}]({snap.ref.url})" if snap else "-"
        title = safe_text(item.title).replace("|", "\\|")
        status = "done" if item.is_done else _status(snap)  # the post-mortem says so
        lines.append(f"| {title} | {owner} | {due} | {status} | {link} |")
    lines += ["", "**The review answers:**", ""]
    lines += [f"- {question}" for question in QUESTIONS]
    if facilitator is not None:
        lines += ["", f"Facilitator: {facilitator.key}"]
    draft = IssueDraft(
        item_key=review_key(postmortem.id),
        postmortem_id=postmortem.id,
        title=f"Follow-up review: {safe_text(postmortem.title)}",
        body="\n".join(lines),
        assignees=(assignee,) if assignee else (),
        due=day,
        labels=(SYNC_LABEL, REVIEW_LABEL),
        source_url=postmortem.ref.link,
        source_title=postmortem.title,
    )
    return dataclasses.replace(draft, content_hash=content_hash(draft))


def invitation(postmortem: Postmortem, day: date, url: str, now: datetime) -> str:
    """An iCalendar (RFC 5545) invitation for the review meeting, on its day."""

    def text(value: str) -> str:
        return (
            value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
        )

    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//pmsync//follow-up review//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{review_key(postmortem.id)}@pmsync",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{day.strftime('%Y%m%d')}",
        f"DTEND;VALUE=DATE:{(day + timedelta(days=1)).strftime('%Y%m%d')}",
        f"SUMMARY:{text('Follow-up review: ' + postmortem.title)}",
        f"DESCRIPTION:{text('Review of the action items. Ticket: ' + url)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def due_reviews(
    postmortems: Sequence[Postmortem], weeks: int, today: date
) -> list[tuple[Postmortem, date]]:
    """Post-mortems whose review day has come, with that day."""
    found = []
    for postmortem in postmortems:
        day = review_day(postmortem, weeks)
        if day is not None and day <= today and not postmortem.template:
            found.append((postmortem, day))
    return found
