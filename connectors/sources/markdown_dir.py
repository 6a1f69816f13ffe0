"""The `markdown-dir` source: Markdown post-mortems in a local folder or checkout."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import structlog

from syncer.errors import DocumentError, SkippableError
from syncer.model import Document, DocumentRef

log = structlog.get_logger("pmsync.sources")

MAX_FILE_BYTES = 5 * 1024 * 1024
# Every Markdown flavour pmsync reads, for folders named on the command line.
MARKDOWN_GLOBS = ("**/*.md", "**/*.markdown", "**/*.mdx", "**/*.html.md.erb")
# Everything pmsync reads, for folders named on the command line: Markdown and HTML exports.
DOCUMENT_GLOBS = (*MARKDOWN_GLOBS, "**/*.html", "**/*.htm", "**/*.xml")


class MarkdownDirSource:
    """Files below `root` matching any of `globs`; ids are their paths relative to `root`."""

    def __init__(
        self,
        name: str,
        root: Path,
        globs: Sequence[str] = ("**/*.md",),
        exclude: Sequence[str] = (),
        link_base_url: str | None = None,
    ) -> None:
        self.name = name
        self.root = root
        self.globs = tuple(globs)
        self.exclude = tuple(exclude)
        self.link_base_url = link_base_url

    def list(self) -> Sequence[DocumentRef]:
        if not self.root.is_dir():
            raise SkippableError(f"source {self.name}: {self.root} is not a readable folder")
        found: dict[str, DocumentRef] = {}
        history = git_history(self.root)
        for pattern in self.globs:
            for path in self.root.glob(pattern):
                relative = path.relative_to(self.root).as_posix()
                if relative in found or not path.is_file() or self._excluded(path):
                    continue
                stat = path.stat()
                changed, author = history.get(relative, (None, ""))
                found[relative] = DocumentRef(
                    source=self.name,
                    id=relative,
                    uri=str(path),
                    updated_at=changed or datetime.fromtimestamp(stat.st_mtime, UTC),
                    version=f"{stat.st_mtime_ns}-{stat.st_size}",
                    link=self._link(relative),
                    author=author,
                )
        return [found[key] for key in sorted(found)]

    def _link(self, relative: str) -> str:
        if not self.link_base_url:
            return ""
        return self.link_base_url.rstrip("/") + "/" + quote(relative)

    def _excluded(self, path: Path) -> bool:
        relative = path.relative_to(self.root)
        return any(relative.match(pattern) for pattern in self.exclude)

    def fetch(self, ref: DocumentRef) -> Document:
        path = Path(ref.uri)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise DocumentError(ref.uri, f"{size:,} bytes is more than the 5 MiB limit")
            raw = path.read_bytes()
        except OSError as exc:
            raise DocumentError(ref.uri, f"cannot read: {exc.strerror or exc}") from None
        text = decode_text(raw, ref.uri)
        version = hashlib.sha256(raw).hexdigest()[:16]
        return Document(
            ref=replace(ref, version=version),
            title=path.stem,
            text=text,
            format=format_of(path.name),
        )


def decode_text(raw: bytes, uri: str) -> str:
    """A document's bytes as text (UTF-8, a leading byte-order mark dropped), or a
    DocumentError naming the line where it stops being UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DocumentError(uri, "not UTF-8 text", line=line) from None


def format_of(name: str) -> Literal["markdown", "html"]:
    """HTML for .html/.htm/.xhtml/.xml (Confluence storage); Markdown for the rest,
    `.html.md.erb` included."""
    return "html" if name.casefold().endswith((".html", ".htm", ".xhtml", ".xml")) else "markdown"


def git_history(root: Path) -> dict[str, tuple[datetime, str]]:
    """When each file below `root` was last committed, and by whom, if `root` is in a Git
    checkout; empty when it is not, or Git is missing or slow (a checkout's file times are
    when it was checked out, not when the post-mortem changed)."""
    command = [
        "git",
        "-c",
        "core.quotePath=false",
        "log",
        "--format=%x01%aI%x09%an",
        "--name-only",
        "--no-renames",
        "--relative",
        "--",
        ".",
    ]
    try:
        done = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("git_history_unavailable", root=str(root), error=str(exc))
        return {}
    if done.returncode != 0:
        return {}
    history: dict[str, tuple[datetime, str]] = {}
    current: tuple[datetime, str] | None = None
    for line in done.stdout.splitlines():
        if line.startswith("\x01"):
            when, _, author = line[1:].partition("\t")
            try:
                current = (datetime.fromisoformat(when), author)
            except ValueError:
                current = None
        elif line and current is not None:
            history.setdefault(line, current)  # newest first: the first commit seen is the last
    return history
