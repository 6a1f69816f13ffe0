"""How rules are shaped, chosen by code prefix, and run over a post-mortem.

Codes are stable: PM1xx ownership, PM2xx time, PM3xx wording, PM4xx the document,
PM5xx follow-up, PM6xx across post-mortems. A code, once published, keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from rules.words import Phrase
from syncer.errors import ConfigError
from syncer.model import ActionItem, Finding, Postmortem, Severity


@dataclass(frozen=True, slots=True)
class RuleDoc:
    """A rule's documentation, in the sections every rule has."""

    what: str
    why: str
    example: str
    instead: str


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What rules may know beyond the document.

    `is_known_person` is None when there is no people directory: then nobody is "unknown".
    `teams` are names that stand for groups (from the directory and [rules] teams).
    """

    today: date | None = None
    is_known_person: Callable[[str], bool] | None = None
    teams: frozenset[str] = frozenset()
    max_due_days: int = 180
    extra_vague: tuple[Phrase, ...] = ()
    # What the configured policies would fill in for an item the document leaves without an
    # owner or a due date ("Lee Park by policy: …"), or None; None when there is no policy.
    owner_policy: Callable[[ActionItem, Postmortem], str | None] | None = None
    due_policy: Callable[[ActionItem, Postmortem], str | None] | None = None


class Rule(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def doc(self) -> RuleDoc: ...

    def check(self, postmortem: Postmortem, context: RuleContext) -> Iterable[Finding]: ...


@dataclass(frozen=True, slots=True)
class ItemRule:
    """A rule about one action item: `test` returns the problem's message, or None.

    Placeholders are left to the rules that say `placeholders=True`.
    """

    code: str
    name: str
    severity: Severity
    doc: RuleDoc
    test: Callable[[ActionItem, Postmortem, RuleContext], str | None]
    placeholders: bool = False

    def check(self, postmortem: Postmortem, context: RuleContext) -> Iterable[Finding]:
        if postmortem.template:
            return
        for item in postmortem.items:
            if item.placeholder and not self.placeholders:
                continue
            message = self.test(item, postmortem, context)
            if message is not None:
                yield Finding(
                    self.code, self.severity, message, postmortem.ref.uri, item.line, item.key
                )


@dataclass(frozen=True, slots=True)
class DocumentRule:
    """A rule about the whole document: `test` yields (line, message) for each problem."""

    code: str
    name: str
    severity: Severity
    doc: RuleDoc
    test: Callable[[Postmortem, RuleContext], Iterable[tuple[int, str]]]

    def check(self, postmortem: Postmortem, context: RuleContext) -> Iterable[Finding]:
        if postmortem.template:
            return
        for line, message in self.test(postmortem, context):
            yield Finding(self.code, self.severity, message, postmortem.ref.uri, line)


def _matches(code: str, prefixes: Iterable[str]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


def select_from(
    catalogue: Sequence[Rule], select: Sequence[str] = ("PM",), ignore: Sequence[str] = ()
) -> list[Rule]:
    """Rules whose code starts with a `select` prefix and with no `ignore` prefix.

    A prefix that matches no rule is a typo, and an error naming it.
    """
    known = [rule.code for rule in catalogue]
    unknown = [
        f"{where}: {prefix!r} matches no rule code"
        for where, prefixes in (("select", select), ("ignore", ignore))
        for prefix in prefixes
        if not any(code.startswith(prefix) for code in known)
    ]
    if unknown:
        raise ConfigError(unknown, "rules")
    return [r for r in catalogue if _matches(r.code, select) and not _matches(r.code, ignore)]


def check(
    postmortem: Postmortem, rules: Sequence[Rule], context: RuleContext | None = None
) -> list[Finding]:
    """Every finding for the document, less what it suppresses, in line order."""
    ctx = context or RuleContext()
    suppressed_items = {item.key: item.suppressed for item in postmortem.items}
    findings = []
    for rule in rules:
        if _matches(rule.code, postmortem.suppressed):
            continue
        for finding in rule.check(postmortem, ctx):
            item_codes = suppressed_items.get(finding.item_key or "", frozenset())
            if not _matches(finding.code, item_codes):
                findings.append(finding)
    return sorted(findings, key=lambda f: (f.line, f.code))
