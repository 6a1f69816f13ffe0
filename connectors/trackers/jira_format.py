"""Issue bodies for Jira: pmsync's Markdown rendered as Atlassian Document Format (Cloud, REST
v3) or wiki markup (Data Center, REST v2), and ADF read back as text to find the marker.

Only what issue bodies use is rendered: paragraphs, bold, code, links, bullet lists and tables.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table"])


_MENTION_RE = re.compile(r"\[~accountid:([^\]]+)\]")


def _text(text: str, marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Text nodes, with `[~accountid:…]` as ADF mentions, which notify the person."""
    nodes: list[dict[str, Any]] = []
    for index, part in enumerate(_MENTION_RE.split(text)):
        if index % 2:
            nodes.append({"type": "mention", "attrs": {"id": part}})
        elif part:
            node: dict[str, Any] = {"type": "text", "text": part}
            if marks:
                node["marks"] = [dict(m) for m in marks]
            nodes.append(node)
    return nodes


def _text_nodes(inline: Token) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    for child in inline.children or []:
        if child.type in ("text", "html_inline"):
            nodes += _text(child.content, marks)
        elif child.type == "code_inline":
            nodes.append({"type": "text", "text": child.content, "marks": [{"type": "code"}]})
        elif child.type == "strong_open":
            marks.append({"type": "strong"})
        elif child.type == "em_open":
            marks.append({"type": "em"})
        elif child.type == "link_open":
            marks.append({"type": "link", "attrs": {"href": str(child.attrs.get("href", ""))}})
        elif child.type in ("strong_close", "em_close", "link_close") and marks:
            marks.pop()
        elif child.type in ("softbreak", "hardbreak"):
            nodes.append({"type": "text", "text": " "})
    return nodes


def to_adf(markdown: str) -> dict[str, Any]:
    """An ADF document for `markdown`."""
    tokens = _MARKDOWN.parse(markdown)
    content: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []

    def add(node: dict[str, Any]) -> None:
        (stack[-1]["content"] if stack else content).append(node)

    for token in tokens:
        kind = token.type
        if kind == "paragraph_open":
            stack.append({"type": "paragraph", "content": []})
        elif kind == "inline" and stack:
            stack[-1]["content"].extend(_text_nodes(token))
        elif kind == "html_block":
            add({"type": "paragraph", "content": [{"type": "text", "text": token.content.strip()}]})
        elif kind == "bullet_list_open":
            stack.append({"type": "bulletList", "content": []})
        elif kind == "ordered_list_open":
            stack.append({"type": "orderedList", "content": []})
        elif kind == "list_item_open":
            stack.append({"type": "listItem", "content": []})
        elif kind == "table_open":
            stack.append({"type": "table", "content": []})
        elif kind == "tr_open":
            stack.append({"type": "tableRow", "content": []})
        elif kind in ("th_open", "td_open"):
            cell = "tableHeader" if kind == "th_open" else "tableCell"
            stack.append({"type": cell, "content": []})
            stack.append({"type": "paragraph", "content": []})
        elif kind in ("th_close", "td_close"):
            paragraph = stack.pop()
            cell_node = stack.pop()
            cell_node["content"].append(paragraph)
            add(cell_node)
        elif kind in (
            "paragraph_close",
            "bullet_list_close",
            "ordered_list_close",
            "list_item_close",
            "table_close",
            "tr_close",
        ):
            node = stack.pop()
            if node["type"] == "paragraph" and not node["content"]:
                continue
            add(node)
    return {"type": "doc", "version": 1, "content": content}


def adf_text(document: Any) -> str:
    """The text of an ADF document, one line per block: enough to find the marker again; a
    link as Markdown (`[text](href)`), as pmsync wrote it."""
    if isinstance(document, str):
        return document
    lines: list[str] = []

    def walk(node: Any, line: list[str]) -> None:
        if not isinstance(node, dict):
            return
        if node.get("type") == "text":
            text = str(node.get("text", ""))
            href = next(
                (
                    (mark.get("attrs") or {}).get("href")
                    for mark in node.get("marks") or []
                    if isinstance(mark, dict) and mark.get("type") == "link"
                ),
                None,
            )
            line.append(f"[{text}]({href})" if href else text)
            return
        if node.get("type") == "mention":
            line.append("@" + str((node.get("attrs") or {}).get("id", "")))
            return
        children = node.get("content") or []
        if node.get("type") in ("paragraph", "heading", "codeBlock"):
            own: list[str] = []
            for child in children:
                walk(child, own)
            lines.append("".join(own))
        else:
            for child in children:
                walk(child, line)

    walk(document, [])
    return "\n\n".join(line for line in lines if line)


def _wiki_inline(inline: Token) -> str:
    parts: list[str] = []
    link: str | None = None
    link_text: list[str] = []
    for child in inline.children or []:
        target = link_text if link is not None else parts
        if child.type in ("text", "html_inline"):
            target.append(child.content.replace("[", "\\[").replace("|", "\\|"))
        elif child.type == "code_inline":
            target.append("{{" + child.content + "}}")
        elif child.type in ("strong_open", "strong_close"):
            target.append("*")
        elif child.type in ("em_open", "em_close"):
            target.append("_")
        elif child.type == "link_open":
            link = str(child.attrs.get("href", ""))
            link_text = []
        elif child.type == "link_close" and link is not None:
            parts.append(f"[{''.join(link_text)}|{link}]")
            link = None
        elif child.type in ("softbreak", "hardbreak"):
            target.append(" ")
    return "".join(parts)


def to_wiki(markdown: str) -> str:
    """Jira wiki markup for `markdown`."""
    lines: list[str] = []
    depth = 0
    row: list[str] = []
    header = in_cell = False
    for token in _MARKDOWN.parse(markdown):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                lines.append("")
        elif kind == "tr_open":
            row, header = [], False
        elif kind in ("th_open", "td_open"):
            header, in_cell = header or kind == "th_open", True
        elif kind in ("th_close", "td_close"):
            in_cell = False
        elif kind == "tr_close":
            sep = "||" if header else "|"
            lines.append(sep + sep.join(row) + sep)
        elif kind == "table_close":
            lines.append("")
        elif kind == "html_block":
            lines += [token.content.strip(), ""]
        elif kind == "inline":
            text = _wiki_inline(token)
            if in_cell:
                row.append(text or " ")
            elif depth:
                lines.append("*" * depth + " " + text)
            else:
                lines += [text, ""]
    return "\n".join(lines).strip() + "\n"
