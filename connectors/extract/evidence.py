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

from syncer.lazy import lazy

SectionKind = Literal["action", "maybe", "lessons", "past"]

# Headings that announce actions: the nouns teams use for them, and the questions and phrases
# that say "what we will do" (`How are we preventing it from happening again?`).
_ACTION_WORDS = lazy(
    r"\b(?:action(?:\s*items?|\s+plan)?s?|follow[\s-]*ups?|remediations?|corrective|correction"
    r"|prevent(?:ive|ative|ion)|next\s+steps?|improvements?|todos?|to-dos?|to\s+dos\b"
    r"|to\s+do\s+(?:list|items?)|tasks|countermeasures?"
    r"|recommendations?|future\s+(?:work|plans?|steps)"
    r"|what(?:'s|’s|\s+is)\s+next|work\s+items|open\s+items|outstanding\s+(?:work|items)"
    r"|changes\s+(?:we(?:'re|’re|\s+are|\s+will)|to\s+be)|we(?:'ll|’ll|\s+will)\s+do)\b"
    r"|\bprevent(?:s|ing)?\b.*\b(?:again|recurr\w*|future|happening|repeat\w*)\b"
    r"|\b(?:we(?:'re|’re|\s+are|\s+will\s+be)|we\s+will|we(?:'ll|’ll))\s+"
    r"(?:doing|taking|making|changing|improving|fixing|addressing)\b"
    # questions: `What is being done about this?`, `What are we doing about it?`
    r"|\bwhat(?:'s|’s|\s+is|\s+are|\s+will|\s+has)\s+(?:being|been|we|our\s+team)\s+"
    r"(?:done|doing|do|changing|change|fixing|fix|improving|improve|taking)\b",
    re.IGNORECASE,
)
# Sections that may hold future work beside what was done: only committed lines count there.
_MAYBE_WORDS = lazy(
    r"\b(?:mitigations?|mitigating|resolution|recovery|going\s+forward|moving\s+forward)\b",
    re.IGNORECASE,
)
# Sections that reflect on the incident: what they say "should" or "will" be restates the
# actions or states a principle; they are read for commitments only in a document that lists
# no actions anywhere else.
_LESSON_WORDS = lazy(
    r"\b(?:lessons?|learnings?|learned|learnt|takeaways?|conclusions?|concluding|reflections?"
    r"|retrospective|closing\s+thoughts|final\s+thoughts|wrap[\s-]*up)\b",
    re.IGNORECASE,
)
# Sections about the past, or about something other than the team's own work.
_PAST_WORDS = lazy(
    r"\b(?:timeline|chronology|sequence\s+of\s+events|glossary|exit\s+criteria|what\s+went"
    r"|(?:got|were|get)\s+lucky|impact|root\s+causes?|contributing|trigger|detection|summary"
    r"|background|instructions?|how\s+to|template|steps\s+to\s+close|supporting|appendix"
    r"|references?|symptoms?|taken|performed|what\s+happened|customers?|users?\s+should"
    r"|workarounds?|faq|you|your)\b",
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
    if _LESSON_WORDS.search(heading):
        return "lessons"
    if _MAYBE_WORDS.search(heading):
        return "maybe"
    return None


# A sentence, not a name: a verb of being or a modal, the reader addressed, a trailing `to`.
_NOT_A_LABEL = lazy(
    r"\b(?:are|is|were|was|be|been|should|would|could|can|may|might|you|your)\b|\bto\s*:?\s*$",
    re.IGNORECASE,
)


# Past sections whose lists are never the team's work, however a sentence there leads into
# one: what went wrong or right, luck, a timeline, advice to readers, instructions.
_ASIDE_WORDS = lazy(
    r"\b(?:what\s+went|lucky|timeline|chronology|sequence\s+of\s+events|you|your|customers?"
    r"|users?\s+should|instructions?|how\s+to|workarounds?|faq)\b",
    re.IGNORECASE,
)


def is_aside(heading: str) -> bool:
    """A section that may announce lists, but never as the team's actions."""
    kind = section_kind(heading)
    return kind == "lessons" or (kind == "past" and bool(_ASIDE_WORDS.search(heading)))


def is_label(text: str) -> bool:
    """A short plain line that names an action section (`Action Items`, `Next steps:`), not a
    sentence that leads into a list (`Our recommendations are to:`)."""
    words = text.rstrip(":").split()
    if not 0 < len(words) <= 6 or "." in text or _NOT_A_LABEL.search(text):
        return False
    # The action words end the label (`Corrective actions`, `Next steps:`); in `Follow up
    # commit workflow runs` they qualify something else.
    end = len(text.rstrip(": "))
    ends = any(match.end() == end for match in _ACTION_WORDS.finditer(text))
    return ends and section_kind(text) == "action"


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


# What a modal sentence says that is not work to do: what there will be (`there will be one
# queue per region`), what something will be able to do, what will no longer happen.
_NOT_WORK = lazy(
    r"\bthere\s+(?:will|would|should|must|shall)\s+(?:(?:also|now|then)\s+)?be\b"
    r"|\b(?:will|shall|should)\s+(?:(?:also|now)\s+)?"
    r"(?:be\s+able|no\s+longer|not|never|have\s+to\s+wait)\b",
    re.IGNORECASE,
)
# Who can need to do something: the team, a team, a person or role, not a thing (`the database
# needs to replay its log` describes how it works).
_AGENT_NEED = lazy(
    r"^(?:we|our\s+(?:[\w-]+\s+){0,2}teams?|the\s+(?:[\w-]+\s+){0,3}(?:teams?|owners?|engineers?"
    r"|on-?call)|[A-Z][\w-]*\s+teams?|someone|everyone|each\s+team)\s+needs?\s+to\b",
    re.IGNORECASE,
)
_RELATIVE_THEN_VERB = lazy(
    r"\b(?:which|that|who)\b\s+(?:\w+\s+){0,6}?(?:had|has|have|was|were|is|are|did|does|do"
    r"|\w+ed)\b",
    re.IGNORECASE,
)


def commits(text: str) -> bool:
    """Whether a line in a mixed section (Mitigation, Resolution) states future work: its
    first sentence says what will be done, in its main clause, without a hedge. What there
    will be, or what a thing needs to do, describes a design or a mechanism: not work."""
    first = sentences(text)[0] if text.strip() else ""
    match = _MAIN_MODAL.search(first)
    if match is None or _HEDGE.search(first) or _OUTCOME.search(first) or _NOT_WORK.search(first):
        return False
    if re.search(r"\bneeds?\s+to\b", match[0], re.I) and not _AGENT_NEED.match(first):
        return False
    relative = _RELATIVE.search(match[0])
    if relative and relative[0].casefold() in ("which", "that", "who"):
        # `The owners who were liquidated will be compensated`: the clause has its own verb,
        # so the modal is the main clause's.
        return bool(_RELATIVE_THEN_VERB.search(match[0]))
    return relative is None


# A paragraph that looks back at the list (`The changes outlined above will …`) or muses
# (`We could also think about …`, `We should probably revisit …`).
_LOOKS_BACK = lazy(
    r"\b(?:outlined|listed|described|mentioned|noted)\s+(?:above|below|here)\b"
    r"|\b(?:the\s+)?above\s+(?:changes|items|actions|steps|improvements|measures)\b"
    r"|\ball\s+of\s+(?:the\s+above|these|this)\b",
    re.IGNORECASE,
)
_MUSING = lazy(
    r"^(?:we|i|they|it|this|one)\s+(?:could|might|may|would)\b"
    r"|^(?:\w+\s+){0,3}?(?:should|will|could|might|may|need\s+to)\s+(?:\w+\s+)?(?:probably|perhaps"
    r"|maybe|possibly)\b|\b(?:think|thinking)\s+about\b|\bat\s+some\s+point\b",
    re.IGNORECASE,
)


def wraps_up(text: str) -> bool:
    """Whether a paragraph in an action section wraps up the list, promises an outcome of it,
    or muses, rather than states an action of its own."""
    first = sentences(text)[0] if text.strip() else ""
    return bool(_LOOKS_BACK.search(first) or _MUSING.search(first) or _OUTCOME.search(first))


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
    if (done_and := _DONE_AND_WILL.match(text)) and not _NOT_COMMITMENT.search(text):
        return text, _subject_of(done_and["subject"]), None
    match = _COMMITMENT.search(text)
    if match is None or _NOT_COMMITMENT.search(text):
        return None
    before = text[: match.start()]
    if _HEDGE.search(text[match.start() : match.end() + 20]) or re.search(r"\bif\b", before, re.I):
        return None
    if before.strip() and not _LEAD.fullmatch(before):
        return None  # the commitment is not what the sentence says first
    return text[match.start() :], _subject(text[match.start() :]), None


def _subject(text: str) -> str | None:
    match = _COMMITMENT.match(text)
    return None if match is None else _subject_of(match["subject"])


def _subject_of(subject: str) -> str | None:
    if subject.casefold() in _GENERIC_SUBJECTS:
        return None
    return re.sub(r"^(?:the|our)\s+", "", subject, flags=re.I)


# What may stand before the promise in its sentence: a short lead with a comma (`Lastly,`), a
# time phrase (`In the coming weeks we will …`), or a clause that concedes or sets the time
# (`Though the bug is fixed, we will …`, `Once the freeze ends, the team will …`).
_LEAD = lazy(
    r"[\w\s’'-]{0,40},\s*"
    r"|(?:(?:in|over|during|within|for)\s+the\s+(?:coming|next|following|upcoming|near)\s+"
    r"(?:\w+\s+){0,2}?(?:days?|weeks?|months?|quarters?|sprints?|releases?|future)"
    r"|(?:this|next)\s+(?:week|month|quarter|sprint|year)|going\s+forward|moving\s+forward"
    r"|from\s+now\s+on|soon|then|now|also|later)\s*,?\s*"
    r"|(?:though|although|even\s+though|while|whilst|since|because|as|now\s+that|once|after"
    r"|before|until|when|given\s+that)\b[^.;:]{3,160},\s*",
    re.IGNORECASE,
)
# `We have already rotated the keys, and will continue to audit them`: done, then promised.
_DONE_AND_WILL = lazy(
    rf"^(?P<subject>{_SUBJECT})\s+(?:have|has|'ve|’ve)\s+[^.;:]{{3,160}}?,?\s+and\s+"
    r"(?:will|(?:are|is)\s+going\s+to|plan\s+to)\s+(?:also\s+)?[a-z]+",
)


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
def _word_lists() -> dict[str, frozenset[str]]:
    """The word lists of data/verbs.toml: `imperatives`, `not_verbs` and `objects`."""
    text = (Path(__file__).parent / "data" / "verbs.toml").read_text(encoding="utf-8")
    return {name: frozenset(words) for name, words in tomllib.loads(text).items()}


def _words(name: str) -> frozenset[str]:
    return _word_lists()[name]


_NOT_A_VERB_FORM = lazy(
    r"(?:ing|ed|tion|sion|ness|ment|ity|ance|ence|ship|ism|ous|ful|less|able|ible|ive|ic|ly"
    r"|[^s]s)$"
)


def starts_imperative(text: str) -> bool:
    """Whether a line opens with a verb in the imperative, as a to-do does: a verb of the
    common list, or any word of a verb's form followed by an object or a particle."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text[:80])
    if not words:
        return False
    first = words[0].casefold()
    if first in _words("imperatives"):
        return True
    if first in _words("not_verbs") or _NOT_A_VERB_FORM.search(first) or len(words) < 2:
        return False
    return words[1].casefold() in _words("objects")
