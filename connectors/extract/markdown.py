"""Finding action items in a Markdown post-mortem.

The document is parsed once with markdown-it-py. A scan over the top-level tokens finds the
action-item sections (ATX and setext headings, bold pseudo-headings, bold list labels); only
those sections are walked as a tree, into tables and lists of raw items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from connectors.extract.fields import (
    clean_owner,
    find_tickets,
    kind_of,
    priority_of,
    read_fields,
)

MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

_ACTION_HEADING = re.compile(
    r"\b(?:action\s*items?|actions?|follow[\s-]*ups?|remediations?|corrective|next\s+steps"
    r"|improvements?|to\s?-?dos?|tasks)\b",
    re.IGNORECASE,
)
_NOT_ACTION_HEADING = re.compile(
    r"\b(?:timeline|glossary|exit\s+criteria|what\s+went|impact|root\s+causes?|steps\s+to\s+close"
    r"|trigger|detection|summary|background|resolution|instructions?)\b",
    re.IGNORECASE,
)
_ROOT_CAUSE_HEADING = re.compile(r"\b(?:root\s+causes?|causes?|contributing\s+factors)\b", re.I)
_SUPPRESS_RE = re.compile(r"<!--\s*pmsync:\s*ignore\s+(?P<codes>[A-Z0-9,\s]+?)\s*-->")
_PSEUDO_LEVEL = 7


@dataclass(slots=True)
class Inline:
    """An inline run rendered to plain text, with what the markup said about it."""

    text: str
    links: list[str] = field(default_factory=list)
    struck: bool = False
    bold_lead: str | None = None


@dataclass(slots=True)
class RawItem:
    """An item as found, before identity and dates are worked out."""

    title: str
    line: int
    description: str = ""
    owner: str | None = None
    due_text: str | None = None
    priority: str | None = None
    kind: str | None = None
    status: str | None = None
    tickets: list[str] = field(default_factory=list)
    explicit_id: str | None = None
    suppressed: frozenset[str] = frozenset()
    from_table: bool = False


@dataclass(slots=True)
class Scan:
    """What a scan of one document found."""

    title: str | None = None
    items: list[RawItem] = field(default_factory=list)
    root_causes: list[str] = field(default_factory=list)
    has_action_section: bool = False


def render_inline(token: Token) -> Inline:
    """Plain text of an inline token; images dropped, links kept as targets."""
    parts: list[str] = []
    found = Inline(text="")
    struck_chars = 0
    strike_depth = 0
    bold_depth = 0
    bold_lead: list[str] | None = None
    for child in token.children or []:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
            if strike_depth:
                struck_chars += len(child.content.strip())
            if bold_lead is not None and bold_depth:
                bold_lead.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
            if href:
                found.links.append(href)
        elif kind == "s_open":
            strike_depth += 1
        elif kind == "s_close":
            strike_depth -= 1
        elif kind == "strong_open":
            bold_depth += 1
            if not "".join(parts).strip() and bold_lead is None:
                bold_lead = []
        elif kind == "strong_close":
            bold_depth -= 1
        elif kind == "html_inline" and child.content.startswith("<br"):
            parts.append(" ")
    text = "".join(parts)
    found.text = re.sub(r"\s+", " ", text).strip()
    letters = len(found.text.replace(" ", ""))
    found.struck = bool(letters) and struck_chars >= letters
    if bold_lead:
        found.bold_lead = re.sub(r"\s+", " ", "".join(bold_lead)).strip()
    return found


def _is_action_heading(text: str) -> bool:
    return bool(_ACTION_HEADING.search(text)) and not _NOT_ACTION_HEADING.search(text)


def _pseudo_heading(inline: Inline) -> str | None:
    """A paragraph that is only bold text (maybe with a colon) reads as a heading."""
    if inline.bold_lead and len(inline.text) <= 80:
        rest = (
            inline.text[len(inline.bold_lead) :].strip()
            if inline.text.startswith(inline.bold_lead)
            else None
        )
        if rest in ("", ":"):
            return inline.bold_lead.rstrip(":").strip()
    return None


def _blocks(tokens: Sequence[Token]) -> Iterator[tuple[int, int]]:
    """(start, end) index ranges of the top-level blocks; `end` is exclusive."""
    start = 0
    depth = 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            yield start, index + 1
            start = index + 1


def scan(text: str, line_offset: int = 0) -> Scan:
    """Find the action-item sections of `text` and read their items."""
    tokens = MARKDOWN.parse(text)
    found = Scan()
    action_level: int | None = None
    cause_level: int | None = None
    group: str | None = None
    pending_suppress: frozenset[str] = frozenset()

    for start, end in _blocks(tokens):
        first = tokens[start]
        heading: tuple[int, str] | None = None
        if first.type == "heading_open":
            heading = (int(first.tag[1:]), render_inline(tokens[start + 1]).text)
            if found.title is None and first.tag == "h1":
                found.title = heading[1]
        elif first.type == "paragraph_open":
            label = _pseudo_heading(render_inline(tokens[start + 1]))
            if label is not None:
                heading = (_PSEUDO_LEVEL, label)

        if heading is not None:
            level, heading_text = heading
            if action_level is not None and level <= action_level:
                action_level = None
            if cause_level is not None and level <= cause_level:
                cause_level = None
            if action_level is not None:
                group = heading_text
            elif _is_action_heading(heading_text):
                action_level, group = level, None
                found.has_action_section = True
            elif _ROOT_CAUSE_HEADING.search(heading_text):
                cause_level = level
            continue

        block = tokens[start:end]
        if first.type == "html_block" and (match := _SUPPRESS_RE.search(first.content)):
            pending_suppress = frozenset(re.findall(r"PM\d+", match["codes"]))
            continue

        if action_level is not None:
            items = list(_section_block(block, group, line_offset))
            if items and pending_suppress:
                items[0].suppressed = pending_suppress
            found.items.extend(items)
        elif cause_level is not None:
            found.root_causes.extend(_cause_texts(block))
        elif first.type == "bullet_list_open" or first.type == "ordered_list_open":
            labelled = list(_labelled_sections(block, line_offset))
            if labelled:
                found.has_action_section = True
                found.items.extend(labelled)
        pending_suppress = frozenset()

    _drop_vocabulary_lists(found)
    return found


def _section_block(block: list[Token], group: str | None, offset: int) -> Iterator[RawItem]:
    first = block[0]
    if first.type == "table_open":
        yield from _table_items(block, group, offset)
    elif first.type in ("bullet_list_open", "ordered_list_open"):
        tree = SyntaxTreeNode(block)
        for list_node in tree.children:
            for item in list_node.children:
                raw = _list_item(item, group, offset)
                if raw is not None:
                    yield raw


def _labelled_sections(block: list[Token], offset: int) -> Iterator[RawItem]:
    """`- **Review actions**:` followed by a nested list: the nested items are action items."""
    tree = SyntaxTreeNode(block)
    for list_node in tree.children:
        for item in list_node.children:
            paragraphs = [c for c in item.children if c.type == "paragraph"]
            if not paragraphs:
                continue
            label = _pseudo_heading(_node_inline(paragraphs[0]))
            if label is None or not _is_action_heading(label):
                continue
            for sub in item.children:
                if sub.type in ("bullet_list", "ordered_list"):
                    for sub_item in sub.children:
                        raw = _list_item(sub_item, None, offset)
                        if raw is not None:
                            yield raw


def _node_inline(paragraph: SyntaxTreeNode) -> Inline:
    inline = paragraph.children[0] if paragraph.children else None
    if inline is None or inline.token is None:
        return Inline(text="")
    return render_inline(inline.token)


def _node_line(node: SyntaxTreeNode, offset: int) -> int:
    return (node.map[0] if node.map else 0) + offset + 1


def _list_item(node: SyntaxTreeNode, group: str | None, offset: int) -> RawItem | None:
    paragraphs = [c for c in node.children if c.type == "paragraph"]
    if not paragraphs:
        return RawItem(title="", line=_node_line(node, offset), kind=kind_of(group))
    lead = _node_inline(paragraphs[0])
    more = [_node_inline(p) for p in paragraphs[1:]]
    fields = read_fields(lead.text)
    title = fields.rest
    description = " ".join(p.text for p in more)
    if lead.bold_lead and len(lead.bold_lead) < len(lead.text):
        # `**Short title**: longer explanation` — the bold part is the action.
        title = lead.bold_lead.rstrip(":").strip()
        description = (fields.rest[len(lead.bold_lead) :].lstrip(" :") + " " + description).strip()
    for sub in node.children:
        if sub.type in ("bullet_list", "ordered_list"):
            details = [
                _node_inline(p).text
                for li in sub.children
                for p in li.children
                if p.type == "paragraph"
            ]
            description = "\n".join(filter(None, [description, *("- " + d for d in details)]))
    links = [link for inline in (lead, *more) for link in inline.links]
    status = fields.status or ("done" if lead.struck else None)
    return RawItem(
        title=title,
        line=_node_line(node, offset),
        description=description.strip(),
        owner=fields.owner,
        due_text=fields.due_text,
        priority=fields.priority,
        kind=kind_of(group),
        status=status,
        tickets=find_tickets(" ".join(i.text for i in (lead, *more)), links),
    )


# Header words, as teams write them, for each field a table column can hold.
_COLUMNS = {
    "id": ("id", "#", "no", "ref", "ai", "key"),
    "title": (
        "action item",
        "action items",
        "action",
        "actions",
        "item",
        "task",
        "description",
        "what",
        "summary",
        "title",
        "follow up",
        "remediation",
    ),
    "owner": ("owner", "owners", "assignee", "assigned to", "who", "dri", "responsible"),
    "due": ("due", "due date", "deadline", "by", "by when", "eta", "target date", "when", "date"),
    "priority": ("priority", "prio", "pri"),
    "kind": ("type", "kind", "category"),
    "ticket": ("ticket", "tickets", "bug", "bugs", "issue", "issues", "link", "jira", "tracking"),
    "status": ("status", "state", "done"),
}
_HEADER_TO_FIELD = {word: name for name, words in _COLUMNS.items() for word in words}


def _header_field(text: str) -> str | None:
    words = re.sub(r"\(.*?\)", "", text).strip().strip("*_:").casefold()
    words = re.sub(r"\s*#$", "", words).replace("-", " ").strip()
    return _HEADER_TO_FIELD.get(words)


def _table_rows(block: list[Token]) -> list[list[Inline]]:
    rows: list[list[Inline]] = []
    for token in block:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(render_inline(token))
    return rows


def _table_items(block: list[Token], group: str | None, offset: int) -> Iterator[RawItem]:
    rows = _table_rows(block)
    if not rows:
        return
    columns = [_header_field(cell.text) for cell in rows[0]]
    if "title" not in columns:
        return
    row_lines = [t.map[0] for t in block if t.type == "tr_open" and t.map]
    for index, row in enumerate(rows[1:], start=1):
        cells = {name: cell for name, cell in zip(columns, row, strict=False) if name}
        if not any(cell.text for cell in row):
            continue
        title_cell = cells["title"]
        fields = read_fields(title_cell.text)
        ticket_cell = cells.get("ticket", Inline(text=""))
        status = _cell(cells, "status") or fields.status
        if status is None and ticket_cell.text.strip().upper() in {"DONE", "FIXED"}:
            status = ticket_cell.text.strip()
        if status is None and title_cell.struck:
            status = "done"
        line = (row_lines[index] if index < len(row_lines) else 0) + offset + 1
        yield RawItem(
            title=fields.rest,
            line=line,
            owner=clean_owner(_cell(cells, "owner") or "") or fields.owner,
            due_text=_cell(cells, "due") or fields.due_text,
            priority=priority_of(_cell(cells, "priority") or "") or fields.priority,
            kind=kind_of(_cell(cells, "kind") or group),
            status=status,
            tickets=find_tickets(
                ticket_cell.text + " " + title_cell.text, ticket_cell.links + title_cell.links
            ),
            explicit_id=_cell(cells, "id"),
            from_table=True,
        )


def _cell(cells: dict[str, Inline], name: str) -> str | None:
    cell = cells.get(name)
    if cell is None:
        return None
    value = cell.text.strip()
    return value if value and value not in {"-", "—", "–"} else None


def _cause_texts(block: list[Token]) -> list[str]:
    texts = [render_inline(t).text for t in block if t.type == "inline"]
    return [t for t in texts if len(t) > 3][:10]


def _drop_vocabulary_lists(found: Scan) -> None:
    """When a section has a table of actions, bullet lists beside it explain, not act."""
    if any(item.from_table for item in found.items):
        found.items = [item for item in found.items if item.from_table]
