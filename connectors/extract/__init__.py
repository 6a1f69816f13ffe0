"""Extraction: a fetched document in, a `Postmortem` with its action items out.

Pure: no I/O, no clock. One document's failure is a `DocumentError` naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from connectors.extract.dates import first_iso_date, parse_due, stated_date
from connectors.extract.fields import is_placeholder, square_blank_template, template_tokens
from connectors.extract.frontmatter import split_front_matter
from connectors.extract.markdown import RawItem, Scan, TooManyItems, scan
from syncer.errors import DocumentError
from syncer.model import ActionItem, Document, DocumentRef, Postmortem, item_key

MAX_DOCUMENT_CHARS = 5_000_000
_DATED_NOTE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?![-/.\d])(?!\s*[-–—/]\s*\d)\s+\S")
_ISSUE_FORM_RE = re.compile(r"(?:^|/)\.github/ISSUE_TEMPLATE/[^/]+\.ya?ml$", re.IGNORECASE)


def format_of(name: str) -> Literal["markdown", "html"]:
    """HTML for .html/.htm/.xhtml/.xml (Confluence storage); Markdown for the rest,
    `.html.md.erb` included."""
    return "html" if name.casefold().endswith((".html", ".htm", ".xhtml", ".xml")) else "markdown"


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """How to read ambiguous dates: 03/04/2026 is 3 April when `day_first`, else 4 March."""

    day_first: bool = False


def plain_lines(text: str) -> str:
    """`text` with every line ending a newline: Windows (CRLF), old Mac (CR) and mixed endings
    read exactly as Unix ones, and a leading byte-order mark dropped."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def extract(document: Document, options: ExtractOptions | None = None) -> Postmortem:
    opts = options or ExtractOptions()
    path = document.ref.uri or document.ref.id
    if len(document.text) > MAX_DOCUMENT_CHARS:
        raise DocumentError(path, f"larger than {MAX_DOCUMENT_CHARS:,} characters; not read")
    if "\x00" in document.text:
        raise DocumentError(path, "binary data, not a text document")
    if _ISSUE_FORM_RE.search(document.ref.id):
        # A GitHub issue form: the template people fill in, never a post-mortem with items.
        return Postmortem(id=document.ref.id, ref=document.ref, title=document.title, template=True)
    line_map: list[int] | None = None
    text = plain_lines(document.text)
    if document.format == "html":
        from connectors.extract.html import html_to_markdown  # HTML documents alone need it

        text, line_map = html_to_markdown(text)
    front = split_front_matter(text, path)
    try:
        found = scan(front.body, front.line_offset)
    except RecursionError:
        raise DocumentError(path, "nested too deeply to read") from None
    except TooManyItems as exc:
        raise DocumentError(path, f"{exc}; not read as a post-mortem") from None
    for raw in found.items:
        raw.line = _source_line(raw.line, line_map)
        raw.end_line = _source_line(raw.end_line, line_map)

    pm_id = front.text("id") or document.ref.id
    title = front.text("title") or found.title or document.title or PurePosixPath(pm_id).stem
    incident = (
        front.date("incident_date", "date")
        or first_iso_date(title)
        or stated_date(front.body)
        or first_iso_date(pm_id)
    )
    owner, role = next(
        ((name, role) for key, role in _OWNER_KEYS if (name := _person(front.data.get(key)))),
        (None, None),
    )
    doc_suppressed = _codes(front.data.get("pmsync_ignore"))
    _known_subjects(found.items, front.data)
    items = tuple(_item(raw, pm_id, incident, opts) for raw in found.items)
    # A template: nothing real in its action section, or stand-ins (`{action}`, `{{ x }}`)
    # throughout; then nothing it lists is an action item.
    real = [item for item in items if not item.placeholder]
    stand_ins = template_tokens(front.body)
    template = (
        bool(front.data.get("template"))
        or stand_ins >= 3
        or square_blank_template(front.body)
        or (not real and (bool(items) or found.has_action_section or stand_ins > 0))
    )
    if template:
        items = tuple(replace(item, placeholder=True) for item in items)
    return Postmortem(
        id=pm_id,
        ref=document.ref,
        title=title,
        incident_date=incident,
        severity=front.text("severity", "sev"),
        team=front.text("team"),
        facilitator=front.text("facilitator", "owner", "incident_commander"),
        owner=owner,
        owner_role=role,
        route=front.text("tracker"),
        items=items,
        root_causes=tuple(found.root_causes),
        template=template,
        has_action_section=found.has_action_section,
        headings=tuple((_source_line(line, line_map), text) for line, text in found.headings),
        prose=tuple((_source_line(line, line_map), text) for line, text in found.prose),
        suppressed=doc_suppressed,
        topics=_topics(front.data),
    )


def extract_file(path: Path, doc_id: str | None = None) -> Postmortem:
    """Extract a document straight from a file; for tests, benchmarks and scripts."""
    ref = DocumentRef("file", doc_id or path.name, str(path))
    text = path.read_text(encoding="utf-8")
    return extract(Document(ref, path.stem, text, format_of(path.name)))


# Front-matter keys naming what an incident was about; the same name in two post-mortems
# makes the later a recurrence of the earlier (syncer/recurrence.py).
TOPIC_KEYS = ("services", "service", "components", "component", "alerts", "alert", "tags")


def _topics(data: dict[str, Any]) -> tuple[str, ...]:
    """The names under `TOPIC_KEYS`: a list, or one string of comma-separated names."""
    found: list[str] = []
    for key in TOPIC_KEYS:
        value = data.get(key)
        names = value if isinstance(value, list) else str(value or "").split(",")
        for name in names:
            text = str(name).strip().casefold() if isinstance(name, (str, int, float)) else ""
            if text and text not in found:
                found.append(text)
    return tuple(found)


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _source_line(line: int, line_map: list[int] | None) -> int:
    """The line in the document as stored: HTML lines for HTML, else the line itself."""
    if line_map is None:
        return line
    return line_map[min(line, len(line_map)) - 1] if line_map and line > 0 else 0


def _only_tickets(raw: RawItem) -> bool:
    return bool(raw.tickets) and raw.title.replace(" ", "") in {
        t.replace(" ", "") for t in raw.tickets
    }


# Who answers for the post-mortem, by front matter key, most responsible first.
_OWNER_KEYS = (
    ("owner", "owner"),
    ("incident_lead", "incident lead"),
    ("incident_commander", "incident commander"),
    ("facilitator", "facilitator"),
    ("author", "author"),
    ("authors", "first author"),
)


def _person(value: object) -> str | None:
    """One person from a front matter value: a name, or the first of a list of names."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("email")
    text = value.strip() if isinstance(value, str) else ""
    return text.lstrip("@") or None


_PEOPLE_KEYS = (
    "author",
    "authors",
    "owner",
    "owners",
    "facilitator",
    "incident_commander",
    "incident_lead",
    "team",
    "participants",
)
# `Dana will add …`, `Lee to review …`: a person as the subject of the action.
_NAMED_SUBJECT_RE = re.compile(
    r"^(?P<name>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\s+(?:will|to|should|must|needs?\s+to)\s+[a-z]"
)


def _known_subjects(items: list[RawItem], front: dict[str, object]) -> None:
    """Give an item whose subject is a person the document names elsewhere (as another item's
    owner, or in its front matter) that person as owner; a capitalised word the document does
    not know as a person (`Migration to …`) stays no owner."""
    names: list[str] = [raw.owner.lstrip("@") for raw in items if raw.owner]
    for key in _PEOPLE_KEYS:
        value = front.get(key)
        values = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        names += [part.strip() for v in values for part in str(v).split(",")]
    known = {name.casefold() for name in names if name} | {
        name.split()[0].casefold() for name in names if name.strip()
    }
    for raw in items:
        match = _NAMED_SUBJECT_RE.match(raw.title) if raw.owner is None else None
        if match and match["name"].casefold() in known:
            raw.owner = match["name"]


def _without_code(raw: RawItem) -> str:
    """The title with its code spans taken out: `{{ x }}` in code is code, not a stand-in."""
    title = raw.title
    for span in raw.code:
        title = title.replace(span, " code ")
    return title


def _codes(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(re.findall(r"PM\d+", value))
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    return frozenset()


def _item(raw: RawItem, pm_id: str, incident: date | None, opts: ExtractOptions) -> ActionItem:
    due = parse_due(raw.due_text, incident, day_first=opts.day_first) if raw.due_text else None
    if due is None and raw.due_text and (dated := _DATED_NOTE_RE.match(raw.due_text)):
        due = _iso(dated[1])  # `2026-08-01 (moved from July)`: an exact date, then a note
    return ActionItem(
        key=item_key(pm_id, raw.title, raw.explicit_id),
        postmortem_id=pm_id,
        title=raw.title,
        description=raw.description,
        owner=raw.owner,
        due=due,
        due_text=raw.due_text,
        priority=raw.priority,
        kind=raw.kind,
        status=raw.status,
        tickets=tuple(dict.fromkeys([*raw.tickets, *raw.linked])),
        root_cause=raw.root_cause,
        snooze=_iso(raw.snooze),
        line=raw.line,
        end_line=raw.end_line,
        # A bullet that is only `#2127` points at an existing ticket: real, not a placeholder.
        placeholder=is_placeholder(_without_code(raw)) and not _only_tickets(raw),
        suppressed=raw.suppressed,
        basis=raw.basis,
    )


__all__ = ["ExtractOptions", "Scan", "extract", "extract_file"]
