"""Finding action items in a Markdown post-mortem.

The document is parsed once with markdown-it-py. A scan over the top-level tokens finds the
action-item sections (ATX and setext headings, bold pseudo-headings, bold list labels); only
the blocks inside those sections are walked as trees, into tables and lists of raw items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from connectors.extract.evidence import (
    commitment,
    commits,
    is_aside,
    is_label,
    one_per_line,
    section_kind,
    sentences,
    starts_imperative,
    wraps_up,
)
from connectors.extract.fields import (
    cell_status,
    clean_owner,
    find_tickets,
    is_ticket_url,
    kind_of,
    priority_of,
    read_fields,
    status_phrase,
    strip_symbols,
    subject_owner,
    timeframe_of,
)
from syncer.lazy import lazy
from syncer.model import Basis

MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# The same parser without inline parsing: `scan` parses a paragraph's emphasis, links and code
# only when it reads them (`inline_children`), not in the timeline and the rest it passes by.
_BLOCKS = (
    MarkdownIt("commonmark", {"html": True})
    .enable(["table", "strikethrough"])
    .disable(["inline", "text_join"])
)
# The document being scanned: its link reference definitions, for links written `[x][ref]`.
_ENV: ContextVar[dict[str, Any]] = ContextVar("markdown_env")

# Inside an action section, sub-sections that list something other than actions.
_NOT_ACTION_SUBHEADING = lazy(
    r"\b(?:timeline|exit\s+criteria|steps\s+to\s+close|glossary|definitions?|checklist"
    r"|instructions?|template|what\s+went|lucky|background)\b",
    re.IGNORECASE,
)
_ROOT_CAUSE_HEADING = lazy(r"\b(?:root\s+causes?|contributing\s+factors)\b", re.IGNORECASE)
_SUPPRESS_RE = lazy(r"<!--\s*pmsync:\s*ignore\s+(?P<codes>[A-Z0-9,\s]+?)\s*-->")
# The author's word that what follows (or the line it ends) is not an action item.
_NOT_ITEM_RE = lazy(r"<!--\s*pmsync:\s*not[\s-]an[\s-]item\s*-->", re.IGNORECASE)
_PARENTHETICAL_RE = lazy(r"\s*\((?P<inner>[^()]*)\)\s*$")
_TIMEFRAME_RE = lazy(r"\bQ[1-4]\b|\b(?:19|20)\d\d\b|\b(?:week|month|quarter|sprint)s?\b", re.I)
_STATUS_HEADING_RE = lazy(
    r"(?:done|completed?|finished|closed|in[\s-]progress|ongoing|planned|open|to\s?-?do|not\s+started"
    r"|pending|blocked|backlog)",
    re.IGNORECASE,
)
_PSEUDO_LEVEL = 7
_LISTS = ("bullet_list", "ordered_list")


MAX_ITEMS = 1000


class TooManyItems(ValueError):
    """More action items than any post-mortem holds: the document is not one, or is hostile."""


@dataclass(slots=True)
class Inline:
    """An inline run rendered to plain text, with what the markup said about it."""

    text: str
    links: list[tuple[str, str]] = field(default_factory=list)
    struck: bool = False
    bold_lead: str | None = None
    code: list[str] = field(default_factory=list)  # the code spans' text
    not_item: bool = False  # `<!-- pmsync: not-an-item -->` stands in it


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
    root_cause: str | None = None
    snooze: str | None = None
    suppressed: frozenset[str] = frozenset()
    origin: Literal["list", "table", "paragraph", "explicit", "prose"] = "list"
    task: bool = False  # a task-list entry (`- [ ] ...`): an action wherever it stands
    end_line: int = 0  # the last line of a list item's first paragraph
    linked: list[str] = field(default_factory=list)  # issues linked after the item's text
    group: int = 0  # which (sub-)section of the document the item is in
    code: list[str] = field(default_factory=list)  # code spans in the title: never stand-ins
    basis: Basis = "explicit"  # stated as an action, or read from prose (`inferred`)
    definition: bool = False  # `Term - what it means` (a table's vocabulary), not an action


@dataclass(frozen=True, slots=True)
class Group:
    """What a sub-heading says about every item under it: `Short-term (Completed)`."""

    kind: str | None = None
    status: str | None = None
    tickets: tuple[str, ...] = ()
    due_text: str | None = None
    ignored: bool = False  # a timeline, exit criteria or steps-to-close list inside the section
    maybe: bool = False  # a section of past and future (Mitigation): only commitments count

    @classmethod
    def from_heading(cls, heading: Inline, parent: Group | None = None) -> Group:
        """The group a sub-heading opens, inheriting what its parent heading said."""
        text = heading.text.rstrip(":").strip()
        status = due = None
        if match := _PARENTHETICAL_RE.search(text):
            inner = match["inner"].strip()
            text = text[: match.start()].strip()
            status = status_phrase(f"({inner})") or _plain_status(inner)
            if status is None and _TIMEFRAME_RE.search(inner):
                due = re.sub(
                    r"^(?:target|due|by|eta|timeline|timeframe)\s*:\s*", "", inner, flags=re.I
                )
        if _STATUS_HEADING_RE.fullmatch(text):
            status, kind = text, None  # `### Completed`, `**In progress:**`
        else:
            kind = kind_of(text)
        # `**To complete before re-enabling sync:**`: a condition every item under it shares.
        due = due or timeframe_of(text)
        tickets = tuple(url for url, label in heading.links if is_ticket_url(url, label or "issue"))
        base = parent or cls()
        ignored = base.ignored or bool(_NOT_ACTION_SUBHEADING.search(text))
        maybe = base.maybe and section_kind(text) != "action"
        return cls(
            kind or base.kind,
            status or base.status,
            tickets or base.tickets,
            due or base.due_text,
            ignored,
            maybe,
        )

    def apply(self, item: RawItem, group: int) -> RawItem:
        """`item` (just read, not shared) given what the heading says and it does not."""
        item.group = group
        item.kind = item.kind or self.kind
        item.status = item.status or self.status
        item.tickets = item.tickets or list(self.tickets)
        item.due_text = item.due_text or self.due_text
        return item


def _plain_status(text: str) -> str | None:
    words = text.casefold()
    if re.search(r"\b(?:done|completed?|planned|in[\s-]progress|ongoing|open|todo)\b", words):
        return text
    return None


@dataclass(slots=True)
class Scan:
    """What a scan of one document found."""

    title: str | None = None
    items: list[RawItem] = field(default_factory=list)
    root_causes: list[str] = field(default_factory=list)
    has_action_section: bool = False
    headings: list[tuple[int, str]] = field(default_factory=list)
    prose: list[tuple[int, str]] = field(default_factory=list)
    parents: set[int] = field(default_factory=set)  # groups that have sub-headings


def inline_children(token: Token) -> list[Token]:
    """The runs of an inline token (text, emphasis, links, code), parsed the first time they
    are asked for."""
    if token.children is None:
        token.children = []
    if not token.children and token.content:
        MARKDOWN.inline.parse(token.content, MARKDOWN, _ENV.get({}), token.children)
        for child in token.children:
            if child.type == "text_special":  # an escaped character (`\*`): plain text
                child.type = "text"
    return token.children


def render_inline(token: Token) -> Inline:
    """Plain text of an inline token; images dropped, links kept with their text."""
    parts: list[str] = []
    found = Inline(text="")
    struck_chars = 0
    strike_depth = 0
    bold_depth = 0
    bold_lead: list[str] | None = None
    link_start: int | None = None
    href = ""
    for child in inline_children(token):
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
            if kind == "code_inline":
                found.code.append(child.content)
            if strike_depth:
                struck_chars += len(child.content.strip())
            if bold_lead is not None and bold_depth:
                bold_lead.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
            link_start = len(parts)
        elif kind == "link_close" and link_start is not None:
            if href:
                found.links.append((href, "".join(parts[link_start:]).strip()))
            link_start = None
        elif kind == "s_open":
            strike_depth += 1
        elif kind == "s_close":
            strike_depth -= 1
        elif kind == "strong_open":
            bold_depth += 1
            if bold_lead is None and not "".join(parts).strip():
                bold_lead = []
        elif kind == "strong_close":
            bold_depth -= 1
            if bold_depth == 0 and bold_lead is not None:
                bold_lead.append("\0")  # the lead ends with the first bold run
        elif kind == "html_inline" and child.content.startswith("<br"):
            parts.append(" ")
        elif kind == "html_inline" and _NOT_ITEM_RE.search(child.content):
            found.not_item = True
    found.text = " ".join("".join(parts).split())
    letters = len(found.text.replace(" ", ""))
    found.struck = bool(letters) and struck_chars >= letters
    if bold_lead:
        lead = "".join(bold_lead).split("\0", 1)[0]
        found.bold_lead = " ".join(lead.split()) or None
    return found


def _is_action_heading(text: str) -> bool:
    return section_kind(text) == "action"


def _label(inline: Inline) -> str | None:
    """Bold text alone on its line (maybe with a colon) reads as a heading or a label."""
    lead = inline.bold_lead
    fits = bool(lead) and len(inline.text) <= 80 and inline.text.startswith(lead or "")
    if lead and fits and inline.text[len(lead) :].strip() in ("", ":"):
        return lead.rstrip(":").strip()
    return None


def _starts_bold(token: Token) -> bool:
    return token.content.lstrip().startswith(("**", "__"))


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
    """Find the action items of `text`: in action sections, in tables that are action tables
    wherever they stand, after a line that introduces actions, and, in a document with no
    action section at all, in the commitments of its prose."""
    env: dict[str, Any] = {}
    tokens = _BLOCKS.parse(text, env)
    _ENV.set(env)
    found = Scan()
    found.prose = _prose(tokens, line_offset)
    title_at = _title_heading(tokens)
    action_level: int | None = None
    cause_level: int | None = None
    past_level: int | None = None  # a section about the past: only items marked as such count
    lessons_level: int | None = None  # lessons and conclusions: read only as prose
    aside_level: int | None = None  # what went wrong, advice to readers: announces no actions
    pending_not_item = False  # `<!-- pmsync: not-an-item -->` stood alone before this block
    past_intro = False  # the previous paragraph introduced steps already taken
    groups: list[tuple[int, Group, int]] = []  # open headings of the action section: level,
    # what they say, and their number
    group_number = 0
    pending_suppress: frozenset[str] = frozenset()
    previous: str | None = None  # the type of the previous block in an action section
    intro = False  # the previous paragraph introduced what follows as actions
    statements: list[Token] = []  # prose outside action and past sections
    h1_seen = False  # the first level-1 heading is the title, unless it names a section

    for start, end in _blocks(tokens):
        first = tokens[start]
        heading: tuple[int, Inline] | None = None
        if first.type == "heading_open":
            heading = (int(first.tag[1:]), render_inline(tokens[start + 1]))
            if first.tag == "h1" and not h1_seen:
                h1_seen = True
                if not is_label(heading[1].text):  # `# Action items` names a section
                    found.title = heading[1].text
            if start == title_at:
                # The document's title names the incident; it opens no section, whatever words
                # it holds (`Follow-up Actions outage`).
                found.headings.append(
                    ((first.map[0] if first.map else 0) + line_offset + 1, heading[1].text)
                )
                continue
        elif first.type == "paragraph_open":
            content = tokens[start + 1].content.strip()
            if _starts_bold(tokens[start + 1]):
                inline = render_inline(tokens[start + 1])
                label = _label(inline)
                if label is not None:
                    heading = (_PSEUDO_LEVEL, Inline(label, inline.links))
            elif len(content) <= 80 and "\n" not in content and is_label(content):
                heading = (_PSEUDO_LEVEL, render_inline(tokens[start + 1]))  # `Action Items`

        if heading is not None:
            level, inline = heading
            found.headings.append(
                ((first.map[0] if first.map else 0) + line_offset + 1, inline.text)
            )
            if action_level is not None and level <= action_level:
                action_level = None
            if cause_level is not None and level <= cause_level:
                cause_level = None
            if past_level is not None and level <= past_level:
                past_level = None
            if lessons_level is not None and level <= lessons_level:
                lessons_level = None
            if aside_level is not None and level <= aside_level:
                aside_level = None
            group_number += 1
            kind = section_kind(inline.text)
            if action_level is not None:
                while groups and groups[-1][0] >= level:
                    groups.pop()
                parent = groups[-1] if groups else None
                if parent is not None:
                    found.parents.add(parent[2])  # prose above sub-headings introduces them
                group = Group.from_heading(inline, parent[1] if parent else None)
                groups.append((level, group, group_number))
            elif kind in ("action", "maybe"):
                action_level = level
                group = replace(Group.from_heading(inline), kind=None, maybe=kind == "maybe")
                groups = [(level, group, group_number)]
                found.has_action_section = found.has_action_section or kind == "action"
            elif _ROOT_CAUSE_HEADING.search(inline.text):
                cause_level = level
            if kind == "past" and action_level is None and past_level is None:
                past_level = level
            if kind == "lessons" and action_level is None and lessons_level is None:
                lessons_level = level
            if action_level is None and aside_level is None and is_aside(inline.text):
                aside_level = level
            previous = None
            intro = past_intro = pending_not_item = False  # a mark never reaches a new section
            continue

        if first.type == "html_block" and (match := _SUPPRESS_RE.search(first.content)):
            pending_suppress = frozenset(re.findall(r"PM\d+", match["codes"]))
            continue
        if first.type == "html_block" and _NOT_ITEM_RE.search(first.content):
            pending_not_item = True
            continue
        if pending_not_item:
            pending_not_item = intro = False
            continue  # the author said the block after the mark holds no action item

        block = tokens[start:end]
        group = groups[-1][1] if groups and action_level is not None else Group()
        structure = first.type in ("table_open", "bullet_list_open", "ordered_list_open")
        # Commitments read outside a section that says it holds actions are inferred.
        inferred = group.maybe or action_level is None
        if intro and structure and not group.ignored:
            group = replace(group, maybe=False)  # `We will:` and its list
        in_section = action_level is not None or (intro and structure)
        if action_level is not None and first.type == "bullet_list_open" and _labelled_list(block):
            action_level = None  # `- **Next label**:` ends a labelled section
            in_section = False
        if in_section:
            if first.type == "bullet_list_open" and previous == "ordered_list" and found.items:
                _attach_details(found.items[-1], _tree(block))
                continue
            # In a mixed section, a block with no word of the future holds no commitment.
            hopeless = group.maybe and not _may_hold_commitment(block)
            found_here = (
                []
                if group.ignored or hopeless
                else _paragraph_items(block, line_offset)
                if first.type == "paragraph_open"
                else list(_section_block(block, line_offset))
            )
            if group.maybe:
                found_here = [item for item in found_here if _committed(item, past_intro)]
            items = [group.apply(item, group_number) for item in found_here]
            for raw in items:
                stated = raw.task or raw.origin in ("explicit", "table")
                raw.basis = "inferred" if inferred and not stated else "explicit"
            if items and pending_suppress:
                items[0].suppressed = pending_suppress
            found.items.extend(items)
            if len(found.items) > MAX_ITEMS:
                raise TooManyItems(f"more than {MAX_ITEMS:,} action items")
            previous = first.type.removesuffix("_open")
        else:
            explicit = (
                render_inline(tokens[start + 1])
                if first.type == "paragraph_open" and _starts_bold(tokens[start + 1])
                else None
            )
            if explicit is not None and _explicit_lead(explicit):
                line = (first.map[0] if first.map else 0) + line_offset
                item = _paragraph_item(
                    explicit, line, first.map[1] + line_offset if first.map else 0
                )
                found.items.extend([replace(item, group=group_number)] if item else [])
            elif cause_level is not None:
                found.root_causes.extend(_cause_texts(block))
            elif first.type == "table_open" and past_level is None and _action_table(block):
                found.items.extend(_table_items(block, line_offset))
                found.has_action_section = True
            elif first.type in ("bullet_list_open", "ordered_list_open"):
                labelled, opens = _labelled_sections(block, line_offset)
                if labelled or opens:
                    found.has_action_section = True
                    found.items.extend(labelled)
                if opens:
                    # `- **Review actions**:` with nothing under it: what follows is the section.
                    action_level, groups, previous = _PSEUDO_LEVEL, [], None
                    group_number += 1
            if past_level is None and action_level is None:
                statements.extend(_statements(block))
        colon = first.type == "paragraph_open" and tokens[start + 1].content.rstrip().endswith(":")
        # A list announced in a timeline, a what-went-wrong or an advice-to-readers section, or
        # in lessons, is not announced as the team's work.
        aside = action_level is None and aside_level is not None
        intro = colon and not aside and not group.ignored
        past_intro = colon and bool(_PAST_INTRO.search(tokens[start + 1].content))
        intro = intro and not past_intro and _introduces(render_inline(tokens[start + 1]))
        pending_suppress = frozenset()

    if not found.items and not found.has_action_section:
        found.items = _commitments(statements, line_offset)
    _keep_actions(found)
    return found


def _may_hold_commitment(block: list[Token]) -> bool:
    """A cheap first test in a mixed section: a paragraph that opens in bold (`**Action
    item:**`) or one of whose lines commits or opens with a verb, or a list or table."""
    if block[0].type == "paragraph_open":
        lines = block[1].content.splitlines()
        return _starts_bold(block[1]) or any(commits(x) or starts_imperative(x) for x in lines)
    return True


def _committed(item: RawItem, after_past_intro: bool) -> bool:
    """In a section that mixes past and future (Mitigation, Resolution), only the future: a
    line that commits, or a to-do line in the imperative (not a list of steps the team says it
    took)."""
    if item.task or item.origin == "explicit" or commits(f"{item.title} {item.description}"):
        return True
    first = sentences(item.title)[:1]
    told_as_past = after_past_intro or any(_TOLD_AS_PAST.search(s) for s in first)
    return not told_as_past and starts_imperative(item.title)


_TOLD_AS_PAST = lazy(r"\b(?:was|were|had)\b", re.IGNORECASE)
# A sentence that introduces steps already taken: `We took the following steps:`.
_PAST_INTRO = lazy(
    r"\b(?:took|did|ran|made|performed|followed|executed|applied|tried|were\s+(?:taken|done"
    r"|performed|made)|was\s+(?:done|performed)|(?:we|they|the\s+team)\s+(?:\w+\s+)?\w+ed)\b",
    re.IGNORECASE,
)


def _title_heading(tokens: Sequence[Token]) -> int | None:
    """Where the document's title stands: a level-1 heading that is the document's first
    block, or its first heading with deeper ones under it. A heading that names an action
    section (`# Action items`) is that section, never the title."""
    headings = [i for i, token in enumerate(tokens) if token.type == "heading_open"]
    if not headings or tokens[headings[0]].tag != "h1":
        return None
    first = headings[0]
    if is_label(tokens[first + 1].content):
        return None  # `# Action items` names a section, wherever it stands
    deeper_next = len(headings) > 1 and tokens[headings[1]].tag != "h1"
    if deeper_next:
        return first
    if first == 0 and not (len(headings) > 1 and is_label(tokens[first + 1].content)):
        return first
    return None


_INTRODUCES = lazy(
    r"\b(?:we(?:'ll|’ll|\s+will|\s+are\s+going\s+to|\s+plan\s+to|\s+need\s+to|\s+should)"
    r"|(?:following|these|next)\s+(?:actions|steps|changes|improvements|follow[\s-]*ups|items))\b",
    re.IGNORECASE,
)


def _introduces(inline: Inline) -> bool:
    """A paragraph that ends by announcing actions: `To prevent this, we will:`."""
    text = inline.text.rstrip()
    if not text.endswith(":") or len(text) > 300:
        return False
    last = sentences(text)[-1]
    kind = section_kind(last)
    return kind == "action" or (kind != "past" and bool(_INTRODUCES.search(last)))


_MAY_COMMIT = lazy(r"\bwill\b|['’]ll\b|\bgoing\s+to\b|\bplan\s+to\b", re.IGNORECASE)


def _statements(block: list[Token]) -> Iterator[Token]:
    """The paragraphs of a block, lists' entries included, where a commitment may be written."""
    return (token for token in _unquoted(block) if token.level <= 3)


def _commitments(statements: list[Token], offset: int) -> list[RawItem]:
    """Items from `we will …` sentences: the commitment is the title, the sentences after it
    in the same paragraph its description."""
    items: list[RawItem] = []
    for token in statements:
        if not _MAY_COMMIT.search(token.content):
            continue
        line, inline = token.map[0] if token.map else 0, render_inline(token)
        if inline.not_item:
            continue
        current: RawItem | None = None
        text, linked = without_ticket_suffix(inline)  # write-back's link to the issue
        current_paragraph = False
        for sentence in sentences(text):
            found = commitment(sentence)
            if found is None:
                if current is not None:
                    current.description = f"{current.description} {sentence}".strip()
                    current.status = current.status or status_phrase(sentence)
                continue
            title, subject, lead_due = found
            fields = read_fields(title)
            current = RawItem(
                title=fields.rest,
                line=line + offset + 1,
                owner=fields.owner or subject,
                due_text=fields.due_text or lead_due,
                status=fields.status,
                tickets=find_tickets(sentence, [x for x in inline.links if x[1] in sentence]),
                linked=[] if current_paragraph else linked,
                origin="prose",
                basis="inferred",
            )
            current_paragraph = True
            items.append(current)
    return items


class Node:
    """A block of the parse as a tree: lists, items, paragraphs; an `inline` node holds its
    token. Lighter than markdown-it's own tree, which also makes a node of every inline run."""

    __slots__ = ("children", "map", "token", "type")

    def __init__(self, kind: str, lines: list[int] | None, token: Token | None = None) -> None:
        self.type = kind
        self.map = lines
        self.token = token
        self.children: list[Node] = []


def _tree(block: Sequence[Token]) -> Node:
    """`block`'s tokens as a tree under a root node."""
    stack = [Node("root", None)]
    for token in block:
        if token.nesting == 1:
            node = Node(token.type.removesuffix("_open"), token.map)
            stack[-1].children.append(node)
            stack.append(node)
        elif token.nesting == -1:
            stack.pop()
        else:
            stack[-1].children.append(Node(token.type, token.map, token))
    return stack[0]


def _section_block(block: list[Token], offset: int) -> Iterator[RawItem]:
    first = block[0]
    if first.type == "table_open":
        yield from _table_items(block, offset)
    elif first.type in ("bullet_list_open", "ordered_list_open"):
        for list_node in _tree(block).children:
            for item in list_node.children:
                yield from _list_item(item, offset)


def _labelled_list(block: list[Token]) -> bool:
    """Whether a top-level bullet list starts with a bold label (`- **Context**:`)."""
    for token in block[1:4]:
        if token.type == "inline":
            return _starts_bold(token) and _label(render_inline(token)) is not None
    return False


def _labelled_sections(block: list[Token], offset: int) -> tuple[list[RawItem], bool]:
    """Items under `- **Review actions**:` labels, and whether the last label had none under it
    (then the blocks that follow are its items)."""
    items: list[RawItem] = []
    opens = False
    if not any(token.type == "inline" and _starts_bold(token) for token in block):
        return items, opens  # no bold lead anywhere: no label (and no tree to build)
    for list_node in _tree(block).children:
        for entry in list_node.children:
            paragraphs = [c for c in entry.children if c.type == "paragraph"]
            lead = _node_inline(paragraphs[0]) if paragraphs else Inline(text="")
            label = (lead.bold_lead or "").rstrip(":").strip()
            opens = False
            if not label or not _is_action_heading(label) or not lead.text.startswith(label):
                continue
            sublists = [c for c in entry.children if c.type in _LISTS]
            for sub in sublists:
                for sub_item in sub.children:
                    items.extend(_list_item(sub_item, offset))
            text, linked = without_ticket_suffix(lead)  # write-back's link to the issue
            rest = text[len(lead.bold_lead or "") :].lstrip(" :")
            if rest and not sublists:
                # `- **Review actions**: Teams will test on the non-production ingress.`
                fields = read_fields(rest)
                items.append(
                    RawItem(
                        title=fields.rest,
                        line=_node_line(entry, offset),
                        owner=fields.owner,
                        due_text=fields.due_text,
                        status=fields.status,
                        tickets=find_tickets(rest, lead.links),
                        linked=linked,
                        snooze=fields.snooze,
                    )
                )
            opens = not sublists and not rest
    return items, opens


def without_ticket_suffix(inline: Inline) -> tuple[str, list[str]]:
    """The text without the closing `(label)`s of links to issues, the way write-back (or a
    person) says where the item is tracked, and those links' addresses: the ticket is a field,
    not part of the action."""
    text = inline.text.rstrip()
    tails = {f"({label})": url for url, label in inline.links if label and is_ticket_url(url)}
    linked: list[str] = []
    while tail := next((t for t in tails if text.endswith(t)), None):
        text = text[: -len(tail)].rstrip()
        linked.insert(0, tails[tail])
    return (text, linked) if linked else (inline.text, [])


def _node_inline(paragraph: Node) -> Inline:
    inline = paragraph.children[0] if paragraph.children else None
    if inline is None or inline.token is None:
        return Inline(text="")
    return render_inline(inline.token)


def _node_line(node: Node, offset: int) -> int:
    return (node.map[0] if node.map else 0) + offset + 1


def _list_item(node: Node, offset: int) -> Iterator[RawItem]:
    """The item, then its sub-items: a nested numbered list holds sub-items, bullets detail."""
    paragraphs = [c for c in node.children if c.type == "paragraph"]
    if not paragraphs:
        yield RawItem(title="", line=_node_line(node, offset))
        return
    lead = _node_inline(paragraphs[0])
    lead.text, linked = without_ticket_suffix(lead)
    lead.links = [link for link in lead.links if link[0] not in linked]
    more = [_node_inline(p) for p in paragraphs[1:]]
    definition = bool(_DEFINITION_RE.match(lead.text))
    bold_status = bold_priority = None
    if lead.bold_lead and _BOLD_STATUS_RE.fullmatch(lead.bold_lead):
        # `- **DONE** Rotate the keys`: the bold word is the status, the rest the action.
        bold_status = lead.bold_lead.rstrip(": ")
    elif lead.bold_lead and _BOLD_PRIORITY_RE.fullmatch(lead.bold_lead):
        # `- **HIGH** Include …`: the bold word is the priority, the rest the action.
        bold_priority = priority_of(lead.bold_lead.rstrip(": "))
    if (bold_status or bold_priority) and lead.bold_lead:
        lead.text = lead.text[len(lead.bold_lead) :].lstrip(" :-–—")
        lead.bold_lead = None
        definition = False
    fields = read_fields(lead.text)
    fields.status = bold_status or fields.status
    title = fields.rest
    description = " ".join(p.text for p in more)
    if lead.bold_lead and len(lead.bold_lead) < len(lead.text) and len(lead.bold_lead) > 3:
        # `**Short title**: longer explanation` — the bold part is the action.
        title = lead.bold_lead.rstrip(":").strip()
        rest = fields.rest[len(lead.bold_lead) :] if fields.rest.startswith(lead.bold_lead) else ""
        description = (rest.lstrip(" :.") + " " + description).strip()
        # `**Monitor errors**: The error tracking team should …`: the subject owns it.
        fields.owner = fields.owner or subject_owner(description)
    # `[Add retries](https://…)`: a link around the whole action is where it is tracked.
    around = [url for url, label in lead.links if label and _covers(label, title)]
    lead_map = paragraphs[0].map
    raw = RawItem(
        title=title,
        line=_node_line(node, offset),
        end_line=lead_map[1] + offset if lead_map else 0,
        description=description.strip(),
        owner=fields.owner,
        due_text=fields.due_text,
        priority=bold_priority or fields.priority,
        status=("done" if lead.struck else fields.status) or _later_status(more),
        code=lead.code,
        task=bool(_TASK_BOX_RE.match(lead.text)),
        snooze=fields.snooze,
        tickets=list(
            dict.fromkeys(
                around
                + find_tickets(
                    " ".join(i.text for i in (lead, *more)),
                    [link for i in (lead, *more) for link in i.links],
                )
            )
        ),
        linked=linked,
        definition=definition,
    )
    subitems: list[RawItem] = []
    for sub in node.children:
        if sub.type == "ordered_list" or (
            sub.type == "bullet_list" and _separate_actions(lead.text, sub)
        ):
            for child in sub.children:
                found = list(_list_item(child, offset))
                if found and raw.title:
                    # A sub-item means little without its parent: say which item it is part of.
                    part_of = f"Part of: {raw.title}"
                    found[0].description = "\n".join(filter(None, [part_of, found[0].description]))
                subitems.extend(found)
        elif sub.type == "bullet_list":
            _attach_details(raw, sub)
    if not lead.not_item:
        yield raw
    yield from subitems


def _covers(label: str, title: str) -> bool:
    """Whether a link's text is the whole action (a link around the item, not a word in it)."""
    words = set(re.findall(r"\w+", label.casefold()))
    title_words = re.findall(r"\w+", title.casefold())
    return len(title_words) >= 2 and sum(w in words for w in title_words) >= 0.8 * len(title_words)


# `Prevent - stops it happening again`, `**P0**: critical`: a term and what it means.
_DEFINITION_RE = lazy(r"^[\w/&+]+(?:\s[\w/&+]+){0,2}\s*(?:\s[-–—]|:)\s")
_BOLD_PRIORITY_RE = lazy(r"(?:P[0-4]|critical|high|medium|low|urgent)\s*:?", re.IGNORECASE)


def _separate_actions(parent: str, bullets: Node) -> bool:
    """Whether a bulleted sub-list holds actions of their own rather than details of its
    parent: the parent introduces them (`Improve monitoring:`), or every entry is a task box
    or opens with an imperative verb."""
    texts = [
        _node_inline(paragraph).text
        for entry in bullets.children
        for paragraph in entry.children[:1]
        if paragraph.type == "paragraph"
    ]
    if not texts or len(texts) != len(bullets.children):
        return False
    if parent.rstrip().endswith(":") or all(_TASK_BOX_RE.match(t) for t in texts):
        return True
    return len(texts) >= 2 and all(starts_imperative(t) for t in texts)


def _later_status(paragraphs: Sequence[Inline]) -> str | None:
    for paragraph in paragraphs:
        if status := status_phrase(paragraph.text):
            return status
    return None


def _attach_details(item: RawItem, bullets: Node) -> None:
    """Add a bullet list's entries to an item's description, one line each."""
    nodes = bullets.children if bullets.type in _LISTS else bullets.children[0].children
    details = [
        _node_inline(paragraph).text
        for entry in nodes
        for paragraph in entry.children
        if paragraph.type == "paragraph"
    ]
    lines = [item.description] if item.description else []
    item.description = "\n".join(lines + [f"- {d}" for d in details if d])
    # A bare link to an issue under the item says where it is tracked.
    for detail in details:
        for url in find_tickets(detail) if "http" in detail else ():
            if url.startswith("http") and url not in item.tickets:
                item.tickets.append(url)


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
        "corrective action",
        "countermeasure",
    ),
    "owner": ("owner", "owners", "assignee", "assigned to", "who", "dri", "responsible", "lead"),
    "due": (
        "due",
        "due date",
        "deadline",
        "by",
        "by when",
        "eta",
        "target date",
        "target",
        "when",
        "date",
        "timeline",
        "timing",
        "timeframe",
    ),
    "priority": ("priority", "prio", "pri"),
    "kind": ("type", "kind", "category"),
    "ticket": (
        "ticket",
        "tickets",
        "bug",
        "bugs",
        "issue",
        "issues",
        "link",
        "jira",
        "tracking",
        "tracker",
        "pr",
    ),
    "status": ("status", "state", "done", "progress"),
    "root_cause": ("root cause", "cause", "addresses", "rc", "contributing factor"),
}
_HEADER_TO_FIELD = {word: name for name, words in _COLUMNS.items() for word in words}


def header_field(text: str) -> str | None:
    """The field a column header names: `Due Date / Timing` is due, `Bug #` a ticket."""
    words = re.sub(r"\(.*?\)", "", text).strip().strip("*_:").casefold()
    if words in ("#", "no", "no."):
        return "id"
    for part in re.split(r"\s*[/&]\s*|\s+or\s+", words):
        part = re.sub(r"\s*(?:#|no\.?|number)$", "", part).replace("-", " ").strip()
        if part in _HEADER_TO_FIELD:
            return _HEADER_TO_FIELD[part]
    return None


def _table_rows(block: list[Token]) -> list[tuple[int, list[Inline]]]:
    rows: list[tuple[int, list[Inline]]] = []
    for token in block:
        if token.type == "tr_open":
            rows.append((token.map[0] if token.map else 0, []))
        elif token.type == "inline" and rows:
            rows[-1][1].append(render_inline(token))
    return rows


def _table_items(block: list[Token], offset: int) -> Iterator[RawItem]:
    if sum(1 for token in block if token.type == "tr_open") > MAX_ITEMS + 1:
        raise TooManyItems(f"a table of more than {MAX_ITEMS:,} rows")
    rows = _table_rows(block)
    if not rows:
        return
    columns = [header_field(cell.text) for cell in rows[0][1]]
    if "title" not in columns:
        return
    for line, row in rows[1:]:
        cells = {name: cell for name, cell in zip(columns, row, strict=False) if name}
        if not any(cell.text for cell in row):
            continue
        title_cell = cells["title"]
        fields = read_fields(title_cell.text)
        ticket_cell = cells.get("ticket", Inline(text=""))
        written = _cell(cells, "status") or ""
        # `<https://…/issues/62>` or `#12 (done)` in the status column: the reference is a ticket
        # (read below with the row's links); only a status word beside it is a status.
        referenced = bool(written) and bool(find_tickets(written))
        # A status word in the ticket cell counts too: `Bug #5554823 TODO`, `#12 (done)`.
        status = (
            (cell_status(written) if referenced else written or None)
            or fields.status
            or cell_status(ticket_cell.text)
        )
        if status is None and title_cell.struck:
            status = "done"
        # Links to issues in any other column count too (a Notes or Status cell).
        elsewhere = [
            (url, "")
            for name, cell in zip(columns, row, strict=False)
            if name not in ("ticket", "title")
            for url, _label in cell.links
            if is_ticket_url(url)
        ]
        status_cell = cells.get("status", Inline(text=""))
        # Anything linked from a filled ticket column is a ticket, whatever its URL looks like.
        ticket_links = [
            (url, label or "ticket") if ticket_cell.text else (url, label)
            for url, label in ticket_cell.links
        ]
        links = ticket_links + title_cell.links + elsewhere
        yield RawItem(
            title=fields.rest,
            line=line + offset + 1,
            owner=clean_owner(_cell(cells, "owner") or "") or fields.owner,
            due_text=_cell(cells, "due") or fields.due_text,
            priority=priority_of(_cell(cells, "priority") or "") or fields.priority,
            kind=kind_of(_cell(cells, "kind")),
            status=status,
            tickets=find_tickets(
                " ".join(
                    [
                        _ticket_text(ticket_cell),
                        status_cell.text if referenced else "",
                        title_cell.text,
                    ]
                ),
                links,
            ),
            explicit_id=_cell(cells, "id"),
            root_cause=_cell(cells, "root_cause"),
            snooze=fields.snooze,
            origin="table",
            code=title_cell.code,
        )


_ACTION_TITLE_HEADER = lazy(
    r"^(?:action|item|task|follow[\s-]*up|remediation|corrective|countermeasure|to\s?-?do)", re.I
)


def _action_table(block: list[Token]) -> bool:
    """A table whose header says it lists actions (`Action item | Owner | Status`), wherever
    it stands: an action column beside at least one column of an action's fields."""
    rows = _table_rows(block[: next((i for i, t in enumerate(block) if t.type == "tr_close"), 0)])
    if not rows:
        return False
    header = [cell.text.strip("*_: ") for cell in rows[0][1]]
    columns = [header_field(text) for text in header]
    titled = any(
        name == "title" and _ACTION_TITLE_HEADER.match(text)
        for name, text in zip(columns, header, strict=False)
    )
    others = {"owner", "status", "ticket", "priority", "kind", "due"} & set(columns)
    return titled and bool(others)


def _ticket_text(cell: Inline) -> str:
    """A ticket cell's text; a bare URL or key in it counts even when it looks like nothing."""
    text = cell.text.strip()
    return "" if text.upper() in {"DONE", "FIXED", "-", "—", "N/A"} else text


def _cell(cells: dict[str, Inline], name: str) -> str | None:
    cell = cells.get(name)
    if cell is None:
        return None
    value = strip_symbols(cell.text) if name != "title" else cell.text.strip()
    return value if value and value not in {"-", "—", "–"} else None


def _cause_texts(block: list[Token]) -> list[str]:
    texts = [render_inline(t).text for t in block if t.type == "inline"]
    return [t for t in texts if len(t) > 3][:10]


def _prose(tokens: Sequence[Token], offset: int) -> list[tuple[int, str]]:
    """The author's own words with their lines: every inline run outside quotes (chat logs,
    citations); code is never inline, so it is left out already."""
    return [(token.map[0] + offset + 1, token.content) for token in _unquoted(tokens) if token.map]


def _unquoted(tokens: Sequence[Token]) -> Iterator[Token]:
    """The inline runs of `tokens` that stand outside block quotes and have a line."""
    quoted = 0
    for token in tokens:
        if token.type == "blockquote_open":
            quoted += 1
        elif token.type == "blockquote_close":
            quoted -= 1
        elif token.type == "inline" and not quoted and token.map:
            yield token


def _keep_actions(found: Scan) -> None:
    """Drop what only explains: bullet lists beside a table of actions in the same (sub-)section
    define its vocabulary (task lists excepted: a checkbox is an action), and prose beside a
    list or table introduces it."""
    with_tables = {item.group for item in found.items if item.origin == "table"}
    with_lists = {item.group for item in found.items if item.origin == "list"}
    found.items = [
        item
        for item in found.items
        if item.origin in ("table", "explicit", "prose")
        or (item.origin == "list" and (item.task or item.group not in with_tables))
        or (item.origin == "list" and not item.definition and starts_imperative(item.title))
        or (
            item.origin == "paragraph"
            and item.group not in with_tables | with_lists | found.parents
        )
    ]


_TASK_BOX_RE = lazy(r"\s*\[[ xX]\]\s")
_NO_ACTIONS_RE = lazy(
    r"^(?:none|n/?a|tbd|no\s+(?:further\s+)?(?:action|follow)|nothing\b|see\s+(?:above|below))",
    re.IGNORECASE,
)


def _paragraph_items(block: list[Token], offset: int) -> list[RawItem]:
    """The items of a paragraph: one per line when each line stands alone (one action per
    line, no list markers), else the paragraph as one item (see `_paragraph_item`)."""
    token = block[1]
    first_line = (block[0].map[0] if block[0].map else 0) + offset
    whole = render_inline(token)
    lines = _inline_lines(token) if "\n" in token.content.strip() else [whole]
    bold_title = len(lines) > 1 and lines[0].bold_lead == lines[0].text
    if not bold_title and one_per_line([line.text for line in lines]) and not _explicit_lead(whole):
        items = []
        for number, line in enumerate(lines):
            item = _paragraph_item(line, first_line + number)
            if item is not None:
                items.append(replace(item, end_line=item.line))
        return items
    item = _paragraph_item(whole, first_line, block[0].map[1] + offset if block[0].map else 0)
    return [item] if item is not None else []


def _inline_lines(token: Token) -> list[Inline]:
    """Each line of an inline run (split at its soft breaks), rendered on its own."""
    runs: list[list[Token]] = [[]]
    for child in inline_children(token):
        if child.type == "softbreak":
            runs.append([])
        else:
            runs[-1].append(child)
    lines = []
    for run in runs:
        part = Token("inline", "", 0)
        part.children = run
        lines.append(render_inline(part))
    return [line for line in lines if line.text]


_BOLD_STATUS_RE = lazy(
    r"(?:DONE|TODO|TO\s?DO|DOING|WIP|IN\s+PROGRESS|BLOCKED|FIXED|COMPLETED?|OPEN)\s*:?", re.I
)


def _explicit_lead(inline: Inline) -> str | None:
    """`**Action item:**` or a bold status word (`**DONE**`) opening a paragraph marks it as an
    item wherever it stands; returns that lead."""
    lead = (inline.bold_lead or "").strip()
    if lead and (_EXPLICIT_RE.fullmatch(lead) or _BOLD_STATUS_RE.fullmatch(lead)):
        return lead
    return None


def _paragraph_item(inline: Inline, line: int, end_line: int = 0) -> RawItem | None:
    """A paragraph standing alone under an action sub-heading is an item, unless it introduces
    something (ends with a colon), says there is nothing to do, or is too long to be one. A
    paragraph labelled `**Action item:**` or with a bold status word is one wherever it
    stands."""
    text, linked = without_ticket_suffix(inline)
    lead = _explicit_lead(inline)
    description = ""
    status = None
    if inline.not_item:
        return None
    if lead:
        text = text[len(inline.bold_lead or "") :].lstrip(" :")
        if _BOLD_STATUS_RE.fullmatch(lead):
            status = lead.rstrip(": ")
        first, _, description = text.partition(". ")
        text = first if description else text
    elif not text or text.endswith(":") or _NO_ACTIONS_RE.match(text) or wraps_up(text):
        return None
    elif len(text) > 400:
        # A long paragraph: its first sentence is the action, the rest explains it.
        first, *more = sentences(text)
        text, description = first.rstrip(" ."), " ".join(more)
    fields = read_fields(text + (" " + description if description else ""))
    if description:
        fields.rest = read_fields(text).rest
    return RawItem(
        title=fields.rest,
        description=description.strip(),
        line=line + 1,
        end_line=end_line or line + 1,
        owner=fields.owner,
        due_text=fields.due_text,
        priority=fields.priority,
        status=status or fields.status or ("done" if inline.struck else None),
        tickets=find_tickets(text, [link for link in inline.links if link[0] not in linked]),
        linked=linked,
        snooze=fields.snooze,
        origin="explicit" if lead else "paragraph",
        code=inline.code,
    )


# `**Action item:** …`: a paragraph its author marked as an action.
_EXPLICIT_RE = lazy(r"(?:action\s*items?|actions?|to\s?-?do|follow[\s-]*ups?)\s*:?", re.I)
