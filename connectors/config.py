"""What the settings of every connector kind share, and what a kind's factory is given.

A kind's module declares `Config` (its settings section, a subclass of `SourceSection` or
`TrackerSection`) and `build(name, config, context)`; `connectors.registry` finds it by kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, ClassVar, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from syncer.errors import ConfigError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The folder of the config file being read: relative file settings are taken from there.
CONFIG_DIR: ContextVar[Path | None] = ContextVar("config_dir", default=None)


def secrets_from_files(section: BaseModel, *names: str) -> None:
    """Each secret setting `name` left unset takes the content of the file `name_file` names:
    a token or a URL with a password, mounted as a Docker or Kubernetes secret."""
    for name in names:
        path = getattr(section, f"{name}_file")
        if getattr(section, name) is None and path is not None:
            secret = SecretStr(path.read_text(encoding="utf-8").strip())
            object.__setattr__(section, name, secret)  # the model is frozen once validated


def from_config_dir(path: Path | None) -> Path | None:
    """A file setting, made absolute from the config file's folder; it need not exist yet (a
    file pmsync writes, as `webhooks install` writes a webhook's secret)."""
    folder = CONFIG_DIR.get()
    if path is not None and folder is not None and not path.is_absolute():
        return folder / path
    return path


def check_readable(path: Path | None) -> Path | None:
    """A file setting, made absolute from the config file's folder; it must be readable."""
    if path is None:
        return None
    folder = CONFIG_DIR.get()
    if folder is not None and not path.is_absolute():
        path = folder / path
    if not path.is_file():
        raise ValueError(f"no readable file at {path}")
    return path


WriteBack = Literal["off", "links", "links+status"]


class SourceSection(Section):
    """A `[sources.<name>]` section; each kind adds its own keys."""

    # Whether write-back may edit this kind's HTML documents (their own format, as Confluence's
    # storage format; not an export).
    edits_html: ClassVar[bool] = False

    kind: str
    day_first: bool = False  # read 03/04/2026 as 3 April (else 4 March)
    # After a sync, write each item's issue link into the document ("links"), and mark items
    # done whose issue was closed as completed ("links+status").
    write_back: WriteBack = "off"


class TrackerSection(Section):
    """A `[trackers.<name>]` section; each kind adds its own keys."""

    kind: str
    labels: list[str] = Field(default_factory=list)
    # The secret the tracker signs its webhooks with (`pmsync serve`), in a file of its own;
    # `pmsync webhooks install` writes a fresh one there.
    webhook_secret_file: Path | None = None

    _resolve_webhook_secret = field_validator("webhook_secret_file")(from_config_dir)


class LeaseSection(Section):
    """A tracker that can hold a lease while filing, so that runs on different machines never
    file at once: "auto" files without one when the credentials cannot take it, "required"
    makes that an error, "off" never asks. A holder that died frees it after `lease_minutes`,
    counted on the tracker's clock."""

    lease: Literal["auto", "required", "off"] = "auto"
    lease_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30


class Patience(TypedDict):
    """A connector's options for waiting, as `Remote` sets them."""

    max_wait: float
    timeout: float
    backoff: float


class Remote(Section):
    """How patiently to talk to a web service: the most a run waits for rate limits in all,
    one request's timeout, and the first pause before a retry (it doubles, at most 30 s)."""

    max_wait_seconds: Annotated[float, Field(ge=0)] = 600.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    retry_backoff_seconds: Annotated[float, Field(ge=0)] = 2.0

    def patience(self) -> Patience:
        return Patience(
            max_wait=self.max_wait_seconds,
            timeout=self.timeout_seconds,
            backoff=self.retry_backoff_seconds,
        )


class AtlassianAuth(Remote):
    """How to sign in to Jira or Confluence: Cloud takes an account's e-mail and an API token,
    Data Center a personal access token; each secret may come from a file."""

    email: str | None = None
    api_token: SecretStr | None = None
    api_token_file: Path | None = None
    token: SecretStr | None = None
    token_file: Path | None = None

    _check_files = field_validator("api_token_file", "token_file")(check_readable)

    @model_validator(mode="after")
    def _load_secret_files(self) -> AtlassianAuth:
        secrets_from_files(self, "api_token", "token")
        return self


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What a kind's factory may know of the whole configuration."""

    origin: str  # the config file, for errors
    base_dir: Path  # relative paths are taken from here
    state_dir: Path
    clock: Callable[[], datetime]
    # How a connector waits (rate limits, backoff); None: the one a stop request cuts short.
    # Tests pass their own, which records the waits instead of sleeping.
    sleep: Callable[[float], None] | None = None
    # The people directory's accounts, by account key ("linear" -> the handles written there):
    # a tracker whose users have two names (an e-mail and an id) reports them as written.
    handles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def path(self, value: Path) -> Path:
        return value if value.is_absolute() else self.base_dir / value

    def error(self, problem: str) -> ConfigError:
        return ConfigError([problem], self.origin)
