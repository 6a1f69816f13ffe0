"""The inline text of a Markdown paragraph as styled runs, for the tests that write the corpus
into other formats (Word, Notion)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from markdown_it.token import Token


@dataclass(frozen=True, slots=True)
class Run:
    at: int  # where it stands among the paragraph's inline tokens
    kind: str  # "text", "code", "softbreak", "hardbreak" (a <br> too) or "image"
    text: str  # an image's: its alternative text
    bold: bool = False
    italic: bool = False
    link: str | None = None


def runs(token: Token) -> Iterator[Run]:
    bold = italic = False
    link: str | None = None
    for at, child in enumerate(token.children or []):
        kind = child.type
        if kind in ("strong_open", "strong_close"):
            bold = kind == "strong_open"
        elif kind in ("em_open", "em_close"):
            italic = kind == "em_open"
        elif kind == "link_open":
            link = str(child.attrs.get("href") or "")
        elif kind == "link_close":
            link = None
        elif kind == "html_inline" and child.content.lower().startswith("<br"):
            yield Run(at, "hardbreak", "\n", bold, italic, link)
        elif kind in ("text", "code_inline", "softbreak", "hardbreak", "image"):
            name = "code" if kind == "code_inline" else kind
            text = "\n" if kind.endswith("break") else child.content
            yield Run(at, name, text, bold, italic, link)
