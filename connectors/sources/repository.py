"""What the repository sources (`github-repo`, `gitlab-repo`) share: path globs as they match
them (`**/` is any number of folders, `*` and `?` stay within one), and the parts of their
write-back, which proposes every edit in one commit on one branch for one request to merge."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Generic, TypeVar

from pydantic import Field

from connectors.base import DocumentEdit
from connectors.config import Section
from connectors.sources.folder import DEFAULT_GLOBS, Results, extensionless_document
from syncer.errors import PmsyncError

TITLE = "pmsync: link post-mortem action items to their issues"
FINGERPRINT_RE = re.compile(r"^pmsync-write-back: (\w+)$", re.MULTILINE)
Files = dict[str, tuple[str, str]]  # path -> (new text, what changed)
Auth = TypeVar("Auth")  # how a source reaches its service: GithubOptions, GitlabOptions


class FolderSettings(Section):
    """Which files of a repository are post-mortems, and where write-back proposes edits."""

    branch: str | None = None  # default: the repository's default branch
    path: str = ""  # the folder of post-mortems in the repository; "" for all of it
    glob: str | list[str] = Field(default_factory=lambda: list(DEFAULT_GLOBS))
    exclude: list[str] = Field(default_factory=list)
    # Write-back goes to one pull or merge request from this branch, updated in place.
    write_back_branch: Annotated[str, Field(pattern=r"^[\w./-]+$")] = "pmsync/write-back"

    @property
    def globs(self) -> tuple[str, ...]:
        return (self.glob,) if isinstance(self.glob, str) else tuple(self.glob)


@dataclass(frozen=True, slots=True)
class RepoOptions(Generic[Auth]):
    auth: Auth  # repository, address and credentials
    branch: str | None = None  # None: the repository's default branch
    path: str = ""  # the folder holding the post-mortems; "" for the whole repository
    globs: tuple[str, ...] = DEFAULT_GLOBS
    exclude: tuple[str, ...] = ()
    write_back_branch: str = "pmsync/write-back"  # the one request write-back keeps

    def document_id(self, path: str) -> str | None:
        """The id of the file at `path` (its path below the folder) when it is one of the
        documents this source reads, else None."""
        below = relative(path, self.path.strip("/"))
        if below is None or not chosen(below, self.globs):
            return None
        return None if self.exclude and matches(below, self.exclude) else below

    @classmethod
    def of(cls, auth: Auth, config: FolderSettings) -> RepoOptions[Auth]:
        return cls(
            auth=auth,
            branch=config.branch,
            path=config.path,
            globs=config.globs,
            exclude=tuple(config.exclude),
            write_back_branch=config.write_back_branch,
        )


def relative(path: str, folder: str) -> str | None:
    """A path below `folder` ("" for the whole repository), else None."""
    if not folder:
        return path
    if path == folder:
        return ""
    return path.removeprefix(folder + "/") if path.startswith(folder + "/") else None


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


def chosen(path: str, globs: Sequence[str]) -> bool:
    """A path the globs match, or a file with no extension that a folder source would read."""
    return matches(path, globs) or extensionless_document(path, globs)


def gather(
    edits: Sequence[DocumentEdit],
    path_of: Callable[[str], str],
    current: Callable[[DocumentEdit], str],
) -> tuple[Results, Files]:
    """Each edit as the file should read (`current` makes it again on a file changed since it
    was read), by path, and each edit's outcome so far."""
    results: Results = []
    files: Files = {}
    for edit in edits:
        try:
            files[path_of(edit.document.ref.id)] = (current(edit), edit.summary)
            results.append(None)
        except PmsyncError as exc:
            results.append(exc)
    return results, files


def fingerprint(head: str, files: Files) -> str:
    """What a proposal holds: the same base commit and the same texts give the same value."""
    shown = json.dumps([head, sorted((path, text) for path, (text, _) in files.items())])
    return hashlib.sha256(shown.encode()).hexdigest()[:20]


def description(files: Files, request: str) -> str:
    """The text of the pull or merge request (`request` names which)."""
    lines = [f"- `{path}`: {what}" for path, (_, what) in sorted(files.items())]
    return (
        "pmsync links the action items of these post-mortems to the issues that track them:\n\n"
        + "\n".join(lines)
        + f"\n\nThis {request} is kept up to date by pmsync on every run (its branch is "
        "rewritten); merge it whenever you like."
    )


def commit_message(files: Files, print_: str) -> str:
    return (
        f"{TITLE}\n\n"
        + "\n".join(f"- {path}: {what}" for path, (_, what) in sorted(files.items()))
        + f"\n\npmsync-write-back: {print_}\n"
    )


def already_proposed(message: str, print_: str) -> bool:
    """Whether a commit message carries this fingerprint: the proposal is up to date."""
    match = FINGERPRINT_RE.search(message)
    return bool(match and match[1] == print_)
