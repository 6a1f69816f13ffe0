"""Reading an item's fields out of its text: owner, due date, tickets, status, priority, kind.

Pure functions over strings; the Markdown and HTML readers both use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncer.lazy import lazy

_SEP = r"\s*[:=\-–—]\s*"
_OWNER_LABEL = r"(?:owners?|assignees?|assigned\s+to|dri|who|responsible)"
_DUE_LABEL = r"(?:due(?:\s+date)?|deadline|eta|target(?:\s+date)?|by\s+when)"

# `Owner: Dana Kim`, `(owner: dana)`, `DRI - @dana`: the value stops at punctuation or a label.
_OWNER_RE = lazy(
    rf"[(\[]?\b{_OWNER_LABEL}{_SEP}(?P<value>@?[^,;()\[\]\n|]+?)\s*"
    rf"(?=[,;()\[\]|]|\.(?:\s|$)|\s+{_DUE_LABEL}\b|\s+(?:priority|status)\b|$)[)\]]?",
    re.IGNORECASE,
)
# A bare `due 2026-06-12` needs no colon when a date-like value follows.
_DATE_AHEAD = (
    r"\s+(?=\d|Q[1-4]\b|end\s+of\b|EO[DWMY]\b|in\s+\d|[A-Z][a-z]{2,}\.?\s+\d"
    r"|(?:next|this)\s+(?:week|month|quarter|sprint|release)\b|tomorrow\b)"
)
_DUE_RE = lazy(
    rf"[(\[]?\b{_DUE_LABEL}(?:{_SEP}|{_DATE_AHEAD})(?P<value>[^;()\[\]\n|]+?)\s*"
    rf"(?=[;()\[\]|]|\.(?:\s|$)|,\s*{_OWNER_LABEL}\b|\s+{_OWNER_LABEL}\b|$)[)\]]?",
    re.IGNORECASE,
)
_MENTION_RE = lazy(r"(?<![\w@/.])@(?P<handle>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))(?![\w@])")
_BY_DATE_RE = lazy(
    r"\s*[(,]?\s*\bby\s+(?P<value>\d{4}-\d{2}-\d{2}|\d{1,2}\s+[A-Z][a-z]+\s+\d{4}"
    r"|[A-Z][a-z]+\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?|Q[1-4]\s+\d{4}"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:Q[1-4](?:\s+\d{4})?|week|month|quarter|year|sprint))"
    r"\s*\)?\s*\.?\s*$"
)
_PRIORITY_RE = lazy(r"(?<![\w-])(?P<value>P[0-4])(?![\w-])")
_PRIORITY_WORDS = lazy(r"^(?:critical|high|medium|low|urgent)$", re.IGNORECASE)

_URL_RE = lazy(r"https?://[^\s<>()\[\]|]+[^\s<>()\[\]|.,;:!?'\"]")
_GH_REF_RE = lazy(r"(?<![\w/#&])(?P<ref>(?:[\w.-]+/)?[\w.-]+#\d+|#\d+)(?![\w])")
_JIRA_KEY_RE = lazy(r"(?<![\w/-])(?P<key>[A-Z][A-Z0-9]{1,9}-\d+)(?![\w-])")
_TICKET_HINT = lazy(r"[#-]|http|bug|issue|ticket", re.IGNORECASE)
_BUG_RE = lazy(r"\b(?P<ref>(?:Bug|Issue|Ticket)\s*(?:#\s*\d+|\d{3,}))", re.IGNORECASE)

_STATUS_PREFIX_RE = lazy(
    r"^\s*(?:\[(?P<box>[ xX])\]\s+|(?-i:(?P<word>DONE|TODO|WIP|IN PROGRESS|BLOCKED))\s*[:\-–—]\s*"
    r"|\[(?P<bracket>DONE|TO\s?DO|WIP|DOING|IN[\s-]PROGRESS|BLOCKED|FIXED|OPEN|CLOSED)\]\s*"
    r"|(?-i:(?P<bare>DONE|TODO|DOING|WIP|FIXED))\s+(?=[A-Za-z]))",
    re.IGNORECASE,
)
_STATUS_SUFFIX_RE = lazy(
    r"\s*(?:[(\[](?P<paren>done|completed|fixed|in progress|wip|todo|open|blocked)[)\]]"
    r"|[-–—:]\s*(?P<word>DONE|TODO|WIP|IN PROGRESS|BLOCKED))\s*\.?$",
    re.IGNORECASE,
)

# `(added in v2.3)`, `(filed <url>)`: a closing bracket that says what was done.
_DONE_BRACKET_RE = re.compile(
    r"\((?:(?:now|already)\s+)?(?:added|filed|wrote|written|created|shipped|deployed"
    r"|released|implemented|enabled|disabled|removed|migrated|documented|configured"
    r"|rolled\s+out|set\s+up|landed|rotated|updated|upgraded|published)\b[^()]*\)\s*\.?\s*$",
    re.I,
)
# Status said in words: `DONE in PR #5`, `(issue created)`, `PR exists`, `work in progress`.
_STATUS_PHRASES = (
    (
        re.compile(
            r"(?<!\bbe\s)\b(?:done|completed|fixed|implemented)\s+(?:in|via|with)\b"
            r"(?!\s+(?:\d|a\s+few|an?\s+(?:hour|minute|day|week)|the\s+next))",
            re.I,
        ),
        "done",
    ),
    (
        re.compile(
            r"\balready\s+(?:done|in\s+place|implemented|exists)\b|\bwe\s+already\s+do\s+this\b",
            re.I,
        ),
        "already done",
    ),
    (
        re.compile(r"\((?:[^()]*\s)?(?P<value>done|completed|fixed|merged)(?:\s[^()]*)?\)", re.I),
        None,
    ),
    (_DONE_BRACKET_RE, "done"),
    (
        re.compile(
            r"\((?P<value>(?:issue|ticket|pr)\s+(?:created|raised|opened|open|exists)|in\s+progress|wip|ongoing|blocked|not\s+started)\)",
            re.I,
        ),
        None,
    ),
    (
        re.compile(
            r"\b(?P<value>(?:PR|issue|ticket)\s+(?:exists|raised|opened|created))\s*\.?\s*$", re.I
        ),
        None,
    ),
    (re.compile(r"\b(?:is|are)\s+(?:a\s+)?(?:work\s+)?in\s+progress\b", re.I), "in progress"),
    (
        re.compile(
            r"\b(?:is|are|has\s+been|have\s+been)\s+(?:now\s+)?already\s+(?:been\s+)?"
            r"(?:released|shipped|deployed|live|rolled\s+out|merged|fixed|done|in\s+place)\b",
            re.I,
        ),
        "done",
    ),
)
# `(Rasmus call for meeting)`, `(Dana to follow up)`: a name and what they will do.
_PAREN_OWNER_RE = lazy(
    r"\((?P<name>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\s+(?:to|will|calls?|owns?|drives?|leads?|takes?"
    r"|handles?|follows?\s+up|is\s+on\s+it)\b[^()]*\)\s*\.?\s*$"
)
# `Add a probe — Team Alpha`, `... – Dana Kim`: a team, or a first and last name, after a dash.
_DASH_OWNER_RE = lazy(
    r"\s[—–]\s*(?P<name>(?:[Tt]eam\s+[A-Z][\w-]*|[A-Z][\w-]*\s+(?:[Tt]eam|[Ss]quad|SRE|on-call)"
    r"|[A-Z][a-z]+\s[A-Z][a-z]+))\s*\.?\s*$"
)


# `Platform team: review the limits`: a team or role named in front, as a label.
_LABEL_OWNER_RE = lazy(
    r"^(?P<owner>(?:[A-Z][\w&/-]*\s+){0,3}(?:[Tt]eam|[Ss]quad|[Gg]uild)|SREs?|DevOps|SecOps"
    r"|On-?call)\s*:\s+(?=\S)"
)
# `DevEx will …`, `The error tracking team should …`, `Leads to review …`: the subject of the
# action, when it is a team, a role or a team's short name. `The team` and `we` are no owner.
_SUBJECT_OWNER_RE = lazy(
    r"^(?:[Tt]he\s+|[Oo]ur\s+)?(?P<owner>(?:[\w&/-]+\s+){1,3}?(?:team|squad|guild)s?"
    r"|[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,5}s?|(?:[A-Z][a-z]+\s+)?(?:[Ll]eads|[Mm]anagers|[Mm]aintainers"
    r"|[Oo]n-?call(?:\s+engineers?)?))"
    r"\s+(?P<modal>will|should|must|shall|needs?\s+to|to|has|have|did)\s+(?P<next>[a-z]+)"
)
_GENERIC = frozenset(
    re.findall(
        r"\w+",
        "the our a an this that whole entire every each all other relevant affected respective"
        " your their my both various any",
    )
)


def subject_owner(text: str) -> str | None:
    """The team or role an action names as its subject, or None for `we`, `the team`."""
    match = _SUBJECT_OWNER_RE.match(text)
    if match is None:
        return None
    owner = match["owner"]
    words = owner.split()
    if words[0].casefold() in _GENERIC:
        return None
    acronym = bool(re.fullmatch(r"[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,5}s?", owner))
    if acronym and (match["next"] in ("be", "been", "not") or match["modal"] == "to"):
        return None  # `API should be rate-limited`, `CI to run tests`: a thing, not a team
    if match["modal"] in ("has", "have") and not match["next"].endswith("ed"):
        return None  # `Platform team has to …` is a need, `DevEx has a backlog` no action
    return owner


# Every phrase of `_STATUS_PHRASES` holds one of these.
_STATUS_WORDS = (
    "done",
    "complet",
    "fixed",
    "implement",
    "already",
    "merged",
    "progress",
    "wip",
    "ongoing",
    "blocked",
    "started",
    "exist",
    "raised",
    "opened",
    "created",
    "open)",
    "released",
    "shipped",
    # what a closing bracket says was done: `(added in v2.3)`, `(filed …)`
    "added",
    "filed",
    "wrote",
    "written",
    "deployed",
    "enabled",
    "disabled",
    "removed",
    "migrated",
    "documented",
    "configured",
    "rolled",
    "set up",
    "landed",
    "rotated",
    "updated",
    "upgraded",
    "published",
)


def status_phrase(text: str) -> str | None:
    """A status stated in words anywhere in the item's text, or None."""
    low = text.casefold()
    if not any(word in low for word in _STATUS_WORDS):
        return None  # none of the phrases below can match
    for pattern, value in _STATUS_PHRASES:
        if match := pattern.search(text):
            return value or match["value"]
    return None


_KINDS = {
    "prevent": "prevent",
    "prevention": "prevent",
    "preventive": "prevent",
    "mitigate": "mitigate",
    "mitigation": "mitigate",
    "detect": "detect",
    "detection": "detect",
    "monitoring": "detect",
    "repair": "repair",
    "fix": "repair",
    "process": "process",
    "investigate": "investigate",
    "investigation": "investigate",
    "other": "other",
}


_TRAILING = " \t-–—:;,."
# What leads into the reference in a bracket that only says where the work is tracked, or
# which earlier issue it repeats: `(see #12)`, `(same as OPS-3)`, `(duplicate of …)`.
_REF_LEAD = r"(?:see|same\s+as|dup(?:licate)?\s+of)\s*:?\s*"
_TRAILING_PAREN_RE = lazy(r"\s*\([^()]*\)\s*\.?\s*$")
_TRAILING_URL_RE = lazy(
    rf"[\s:;,–—-]*(?:\(\s*(?:{_REF_LEAD})?)?(?P<url>https?://\S+?)\s*\)?\s*\.?\s*$", re.IGNORECASE
)


_LINK_WORDS = ("link", "ticket", "issue", "bug", "pr")
_LEADING_REF_RE = lazy(
    r"^\s*(?:\[\s*[A-Z][A-Z0-9]+-\d+\s*\]|(?:[A-Z][A-Z0-9]+-\d+|(?:[\w.-]+/[\w.-]+)?#\d+)\s*[:–—-])\s*"
    r"(?=[A-Za-z])"
)
_TRAILING_LINK_WORDS_RE = lazy(
    r"\s*[-–—:|]\s*(?:jira|github|gh|gitlab|linear)?\s*(?:link|ticket|issue|bug|pr)\s*\.?$",
    re.IGNORECASE,
)
_ISSUE_URL_RE = lazy(
    r"https?://[^/]+/(?P<repo>[^/]+(?:/[^/]+)+?)(?:/-)?/(?:issues|pull|merge_requests)/(?P<n>\d+)"
    r"|https?://[^/]+/browse/(?P<key>[A-Z][A-Z0-9]+-\d+)"
)


def short_ref(ticket: str) -> str:
    """How people name an issue: `acme/app#42`, `OPS-7`, else the reference as it is."""
    if match := _ISSUE_URL_RE.match(ticket):
        return match["key"] or f"{match['repo']}#{match['n']}"
    return ticket


_TRAILING_REF_RE = lazy(
    rf"[\s,;:–—-]*[(\[]?\s*(?:{_REF_LEAD})?(?:(?:ticket|issue|bug|pr)\s*:?\s*(?:#\s*)?\d{{3,}}"
    r"|(?:(?:ticket|issue|bug|pr)\s*:?\s*)?(?:[\w.-]+/[\w.-]+)?#\d+)\s*[)\]]?\.?$"
    rf"|[\s,;:–—-]*[(\[]\s*(?:{_REF_LEAD})?[A-Z][A-Z0-9]+-\d+\s*[)\]]\.?$",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Fields:
    """What could be read from an item's text; `rest` is the text with the fields taken out."""

    rest: str
    owner: str | None = None
    due_text: str | None = None
    status: str | None = None
    priority: str | None = None
    snooze: str | None = None  # `snooze: YYYY-MM-DD`: no follow-up before that day


# `(status: IN REVIEW)`, `Status: done`: a status stated with its label.
_STATUS_LABEL_RE = lazy(
    r"[(\[]?\bstatus\s*[:=]\s*(?P<value>[^,;()\[\]\n|]+?)\s*(?=[,;()\[\]|]|\.?$)[)\]]?", re.I
)
_SNOOZE_RE = lazy(
    r"[(\[]?\bsnooze(?:d)?(?:\s+until)?\s*[:=]?\s*(?P<value>\d{4}-\d{2}-\d{2})[)\]]?", re.I
)


def read_fields(text: str) -> Fields:
    """Take labelled fields out of an item's text, leaving the action itself in `rest`."""
    found = Fields(rest=text)
    low = text.casefold()  # each pattern below is tried only where its words can be

    if match := _STATUS_PREFIX_RE.match(found.rest):
        box = match["box"]
        word = match["word"] or match["bracket"] or match["bare"]
        found.status = ("done" if box in "xX" else "open") if box else word
        found.rest = found.rest[match.end() :]

    if match := _LEADING_REF_RE.match(found.rest):
        found.rest = found.rest[match.end() :]  # `OPS-123: Alert on …`: the ticket, then the action

    if found.status is None and "status" in low and (match := _STATUS_LABEL_RE.search(found.rest)):
        found.status = match["value"].strip()
        found.rest = _cut(found.rest, match)
    if "snooze" in low and (match := _SNOOZE_RE.search(found.rest)):
        found.snooze = match["value"]
        found.rest = _cut(found.rest, match)
    if _has(low, _OWNER_WORDS) and (match := _OWNER_RE.search(found.rest)):
        found.owner = clean_owner(match["value"])
        found.rest = _cut(found.rest, match)
    if _has(low, _DUE_WORDS) and (match := _DUE_RE.search(found.rest)):
        found.due_text = match["value"].strip().rstrip(".")
        found.rest = _cut(found.rest, match)
        if dated := re.match(r"(\d{4}-\d{2}-\d{2})\s+(?=\w)", found.due_text):
            # `Due: 2026-08-01 then tell security`: the date, then more of the action.
            found.rest = f"{found.rest} {found.due_text[dated.end() :]}"
            found.due_text = dated[1]
    elif "by" in low and (match := _BY_DATE_RE.search(found.rest)):
        found.due_text = match["value"]
        found.rest = found.rest[: match.start()]
    found.rest = found.rest.rstrip(_TRAILING)
    if found.owner is None and "@" in text and (mention := _owner_mention(found.rest)):
        found.owner = "@" + mention["handle"]
        if found.rest.endswith(mention.group(0)):
            found.rest = found.rest[: mention.start()]

    tail_at = max(0, len(found.rest) - 30)  # a status suffix stands at the end
    if found.status is None and (match := _STATUS_SUFFIX_RE.search(found.rest, tail_at)):
        found.status = match["paren"] or match["word"]
        found.rest = found.rest[: match.start()]
    if found.status is None and "✅" in found.rest:
        found.status = "done"
        found.rest = found.rest.replace("✅", "")
    if found.status is None:
        found.status = status_phrase(found.rest)
        trailing = _TRAILING_PAREN_RE.search(found.rest)
        said = trailing and found.status and found.status.casefold() in trailing[0].casefold()
        if trailing and (said or (found.status and _DONE_BRACKET_RE.match(trailing[0].strip()))):
            found.rest = found.rest[: trailing.start()]  # `Fix it (issue created)`, `(added …)`
    if found.owner is None and (match := _LABEL_OWNER_RE.match(found.rest)):
        found.owner = match["owner"]
        found.rest = found.rest[match.end() :]
    if found.owner is None:
        found.owner = subject_owner(found.rest)
    if found.owner is None and ")" in text and (match := _PAREN_OWNER_RE.search(found.rest)):
        found.owner = match["name"]
    dashed = "—" in text or "–" in text
    if found.owner is None and dashed and (match := _DASH_OWNER_RE.search(found.rest)):
        found.owner = match["name"]
        found.rest = found.rest[: match.start()]

    timeframe = found.due_text is None and _TIMEFRAME_HINT.search(found.rest)
    if timeframe and (match := _TIMEFRAME_RE.search(found.rest)):
        found.due_text = (match["paren"] or match["next"] or match["cond"]).strip()
        if match["paren"]:
            found.rest = _cut(found.rest, match)

    if match := _PRIORITY_RE.search(found.rest):
        found.priority = match["value"]

    # A ticket URL at the end is where the work is tracked, not part of the action.
    while (
        "http" in found.rest
        and (match := _TRAILING_URL_RE.search(found.rest))
        and is_ticket_url(match["url"])
    ):
        found.rest = found.rest[: match.start()]
    # `Fix the deploy script #528`, `(GH-7)`: a reference at the end is the ticket, not the action.
    tail_at = max(0, len(found.rest) - 60)  # these forms stand at the end: look there only
    match = (
        _TRAILING_REF_RE.search(found.rest, tail_at)
        if "#" in found.rest[tail_at:] or (found.rest.rstrip(". ").endswith((")", "]")))
        else None
    )
    before = found.rest[: match.start()] if match else ""
    if match and len(before) > 8 and not re.search(r"\b(?:in|via|with|see|by|at)$", before):
        found.rest = before
    if found.rest.rstrip(" .").casefold().endswith(_LINK_WORDS) and (
        match := _TRAILING_LINK_WORDS_RE.search(found.rest, max(0, len(found.rest) - 40))
    ):
        found.rest = found.rest[: match.start()]  # `Fix the check - jira link`
    if not found.rest.strip(_TRAILING) and (tickets := find_tickets(text)):
        found.rest = short_ref(tickets[0])  # a checklist entry that is only an issue
    found.rest = re.sub(r"\s+", " ", found.rest).strip().rstrip(_TRAILING).lstrip(" -–—:;,")
    # What taking the fields out left behind: `… renewal (` of `… renewal (@alex, due …)`.
    found.rest = _EMPTY_BRACKETS_RE.sub("", found.rest).rstrip(_TRAILING)
    return found


_EMPTY_BRACKETS_RE = lazy(r"\s*[(\[][\s,;:]*[)\]]|\s*[(\[][\s,;:]*$")
# Mentions that call a channel or a rota to look, not a person to own the work.
_CHAT_ROLES = frozenset({"here", "channel", "everyone", "all", "oncall", "on-call", "team"})
_CALL_WORDS_RE = lazy(r"\b(?:ping|cc|notify|page|alert|tell|let|message|post|ask)\b|\bin\s+#", re.I)


def _owner_mention(text: str) -> re.Match[str] | None:
    """The first @-mention that names a person: not `@here`, not one a bracket only calls to
    look (`(ping @oncall in #ops)`)."""
    for mention in _MENTION_RE.finditer(text):
        if mention["handle"].casefold() in _CHAT_ROLES:
            continue
        opened = text.rfind("(", 0, mention.start())
        if opened > text.rfind(")", 0, mention.start()):  # inside a bracket
            closed = text.find(")", mention.end())
            if _CALL_WORDS_RE.search(text[opened : closed if closed >= 0 else len(text)]):
                continue
        return mention
    return None


# Timeframes and conditions written into an action: kept as its due text, since the policy and
# the reader need them, though only some name a date.
_TIMEFRAME_RE = lazy(
    r"\((?P<paren>(?:target:?\s*)?(?:Q[1-4]|H[12])\s*'?\d{2,4}(?:\s*[-–]\s*(?:Q[1-4]|H[12])\s*'?\d{2,4})?"
    r"|[A-Z][a-z]{2,8}\.?\s+\d{4})\)"
    r"|\b(?:within|in|over|during)\s+the\s+(?P<next>next\s+(?:\d+|a|one|two|three|four|few"
    r"|couple\s+of)\s+(?:days?|weeks?|months?|sprints?|quarters?))\b"
    r"|\b(?P<cond>(?:before|prior\s+to)\s+(?:re-?enabling|enabling|turning|the\s+next|next"
    r"|launch|release|GA|the\s+(?:freeze|migration|upgrade|launch|release|holidays?))\b[^.;,()]*)",
)


def timeframe_of(text: str) -> str | None:
    """A timeframe or condition a heading or label states for what it holds: `within the next
    2 weeks`, `before re-enabling sync`."""
    if not _TIMEFRAME_HINT.search(text) or not (match := _TIMEFRAME_RE.search(text)):
        return None
    return (match["next"] or match["cond"] or "").strip() or None


_TIMEFRAME_HINT = lazy(r"\(|\bnext\b|\bbefore\b|\bprior\b", re.IGNORECASE)
_CELL_STATUS_RE = lazy(
    r"(?-i:\b(?P<word>DONE|TODO|FIXED|WIP|DOING|IN PROGRESS|BLOCKED|COMPLETED?|MERGED|CLOSED"
    r"|OPEN)\b)|\((?P<paren>done|fixed|completed?|merged|closed|in progress|wip|open|todo)\)"
    r"|^(?P<alone>done|fixed|completed?|merged|closed|todo|wip)\.?$",
    re.IGNORECASE,
)


def cell_status(text: str) -> str | None:
    """A status written in a ticket or bug cell beside the reference: `Bug #5554823 TODO`,
    `n/a DONE`, `#12 (done)`, `TODO.`"""
    if match := _CELL_STATUS_RE.search(text.strip()):
        return match["word"] or match["paren"] or match["alone"]
    return None


_OWNER_WORDS = ("owner", "assign", "dri", "who", "responsible")
_DUE_WORDS = ("due", "deadline", "eta", "target", "by when")


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def _cut(text: str, match: re.Match[str]) -> str:
    return (text[: match.start()] + " " + text[match.end() :]).strip()


_NO_OWNER = frozenset(
    {
        "tbd",
        "tba",
        "tbc",
        "unassigned",
        "none",
        "n/a",
        "na",
        "unknown",
        "owner unclear",
        "nobody",
        "?",
        "-",
        "—",
        "–",
        "owner",
        "name",
        "who",
    }
)


def clean_owner(value: str) -> str | None:
    """An owner as written, or None for blanks and stand-ins (`TBD`, `Unassigned`, `[owner]`)."""
    owner = strip_symbols(re.sub(r"\s+", " ", value)).strip(" .*_`\"'")
    if not owner or owner.casefold() in _NO_OWNER or _TEMPLATE_TOKEN_RE.fullmatch(owner):
        return None
    if re.fullmatch(r"\[[^\]]*\]|\{[^}]*\}|<[^>]*>", owner):
        return None  # `[owner]`, `{name}`, `<who>`: a template's blank
    return owner


def strip_symbols(text: str) -> str:
    """Drop emoji and other pictographs around a cell's words (`🔴 High` is High)."""
    return re.sub(r"^[^\w(\[#@]+|[^\w)\].!?]+$", "", text.strip())


# Where trackers keep issues: GitHub, GitLab, Jira, Bugzilla, Azure DevOps, Linear, Shortcut...
_TICKET_URL_RE = lazy(
    r"/(?:issues?|pulls?|merge_requests|tickets?|bugs?|browse|story|stories|workitems?|tasks?"
    r"|cards?|incidents?)/[\w-]|/-/(?:issues|merge_requests)/|show_bug\.cgi|[?&]id=\d+"
    r"|/[A-Z][A-Z0-9]+-\d+(?:[/?#]|$)",
    re.IGNORECASE,
)
_TICKET_TEXT_RE = lazy(
    r"\b(?:issue|ticket|bug|pr|pull\s+request|jira|card|story)s?\b|#\d+|\b[A-Z][A-Z0-9]+-\d+\b",
    re.IGNORECASE,
)


def is_ticket_url(url: str, text: str = "") -> bool:
    """A link to an issue or change, as opposed to docs, dashboards or repositories."""
    if not url.startswith(("http://", "https://")):
        return False
    return bool(_TICKET_URL_RE.search(url) or _TICKET_TEXT_RE.search(text))


def find_tickets(text: str, links: list[tuple[str, str]] | None = None) -> list[str]:
    """Ticket references in `text` and in (target, text) links, in order, without repeats."""
    found: list[str] = []
    for url, label in links or []:
        if is_ticket_url(url, label) and url not in found:
            found.append(url)
    if not _TICKET_HINT.search(text):
        return found  # no URL, `#12`, `KEY-12` or `Bug 123` can be in it
    without_urls = _URL_RE.sub(" ", text)
    for url in _URL_RE.findall(text):
        if is_ticket_url(url) and url not in found:
            found.append(url)
    for pattern, group in ((_BUG_RE, "ref"), (_GH_REF_RE, "ref"), (_JIRA_KEY_RE, "key")):
        for match in pattern.finditer(without_urls):
            ref = match[group]
            if not any(_same_ticket(ref, known) for known in found):
                found.append(ref)
        without_urls = pattern.sub(" ", without_urls)
    return found


def _same_ticket(ref: str, known: str) -> bool:
    """`#3044` and `Ticket #3044` name what a link to `.../issues/3044` already names."""
    number = re.search(r"[\w-]*?(\d+)$", ref)
    return ref in known or bool(number and re.search(rf"/{number[1]}(?:[/?#]|$)", known))


def priority_of(text: str) -> str | None:
    value = strip_symbols(text).strip("*_")
    if match := _PRIORITY_RE.fullmatch(value):
        return match["value"]
    if _PRIORITY_WORDS.match(value):
        return value.capitalize()
    return value or None


def kind_of(text: str | None) -> str | None:
    """The Google SRE category a type cell or sub-heading names, else the text as written."""
    if not text:
        return None
    value = text.strip().strip("*_:").strip()
    if not value:
        return None
    first = re.split(r"[\s/(:-]", value.casefold(), maxsplit=1)[0]
    return _KINDS.get(first, value)


# Template stand-ins: `{{ summary }}`, `{action}`, `[Insert owner]`, `<name>`.
_TEMPLATE_TOKEN_RE = lazy(
    r"\{(?<!\$\{)\{[^{}]*\}\}|\{[a-z][a-z0-9_ .-]*\}|\[(?:insert|add|your|link|enter)[^\]]*\]"
    r"|<[a-z][a-z _-]*>",
    re.IGNORECASE,
)


_CODE_RE = lazy(r"^(```|~~~).*?^\1|`[^`\n]*`", re.MULTILINE | re.DOTALL)


def template_tokens(text: str) -> int:
    """How many template stand-ins a document holds outside its code (`<none>` in a log is not)."""
    if not _TEMPLATE_TOKEN_RE.search(text):
        return 0  # none at all, in code or out of it
    prose = _CODE_RE.sub(" ", text)
    return sum(1 for token in _TEMPLATE_TOKEN_RE.findall(prose) if not token.startswith("<"))


# `[Date]`, `[Title]`, `[Summary of the incident]`: a capitalised blank in square brackets that
# is no link, no checkbox and no status (`[DONE]`).
_SQUARE_BLANK_RE = lazy(r"(?<![\]!\\])\[(?P<word>[A-Z][a-z][^\[\]\n]{0,40})\](?![(\[:])")
_SAYS_TEMPLATE_RE = lazy(
    r"\btemplate\b|\bfill\s+(?:in|out)\b|\breplace\s+(?:the|each|this)\b", re.I
)


def square_blank_template(text: str) -> bool:
    """A template whose blanks are square-bracketed words and whose opening says what it is
    (`This is a template: copy it …`)."""
    prose = _CODE_RE.sub(" ", text) if "[" in text else ""
    blanks = [m for m in _SQUARE_BLANK_RE.finditer(prose) if not m["word"].isupper()]
    return len(blanks) >= 2 and bool(_SAYS_TEMPLATE_RE.search(prose[: max(600, blanks[0].end())]))


_PLACEHOLDER_RE = lazy(
    r"^(?:\{\{.*\}\}|\[[^\]]*\]|<[^>]*>|tbd|tba|todo|xxx+|n/?a|none|-+|\.{2,}|…|\?+"
    # a template's numbered stand-in or a column's name: `Action item 1 (owner, due date)`
    r"|(?:action\s*items?|actions?|items?|tasks?|follow[\s-]*ups?|to\s?-?dos?)\s*#?\d*"
    r"|description|summary|owners?|assignee|due(?:\s+date)?|status|tickets?|priority|type"
    r")(?:\s*\([^()]*\))?$",
    re.IGNORECASE,
)
# A template's instruction where an item would stand: `itemized list of ways to prevent it`,
# `Describe the fix`, `What can we do better next time?`.
_INSTRUCTION_RE = lazy(
    r"^(?:an?\s+)?(?:itemi[sz]ed\s+|bulleted\s+)?list\s+(?:of|the|any|all)\b"
    r"|^(?:describe|explain|summari[sz]e)\s+(?:in\s+detail|briefly|here|what|how|why|when)\b"
    r"|^give\s+(?:an?\s+)?(?:detailed|brief|short)\b"
    r"|^(?:what|how)\s+(?:can|could|should)\s+we\b",
    re.IGNORECASE,
)
# Bracketed stand-ins that are not links (`[Prevention measure 1]`, `#[issue]`); an item that
# is nothing else is a template's.
_BRACKETED_RE = lazy(r"\[[^\]\[]*[^\W\d_][^\]\[]*\]")


# What stands where an item would, saying there is none or what to write there: `None
# required for this run`, `No further action needed.`, `(Fill in during the review.)`.
_NOTHING_RE = lazy(
    r"^(?:none|n/?a|nothing(?:\s+to\s+do)?|no\s+(?:further\s+|other\s+)?(?:actions?|follow[\s-]*ups?"
    r"|action\s+items?|changes?|work))(?:\s+(?:is\s+|are\s+)?(?:required|needed|planned|identified"
    r"|necessary|so\s+far|yet|at\s+(?:this|the\s+moment|present)\s*\w*|for\s+(?:now|this\s+\w+)))*"
    r"\s*[.!]?$"
    r"|^\(?\s*(?:fill\s+(?:in|out|this)|to\s+be\s+(?:filled|completed|written|added|decided))\b",
    re.IGNORECASE,
)


_CATEGORIES = frozenset(
    {"prevent", "mitigate", "detect", "repair", "process", "investigate", "other"}
)


def is_placeholder(text: str) -> bool:
    """True for template leftovers: `{{ summary }}`, `[owner]`, `TBD`, a lone `-`, blank, and
    for words in an item's place saying there is none (`None required`) or what to write."""
    value = text.strip().strip("*_").strip()
    if not value or _TEMPLATE_TOKEN_RE.search(value) or _PLACEHOLDER_RE.match(value):
        return True
    if _NOTHING_RE.match(value) or _INSTRUCTION_RE.match(value):
        return True
    if value.strip("*_:. ").casefold() in _CATEGORIES:
        return True  # `**Prevent** (design/code/config)`: a category, not an action
    if "[" in value:
        value = _BRACKETED_RE.sub(" ", value)
    return len(re.findall(r"[^\W\d_]{2,}", value)) < 1
