"""Word documents made from the corpus's Markdown, as an author would write them in Word:
headings as heading styles, lists as list paragraphs, tables as tables, links as hyperlinks,
task boxes as ☐ / ☑, the front matter as the first lines. Built with python-docx, so that the
answer key that scores the Markdown scores the `.docx` too."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import docx
from docx.document import Document as WordDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.markdown_runs import runs

_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_BOX = re.compile(r"^\[([ xX])\]\s+")


BULLETS, NUMBERS = 100, 101  # the numbering of lists: nine levels each, as Word's


def markdown_to_docx(text: str) -> bytes:
    document = docx.Document()
    _add_numbering(document)
    front = _FRONT.match(text)
    if front:
        for line in front.group(1).splitlines():
            if line.strip():
                document.add_paragraph(line.strip())
        text = text[front.end() :]
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    _Writer(document).blocks(tokens)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class _Writer:
    def __init__(self, document: WordDocument) -> None:
        self.document = document
        self.lists: list[str] = []  # "bullet" / "number", innermost last
        self.item_started = False
        self.item: Paragraph | None = None  # the list item paragraphs go on in
        self.quoted = 0  # inside how many block quotes

    def blocks(self, tokens: list[Token]) -> None:
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                level = min(int(token.tag[1]), 9)
                paragraph = self.document.add_heading(level=level)
                self.inline(paragraph, tokens[i + 1])
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                self.lists.append("bullet" if kind.startswith("bullet") else "number")
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                if not self.lists:
                    self.item = None
            elif kind in ("blockquote_open", "blockquote_close"):
                self.quoted += 1 if kind == "blockquote_open" else -1
            elif kind == "list_item_open":
                self.item_started = True
            elif kind == "list_item_close" and self.item_started:
                self._paragraph()  # an empty bullet, as a template leaves it
            elif kind == "paragraph_open":
                paragraph = self._paragraph()
                # A line of Markdown that starts a sentence is a line the author typed: in
                # Word, a paragraph; in a list item, the item goes on.
                after = None if self.lists else self._paragraph
                self.inline(paragraph, tokens[i + 1], after_line=after)
                i += 3
                continue
            elif kind == "table_open":
                i = self.table(tokens, i)
                continue
            elif kind in ("fence", "code_block", "html_block"):
                content = token.content if kind != "html_block" else _strip_tags(token.content)
                for line in content.rstrip("\n").splitlines():
                    paragraph = self.document.add_paragraph()
                    run = paragraph.add_run(line)
                    run.font.name = "Courier New"
                    run.font.size = Pt(9)
            i += 1

    def _paragraph(self) -> Paragraph:
        if self.quoted and not self.lists:
            return self.document.add_paragraph(style="Quote")  # a quote, as Word styles it
        if self.lists and self.item_started:
            self.item_started = False
            bullet = self.lists[-1] == "bullet"
            paragraph = self.document.add_paragraph(
                style="List Bullet" if bullet else "List Number"
            )
            # Nested as Word nests: the same list, one level deeper.
            numbering = OxmlElement("w:numPr")
            level = OxmlElement("w:ilvl")
            level.set(qn("w:val"), str(min(len(self.lists), 9) - 1))
            number = OxmlElement("w:numId")
            number.set(qn("w:val"), str(BULLETS if bullet else NUMBERS))
            numbering.append(level)
            numbering.append(number)
            paragraph._p.get_or_add_pPr().append(numbering)
            self.item = paragraph
            return paragraph
        if self.lists and self.item is not None:  # a later paragraph of a list item: in
            run = self.item.add_run()  # Word, an empty line in the item (Shift+Enter twice)
            run.add_break()
            run.add_break()
            return self.item
        return self.document.add_paragraph()

    def table(self, tokens: list[Token], i: int) -> int:
        rows: list[list[Token]] = []
        while tokens[i].type != "table_close":
            if tokens[i].type == "tr_open":
                rows.append([])
            elif tokens[i].type == "inline":
                rows[-1].append(tokens[i])
            i += 1
        width = max(len(row) for row in rows)
        table = self.document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, cell_token in enumerate(row):
                cell = table.cell(r, c)
                self.inline(cell.paragraphs[0], cell_token, bold=r == 0)
        return i + 1

    def inline(
        self,
        paragraph: Paragraph,
        token: Token,
        bold: bool = False,
        after_line: Callable[[], Paragraph] | None = None,
    ) -> None:
        first = True
        for run in runs(token):
            if run.kind == "softbreak" and after_line is not None and _new_line(token, run.at):
                paragraph = after_line()
                first = True
                continue
            if run.kind == "hardbreak":
                paragraph.add_run().add_break()
            else:
                content = " " if run.kind == "softbreak" else run.text
                if first and run.kind == "text" and (box := _BOX.match(content)):
                    content = ("☑ " if box.group(1) in "xX" else "☐ ") + content[box.end() :]
                style = {"bold": bold or run.bold, "italic": run.italic, "code": run.kind == "code"}
                self._run(paragraph, content, style, run.link)
            first = False

    def _run(
        self, paragraph: Paragraph, text: str, style: dict[str, Any], link: str | None
    ) -> None:
        if not text:
            return
        if link:
            _hyperlink(paragraph, link, text)
            return
        run = paragraph.add_run(text)
        run.bold = style["bold"] or None
        run.italic = style["italic"] or None
        if style["code"]:
            run.font.name = "Courier New"


def _hyperlink(paragraph: Paragraph, url: str, text: str) -> None:
    """A real Word hyperlink (python-docx has no call for one)."""
    part = paragraph.part
    rel = part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    run.append(props)
    content = OxmlElement("w:t")
    content.text = text
    content.set(qn("xml:space"), "preserve")
    run.append(content)
    link.append(run)
    paragraph._p.append(link)


def _add_numbering(document: WordDocument) -> None:
    numbering = document.part.numbering_part.element
    for number, kind in ((BULLETS, "bullet"), (NUMBERS, "decimal")):
        abstract = OxmlElement("w:abstractNum")
        abstract.set(qn("w:abstractNumId"), str(number))
        for depth in range(9):
            level = OxmlElement("w:lvl")
            level.set(qn("w:ilvl"), str(depth))
            for tag, value in (
                ("w:start", "1"),
                ("w:numFmt", kind),
                ("w:lvlText", "•" if kind == "bullet" else f"%{depth + 1}."),
            ):
                element = OxmlElement(tag)
                element.set(qn("w:val"), value)
                level.append(element)
            abstract.append(level)
        numbering.insert(0, abstract)
        instance = OxmlElement("w:num")
        instance.set(qn("w:numId"), str(number))
        link = OxmlElement("w:abstractNumId")
        link.set(qn("w:val"), str(number))
        instance.append(link)
        numbering.append(instance)


def _new_line(token: Token, at: int) -> bool:
    """Whether the line after the soft break at `at` starts anew (a capital, a digit, a
    mark) rather than going on with the sentence (lower case, or after a comma)."""
    children = token.children or []
    before = next((c.content for c in reversed(children[:at]) if c.content), "")
    after = next((c.content for c in children[at + 1 :] if c.content), "")
    if before.rstrip().endswith((",", ";", "(", "-", "and", "or")):
        return False
    return not after[:1].islower()


def _strip_tags(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)
