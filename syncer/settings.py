"""Typed settings: one TOML file plus `PMSYNC_<SECTION>__<KEY>` environment variables.

Validation errors are reported with their TOML key path (`trackers.gh.repo: field required`).
Relative paths in the file are taken from the folder the file is in.
"""

from __future__ import annotations

import os
import re
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from syncer.errors import ConfigError

CONFIG_ENV = "PMSYNC_CONFIG"
DEFAULT_CONFIG = Path("config.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The folder of the config file being read: relative file settings are taken from there.
_CONFIG_DIR: ContextVar[Path | None] = ContextVar("config_dir", default=None)


def _read_secret_file(path: Path | None) -> SecretStr | None:
    if path is None:
        return None
    return SecretStr(path.read_text(encoding="utf-8").strip())


def _check_readable(path: Path | None) -> Path | None:
    """A file setting, made absolute from the config file's folder; it must be readable."""
    if path is None:
        return None
    folder = _CONFIG_DIR.get()
    if folder is not None and not path.is_absolute():
        path = folder / path
    if not path.is_file():
        raise ValueError(f"no readable file at {path}")
    return path


# --- sources -----------------------------------------------------------------------------------


WriteBack = Literal["off", "links", "links+status"]


class _SourceSection(_Section):
    day_first: bool = False  # read 03/04/2026 as 3 April (else 4 March)
    # After a sync, write each item's issue link into the document ("links"), and mark items
    # done whose issue was closed as completed ("links+status").
    write_back: WriteBack = "off"


class MarkdownDirSource(_SourceSection):
    """Post-mortems as Markdown files in a folder (a checkout of a Git repository, say)."""

    kind: Literal["markdown-dir"]
    path: Path
    glob: str | list[str] = "**/*.md"
    exclude: list[str] = Field(default_factory=list)
    # Where people read these files, for links in issues: the file's path is appended, e.g.
    # "https://github.com/acme/postmortems/blob/main/".
    link_base_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    commit: bool = False  # commit write-back edits in the folder's Git repository
    # Read files that symbolic links below the folder point to outside it (else skipped).
    follow_symlinks: bool = False


class _Remote(_Section):
    """How patiently to talk to a web service: the most a run waits for rate limits in all,
    one request's timeout, and the first pause before a retry (it doubles, at most 30 s)."""

    max_wait_seconds: Annotated[float, Field(ge=0)] = 600.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    retry_backoff_seconds: Annotated[float, Field(ge=0)] = 2.0


class _GithubAuth(_Remote):
    """How to reach GitHub: a token, or a GitHub App installation."""

    base_url: str = "https://api.github.com"
    token: SecretStr | None = None
    token_file: Path | None = None
    app_id: int | None = None
    private_key_file: Path | None = None
    installation_id: int | None = None

    _check_files = field_validator("token_file", "private_key_file")(_check_readable)

    @model_validator(mode="after")
    def _load_secret_files(self) -> _GithubAuth:
        if self.token is None and self.token_file is not None:
            object.__setattr__(self, "token", _read_secret_file(self.token_file))
        return self


class GithubRepoSourceSettings(_GithubAuth, _SourceSection):
    """Post-mortems in a GitHub repository, read through the API (no checkout needed)."""

    kind: Literal["github-repo"]
    repo: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]
    branch: str | None = None  # default: the repository's default branch
    path: str = ""  # the folder of post-mortems in the repository; "" for all of it
    glob: str | list[str] = "**/*.md"
    exclude: list[str] = Field(default_factory=list)
    # Write-back goes to one pull request from this branch, updated in place on every run.
    write_back_branch: Annotated[str, Field(pattern=r"^[\w./-]+$")] = "pmsync/write-back"


class ConfluenceSourceSettings(_Remote, _SourceSection):
    """Confluence pages chosen by space, label, ancestor page and/or CQL, all together."""

    kind: Literal["confluence"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    deployment: Literal["cloud", "datacenter"] | None = None  # default: cloud on *.atlassian.net
    space: str | None = None
    label: str | None = None
    ancestor: str | None = None  # a page id: every page below it
    cql: str | None = None
    email: str | None = None
    api_token: SecretStr | None = None
    api_token_file: Path | None = None
    token: SecretStr | None = None
    token_file: Path | None = None
    page_size: Annotated[int, Field(ge=1, le=250)] = 50

    _check_files = field_validator("api_token_file", "token_file")(_check_readable)

    @model_validator(mode="after")
    def _check(self) -> ConfluenceSourceSettings:
        if not (self.space or self.label or self.ancestor or self.cql):
            raise ValueError("say which pages: set space, label, ancestor or cql")
        if self.api_token is None and self.api_token_file is not None:
            object.__setattr__(self, "api_token", _read_secret_file(self.api_token_file))
        if self.token is None and self.token_file is not None:
            object.__setattr__(self, "token", _read_secret_file(self.token_file))
        return self


class DriveSourceSettings(_Remote, _SourceSection):
    """Google Docs (and Markdown files) in a Drive folder, read with a service account."""

    kind: Literal["google-drive"]
    folder_id: Annotated[str, Field(pattern=r"^[\w-]+$")]
    # A service account's JSON key; without it, the environment's Google credentials.
    credentials_file: Path | None = None
    export: Literal["auto", "markdown", "html"] = "auto"  # auto: Markdown where Drive offers it
    recursive: bool = True

    _check_files = field_validator("credentials_file")(_check_readable)

    @field_validator("write_back")
    @classmethod
    def _read_only(cls, value: str) -> str:
        if value != "off":
            raise ValueError("Google Drive is read only: pmsync cannot edit Google Docs")
        return value


SourceSettings = Annotated[
    MarkdownDirSource | GithubRepoSourceSettings | ConfluenceSourceSettings | DriveSourceSettings,
    Field(discriminator="kind"),
]


# --- trackers ----------------------------------------------------------------------------------


class LocalTrackerSettings(_Section):
    """The embedded tracker: a SQLite file. Needs no account anywhere."""

    kind: Literal["local"]
    path: Path | None = None  # default: <state_dir>/local-tracker.sqlite3
    labels: list[str] = Field(default_factory=list)


class GithubTrackerSettings(_GithubAuth):
    kind: Literal["github"]
    repo: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]
    labels: list[str] = Field(default_factory=list)
    due_date: Literal["body", "milestone", "issue-field"] = "body"
    due_field: str = (
        "Target date"  # the organisation's date issue field, for due_date = "issue-field"
    )
    bot_login: str | None = None  # the account pmsync writes as; looked up when not given
    write_interval_seconds: Annotated[float, Field(ge=0)] = 1.0
    # GitHub allows 80 content-creating requests a minute; 0 turns the cap off (test servers).
    max_writes_per_minute: Annotated[int, Field(ge=0, le=80)] = 79
    # While filing, hold a lease in the repository (the reference refs/pmsync/lease), so that
    # runs on different machines never file at once. It needs contents: write: "auto" files
    # without it when the token lacks that; "required" makes that an error; "off" never asks.
    lease: Literal["auto", "required", "off"] = "auto"
    lease_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30


class JiraTrackerSettings(_Remote):
    kind: Literal["jira"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    deployment: Literal["cloud", "datacenter"] | None = None
    project: str
    issue_type: str = "Task"
    email: str | None = None
    api_token: SecretStr | None = None
    api_token_file: Path | None = None
    token: SecretStr | None = None
    token_file: Path | None = None
    components: list[str] = Field(default_factory=list)
    priority_map: dict[str, str] = Field(default_factory=dict)
    labels: list[str] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    bot_account: str | None = None  # accountId (Cloud) or user name (Data Center) pmsync uses
    bulk_create: bool = True  # file new issues 50 to a request
    write_interval_seconds: Annotated[float, Field(ge=0)] = 0.0
    # No longer used (issues are read back by key, which never lags); accepted so that older
    # configuration files still load.
    search_lag_seconds: Annotated[float, Field(ge=0)] | None = None

    _check_files = field_validator("api_token_file", "token_file")(_check_readable)

    @model_validator(mode="after")
    def _load_secret_files(self) -> JiraTrackerSettings:
        if self.api_token is None and self.api_token_file is not None:
            object.__setattr__(self, "api_token", _read_secret_file(self.api_token_file))
        if self.token is None and self.token_file is not None:
            object.__setattr__(self, "token", _read_secret_file(self.token_file))
        return self


TrackerSettings = Annotated[
    LocalTrackerSettings | GithubTrackerSettings | JiraTrackerSettings,
    Field(discriminator="kind"),
]
TRACKER_KINDS = ("local", "github", "jira")
SOURCE_KINDS = ("markdown-dir", "github-repo", "confluence", "google-drive")


# --- the rest ----------------------------------------------------------------------------------


class RouteRule(_Section):
    """Send post-mortems matching every given field to `tracker`; the first match wins."""

    tracker: str
    team: str | None = None
    severity: str | None = None


class RoutingSettings(_Section):
    default: str = "local"
    rules: list[RouteRule] = Field(default_factory=list)


class PersonSettings(_Section):
    name: str
    aliases: list[str] = Field(default_factory=list)
    email: str | list[str] | None = None
    github: str | None = None
    jira: str | None = None
    manager: str | None = None
    team: str | None = None
    lead: bool = False  # takes the team's unowned items when the team names no triage person


class TeamSettings(_Section):
    """A team of the organisation: `triage` is the person who takes its unowned items."""

    triage: str | None = None


_DURATION_RE = re.compile(
    r"\s*(?P<n>\d{1,4})\s*(?P<unit>d|days?|w|weeks?|mo|months?)\s*", re.IGNORECASE
)


def parse_duration(text: str) -> tuple[int, str]:
    """`4w`, `30d`, `2mo` as (count, "day" | "week" | "month"); ValueError otherwise."""
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration: write a number and d, w or mo (4w, 30d)")
    unit = match["unit"].casefold()
    name = "day" if unit.startswith("d") else "week" if unit.startswith("w") else "month"
    return int(match["n"]), name


def _duration(text: str) -> str:
    parse_duration(text)
    return text.strip()


def _optional_duration(text: str) -> str:
    return _duration(text) if text.strip() else ""


Duration = Annotated[str, AfterValidator(_duration)]


class DuePolicySettings(_Section):
    """The due date of an item whose post-mortem gives none: its priority's, else its
    incident's severity's, else `default`, counted from the incident or the filing day."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    basis: Literal["incident", "filed"] = Field(default="incident", alias="from")
    by_priority: dict[str, Duration] = Field(default_factory=dict)
    by_severity: dict[str, Duration] = Field(default_factory=dict)
    default: Annotated[str, AfterValidator(_optional_duration)] = ""


class OwnerPolicySettings(_Section):
    """Where the owner of an item that names none comes from, tried in order: `team` (the
    team's triage person), `postmortem` (the post-mortem's owner, facilitator or author)."""

    fallback: list[Literal["team", "postmortem"]] = Field(default_factory=list)


class PolicySettings(_Section):
    due: DuePolicySettings = Field(default_factory=DuePolicySettings)
    owner: OwnerPolicySettings = Field(default_factory=OwnerPolicySettings)


class VaguePhrase(_Section):
    phrase: str
    rewrite: str = "say what will exist or be true when the item is done"


class RulesSettings(_Section):
    select: list[str] = Field(default_factory=lambda: ["PM"])
    ignore: list[str] = Field(default_factory=list)
    fail_on: Literal["info", "warning", "error"] = "error"
    teams: list[str] = Field(default_factory=list)  # names that stand for groups, not people
    max_due_days: Annotated[int, Field(ge=1)] = 180
    vague_phrases: list[VaguePhrase] = Field(default_factory=list)


class SyncSettings(_Section):
    close_done: bool = True
    close_removed: bool = True
    labels: list[str] = Field(default_factory=list)
    # Items with error-level findings: "label" files them with a needs-refinement label and
    # the findings in the body; "hold" does not file them until fixed; "ignore" files them as-is.
    findings: Literal["label", "hold", "ignore"] = "label"


class FollowupSettings(_Section):
    stale_after_days: Annotated[int, Field(ge=1)] = 14
    nudge_every_days: Annotated[int, Field(ge=1)] = 7
    escalate_after: Annotated[int, Field(ge=1)] = 2
    review_after_weeks: Annotated[int, Field(ge=1, le=26)] = 4
    grace_days: Annotated[int, Field(ge=0)] = 1  # an item is overdue this long after its date
    due_soon_days: Annotated[int, Field(ge=0)] = 7
    exempt_labels: list[str] = Field(default_factory=lambda: ["pmsync-snooze"])


class DigestListSettings(_Section):
    """A named list of recipients: who gets the items of `teams` (all teams when empty)."""

    teams: list[str] = Field(default_factory=list)
    channels: list[SecretStr] = Field(min_length=1)


class DigestSettings(_Section):
    due_soon_days: Annotated[int, Field(ge=0)] = 7
    period: Literal["week", "day"] = "week"
    # Each manager of the people directory gets their reports' items by e-mail, through this
    # Apprise e-mail URL with the manager's address added as `to=`; unset: no manager digests.
    email_url: SecretStr | None = None
    lists: dict[str, DigestListSettings] = Field(default_factory=dict)


class ScheduleSettings(_Section):
    # Minutes, fractions allowed (0.5 is every 30 seconds).
    sync_every_minutes: Annotated[float, Field(gt=0)] = 15
    check_every_minutes: Annotated[float, Field(gt=0)] = 60
    digest_weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    digest_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "09:00"
    timezone: str = "UTC"
    # `pmsync health` calls the loop dead when its heartbeat is older than this.
    heartbeat_max_age_seconds: Annotated[int, Field(ge=10)] = 300

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name: Europe/Berlin)") from None
        return value


class MetricsSettings(_Section):
    """Prometheus metrics of `pmsync run` at http://<host>:<port>/metrics; no port, no metrics."""

    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    host: str = "0.0.0.0"


def _default_trackers() -> dict[str, TrackerSettings]:
    return {"local": LocalTrackerSettings(kind="local")}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PMSYNC_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    state_dir: Path = Path(".pmsync")
    people_file: Path | None = None
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    trackers: dict[str, TrackerSettings] = Field(default_factory=_default_trackers)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    people: list[PersonSettings] = Field(default_factory=list)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    followup: FollowupSettings = Field(default_factory=FollowupSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _origin: str = PrivateAttr(default="")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init values; environment variables override it.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _check_routes(self) -> Settings:
        known = set(self.trackers)
        problems = []
        if self.routing.default not in known:
            problems.append(f"routing.default: no tracker named {self.routing.default!r}")
        for n, rule in enumerate(self.routing.rules):
            if rule.tracker not in known:
                problems.append(f"routing.rules.{n}.tracker: no tracker named {rule.tracker!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def origin(self) -> str:
        """The config file these settings came from, or "" for built-in defaults."""
        return self._origin

    def path(self, value: Path) -> Path:
        """A path from the settings, taken relative to the config file's folder."""
        return value if value.is_absolute() else self._base_dir / value

    def state_folder(self, *, create: bool = True) -> Path:
        """The state directory, made if missing (`create`); a ConfigError naming `state_dir`
        when it is not a writable folder or cannot be made."""
        folder = self.path(self.state_dir)
        existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
        problem = None
        if not existing.is_dir():
            problem = f"{existing} is not a folder"
        elif not os.access(existing, os.W_OK | os.X_OK):
            problem = f"{existing} is not writable"
        elif create:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                problem = f"cannot make {folder}: {exc.strerror or exc}"
        if problem is not None:
            raise ConfigError([f"state_dir: {problem}"], self.origin or "settings")
        return folder

    def local_store(self, tracker: LocalTrackerSettings) -> Path:
        if tracker.path is not None:
            return self.path(tracker.path)
        return self.path(self.state_dir) / "local-tracker.sqlite3"


def config_path(explicit: str | None) -> Path | None:
    """The config file to use: --config, else $PMSYNC_CONFIG, else ./config.toml if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(path: Path | None, *, required: bool = True) -> Settings:
    """Read and validate settings; every problem is reported at once as a ConfigError."""
    data: dict[str, Any] = {}
    base = Path.cwd()
    if path is None:
        if required:
            raise ConfigError(
                [f"no config file: pass --config FILE, set {CONFIG_ENV}, or create ./config.toml"]
            )
    else:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError([f"cannot read: {exc.strerror or exc}"], str(path)) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(["not UTF-8 text"], str(path)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"not valid TOML: {exc}"], str(path)) from exc
        base = path.resolve().parent
    token = _CONFIG_DIR.set(base)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc), str(path or "settings")) from None
    finally:
        _CONFIG_DIR.reset(token)
    settings._base_dir = base
    settings._origin = str(path or "")
    return settings


_KIND_TAGS = {"trackers": TRACKER_KINDS, "sources": SOURCE_KINDS}
_MESSAGES = {
    "missing": "field required",
    "extra_forbidden": "unknown key",
    "union_tag_not_found": "field required",
}


def format_validation_error(exc: ValidationError) -> list[str]:
    """One `dotted.key.path: message` line per problem, in TOML terms."""
    lines: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in error["loc"]]
        if len(loc) > 2 and loc[0] in _KIND_TAGS and loc[2] in _KIND_TAGS[loc[0]]:
            del loc[2]  # pydantic names the union member; the user wrote no such key
        kind = error["type"]
        if kind in ("union_tag_not_found", "union_tag_invalid"):
            loc.append("kind")
        message = _MESSAGES.get(kind, str(error["msg"]))
        if kind == "value_error":
            message = message.removeprefix("Value error, ")
        elif kind == "union_tag_invalid":
            allowed = ", ".join(_KIND_TAGS.get(loc[0], ()))
            message = f"unknown kind; expected one of: {allowed}"
        if not loc:
            lines.extend(part.strip() for part in message.split(";"))
        else:
            lines.append(f"{'.'.join(loc)}: {message[:1].lower()}{message[1:]}")
    return lines


def github_token(tracker: _GithubAuth) -> str | None:
    """The token for a GitHub tracker or source: its own setting, else $GITHUB_TOKEN."""
    if tracker.token is not None:
        return tracker.token.get_secret_value()
    return os.environ.get("GITHUB_TOKEN") or None


def secret_values(settings: Settings) -> list[str]:
    """Every secret in the settings, so the log redactor can mask them wherever they appear."""
    found = [os.environ["GITHUB_TOKEN"]] if os.environ.get("GITHUB_TOKEN") else []
    for section in (*settings.trackers.values(), *settings.sources.values()):
        for value in vars(section).values():
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
    urls = [settings.digest.email_url]
    urls += [url for entry in settings.digest.lists.values() for url in entry.channels]
    for url in (u.get_secret_value() for u in urls if u is not None):
        # A channel URL, and its password and token parts alone.
        found.append(url)
        found += re.findall(r"//[^/:@]*:([^/@]+)@", url)
        found += re.findall(r"[A-Za-z0-9_-]{16,}", url)
    return found


def masked_dump(settings: Settings) -> dict[str, Any]:
    """The resolved settings as plain data, with every secret shown as ********."""

    def mask(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return "********" if value.get_secret_value() else ""
        if isinstance(value, BaseModel):
            return {k: mask(v) for k, v in vars(value).items() if v is not None}
        if isinstance(value, dict):
            return {k: mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    return {k: mask(v) for k, v in vars(settings).items() if v is not None}
