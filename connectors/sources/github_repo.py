"""The `github-repo` source: post-mortems in a GitHub repository, read through the API.

One recursive tree listing per run names every file with its blob SHA (the version); a blob is
fetched only when its SHA is new. Document ids are paths below the configured folder, so a
checkout of the same folder read with `markdown-dir` gives the same post-mortem ids and item
keys. GitHub Enterprise Server is reached through `base_url`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, urlparse

from connectors.sources.markdown_dir import MAX_FILE_BYTES, decode_text, format_of
from connectors.trackers.github import GithubOptions, NotAllowed, github_client, translated
from connectors.trackers.retry import WaitBudget, interruptible_sleep, with_retries
from syncer.errors import DocumentError, SkippableError
from syncer.model import Document, DocumentRef

Entries = list[dict[str, Any]]  # JSON objects of a listing


@dataclass(frozen=True, slots=True)
class RepoOptions:
    auth: GithubOptions  # repository, address and credentials
    branch: str | None = None  # None: the repository's default branch
    path: str = ""  # the folder holding the post-mortems; "" for the whole repository
    globs: tuple[str, ...] = ("**/*.md",)
    exclude: tuple[str, ...] = ()


@cache
def glob_pattern(glob: str) -> re.Pattern[str]:
    """A path glob as a regex: `**/` is any number of folders, `*` and `?` stay in one."""
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(path: str, globs: Sequence[str]) -> bool:
    return any(glob_pattern(glob).match(path) for glob in globs)


class GithubRepoSource:
    remote = True

    def __init__(
        self, name: str, options: RepoOptions, *, sleep: Callable[[float], None] | None = None
    ) -> None:
        self.name = name
        self.options = options
        auth = options.auth
        self._github = github_client(auth)
        self._budget = WaitBudget(
            f"github {name}", auth.max_wait, auth.backoff, sleep or interruptible_sleep
        )
        self._repo = f"/repos/{auth.repo}"
        self._prefix = options.path.strip("/")
        self._sizes: dict[str, int] = {}
        self.branch = options.branch
        self.requests = 0

    def list(self) -> Sequence[DocumentRef]:
        branch = self.branch or self._default_branch()
        self.branch = branch
        entries = self._tree(branch)
        refs = []
        for entry in entries:
            path = str(entry.get("path", ""))
            if entry.get("type") != "blob" or not entry.get("sha"):
                continue
            relative = self._relative(path)
            if relative is None or not matches(relative, self.options.globs):
                continue
            if self.options.exclude and matches(relative, self.options.exclude):
                continue
            self._sizes[relative] = int(entry.get("size") or 0)
            refs.append(
                DocumentRef(
                    source=self.name,
                    id=relative,
                    uri=f"{self.options.auth.repo}:{path}",
                    version=str(entry["sha"]),
                    link=f"{self._web_root()}/blob/{quote(branch)}/{quote(path)}",
                )
            )
        return sorted(refs, key=lambda ref: ref.id)

    def fetch(self, ref: DocumentRef) -> Document:
        size = self._sizes.get(ref.id, 0)
        if size > MAX_FILE_BYTES:
            raise DocumentError(ref.uri, f"{size:,} bytes is more than the 5 MiB limit")
        try:
            data = self._get(f"{self._repo}/git/blobs/{ref.version}")
        except (SkippableError, NotAllowed) as exc:
            raise DocumentError(ref.uri, str(exc)) from None
        try:
            if data.get("encoding") != "base64":
                raise ValueError(f"unexpected encoding {data.get('encoding')!r}")
            raw = base64.b64decode(str(data.get("content", "")), validate=False)
        except (ValueError, binascii.Error) as exc:
            raise DocumentError(ref.uri, f"unreadable blob: {exc}") from None
        text = decode_text(raw, ref.uri)
        name = ref.id.rsplit("/", 1)[-1]
        return Document(ref, name.split(".", 1)[0], text, format_of(name))

    # --- reading --------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            self.requests += 1
            with translated(f"GET {path}"):
                _, data = self._github.requester.requestJsonAndCheck("GET", path, parameters=params)
            if not isinstance(data, dict):
                raise SkippableError(f"GET {path}: unexpected answer (not a JSON object)")
            return data

        return with_retries(
            once, attempts=self.options.auth.attempts, repeat=True, budget=self._budget
        )

    def _default_branch(self) -> str:
        return str(self._get(self._repo).get("default_branch") or "main")

    def _tree(self, branch: str) -> Entries:
        """Every entry below the folder: one recursive listing, or, when GitHub cuts that short
        (over 100,000 entries), a walk down to the folder and a listing of each subfolder."""
        data = self._get(f"{self._repo}/git/trees/{quote(branch, safe='')}", {"recursive": "1"})
        if not data.get("truncated"):
            return _entries(data)
        found: Entries = []
        pending = [("", quote(branch, safe=""))]
        while pending:
            folder, sha = pending.pop()
            for entry in _entries(self._get(f"{self._repo}/git/trees/{sha}")):
                path = f"{folder}{entry.get('path', '')}"
                entry = {**entry, "path": path}
                if entry.get("type") == "tree" and self._leads_to_folder(path):
                    pending.append((path + "/", str(entry.get("sha"))))
                elif entry.get("type") == "blob":
                    found.append(entry)
        return found

    def _leads_to_folder(self, path: str) -> bool:
        """Whether a subfolder is on the way to the configured folder or inside it."""
        if not self._prefix:
            return True
        return self._prefix.startswith(path + "/") or self._relative(path) is not None

    def _relative(self, path: str) -> str | None:
        if not self._prefix:
            return path
        if path == self._prefix:
            return ""
        return (
            path.removeprefix(self._prefix + "/") if path.startswith(self._prefix + "/") else None
        )

    def _web_root(self) -> str:
        """https://github.com/owner/repo, or the same on a GitHub Enterprise Server host."""
        api = urlparse(self.options.auth.base_url)
        host = "github.com" if api.netloc == "api.github.com" else api.netloc
        return f"{api.scheme}://{host}/{self.options.auth.repo}"


def _entries(data: dict[str, Any]) -> Entries:
    tree = data.get("tree")
    if not isinstance(tree, list):
        raise SkippableError("git tree: unexpected answer (no tree list)")
    return [entry for entry in tree if isinstance(entry, dict)]
