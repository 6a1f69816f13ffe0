"""Typed settings: one TOML file plus `PMSYNC_<SECTION>__<KEY>` environment variables.

Validation errors are reported with their TOML key path (`trackers.gh.repo: field required`).
Relative paths in the file are taken from the folder the file is in.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Union, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connectors import registry
from connectors.config import (
    CONFIG_DIR,
    BuildContext,
    SourceSection,
    TrackerSection,
    check_readable,
    secrets_from_files,
)
from connectors.config import Section as _Section
from syncer import recurrence
from syncer.configfile import CONFIG_ENV
from syncer.errors import ConfigError

# --- sources and trackers: each kind's section is declared by its module (connectors.registry)


def _default_trackers() -> dict[str, TrackerSection]:
    kind = registry.DEFAULT_TRACKER
    return {kind: registry.config_model("trackers", kind)(kind=kind)}


# --- the rest ----------------------------------------------------------------------------------


class RouteRule(_Section):
    """Send post-mortems matching every given field to `tracker`; the first match wins."""

    tracker: str
    team: str | None = None
    severity: str | None = None


class RoutingSettings(_Section):
    default: str = registry.DEFAULT_TRACKER  # the name of the tracker a config without any gets
    rules: list[RouteRule] = Field(default_factory=list)


def _account_keys_in_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema of a person names the account keys the file may hold (`github`)."""
    for key in registry.account_keys():
        schema["properties"][key] = {"type": "string", "title": f"{key.title()} account"}


class PersonSettings(_Section):
    """One person; besides these keys, their account in each tracker kind that has accounts
    (`github = "alice"`, `jira = "<account id>"`: see `connectors.registry`), gathered into
    `accounts`."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra=_account_keys_in_schema
    )

    name: str
    aliases: list[str] = Field(default_factory=list)
    email: str | list[str] | None = None
    manager: str | None = None
    team: str | None = None
    lead: bool = False  # takes the team's unowned items when the team names no triage person
    accounts: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_accounts(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        keys = set(registry.account_keys()) & set(data)
        if not keys:
            return data
        accounts = {key: data[key] for key in keys}
        rest = {key: value for key, value in data.items() if key not in keys}
        return {**rest, "accounts": {**rest.get("accounts", {}), **accounts}}


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

_GRACE_RE = re.compile(r"\s*(?P<n>\d{1,4})\s*(?P<unit>h|hours?|d|days?|w|weeks?)\s*", re.I)


def grace_of(text: str) -> timedelta:
    """`12h`, `1d`, `2w` as a time span; ValueError otherwise."""
    match = _GRACE_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time span: write a number and h, d or w (12h, 1d)")
    unit = match["unit"].casefold()[0]
    return timedelta(hours=int(match["n"]) * {"h": 1, "d": 24, "w": 168}[unit])


def span_words(text: str) -> str:
    """`1w` as "1 week", `12h` as "12 hours": a span as a sentence says it."""
    match = _GRACE_RE.fullmatch(text)
    if match is None:
        return text
    count = int(match["n"])
    unit = {"h": "hour", "d": "day", "w": "week"}[match["unit"].casefold()[0]]
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _grace(text: str) -> str:
    grace_of(text)
    return text.strip()


class DuePolicySettings(_Section):
    """The due date of an item whose post-mortem gives none: its priority's, else its
    incident's severity's, else `default`, counted from the incident or the filing day."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    basis: Literal["incident", "filed"] = Field(default="incident", alias="from")
    by_priority: dict[str, Duration] = Field(default_factory=dict)
    by_severity: dict[str, Duration] = Field(default_factory=dict)
    default: Annotated[str, AfterValidator(_optional_duration)] = ""
    # A date a policy sets is never sooner than this after the issue is filed: an item of a
    # post-mortem written long ago is not filed already overdue.
    min_window: Annotated[str, AfterValidator(_grace)] = "1w"


class OwnerPolicySettings(_Section):
    """Where the owner of an item that names none comes from, tried in order: `team` (the
    team's triage person), `postmortem` (the post-mortem's owner, facilitator or author);
    then `default_owner`, a person of the people directory, when set."""

    fallback: list[Literal["team", "postmortem"]] = Field(default_factory=list)
    default_owner: str | None = None


# The "standard" preset: what published practice gives, filled in wherever the configuration
# leaves a key out (docs/policies.md cites the sources). Atlassian gives "priority actions"
# an SLO of 4 or 8 weeks; GitLab targets 30 days for priority::1 and severity::1, and 60-90
# days for priority::2, and its older scale ~90 days for P3 and 120 days for P4.
STANDARD_BY_PRIORITY = {
    "P0": "4w",
    "P1": "4w",
    "P2": "8w",
    "P3": "12w",
    "P4": "16w",
    "Critical": "4w",
    "High": "4w",
    "Medium": "8w",
    "Low": "12w",
}
STANDARD_BY_SEVERITY = {"SEV0": "4w", "SEV1": "4w", "SEV2": "8w", "SEV3": "12w", "SEV4": "12w"}
STANDARD_DEFAULT = "8w"
STANDARD_FALLBACK: list[Literal["team", "postmortem"]] = ["team", "postmortem"]


class PolicySettings(_Section):
    """`preset = "standard"` (the default) fills owners and due dates as published practice
    does, wherever a key is left out: a table of durations is merged key by key. `"off"`
    fills only what is configured."""

    preset: Literal["standard", "off"] = "standard"
    due: DuePolicySettings = Field(default_factory=DuePolicySettings)
    owner: OwnerPolicySettings = Field(default_factory=OwnerPolicySettings)

    @model_validator(mode="after")
    def _preset(self) -> PolicySettings:
        if self.preset != "standard":
            return self
        due, owner = self.due, self.owner
        fill: dict[str, Any] = {
            "by_priority": {**STANDARD_BY_PRIORITY, **due.by_priority},
            "by_severity": {**STANDARD_BY_SEVERITY, **due.by_severity},
        }
        if "default" not in due.model_fields_set:
            fill["default"] = STANDARD_DEFAULT
        filled_owner = owner
        if "fallback" not in owner.model_fields_set:
            filled_owner = owner.model_copy(update={"fallback": list(STANDARD_FALLBACK)})
        object.__setattr__(self, "due", due.model_copy(update=fill))
        object.__setattr__(self, "owner", filled_owner)
        return self


class ExtractSettings(_Section):
    """How items read from prose are treated. An item is `explicit` when the document states
    it as an action (an action table's row, a checklist entry, an entry in an action section)
    and `inferred` when it is a commitment read from prose; `file_inferred = false` files only
    the explicit ones, and lint asks the author to settle the others."""

    file_inferred: bool = False


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


class RecurrenceSettings(_Section):
    """Repeated items and recurring incidents across post-mortems (docs/recurrence.md)."""

    enabled: bool = True
    # How alike two items must be (0 to 1) to be the same promise.
    threshold: Annotated[float, Field(gt=0, le=1)] = recurrence.THRESHOLD
    # How far back, from a post-mortem's incident date, earlier post-mortems are looked at.
    window_days: Annotated[int, Field(ge=1)] = recurrence.WINDOW_DAYS

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


class SyncSettings(_Section):
    close_done: bool = True
    close_removed: bool = True
    labels: list[str] = Field(default_factory=list)
    # Items with error-level findings: "label" files them with a needs-refinement label and
    # the findings in the body; "hold" does not file them until fixed; "ignore" files them as-is.
    findings: Literal["label", "hold", "ignore"] = "label"
    # How long a post-mortem may be missing from its source (deleted, or moved where no source
    # reads it) before its open issues are closed as not planned: 12h, 1d, 2w ("0d": at once).
    vanished_grace: Annotated[str, AfterValidator(_grace)] = "1d"

    @property
    def grace(self) -> timedelta:
        return grace_of(self.vanished_grace)


class FollowupSettings(_Section):
    stale_after_days: Annotated[int, Field(ge=1)] = 14
    nudge_every_days: Annotated[int, Field(ge=1)] = 7
    escalate_after: Annotated[int, Field(ge=1)] = 2
    review_after_weeks: Annotated[int, Field(ge=1, le=26)] = 4
    # Days past its due date before `check` labels an item overdue and nudges its owner (the
    # report and the digest count it overdue from the day after its due date).
    grace_days: Annotated[int, Field(ge=0)] = 1
    due_soon_days: Annotated[int, Field(ge=0)] = 7
    exempt_labels: list[str] = Field(default_factory=lambda: ["pmsync-snooze"])


class DigestListSettings(_Section):
    """A named list of recipients: who gets the items of `teams` (all teams when empty)."""

    title: str | None = None  # how the digest greets them; default "the <name> list"
    teams: list[str] = Field(default_factory=list)
    channels: list[SecretStr] = Field(min_length=1)


class DigestSettings(_Section):
    due_soon_days: Annotated[int, Field(ge=0)] = 7
    period: Literal["week", "day"] = "week"
    # Each manager of the people directory gets their reports' items by e-mail, through this
    # Apprise e-mail URL with the manager's address added as `to=`; unset: no manager digests.
    email_url: SecretStr | None = None
    email_url_file: Path | None = None  # the URL in a file (it holds the SMTP password)
    lists: dict[str, DigestListSettings] = Field(default_factory=dict)

    _check_files = field_validator("email_url_file")(check_readable)

    @model_validator(mode="after")
    def _load_secret_file(self) -> DigestSettings:
        secrets_from_files(self, "email_url")
        return self


class ServeSettings(_Section):
    """`pmsync serve` and `pmsync run --serve`: where the webhook receiver listens."""

    host: str = "127.0.0.1"  # 0.0.0.0 in a container, behind its Service or proxy
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    # The address trackers deliver to (https://pmsync.example.com): `webhooks install` and
    # `config check --online` compare the trackers' hooks with it.
    public_url: str | None = None
    max_body_kib: Annotated[int, Field(ge=1, le=25 * 1024)] = 1024  # larger bodies get 413


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
    """Prometheus metrics of `pmsync run` at http://<host>:<port>/metrics; no port, no metrics;
    port 0, a free port the system picks (logged as `metrics_serving`)."""

    port: Annotated[int, Field(ge=0, le=65535)] | None = None
    host: str = "0.0.0.0"


class CoreSettings(BaseSettings):
    """What reading and checking documents needs (`lint`): the rules, the people, the teams
    and the policies. The rest of the file is not read for it."""

    model_config = SettingsConfigDict(
        env_prefix="PMSYNC_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    state_dir: Path = Path(".pmsync")
    people_file: Path | None = None
    people: list[PersonSettings] = Field(default_factory=list)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    extract: ExtractSettings = Field(default_factory=ExtractSettings)
    recurrence: RecurrenceSettings = Field(default_factory=RecurrenceSettings)

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


class Settings(CoreSettings):
    # Each kind's own model validates its sections: see `settings_model`.
    sources: dict[str, SourceSection] = Field(default_factory=dict)
    trackers: dict[str, TrackerSection] = Field(default_factory=_default_trackers)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    followup: FollowupSettings = Field(default_factory=FollowupSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

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

    def build_context(
        self,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None] | None = None,
        handles: Mapping[str, tuple[str, ...]] | None = None,
    ) -> BuildContext:
        """What the connectors' factories are told of these settings."""
        state = self.path(self.state_dir)
        return BuildContext(self.origin, self._base_dir, state, clock, sleep, dict(handles or {}))


@overload
def load_settings(path: Path | None, *, required: bool = ...) -> Settings: ...
@overload
def load_settings(
    path: Path | None, *, required: bool = ..., core: Literal[True]
) -> CoreSettings: ...
def load_settings(
    path: Path | None, *, required: bool = True, core: bool = False
) -> Settings | CoreSettings:
    """Read and validate settings; every problem is reported at once as a ConfigError. With
    `core`, only the sections of `CoreSettings` are read: no connector is loaded."""
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
    token = CONFIG_DIR.set(base)
    try:
        model: type[CoreSettings]
        if core:
            model = CoreSettings
            data = {key: value for key, value in data.items() if key in CoreSettings.model_fields}
        else:
            model = settings_model(_kinds_in(data, "sources"), _kinds_in(data, "trackers"))
        settings = model(**data)
    except ValidationError as exc:
        problems = format_validation_error(exc)
        from_environment = all(problem.startswith(ENV_MARK) for problem in problems)
        where = "" if from_environment else str(path or "settings")  # the variable says where
        raise ConfigError(problems, where) from None
    finally:
        CONFIG_DIR.reset(token)
    settings._base_dir = base
    settings._origin = str(path or "")
    return settings


def _kinds_in(data: dict[str, Any], section: str) -> frozenset[str]:
    """The kinds of `section` the file and the environment use, of those that exist."""
    kinds = set()
    entries = data.get(section)
    for entry in entries.values() if isinstance(entries, dict) else ():
        if isinstance(entry, dict) and isinstance(entry.get("kind"), str):
            kinds.add(entry["kind"])
    prefix = f"PMSYNC_{section.upper()}__"
    kinds |= {
        value
        for key, value in os.environ.items()
        if key.upper().startswith(prefix) and key.upper().endswith("__KIND")
    }
    return frozenset(kinds & set(registry.SECTIONS[section]))


@cache
def settings_model(sources: frozenset[str], trackers: frozenset[str]) -> type[Settings]:
    """`Settings` whose sources and trackers are validated by the models of the given kinds
    (and of the defaults): only the modules of kinds in use are imported."""

    def sections(name: str, kinds: frozenset[str]) -> Any:
        models = tuple(registry.config_model(name, kind) for kind in sorted(kinds))
        return dict[str, Annotated[Union[models], Field(discriminator="kind")]]  # type: ignore[valid-type]  # noqa: UP007

    return create_model(
        "Settings",
        __base__=Settings,
        sources=(
            sections("sources", sources | {registry.DEFAULT_SOURCE}),
            Field(default_factory=dict),
        ),
        trackers=(
            sections("trackers", trackers | {registry.DEFAULT_TRACKER}),
            Field(default_factory=_default_trackers),
        ),
    )


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration file, every kind included: what editors check
    and complete `pmsync.toml` with (`pmsync config schema`, shipped as pmsync.schema.json)."""
    model = settings_model(frozenset(registry.SOURCES), frozenset(registry.TRACKERS))
    text = json.dumps(model.model_json_schema())
    for section, kinds in registry.SECTIONS.items():  # `Config` of each kind: named by kind
        for kind, where in kinds.items():
            text = text.replace(where.module.replace(".", "__") + "__Config", f"{section}.{kind}")
    schema = json.loads(text)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "pmsync configuration",
        "description": "The TOML file pmsync reads (--config, $PMSYNC_CONFIG or ./config.toml).",
    }


_KIND_TAGS = {section: tuple(kinds) for section, kinds in registry.SECTIONS.items()}
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
        elif variable := _override(loc):  # set in the environment, not in the file
            lines.append(
                f"{ENV_MARK}{variable} ({'.'.join(loc)}): {message[:1].lower()}{message[1:]}"
            )
        else:
            lines.append(f"{'.'.join(loc)}: {message[:1].lower()}{message[1:]}")
    return lines


ENV_MARK = "environment variable "


def _override(loc: list[str]) -> str | None:
    """The environment variable that set the setting at `loc`, if one did."""
    wanted = ("PMSYNC_" + "__".join(loc)).upper()
    return next((name for name in os.environ if name.upper() == wanted), None)


def secret_values(settings: Settings) -> list[str]:
    """Every secret in the settings, so the log redactor can mask them wherever they appear."""
    found = []
    kinds = [("trackers", c.kind) for c in settings.trackers.values()]
    kinds += [("sources", c.kind) for c in settings.sources.values()]
    for variable in {v for section, kind in kinds for v in registry.secret_env(section, kind)}:
        if os.environ.get(variable):
            found.append(os.environ[variable])
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
        if isinstance(value, PersonSettings):  # accounts as written: `github = "dana"`
            fields = {k: v for k, v in vars(value).items() if k != "accounts"}
            return {k: mask(v) for k, v in {**fields, **value.accounts}.items() if v is not None}
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
