"""The people directory: who an owner written in a document is, in each tracker.

Owners resolve by name, alias, handle or e-mail, case-insensitively; anything else is reported
as unresolved, never guessed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError

from connectors import registry
from syncer.errors import ConfigError
from syncer.model import Person
from syncer.settings import CoreSettings, PersonSettings, format_validation_error


def _normal(name: str) -> str:
    return " ".join(name.strip().lstrip("@").casefold().split())


@dataclass(frozen=True, slots=True)
class Directory:
    people: tuple[Person, ...]
    # Every way of naming someone, normalised, to the people it names: built once, so that
    # resolving an owner is one lookup whatever the directory's size.
    _index: dict[str, tuple[Person, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, dict[str, Person]] = {}
        for person in self.people:
            for handle in _handles(person):
                if handle.strip():
                    index.setdefault(_normal(handle), {})[person.key] = person
        object.__setattr__(self, "_index", {k: tuple(v.values()) for k, v in index.items()})

    @classmethod
    def from_entries(cls, entries: Iterable[PersonSettings]) -> Directory:
        people = []
        for entry in entries:
            emails = [entry.email] if isinstance(entry.email, str) else list(entry.email or [])
            people.append(
                Person(
                    key=entry.name,
                    names=(entry.name, *entry.aliases),
                    emails=tuple(emails),
                    accounts=tuple(sorted(entry.accounts.items())),
                    manager=entry.manager,
                    team=entry.team,
                    lead=entry.lead,
                )
            )
        return cls(tuple(people))

    def resolve(self, owner: str | None) -> Person | None:
        """The one person `owner` names, or None when nobody (or more than one) matches."""
        if not owner:
            return None
        found = self._index.get(_normal(owner), ())
        return found[0] if len(found) == 1 else None


def _handles(person: Person) -> tuple[str, ...]:
    """Every way a document may name this person: names, aliases, e-mails, tracker handles
    (a Confluence mention carries the Jira account id)."""
    return (*person.names, *person.emails, *(handle for _, handle in person.accounts))


def _shared_handles(directory: Directory) -> list[str]:
    """Two entries that share a name, alias, e-mail or tracker handle: an owner written that
    way would go to one account or the other by chance."""
    owner: dict[str, int] = {}
    problems = []
    for index, person in enumerate(directory.people):
        for handle in {_normal(h) for h in _handles(person) if h.strip()}:
            first = owner.setdefault(handle, index)
            if first != index:
                other = directory.people[first].key
                problems.append(
                    f"people: {handle!r} is given for both {other!r} (entry {first + 1}) and "
                    f"{person.key!r} (entry {index + 1}); each name, alias, e-mail and handle "
                    "must name one person"
                )
    return problems


def handle_for(person: Person, tracker_kind: str) -> str:
    """How `person` is named as an assignee in a tracker of this kind."""
    return person.account(registry.account_key(tracker_kind)) or person.key


def load_directory(settings: CoreSettings) -> Directory:
    entries = list(settings.people)
    if settings.people_file is not None:
        path = settings.path(settings.people_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError([f"people_file: cannot read: {exc}"], str(path)) from exc
        unknown = set(data) - {"people"}
        if unknown:
            raise ConfigError([f"{key}: unknown key" for key in sorted(unknown)], str(path))
        try:
            entries += TypeAdapter(list[PersonSettings]).validate_python(data.get("people", []))
        except ValidationError as exc:
            problems = [f"people.{line}" for line in format_validation_error(exc)]
            raise ConfigError(problems, str(path)) from None
    directory = Directory.from_entries(entries)
    problems = _shared_handles(directory)
    problems += [
        f"teams.{name}.triage: {team.triage!r} is not in the people directory"
        for name, team in settings.teams.items()
        if team.triage and directory.resolve(team.triage) is None
    ]
    if problems:
        raise ConfigError(problems, settings.origin or "settings")
    return directory
