"""Who last committed each post-mortem in a Git checkout, and when it was first committed: what
owner and due-date policies fall back on (a checkout's file times are when it was checked
out, not when the post-mortem changed).

Walking a long history is the cost, so it is done once per repository and kept: in memory for
the process, and in the repository's own Git folder (`pmsync-history.json`, never committed)
for the next process, with the commit it was read at. When the checkout has moved on, only
the commits since are read; when it moved elsewhere (a rebase, another branch), all of it
again. A checkout whose Git folder cannot be written is simply read each time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syncer import logs, statefile

if TYPE_CHECKING:
    import subprocess

log = logs.get_logger("pmsync.sources.git")

Change = tuple[datetime, str, datetime]  # last commit's time and author, first commit's time
CACHE_FILE = "pmsync-history.json"
CACHE_LIMIT = 50_000  # files in a cache worth writing down


@dataclass(slots=True)
class _Known:
    """One repository's history as of commit `head`, complete for the files at or below each
    of `covered` (paths relative to the top; "" is all of it)."""

    head: str
    covered: set[str] = field(default_factory=set)
    files: dict[str, Change] = field(default_factory=dict)

    def covers(self, paths: Iterable[str]) -> bool:
        return all(
            any(c == "" or p == c or p.startswith(c + "/") for c in self.covered) for p in paths
        )


_KNOWN: dict[str, _Known] = {}  # repository top -> what this process knows of it


def git_history(root: Path, files: Sequence[str] | None = None) -> dict[str, Change]:
    """When each file below `root` (or each of `files`, paths relative to it) was last
    committed and by whom, and when it was first committed, if `root` is in a Git checkout;
    empty when it is not, or Git is missing."""
    found = _repository(root)
    if found is None:
        return {}
    top, git_dir, head, prefix = found
    base = "" if prefix == "." else prefix + "/"
    paths = sorted(base + name for name in files) if files else [base.rstrip("/")]
    history = _history(top, git_dir, head, paths)
    return {
        path.removeprefix(base): change for path, change in history.items() if path.startswith(base)
    }


def prefetch(files: Sequence[Path]) -> dict[Path, Change]:
    """The history of many files at once, by the path given: one walk per repository (files
    named one by one on the command line would otherwise cost one walk each)."""
    by_repository: dict[tuple[str, str, str], list[tuple[Path, str]]] = {}
    for folder, paths in _by_folder(files).items():
        found = _repository(folder)
        if found is not None:
            top, git_dir, head, prefix = found
            base = "" if prefix == "." else prefix + "/"
            by_repository.setdefault((top, git_dir, head), []).extend(
                (path, base + path.name) for path in paths
            )
    known: dict[Path, Change] = {}
    for (top, git_dir, head), named in by_repository.items():
        history = _history(top, git_dir, head, sorted(relative for _, relative in named))
        known.update({path: history[relative] for path, relative in named if relative in history})
    return known


def forget() -> None:
    """Drop what this process knows (tests; a long process whose checkouts were rewritten)."""
    _KNOWN.clear()


def _by_folder(files: Sequence[Path]) -> dict[Path, list[Path]]:
    folders: dict[Path, list[Path]] = {}
    for path in files:
        folders.setdefault(path.parent, []).append(path)
    return folders


def _repository(root: Path) -> tuple[str, str, str, str] | None:
    """The checkout `root` is in: its top, its Git folder, the commit checked out, and where
    `root` is below the top; None outside a checkout (or without Git)."""
    where = run_git(root, "rev-parse", "--show-toplevel", "--git-common-dir", "HEAD")
    lines = where.stdout.splitlines()
    if where.returncode != 0 or len(lines) != 3:
        return None
    top, git_dir, head = lines
    try:
        prefix = root.resolve().relative_to(Path(top).resolve()).as_posix()
    except ValueError:
        return None
    return top, str((root / git_dir).resolve()), head, prefix


def _history(top: str, git_dir: str, head: str, paths: list[str]) -> dict[str, Change]:
    """The history of the files at or below `paths` as of `head`, from what is known and
    the commits not read yet."""
    known = _KNOWN.get(top) or _load(git_dir)
    if known is not None and known.head != head:
        # The checkout moved on: read only the commits since, for all that is known.
        moved = run_git(Path(top), "merge-base", "--is-ancestor", known.head, head)
        newer = (
            _walk(top, f"{known.head}..{head}", sorted(known.covered))
            if moved.returncode == 0
            else None
        )
        if newer is None:
            known = None  # history rewritten, or another branch: start again
        else:
            for path, (last, author, first) in newer.items():
                earlier = known.files.get(path)
                known.files[path] = (last, author, earlier[2] if earlier else first)
            known.head = head
            _save(git_dir, known)
    if known is None:
        known = _Known(head)
    missing = [p for p in paths if not known.covers([p])]
    if missing:
        walked = _walk(top, head, missing)
        if walked is None:
            return {}
        known.files.update(walked)
        known.covered.update(missing)
        _save(git_dir, known)
    _KNOWN[top] = known
    return {
        path: change
        for path, change in known.files.items()
        if any(p == "" or path == p or path.startswith(p + "/") for p in paths)
    }


def _walk(top: str, commits: str, paths: Sequence[str]) -> dict[str, Change] | None:
    """One walk of `commits` (a commit, or a range) for the files at or below `paths`: each
    file's newest commit time and author, and its oldest commit time in that walk."""
    done = run_git(
        Path(top),
        *("-c", "core.quotePath=false", "log", "--format=%x01%aI%x09%an", "--name-only"),
        *("--no-renames", commits, "--", *(f":(literal){path or '.'}" for path in paths)),
    )
    if done.returncode != 0:
        log.debug("git_history_unavailable", root=top, error=done.stderr.strip())
        return None
    history: dict[str, Change] = {}
    current: tuple[datetime, str] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("\x01"):
            when, _, author = line[1:].partition("\t")
            try:
                current = (datetime.fromisoformat(when), author)
            except ValueError:
                current = None
        elif line and current is not None:
            # Newest first: the first commit seen is the last, the last seen the first.
            last = history.get(line)
            history[line] = (last[0], last[1], current[0]) if last else (*current, current[0])
    return history


def _load(git_dir: str) -> _Known | None:
    data = statefile.load(Path(git_dir) / CACHE_FILE, "git_history_cache_unreadable")
    if not isinstance(data, dict) or not isinstance(data.get("head"), str):
        return None
    try:
        files = {
            str(path): (datetime.fromisoformat(last), str(author), datetime.fromisoformat(first))
            for path, (last, author, first) in data.get("files", {}).items()
        }
        return _Known(data["head"], {str(c) for c in data.get("covered", [])}, files)
    except (TypeError, ValueError, AttributeError):
        return None


def _save(git_dir: str, known: _Known) -> None:
    if len(known.files) > CACHE_LIMIT:
        return
    data = {
        "head": known.head,
        "covered": sorted(known.covered),
        "files": {
            path: [last.isoformat(), author, first.isoformat()]
            for path, (last, author, first) in known.files.items()
        },
    }
    statefile.save(Path(git_dir) / CACHE_FILE, data, "git_history_cache_unsaved", optional=True)


def run_git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `folder`, its output as text; a missing Git or a hang is a failure."""
    import subprocess  # not loaded by commands that never ask Git

    try:
        return subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(["git", *args], 1, "", str(exc))
