"""The `notion` source: post-mortems as Notion pages, the pages of a database (optionally those
whose property has a value, such as Status = Published) or the pages under a parent page,
read through the official `notion-client` with an integration token.

A page becomes a Markdown document: its properties are the front matter (title, date,
severity, team, owner, and the rest under their own names), its blocks the body — headings,
paragraphs, lists, tables, toggles, callouts, quotes and code — and each `to_do` block a task
item, ticked when checked. In a list or to-do item, a person mention is the item's owner (by
the person's e-mail, which the people directory matches, else their name) and a date mention
its due date. A page's `last_edited_time` is its version: an unchanged page is not fetched
again, unless it was read within the minute of that time (Notion keeps edit times to the
minute, so a later edit in that minute leaves the version as it was). Requests are spaced to
Notion's average of three a second, and a 429 waits exactly as long as `Retry-After` asks,
within the run's wait budget.

Write-back appends the issue's link to the item's block (a table row's ticket cell, else its
last cell: a Notion table keeps its columns) and ticks a `to_do` closed as completed. A block
changed in Notion since pmsync read the page is left as it is (the next run reads it again):
a person's edit is never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import DocumentEdit, report_source_request
from connectors.config import (
    BuildContext,
    Remote,
    SourceSection,
    check_readable,
    secrets_from_files,
)
from connectors.sources.folder import Results
from connectors.sources.http import timestamp
from connectors.trackers.retry import WaitBudget, WriteThrottle, interruptible_sleep, with_retries
from syncer import logs
from syncer.errors import (
    DocumentError,
    FatalError,
    NotFound,
    PmsyncError,
    RetriableError,
    SkippableError,
    UncertainError,
)
from syncer.model import Document, DocumentRef

log = logs.get_logger("pmsync.notion")

NOTION_VERSION = "2022-06-28"  # databases are queried as databases (not data sources)
MAX_DEPTH = 8  # nested blocks read at most this deep
_SEPARATOR_RE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LINK_RE = re.compile(r"\[([^\]]*)\]\((https?://[^)\s]+)\)\)?\s*$")


@dataclass(frozen=True, slots=True)
class NotionOptions:
    token: str
    database_id: str | None = None
    page_id: str | None = None
    where: Mapping[str, str] = field(default_factory=dict)  # property -> value
    base_url: str = "https://api.notion.com"
    requests_per_second: float = 3.0  # 0: not spaced (a test server)
    max_wait: float = 600.0
    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 2.0


Lines = list[str]
Clauses = list[dict[str, Any]]
Refs = list[DocumentRef]


@dataclass(slots=True)
class _Line:
    """Where a line of the Markdown came from: a block, as it was read."""

    block: str
    kind: str  # the block's type; "table_header" for a table's first row
    edited: str
    rich_text: list[dict[str, Any]]
    cells: list[list[dict[str, Any]]] = field(default_factory=list)  # a table row's


class NotionSource:
    remote = True
    # Notion gives edit times to the minute: a page edited again within the minute of a read
    # keeps its version, so it is read again until a read comes after that minute.
    version_resolution = timedelta(minutes=1)

    def __init__(
        self,
        name: str,
        options: NotionOptions,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.options = options
        sleep = sleep or interruptible_sleep
        self._budget = WaitBudget(f"notion {name}", options.max_wait, options.backoff, sleep)
        rate = options.requests_per_second
        self._pace = WriteThrottle(1 / rate if rate else 0.0, 0, clock or time.monotonic, sleep)
        self._client: Any = None
        self._properties: dict[str, dict[str, Any]] = {}
        self._lines: dict[str, dict[int, _Line]] = {}  # page id -> line number -> block
        self._users: dict[str, str] = {}
        self.requests = 0

    # --- reading ------------------------------------------------------------------------------

    def list(self) -> Sequence[DocumentRef]:
        pages = self._database_pages() if self.options.database_id else self._child_pages()
        refs: Refs = []
        for page in pages:
            page_id = str(page["id"])
            self._properties[page_id] = page.get("properties") or {}
            title = _title_of(page) or page_id
            refs.append(
                DocumentRef(
                    source=self.name,
                    id=page_id,
                    uri=f"notion:{title}",
                    version=str(page.get("last_edited_time") or ""),
                    link=str(page.get("url") or ""),
                    updated_at=timestamp(page.get("last_edited_time")),
                    created_at=timestamp(page.get("created_time")),
                )
            )
        return sorted(refs, key=lambda ref: (ref.uri, ref.id))

    def fetch(self, ref: DocumentRef) -> Document:
        """The page's blocks, read again when one was edited after the page was listed (a
        page read while someone edits it), until two reads agree."""
        before: Lines | None = None
        for _ in range(3):
            lines, origins = self._read(ref)
            newest = max((line.edited for line in origins.values()), default="")
            if not ref.version or newest <= ref.version or lines == before:
                break
            before = lines
        else:
            reason = "it changed while it was read (being edited?); the next run reads it"
            raise DocumentError(ref.uri, reason)
        self._lines[ref.id] = origins
        title = ref.uri.removeprefix("notion:")
        return Document(ref, title, "\n".join(lines) + "\n", "markdown")

    def _read(self, ref: DocumentRef) -> tuple[Lines, dict[int, _Line]]:
        try:
            lines: Lines = []
            origins: dict[int, _Line] = {}
            self._front_matter(ref, lines)
            self._blocks(ref.id, 0, "", lines, origins)
        except (SkippableError, RetriableError) as exc:
            raise DocumentError(ref.uri, str(exc)) from None
        return lines, origins

    def _database_pages(self) -> Iterator[dict[str, Any]]:
        database = str(self.options.database_id)
        body: dict[str, Any] = {"page_size": 100}
        if self.options.where:
            body["filter"] = self._filter(database)
        yield from self._paged("POST", f"databases/{database}/query", body=body)

    def _filter(self, database: str) -> dict[str, Any]:
        """`where` as a Notion filter, each property compared as its type compares."""
        schema = self._call("GET", f"databases/{database}").get("properties") or {}
        clauses: Clauses = []
        for name, value in self.options.where.items():
            kind = (schema.get(name) or {}).get("type")
            if kind is None:
                raise FatalError(
                    f"notion {self.name}: the database has no property {name!r} (where)"
                )
            if kind == "checkbox":
                condition: dict[str, Any] = {"equals": value.casefold() in ("true", "yes", "1")}
            elif kind in ("multi_select", "people", "relation"):
                condition = {"contains": value}
            else:
                condition = {"equals": value}
            clauses.append({"property": name, kind: condition})
        return clauses[0] if len(clauses) == 1 else {"and": clauses}

    def _child_pages(self) -> Iterator[dict[str, Any]]:
        parent = str(self.options.page_id)
        for block in self._paged("GET", f"blocks/{parent}/children", query={"page_size": 100}):
            if block.get("type") == "child_page":
                title = (block.get("child_page") or {}).get("title") or ""
                yield {
                    "id": block["id"],
                    "last_edited_time": block.get("last_edited_time"),
                    "created_time": block.get("created_time"),
                    "url": f"https://www.notion.so/{str(block['id']).replace('-', '')}",
                    "properties": {"title": {"type": "title", "title": [{"plain_text": title}]}},
                }

    def _front_matter(self, ref: DocumentRef, lines: Lines) -> None:
        """The page's properties, as front matter; the title property is the title."""
        values: dict[str, str] = {}
        dates: Lines = []
        for name, prop in (self._properties.get(ref.id) or {}).items():
            value = self._property(prop)
            if value:
                key = "title" if prop.get("type") == "title" else _key(name)
                values.setdefault(key, value)
                if prop.get("type") == "date":
                    dates.append(value)
        if dates and "date" not in values:  # no property is the date: the first date is
            values["date"] = dates[0]
        if not values:
            return
        lines.append("---")
        lines += [
            f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()
        ]
        lines += ["---", ""]

    def _property(self, prop: Mapping[str, Any]) -> str:
        kind = str(prop.get("type") or "")
        value = prop.get(kind)
        if kind in ("title", "rich_text"):
            return "".join(str(t.get("plain_text") or "") for t in value or []).strip()
        if kind in ("select", "status"):
            return str((value or {}).get("name") or "")
        if kind == "multi_select":
            return ", ".join(str(v.get("name")) for v in value or [])
        if kind == "date":
            return str((value or {}).get("start") or "")[:10]
        if kind == "people":
            return ", ".join(self._person(p) for p in value or [])
        if kind in ("number", "url", "email", "phone_number", "checkbox"):
            return "" if value is None else str(value)
        return ""

    def _blocks(
        self, parent: str, depth: int, indent: str, lines: Lines, origins: dict[int, _Line]
    ) -> None:
        """The children of `parent` as Markdown lines, `indent` before each (inside a list)."""
        number = 0
        previous = ""
        items = ("bulleted_list_item", "numbered_list_item", "to_do")
        for block in self._paged("GET", f"blocks/{parent}/children", query={"page_size": 100}):
            kind = str(block.get("type") or "")
            content = block.get(kind) or {}
            listed = kind in items
            if previous and not (listed and previous in items) and lines and lines[-1] != "":
                lines.append("")  # a block of its own; items of one list follow each other
            number = number + 1 if kind == "numbered_list_item" else 0
            rich = [*(content.get("rich_text") or [])]
            marker = ""
            if kind.startswith("heading_") and kind[-1].isdigit():
                lines.append("#" * int(kind[-1]) + " " + self._inline(rich, item=False))
            elif kind in ("paragraph", "toggle"):
                text = self._inline(rich, item=False)
                if text:
                    lines.append(indent + text)
            elif listed:
                marker = {
                    "bulleted_list_item": "- ",
                    "numbered_list_item": f"{number}. ",
                    "to_do": "- [x] " if content.get("checked") else "- [ ] ",
                }[kind]
                edited = str(block.get("last_edited_time") or "")
                origins[len(lines) + 1] = _Line(str(block["id"]), kind, edited, rich)
                lines.append(indent + marker + self._inline(rich, item=True))
            elif kind in ("callout", "quote"):
                icon = (content.get("icon") or {}).get("emoji") or "" if kind == "callout" else ""
                text = self._inline(rich, item=False)
                lines.append(f"{indent}> {icon} {text}" if icon else f"{indent}> {text}")
            elif kind == "code":
                code = self._inline(rich, item=False).splitlines()
                lines += [indent + "```", *(indent + line for line in code), indent + "```"]
            elif kind == "table":
                self._table(block, lines, indent, origins)
            elif kind == "divider":
                lines.append(indent + "***")
            elif kind in ("bookmark", "link_preview", "embed") and content.get("url"):
                lines.append(indent + str(content["url"]))
            nested = block.get("has_children") and kind not in (
                "table",
                "child_page",
                "child_database",
            )
            if nested and depth < MAX_DEPTH:
                inner = indent + " " * len(marker)
                self._blocks(str(block["id"]), depth + 1, inner, lines, origins)
            previous = kind
        if lines and lines[-1] != "" and not indent:
            lines.append("")

    def _table(
        self, block: Mapping[str, Any], lines: Lines, indent: str, origins: dict[int, _Line]
    ) -> None:
        rows = [
            row
            for row in self._paged(
                "GET", f"blocks/{block['id']}/children", query={"page_size": 100}
            )
            if row.get("type") == "table_row"
        ]
        if not rows:
            return
        width = max(len((row.get("table_row") or {}).get("cells") or []) for row in rows)
        for number, row in enumerate(rows):
            cells = [[*cell] for cell in (row.get("table_row") or {}).get("cells") or []]
            cells += [[] for _ in range(width - len(cells))]
            shown = [
                self._inline(cell, item=False).replace("|", "\\|").replace("\n", "<br>")
                for cell in cells
            ]
            kind = "table_header" if number == 0 else "table_row"
            edited = str(row.get("last_edited_time") or "")
            origins[len(lines) + 1] = _Line(str(row["id"]), kind, edited, [], cells)
            lines.append(indent + "| " + " | ".join(shown) + " |")
            if number == 0:
                lines.append(indent + "|" + "---|" * width)

    def _inline(self, rich: Sequence[Mapping[str, Any]], item: bool) -> str:
        """Rich text as Markdown. In an item, a person mention is its owner and a date mention
        its due date, said after the text; elsewhere they are text."""
        text: Lines = []
        owners: Lines = []
        due = ""
        for run in rich:
            mention = run.get("mention") or {}
            kind = mention.get("type")
            if run.get("type") == "mention" and kind == "user":
                person = self._person(mention.get("user") or {})
                if item:
                    owners.append(person)
                else:
                    text.append(person)
                continue
            if run.get("type") == "mention" and kind == "date":
                start = str((mention.get("date") or {}).get("start") or "")[:10]
                if item and not due:
                    due = start
                else:
                    text.append(start)
                continue
            text.append(_styled(run))
        shown = re.sub(r"[ \t]+", " ", "".join(text)).strip()
        extra = [f"owner: {', '.join(owners)}"] * bool(owners) + [f"due: {due}"] * bool(due)
        return f"{shown} ({', '.join(extra)})" if extra else shown

    def _person(self, user: Mapping[str, Any]) -> str:
        """A person as the people directory knows them: their e-mail, else their name."""
        email = ((user.get("person") or {}).get("email")) or ""
        if email:
            return str(email)
        user_id = str(user.get("id") or "")
        if user_id and user_id not in self._users:
            try:
                found = self._call("GET", f"users/{user_id}")
                self._users[user_id] = str(
                    (found.get("person") or {}).get("email") or found.get("name") or ""
                )
            except SkippableError:  # no "read user information" capability
                self._users[user_id] = str(user.get("name") or "")
        return self._users.get(user_id) or str(user.get("name") or "")

    # --- write-back -------------------------------------------------------------------------

    def write_back(self, edits: Sequence[DocumentEdit]) -> Results:
        """Each item whose line gained a link gets it appended to its block; a to-do ticked
        in the document is checked. A block edited since the page was read is left alone."""
        results: Results = []
        for edit in edits:
            try:
                self._write(edit)
                results.append(None)
            except PmsyncError as exc:
                results.append(exc)
        return results

    def _write(self, edit: DocumentEdit) -> None:
        document, text = edit.document, edit.text
        if document.ref.id not in self._lines:  # read from the cache this run: read it now
            current = self.fetch(document.ref)
            if current.text != document.text:  # changed since: the same edit on what it is now
                document, text = current, edit.redo(current)
        before = document.text.split("\n")
        after = text.split("\n")
        origins = self._lines.get(document.ref.id, {})
        if len(before) != len(after):
            raise DocumentError(document.ref.uri, "the edit adds lines: not written to Notion")
        skipped = []
        for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
            origin = origins.get(number)
            if old == new or _SEPARATOR_RE.match(new) or (origin and origin.kind == "table_header"):
                continue  # a table's header and rule: Notion tables keep their columns
            if origin is None:
                skipped.append(number)
                continue
            self._update(document.ref, origin, old, new)
        if skipped:
            lines = ", ".join(map(str, skipped))
            raise DocumentError(
                document.ref.uri,
                f"line(s) {lines} are not items of a list, to-do list or table: not written "
                "to Notion; the items' issues are filed all the same",
            )

    def _update(self, ref: DocumentRef, origin: _Line, old: str, new: str) -> None:
        current = self._call("GET", f"blocks/{origin.block}")
        now = current.get(origin.kind) or {}
        # Notion keeps edit times to the minute: the text is compared too.
        if str(current.get("last_edited_time") or "") != origin.edited or [
            _plain(cell) for cell in now.get("cells") or [now.get("rich_text") or []]
        ] != [_plain(cell) for cell in origin.cells or [origin.rich_text]]:
            raise DocumentError(
                ref.uri,
                f"block {origin.block} was edited in Notion since pmsync read it: left as it "
                "is, the next run reads it again",
            )
        if origin.kind == "table_row":
            cells = _row_edit(origin.cells, _row(old), _row(new))
            body: dict[str, Any] = {
                "table_row": {"cells": [[_writable(r) for r in c] for c in cells]}
            }
            self._call("PATCH", f"blocks/{origin.block}", body=body)
            return
        content: dict[str, Any] = {}
        rich = [*origin.rich_text]
        link = _LINK_RE.search(new)
        if link and not _LINK_RE.search(old):
            rich += _link_runs(link[1], link[2])
        content["rich_text"] = [_writable(run) for run in rich]
        if origin.kind == "to_do" and "- [x] " in new and "- [x] " not in old:
            content["checked"] = True
        self._call("PATCH", f"blocks/{origin.block}", body={origin.kind: content})

    # --- requests -----------------------------------------------------------------------------

    def _paged(
        self,
        verb: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            more = {"start_cursor": cursor} if cursor else {}
            if verb == "GET":  # the cursor goes where the request's other parameters are
                data = self._call(verb, path, query={**(query or {}), **more})
            else:
                data = self._call(verb, path, body={**(body or {}), **more})
            results = data.get("results")
            if not isinstance(results, list):
                raise SkippableError(f"{verb} {path}: unexpected answer (no results)")
            yield from (r for r in results if isinstance(r, dict))
            cursor = data.get("next_cursor") if data.get("has_more") else None
            if not cursor:
                return

    def _call(
        self,
        verb: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        what = f"{verb} /v1/{path}"

        def once() -> dict[str, Any]:
            self._pace.wait()
            self.requests += 1
            try:
                answer = self.client.request(
                    path=path,
                    method=verb,
                    query=dict(query or {}) or None,
                    body=dict(body) if body is not None else None,
                )
            except Exception as exc:
                report_source_request(self.name, verb, False)
                raise _classify(exc, what) from exc
            report_source_request(self.name, verb, True)
            if not isinstance(answer, dict):
                raise SkippableError(f"{what}: unexpected answer")
            return answer

        return with_retries(
            once,
            attempts=self.options.attempts,
            repeat=verb != "POST" or "query" in path,
            budget=self._budget,
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            from notion_client import Client

            self._client = Client(
                auth=self.options.token,
                base_url=self.options.base_url.rstrip("/"),
                notion_version=NOTION_VERSION,
                timeout_ms=int(self.options.timeout * 1000),
                retry=False,  # pmsync waits, within its budget; the client would not
            )
        return self._client


def _classify(exc: Exception, what: str) -> PmsyncError:
    from notion_client import APIResponseError, RequestTimeoutError
    from notion_client.errors import HTTPResponseError

    if isinstance(exc, RequestTimeoutError | httpx.TimeoutException | httpx.TransportError):
        return UncertainError(f"{what}: no answer from Notion ({type(exc).__name__})")
    if isinstance(exc, HTTPResponseError | APIResponseError):
        status = exc.status
        message = str(exc)[:200]
        if status == 429:
            wait = exc.headers.get("retry-after")
            seconds = float(wait) if wait and wait.replace(".", "", 1).isdigit() else None
            return RetriableError(
                f"{what}: rate limited by Notion", 1.0 if seconds is None else seconds
            )
        if status >= 500:
            return UncertainError(f"{what}: Notion answered {status}")
        if status == 401:
            return FatalError(f"{what}: Notion rejected the credentials (401): check the token")
        if status == 403:
            return SkippableError(f"{what}: not allowed (403): {message}")
        if status == 404:
            return NotFound(f"{what}: not found (404): share the page with the integration")
        return SkippableError(f"{what}: Notion refused it ({status}): {message}")
    return SkippableError(f"{what}: {type(exc).__name__}: {exc}")


def _styled(run: Mapping[str, Any]) -> str:
    text = str(run.get("plain_text") or (run.get("text") or {}).get("content") or "")
    if not text.strip():
        return text
    notes = run.get("annotations") or {}
    if notes.get("code"):
        text = f"`{text}`"
    if notes.get("bold"):
        text = f"**{text}**"
    if notes.get("italic"):
        text = f"*{text}*"
    if notes.get("strikethrough"):
        text = f"~~{text}~~"
    url = run.get("href") or ((run.get("text") or {}).get("link") or {}).get("url")
    return f"[{text}]({url})" if url else text


def _row(line: str) -> Lines:
    """A Markdown table row's cells (escaped pipes kept in their cell)."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner)]


def _link_runs(text: str, url: str) -> Clauses:
    return [
        {"type": "text", "text": {"content": " ("}},
        {"type": "text", "text": {"content": text, "link": {"url": url}}},
        {"type": "text", "text": {"content": ")"}},
    ]


def _row_edit(cells: Sequence[Sequence[dict[str, Any]]], old: Lines, new: Lines) -> list[Clauses]:
    """A table row's cells after write-back's edit of its Markdown: a link written in a cell
    (or in a column Notion's fixed-width table does not have: then in the last cell) is
    appended to it; any other change of a cell (a status set to Done) replaces its text."""
    edited = [[*cell] for cell in cells]
    for index, text in enumerate(new):
        before = old[index] if index < len(old) else ""
        if text == before:
            continue
        target = min(index, len(edited) - 1)
        link = _LINK_RE.search(text)
        if link and not _LINK_RE.search(before):
            edited[target] += _link_runs(link[1], link[2])
        elif index < len(edited):
            edited[index] = [{"type": "text", "text": {"content": text}}]
    return edited


def _plain(rich: Sequence[Mapping[str, Any]]) -> str:
    return "".join(str(run.get("plain_text") or "") for run in rich)


def _writable(run: Mapping[str, Any]) -> dict[str, Any]:
    """A rich-text run as the API takes it back (without the read-only parts)."""
    kept = {
        k: v for k, v in run.items() if k in ("type", "text", "mention", "annotations", "equation")
    }
    return kept


def _title_of(page: Mapping[str, Any]) -> str:
    for prop in (page.get("properties") or {}).values():
        if prop.get("type") == "title":
            return "".join(str(t.get("plain_text") or "") for t in prop.get("title") or []).strip()
    return ""


def _key(name: str) -> str:
    """A property's name as a front matter key: `Incident date` -> `incident_date`."""
    key = re.sub(r"\W+", "_", name.strip().casefold()).strip("_")
    return {"date": "date", "incident_date": "date", "sev": "severity"}.get(key, key or "property")


# --- settings ------------------------------------------------------------------------------

SECRET_ENV = ("NOTION_TOKEN",)


class Config(Remote, SourceSection):
    """Post-mortems as Notion pages: a database's pages (`database_id`, and `where` to keep
    only pages whose properties have these values) or the pages under `page_id`."""

    edits_html = False
    kind: Literal["notion"]
    database_id: Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{32,36}$")] | None = None
    page_id: Annotated[str, Field(pattern=r"^[0-9a-fA-F-]{32,36}$")] | None = None
    where: dict[str, str] = Field(default_factory=dict)  # e.g. { Status = "Published" }
    token: SecretStr | None = None
    token_file: Path | None = None
    base_url: Annotated[str, Field(pattern=r"^https?://")] = "https://api.notion.com"
    requests_per_second: Annotated[float, Field(ge=0)] = 3.0

    _check_files = field_validator("token_file")(check_readable)

    @model_validator(mode="after")
    def _one_place(self) -> Config:
        secrets_from_files(self, "token")
        if (self.database_id is None) == (self.page_id is None):
            raise ValueError("set one of database_id and page_id")
        return self


def build(name: str, config: Config, context: BuildContext) -> NotionSource:
    token = config.token.get_secret_value() if config.token else os.environ.get("NOTION_TOKEN")
    if not token:
        raise context.error(
            f"sources.{name}.token: no token: set token or token_file, or NOTION_TOKEN"
        )
    return NotionSource(
        name,
        NotionOptions(
            token=token,
            database_id=config.database_id,
            page_id=config.page_id,
            where=dict(config.where),
            base_url=config.base_url,
            requests_per_second=config.requests_per_second,
            **config.patience(),
        ),
    )
