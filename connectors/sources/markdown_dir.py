"""The `markdown-dir` source kind: post-mortems as files in a folder (a checkout, say)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from connectors.config import BuildContext, SourceSection
from connectors.sources.folder import DEFAULT_GLOBS, MarkdownDirSource


class Config(SourceSection):
    """Post-mortems as Markdown files in a folder (a checkout of a Git repository, say)."""

    kind: Literal["markdown-dir"]
    path: Path
    glob: str | list[str] = Field(default_factory=lambda: list(DEFAULT_GLOBS))
    exclude: list[str] = Field(default_factory=list)
    # Where people read these files, for links in issues: the file's path is appended, e.g.
    # "https://github.com/acme/postmortems/blob/main/".
    link_base_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    commit: bool = False  # commit write-back edits in the folder's Git repository
    # Read files that symbolic links below the folder point to outside it (else skipped).
    follow_symlinks: bool = False


def build(name: str, config: Config, context: BuildContext) -> MarkdownDirSource:
    return MarkdownDirSource(
        name,
        context.path(config.path),
        [config.glob] if isinstance(config.glob, str) else config.glob,
        config.exclude,
        config.link_base_url,
        config.commit,
        config.follow_symlinks,
    )
