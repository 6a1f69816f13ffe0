"""What a heading, a line or a sentence says about whether it holds action items.

The scanner asks these questions of every block instead of looking for one word list: does a
heading open a section of actions, of the past, or one that may hold either (a *Mitigation* or
*Resolution* section lists what was done and sometimes what will be); does a text commit to
future work; is a line a complete action on its own. Each answer rests on general forms of
English that post-mortems of many organisations share, not on one document's wording.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from connectors.extract.lazy import lazy

SectionKind = Literal["action", "maybe", "past"]

# Headings that announce actions: the nouns teams use for them, and the questions and phrases
# that say "what we will do" (`How are we preventing it from happening again?`).
_ACTION_WORDS = lazy(
    r"\b(?:action(?:\s*items?|\s+plan)?s?|follow[\s-]*ups?|remediations?|corrective|correction"
    r"|prevent(?:ive|ative|ion)|next\s+steps?|improvements?|to\s?-?dos?|tasks|countermeasures?"
    r"|recommendations?|future\s+(?:work|plans?|steps)"
    r"|what(?:'s|’s|\s+is)\s+next|work\s+items|open\s+items|outstanding\s+(?:work|items)"
    r"|changes\s+(?:we(?:'re|’re|\s+are|\s+will)|to\s+be)|we(?:'ll|’ll|\s+will)\s+do)\b"
    r"|\bprevent(?:s|ing)?\b.*\b(?:again|recurr\w*|future|happening|repeat\w*)\b"
    r"|\b(?:we(?:'re|’re|\s+are|\s+will\s+be)|we\s+will|we(?:'ll|’ll))\s+"
    r"(?:doing|taking|making|changing|improving|fixing|addressing)\b",
    re.IGNORECASE,
)
# Sections that may hold future work beside what was done: only committed lines count there.
_MAYBE_WORDS = lazy(
    r"\b(?:mitigations?|mitigating|resolution|recovery|lessons?|learnings?|takeaways?"
    r"|going\s+forward|moving\s+forward)\b",
    re.IGNORECASE,
)
# Sections about the past, or about something other than the team's own work.
_PAST_WORDS = lazy(
    r"\b(?:timeline|chronology|sequence\s+of\s+events|glossary|exit\s+criteria|what\s+went"
    r"|(?:got|were|get)\s+lucky|impact|root\s+causes?|contributing|trigger|detection|summary"
    r"|background|instructions?|how\s+to|template|steps\s+to\s+close|supporting|appendix"
    r"|references?|symptoms?|taken|performed|what\s+happened|customers?|users?\s+should"
    r"|workarounds?|faq)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)  # the same headings recur in every post-mortem of a team
def section_kind(heading: str) -> SectionKind | None:
    """What a heading's section holds: actions, maybe actions, the past, or nothing known."""
    action = bool(_ACTION_WORDS.search(heading))
    past = bool(_PAST_WORDS.search(heading))
    if action:
        return "maybe" if past else "action"
    if past:
        return "past"
    if _MAYBE_WORDS.search(heading):
        return "maybe"
    return None


def is_label(text: str) -> bool:
    """A short plain line that names an action section (`Action Items`, `Next steps:`)."""
    words = text.rstrip(":").split()
    return 0 < len(words) <= 6 and section_kind(text) == "action" and "." not in text


# A text that commits to future work: a modal or future form with the team, a named group or
# the item itself as subject. Hedges (`might`, `could`, `probably`) are not commitments.
_FUTURE = lazy(
    r"\b(?:will|shall|should|must|need(?:s)?\s+to|needs?\s+to\s+be|plan(?:s|ned)?\s+to"
    r"|going\s+to|intend(?:s)?\s+to|aim(?:s)?\s+to|to\s+be\s+(?:done|implemented|added|fixed))\b"
    r"|(?:'ll|’ll)\b|\b(?:TODO|follow[\s-]*up|next\s+step)\b",
    re.IGNORECASE,
)

_HEDGE = lazy(
    r"\b(?:might|may|could|would|probably|perhaps|possibly|hopefully|maybe|likely)\b",
    re.IGNORECASE,
)


# The main clause's modal: `X will …`, `X should be …`, not `… which should have been …`.
_MAIN_MODAL = lazy(
    r"^[^,;:.]{0,100}?\b(?:will|shall|should|must|needs?\s+to|are\s+going\s+to|is\s+going\s+to"
    r"|plans?\s+to)\b(?!\s+(?:have|still)\b)|^[^,;:.]{0,60}?(?:'ll|’ll)\b|^(?:TODO|follow[\s-]*up)\b",
    re.IGNORECASE,
)
_RELATIVE = lazy(r"\b(?:which|that|who|when|if|once|as)\b", re.IGNORECASE)
# An outcome promised for work described elsewhere: `These changes will prevent …`.
_OUTCOME = lazy(
    r"^(?:the|these|this|those|such|our|all)?\s*(?:[\w-]+\s+){0,3}?(?:improvements?|changes?"
    r"|fix(?:es)?|measures?|work|steps?|separation|this|these|it|which)\s+(?:\w+\s+)?"
    r"(?:will|should)\s+(?:\w+\s+)?(?:provide|prevent|help|ensure|allow|enable|make|reduce"
    r"|improve|mean|give|result|protect|avoid)\b",
    re.IGNORECASE,
)


def may_commit(text: str) -> bool:
    """A cheap first test for `commits`: whether the text has any word of the future."""
    return bool(_FUTURE.search(text))


def commits(text: str) -> bool:
    """Whether a line in a mixed section (Mitigation, Resolution) states future work: its
    first sentence says what will be done, in its main clause, without a hedge."""
    first = sentences(text)[0] if text.strip() else ""
    match = _MAIN_MODAL.search(first)
    if match is None or _HEDGE.search(first) or _OUTCOME.search(first):
        return False
    return not _RELATIVE.search(match[0])


# Commitments in prose: `we will …`, `we'll …`, `<team> will …`, and enumerated ones
# (`Secondly, …`, `As a long term solution (Q2 2024), …`) whatever their subject.
_SUBJECT = (
    r"(?:[Ww]e|[Oo]ur\s+(?:[\w-]+\s+){0,2}teams?|[Tt]he\s+(?:[\w-]+\s+){1,3}teams?"
    r"|[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,2}\s+teams?|[A-Z][a-z]*[A-Z][\w]*|[A-Z]{2,})"
)
_COMMITMENT = lazy(
    rf"(?:^|(?<=[\s,]))(?P<subject>{_SUBJECT})\s*(?:will|(?:'|’)ll|are\s+going\s+to|plan\s+to"
    r"|intend\s+to|commit\s+to)\s+(?!be\s+(?:able|happy|glad|sure|possible|affected|impacted)\b)"
    r"(?:also\s+|now\s+|then\s+|immediately\s+|soon\s+)?(?P<verb>[a-z]+)",
)
_ENUMERATED = lazy(
    r"^(?P<lead>(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|next|then|finally|lastly|also"
    r"|additionally|in\s+addition|to\s+start\s+with|to\s+begin\s+with|for\s+a\s+start"
    r"|(?:in\s+the\s+|as\s+a\s+|for\s+the\s+)?(?:more\s+)?(?:short|medium|long)[\s-]*term"
    r"(?:\s+(?:solution|fix|plan))?)(?:\s*\([^()]*\))?\s*,\s*)"
    r"(?P<rest>\S.*\b(?:will|'ll|’ll)\s+\S.*)$",
    re.IGNORECASE,
)
# What a commitment must not be: talk about the text itself, open-ended watching, vague
# promises that introduce a list (`we'll be making several changes`), customer impact.
_NOT_COMMITMENT = lazy(
    r"\b(?:will|'ll|’ll)\s+(?:(?:also\s+)?(?:describe|explain|discuss|cover|go\s+through|look\s+at"
    r"|share|outline|detail|walk|update\s+(?:this|the)\s+(?:post|page|document)|provide\s+(?:an?\s+)?"
    r"updates?|follow\s+up\s+with\s+(?:a|another)\s+post|continue\s+to\s+monitor|keep\s+monitoring"
    r"|keep\s+you|be\s+(?:making|taking|doing)\s+(?:several|some|a\s+(?:few|number|series))"
    r"|see|need|have\s+to\s+wait))\b"
    r"|\bin\s+this\s+(?:post|document|report|write-?up)\b",
    re.IGNORECASE,
)
_GENERIC_SUBJECTS = frozenset({"we", "the team", "our team", "the whole team", "the entire team"})


def commitment(sentence: str) -> tuple[str, str | None, str | None] | None:
    """(the action as written, its subject when it names one, a timeframe from the lead) for a
    sentence that commits to future work, or None."""
    text = sentence.strip()
    lead_due: str | None = None
    if match := _ENUMERATED.match(text):
        timeframe = re.search(r"\(([^()]*)\)", match["lead"])
        if timeframe and re.search(r"\bQ[1-4]\b|\b(?:19|20)\d\d\b", timeframe[1]):
            lead_due = timeframe[1].strip()
        text = match["rest"]
        if _NOT_COMMITMENT.search(text) or _HEDGE.search(text.split(",")[0]):
            return None
        return text, _subject(text), lead_due
    match = _COMMITMENT.search(text)
    if match is None or _NOT_COMMITMENT.search(text):
        return None
    before = text[: match.start()]
    if _HEDGE.search(text[match.start() : match.end() + 20]) or re.search(r"\bif\b", before, re.I):
        return None
    if before.strip() and not re.fullmatch(r"[\w\s’'-]{0,40},\s*", before):
        return None  # the commitment is not what the sentence says first
    return text[match.start() :], _subject(text[match.start() :]), None


def _subject(text: str) -> str | None:
    match = _COMMITMENT.match(text)
    if match is None:
        return None
    subject = re.sub(r"^(?:the|our)\s+", "", match["subject"], flags=re.I)
    return None if match["subject"].casefold() in _GENERIC_SUBJECTS else subject


_SENTENCE_END = lazy(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<=[.!?])\s+(?=[A-Z\"“(])")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


# A line break that ends a thought: the line before closes a sentence, or the next line starts
# anew (a capital) after a line that does not stop mid-phrase.
_OPEN_ENDING = lazy(
    r"(?:[,;(\-–—/&]|\b(?:the|a|an|to|of|and|or|for|in|on|with|by|from|that|is|are|be|our|we"
    r"|this|as|at|into|than|when|which|who|so|but|not|its|their|your|if|via))$",
    re.IGNORECASE,
)


def one_per_line(lines: list[str]) -> bool:
    """Whether the lines of a paragraph are separate statements, not one text wrapped."""
    if len(lines) < 2:
        return False
    for before, after in itertools.pairwise(lines):
        starts_anew = bool(re.match(r"[\"“(]?[A-Z0-9]", after))
        if not starts_anew or _OPEN_ENDING.search(before.rstrip()):
            return False
    return all(len(line.split()) >= 2 for line in lines)


@cache
def _imperatives() -> frozenset[str]:
    text = (Path(__file__).parent / "data" / "verbs.toml").read_text(encoding="utf-8")
    return frozenset(tomllib.loads(text)["imperatives"])


def starts_imperative(text: str) -> bool:
    """Whether a line opens with a verb in the imperative, as a to-do does."""
    first = re.match(r"[\W_]*([A-Za-z-]+)", text)
    return bool(first) and first[1].casefold() in _imperatives()  # type: ignore[index]
