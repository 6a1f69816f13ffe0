"""Post-mortem files in a local folder or checkout: the reader of the `markdown-dir` source
and of the files and folders named on the command line."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from connectors.base import DocumentEdit
from connectors.sources.content import MAX_FILE_BYTES, decode_text, document_of
from connectors.sources.git_history import Change, git_history, run_git
from syncer import logs
from syncer.errors import DocumentError, PmsyncError, SkippableError
from syncer.model import Document, DocumentRef

log = logs.get_logger("pmsync.sources")

# Every Markdown flavour pmsync reads, for folders named on the command line.
MARKDOWN_GLOBS = ("**/*.md", "**/*.markdown", "**/*.mdx", "**/*.html.md.erb")
# What a configured source reads when its `glob` is not set: Markdown and Word documents.
DEFAULT_GLOBS = ("**/*.md", "**/*.docx")
# Everything pmsync reads, for folders named on the command line: Markdown and HTML exports,
# and GitHub issue forms (read as templates: they hold no items of their own).
DOCUMENT_GLOBS = (
    *MARKDOWN_GLOBS,
    "**/*.html",
    "**/*.htm",
    "**/*.xml",
    "**/*.docx",
    "**/.github/ISSUE_TEMPLATE/*.yml",
    "**/.github/ISSUE_TEMPLATE/*.yaml",
)


Results = list[PmsyncError | None]  # one per edit: None when written
_READS = 3  # tries at a read during which the file did not change


class MarkdownDirSource:
    """Files below `root` matching any of `globs`; ids are their paths relative to `root`."""

    def __init__(
        self,
        name: str,
        root: Path,
        globs: Sequence[str] = ("**/*.md",),
        exclude: Sequence[str] = (),
        link_base_url: str | None = None,
        commit: bool = False,
        follow_symlinks: bool = False,
        history: bool | Mapping[str, Change] = True,
    ) -> None:
        self.name = name
        self.root = root
        self.globs = tuple(globs)
        self.exclude = tuple(exclude)
        self.link_base_url = link_base_url
        self.commit = commit
        self.follow_symlinks = follow_symlinks
        # Ask Git when each file was first and last committed, and by whom (else file times);
        # or the answers, already read for many files at once (paths relative to `root`).
        self.history = history
        self.skipped: list[str] = []  # files below the folder that are not post-mortems
        # Symbolic links below the folder to files outside it, not read: (path, target).
        self.outside: list[tuple[str, str]] = []
        self.unreadable: list[str] = []  # folders below it that cannot be listed, and why

    def list(self) -> Sequence[DocumentRef]:
        if not self.root.exists():
            raise SkippableError(f"{self.root} does not exist (a volume not mounted?)")
        if not self.root.is_dir():
            raise SkippableError(f"{self.root} is not a folder")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise SkippableError(f"cannot read the folder {self.root}")
        # Only a search below the folder can miss a folder it cannot read.
        recursive = any("**" in pattern for pattern in self.globs)
        self.unreadable, linked = _scan_folders(self.root) if recursive else ([], [])
        found: dict[str, DocumentRef] = {}
        # Globs without wildcards are files named on the command line: Git is asked about them
        # alone, not about the whole folder.
        named_files = [g for g in self.globs if not any(c in g for c in "*?[")]
        history = (
            self.history
            if not isinstance(self.history, bool)
            else git_history(self.root, named_files or None)
            if self.history
            else {}
        )
        # A folder named on the command line, or read for all its Markdown: files with no
        # extension are read when they are text. Of a folder named on the command line, every
        # file not read is counted; a configured source reads what its globs choose.
        named = self.globs == DOCUMENT_GLOBS
        paths = [path for pattern in self.globs for path in self.root.glob(pattern)]
        if "**/*.md" in self.globs:
            paths += [
                path
                for path in self.root.rglob("*")
                if extensionless_document(path.relative_to(self.root).as_posix(), self.globs)
                and _reads_as_text(path)
            ]
        top = self.root.resolve()
        self.outside = []
        for link in linked:  # folders a symbolic link below the folder points to
            target = link.resolve()
            if target.is_relative_to(top):
                continue  # read where it really is
            if not self.follow_symlinks:
                relative = link.relative_to(self.root).as_posix() + "/"
                self.outside.append((relative, str(target)))
                continue
            recursive_globs = [pattern for pattern in self.globs if pattern.startswith("**/")]
            paths += [path for pattern in recursive_globs for path in link.glob(pattern)]
        for path in paths:
            relative = path.relative_to(self.root).as_posix()
            if relative in found or not path.is_file() or self._excluded(path):
                continue
            target = path.resolve()
            if not self.follow_symlinks and not target.is_relative_to(top):
                self.outside.append((relative, str(target)))
                continue
            stat = path.stat()
            changed, author, created = history.get(relative, (None, "", None))
            found[relative] = DocumentRef(
                source=self.name,
                id=relative,
                uri=str(path),
                updated_at=changed or datetime.fromtimestamp(stat.st_mtime, UTC),
                version=f"{stat.st_mtime_ns}-{stat.st_size}",
                link=self._link(relative),
                author=author,
                created_at=created,
            )
        if named:
            self.skipped = sorted(
                relative
                for path in self.root.rglob("*")
                if path.is_file()
                and ".git" not in path.relative_to(self.root).parts
                and (relative := path.relative_to(self.root).as_posix()) not in found
                and relative not in {link for link, _ in self.outside}
            )
        return [found[key] for key in sorted(found)]

    def earlier_paths(self, relative: str) -> set[str]:
        """The paths (below the folder) the file `relative` had before, as Git's rename
        detection sees them: renames committed (`git log --follow`) and renames staged
        (`git mv`). Empty outside a Git checkout."""
        where = run_git(self.root, "rev-parse", "--show-prefix")
        if where.returncode != 0:
            return set()
        prefix = where.stdout.strip()
        quiet = ("-c", "core.quotePath=false")
        logged = run_git(
            self.root, *quiet, "log", "--follow", "--name-only", "--format=", "--", relative
        )
        found = set(logged.stdout.splitlines()) if logged.returncode == 0 else set()
        staged = run_git(self.root, *quiet, "diff", "-M", "--name-status", "HEAD", "--", ".")
        for line in staged.stdout.splitlines() if staged.returncode == 0 else []:
            status, *paths = line.split("\t")
            if status.startswith("R") and len(paths) == 2 and paths[1] == prefix + relative:
                found.add(paths[0])
        below = {path.removeprefix(prefix) for path in found if path.startswith(prefix)}
        return below - {relative}

    def _link(self, relative: str) -> str:
        if not self.link_base_url:
            return ""
        return self.link_base_url.rstrip("/") + "/" + quote(relative)

    def _excluded(self, path: Path) -> bool:
        relative = path.relative_to(self.root)
        return any(relative.match(pattern) for pattern in self.exclude)

    def fetch(self, ref: DocumentRef) -> Document:
        """The file as it stood through one whole read: a file whose size or time changed
        while it was read (an editor or `git checkout` writing it) is read again."""
        path = Path(ref.uri)
        try:
            for _ in range(_READS):
                before = path.stat()
                if before.st_size > MAX_FILE_BYTES:
                    size = before.st_size
                    raise DocumentError(ref.uri, f"{size:,} bytes is more than the 5 MiB limit")
                raw = path.read_bytes()
                after = path.stat()
                stamp = (after.st_mtime_ns, after.st_size)
                if (before.st_mtime_ns, before.st_size) == stamp and len(raw) == after.st_size:
                    break
            else:
                reason = "it changed while it was read (being written?); the next run reads it"
                raise DocumentError(ref.uri, reason)
        except OSError as exc:
            raise DocumentError(ref.uri, f"cannot read: {exc.strerror or exc}") from None
        version = hashlib.sha256(raw).hexdigest()[:16]
        return document_of(replace(ref, version=version), path.name, raw, path.stem)

    def write_back(self, edits: Sequence[DocumentEdit]) -> Results:
        """Each edit written to its file in place (atomically, mode kept); a file changed since
        it was read gets the edit made again on what it holds now. With `commit`, the files
        written are committed together in their Git repository."""
        results: Results = []
        written: list[tuple[Path, str]] = []
        for edit in edits:
            path = Path(edit.document.ref.uri)
            try:
                raw = path.read_bytes()
                text = decode_text(raw, edit.document.ref.uri)
                new = edit.text
                if text != edit.document.text:
                    new = edit.redo(replace(edit.document, text=text))
                if new != text:
                    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
                    _replace_file(path, (bom + new).encode("utf-8"))
                    written.append((path, edit.summary))
                results.append(None)
            except OSError as exc:
                reason = f"cannot write: {exc.strerror or exc}"
                results.append(DocumentError(edit.document.ref.uri, reason))
            except PmsyncError as exc:
                results.append(exc)
        if self.commit and written:
            failure = self._commit(written)
            if failure is not None:
                done = {str(path) for path, _ in written}
                results = [
                    failure if r is None and str(Path(e.document.ref.uri)) in done else r
                    for e, r in zip(edits, results, strict=True)
                ]
        return results

    def _commit(self, written: Sequence[tuple[Path, str]]) -> PmsyncError | None:
        """One commit of the files written, and of nothing else staged there."""
        paths = [str(path.resolve()) for path, _ in written]
        lines = [f"- {path.relative_to(self.root).as_posix()}: {what}" for path, what in written]
        message = "pmsync: link post-mortem action items to their issues\n\n" + "\n".join(lines)
        who: list[str] = []
        if run_git(self.root, "config", "user.email").returncode != 0:
            who = ["-c", "user.name=pmsync", "-c", "user.email=pmsync@localhost"]
        for step, command in (
            ("git add", ["add", "--", *paths]),
            ("git commit", [*who, "commit", "-q", "-m", message, "--only", "--", *paths]),
        ):
            done = run_git(self.root, *command)
            if done.returncode != 0:
                said = (done.stderr or done.stdout).strip().splitlines()
                return SkippableError(f"{step}: {said[-1] if said else 'failed'}")
        return None


def _replace_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` in one step (a reader never sees half a file), keeping its mode."""
    temporary = path.with_name(f".{path.name}.pmsync-tmp")
    try:
        temporary.write_bytes(data)
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def extensionless_document(relative: str, globs: Sequence[str]) -> bool:
    """The rule every folder and repository source shares for files with no extension: where
    the globs ask for all Markdown (`**/*.md`), a `POSTMORTEM` or `2024-01-outage` file is a
    post-mortem too, outside dot-folders (Git's and other tools'). A folder on disk also checks
    that it reads as text."""
    parts = relative.split("/")
    return (
        "**/*.md" in globs
        and "." not in parts[-1]
        and not any(part.startswith(".") for part in parts)
    )


def _reads_as_text(path: Path) -> bool:
    """A file whose start reads as UTF-8 text."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
        head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return bool(head.strip()) and b"\x00" not in head


def _scan_folders(root: Path) -> tuple[list[str], list[Path]]:
    """Folders below `root` that cannot be listed (no permission), reported, never passed over
    in silence; and the symbolic links to folders below it, which a search does not enter.
    Git's own folder is not looked into."""
    problems: list[str] = []
    links: list[Path] = []

    def note(error: OSError) -> None:
        problems.append(f"{error.filename}: cannot read the folder ({error.strerror})")

    for top, folders, _ in os.walk(root, onerror=note):
        folders[:] = [name for name in folders if name != ".git"]
        links += [Path(top) / name for name in folders if (Path(top) / name).is_symlink()]
    return problems, links
