"""What an issue for an action item says: its title, body and labels, as an `IssueDraft`.

Text copied from documents is made safe first: HTML comments are removed (nobody can plant a
marker) and @mentions are put in code spans (nobody but the assignee is pinged).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from syncer.identity import content_hash, strip_comments
from syncer.model import ActionItem, Finding, IssueDraft, Person, Postmortem

SYNC_LABEL = "pmsync"
NEEDS_OWNER_LABEL = "needs-owner"
NEEDS_REFINEMENT_LABEL = "needs-refinement"
_MENTION_RE = re.compile(r"(?<![\w`])@([A-Za-z0-9][\w-]*(?:/[\w-]+)?)")
MAX_TITLE = 120


def safe_text(text: str) -> str:
    return _MENTION_RE.sub(r"`@\1`", strip_comments(text))


def issue_title(item: ActionItem) -> str:
    title = " ".join(safe_text(item.title).split())
    if len(title) <= MAX_TITLE:
        return title
    sentence = re.match(r"(.{20,}?[.!?])\s", title)
    if sentence and len(sentence.group(1)) <= MAX_TITLE:
        return sentence.group(1)
    return title[: MAX_TITLE - 1].rstrip() + "…"


def render_draft(
    item: ActionItem,
    postmortem: Postmortem,
    *,
    person: Person | None,
    assignee: str | None,
    findings: Sequence[Finding] = (),
    labels: Sequence[str] = (),
) -> IssueDraft:
    """The issue pmsync wants for `item`; `assignee` is the person's handle in this tracker."""
    lines = [safe_text(item.title)]
    if item.description:
        lines += ["", safe_text(item.description)]
    lines += ["", "| | |", "|---|---|"]
    if person is not None:
        lines.append(f"| Owner | {person.key} |")
    elif item.owner:
        lines.append(f"| Owner | {safe_text(item.owner)} (not in the people directory) |")
    else:
        lines.append("| Owner | none named in the post-mortem |")
    if item.due:
        lines.append(f"| Due | {item.due.isoformat()} |")
    elif item.due_text:
        lines.append(f"| Due | {safe_text(item.due_text)} (not understood as a date) |")
    for name, value in (("Priority", item.priority), ("Kind", item.kind)):
        if value:
            lines.append(f"| {name} | {safe_text(value)} |")
    link = f"[{safe_text(postmortem.title)}]({postmortem.ref.display_link})"
    # No line number: moving an item within the document must not rewrite its issue.
    lines.append(f"| Post-mortem | {link} |")
    cause = item.root_cause or (
        postmortem.root_causes[0] if len(postmortem.root_causes) == 1 else None
    )
    if cause:
        lines.append(f"| Root cause | {safe_text(cause)} |")
    if item.tickets:
        lines.append(f"| Tickets | {', '.join(safe_text(t) for t in item.tickets)} |")
    if findings:
        lines += ["", "**Checks to address in the post-mortem:**", ""]
        lines += [f"- {f.code} ({f.severity}): {safe_text(f.message)}" for f in findings]
    if item.due:
        lines += ["", f"Due: {item.due.isoformat()}"]

    all_labels = {SYNC_LABEL, *labels}
    if assignee is None:
        all_labels.add(NEEDS_OWNER_LABEL)
    draft = IssueDraft(
        item_key=item.key,
        postmortem_id=postmortem.id,
        title=issue_title(item),
        body="\n".join(lines),
        assignees=(assignee,) if assignee else (),
        due=item.due,
        labels=tuple(sorted(all_labels)),
        priority=item.priority,
        source_url=postmortem.ref.link,
        source_title=postmortem.title,
    )
    return dataclasses.replace(draft, content_hash=content_hash(draft))
