"""The `confluence` source: pages of Confluence Cloud or Data Center, chosen by CQL.

One paginated content search lists the pages with their version numbers; a page's body is read
in storage format (Confluence's XHTML) only when its version is new, and goes through the same
HTML extraction as an exported page: tables, task lists with assignees and dates, mentions,
status macros. Both deployments serve the same REST API (`/rest/api`), Cloud below `/wiki`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urljoin, urlparse

import requests
from pydantic import Field, model_validator

from connectors.base import DocumentEdit
from connectors.config import AtlassianAuth, BuildContext, SourceSection
from connectors.sources.folder import Results
from connectors.sources.http import Conflict, HttpReader, timestamp
from syncer.errors import DocumentError, PmsyncError, SkippableError
from syncer.model import Document, DocumentRef

PAGE_SIZE = 50
WRITE_ATTEMPTS = 3
EDIT_MESSAGE = "pmsync: links to the issues of the action items"


@dataclass(frozen=True, slots=True)
class ConfluenceOptions:
    url: str  # the site: https://acme.atlassian.net (Cloud) or https://wiki.acme.com (DC)
    deployment: Literal["cloud", "datacenter"]
    cql: str
    email: str | None = None  # Cloud: with an API token, basic auth
    api_token: str | None = None
    token: str | None = None  # Data Center: a personal access token, bearer auth
    page_size: int = PAGE_SIZE
    timeout: float = 30.0
    max_wait: float = 600.0
    backoff: float = 2.0


def confluence_cql(
    *, space: str | None, label: str | None, ancestor: str | None, cql: str | None
) -> str:
    """The pages to read: `type = page` and every selector given, all of them together."""
    parts = ["type = page"]
    if space:
        parts.append(f"space = {_quoted(space)}")
    if label:
        parts.append(f"label = {_quoted(label)}")
    if ancestor:
        parts.append(f"ancestor = {_quoted(ancestor)}")
    if cql:
        parts.append(f"({cql})")
    return " AND ".join(parts)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfluenceSource:
    remote = True
    whole_reads = True  # a page is read at one version: never caught half written

    def __init__(
        self,
        name: str,
        options: ConfluenceOptions,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.name = name
        self.options = options
        site = options.url.rstrip("/")
        if options.deployment == "cloud":
            site = site.removesuffix("/wiki") + "/wiki"
        self.site = site
        self.api = site + "/rest/api"
        session = session or requests.Session()
        if options.deployment == "cloud":
            session.auth = (options.email or "", options.api_token or "")
        elif options.token:
            session.headers["Authorization"] = f"Bearer {options.token}"
        session.headers["Accept"] = "application/json"
        self.http = HttpReader(
            f"confluence {name}",
            session,
            timeout=options.timeout,
            max_wait=options.max_wait,
            backoff=options.backoff,
            sleep=sleep,
            source=name,
        )

    def list(self) -> Sequence[DocumentRef]:
        what = f"confluence {self.name}: page search"
        url: str | None = self.api + "/content/search"
        params: dict[str, Any] | None = {
            "cql": self.options.cql,
            "limit": self.options.page_size,
            "expand": "version,history",
        }
        refs: dict[str, DocumentRef] = {}
        while url:
            data = self.http.json(url, params, what=what)
            results = data.get("results")
            if not isinstance(results, list):
                raise SkippableError(f"{what}: unexpected answer (no results list)")
            base = _links(data).get("base") or self.site
            for page in results:
                ref = self._ref(page, base) if isinstance(page, dict) else None
                if ref is not None:
                    refs.setdefault(ref.id, ref)
            following = _links(data).get("next")
            # The next link is relative to the site and carries the query (and Cloud's cursor).
            url = urljoin(base.rstrip("/") + "/", following.lstrip("/")) if following else None
            params = None
        return list(refs.values())

    def fetch(self, ref: DocumentRef) -> Document:
        try:
            data = self.http.json(
                f"{self.api}/content/{ref.id}",
                {"expand": "body.storage,version"},
                what=f"confluence page {ref.id}",
            )
        except SkippableError as exc:
            raise DocumentError(ref.uri, _without_prefix(exc, ref.id)) from None
        body = data.get("body")
        storage = body.get("storage") if isinstance(body, dict) else None
        value = storage.get("value") if isinstance(storage, dict) else None
        if not isinstance(value, str):
            raise DocumentError(ref.uri, "the page has no storage-format body")
        if data.get("type") not in (None, "page"):
            raise DocumentError(ref.uri, f"a {data.get('type')}, not a page")
        title = data.get("title")
        version = data.get("version")
        number = version.get("number") if isinstance(version, dict) else None
        if number is not None:
            ref = replace(ref, version=str(number))  # the version of this very body
        return Document(ref, str(title) if title else ref.id, value, "html")

    # --- write-back ------------------------------------------------------------------------

    def write_back(self, edits: Sequence[DocumentEdit]) -> Results:
        results: Results = []
        for edit in edits:
            try:
                self._update(edit)
                results.append(None)
            except PmsyncError as exc:
                results.append(exc)
        return results

    def _update(self, edit: DocumentEdit) -> None:
        """Write the page as the version after the one pmsync read. Someone else's edit in
        between makes Confluence refuse (409): then read the page again, make the same edit on
        what it holds now, and try again; their edit is never overwritten."""
        document, text = edit.document, edit.text
        for _ in range(WRITE_ATTEMPTS):
            page = document.ref.id
            payload = {
                "id": page,
                "type": "page",
                "title": document.title,
                "version": {"number": int(document.ref.version) + 1, "message": EDIT_MESSAGE},
                "body": {"storage": {"value": text, "representation": "storage"}},
            }
            try:
                self.http.send(
                    "PUT",
                    f"{self.api}/content/{page}",
                    body=payload,
                    what=f"confluence page {page}",
                )
                return
            except Conflict:
                document = self.fetch(document.ref)
                text = edit.redo(document)
                if text == document.text:
                    return  # what pmsync wanted to write is there already
        raise DocumentError(
            edit.document.ref.uri,
            "the page kept changing while pmsync wrote; the next run tries again",
        )

    def _ref(self, page: dict[str, Any], base: str) -> DocumentRef | None:
        page_id = page.get("id")
        if not page_id:
            return None
        version = page.get("version")
        if not isinstance(version, dict):
            version = {}
        webui = _links(page).get("webui")
        link = urljoin(base.rstrip("/") + "/", webui.lstrip("/")) if webui else ""
        number = version.get("number")
        history = page.get("history")
        if not isinstance(history, dict):
            history = {}
        return DocumentRef(
            source=self.name,
            id=str(page_id),
            uri=link or f"{self.site}/pages/viewpage.action?pageId={page_id}",
            updated_at=timestamp(version.get("when")),
            version=str(number) if number is not None else "",
            link=link,
            author=_name(history.get("createdBy")) or _name(version.get("by")),
            created_at=timestamp(history.get("createdDate")),
        )


def _name(user: object) -> str:
    """A Confluence user as the people directory may know them: e-mail, else display name."""
    if not isinstance(user, dict):
        return ""
    return str(user.get("email") or user.get("displayName") or user.get("publicName") or "")


def _links(data: dict[str, Any]) -> dict[str, str]:
    links = data.get("_links")
    if not isinstance(links, dict):
        return {}
    return {k: v for k, v in links.items() if isinstance(v, str)}


def _without_prefix(exc: PmsyncError, page_id: str) -> str:
    return str(exc).removeprefix(f"confluence page {page_id}: ")


# --- settings ------------------------------------------------------------------------------


class Config(AtlassianAuth, SourceSection):
    """Confluence pages chosen by space, label, ancestor page and/or CQL, all together."""

    edits_html: ClassVar[bool] = True

    kind: Literal["confluence"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    deployment: Literal["cloud", "datacenter"] | None = None  # default: cloud on *.atlassian.net
    space: str | None = None
    label: str | None = None
    ancestor: str | None = None  # a page id: every page below it
    cql: str | None = None
    page_size: Annotated[int, Field(ge=1, le=250)] = 50

    @model_validator(mode="after")
    def _check(self) -> Config:
        if not (self.space or self.label or self.ancestor or self.cql):
            raise ValueError("say which pages: set space, label, ancestor or cql")
        return self


def build(name: str, config: Config, context: BuildContext) -> ConfluenceSource:
    """A Confluence source; the deployment is told by the address when not given."""
    deployment = config.deployment or (
        "cloud"
        if (urlparse(config.url).hostname or "").endswith(".atlassian.net")
        else "datacenter"
    )
    key = f"sources.{name}"
    if deployment == "cloud" and not (config.email and config.api_token):
        raise context.error(
            f"{key}.api_token: Confluence Cloud needs email and api_token (or api_token_file)"
        )
    if deployment == "datacenter" and config.token is None:
        raise context.error(
            f"{key}.token: Confluence Data Center needs a personal access token (token_file)"
        )
    options = ConfluenceOptions(
        url=config.url,
        deployment=deployment,
        cql=confluence_cql(
            space=config.space, label=config.label, ancestor=config.ancestor, cql=config.cql
        ),
        email=config.email,
        api_token=config.api_token.get_secret_value() if config.api_token else None,
        token=config.token.get_secret_value() if config.token else None,
        page_size=config.page_size,
        **config.patience(),
    )
    return ConfluenceSource(name, options)
