"""Every connector kind, by the name a configuration gives in `kind = "..."`.

Each kind is one module declaring `Config` (its settings section) and `build(name, config,
context)`, its factory. A module is imported only when a configuration uses its kind, so a
command that reaches no tracker loads no tracker client. A new kind is one module and one line
here; the contract suites in the tests run every kind listed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.base import DocumentSource, Tracker
    from connectors.config import BuildContext, SourceSection, TrackerSection


@dataclass(frozen=True, slots=True)
class Kind:
    module: str
    # For a tracker: the key of a person's account in the people directory (`github = "…"`).
    account: str | None = None

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


SOURCES: dict[str, Kind] = {
    "markdown-dir": Kind("connectors.sources.markdown_dir"),
    "github-repo": Kind("connectors.sources.github_repo"),
    "confluence": Kind("connectors.sources.confluence"),
    "google-drive": Kind("connectors.sources.google_drive"),
    "gitlab-repo": Kind("connectors.sources.gitlab_repo"),
    "notion": Kind("connectors.sources.notion"),
}
TRACKERS: dict[str, Kind] = {
    "local": Kind("connectors.trackers.local"),
    "github": Kind("connectors.trackers.github", account="github"),
    "jira": Kind("connectors.trackers.jira", account="jira"),
    "gitlab": Kind("connectors.trackers.gitlab", account="gitlab"),
    "linear": Kind("connectors.trackers.linear", account="linear"),
}
SECTIONS = {"sources": SOURCES, "trackers": TRACKERS}
# The tracker a configuration without trackers gets: the embedded one, needing no account.
DEFAULT_TRACKER = "local"
DEFAULT_SOURCE = "markdown-dir"


def config_model(section: str, kind: str) -> Any:
    """The settings model (`Config`) of a kind of `section` ("sources" or "trackers")."""
    return SECTIONS[section][kind].load().Config


def build_tracker(name: str, config: TrackerSection, context: BuildContext) -> Tracker:
    """The tracker `[trackers.<name>]` describes, made by its kind's `build`."""
    from connectors.base import Tracker

    made = TRACKERS[config.kind].load().build(name, config, context)
    if not isinstance(made, Tracker):
        raise TypeError(f"{config.kind}: build() made {type(made).__name__}, not a tracker")
    return made


def build_source(name: str, config: SourceSection, context: BuildContext) -> DocumentSource:
    """The source `[sources.<name>]` describes, made by its kind's `build`."""
    from connectors.base import DocumentSource

    made = SOURCES[config.kind].load().build(name, config, context)
    if not isinstance(made, DocumentSource):
        raise TypeError(f"{config.kind}: build() made {type(made).__name__}, not a source")
    return made


def account_key(tracker_kind: str) -> str | None:
    kind = TRACKERS.get(tracker_kind)
    return kind.account if kind else None


def account_keys() -> tuple[str, ...]:
    return tuple(k.account for k in TRACKERS.values() if k.account)


def secret_env(section: str, kind: str) -> tuple[str, ...]:
    """Environment variables a kind reads secrets from (masked in logs)."""
    return tuple(getattr(SECTIONS[section][kind].load(), "SECRET_ENV", ()))
