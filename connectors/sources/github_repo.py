"""The `github-repo` source: post-mortems in a GitHub repository, read through the API.

One recursive tree listing per run names every file with its blob SHA (the version); a blob is
fetched only when its SHA is new. Document ids are paths below the configured folder, so a
checkout of the same folder read with `markdown-dir` gives the same post-mortem ids and item
keys. GitHub Enterprise Server is reached through `base_url`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlparse

from pydantic import Field

from connectors.base import DocumentEdit, report_source_request
from connectors.config import BuildContext, SourceSection
from connectors.sources.content import MAX_FILE_BYTES, decode_text, document_of
from connectors.sources.folder import Results
from connectors.sources.repository import (
    TITLE,
    Files,
    FolderSettings,
    RepoOptions,
    already_proposed,
    commit_message,
    description,
    fingerprint,
    gather,
    relative,
)
from connectors.trackers.github import (
    GithubAuth,
    GithubOptions,
    auth_options,
    github_client,
    translated,
)
from connectors.trackers.retry import WaitBudget, interruptible_sleep, with_retries
from syncer import logs
from syncer.errors import DocumentError, NotAllowed, PmsyncError, SkippableError, UncertainError
from syncer.model import Document, DocumentRef

log = logs.get_logger("pmsync.sources")

Entries = list[dict[str, Any]]  # JSON objects of a listing


class GithubRepoSource:
    remote = True
    whole_reads = True  # a file is read as one committed blob: never caught half written

    def __init__(
        self,
        name: str,
        options: RepoOptions[GithubOptions],
        *,
        sleep: Callable[[float], None] | None = None,
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
        self._modes: dict[str, str] = {}
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
            below = self.options.document_id(path)
            if below is None:
                continue
            self._sizes[below] = int(entry.get("size") or 0)
            self._modes[below] = str(entry.get("mode") or "100644")
            refs.append(
                DocumentRef(
                    source=self.name,
                    id=below,
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
        return document_of(ref, ref.id.rsplit("/", 1)[-1], raw)

    # --- reading --------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        data = self._call("GET", path, params)
        if not isinstance(data, dict):
            raise SkippableError(f"GET {path}: unexpected answer (not a JSON object)")
        return data

    def _call(
        self,
        verb: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        *,
        repeat: bool = True,
    ) -> Any:
        """One API call, translated and retried; `repeat` off for a call that must not be made
        twice (opening a pull request)."""

        def once() -> Any:
            self.requests += 1
            with translated(f"{verb} {path}"):
                try:
                    _, data = self._github.requester.requestJsonAndCheck(
                        verb, path, parameters=params, input=body
                    )
                except Exception:
                    report_source_request(self.name, verb, False)
                    raise
            report_source_request(self.name, verb, True)
            return data

        attempts = self.options.auth.attempts
        return with_retries(once, attempts=attempts, repeat=repeat, budget=self._budget)

    # --- write-back: one pull request, updated in place ------------------------------------------

    def write_back(self, edits: Sequence[DocumentEdit]) -> Results:
        """Every edit in one commit on `write_back_branch`, made on the newest commit of the
        branch pmsync reads, and one open pull request from it. The branch is moved (forced)
        only when what it should hold changed; the pull request is opened once and updated."""
        base = self.branch or self._default_branch()
        head = self._get(f"{self._repo}/git/ref/heads/{quote(base)}")["object"]["sha"]
        results, files = gather(edits, self._path, lambda edit: self._current(edit, head))
        if not files:
            return results
        try:
            self._publish(base, head, files, fingerprint(head, files))
        except PmsyncError as exc:
            return [r if r is not None else exc for r in results]
        return results

    def _path(self, doc_id: str) -> str:
        return f"{self._prefix}/{doc_id}" if self._prefix else doc_id

    def _current(self, edit: DocumentEdit, head: str) -> str:
        """The edited text, made again on the file as the branch holds it now if it changed
        since pmsync read it."""
        path = self._path(edit.document.ref.id)
        data = self._get(f"{self._repo}/contents/{quote(path)}", {"ref": head})
        if data.get("sha") == edit.document.ref.version:
            return edit.text
        raw = base64.b64decode(str(data.get("content", "")))
        return edit.redo(replace(edit.document, text=decode_text(raw, edit.document.ref.uri)))

    def _publish(self, base: str, head: str, files: Files, print_: str) -> None:
        branch = self.options.write_back_branch
        owner = self.options.auth.repo.split("/")[0]
        query = {"head": f"{owner}:{branch}", "state": "open", "base": base}
        pulls = self._call("GET", f"{self._repo}/pulls", query)
        pull = pulls[0] if isinstance(pulls, list) and pulls else None
        body = description(files, "pull request")
        current = self._branch_head(branch)
        if current is not None and pull is not None:
            message = str(self._get(f"{self._repo}/git/commits/{current}").get("message", ""))
            if already_proposed(message, print_):
                return  # the pull request already holds exactly these edits
        commit = self._commit(head, files, print_)
        if current is None:
            self._call(
                "POST",
                f"{self._repo}/git/refs",
                body={"ref": f"refs/heads/{branch}", "sha": commit},
            )
        else:
            ref = f"{self._repo}/git/refs/heads/{quote(branch)}"
            self._call("PATCH", ref, body={"sha": commit, "force": True})
        if pull is not None:
            self._call("PATCH", f"{self._repo}/pulls/{pull['number']}", body={"body": body})
            log.info("write_back_pull_updated", source=self.name, pull=pull.get("html_url"))
            return
        payload = {"title": TITLE, "head": branch, "base": base, "body": body}
        try:
            opened = self._call("POST", f"{self._repo}/pulls", body=payload, repeat=False)
        except UncertainError:
            if not self._call("GET", f"{self._repo}/pulls", query):
                raise
            return
        log.info("write_back_pull_opened", source=self.name, pull=opened.get("html_url"))

    def _branch_head(self, branch: str) -> str | None:
        try:
            data = self._get(f"{self._repo}/git/ref/heads/{quote(branch)}")
        except SkippableError:  # 404: no such branch yet
            return None
        return str(data["object"]["sha"])

    def _commit(self, head: str, files: Files, print_: str) -> str:
        tree = self._get(f"{self._repo}/git/commits/{head}")["tree"]["sha"]
        entries = [
            {"path": path, "mode": self._modes.get(path, "100644"), "type": "blob", "content": text}
            for path, (text, _) in sorted(files.items())
        ]
        new_tree = self._call(
            "POST", f"{self._repo}/git/trees", body={"base_tree": tree, "tree": entries}
        )
        message = commit_message(files, print_)
        commit = self._call(
            "POST",
            f"{self._repo}/git/commits",
            body={"message": message, "tree": new_tree["sha"], "parents": [head]},
        )
        return str(commit["sha"])

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
        return self._prefix.startswith(path + "/") or relative(path, self._prefix) is not None

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


# --- settings ------------------------------------------------------------------------------

SECRET_ENV = ("GITHUB_TOKEN",)


class Config(GithubAuth, FolderSettings, SourceSection):
    """Post-mortems in a GitHub repository, read through the API (no checkout needed)."""

    kind: Literal["github-repo"]
    repo: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]


def build(name: str, config: Config, context: BuildContext) -> GithubRepoSource:
    options = RepoOptions.of(auth_options(f"sources.{name}", config.repo, config, context), config)
    return GithubRepoSource(name, options)
