"""The people directory resolves owners as written in documents, and never guesses."""

from pathlib import Path

import pytest

from syncer.cli import main
from syncer.errors import ConfigError
from syncer.people import Directory, handle_for, load_directory
from syncer.settings import PersonSettings, load_settings


@pytest.fixture
def directory() -> Directory:
    return Directory.from_entries(
        [
            PersonSettings(
                name="Dana Kim",
                aliases=["dana", "dkim"],
                email="dana@example.com",
                github="dana-gh",
                jira="5b10ac8d82e05b22cc7d4ef5",
            ),
            PersonSettings(name="Dana Scully", aliases=["dana"]),
            PersonSettings(name="Lee Park", email=["lee@example.com", "lpark@example.com"]),
        ]
    )


@pytest.mark.parametrize(
    ("owner", "key"),
    [
        ("Dana Kim", "Dana Kim"),
        ("dana kim", "Dana Kim"),
        ("  DANA   KIM ", "Dana Kim"),
        ("@dkim", "Dana Kim"),
        ("@dana-gh", "Dana Kim"),
        ("DANA@example.com", "Dana Kim"),
        ("lpark@example.com", "Lee Park"),
    ],
)
def test_owners_resolve_by_name_alias_handle_or_email(
    directory: Directory, owner: str, key: str
) -> None:
    person = directory.resolve(owner)
    assert person is not None
    assert person.key == key


@pytest.mark.parametrize("owner", ["dana", "Someone Else", "", None, "search team"])
def test_ambiguous_or_unknown_owners_stay_unresolved(directory: Directory, owner: str) -> None:
    assert directory.resolve(owner) is None


def test_each_tracker_gets_its_own_handle(directory: Directory) -> None:
    dana = directory.resolve("Dana Kim")
    lee = directory.resolve("Lee Park")
    assert dana is not None
    assert lee is not None
    assert handle_for(dana, "github") == "dana-gh"
    assert handle_for(dana, "jira") == "5b10ac8d82e05b22cc7d4ef5"
    assert handle_for(dana, "local") == "Dana Kim"
    assert handle_for(lee, "github") == "Lee Park"


def test_people_file_and_config_entries_are_merged(tmp_path: Path) -> None:
    (tmp_path / "people.toml").write_text('[[people]]\nname = "From File"\n')
    (tmp_path / "config.toml").write_text(
        'people_file = "people.toml"\n[[people]]\nname = "Inline"\n'
    )
    directory = load_directory(load_settings(tmp_path / "config.toml"))
    assert [p.key for p in directory.people] == ["Inline", "From File"]


def test_a_bad_people_file_names_the_file_and_entry(tmp_path: Path) -> None:
    (tmp_path / "people.toml").write_text('[[people]]\nname = "A"\nmanger = "B"\n')
    (tmp_path / "config.toml").write_text('people_file = "people.toml"\n')
    with pytest.raises(ConfigError) as caught:
        load_directory(load_settings(tmp_path / "config.toml"))
    assert caught.value.source.endswith("people.toml")
    assert caught.value.problems == ["people.0.manger: unknown key"]


def test_two_entries_sharing_a_handle_are_a_config_error_naming_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.toml").write_text(
        '[[people]]\nname = "Dana Kim"\naliases = ["dk"]\ngithub = "dana"\n\n'
        '[[people]]\nname = "Dan Kim"\naliases = ["DK"]\n'
    )
    assert main(["config", "check", "--config", str(tmp_path / "config.toml")]) == 2
    err = capsys.readouterr().err
    assert "people: 'dk' is given for both 'Dana Kim' (entry 1) and 'Dan Kim' (entry 2)" in err
