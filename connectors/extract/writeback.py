"""Write-back: the smallest edit of a post-mortem that records where each item is tracked and,
optionally, that it is done.

Markdown: a table row gets the issue link in its ticket column (a `Ticket` column is added to
the table when it has none); a list item gets ` ([KEY](url))` after its first paragraph, which
extraction reads as the item's ticket, not as part of its title. With status, a task box is
ticked or a status cell set to `Done` once the issue was closed as completed. Only the lines of
those items (and a table's header and separator, for a new column) change; every other byte of
the file stays as it was, and the line count never changes.

Confluence storage format: the same, in XHTML: a link in the row's ticket cell or after the task
or list item's text, and `complete` task status.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from connectors.extract.markdown import header_field
from syncer.model import ActionItem, TrackerRef, normalise_status


@dataclass(frozen=True, slots=True)
class Filed:
    """Where an item is tracked, and whether that issue was closed as completed."""

    ref: TrackerRef
    done: bool = False


def linkable(ref: TrackerRef) -> bool:
    """Only issues people can open from the document get a link: web addresses."""
    return ref.url.startswith(("https://", "http://"))


def label_of(ref: TrackerRef) -> str:
    """`OPS-42`; for a GitHub issue (`#12`) the repository too: `acme/actions#12`."""
    if ref.key.startswith("#") and (match := re.search(r"/([^/]+/[^/]+)/issues/\d+", ref.url)):
        return f"{match[1]}{ref.key}"
    return ref.key


def markdown_link(ref: TrackerRef) -> str:
    label = re.sub(r"([\\\[\]])", r"\\\1", label_of(ref))
    return f"[{label}]({ref.url.replace(' ', '%20').replace(')', '%29')})"


def _needs_link(item: ActionItem, filed: Filed) -> bool:
    return linkable(filed.ref) and filed.ref.url not in item.tickets


def _needs_done(item: ActionItem, filed: Filed, status: bool) -> bool:
    return status and filed.done and not item.is_done


# --- Markdown ----------------------------------------------------------------------------------

_SEPARATOR_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_TASK_BOX_RE = re.compile(r"^(\s*(?:>\s*)*(?:[-*+]|\d+[.)])\s+)\[ \]")


def edit_markdown(
    text: str, items: Sequence[ActionItem], filed: Mapping[str, Filed], *, status: bool
) -> str:
    """`text` with a link to each filed item's issue (by item key), and with `status` the done
    ones marked done. Items already linked and marked are left alone: a second edit is a
    no-op."""
    lines = text.splitlines(keepends=True)
    tables: dict[int, _Table] = {}
    for item in items:
        record = filed.get(item.key)
        if record is None or item.placeholder or not 0 < item.line <= len(lines):
            continue
        link, done = _needs_link(item, record), _needs_done(item, record, status)
        if not (link or done):
            continue
        table = _table_at(lines, item.line - 1, tables)
        if table is not None:
            table.edit_row(lines, item.line - 1, markdown_link(record.ref) if link else None, done)
            continue
        if link:
            end = (item.end_line or item.line) - 1
            lines[end] = _append(lines[end], f" ({markdown_link(record.ref)})")
        if done:
            lines[item.line - 1] = _TASK_BOX_RE.sub(r"\1[x]", lines[item.line - 1], count=1)
    return "".join(lines)


def _append(line: str, addition: str) -> str:
    """`addition` after the line's text: before its line ending and any hard break."""
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    text = body.rstrip(" \t")
    trailing = body[len(text) :]
    if text.endswith("\\") and not text.endswith("\\\\"):
        return f"{text[:-1]}{addition}\\{trailing}{ending}"
    if text.endswith("<br>") or text.endswith("<br/>") or text.endswith("<br />"):
        cut = text.rfind("<br")
        return f"{text[:cut].rstrip()}{addition}{text[cut:]}{trailing}{ending}"
    return f"{text}{addition}{trailing}{ending}"


def _cells(line: str) -> list[tuple[int, int]]:
    """The (start, end) of each cell's content in a table row, pipes excluded; escaped pipes
    and pipes in code spans do not split cells."""
    body = line.rstrip("\r\n")
    bounds: list[int] = []
    code = False
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            i += 2
            continue
        if char == "`":
            code = not code
        elif char == "|" and not code:
            bounds.append(i)
        i += 1
    stripped = body.strip()
    starts = [-1] if not stripped.startswith("|") else []
    ends_open = not stripped.endswith("|") or stripped == "|"
    edges = starts + bounds + ([len(body)] if ends_open else [])
    return [(a + 1, b) for a, b in pairwise(edges)]


@dataclass(slots=True)
class _Table:
    header: int  # line index of the header row
    end: int  # line index after the last row
    ticket: int | None
    status: int | None
    width: int

    def edit_row(self, lines: list[str], row: int, link: str | None, done: bool) -> None:
        if link is not None and self.ticket is None:
            self._add_ticket_column(lines)
        missing = self.width - len(_cells(lines[row]))
        if missing > 0:  # a short row: pad it to the header's width first
            lines[row] = _with_cells(lines[row], [""] * missing)
        cells = _cells(lines[row])
        edits: list[tuple[int, str]] = []
        if link is not None and self.ticket is not None:
            start, end = cells[self.ticket]
            current = lines[row][start:end].strip()
            edits.append((self.ticket, f"{current}, {link}" if current else link))
        if done and self.status is not None:
            start, end = cells[self.status]
            if normalise_status(lines[row][start:end].strip()) != "done":
                edits.append((self.status, "Done"))
        for column, value in sorted(edits, reverse=True):
            start, end = cells[column]
            lines[row] = f"{lines[row][:start]} {value} {lines[row][end:]}"

    def _add_ticket_column(self, lines: list[str]) -> None:
        for index in range(self.header, self.end):
            value = "Ticket" if index == self.header else "---" if index == self.header + 1 else ""
            missing = max(0, self.width - len(_cells(lines[index])))
            lines[index] = _with_cells(lines[index], [""] * missing + [value])
        self.ticket = self.width
        self.width += 1


def _with_cells(line: str, values: Sequence[str]) -> str:
    """A table row with cells added at its end (and its closing pipe, if it had none)."""
    body = line.rstrip("\r\n")
    text = body.rstrip()
    if not text.endswith("|") or text.endswith("\\|"):
        text += " |"
    return text + "".join(f" {value} |" if value else "  |" for value in values) + line[len(body) :]


def _table_at(lines: list[str], row: int, known: dict[int, _Table]) -> _Table | None:
    """The table whose body row is `row`, or None when the line is not in a table."""
    if "|" not in lines[row]:
        return None
    index = row
    while index > 0 and "|" in lines[index] and not _SEPARATOR_RE.match(lines[index]):
        index -= 1
    if not _SEPARATOR_RE.match(lines[index]) or index == 0 or index == row:
        return None
    header = index - 1
    if header in known:
        return known[header]
    end = index + 1
    while end < len(lines) and lines[end].strip() and "|" in lines[end]:
        end += 1
    names = [header_field(lines[header][a:b].strip()) for a, b in _cells(lines[header])]
    table = _Table(
        header=header,
        end=end,
        ticket=names.index("ticket") if "ticket" in names else None,
        status=names.index("status") if "status" in names else None,
        width=len(names),
    )
    known[header] = table
    return table


# --- Confluence storage format -------------------------------------------------------------

_TASK_RE = re.compile(r"<ac:task>.*?</ac:task>", re.S)
_ROW_RE = re.compile(r"<tr\b[^>]*>.*?</tr>", re.S)
_LI_RE = re.compile(r"<li\b[^>]*>.*?</li>", re.S)
_TAG_RE = re.compile(r"<[^>]+>")


def _plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAG_RE.sub(" ", fragment))).strip()


def storage_link(ref: TrackerRef) -> str:
    return f'<a href="{html.escape(ref.url)}">{html.escape(label_of(ref))}</a>'


def edit_storage(
    text: str, items: Sequence[ActionItem], filed: Mapping[str, Filed], *, status: bool
) -> str:
    """The same edit in Confluence storage format. Each item is found by its title in a task,
    a table row or a list item (the first one not yet edited); an item not found is left."""
    used: set[tuple[int, int]] = set()
    for item in items:
        record = filed.get(item.key)
        if record is None or item.placeholder:
            continue
        link, done = _needs_link(item, record), _needs_done(item, record, status)
        if not (link or done):
            continue
        span = _find(text, item.title, used)
        if span is None:
            continue
        start, end = span
        fragment = text[start:end]
        edited = _edit_fragment(fragment, record.ref if link else None, done)
        text = text[:start] + edited + text[end:]
        used.add((start, start + len(edited)))
    return text


def _find(text: str, title: str, used: set[tuple[int, int]]) -> tuple[int, int] | None:
    wanted = _plain(title).casefold()[:60]
    for pattern in (_TASK_RE, _ROW_RE, _LI_RE):
        for match in pattern.finditer(text):
            if any(a <= match.start() < b for a, b in used):
                continue
            if wanted and wanted in _plain(match.group(0)).casefold():
                return match.span()
    return None


def _edit_fragment(fragment: str, ref: TrackerRef | None, done: bool) -> str:
    if fragment.startswith("<ac:task>"):
        if done:
            fragment = fragment.replace(
                "<ac:task-status>incomplete</ac:task-status>",
                "<ac:task-status>complete</ac:task-status>",
            )
        if ref is not None:
            fragment = fragment.replace("</ac:task-body>", f" ({storage_link(ref)})</ac:task-body>")
        return fragment
    if fragment.startswith("<tr"):
        return _edit_row(_status_done(fragment) if done else fragment, ref)
    fragment = _status_done(fragment) if done else fragment
    if ref is not None:  # a list item: after its text, before any nested list
        nested = re.search(r"<(?:ul|ol)\b", fragment)
        cut = nested.start() if nested else fragment.rfind("</li>")
        head = fragment[:cut]
        paragraph_end = head.rfind("</p>")
        if paragraph_end != -1 and paragraph_end >= len(head) - 6:
            cut = paragraph_end
        return f"{fragment[:cut]} ({storage_link(ref)}){fragment[cut:]}"
    return fragment


_STATUS_MACRO_RE = re.compile(
    r'(<ac:structured-macro[^>]*ac:name="status"[^>]*>)(.*?)(</ac:structured-macro>)', re.S
)


def _status_done(row: str) -> str:
    """The fragment's status macro (a row's status cell, a list item's status) says DONE."""

    def done(match: re.Match[str]) -> str:
        inner = re.sub(r'<ac:parameter ac:name="(?:title|colour)">.*?</ac:parameter>', "", match[2])
        parameters = '<ac:parameter ac:name="colour">Green</ac:parameter>'
        parameters += '<ac:parameter ac:name="title">DONE</ac:parameter>'
        return f"{match[1]}{parameters}{inner}{match[3]}"

    return _STATUS_MACRO_RE.sub(done, row, count=1)


def _edit_row(row: str, ref: TrackerRef | None) -> str:
    """A link after the row's last cell text (the ticket column, when the page has one, is
    usually last; a row without one keeps the link in its last cell)."""
    if ref is None:
        return row
    cell_end = row.rfind("</td>")
    if cell_end == -1:
        return row
    inner_end = row.rfind("</p>", 0, cell_end)
    cell_start = row.rfind("<td", 0, cell_end)
    cut = inner_end if inner_end > cell_start else cell_end
    return f"{row[:cut]} {storage_link(ref)}{row[cut:]}"
