"""The `gitlab-repo` source: post-mortems in a folder of a GitLab repository (gitlab.com or
self-managed), read through the API with python-gitlab.

One recursive tree listing per run names every file with its blob id (the version); a blob is
fetched only when its id is new. Document ids are paths below the configured folder, so a
checkout of the same folder read with `markdown-dir` gives the same post-mortem ids and item
keys. Write-back goes to one merge request from `write_back_branch`, updated in place.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import quote

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
)
from connectors.trackers.gitlab import (
    GitlabApi,
    GitlabAuth,
    GitlabOptions,
    auth_options,
)
from syncer import logs
from syncer.errors import (
    DocumentError,
    NotAllowed,
    NotFound,
    PmsyncError,
    SkippableError,
    UncertainError,
)
from syncer.model import Document, DocumentRef

log = logs.get_logger("pmsync.sources")


class GitlabRepoSource:
    remote = True
    whole_reads = True  # a file is read as one committed blob: never caught half written

    def __init__(
        self,
        name: str,
        options: RepoOptions[GitlabOptions],
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.api = GitlabApi(
            name,
            options.auth,
            sleep=sleep,
            observe=lambda verb, ok, headers: report_source_request(name, verb, ok),
        )
        self._repo = f"{self.api.project}/repository"
        self._prefix = options.path.strip("/")
        self._project: Mapping[str, Any] | None = None
        self.branch = options.branch

    @property
    def requests(self) -> int:
        return self.api.requests

    def list(self) -> Sequence[DocumentRef]:
        branch = self.branch or str(self._about().get("default_branch") or "main")
        self.branch = branch
        params: dict[str, Any] = {"ref": branch, "recursive": "true"}
        if self._prefix:
            params["path"] = self._prefix
        refs = []
        try:
            entries = list(self.api.pages(f"{self._repo}/tree", params))
        except NotFound:
            if self._prefix:  # GitLab answers 404 for a folder that does not exist (yet)
                log.info("folder_missing", source=self.name, path=self._prefix, branch=branch)
                return []
            raise
        for entry in entries:
            path = str(entry.get("path", ""))
            if entry.get("type") != "blob" or not entry.get("id"):
                continue
            below = self.options.document_id(path)
            if below is None:
                continue
            refs.append(
                DocumentRef(
                    source=self.name,
                    id=below,
                    uri=f"{self.options.auth.project}:{path}",
                    version=str(entry["id"]),
                    link=f"{self._web_root()}/-/blob/{quote(branch)}/{quote(path)}",
                )
            )
        return sorted(refs, key=lambda ref: ref.id)

    def fetch(self, ref: DocumentRef) -> Document:
        try:
            raw = self.api.raw(f"{self._repo}/blobs/{ref.version}/raw", MAX_FILE_BYTES)
        except (SkippableError, NotAllowed) as exc:
            raise DocumentError(ref.uri, str(exc)) from None
        if len(raw) > MAX_FILE_BYTES:
            raise DocumentError(ref.uri, "more than the 5 MiB limit")
        return document_of(ref, ref.id.rsplit("/", 1)[-1], raw)

    # --- write-back: one merge request, updated in place -----------------------------------------

    def write_back(self, edits: Sequence[DocumentEdit]) -> Results:
        """Every edit in one commit on `write_back_branch`, made on the newest commit of the
        branch pmsync reads, and one open merge request from it. The branch is rewritten only
        when what it should hold changed; the merge request is opened once and updated."""
        base = self.branch or str(self._about().get("default_branch") or "main")
        head = self._branch_head(base)
        if head is None:
            error = SkippableError(f"gitlab {self.name}: no branch {base!r}")
            return [error for _ in edits]
        results, files = gather(edits, self._path, lambda edit: self._current(edit, head))
        if not files:
            return results
        try:
            self._publish(base, files, fingerprint(head, files))
        except PmsyncError as exc:
            return [r if r is not None else exc for r in results]
        return results

    def _path(self, doc_id: str) -> str:
        return f"{self._prefix}/{doc_id}" if self._prefix else doc_id

    def _current(self, edit: DocumentEdit, head: str) -> str:
        """The edited text, made again on the file as the branch holds it now if it changed
        since pmsync read it."""
        path = self._path(edit.document.ref.id)
        data = self.api.get(f"{self._repo}/files/{quote(path, safe='')}", {"ref": head})
        if not isinstance(data, dict):
            raise SkippableError(f"{path}: unexpected answer from GitLab")
        if data.get("blob_id") == edit.document.ref.version:
            return edit.text
        raw = base64.b64decode(str(data.get("content", "")))
        return edit.redo(replace(edit.document, text=decode_text(raw, edit.document.ref.uri)))

    def _publish(self, base: str, files: Files, print_: str) -> None:
        branch = self.options.write_back_branch
        query = {"source_branch": branch, "target_branch": base, "state": "opened"}
        merges = list(self.api.pages(f"{self.api.project}/merge_requests", query))
        merge = merges[0] if merges else None
        about = description(files, "merge request")
        current = self._branch_head(branch)
        if current is not None and merge is not None:
            commit = self.api.get(f"{self._repo}/commits/{current}")
            if already_proposed(str((commit or {}).get("message", "")), print_):
                return  # the merge request already holds exactly these edits
        self.api.request(
            "POST",
            f"{self._repo}/commits",
            body={
                "branch": branch,
                "start_branch": base,
                "force": True,  # the branch is made anew on the base branch's newest commit
                "commit_message": commit_message(files, print_),
                "actions": [
                    {"action": "update", "file_path": path, "content": text}
                    for path, (text, _) in sorted(files.items())
                ],
            },
            write=True,
        )
        if merge is not None:
            path = f"{self.api.project}/merge_requests/{merge['iid']}"
            self.api.request("PUT", path, body={"description": about}, write=True)
            log.info("write_back_merge_request_updated", source=self.name, url=merge.get("web_url"))
            return
        payload = {
            "title": TITLE,
            "source_branch": branch,
            "target_branch": base,
            "description": about,
            "remove_source_branch": True,
        }
        try:
            _, opened = self.api.request(
                "POST", f"{self.api.project}/merge_requests", body=payload, write=True, repeat=False
            )
        except UncertainError:
            if not list(self.api.pages(f"{self.api.project}/merge_requests", query)):
                raise
            return
        log.info("write_back_merge_request_opened", source=self.name, url=opened.get("web_url"))

    def _branch_head(self, branch: str) -> str | None:
        try:
            data = self.api.get(f"{self._repo}/branches/{quote(branch, safe='')}")
        except NotFound:
            return None
        return str(data["commit"]["id"])

    def _about(self) -> Mapping[str, Any]:
        if self._project is None:
            data = self.api.get(self.api.project)
            if not isinstance(data, dict):
                raise SkippableError(f"GET {self.api.project}: unexpected answer")
            self._project = data
        return self._project

    def _web_root(self) -> str:
        about = self._about()
        return str(about.get("web_url") or f"{self.options.auth.url}/{self.options.auth.project}")


# --- settings ------------------------------------------------------------------------------

SECRET_ENV = ("GITLAB_TOKEN",)


class Config(GitlabAuth, FolderSettings, SourceSection):
    """Post-mortems in a GitLab repository, read through the API (no checkout needed)."""

    kind: Literal["gitlab-repo"]
    project: Annotated[str, Field(pattern=r"^(\d+|[\w.-]+(/[\w.-]+)+)$")]  # path or id


def build(name: str, config: Config, context: BuildContext) -> GitlabRepoSource:
    options = RepoOptions.of(
        auth_options(f"sources.{name}", config.project, config, context), config
    )
    return GitlabRepoSource(name, options)
