"""The values pmsync passes between stages: documents, post-mortems, items, people, issues.

Everything here is a frozen value; nothing here does I/O or imports other pmsync modules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal


class Severity(StrEnum):
    """How much a finding matters; ordered from least to most."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """Where a document came from; `id` is stable across runs (path relative to the source root)."""

    source: str
    id: str
    uri: str
    updated_at: datetime | None = None
    version: str = ""
    link: str = ""  # where a person reads it (a web page); empty when there is none
    author: str = ""  # who last changed it, where the source knows (a Git commit's author)
    created_at: datetime | None = None  # when it was first written, where the source knows

    @property
    def display_link(self) -> str:
        """A link that is the same from every machine: the web link, else the stable id."""
        return self.link or self.id


@dataclass(frozen=True, slots=True)
class Document:
    ref: DocumentRef
    title: str
    text: str
    format: Literal["markdown", "html"] = "markdown"


Basis = Literal["explicit", "inferred"]


@dataclass(frozen=True, slots=True)
class ActionItem:
    """One action item as the document states it.

    `due` is set only when the due text was understood without doubt; `due_text` keeps what the
    document said either way. `placeholder` items (template leftovers) are never synced.
    `basis` is how the document states the item: `explicit` (a row of an action table, a
    checklist entry, an entry or labelled line in an action section) or `inferred` (a
    commitment read from prose or from a section that is not about actions).
    """

    key: str
    postmortem_id: str
    title: str
    description: str = ""
    owner: str | None = None
    due: date | None = None
    due_text: str | None = None
    priority: str | None = None
    kind: str | None = None
    status: str | None = None
    tickets: tuple[str, ...] = ()
    root_cause: str | None = None
    line: int = 0
    placeholder: bool = False
    suppressed: frozenset[str] = frozenset()
    snooze: date | None = None  # no follow-up before this day
    end_line: int = 0  # where the item's first paragraph ends (a list item's), else 0
    basis: Basis = "explicit"

    @property
    def is_done(self) -> bool:
        return normalise_status(self.status) == "done"


_DONE_RE = re.compile(r"\b(?:done|complete|completed|closed|fixed|resolved|finished|merged)\b")
_NOT_DONE_RE = re.compile(
    r"\b(?:not|un)[\s-]?(?:done|complete|completed|fixed|resolved|finished)\b"
)


def normalise_status(status: str | None) -> Literal["done", "open"] | None:
    """Map a status as written ("DONE", "Completed", "already done", "PR exists") to done/open."""
    if not status or not status.strip():
        return None
    words = status.strip().casefold()
    if words in ("x", "✅") or (_DONE_RE.search(words) and not _NOT_DONE_RE.search(words)):
        return "done"
    return "open"


@dataclass(frozen=True, slots=True)
class Postmortem:
    id: str
    ref: DocumentRef
    title: str
    incident_date: date | None = None
    severity: str | None = None
    team: str | None = None
    facilitator: str | None = None
    # Who answers for the post-mortem (front matter owner, incident lead, facilitator or
    # author), and which of those `owner_role` names.
    owner: str | None = None
    owner_role: str | None = None
    route: str | None = None
    items: tuple[ActionItem, ...] = ()
    root_causes: tuple[str, ...] = ()
    template: bool = False
    has_action_section: bool = False
    suppressed: frozenset[str] = frozenset()
    headings: tuple[tuple[int, str], ...] = ()  # (line, text) of every heading, in order
    prose: tuple[tuple[int, str], ...] = ()  # (line, text) of the author's own text, not code
    # The services, components, alerts and tags its front matter names, lower-case.
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """One person of the people directory; `key` is their canonical name."""

    key: str
    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    accounts: tuple[tuple[str, str], ...] = ()  # (tracker account key, handle): ("github", "al")
    manager: str | None = None
    team: str | None = None
    lead: bool = False

    def account(self, key: str | None) -> str | None:
        """The person's handle in trackers whose people directory key is `key`."""
        return next((handle for k, handle in self.accounts if k == key), None)


@dataclass(frozen=True, slots=True)
class TrackerRef:
    tracker: str
    key: str
    url: str


@dataclass(frozen=True, slots=True)
class Marker:
    """The identity pmsync writes into every issue it creates."""

    item_key: str
    content_hash: str
    postmortem_id: str | None = None
    # The fields pmsync set by policy, with the value it set ("due", "2026-04-01"),
    # ("assignee", "lpark"): a different value in the tracker is a person's change, kept.
    policy: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Nudge:
    """A follow-up comment pmsync left on an issue, read back from its hidden marker."""

    at: datetime
    kind: str  # "stalled" or "overdue"
    count: int  # the how-manieth nudge of the issue this is
    escalated: bool = False


@dataclass(frozen=True, slots=True)
class Activity:
    """What happened on an issue beyond its fields: people's last word, and pmsync's nudges."""

    last_human: datetime | None = None
    nudges: tuple[Nudge, ...] = ()
    assigned_at: datetime | None = None  # when someone was first assigned; None: never
    changes: tuple[str, ...] = ()  # the pull requests, merge requests or commits linked to it
    remarks: tuple[str, ...] = ()  # the items pmsync noted there as promised again (keys)

    @property
    def last_nudge(self) -> Nudge | None:
        return max(self.nudges, key=lambda nudge: nudge.at, default=None)


@dataclass(frozen=True, slots=True)
class IssueSnapshot:
    """An issue pmsync created, as the tracker shows it now."""

    ref: TrackerRef
    item_key: str
    state: Literal["open", "closed"]
    title: str
    body: str
    postmortem_id: str | None = None
    status_category: Literal["new", "indeterminate", "done"] = "new"
    state_reason: str | None = None
    assignees: tuple[str, ...] = ()
    due: date | None = None
    labels: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_human_activity_at: datetime | None = None
    closed_at: datetime | None = None  # when it was last closed, where the tracker says
    synced_hash: str = ""
    nudges: int = 0
    policy: tuple[tuple[str, str], ...] = ()  # from the marker: fields set by policy


ItemOutcome = Literal["open", "done", "dropped"]
# How trackers say an issue was closed without being done: abandoned, a duplicate, removed.
DROPPED_REASONS = frozenset({"not_planned", "duplicate"})
# Where a tracker has no close reason of its own (GitLab; Jira workflows that set no
# resolution), pmsync labels an issue it closes without it being done.
NOT_PLANNED_LABEL = "not-planned"
# Labels that say what an issue lacks: pmsync puts them on while it is so, and takes them off
# when it is no longer so (an owner set in the document or by a policy, the checks met).
NEEDS_OWNER_LABEL = "needs-owner"
NEEDS_REFINEMENT_LABEL = "needs-refinement"
STATE_LABELS = frozenset({NEEDS_OWNER_LABEL, NEEDS_REFINEMENT_LABEL})


def outcome_of(snap: IssueSnapshot) -> ItemOutcome:
    """Where an issue stands: `open`; `done` (closed as completed, or moved to a done status);
    or `dropped` (closed as not planned or as a duplicate, or removed from its post-mortem).
    Every count of done items (the report, the digest, the CSV, the metrics, the review
    table) reads this one mapping: a dropped item is never done."""
    if snap.state != "closed":
        return "open"
    return "dropped" if snap.state_reason in DROPPED_REASONS else "done"


@dataclass(frozen=True, slots=True)
class IssueDraft:
    """What an issue should look like, before a tracker gives it an identity."""

    item_key: str
    postmortem_id: str
    title: str
    body: str
    assignees: tuple[str, ...] = ()
    due: date | None = None
    labels: tuple[str, ...] = ()
    content_hash: str = ""
    priority: str | None = None
    source_url: str = ""  # the post-mortem on the web, when it has an address there
    source_title: str = ""
    policy: tuple[tuple[str, str], ...] = ()  # fields set by policy, and the value set

    @property
    def marker(self) -> Marker:
        return Marker(self.item_key, self.content_hash, self.postmortem_id, self.policy)


def stale_labels(draft: IssueDraft, present: Iterable[str], keep: Iterable[str] = ()) -> set[str]:
    """The state labels on an issue (`present`) that its draft no longer calls for; `keep`
    are those the tracker puts on itself (an owner it refused to assign)."""
    return set(STATE_LABELS.intersection(present)) - set(draft.labels) - set(keep)


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    doc: str
    line: int = 0
    item_key: str | None = None


Op = Literal["create", "update", "close", "reopen", "unchanged", "skip"]


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """One step of a sync, with the reason a person can read in `pmsync plan`."""

    op: Op
    tracker: str
    reason: str
    item: ActionItem | None = None
    target: TrackerRef | None = None
    draft: IssueDraft | None = None
    changes: Mapping[str, object] = field(default_factory=dict)
    close_reason: Literal["completed", "not_planned", "duplicate"] | None = None
    # Who gets the item and when it is due, and why when the document did not say so.
    owner: str = ""
    owner_why: str = ""
    due: str = ""
    due_why: str = ""
    # A person assigned by policy, and the note asking them to hand the item on (one comment).
    handover: tuple[str, str] | None = None
    keeper: TrackerRef | None = None  # the issue a duplicate is closed in favour of
    remark: Remark | None = None  # the earlier issue this item promises again


@dataclass(frozen=True, slots=True)
class Remark:
    """A note pmsync leaves once on an earlier issue whose item a later post-mortem promises
    again: on `target`, for the new item `item_key`. `{link}` in `text` stands for the new
    item's issue, once it has one."""

    target: TrackerRef
    item_key: str
    text: str


@dataclass(frozen=True, slots=True)
class SyncPlan:
    actions: tuple[PlannedAction, ...] = ()

    def count(self, op: Op) -> int:
        return sum(1 for action in self.actions if action.op == op)


def normalise_title(title: str) -> str:
    """Lower-case words only: the form titles are compared and hashed in."""
    return " ".join(re.findall(r"[^\W_]+", title.casefold()))


def item_key(postmortem_id: str, title: str, explicit_id: str | None = None) -> str:
    """A short, stable, label-safe key for an item.

    An id written in the document (an `ID` column, `AI-3`) wins, so a retitled item keeps its
    key; otherwise the key follows the post-mortem and the normalised title.
    """
    basis = f"id:{explicit_id.strip().casefold()}" if explicit_id else normalise_title(title)
    digest = hashlib.sha256(f"{postmortem_id}\0{basis}".encode()).hexdigest()
    return digest[:12]
