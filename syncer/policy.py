"""Policies: the owner and due date of an item whose post-mortem leaves them out.

Pure: a function of the item, its post-mortem, the people directory and the settings. Every
value says where it came from, in words the assignee reads in the issue. A value the document
gives always wins; a policy only fills what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from connectors.extract.dates import add_period, timeframe_end
from rules import RuleContext
from rules.words import Phrase
from syncer.model import ActionItem, Person, Postmortem
from syncer.people import Directory
from syncer.settings import (
    CoreSettings,
    DuePolicySettings,
    PolicySettings,
    TeamSettings,
    grace_of,
    parse_duration,
    span_words,
)


@dataclass(frozen=True, slots=True)
class Owner:
    """Who an item goes to. `role` says who they are to the item ("the post-mortem's
    facilitator"), `reason` why a policy chose them ("the item names no owner"); for an item
    nobody could be found for, `reason` says what was tried."""

    person: Person | None
    role: str = ""
    reason: str = ""
    by_policy: bool = False
    team: str | None = None  # a team the post-mortem names as the owner: kept as a label
    tried: tuple[str, ...] = ()  # why no policy could fill it, when none could

    def explain(self) -> str:
        """Why this person, when a policy chose them; why nobody, when nobody was found."""
        if self.person is None:
            return "; ".join((self.reason, *self.tried))
        if not self.by_policy:
            return ""
        return f"{self.role}, because {self.reason}" if self.reason else self.role

    def describe(self) -> str:
        """One line for `pmsync lint`."""
        if self.person is None:
            return f"none: {self.explain()}"
        return (
            f"{self.person.key} by policy: {self.explain()}" if self.by_policy else self.person.key
        )


@dataclass(frozen=True, slots=True)
class Due:
    """When an item is due, and why that day (`why` is empty for a date the document gives)."""

    day: date | None
    why: str = ""
    by_policy: bool = False

    def describe(self) -> str:
        if self.day is None:
            return f"none: {self.why}" if self.why else "none"
        return f"{self.day.isoformat()} ({self.why})" if self.why else self.day.isoformat()


class Policy:
    """The configured owner and due-date policies over one people directory."""

    def __init__(
        self,
        directory: Directory,
        settings: PolicySettings | None = None,
        teams: Mapping[str, TeamSettings] | None = None,
    ) -> None:
        settings = settings or PolicySettings(preset="off")  # none given: no policy
        self.due_settings: DuePolicySettings = settings.due
        self.window = grace_of(settings.due.min_window)
        self.fallback = tuple(settings.owner.fallback)
        self.default_owner = settings.owner.default_owner
        self.directory = directory
        self.triage: dict[str, Person] = {}
        names: dict[str, str] = {}
        for person in directory.people:
            if person.team:
                names.setdefault(_team_key(person.team), person.team)
                if person.lead:
                    self.triage.setdefault(_team_key(person.team), person)
        for name, team in (teams or {}).items():
            names[_team_key(name)] = name
            triage = directory.resolve(team.triage) if team.triage else None
            if triage is not None:
                self.triage[_team_key(name)] = triage
        self.teams = names  # normalised name -> the name as configured

    @classmethod
    def of(cls, settings: CoreSettings, directory: Directory) -> Policy:
        return cls(directory, settings.policy, settings.teams)

    @property
    def active(self) -> bool:
        """Whether any policy can fill a field."""
        due = self.due_settings
        return bool(
            self.fallback
            or self.triage
            or self.default_owner
            or due.by_priority
            or due.by_severity
            or due.default
        )

    # --- owner ---------------------------------------------------------------------------------

    def owner(self, item: ActionItem, postmortem: Postmortem) -> Owner:
        named = item.owner
        person = self.directory.resolve(named)
        if person is not None:
            return Owner(person)
        team = self.team_of(named) if named else None
        if team is not None:
            reason = f"the post-mortem names team {team} as the owner"
            lead = self.triage.get(_team_key(team))
            if lead is not None:
                return Owner(lead, f"the triage person of team {team}", reason, True, team)
        elif named:
            reason = f"the owner it names, {named!r}, is not in the people directory"
        else:
            reason = "the item names no owner"
        tried: list[str] = []
        for step in self.fallback:
            if step == "team":
                found = self._team_step(team, postmortem, tried)
            else:
                found = self._postmortem_step(postmortem, tried)
            if found is not None:
                return Owner(found[0], found[1], reason, True, team)
        if self.default_owner:
            person = self.directory.resolve(self.default_owner)
            if person is not None:
                return Owner(person, "the default owner", reason, True, team)
            tried.append(f"the default owner {self.default_owner!r} is not in the people directory")
        return Owner(None, reason=reason, team=team, tried=tuple(tried))

    def triage_of(self, postmortem: Postmortem | None) -> Person | None:
        """The triage person of a post-mortem's team, if it names a known team that has one."""
        team = self.team_of(postmortem.team) if postmortem and postmortem.team else None
        return self.triage.get(_team_key(team)) if team else None

    def review_owner(self, postmortem: Postmortem) -> Person | None:
        """Who runs a post-mortem's follow-up review: its facilitator, else its owner, incident
        lead or author (as the owner policy reads them), else its team's triage person."""
        for name in (postmortem.facilitator, postmortem.owner):
            person = self.directory.resolve(name)
            if person is not None:
                return person
        return self.triage_of(postmortem)

    def team_of(self, name: str) -> str | None:
        """The configured team `name` stands for (`Platform team`, `@acme/platform`), if any."""
        return self.teams.get(_team_key(name))

    def _team_step(
        self, team: str | None, postmortem: Postmortem, tried: list[str]
    ) -> tuple[Person, str] | None:
        name = team or (self.team_of(postmortem.team) if postmortem.team else None)
        if name is None:
            written = postmortem.team
            tried.append(
                f"its team {written!r} is not a known team"
                if written
                else "the post-mortem names no team"
            )
            return None
        person = self.triage.get(_team_key(name))
        if person is None:
            tried.append(f"team {name} has no triage person")
            return None
        return person, f"the triage person of team {name}"

    def _postmortem_step(
        self, postmortem: Postmortem, tried: list[str]
    ) -> tuple[Person, str] | None:
        candidates = []
        if postmortem.owner:
            candidates.append((postmortem.owner, postmortem.owner_role or "owner"))
        if postmortem.ref.author:
            candidates.append((postmortem.ref.author, "last author"))
        if not candidates:
            tried.append("the post-mortem names no owner, facilitator or author")
        for name, role in candidates:
            person = self.directory.resolve(name)
            if person is not None:
                return person, f"the post-mortem's {role}"
            tried.append(f"its {role} {name!r} is not in the people directory")
        return None

    # --- due date ------------------------------------------------------------------------------

    def due(self, item: ActionItem, postmortem: Postmortem, filed: date | None) -> Due:
        """The item's due date; `filed` is the day its issue was (or is being) filed."""
        if item.due is not None:
            return Due(item.due)
        basis, since = self._basis(postmortem, filed)
        text = item.due_text
        if text and basis is not None and self.active:
            end = timeframe_end(text, basis)
            if end is not None:
                return Due(end, f"the end of {text!r}, as the post-mortem says")
        rule = self._rule(item, postmortem)
        if rule is None or basis is None:
            why = f"the post-mortem says {text!r}" if text else "none in the post-mortem"
            return Due(None, why + (", and no policy applies" if self.active else ""))
        name, duration = rule
        count, unit = parse_duration(duration)
        plural = "" if count == 1 else "s"
        why = f"{name} policy, {count} {unit}{plural} after {since}"
        day = add_period(basis, count, unit)
        if filed is not None and day < filed + self.window:
            # Never born overdue: a post-mortem written long ago still gives time to act.
            soonest = filed + self.window
            window = span_words(self.due_settings.min_window)
            why += (
                f" would be {day}, already past or too soon when filed on {filed}; "
                f"due {soonest}, {window} after filing ([policy.due] min_window)"
            )
            day = soonest
        if text:
            why += f"; the post-mortem says {text!r}"
        return Due(day, why, True)

    def _basis(self, postmortem: Postmortem, filed: date | None) -> tuple[date | None, str]:
        if self.due_settings.basis == "incident":
            if postmortem.incident_date is not None:
                return postmortem.incident_date, f"the incident on {postmortem.incident_date}"
            created = postmortem.ref.created_at
            if created is not None:
                day = created.date()
                return day, f"the post-mortem was first written on {day}"
        return filed, f"the issue was filed on {filed}"

    def _rule(self, item: ActionItem, postmortem: Postmortem) -> tuple[str, str] | None:
        due = self.due_settings
        for value, table, label in (
            (item.priority, due.by_priority, "{} priority"),
            (postmortem.severity, due.by_severity, "{} severity"),
        ):
            if not value:
                continue
            wanted = _key(value)
            for key, duration in table.items():
                if _key(key) in (wanted, "sev" + wanted, "p" + wanted):
                    return label.format(key), duration
        return ("default", due.default) if due.default else None


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _team_key(name: str) -> str:
    """`Platform team`, `@acme/platform`, `platform-team` and `Platform` are one team."""
    base = name.strip().lstrip("@").rsplit("/", 1)[-1].casefold()
    base = re.sub(r"[\s_-]*team$", "", base) or base
    return re.sub(r"[\W_]+", "", base)


def rule_context(
    settings: CoreSettings, directory: Directory, today: date | None, policy: Policy | None = None
) -> RuleContext:
    """What the rules know: the people directory, the teams, the limits, extra phrases, and
    what the policies would fill in (reported as information)."""
    policy = policy or Policy.of(settings, directory)
    teams = {name.casefold() for name in settings.rules.teams}
    teams |= {person.team.casefold() for person in directory.people if person.team}
    teams |= {name.casefold() for name in settings.teams}
    return RuleContext(
        today=today,
        is_known_person=(
            (lambda owner: directory.resolve(owner) is not None) if directory.people else None
        ),
        teams=frozenset(teams),
        max_due_days=settings.rules.max_due_days,
        extra_vague=tuple(
            Phrase.literal(v.phrase, v.rewrite) for v in settings.rules.vague_phrases
        ),
        owner_policy=_owner_note(policy) if policy.active else None,
        due_policy=_due_note(policy, today) if policy.active and today else None,
    )


def _owner_note(policy: Policy) -> Callable[[ActionItem, Postmortem], str | None]:
    """Who a policy would assign an item to, and why; None when no policy fills the owner."""

    def note(item: ActionItem, postmortem: Postmortem) -> str | None:
        owner = policy.owner(item, postmortem)
        return owner.describe() if owner.by_policy else None

    return note


def _due_note(policy: Policy, today: date) -> Callable[[ActionItem, Postmortem], str | None]:
    """The due date a policy (or the end of a named period) would give an item filed today."""

    def note(item: ActionItem, postmortem: Postmortem) -> str | None:
        due = policy.due(item, postmortem, today)
        return due.describe() if due.day is not None and due.why else None

    return note
