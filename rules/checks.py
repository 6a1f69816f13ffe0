"""What each quality rule looks for: SMART action items (PM1xx-PM3xx) and blameless,
complete documents (PM4xx). Pure functions of the item, the document and the context."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

from rules.registry import RuleContext
from rules.words import Phrase, blame_phrases, vague_phrases, word_list, words_of
from syncer.lazy import lazy
from syncer.model import ActionItem, Postmortem


def _quote(text: str, width: int = 60) -> str:
    short = text if len(text) <= width else text[: width - 1].rstrip() + "…"
    return f'"{short}"'


# --- ownership ---------------------------------------------------------------------------------

_SEVERAL_RE = lazy(r"\s(?:and|&|\+)\s|[/,;]|@\S+.*@\S+", re.IGNORECASE)


def _resolves(owner: str, context: RuleContext) -> bool:
    return context.is_known_person is not None and context.is_known_person(owner)


def is_group(owner: str, context: RuleContext) -> bool:
    """Whether an owner names a team, role or group rather than one person."""
    if _resolves(owner, context):
        return False
    name = owner.strip().lstrip("@").casefold()
    if name in context.teams:
        return True
    words = set(words_of(name))
    return bool(words & word_list("team_words")) or bool(words & word_list("role_words"))


def several_owners(owner: str, context: RuleContext) -> bool:
    return not _resolves(owner, context) and bool(_SEVERAL_RE.search(owner))


def no_owner(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    return None if item.owner or item.is_done else f"no owner: {_quote(item.title)}"


def group_owner(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if not item.owner or several_owners(item.owner, context) or not is_group(item.owner, context):
        return None
    return f"owner {_quote(item.owner, 40)} is a team or role; name the one person who drives it"


def many_owners(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if not item.owner or not several_owners(item.owner, context):
        return None
    return f"several owners {_quote(item.owner, 40)}; one person must be responsible"


def unknown_owner(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    owner = item.owner
    if not owner or context.is_known_person is None or context.is_known_person(owner):
        return None
    if is_group(owner, context) or several_owners(owner, context):
        return None
    return f"owner {_quote(owner, 40)} is not in the people directory"


def owner_by_policy(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.is_done or context.owner_policy is None:
        return None
    filled = context.owner_policy(item, pm)
    return f"would be assigned to {filled}" if filled else None


# --- time -------------------------------------------------------------------------------------


def no_due(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.due or item.due_text or item.is_done:
        return None
    return f"no due date: {_quote(item.title)}"


def due_by_policy(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.due is not None or item.is_done or context.due_policy is None:
        return None
    filled = context.due_policy(item, pm)
    return f"would be due {filled}" if filled else None


def due_not_understood(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.due is not None or not item.due_text or item.is_done:
        return None
    iso = _ISO_SHAPED_RE.search(item.due_text)
    if iso is not None:
        year, month, day = (int(part) for part in iso.groups())
        try:
            date(year, month, day)
        except ValueError:
            return f"due date {iso.group()} does not exist; check the month and the day"
    return f"due date not understood: {_quote(item.due_text, 40)}; write it as YYYY-MM-DD"


_ISO_SHAPED_RE = lazy(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")


def due_before_incident(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.due is None or pm.incident_date is None or item.due >= pm.incident_date:
        return None
    return f"due {item.due.isoformat()} is before the incident ({pm.incident_date.isoformat()})"


def due_too_far(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    start = pm.incident_date or context.today
    if item.due is None or start is None or item.is_done:
        return None
    if item.due - start <= timedelta(days=context.max_due_days):
        return None
    days = (item.due - start).days
    since = "the incident" if pm.incident_date else "today"
    return (
        f"due {item.due.isoformat()} is {days} days after {since}; "
        f"split it into steps due within {context.max_due_days} days"
    )


# --- wording ----------------------------------------------------------------------------------

_NUMBER_RE = lazy(
    r"\d|%|\b(?:once|twice|every|each|zero|no\s+more\s+than|at\s+(?:least|most))\b", re.I
)
_MEANS_RE = lazy(r"\bby\s+\w+ing\b|\bso\s+that\b|\bwith\s+(?:a|an)\s+\w+", re.IGNORECASE)
_OUTPUT_RE = lazy(
    r"\band\s+(?:fix|write|document|propose|report|decide|file|open|add|remove|implement|publish"
    r"|share|present|list|set|update|apply)\b|\b(?:write-?up|report|proposal|recommendation|rfc"
    r"|adr|decision|plan\s+(?:to|for)|list\s+of)\b",
    re.IGNORECASE,
)
_OBSERVABLE_RE = lazy(
    r"\b(?:fails?|pages?|alerts?|blocks?|rejects?|denies|stops?|errors?)\s+(?:when|on|if|for)\b",
    re.IGNORECASE,
)


def measurable(text: str) -> bool:
    """Whether text names a threshold, a concrete deliverable, or a change whose end can be seen
    (it starts with a concrete verb: add, remove, migrate…, or says what fails or pages when)."""
    words = words_of(text)
    if not words:
        return False
    if _NUMBER_RE.search(text) or _OBSERVABLE_RE.search(text):
        return True
    if _leading_verb(words) in word_list("concrete_verbs"):
        return True
    return bool(set(words) & word_list("deliverables"))


_NEGATION = frozenset({"do", "don't", "dont", "never", "no", "not"})


def _leading_verb(words: list[str]) -> str:
    """The verb an item starts with, past "do not" / "never" ("Do not remove old versions")."""
    rest = words
    while rest and rest[0] in _NEGATION:
        rest = rest[1:]
    return rest[0] if rest else ""


def _concrete(text: str, unless: str) -> bool:
    """Whether an item has what makes a soft phrase concrete (see rules/data/vague.toml)."""
    if unless == "threshold":
        return bool(_NUMBER_RE.search(text) or _MEANS_RE.search(text))
    if unless == "output":
        return bool(_OUTPUT_RE.search(text))
    return measurable(text)


def vague_phrase(text: str, context: RuleContext) -> Phrase | None:
    """The first vague phrase in `text` that counts. A soft phrase in the purpose of a concrete
    action is not the action ("Add metrics to improve visibility")."""
    words = words_of(text)
    concrete_start = bool(words) and _leading_verb(words) in word_list("concrete_verbs")
    for phrase in (*vague_phrases(), *context.extra_vague):
        match = phrase.pattern.search(text)
        if match is None:
            continue
        unless = phrase.unless
        purpose = concrete_start and _PURPOSE_RE.search(text[: match.start()])
        if unless and (purpose or _concrete(text, unless)):
            continue
        return phrase
    return None


_PURPOSE_RE = lazy(r"\b(?:to|so\s+as\s+to|in\s+order\s+to|so\s+that|that)\s+$", re.IGNORECASE)


def vague(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    phrase = vague_phrase(item.title, context)
    if phrase is None or _only_reference(item):
        return None
    return f'vague action ("{phrase.label}"): {_quote(item.title)}; instead, {phrase.rewrite}'


def not_measurable(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.is_done or _only_reference(item) or measurable(item.title):
        return None
    if item.description and measurable(item.description):
        return None
    return f"no measurable outcome: {_quote(item.title)}; say what exists or is true when done"


_SENTENCE_RE = lazy(r";\s+|\.\s+(?=[A-Z])")
_JOIN_RE = lazy(r",?\s+(?:and\s+(?:also\s+)?|as\s+well\s+as\s+|\+\s+)")
_BACK_REFERENCE = frozenset({"it", "them", "this", "that", "these", "those", "one", "ones"})


def several_actions(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    """Two sentences that each start with an action verb, or two joined clauses that each do
    their own work ("Investigate and fix X" and "Version the file and deploy it" are one)."""
    verbs = word_list("action_verbs")
    sentences = [words_of(s) for s in _SENTENCE_RE.split(item.title)]
    if sum(1 for words in sentences if words and words[0] in verbs) >= 2:
        return f"several actions in one item: {_quote(item.title)}; file one item per action"
    for sentence in _SENTENCE_RE.split(item.title):
        clauses = [words_of(clause) for clause in _JOIN_RE.split(sentence)]
        acting = [words for words in clauses if words and words[0] in verbs]
        if len(acting) < 2:
            continue
        first, second = acting[0], acting[1]
        if len(first) >= 3 and len(second) >= 3 and not set(second[1:4]) & _BACK_REFERENCE:
            return f"several actions in one item: {_quote(item.title)}; file one item per action"
    return None


def inferred(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.basis != "inferred":
        return None
    return (
        f"reads as a commitment: {_quote(item.title)}; make it an action item, or mark it "
        "`<!-- pmsync: not-an-item -->`"
    )


def placeholder_or_short(item: ActionItem, pm: Postmortem, context: RuleContext) -> str | None:
    if item.placeholder:
        return f"placeholder, not an action: {_quote(item.title or '(empty)')}"
    if _only_reference(item) or len(words_of(item.title)) >= 3:
        return None
    return f"too short to act on: {_quote(item.title)}; say what will be done to what"


def _only_reference(item: ActionItem) -> bool:
    return bool(item.tickets) and item.title.replace(" ", "") in {
        t.replace(" ", "") for t in item.tickets
    }


# --- the document -----------------------------------------------------------------------------

_CAUSE_HEADING_RE = lazy(
    r"\b(?:root\s+causes?|causes?|contributing\s+factors?|why|5\s+whys|five\s+whys|analysis)\b",
    re.IGNORECASE,
)
_WENT_WELL_RE = lazy(
    r"\b(?:went\s+(?:well|right)|worked\s+well|what\s+worked|successes|positives|the\s+good)\b",
    re.IGNORECASE,
)
_NAMED_FAILURE_RE = lazy(
    r"\b(?P<name>(?:[A-Z][a-z]+)(?:\s[A-Z][a-z]+)?|[Hh]e|[Ss]he)\s+"
    r"(?P<what>forgot|neglected|ignored|overlooked|missed|messed\s+up|screwed\s+up|broke"
    r"|made\s+(?:a|an)\s+(?:mistake|error)|was\s+careless|failed\s+to\s+(?:check|test|notice|follow"
    r"|read|review|verify|update|run|tell|escalate)|did(?:\s+not|n['’]t)\s+(?:check|test|notice"
    r"|follow|read|review|verify|bother))\b"
)
_NOT_PEOPLE = frozenset(
    {
        "the",
        "this",
        "that",
        "it",
        "we",
        "our",
        "they",
        "their",
        "nobody",
        "no",
        "a",
        "an",
        "system",
        "service",
        "deploy",
        "pipeline",
        "script",
        "job",
        "alert",
        "check",
        "team",
        "ci",
    }
)


def no_action_section(pm: Postmortem, context: RuleContext) -> Iterator[tuple[int, str]]:
    if not pm.has_action_section:
        yield 1, "no action-item section: add one, with an owner and due date for each item"


def no_root_cause(pm: Postmortem, context: RuleContext) -> Iterator[tuple[int, str]]:
    if not pm.root_causes and not any(_CAUSE_HEADING_RE.search(t) for _, t in pm.headings):
        yield 1, "no root-cause analysis: say why it happened, not only what happened"


def items_without_cause(pm: Postmortem, context: RuleContext) -> Iterator[tuple[int, str]]:
    real = [item for item in pm.items if not item.placeholder]
    if len(pm.root_causes) >= 2 and real and not any(item.root_cause for item in real):
        yield (
            real[0].line,
            (
                f"{len(pm.root_causes)} root causes, but no item says which one it addresses; "
                "add a Root cause column"
            ),
        )


def blame(pm: Postmortem, context: RuleContext) -> Iterator[tuple[int, str]]:
    for line, text in pm.prose:
        for phrase in blame_phrases():
            if match := phrase.pattern.search(text):
                yield line, (f'blame language ("{match.group(0)}"); instead, {phrase.rewrite}')
                break
        else:
            for match in _NAMED_FAILURE_RE.finditer(text):
                if match["name"].split()[0].casefold() in _NOT_PEOPLE:
                    continue
                yield (
                    line,
                    (
                        f'a person as the subject of a failure ("{match.group(0)}"); instead, '
                        "describe what the process or tooling allowed"
                    ),
                )
                break


def no_went_well(pm: Postmortem, context: RuleContext) -> Iterator[tuple[int, str]]:
    if not any(_WENT_WELL_RE.search(text) for _, text in pm.headings):
        yield 1, 'no "what went well" section: note what worked, so it is kept'


def no_incident_date(pm: Postmortem, context: RuleContext) -> Iterator[tuple[int, str]]:
    if pm.incident_date is None:
        yield 1, "no incident date: add `date: YYYY-MM-DD` to the front matter"


def nothing(postmortem: Postmortem, context: RuleContext) -> Iterator[tuple[int, str]]:
    """No test of its own: reported where the run sees it (a document that cannot be read
    where it is read, PM400; an item promised before once every post-mortem is read, PM601)."""
    return iter(())
