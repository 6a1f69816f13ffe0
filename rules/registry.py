"""The rule catalogue, choosing rules by code prefix, and running them over a post-mortem.

Codes are stable: PM1xx ownership, PM2xx time, PM3xx wording, PM4xx the document,
PM5xx follow-up. A code, once published, keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

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
    """What rules may know beyond the document: the clock and the people directory."""

    today: date | None = None
    is_known_person: Callable[[str], bool] = field(default=lambda owner: True)


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
    """A rule about one action item: `test` returns the problem's message, or None."""

    code: str
    name: str
    severity: Severity
    doc: RuleDoc
    test: Callable[[ActionItem, Postmortem, RuleContext], str | None]

    def check(self, postmortem: Postmortem, context: RuleContext) -> Iterable[Finding]:
        for item in postmortem.items:
            if item.placeholder:
                continue
            message = self.test(item, postmortem, context)
            if message is not None:
                yield Finding(
                    self.code, self.severity, message, postmortem.ref.uri, item.line, item.key
                )


def _no_owner(item: ActionItem, postmortem: Postmortem, context: RuleContext) -> str | None:
    return None if item.owner else f"no owner: {_quote(item.title)}"


def _no_due(item: ActionItem, postmortem: Postmortem, context: RuleContext) -> str | None:
    if item.due or item.due_text or item.is_done:
        return None
    return f"no due date: {_quote(item.title)}"


def _due_not_understood(
    item: ActionItem, postmortem: Postmortem, context: RuleContext
) -> str | None:
    if item.due is not None or not item.due_text or item.is_done:
        return None
    return f"due date not understood: {_quote(item.due_text, 40)}; write it as YYYY-MM-DD"


def _quote(title: str, width: int = 60) -> str:
    short = title if len(title) <= width else title[: width - 1].rstrip() + "…"
    return f'"{short}"'


CATALOGUE: tuple[Rule, ...] = (
    ItemRule(
        "PM101",
        "no-owner",
        Severity.ERROR,
        RuleDoc(
            what="An action item names no owner.",
            why="An item that belongs to everyone is done by no one; SMART items have one owner.",
            example="- Add alerting on certificate expiry",
            instead="- Add alerting on certificate expiry (owner: @dana, due: 2026-04-30)",
        ),
        _no_owner,
    ),
    ItemRule(
        "PM201",
        "no-due-date",
        Severity.WARNING,
        RuleDoc(
            what="An open action item has no due date.",
            why="Items without a date drift; a date is what a follow-up can hold people to.",
            example="- Add alerting on certificate expiry (owner: @dana)",
            instead="- Add alerting on certificate expiry (owner: @dana, due: 2026-04-30)",
        ),
        _no_due,
    ),
    ItemRule(
        "PM202",
        "due-date-not-understood",
        Severity.WARNING,
        RuleDoc(
            what="An item's due date is written in a form pmsync cannot read as one date.",
            why="A date nobody can compute is no date: it cannot be tracked or flagged as overdue.",
            example="- Add alerting on certificate expiry (owner: @dana, due: next sprint)",
            instead="- Add alerting on certificate expiry (owner: @dana, due: 2026-04-30)",
        ),
        _due_not_understood,
    ),
)


def _matches(code: str, prefixes: Sequence[str]) -> bool:
    return any(code.startswith(prefix) for prefix in prefixes)


def select_rules(
    select: Sequence[str] = ("PM",),
    ignore: Sequence[str] = (),
    catalogue: Sequence[Rule] = CATALOGUE,
) -> list[Rule]:
    """Rules whose code starts with a `select` prefix and with no `ignore` prefix."""
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
        if _matches(rule.code, tuple(postmortem.suppressed)):
            continue
        for finding in rule.check(postmortem, ctx):
            item_codes = suppressed_items.get(finding.item_key or "", frozenset())
            if not _matches(finding.code, tuple(item_codes)):
                findings.append(finding)
    return sorted(findings, key=lambda f: (f.line, f.code))
