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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import requests
import responses

from tests import openapi_check
from tests.fakes.keys import TOKEN_URI

Answer = tuple[int, dict[str, str], str | bytes]


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
        # Git data for write-back: commits by sha (files, parents, message), other branches'
        # heads, trees written by clients, and pull requests by number.
        self.commits: dict[str, dict[str, Any]] = {}
        self.heads: dict[str, str] = {}
        self.trees: dict[str, dict[str, bytes]] = {}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.writes: list[str] = []

    def register(self, mock: responses.RequestsMock) -> None:
        host = urlparse(self.api).netloc  # PyGithub writes the port out: api.github.com:443
        api = re.escape(self.api).replace(re.escape(host), re.escape(host) + r"(?::\d+)?", 1)
        base = api + re.escape(f"/repos/{self.repo}")
        q = r"(\?.*)?$"

        def add(
            method: str, url: re.Pattern[str], answer: Callable[[requests.PreparedRequest], Answer]
        ) -> None:
            mock.add_callback(method, url, lambda request: self._checked(request, answer))

        add("GET", re.compile(base + q), self._repo)
        add("GET", re.compile(base + r"/git/trees/[^?]+" + q), self._tree)
        add("GET", re.compile(base + r"/git/blobs/\w+" + q), self._blob)
        add("GET", re.compile(base + r"/git/ref/heads/[^?]+" + q), self._get_ref)
        add("GET", re.compile(base + r"/git/commits/\w+" + q), self._get_commit)
        add("GET", re.compile(base + r"/contents/[^?]+" + q), self._contents)
        add("POST", re.compile(base + r"/git/trees" + q), self._post_tree)
        add("POST", re.compile(base + r"/git/commits" + q), self._post_commit)
        add("POST", re.compile(base + r"/git/refs" + q), self._post_ref)
        add("PATCH", re.compile(base + r"/git/refs/heads/[^?]+" + q), self._patch_ref)
        add("GET", re.compile(base + r"/pulls" + q), self._list_pulls)
        add("POST", re.compile(base + r"/pulls" + q), self._post_pull)
        add("PATCH", re.compile(base + r"/pulls/\d+" + q), self._patch_pull)

    def _checked(
        self,
        request: requests.PreparedRequest,
        answer: Callable[[requests.PreparedRequest], Answer],
    ) -> Answer:
        """GitHub's answer to a request its published description refuses; else `answer`."""
        refused = openapi_check.GITHUB.check_sent(request, self.api)
        if refused:
            return _json(422, {"message": "Invalid request.", "errors": refused})
        return answer(request)

    # --- git data: the default branch is `files`; other branches are commits of ours ---------

    def _main_head(self) -> str:
        digest = hashlib.sha1(
            json.dumps(sorted((p, c.hex()) for p, c in self.files.items())).encode()
        )
        sha = digest.hexdigest()
        if sha not in self.commits:
            self.commits[sha] = {"files": dict(self.files), "parents": [], "message": "main"}
        return sha

    def head(self, branch: str) -> str | None:
        return self._main_head() if branch == self.branch else self.heads.get(branch)

    def files_at(self, branch: str) -> dict[str, bytes]:
        sha = self.head(branch)
        return dict(self.commits[sha]["files"]) if sha else {}

    def merge(self, number: int) -> None:
        """Merge a pull request: the default branch takes its head's files."""
        pull = self.pulls[number]
        self.files = self.files_at(pull["head"]["ref"])
        pull.update(state="closed", merged=True)

    def _body(self, request: requests.PreparedRequest) -> dict[str, Any]:
        raw = request.body or b"{}"
        data = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        return data if isinstance(data, dict) else {}

    def _get_ref(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        branch = urlparse(request.url or "").path.split("/git/ref/heads/", 1)[1]
        sha = self.head(unquote(branch))
        if sha is None:
            return _json(404, {"message": "Not Found"})
        return _json(200, {"ref": f"refs/heads/{branch}", "object": {"sha": sha, "type": "commit"}})

    def _get_commit(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        self._main_head()
        sha = urlparse(request.url or "").path.rsplit("/", 1)[1]
        commit = self.commits.get(sha)
        if commit is None:
            return _json(404, {"message": "Not Found"})
        tree = "t" + sha[1:]
        self.trees.setdefault(tree, commit["files"])
        parents = [{"sha": p} for p in commit["parents"]]
        return _json(
            200,
            {"sha": sha, "message": commit["message"], "tree": {"sha": tree}, "parents": parents},
        )

    def _contents(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        path = unquote(urlparse(request.url or "").path.split("/contents/", 1)[1])
        ref = _query(request).get("ref", self.branch)
        self._main_head()
        files = self.commits[ref]["files"] if ref in self.commits else self.files_at(ref)
        if path not in files:
            return _json(404, {"message": "Not Found"})
        content = files[path]
        return _json(
            200,
            {
                "path": path,
                "sha": git_blob_sha(content),
                "encoding": "base64",
                "content": base64.encodebytes(content).decode(),
            },
        )

    def _post_tree(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        body = self._body(request)
        base = self.trees.get(str(body.get("base_tree")))
        if base is None:
            return _json(422, {"message": "base_tree is not a valid tree"})
        files = dict(base)
        for entry in body.get("tree", []):
            files[entry["path"]] = entry["content"].encode()
        sha = hashlib.sha1(
            json.dumps(sorted((p, c.hex()) for p, c in files.items())).encode()
        ).hexdigest()
        self.trees[sha] = files
        self.writes.append("POST tree")
        return _json(201, {"sha": sha})

    def _post_commit(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        body = self._body(request)
        files = self.trees.get(str(body.get("tree")))
        if files is None or any(p not in self.commits for p in body.get("parents", [])):
            return _json(422, {"message": "tree or parent not found"})
        sha = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()
        self.commits[sha] = {"files": files, "parents": body["parents"], "message": body["message"]}
        self.writes.append("POST commit")
        return _json(201, {"sha": sha, "tree": {"sha": body["tree"]}})

    def _post_ref(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        body = self._body(request)
        branch = str(body.get("ref", "")).removeprefix("refs/heads/")
        if self.head(branch) is not None:
            return _json(422, {"message": "Reference already exists"})
        self.heads[branch] = body["sha"]
        self.writes.append("POST ref")
        return _json(201, {"ref": body["ref"], "object": {"sha": body["sha"]}})

    def _patch_ref(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        branch = unquote(urlparse(request.url or "").path.split("/git/refs/heads/", 1)[1])
        body = self._body(request)
        if branch not in self.heads:
            return _json(422, {"message": "Reference does not exist"})
        if not body.get("force") and self.heads[branch] not in self.commits[body["sha"]]["parents"]:
            return _json(422, {"message": "Update is not a fast forward"})
        self.heads[branch] = body["sha"]
        self.writes.append("PATCH ref")
        return _json(200, {"ref": f"refs/heads/{branch}", "object": {"sha": body["sha"]}})

    def _pull_json(self, number: int) -> dict[str, Any]:
        pull = self.pulls[number]
        head = {**pull["head"], "sha": self.heads.get(pull["head"]["ref"], "")}
        return {**pull, "head": head, "html_url": f"https://github.com/{self.repo}/pull/{number}"}

    def _list_pulls(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        query = _query(request)
        owner = self.repo.split("/")[0]
        wanted = query.get("head", "")
        found = [
            self._pull_json(n)
            for n, pull in sorted(self.pulls.items())
            if pull["state"] == query.get("state", "open")
            # GitHub ignores a head without the owner: every pull request comes back.
            and (":" not in wanted or wanted == f"{owner}:{pull['head']['ref']}")
        ]
        return _json(200, found)

    def _post_pull(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        body = self._body(request)
        if any(
            p["state"] == "open" and p["head"]["ref"] == body["head"] for p in self.pulls.values()
        ):
            return _json(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"message": "A pull request already exists"}],
                },
            )
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "number": number,
            "state": "open",
            "title": body["title"],
            "body": body.get("body", ""),
            "head": {"ref": body["head"]},
            "base": {"ref": body["base"]},
        }
        self.writes.append("POST pull")
        return _json(201, self._pull_json(number))

    def _patch_pull(self, request: requests.PreparedRequest) -> Answer:
        if denied := self._authorised(request):
            return denied
        number = int(urlparse(request.url or "").path.rsplit("/", 1)[1])
        self.pulls[number].update(
            {k: v for k, v in self._body(request).items() if k in ("title", "body", "state")}
        )
        self.writes.append("PATCH pull")
        return _json(200, self._pull_json(number))

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
    author: str = "Lee Park"


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
        self.updates: list[tuple[str, int]] = []  # (page, version) of every accepted update
        self.conflicts = 0
        # Called once when an update arrives, before it is checked: someone else's edit.
        self.before_update: Callable[[str], None] | None = None

    def register(self, mock: responses.RequestsMock) -> None:
        api = re.escape(self.base + "/rest/api/content")
        mock.add_callback("GET", re.compile(api + r"/search(\?.*)?$"), self._search)
        mock.add_callback("GET", re.compile(api + r"/(\d+)(\?.*)?$"), self._page)
        mock.add_callback("PUT", re.compile(api + r"/(\d+)(\?.*)?$"), self._update)

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
                "by": {"type": "known", "displayName": "Editor Somebody"},
            },
            "history": {
                "createdBy": {"type": "known", "displayName": page.author},
                "createdDate": "2026-09-30T08:00:00.000Z",
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

    def _update(self, request: requests.PreparedRequest) -> Answer:
        """Confluence takes an update only as the version after the current one."""
        if denied := self._authorised(request):
            return denied
        page_id = urlparse(request.url or "").path.rsplit("/", 1)[1]
        if self.before_update is not None:
            hook, self.before_update = self.before_update, None
            hook(page_id)
        raw = request.body or b"{}"
        body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        page = self.pages.get(page_id)
        if page is None:
            return _json(404, {"message": f"No content found with id: {page_id}"})
        if body["version"]["number"] != page.version + 1:
            self.conflicts += 1
            message = f"Version must be incremented on update. Current version is: {page.version}"
            return _json(409, {"statusCode": 409, "message": message})
        if body.get("type") != "page" or not body.get("title"):
            return _json(400, {"message": "type and title are required"})
        page.body = body["body"]["storage"]["value"]
        page.version += 1
        self.updates.append((page_id, page.version))
        return _json(200, self._summary(page_id))


# --- Google Drive ------------------------------------------------------------------------------

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
    owner: str = "lee@example.com"


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
        wanted = set(re.findall(r"mimeType = '([^']+)'", query["q"]))  # none: every file
        ids = [
            i
            for i, f in sorted(self.files.items(), key=lambda kv: kv[1].name)
            if f.parent == match[1] and (f.mime in wanted or not wanted)
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
                "createdTime": "2026-09-30T08:00:00.000Z",
                "webViewLink": f"https://docs.google.com/document/d/{file_id}/edit",
                "owners": [{"displayName": "Lee Park", "emailAddress": entry.owner}],
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
        return 200, {"Content-Type": entry.mime}, entry.content
