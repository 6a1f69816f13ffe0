"""HTML post-mortems (Confluence storage format, Confluence and Google Docs exports) as Markdown.

The HTML is rewritten as the Markdown a person would have written for the same page, so one
reader serves every format. Parsing uses the standard library's `html.parser`: it fetches
nothing, expands no entity definitions (a billion-laughs document stays a few bytes of text)
and keeps an explicit stack, so deep nesting cannot exhaust recursion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "body",
        "br",
        "ac:task-body",
        "ac:rich-text-body",
        "ac:layout-cell",
        "hr",
        "dl",
        "dt",
        "dd",
    }
)
_SKIP = frozenset(
    {
        "script",
        "style",
        "head",
        "title",
        "ac:plain-text-body",
        "ac:placeholder",
        "ac:task-id",
        "ac:task-uuid",
        "ac:image",
        "svg",
        "noscript",
        "template",
    }
)
_LISTS = frozenset({"ul", "ol", "ac:task-list"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ITEMS = frozenset({"li", "ac:task"})
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.IGNORECASE)
_STRIKE_STYLE = re.compile(r"text-decoration[^;]*line-through", re.IGNORECASE)
_ESCAPE = re.compile(r"([\\`*_\[\]|<>])")
_LINE_START = re.compile(r"^(\s*)(?:([#+-])|(\d+)([.)]))(\s)")
_EMOTICONS = {"tick": "✅", "cross": "❌", "warning": "⚠️", "information": "ℹ️"}
_OWNER_LABEL = re.compile(r"\b(?:owner|owners|assignee|assigned to|dri)\s*:?\s*$", re.I)
_CHECKBOXES = {"☐": "[ ]", "☑": "[x]", "☒": "[x]", "✓": "[x]"}


@dataclass(slots=True)
class _Cell:
    parts: list[str] = field(default_factory=list)
    header: bool = False


@dataclass(slots=True)
class _Table:
    rows: list[list[_Cell]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the source line of each row
    line: int = 0


@dataclass(slots=True)
class _Frame:
    """One open element that changes how text inside it is written."""

    tag: str
    bold: bool = False
    strike: bool = False
    href: str | None = None
    link_start: int = 0
    skip: bool = False
    mention: str | None = None  # what closes a mention: ")" or nothing
    macro: str | None = None
    param: str | None = None


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[str, int]] = []  # (markdown line, html source line)
        self.inline: list[str] = []
        self.inline_line = 1
        self.stack: list[_Frame] = []
        self.lists: list[str] = []  # "ul" / "ol" of each open list
        self.item_open: list[bool] = []  # whether the current <li> already wrote its first line
        self.item_lines: list[int] = []  # how many lines there were when each open <li> began
        self.tables: list[_Table] = []
        self.task_status: str | None = None
        self.heading: int | None = None

    # --- helpers -------------------------------------------------------------------------

    def _skipping(self) -> bool:
        return any(frame.skip for frame in self.stack)

    def _in(self, tag: str) -> bool:
        return any(frame.tag == tag for frame in self.stack)

    def _macro(self) -> str | None:
        for frame in reversed(self.stack):
            if frame.macro:
                return frame.macro
        return None

    def _text(self, text: str) -> None:
        if not self.inline:
            self.inline_line = self.getpos()[0]
        if self.tables and self.tables[-1].rows and self.tables[-1].rows[-1]:
            self.tables[-1].rows[-1][-1].parts.append(text)
        else:
            self.inline.append(text)

    def _emit(self, line: str) -> None:
        self.lines.append((line, self.inline_line or self.getpos()[0]))

    def _flush(self) -> None:
        """End the current run of inline text: write it as a line in its context."""
        text = re.sub(r"\s+", " ", "".join(self.inline)).strip()
        self.inline = []
        if not text:
            return
        if self.heading:
            self._blank()
            self._emit("#" * self.heading + " " + text)
            self._blank()
            return
        if self.lists:
            depth = len(self.lists) - 1
            indent = "   " * depth
            if self.item_open and not self.item_open[-1]:
                marker = "1." if self.lists[-1] == "ol" else "-"
                box = ""
                if self.task_status is not None:
                    box = "[x] " if self.task_status == "complete" else "[ ] "
                    self.task_status = None
                text = _checkbox(text) if not box else text
                self._emit(f"{indent}{marker} {box}{text}")
                self.item_open[-1] = True
            else:
                self._emit(f"{indent}   {text}")
            return
        self._blank()
        # A quotation (a template's prompt, a customer's words) stays one: never an item.
        self._emit(("> " if self._in("blockquote") else "") + _checkbox(text))
        self._blank()

    def _blank(self) -> None:
        if self.lines and self.lines[-1][0] != "":
            self.lines.append(("", self.lines[-1][1]))

    # --- parser callbacks ----------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        frame = _Frame(tag)
        style = attr.get("style", "")
        if tag in _SKIP or (tag == "ac:parameter" and not self._wanted_parameter(attr)):
            frame.skip = True
        elif tag in ("b", "strong") or (tag == "span" and _BOLD_STYLE.search(style)):
            frame.bold = True
            self._text("**")
        elif tag in ("s", "del", "strike") or (tag == "span" and _STRIKE_STYLE.search(style)):
            frame.strike = True
            self._text("~~")
        elif tag == "a":
            classes = attr.get("class", "")
            if "user-mention" in classes or "confluence-userlink" in classes:
                opening, frame.mention = self._mention()
                self._text(opening)
            elif attr.get("href"):
                frame.href = _unwrap(attr["href"])
                self._text("[")
        elif tag in ("ri:user",):
            name = attr.get("ri:username") or attr.get("ri:userkey") or attr.get("ri:account-id")
            if name:
                opening, closing = self._mention()
                self._text(opening + name + closing)
        elif tag == "ri:page" and not self._in("ac:link-body"):
            self._text(attr.get("ri:content-title", ""))
        elif tag == "ac:structured-macro":
            frame.macro = attr.get("ac:name", "")
        elif tag == "ac:parameter":
            frame.param = attr.get("ac:name")
        elif tag == "ac:emoticon":
            self._text(_EMOTICONS.get(attr.get("ac:name", ""), ""))
        elif tag == "time" and attr.get("datetime"):
            frame.skip = True  # the attribute says it exactly; the text is for people
            date = attr["datetime"][:10]
            self._text(f" Due: {date} " if self._in_task() else date)
        elif tag == "code":
            self._text("`")
        if tag == "p" and "title" in attr.get("class", "").split():
            frame.tag = tag = "h1"  # Google Docs marks the document title this way
        if tag in _BLOCKS or tag in _LISTS or tag in _ITEMS or tag in _HEADINGS or tag == "table":
            self._flush()
            self.heading = int(tag[1]) if tag in _HEADINGS else None  # an open heading ends here
        if tag in _LISTS:
            self.lists.append("ol" if tag == "ol" else "ul")
        elif tag in _ITEMS:
            self.item_open.append(False)
            self.item_lines.append(len(self.lines))
            self.task_status = None
            if attr.get("data-inline-task-id"):  # a task in Confluence's rendered HTML
                self.task_status = "complete" if "checked" in attr.get("class", "") else ""
        elif tag == "table":
            self.tables.append(_Table(line=self.getpos()[0]))
        elif tag == "tr" and self.tables:
            self.tables[-1].rows.append([])
            self.tables[-1].lines.append(self.getpos()[0])
        elif tag in ("td", "th") and self.tables and self.tables[-1].rows:
            self.tables[-1].rows[-1].append(_Cell(header=tag == "th"))
        if tag == "li" and attr.get("data-inline-task-id"):
            frame.macro = "task"
        if tag not in ("br", "hr", "img", "ri:user", "ri:page", "ac:emoticon"):
            self.stack.append(frame)
        elif tag == "br":
            if not "".join(self.inline).strip() and self.item_open and self.item_open[-1]:
                self._blank()  # a second line break in an item: a paragraph of its own
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img", "ri:user", "ri:page", "ac:emoticon"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        names = {tag, "h1"} if tag == "p" else {tag}
        if not any(frame.tag in names for frame in self.stack):
            return  # a stray closing tag
        while self.stack:
            frame = self.stack.pop()
            self._close(frame)
            if frame.tag in names:
                break

    def _close(self, frame: _Frame) -> None:
        tag = frame.tag
        if frame.bold:
            self._text("**")
        elif frame.strike:
            self._text("~~")
        elif frame.href is not None:
            self._text(f"]({frame.href})")
        elif frame.mention is not None:
            self._text(frame.mention)
        elif tag == "code":
            self._text("`")
        elif tag == "ac:task-status":
            pass
        if tag in _BLOCKS or tag in _HEADINGS:
            self._flush()
            if tag in _HEADINGS:
                self.heading = None
        elif tag in _ITEMS:
            self._flush()
            start = self.item_lines.pop() if self.item_lines else None
            if tag == "li" and self.lists and start == len(self.lines):
                depth = len(self.lists) - 1  # an item with nothing in it: a placeholder
                self._emit("   " * depth + ("1." if self.lists[-1] == "ol" else "-"))
            if self.item_open:
                self.item_open.pop()
        elif tag in _LISTS:
            self._flush()
            if self.lists:
                self.lists.pop()
            if not self.lists:
                self._blank()
        elif tag == "table" and self.tables:
            self._write_table(self.tables.pop())

    def handle_data(self, data: str) -> None:
        if self._skipping():
            return
        top = self.stack[-1] if self.stack else None
        if top is not None and top.tag == "ac:task-status":
            self.task_status = data.strip()
            return
        if top is not None and top.tag == "ac:parameter":
            status = self._macro() == "status" and not self._in_cell()
            self._text(f" (status: {data.strip()}) " if status else f" {data.strip()} ")
            return
        if self._in("code") or self._in("pre"):
            self._text(data.replace("`", "'"))
            return
        self._text(_ESCAPE.sub(r"\\\1", data))

    def _wanted_parameter(self, attr: dict[str, str]) -> bool:
        """Of a macro's parameters, only a status's title and a Jira issue's key are text."""
        name = attr.get("ac:name")
        macro = self._macro()
        return (macro == "status" and name == "title") or (macro == "jira" and name == "key")

    def _mention(self) -> tuple[str, str]:
        """How to write a mentioned person: as they are in a table cell or after an
        `owner:` label, else as `(owner: name)`, so that the item reader finds the owner."""
        if self._in_cell() or _OWNER_LABEL.search("".join(self.inline[-3:])):
            return "", ""
        return "(owner: ", ")"

    def _in_task(self) -> bool:
        return self._in("ac:task-body") or any(
            frame.tag == "li" and frame.macro == "task" for frame in self.stack
        )

    def _in_cell(self) -> bool:
        return bool(self.tables and self.tables[-1].rows and self.tables[-1].rows[-1])

    def _write_table(self, table: _Table) -> None:
        rows = [(line, row) for line, row in zip(table.lines, table.rows, strict=False) if row]
        if not rows:
            return
        width = max(len(row) for _, row in rows)
        saved = self.inline_line
        self.inline_line = table.line
        self._blank()
        for index, (line, row) in enumerate(rows):
            cells = [_cell_text(cell) for cell in row] + [""] * (width - len(row))
            self.inline_line = line
            self._emit("| " + " | ".join(cells) + " |")
            if index == 0:
                self._emit("|" + "---|" * width)
        self._blank()
        self.inline_line = saved

    def close(self) -> None:
        super().close()
        while self.stack:
            self._close(self.stack.pop())
        self._flush()
        while self.tables:
            self._write_table(self.tables.pop(0))


def _cell_text(cell: _Cell) -> str:
    text = re.sub(r"\s+", " ", "".join(cell.parts)).strip()
    return text.replace("|", "\\|") if "\\|" not in text else text


def _checkbox(text: str) -> str:
    for mark, box in _CHECKBOXES.items():
        if text.startswith(mark):
            return f"{box} {text[len(mark) :].lstrip()}"
    return _LINE_START.sub(_escape_marker, text)


def _escape_marker(match: re.Match[str]) -> str:
    """`# x`, `- x`, `1. x` at the start of a text line are text, not Markdown."""
    indent, symbol, number, dot, space = match.groups()
    marker = f"\\{symbol}" if symbol else f"{number}\\{dot}"
    return f"{indent}{marker}{space}"


def _unwrap(href: str) -> str:
    """Google Docs exports wrap every link as google.com/url?q=<target>; keep the target."""
    parsed = urlparse(href)
    if parsed.netloc.endswith("google.com") and parsed.path == "/url":
        target = parse_qs(parsed.query).get("q")
        if target:
            return target[0]
    return href.replace(" ", "%20").replace(")", "%29")


def html_to_markdown(html: str) -> tuple[str, list[int]]:
    """The page as Markdown, and for each Markdown line the HTML line it came from."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    lines = converter.lines
    while lines and lines[-1][0] == "":
        lines.pop()
    return "\n".join(line for line, _ in lines) + "\n", [source for _, source in lines]
