"""A fake Notion API (version 2022-06-28) on loopback: a database of pages and their blocks,
cursor pagination, users, block edits that move `last_edited_time`, 429s with `Retry-After`
and failures on demand. `page_of_markdown` writes a post-mortem as Notion would hold it: front
matter as properties; headings, paragraphs, lists, to-dos, tables and code as blocks; bold,
code and links as rich text."""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.fakes.loopback import JsonHandler, serve
from tests.markdown_runs import runs

DATABASE = "d0d0d0d0-1111-2222-3333-444444444444"
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_BOX = re.compile(r"^\[([ xX])\]\s+")


@dataclass
class Failure:
    status: int
    body: dict[str, Any] = field(default_factory=lambda: {"message": "failed"})
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1_000_000


@dataclass
class FakeNotion:
    token: str = "secret_" + "n" * 40
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    schema: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "Name": {"id": "title", "type": "title"},
            "Status": {"id": "st", "type": "select"},
            "Date": {"id": "dt", "type": "date"},
        }
    )
    failures: dict[str, Failure] = field(default_factory=dict)  # by page or block id
    requests: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)  # pages whose blocks were read
    edits: int = 0
    timed_edits: bool = False  # edit times from the clock, rounded to the minute as Notion's
    url: str = ""
    clock: Callable[[], datetime] = lambda: datetime(2026, 10, 1, 8, tzinfo=UTC)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def stamp(self) -> str:
        """The clock's time as Notion gives edit times: to the minute."""
        return self.clock().strftime("%Y-%m-%dT%H:%M:00.000Z")

    def new_id(self) -> str:
        return str(uuid.UUID(int=next(self._ids) + 1))

    def count(self) -> Counter[str]:
        return Counter(f"{m} {k}" for m, k in self.requests)

    def add_page(self, properties: dict[str, Any], blocks: list[dict[str, Any]]) -> str:
        page_id = self.new_id()
        self.pages[page_id] = {
            "object": "page",
            "id": page_id,
            "created_time": "2026-09-30T08:00:00.000Z",
            "last_edited_time": self.stamp(),
            "url": f"https://www.notion.so/{page_id.replace('-', '')}",
            "parent": {"type": "database_id", "database_id": DATABASE},
            "properties": properties,
        }
        self._add_children(page_id, blocks)
        return page_id

    def _add_children(self, parent: str, blocks: list[dict[str, Any]]) -> None:
        self.children[parent] = []
        for block in blocks:
            kids = block.pop("children", [])
            block_id = self.new_id()
            block.update(
                object="block",
                id=block_id,
                has_children=bool(kids),
                last_edited_time=self.stamp(),
                created_time="2026-09-30T08:00:00.000Z",
            )
            self.blocks[block_id] = block
            self.children[parent].append(block_id)
            if kids:
                self._add_children(block_id, kids)

    def under(self, parent: str) -> None:
        """Every page, as a child page of `parent` (a page tree instead of a database)."""
        self.children[parent] = []
        for page_id, page in self.pages.items():
            title = "".join(t["plain_text"] for t in page["properties"]["Name"]["title"])
            self.blocks[page_id] = {
                "object": "block",
                "id": page_id,
                "type": "child_page",
                "child_page": {"title": title},
                "has_children": True,
                "last_edited_time": page["last_edited_time"],
                "created_time": page["created_time"],
            }
            self.children[parent].append(page_id)

    def page_blocks(self, page_id: str) -> list[dict[str, Any]]:
        """Every block of a page, depth first."""
        found = []
        pending = list(reversed(self.children.get(page_id, [])))
        while pending:
            block = self.blocks[pending.pop()]
            found.append(block)
            pending += reversed(self.children.get(block["id"], []))
        return found

    def edit_text(self, block_id: str, text: str) -> None:
        """A person edits a block in Notion: its text and its page's edit time change."""
        block = self.blocks[block_id]
        block[block["type"]]["rich_text"] = rich_text(text)
        self.touch(block)

    def touch(self, block: dict[str, Any]) -> None:
        """A block changed now: it and its page get a new edit time (a minute on each time;
        with `timed_edits`, the clock's, to the minute)."""
        self.edits += 1
        stamp = f"2026-10-02T{self.edits // 60:02d}:{self.edits % 60:02d}:00.000Z"
        if self.timed_edits:
            stamp = self.stamp()
        block["last_edited_time"] = stamp
        for page_id in self.pages:
            if any(b["id"] == block["id"] for b in self.page_blocks(page_id)):
                self.pages[page_id]["last_edited_time"] = stamp

    def change(self, page_id: str) -> None:
        """A person appends to the first paragraph of a page (or its first text block)."""
        blocks = [b for b in self.page_blocks(page_id) if "rich_text" in b.get(b["type"], {})]
        block = next((b for b in blocks if b["type"] == "paragraph"), blocks[0])
        text = "".join(r["plain_text"] for r in block[block["type"]]["rich_text"])
        self.edit_text(block["id"], text + " Edited after the review.")

    def fail(self, page_id: str, failure: Any) -> None:
        """Reading the page's blocks fails as `failure` (a sources.Failure or ours) says."""
        self.failures[page_id] = Failure(
            failure.status, failure.body, dict(failure.headers), failure.times
        )

    @contextmanager
    def running(self) -> Iterator[FakeNotion]:
        with serve(_handler(self)) as self.url:
            yield self


VERSIONS = ("2021-08-16", "2022-02-22", "2022-06-28", "2025-09-03")  # Notion-Version values
MAX_TEXT = 2000  # characters in one rich-text object's content


def _refusal(code: str, message: str) -> dict[str, Any]:
    return {"object": "error", "status": 400, "code": code, "message": message}


def _invalid(method: str, path: str, query: dict[str, str], payload: dict[str, Any]) -> str:
    """Notion's 400 validation_error for what pmsync could get wrong: a page size above 100,
    a block update keyed by anything but one block type, a rich text over 2,000 characters."""
    size = payload.get("page_size", query.get("page_size", 100))
    if not str(size).isdigit() or not 1 <= int(size) <= 100:
        return f"page_size should be a number from 1 to 100, instead was {size!r}."
    if method == "PATCH" and path.startswith("/v1/blocks/"):
        keys = set(payload) - {"archived", "in_trash"}
        if len(keys) != 1:
            return f"body failed validation: an update names one block type, not {sorted(keys)}"
    for texts in _rich_texts(payload):
        for text in texts:
            content = str((text.get("text") or {}).get("content", ""))
            if len(content) > MAX_TEXT:
                return (
                    f"body failed validation: text.content.length should be ≤ {MAX_TEXT}, "
                    f"instead was {len(content)}."
                )
    return ""


def _rich_texts(node: Any) -> Iterator[list[dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "rich_text" and isinstance(value, list):
                yield [v for v in value if isinstance(v, dict)]
            elif key == "cells" and isinstance(value, list):  # a table row: a rich text a cell
                for cell in value:
                    yield [v for v in cell if isinstance(v, dict)] if isinstance(cell, list) else []
            else:
                yield from _rich_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rich_texts(value)


def _handler(fake: FakeNotion) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def serve(self, method: str) -> None:
            path, query, body = self.read_request()
            payload = body if isinstance(body, dict) else {}
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._send(
                    401,
                    {
                        "object": "error",
                        "status": 401,
                        "code": "unauthorized",
                        "message": "API token is invalid.",
                    },
                )
                return
            version = self.headers.get("Notion-Version")
            if version not in VERSIONS:
                code = "missing_version" if version is None else "validation_error"
                message = f"Notion-Version header failed validation: {version!r} is no version"
                self._send(400, _refusal(code, message))
                return
            if problem := _invalid(method, path, query, payload):
                self._send(400, _refusal("validation_error", problem))
                return
            with fake._lock:
                status, answer, headers = self._route(method, path, query, payload)
            self._send(status, answer, headers)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            import json

            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, failure: Failure) -> tuple[int, Any, dict[str, str]]:
            failure.times -= 1
            code = {
                429: "rate_limited",
                401: "unauthorized",
                403: "restricted_resource",
                404: "object_not_found",
            }.get(failure.status, "validation_error")
            message = (
                str(failure.body.get("message", "failed"))
                if isinstance(failure.body, dict)
                else str(failure.body)
            )
            return (
                failure.status,
                {"object": "error", "status": failure.status, "code": code, "message": message},
                failure.headers,
            )

        def _route(
            self, method: str, path: str, query: dict[str, str], payload: dict[str, Any]
        ) -> tuple[int, Any, dict[str, str]]:
            parts = path.strip("/").split("/")
            kind = f"{method} {parts[1] if len(parts) > 1 else ''}"
            if parts[-1] == "children":
                kind += " children"
            elif parts[-1] == "query":
                kind += " query"
            fake.requests.append((method, kind.split(" ", 1)[1]))
            target = parts[2] if len(parts) > 2 else ""
            failure = fake.failures.get(target)
            if failure is not None and failure.times > 0:
                return self._error(failure)
            if parts[1] == "databases" and method == "GET":
                return 200, {"object": "database", "id": target, "properties": fake.schema}, {}
            if parts[1] == "databases" and parts[-1] == "query":
                pages = sorted(fake.pages.values(), key=lambda p: p["id"])
                wanted = payload.get("filter")
                if wanted:
                    pages = [p for p in pages if _matches(p, wanted)]
                return self._paged(
                    pages, payload.get("start_cursor"), payload.get("page_size", 100)
                )
            if parts[1] == "blocks" and parts[-1] == "children":
                if target not in fake.children and target not in fake.blocks:
                    return (
                        404,
                        {
                            "object": "error",
                            "status": 404,
                            "code": "object_not_found",
                            "message": "Could not find block",
                        },
                        {},
                    )
                if target in fake.pages and not query.get("start_cursor"):
                    fake.bodies.append(target)  # a page read (its first page of blocks)
                kids = [fake.blocks[b] for b in fake.children.get(target, [])]
                return self._paged(
                    kids, query.get("start_cursor"), int(query.get("page_size", 100))
                )
            if parts[1] == "blocks" and method == "GET":
                return 200, fake.blocks[target], {}
            if parts[1] == "blocks" and method == "PATCH":
                block = fake.blocks[target]
                kind_ = block["type"]
                if kind_ not in payload:  # keyed by another type: Notion refuses, no no-op
                    message = f"body.{kind_} should be defined, instead was `undefined`."
                    return 400, _refusal("validation_error", message), {}
                update = payload.get(kind_) or {}
                if "rich_text" in update:
                    block[kind_]["rich_text"] = [_read_back(r) for r in update["rich_text"]]
                if "cells" in update:
                    block[kind_]["cells"] = [[_read_back(r) for r in c] for c in update["cells"]]
                if "checked" in update:
                    block[kind_]["checked"] = bool(update["checked"])
                fake.touch(block)
                return 200, block, {}
            if parts[1] == "users":
                user = fake.users.get(target)
                if user is None:
                    return (
                        404,
                        {
                            "object": "error",
                            "status": 404,
                            "code": "object_not_found",
                            "message": "no such user",
                        },
                        {},
                    )
                return 200, user, {}
            return (
                404,
                {
                    "object": "error",
                    "status": 404,
                    "code": "invalid_request_url",
                    "message": "Invalid request URL.",
                },
                {},
            )

        def _paged(
            self, entries: list[dict[str, Any]], cursor: Any, size: Any
        ) -> tuple[int, Any, dict[str, str]]:
            start = int(cursor or 0)
            size = min(int(size or 100), 100)
            shown = entries[start : start + size]
            more = start + size < len(entries)
            return (
                200,
                {
                    "object": "list",
                    "results": shown,
                    "has_more": more,
                    "next_cursor": str(start + size) if more else None,
                },
                {},
            )

    return Handler


def _matches(page: dict[str, Any], wanted: dict[str, Any]) -> bool:
    if "and" in wanted:
        return all(_matches(page, clause) for clause in wanted["and"])
    prop = page["properties"].get(wanted["property"]) or {}
    kind = prop.get("type")
    condition = wanted.get(kind) or {}
    if kind in ("select", "status"):
        return (prop.get(kind) or {}).get("name") == condition.get("equals")
    if kind == "rich_text":
        return "".join(t["plain_text"] for t in prop["rich_text"]) == condition.get("equals")
    return False


def _read_back(run: dict[str, Any]) -> dict[str, Any]:
    """A rich-text run as written, as Notion then reads it (with plain_text and href)."""
    text = run.get("text") or {}
    return {
        **run,
        "plain_text": text.get("content", run.get("plain_text", "")),
        "href": (text.get("link") or {}).get("url"),
        "annotations": run.get("annotations") or {},
    }


# --- a post-mortem as a Notion page ---------------------------------------------------------


def rich_text(text: str, **annotations: bool) -> list[dict[str, Any]]:
    if not text:
        return []
    return [_read_back({"type": "text", "text": {"content": text}, "annotations": annotations})]


def page_of_markdown(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(properties, blocks) of a Markdown post-mortem."""
    properties: dict[str, Any] = {}
    front = _FRONT.match(text)
    if front:
        for line in front.group(1).splitlines():
            key, _, value = line.partition(":")
            value = value.strip().strip("'\"")
            if not value or line.startswith((" ", "-")):
                continue
            name = key.strip()
            if name == "title":
                properties["Name"] = {"type": "title", "title": rich_text(value)}
            elif name == "date":
                properties["Date"] = {"type": "date", "date": {"start": value[:10]}}
            else:
                properties[name.title()] = {"type": "rich_text", "rich_text": rich_text(value)}
        text = text[front.end() :]
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks, _ = _blocks(tokens, 0, None)
    if "Name" not in properties:
        title = next((b for b in blocks if b["type"].startswith("heading_")), None)
        name = (
            "".join(r["plain_text"] for r in title[title["type"]]["rich_text"])
            if title
            else "Untitled"
        )
        properties["Name"] = {"type": "title", "title": rich_text(name)}
    properties["Status"] = {"type": "select", "select": {"name": "Published"}}
    return properties, blocks


def _blocks(tokens: list[Token], i: int, stop: str | None) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    lists: list[str] = []
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if stop is not None and kind == stop:
            return out, i + 1
        if kind == "heading_open":
            level = min(int(token.tag[1]), 3)
            out.append(
                {
                    "type": f"heading_{level}",
                    f"heading_{level}": {"rich_text": _inline(tokens[i + 1])},
                }
            )
            i += 3
            continue
        if kind == "paragraph_open":
            out.append({"type": "paragraph", "paragraph": {"rich_text": _inline(tokens[i + 1])}})
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append(
                "bulleted_list_item" if kind.startswith("bullet") else "numbered_list_item"
            )
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            inner, i = _blocks(tokens, i + 1, "list_item_close")
            first = (
                inner.pop(0)
                if inner and inner[0]["type"] == "paragraph"
                else {"paragraph": {"rich_text": []}}
            )
            rich = first["paragraph"]["rich_text"]
            item_kind = lists[-1]
            content: dict[str, Any] = {"rich_text": rich}
            head = rich[0]["plain_text"] if rich else ""
            if item_kind == "bulleted_list_item" and (box := _BOX.match(head)):
                item_kind = "to_do"
                content["checked"] = box.group(1) in "xX"
                rich[0] = {
                    **rich[0],
                    "plain_text": head[box.end() :],
                    "text": {**rich[0]["text"], "content": head[box.end() :]},
                }
            out.append({"type": item_kind, item_kind: content, "children": inner})
            continue
        elif kind == "table_open":
            rows: list[list[list[dict[str, Any]]]] = []
            while tokens[i].type != "table_close":
                if tokens[i].type == "tr_open":
                    rows.append([])
                elif tokens[i].type == "inline":
                    rows[-1].append(_inline(tokens[i]))
                i += 1
            width = max(len(r) for r in rows)
            out.append(
                {
                    "type": "table",
                    "table": {
                        "table_width": width,
                        "has_column_header": True,
                        "has_row_header": False,
                    },
                    "children": [
                        {
                            "type": "table_row",
                            "table_row": {"cells": row + [[]] * (width - len(row))},
                        }
                        for row in rows
                    ],
                }
            )
        elif kind in ("fence", "code_block"):
            out.append(
                {
                    "type": "code",
                    "code": {
                        "rich_text": rich_text(token.content.rstrip("\n")),
                        "language": "plain text",
                    },
                }
            )
        elif kind == "html_block":
            stripped = re.sub(r"<[^>]+>", "", token.content).strip()
            if stripped:
                out.append({"type": "paragraph", "paragraph": {"rich_text": rich_text(stripped)}})
        elif kind == "hr":
            out.append({"type": "divider", "divider": {}})
        elif kind == "blockquote_open":
            inner, i = _blocks(tokens, i + 1, "blockquote_close")
            for block in inner:
                if block["type"] == "paragraph":
                    block["type"] = "quote"
                    block["quote"] = block.pop("paragraph")
            out += inner
            continue
        i += 1
    return out, i


def _inline(token: Token) -> list[dict[str, Any]]:
    """A paragraph's runs as rich text (an image is a block of its own in Notion, not text)."""
    found = []
    for run in runs(token):
        if run.kind == "image" or not run.text:
            continue
        text: dict[str, Any] = {"content": run.text}
        if run.link:
            text["link"] = {"url": run.link}
        notes = {"bold": run.bold, "italic": run.italic, "code": run.kind == "code"}
        found.append(_read_back({"type": "text", "text": text, "annotations": notes}))
    return found
