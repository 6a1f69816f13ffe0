"""Fake document services over `responses`: a GitHub repository, a Confluence site (Cloud or
Data Center) and a Google Drive folder, answering the way the real APIs do (pagination links
and cursors, version numbers, base64 blobs, export formats) and failing on demand per document.

Each fake counts what it served: `bodies` lists the documents whose content was fetched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import requests
import responses

Answer = tuple[int, dict[str, str], str]


def _json(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data)


def _query(request: requests.PreparedRequest) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(request.url or "").query).items()}


@dataclass
class Failure:
    """How one document fails: an HTTP status and body (JSON, or text as it is), which may be
    a 200 with a malformed answer."""

    status: int = 403
    body: Any = field(default_factory=lambda: {"message": "Forbidden"})
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1_000_000


class _Fake:
    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.failures: dict[str, Failure] = {}
        self.requests = 0

    def fail(self, key: str, failure: Failure) -> None:
        self.failures[key] = failure

    def _failure(self, key: str) -> Answer | None:
        failure = self.failures.get(key)
        if failure is None or failure.times <= 0:
            return None
        failure.times -= 1
        if isinstance(failure.body, str):
            return failure.status, failure.headers, failure.body
        return _json(failure.status, failure.body, failure.headers)


# --- GitHub ----------------------------------------------------------------------------------


def git_blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\x00" % len(content) + content).hexdigest()


class FakeGithubRepo(_Fake):
    """One repository's branch: `files` maps paths to contents. `truncate` makes the recursive
    listing come back cut short, as GitHub does above 100,000 entries."""

    def __init__(
        self,
        files: Mapping[str, bytes],
        *,
        repo: str = "acme/postmortems",
        api: str = "https://api.github.com",
        branch: str = "main",
        token: str = "ghp_fake_token_0123456789",
    ) -> None:
        super().__init__()
        self.files = dict(files)
        self.repo = repo
        self.api = api.rstrip("/")
        self.branch = branch
        self.token = token
        self.truncate = False
        self.tree_requests = 0

    def register(self, mock: responses.RequestsMock) -> None:
        host = urlparse(self.api).netloc  # PyGithub writes the port out: api.github.com:443
        api = re.escape(self.api).replace(re.escape(host), re.escape(host) + r"(?::\d+)?", 1)
        base = api + re.escape(f"/repos/{self.repo}")
        mock.add_callback("GET", re.compile(base + r"(\?.*)?$"), self._repo)
        mock.add_callback("GET", re.compile(base + r"/git/trees/[^?]+(\?.*)?$"), self._tree)
        mock.add_callback("GET", re.compile(base + r"/git/blobs/\w+(\?.*)?$"), self._blob)

    def _authorised(self, request: requests.PreparedRequest) -> Answer | None:
        self.requests += 1
        if request.headers.get("Authorization") != f"token {self.token}":
            return _json(401, {"message": "Bad credentials"})
        return None

    def _repo(self, request: requests.PreparedRequest) -> Answer:
        return self._authorised(request) or _json(
            200, {"full_name": self.repo, "default_branch": self.branch}
        )

    def _folders(self) -> dict[str, dict[str, tuple[str, str, int]]]:
        """Every folder ("" the root): its entries as name -> (type, sha, size)."""
        folders: dict[str, dict[str, tuple[str, str, int]]] = {"": {}}
        for path, content in self.files.items():
            parts = PurePosixPath(path).parts
            for depth in range(len(parts) - 1):
                folders.setdefault("/".join(parts[: depth + 1]), {})
            parent = "/".join(parts[:-1])
            folders[parent][parts[-1]] = ("blob", git_blob_sha(content), len(content))
        for folder in sorted(folders, key=lambda f: -f.count("/")):
            if folder:
                parent, _, name = folder.rpartition("/")
                digest = hashlib.sha1(json.dumps(sorted(folders[folder].items())).encode())
                folders[parent][name] = ("tree", digest.hexdigest(), 0)
        return folders

    def _tree(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        self.tree_requests += 1
        wanted = urlparse(request.url or "").path.rsplit("/git/trees/", 1)[1]
        folders = self._folders()
        shas = {
            entries[name][1]: f"{parent}/{name}".lstrip("/")
            for parent, entries in folders.items()
            for name in entries
            if entries[name][0] == "tree"
        }
        if wanted == self.branch:
            folder = ""
        elif wanted in shas:
            folder = shas[wanted]
        else:
            return _json(404, {"message": "Not Found"})
        recursive = _query(request).get("recursive") not in (None, "", "0", "false")
        entries = []
        for parent, children in sorted(folders.items()):
            inside = parent == folder or (
                recursive and parent.startswith(folder + "/" if folder else "")
            )
            if not inside:
                continue
            prefix = parent[len(folder) :].lstrip("/")
            for name, (kind, sha, size) in sorted(children.items()):
                entry = {
                    "path": f"{prefix}/{name}".lstrip("/"),
                    "mode": "100644" if kind == "blob" else "040000",
                    "type": kind,
                    "sha": sha,
                }
                if kind == "blob":
                    entry["size"] = size
                entries.append(entry)
        truncated = self.truncate and recursive
        if truncated:
            entries = entries[: len(entries) // 2]
        return _json(200, {"sha": "f" * 40, "tree": entries, "truncated": truncated})

    def _blob(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        sha = urlparse(request.url or "").path.rsplit("/", 1)[1]
        path = next((p for p, c in self.files.items() if git_blob_sha(c) == sha), None)
        if path is None:
            return _json(404, {"message": "Not Found"})
        if failed := self._failure(path):
            return failed
        self.bodies.append(path)
        content = self.files[path]
        encoded = base64.encodebytes(content).decode()  # GitHub wraps the base64 in lines
        return _json(
            200, {"sha": sha, "size": len(content), "encoding": "base64", "content": encoded}
        )


# --- Confluence --------------------------------------------------------------------------------


@dataclass
class Page:
    title: str
    body: str
    version: int = 1
    space: str = "SRE"
    labels: tuple[str, ...] = ("postmortem",)


class FakeConfluence(_Fake):
    """A Confluence site. Cloud lives below `/wiki` and pages its search with a cursor; Data
    Center (here with a `/confluence` context path) with `start`. Both give `_links.next`."""

    def __init__(
        self, pages: Mapping[str, Page], *, deployment: str = "cloud", site: str | None = None
    ) -> None:
        super().__init__()
        self.pages = dict(pages)
        self.deployment = deployment
        default = (
            "https://acme.atlassian.net"
            if deployment == "cloud"
            else "https://wiki.acme.test/confluence"
        )
        self.site = site or default
        self.base = self.site + ("/wiki" if deployment == "cloud" else "")
        self.searches: list[dict[str, str]] = []
        self.search_failures: list[Answer] = []

    def register(self, mock: responses.RequestsMock) -> None:
        api = re.escape(self.base + "/rest/api/content")
        mock.add_callback("GET", re.compile(api + r"/search(\?.*)?$"), self._search)
        mock.add_callback("GET", re.compile(api + r"/(\d+)(\?.*)?$"), self._page)

    def _authorised(self, request: requests.PreparedRequest) -> Answer | None:
        self.requests += 1
        auth = request.headers.get("Authorization", "")
        if self.deployment == "cloud":
            expected = (
                "Basic " + base64.b64encode(b"pmsync@acme.test:atl-api-token-0123456789").decode()
            )
        else:
            expected = "Bearer dc-pat-0123456789abcdef"
        if auth != expected:
            return _json(401, {"message": "Unauthorized"})
        return None

    def _selected(self, cql: str) -> list[str]:
        """The pages a CQL query picks: space, label and ancestor clauses are honoured."""
        ids = sorted(self.pages, key=int)
        if match := re.search(r'space = "([^"]+)"', cql):
            ids = [i for i in ids if self.pages[i].space == match[1]]
        if match := re.search(r'label = "([^"]+)"', cql):
            ids = [i for i in ids if match[1] in self.pages[i].labels]
        return ids

    def _search(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        query = _query(request)
        self.searches.append(query)
        if self.search_failures:
            return self.search_failures.pop(0)
        ids = self._selected(query["cql"])
        limit = int(query.get("limit", 25))
        if self.deployment == "cloud":
            cursor = query.get("cursor")
            start = int(base64.b64decode(cursor).decode()) if cursor else 0
        else:
            start = int(query.get("start", 0))
        chunk = ids[start : start + limit]
        links: dict[str, str] = {"base": self.base, "context": urlparse(self.base).path}
        if start + limit < len(ids):
            following = {"cql": query["cql"], "limit": limit, "expand": query.get("expand", "")}
            if self.deployment == "cloud":
                following["cursor"] = base64.b64encode(str(start + limit).encode()).decode()
            else:
                following["start"] = start + limit
            links["next"] = "/rest/api/content/search?" + urlencode(following)
        results = [self._summary(i) for i in chunk]
        return _json(
            200,
            {
                "results": results,
                "start": start,
                "limit": limit,
                "size": len(results),
                "_links": links,
            },
        )

    def _summary(self, page_id: str) -> dict[str, Any]:
        page = self.pages[page_id]
        return {
            "id": page_id,
            "type": "page",
            "status": "current",
            "title": page.title,
            "version": {
                "number": page.version,
                "when": f"2026-10-{page.version:02d}T09:30:00.000Z",
            },
            "_links": {
                "webui": f"/spaces/{page.space}/pages/{page_id}",
                "self": f"{self.base}/rest/api/content/{page_id}",
            },
        }

    def _page(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        page_id = urlparse(request.url or "").path.rsplit("/", 1)[1]
        if failed := self._failure(page_id):
            return failed
        if page_id not in self.pages:
            return _json(
                404, {"statusCode": 404, "message": f"No content found with id: {page_id}"}
            )
        self.bodies.append(page_id)
        data = self._summary(page_id)
        data["body"] = {"storage": {"value": self.pages[page_id].body, "representation": "storage"}}
        return _json(200, data)


# --- Google Drive ------------------------------------------------------------------------------

TOKEN_URI = "https://oauth2.googleapis.com/token"
DOC = "application/vnd.google-apps.document"
FOLDER = "application/vnd.google-apps.folder"


@dataclass
class DriveFile:
    name: str
    mime: str
    content: bytes = b""  # a Markdown file's bytes, or a Doc's export in `export_as`
    export_as: str = "text/markdown"  # what Drive offers besides HTML for a Doc
    parent: str = "root-folder"
    modified: str = "2026-10-01T08:00:00.000Z"
    html: bytes = b""  # a Doc's HTML export


class FakeDrive(_Fake):
    """Drive v3: files.list by parent with `nextPageToken`, files.export and `alt=media`, behind
    the OAuth token endpoint a service account signs in to."""

    access_token = "ya29.fake-access-token"

    def __init__(self, files: Mapping[str, DriveFile], *, page_size: int = 2) -> None:
        super().__init__()
        self.files = dict(files)
        self.page_size = page_size
        self.tokens_issued = 0
        self.exports: list[tuple[str, str]] = []

    def register(self, mock: responses.RequestsMock) -> None:
        api = re.escape("https://www.googleapis.com/drive/v3/files")
        mock.add_callback("POST", TOKEN_URI, self._token)
        mock.add_callback("GET", re.compile(api + r"(\?.*)?$"), self._list)
        mock.add_callback("GET", re.compile(api + r"/([\w-]+)/export(\?.*)?$"), self._export)
        mock.add_callback("GET", re.compile(api + r"/([\w-]+)(\?.*)?$"), self._media)

    def _token(self, request: requests.PreparedRequest) -> Answer:
        raw = request.body or ""
        body = parse_qs(raw.decode() if isinstance(raw, bytes) else raw)
        assertion = body.get("assertion", [""])[0]
        if (
            body.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
            or assertion.count(".") != 2
        ):
            return _json(400, {"error": "invalid_grant"})
        claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
        if "drive.readonly" not in claims.get("scope", ""):
            return _json(400, {"error": "invalid_scope"})
        self.tokens_issued += 1
        return _json(
            200, {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _authorised(self, request: requests.PreparedRequest) -> Answer | None:
        self.requests += 1
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return _json(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Request had invalid authentication credentials.",
                    }
                },
            )
        return None

    def _list(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        query = _query(request)
        match = re.search(r"'([\w-]+)' in parents", query.get("q", ""))
        if match is None or "trashed = false" not in query.get("q", ""):
            return _json(400, {"error": {"code": 400, "message": "Invalid Value"}})
        if failed := self._failure(f"folder:{match[1]}"):
            return failed
        wanted = set(re.findall(r"mimeType = '([^']+)'", query["q"]))
        ids = [
            i
            for i, f in sorted(self.files.items(), key=lambda kv: kv[1].name)
            if f.parent == match[1] and f.mime in wanted
        ]
        start = int(query.get("pageToken", 0))
        size = min(int(query.get("pageSize", 100)), self.page_size)
        listed = []
        for file_id in ids[start : start + size]:
            entry = self.files[file_id]
            item: dict[str, Any] = {
                "id": file_id,
                "name": entry.name,
                "mimeType": entry.mime,
                "modifiedTime": entry.modified,
                "webViewLink": f"https://docs.google.com/document/d/{file_id}/edit",
            }
            if entry.mime == DOC:
                offered = {"text/html", "application/pdf", entry.export_as}
                item["exportLinks"] = dict.fromkeys(
                    sorted(offered),
                    f"https://docs.google.com/feeds/download/documents/export/Export?id={file_id}",
                )
            listed.append(item)
        data: dict[str, Any] = {"files": listed}
        if start + size < len(ids):
            data["nextPageToken"] = str(start + size)
        return _json(200, data)

    def _export(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        file_id = urlparse(request.url or "").path.split("/")[-2]
        mime = _query(request).get("mimeType", "")
        if failed := self._failure(file_id):
            return failed
        entry = self.files.get(file_id)
        if entry is None:
            return _json(404, {"error": {"code": 404, "message": f"File not found: {file_id}."}})
        if mime == "text/html":
            content = entry.html
        elif mime == entry.export_as:
            content = entry.content
        else:
            return _json(
                400,
                {"error": {"code": 400, "message": "The requested conversion is not supported."}},
            )
        self.bodies.append(file_id)
        self.exports.append((file_id, mime))
        return (
            200,
            {"Content-Type": f"{mime}; charset=utf-8"},
            (b"\xef\xbb\xbf" + content).decode("utf-8"),
        )

    def _media(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        file_id = urlparse(request.url or "").path.rsplit("/", 1)[1]
        if _query(request).get("alt") != "media":
            return _json(400, {"error": {"code": 400, "message": "metadata reads are not faked"}})
        if failed := self._failure(file_id):
            return failed
        entry = self.files.get(file_id)
        if entry is None:
            return _json(404, {"error": {"code": 404, "message": f"File not found: {file_id}."}})
        self.bodies.append(file_id)
        return 200, {"Content-Type": "text/markdown"}, entry.content.decode("utf-8")
