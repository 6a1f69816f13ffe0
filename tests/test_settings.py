"""Settings: TOML plus environment, every problem named by its key path, secrets masked."""

import json
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from connectors.trackers.local import store
from syncer.cli import main
from syncer.errors import ConfigError
from syncer.settings import config_schema, load_settings, masked_dump, secret_values

ROOT = Path(__file__).resolve().parent.parent


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value.problems


def test_every_problem_is_reported_with_its_key_path(write: Callable[[str, str], Path]) -> None:
    path = write(
        "config.toml",
        """
        [trackers.gh]
        kind = "github"
        reop = "acme/x"

        [followup]
        stale_after_days = "ten"
        """,
    )
    assert _problems(path) == [
        "trackers.gh.repo: field required",
        "trackers.gh.reop: unknown key",
        "followup.stale_after_days: input should be a valid integer, unable to parse string as "
        "an integer",
    ]


def test_unknown_tracker_kinds_and_sections_are_errors(write: Callable[[str, str], Path]) -> None:
    path = write(
        "config.toml",
        """
        typo_section = 1
        [trackers.x]
        kind = "youtrack"
        [trackers.y]
        path = "a.sqlite3"
        """,
    )
    assert _problems(path) == [
        "trackers.x.kind: unknown kind; expected one of: local, github, jira, gitlab, linear",
        "trackers.y.kind: field required",
        "typo_section: unknown key",
    ]


def test_routes_must_name_configured_trackers(write: Callable[[str, str], Path]) -> None:
    path = write(
        "config.toml",
        """
        [trackers.local]
        kind = "local"
        [routing]
        default = "jira"
        [[routing.rules]]
        team = "payments"
        tracker = "gh"
        """,
    )
    assert _problems(path) == [
        "routing.default: no tracker named 'jira'",
        "routing.rules.0.tracker: no tracker named 'gh'",
    ]


def test_invalid_toml_names_the_file_and_line(write: Callable[[str, str], Path]) -> None:
    path = write("config.toml", "[routing]\ndefault = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.source == str(path)
    assert "line 2" in caught.value.problems[0]


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="no config file"):
        load_settings(None)


def test_environment_overrides_the_file(
    write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        "config.toml",
        """
        [trackers.gh]
        kind = "github"
        repo = "acme/x"
        [routing]
        default = "gh"
        [followup]
        stale_after_days = 30
        """,
    )
    monkeypatch.setenv("PMSYNC_FOLLOWUP__STALE_AFTER_DAYS", "10")
    monkeypatch.setenv("PMSYNC_TRACKERS__GH__TOKEN", "ghp_fromtheenvironment0000000000000000")
    settings = load_settings(path)
    assert settings.followup.stale_after_days == 10
    tracker = settings.trackers["gh"]
    assert tracker.kind == "github"
    assert tracker.repo == "acme/x"
    assert secret_values(settings) == ["ghp_fromtheenvironment0000000000000000"]
    monkeypatch.setenv("PMSYNC_FOLLOWUP__STALE_AFTER_DAYS", "ten")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.source == ""  # not the file: the variable is named instead
    assert caught.value.problems == [
        "environment variable PMSYNC_FOLLOWUP__STALE_AFTER_DAYS (followup.stale_after_days): "
        "input should be a valid integer, unable to parse string as an integer"
    ]


def test_secrets_are_read_from_files_and_masked_when_shown(
    write: Callable[[str, str], Path],
) -> None:
    secret = write("secrets/jira", "s3cr3t-api-token\n")
    path = write(
        "config.toml",
        f"""
        [trackers.j]
        kind = "jira"
        url = "https://acme.atlassian.net"
        project = "OPS"
        email = "bot@acme.test"
        api_token_file = "{secret}"
        [routing]
        default = "j"
        """,
    )
    settings = load_settings(path)
    assert secret_values(settings) == ["s3cr3t-api-token"]
    shown = repr(masked_dump(settings))
    assert "s3cr3t" not in shown
    assert "'api_token': '********'" in shown


def test_a_missing_secret_file_names_its_key(write: Callable[[str, str], Path]) -> None:
    path = write(
        "config.toml",
        """
        [trackers.gh]
        kind = "github"
        repo = "acme/x"
        token_file = "/nonexistent/token"
        [routing]
        default = "gh"
        """,
    )
    assert _problems(path) == ["trackers.gh.token_file: no readable file at /nonexistent/token"]


def test_relative_paths_are_taken_from_the_config_folder(project: Path) -> None:
    settings = load_settings(project)
    local = settings.trackers["local"]
    assert local.kind == "local"
    context = settings.build_context(lambda: datetime(2026, 1, 1, tzinfo=UTC))
    assert store(local, context) == project.parent / ".pmsync" / "local-tracker.sqlite3"
    assert settings.path(Path("docs")) == project.parent / "docs"


SHIPPED = ["config.example.toml", "deploy/config.toml"]
PEOPLE_FILES = ["examples/people.toml", "deploy/people.toml"]


def _keys(schema: dict[str, object]) -> dict[str, list[str]]:
    """Every object of a schema with the keys it allows: what must not drift (the rest of the
    text may change with the pydantic version that writes it)."""
    found: dict[str, list[str]] = {}
    defs = schema.get("$defs", {})
    assert isinstance(defs, dict)
    for name, part in [("", schema), *defs.items()]:
        assert isinstance(part, dict)
        found[name] = sorted(part.get("properties", {}))
    return found


def test_the_shipped_schema_is_the_one_the_settings_make() -> None:
    shipped = json.loads((ROOT / "pmsync.schema.json").read_text(encoding="utf-8"))
    # Out of date: pmsync config schema > pmsync.schema.json
    assert _keys(shipped) == _keys(config_schema())


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_configuration_validates_against_the_schema(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    schema_line = text.splitlines()[0]
    assert schema_line.startswith("#:schema ")  # what TOML editors read
    assert (ROOT / name).parent.joinpath(
        schema_line.split()[1]
    ).resolve() == ROOT / "pmsync.schema.json"
    shipped = json.loads((ROOT / "pmsync.schema.json").read_text(encoding="utf-8"))
    for schema in (shipped, config_schema()):
        jsonschema.Draft202012Validator(schema).validate(tomllib.loads(text))


@pytest.mark.parametrize("name", PEOPLE_FILES)
def test_every_shipped_people_file_validates_against_the_schema(name: str) -> None:
    schema = config_schema()
    people = {
        "$defs": schema["$defs"],
        "type": "object",
        "properties": {"people": schema["properties"]["people"]},
        "additionalProperties": False,
    }
    jsonschema.Draft202012Validator(people).validate(
        tomllib.loads((ROOT / name).read_text(encoding="utf-8"))
    )


@pytest.mark.parametrize(
    "toml",
    [
        'state_dri = ".pmsync"\n',
        "[followup]\nstale_after_dayz = 3\n",
        '[trackers.gh]\nkind = "github"\nrepo = "a/b"\ntokn = "x"\n',
        '[trackers.gh]\nkind = "gitlub"\n',
        '[[people]]\nname = "Dana"\ngithb = "dana"\n',
    ],
)
def test_the_schema_rejects_a_mistyped_key(toml: str) -> None:
    shipped = json.loads((ROOT / "pmsync.schema.json").read_text(encoding="utf-8"))
    for schema in (shipped, config_schema()):
        assert not jsonschema.Draft202012Validator(schema).is_valid(tomllib.loads(toml))


def test_config_schema_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == config_schema()
