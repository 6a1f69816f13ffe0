"""The `linear` tracker: action items as Linear issues, through Linear's GraphQL API, exactly
once.

There is no well-kept Python client for Linear (its own SDK is TypeScript), so this module
speaks GraphQL itself through `requests`, with the retries, throttle, quota wait and request
counting every REST tracker has (`connectors.trackers.rest`). It asks only for the fields it
uses and pages by 50.

**Exactly once.** Linear lets a client choose an issue's `id`. pmsync derives it from the
item's identity: the team's key and the item's key, hashed, with the version and variant
bits of a UUID v4 set. A create repeated after a lost answer, or made by a second machine at
the same moment, can only name the same issue: Linear refuses the second, and pmsync adopts
the issue that exists. Each issue also carries an attachment with the item's address, so
that `attachmentsForURL` finds it from the post-mortem.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import requests
from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import CHANGE_RE, CloseReason, activity_of, create_each
from connectors.config import (
    BuildContext,
    Remote,
    TrackerSection,
    check_readable,
    secrets_from_files,
)
from connectors.sources.http import timestamp
from connectors.trackers.rest import RestApi
from connectors.trackers.retry import (
    classify,
    first_contact,
    no_answer_is_uncertain,
    reset_in,
    retry_after_seconds,
)
from syncer import logs
from syncer.errors import (
    ConfigError,
    FatalError,
    NotFound,
    PmsyncError,
    Refused,
    RetriableError,
    SkippableError,
    UncertainError,
)
from syncer.identity import parse_marker, with_marker
from syncer.model import (
    NEEDS_OWNER_LABEL,
    STATE_LABELS,
    Activity,
    IssueDraft,
    IssueSnapshot,
    TrackerRef,
    stale_labels,
)

log = logs.get_logger("pmsync.linear")

SYNC_LABEL = "pmsync"
PAGE = 50  # a page of a listing (Linear counts a query's complexity by its page sizes)
# Linear's priorities: 0 none, 1 urgent, 2 high, 3 medium, 4 low. An item's priority as
# written, folded to lower case, maps by this table unless `priority_map` says otherwise.
PRIORITIES = {
    "p0": 1,
    "sev0": 1,
    "sev1": 1,
    "critical": 1,
    "urgent": 1,
    "highest": 1,
    "blocker": 1,
    "p1": 2,
    "sev2": 2,
    "high": 2,
    "p2": 3,
    "sev3": 3,
    "medium": 3,
    "normal": 3,
    "moderate": 3,
    "p3": 4,
    "p4": 4,
    "sev4": 4,
    "low": 4,
    "lowest": 4,
    "minor": 4,
}
ISSUE_FIELDS = """
  id identifier url title description dueDate priority createdAt updatedAt
  completedAt canceledAt state { type } assignee { id email } creator { id }
  labels(first: 25) { nodes { id name } }
"""


@dataclass(frozen=True, slots=True)
class LinearOptions:
    """How to reach one team and how hard to push Linear (from `[trackers.<name>]`)."""

    team: str  # the team's key, "OPS"
    url: str = "https://api.linear.app"
    api_key: str | None = None  # a personal API key: `Authorization: <key>`
    token: str | None = None  # an OAuth access token: `Authorization: Bearer <token>`
    labels: tuple[str, ...] = ()
    project: str | None = None  # a project's name or id every issue joins
    cycle: Literal["none", "active"] = "none"
    priority_map: Mapping[str, int] = field(default_factory=dict)
    # The people directory's `linear` handles, each an e-mail or a user id: an assignee is
    # reported in the form the directory writes them, so that nothing looks reassigned.
    people: tuple[str, ...] = ()
    write_interval: float = 0.2
    max_writes_per_minute: int = 0
    max_wait: float = 600.0
    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 2.0


def issue_id(team: str, item_key: str) -> str:
    """The id of the issue filed for an item in a team: the same on every run and machine, a
    UUID v4 in form (Linear documents ids as v4), derived by hashing the identity."""
    digest = bytearray(hashlib.sha256(f"pmsync:{team}:{item_key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40  # version 4
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def item_url(draft: IssueDraft) -> str:
    """The address of the item an issue was filed for, attached to the issue."""
    base = draft.source_url if draft.source_url.startswith(("http://", "https://")) else ""
    return f"{base or 'https://pmsync.invalid/items'}#pmsync-{draft.item_key}"


class LinearApi(RestApi):
    """Linear's GraphQL endpoint: each operation one POST, its `errors[]` translated to
    pmsync's errors by their `extensions.code`; a spent request or complexity budget waited
    out from the `X-RateLimit-*-Reset` headers (epoch milliseconds)."""

    service = "Linear"
    quota = ("x-ratelimit-requests-remaining", "x-ratelimit-requests-reset")
    quota_scale = 0.001

    def __init__(
        self,
        name: str,
        options: LinearOptions,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        epoch: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, options, sleep=sleep, clock=clock, epoch=epoch)
        if not options.api_key and not options.token:
            raise FatalError("no Linear API key: set api_key, api_key_file or LINEAR_API_KEY")
        self.endpoint = options.url.rstrip("/") + "/graphql"
        self._timeout = options.timeout
        self._session = requests.Session()
        secret = options.api_key or f"Bearer {options.token}"
        self._session.headers.update({"Authorization": secret, "User-Agent": "pmsync"})
        self.complexity = 0  # the complexity Linear counted for the operations of this run

    def _send(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[Mapping[str, str], Any]:
        what = f"linear {self.name}: {path}"
        with no_answer_is_uncertain(what, "Linear"):
            answer = self._session.post(self.endpoint, json=body, timeout=self._timeout)
        received = {k.lower(): v for k, v in answer.headers.items()}
        self.complexity += int(received.get("x-complexity", "0") or 0)
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.failed(verb, received)
            raise classify(answer.status_code, what, "Linear", answer.text[:200])
        if data.get("errors") or answer.status_code >= 400:
            self.failed(verb, received)
            raise self._error(answer.status_code, received, data, what)
        return received, data.get("data") or {}

    def _error(
        self, status: int, headers: Mapping[str, str], data: Mapping[str, Any], what: str
    ) -> PmsyncError:
        errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
        codes = {str((e.get("extensions") or {}).get("code") or "") for e in errors}
        detail = "; ".join(str(e.get("message") or "") for e in errors)[:300]
        if "RATELIMITED" in codes:
            wait = retry_after_seconds(headers) or reset_in(
                headers.get("x-ratelimit-requests-reset")
                or headers.get("x-ratelimit-complexity-reset"),
                self._epoch,
                self.quota_scale,
            )
            return RetriableError(f"{what}: rate limited by Linear ({detail})", wait or 60.0)
        if "AUTHENTICATION_ERROR" in codes:
            return classify(401, what, "Linear", detail, credentials="check api_key")
        if "FORBIDDEN" in codes:
            return classify(403, what, "Linear", detail)
        if "ENTITY_NOT_FOUND" in codes:
            return NotFound(f"{what}: not found: {detail}")
        if "INTERNAL_SERVER_ERROR" in codes or status >= 500:
            return UncertainError(f"{what}: Linear answered {status}: {detail}")
        return Refused(f"{what}: Linear refused it: {detail}", status if status >= 400 else 400)

    def watch_quota(self, headers: Mapping[str, str]) -> None:
        """Both budgets Linear keeps, requests and complexity: when one is spent, wait for its
        reset before the next operation."""
        super().watch_quota(headers)
        spent = headers.get("x-ratelimit-complexity-remaining", "").strip() == "0"
        reset = headers.get("x-ratelimit-complexity-reset")
        wait = reset_in(reset, self._epoch, self.quota_scale) if spent else None
        if wait is not None:
            cause = RetriableError(f"linear {self.name}: complexity budget used up")
            self.budget.pause(wait, cause)

    def run(
        self,
        operation: str,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        write: bool = False,
        repeat: bool = True,
    ) -> dict[str, Any]:
        """One GraphQL operation (`operation` names it in errors and logs); its `data`."""
        body = {"query": query, "variables": dict(variables or {})}
        _, data = self.request("POST", operation, body=body, write=write, repeat=repeat)
        return dict(data)

    def nodes(
        self, operation: str, query: str, path: Sequence[str], variables: Mapping[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every node of a connection (`path` leads to it in the answer), a page at a time;
        the query takes `$after` and asks for `pageInfo { hasNextPage endCursor }`."""
        after: str | None = None
        while True:
            data: Any = self.run(operation, query, {**variables, "after": after})
            for key in path:
                data = data.get(key) if isinstance(data, dict) else None
            if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
                raise SkippableError(f"{operation}: unexpected answer")
            yield from (node for node in data["nodes"] if isinstance(node, dict))
            info = data.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = str(info["endCursor"])


class LinearTracker:
    kind = "linear"

    def __init__(
        self,
        name: str,
        options: LinearOptions,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        epoch: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.options = options
        self.api = LinearApi(name, options, sleep=sleep, clock=clock, epoch=epoch)
        self._team: dict[str, Any] | None = None
        self._bot: str | None = None
        self._label_ids: dict[str, str] = {}  # label name, folded -> id
        self._labels: dict[str, tuple[str, ...]] = {}  # issue id -> label names, as last read
        self._users: dict[str, str | None] = {}  # handle -> user id, or None: not in the team
        self._extras: dict[str, str] | None = None  # projectId, cycleId
        self._member_cache: dict[str, str] | None = None  # user id -> e-mail, folded
        self._uuids: dict[str, str] = {}  # identifier ("OPS-12") -> the issue's id, as read

    # --- the Tracker protocol -----------------------------------------------------------------

    def verify(self) -> None:
        """Reach Linear once: a ConfigError naming the setting when the key is wrong or the
        team does not exist (`config check --online`)."""
        self._bot_or_config_error()
        self._team_or_config_error()

    def webhook_at(self, url: str) -> bool:
        """Whether a webhook for issues, enabled, delivers to `url` (set up in Linear's
        settings: Linear shows its signing secret once, to a person)."""
        query = (
            "query PmsyncWebhooks($after: String) { webhooks(first: 50, after: $after) {"
            " nodes { url enabled resourceTypes } pageInfo { hasNextPage endCursor } } }"
        )
        return any(
            hook.get("url") == url
            and hook.get("enabled")
            and "Issue" in (hook.get("resourceTypes") or [])
            for hook in self.api.nodes("webhooks", query, ["webhooks"], {})
        )

    def check_people(self, handles: Sequence[str]) -> None:
        """A ConfigError naming each person of the directory Linear has no user for, or whose
        user is not a member of the team."""
        strangers = [h for h in handles if self._user_id(h) is None]
        if strangers:
            raise ConfigError(
                [
                    f"people: linear = {h!r} is no member of team {self.options.team!r}"
                    for h in strangers
                ]
            )

    def snapshot(self) -> Sequence[IssueSnapshot]:
        """Every issue pmsync's account created in the team, 50 a page."""
        bot = self._bot_or_config_error()
        team = self._team_or_config_error()
        query = (
            "query PmsyncIssues($team: ID!, $bot: ID!, $after: String) {"
            " issues(filter: {team: {id: {eq: $team}}, creator: {id: {eq: $bot}}},"
            f" first: {PAGE}, after: $after) {{ nodes {{ {ISSUE_FIELDS} }}"
            " pageInfo { hasNextPage endCursor } } }"
        )
        found = []
        for data in self.api.nodes("issues", query, ["issues"], {"team": team["id"], "bot": bot}):
            snap = self._snapshot_of(data)
            if snap is not None:
                found.append(snap)
        return found

    def create(self, draft: IssueDraft) -> TrackerRef:
        meant, assignee = self._assignee(draft.assignees)
        labels = {SYNC_LABEL, *self.options.labels, *draft.labels}
        if meant:
            labels.add(NEEDS_OWNER_LABEL)
        wanted = issue_id(self.options.team, draft.item_key)
        data: dict[str, Any] = {
            "id": wanted,
            "teamId": self._team_or_config_error()["id"],
            "title": draft.title,
            "description": with_marker(draft),
            "priority": self._priority(draft.priority),
            "labelIds": self._label_ids_of(sorted(labels)),
            **self._placement(),
        }
        if assignee:
            data["assigneeId"] = assignee
        if draft.due is not None:
            data["dueDate"] = draft.due.isoformat()
        issue = self._create_once(data, draft)
        ref = self._ref(issue)
        self._attach(ref, draft)
        if meant:
            self.comment(ref, _unassignable_note(meant, self.options.team))
        return ref

    def create_many(self, drafts: Sequence[IssueDraft]) -> list[TrackerRef | PmsyncError]:
        return create_each(self.create, drafts)

    def update(self, ref: TrackerRef, draft: IssueDraft, fields: Collection[str]) -> None:
        data: dict[str, Any] = {"description": with_marker(draft)}
        if "title" in fields:
            data["title"] = draft.title
        meant: list[str] = []
        if "assignees" in fields:
            meant, assignee = self._assignee(draft.assignees)
            data["assigneeId"] = assignee
        if "due" in fields:
            data["dueDate"] = draft.due.isoformat() if draft.due else None
        new = set(draft.labels) | ({NEEDS_OWNER_LABEL} if meant else set())
        current = self._labels.get(self._id(ref))
        if ("labels" in fields or meant) and current is not None:
            stale = stale_labels(draft, current, new) if "labels" in fields else set()
            data["labelIds"] = self._label_ids_of(sorted({*current, *new} - stale))
        self._update(ref, data)
        if ("labels" in fields or meant) and current is None:  # not listed this run
            self.add_labels(ref, sorted(new))
            if "labels" in fields:
                self.remove_labels(ref, stale_labels(draft, STATE_LABELS, new))
        if meant:
            self.comment(ref, _unassignable_note(meant, self.options.team))

    def close(self, ref: TrackerRef, reason: CloseReason, comment: str | None = None) -> None:
        """Completed: the team's first completed state. Not planned or a duplicate: its
        canceled state ("Duplicate" for a duplicate, where the team has one)."""
        kind = "completed" if reason == "completed" else "canceled"
        prefer = "duplicate" if reason == "duplicate" else ""
        self._update(ref, {"stateId": self._state(kind, prefer)})
        if comment:
            self.comment(ref, comment)

    def reopen(self, ref: TrackerRef, comment: str) -> None:
        self._update(ref, {"stateId": self._state("unstarted") or self._state("backlog")})
        self.comment(ref, comment)

    def comment(self, ref: TrackerRef, body: str) -> None:
        query = (
            "mutation PmsyncComment($input: CommentCreateInput!) {"
            " commentCreate(input: $input) { success } }"
        )
        self.api.run(
            "commentCreate", query, {"input": {"issueId": self._id(ref), "body": body}}, write=True
        )

    def add_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        have = set(self._labels.get(self._id(ref), ()))
        query = (
            "mutation PmsyncAddLabel($id: String!, $label: String!) {"
            " issueAddLabel(id: $id, labelId: $label) { success } }"
        )
        for name in sorted(set(labels) - have):
            label = self._label_ids_of([name])[0]
            self.api.run("issueAddLabel", query, {"id": self._id(ref), "label": label}, write=True)
            have.add(name)
        if self._id(ref) in self._labels:
            self._labels[self._id(ref)] = tuple(sorted(have))

    def remove_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        query = (
            "mutation PmsyncRemoveLabel($id: String!, $label: String!) {"
            " issueRemoveLabel(id: $id, labelId: $label) { success } }"
        )
        for name in sorted(labels):
            label = self._known_label(name)
            if label is None:
                continue  # no such label anywhere: not on the issue either
            try:
                self.api.run(
                    "issueRemoveLabel", query, {"id": self._id(ref), "label": label}, write=True
                )
            except Refused:
                continue  # the label was not there
        if self._id(ref) in self._labels:
            self._labels[self._id(ref)] = tuple(
                n for n in self._labels[self._id(ref)] if n not in labels
            )

    def link(self, ref: TrackerRef, to: TrackerRef, note: str) -> None:
        self.comment(ref, f"{note}: {to.key} {to.url}".rstrip())

    def mention(self, handle: str) -> str:
        return f"@{handle.split('@')[0]}"

    def activity(self, ref: TrackerRef) -> Activity:
        """People's comments and changes (state, assignee), pmsync's nudges, when someone was
        first assigned, and the pull requests attached to it: one query."""
        query = (
            "query PmsyncActivity($id: String!) { issue(id: $id) {"
            " comments(first: 100) { nodes { body createdAt user { id } } }"
            " history(first: 100) { nodes { createdAt actor { id } toAssignee { id } } }"
            " attachments(first: 50) { nodes { url } } } }"
        )
        issue = self.api.run("issue", query, {"id": self._id(ref)}).get("issue") or {}
        comments = (issue.get("comments") or {}).get("nodes") or []
        history = (issue.get("history") or {}).get("nodes") or []
        entries = [
            ((c.get("user") or {}).get("id"), timestamp(c.get("createdAt")), c.get("body"))
            for c in comments
        ]
        entries += [
            ((h.get("actor") or {}).get("id"), timestamp(h.get("createdAt")), None) for h in history
        ]
        assigned = [timestamp(h.get("createdAt")) for h in history if h.get("toAssignee")]
        attached = [
            str(a.get("url"))
            for a in (issue.get("attachments") or {}).get("nodes") or []
            if CHANGE_RE.fullmatch(str(a.get("url") or ""))
        ]
        return activity_of(
            entries,
            self._bot_or_config_error(),
            assigned_at=min(filter(None, assigned), default=None),
            changes=attached,
        )

    # --- creating exactly once ------------------------------------------------------------------

    def _create_once(self, data: dict[str, Any], draft: IssueDraft) -> dict[str, Any]:
        """Create the issue under its derived id. An answer lost on the way, or an id taken
        (another run, on any machine, filed it first), leaves one issue, which is adopted."""
        query = (
            "mutation PmsyncCreate($input: IssueCreateInput!) {"
            f" issueCreate(input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }} }}"
        )
        for attempt in range(self.options.attempts):
            try:
                made = self.api.run("issueCreate", query, {"input": data}, write=True, repeat=False)
                issue = (made.get("issueCreate") or {}).get("issue")
                if isinstance(issue, dict):
                    self._snapshot_of(issue)
                    return issue
                raise UncertainError("issueCreate: no issue in the answer")
            except (UncertainError, Refused) as exc:
                existing = self._issue(data["id"])
                if existing is not None:
                    log.info(
                        "issue_adopted",
                        tracker=self.name,
                        item=draft.item_key,
                        ref=existing.get("identifier"),
                    )
                    return existing
                if isinstance(exc, Refused) or attempt + 1 == self.options.attempts:
                    raise
                self.api.budget.pause(self.api.budget.backoff(attempt), exc)
        raise UncertainError(f"linear {self.name}: issueCreate: no answer")  # pragma: no cover

    def _issue(self, wanted: str) -> dict[str, Any] | None:
        query = f"query PmsyncIssue($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}"
        try:
            issue = self.api.run("issue", query, {"id": wanted}).get("issue")
        except (NotFound, Refused):
            return None
        if isinstance(issue, dict):
            self._snapshot_of(issue)
            return issue
        return None

    def _attach(self, ref: TrackerRef, draft: IssueDraft) -> None:
        """The item's address as an attachment (Linear keeps one per address and issue), so
        that `attachmentsForURL` finds the issue from the item."""
        query = (
            "mutation PmsyncAttach($input: AttachmentCreateInput!) {"
            " attachmentCreate(input: $input) { success } }"
        )
        title = f"Post-mortem action item: {draft.source_title or draft.postmortem_id}"
        payload = {"issueId": self._id(ref), "url": item_url(draft), "title": title}
        self.api.run("attachmentCreate", query, {"input": payload}, write=True)

    def _update(self, ref: TrackerRef, data: Mapping[str, Any]) -> None:
        query = (
            "mutation PmsyncUpdate($id: String!, $input: IssueUpdateInput!) {"
            " issueUpdate(id: $id, input: $input) { success issue { id labels(first: 25)"
            " { nodes { name } } } } }"
        )
        answer = self.api.run(
            "issueUpdate", query, {"id": self._id(ref), "input": dict(data)}, write=True
        )
        issue = (answer.get("issueUpdate") or {}).get("issue") or {}
        if issue.get("id"):
            self._labels[str(issue["id"])] = _label_names(issue)

    # --- the team, its people, states and labels ------------------------------------------------

    def _viewer_id(self) -> str:
        """The account pmsync writes as: only its markers are trusted."""
        if self._bot is None:
            viewer = self.api.run("viewer", "query PmsyncViewer { viewer { id } }").get("viewer")
            if not isinstance(viewer, dict) or not viewer.get("id"):
                raise FatalError(f"linear {self.name}: viewer: unexpected answer")
            self._bot = str(viewer["id"])
        return self._bot

    def _bot_or_config_error(self) -> str:
        setting = f"trackers.{self.name}.url"
        try:
            return first_contact(self._viewer_id, setting, self.options.url, "Linear API")
        except FatalError as exc:
            if "credentials" in str(exc):
                raise ConfigError(
                    [f"trackers.{self.name}.api_key: Linear rejected the key ({exc})"]
                ) from exc
            raise

    def _team_or_config_error(self) -> dict[str, Any]:
        """The team by its key, with its workflow states; a ConfigError naming `team` when
        Linear has none with that key."""
        if self._team is None:
            query = (
                "query PmsyncTeam($key: String!) { teams(filter: {key: {eq: $key}}, first: 1)"
                " { nodes { id key states(first: 100) { nodes { id name type position } }"
                " activeCycle { id } } } }"
            )
            found = self.api.run("teams", query, {"key": self.options.team})
            nodes = (found.get("teams") or {}).get("nodes") or []
            if not nodes:
                raise ConfigError(
                    [
                        f"trackers.{self.name}.team: Linear has no team with key "
                        f"{self.options.team!r} that this key can see"
                    ]
                )
            self._team = dict(nodes[0])
        return self._team

    def _state(self, kind: str, prefer: str = "") -> str:
        """The id of the team's state of `kind` (as Linear types them: backlog, unstarted,
        started, completed, canceled) named `prefer` if there is one, else the first."""
        team = self._team_or_config_error()
        states = sorted(
            (s for s in (team.get("states") or {}).get("nodes") or [] if s.get("type") == kind),
            key=lambda s: float(s.get("position") or 0),
        )
        if not states:
            raise FatalError(f"linear {self.name}: team {self.options.team} has no {kind} state")
        named = [s for s in states if str(s.get("name", "")).casefold() == prefer]
        return str((named or states)[0]["id"])

    def _assignee(self, handles: Sequence[str]) -> tuple[list[str], str | None]:
        """(handles that are no member of the team, the user id of the first that is)."""
        meant = [h for h in handles if self._user_id(h) is None]
        usable = [uid for h in handles if (uid := self._user_id(h)) is not None]
        return meant, usable[0] if usable else None

    def _user_id(self, handle: str) -> str | None:
        """A person's user id by e-mail (or id), when they are a member of the team; looked
        up once a run."""
        if handle not in self._users:
            members = self._members()
            wanted = handle.casefold()
            self._users[handle] = next(
                (uid for uid, email in members.items() if wanted in (uid, email)), None
            )
        return self._users[handle]

    def _members(self) -> dict[str, str]:
        """The team's members: user id -> e-mail, folded."""
        if self._member_cache is None:
            query = (
                "query PmsyncMembers($team: String!, $after: String) { team(id: $team) {"
                f" members(first: {PAGE}, after: $after) {{ nodes {{ id email }}"
                " pageInfo { hasNextPage endCursor } } } }"
            )
            team = self._team_or_config_error()["id"]
            self._member_cache = {
                str(m["id"]): str(m.get("email") or "").casefold()
                for m in self.api.nodes("members", query, ["team", "members"], {"team": team})
            }
        return self._member_cache

    def _known_label(self, name: str) -> str | None:
        """The id of the label `name` (the team's or the workspace's), without making one."""
        folded = name.casefold()
        if folded not in self._label_ids:
            query = (
                "query PmsyncLabel($name: String!) { issueLabels(filter: {name: "
                "{eqIgnoreCase: $name}}, first: 10) { nodes { id name team { id } } } }"
            )
            found = self.api.run("issueLabels", query, {"name": name})
            team = self._team_or_config_error()["id"]
            usable = [
                n
                for n in (found.get("issueLabels") or {}).get("nodes") or []
                if (n.get("team") or {}).get("id") in (None, team)
            ]
            if usable:
                self._label_ids[folded] = str(usable[0]["id"])
        return self._label_ids.get(folded)

    def _label_ids_of(self, names: Sequence[str]) -> list[str]:
        """The ids of labels by name, each made in the team the first time it is wanted (a
        race with another run that made it first is settled by reading it back)."""
        ids = []
        query = (
            "mutation PmsyncLabelCreate($input: IssueLabelCreateInput!) {"
            " issueLabelCreate(input: $input) { success issueLabel { id } } }"
        )
        for name in names:
            label = self._known_label(name)
            if label is None:
                team = self._team_or_config_error()["id"]
                try:
                    made = self.api.run(
                        "issueLabelCreate",
                        query,
                        {"input": {"name": name, "teamId": team}},
                        write=True,
                    )
                    label = str(
                        ((made.get("issueLabelCreate") or {}).get("issueLabel") or {})["id"]
                    )
                    self._label_ids[name.casefold()] = label
                except (Refused, KeyError, TypeError):
                    self._label_ids.pop(name.casefold(), None)
                    label = self._known_label(name)
                    if label is None:
                        raise
            ids.append(label)
        return ids

    def _placement(self) -> dict[str, str]:
        """The project and cycle every issue joins, looked up once."""
        if self._extras is None:
            extras: dict[str, str] = {}
            if self.options.project:
                query = (
                    "query PmsyncProject($name: String!) { projects(filter: {name: {eq: $name}},"
                    " first: 2) { nodes { id name } } }"
                )
                found = self.api.run("projects", query, {"name": self.options.project})
                nodes = (found.get("projects") or {}).get("nodes") or []
                if len(nodes) != 1:
                    raise ConfigError(
                        [
                            f"trackers.{self.name}.project: no single project named "
                            f"{self.options.project!r}"
                        ]
                    )
                extras["projectId"] = str(nodes[0]["id"])
            if self.options.cycle == "active":
                cycle = self._team_or_config_error().get("activeCycle")
                if cycle:
                    extras["cycleId"] = str(cycle["id"])
            self._extras = extras
        return self._extras

    def _priority(self, written: str | None) -> int:
        if not written:
            return 0
        folded = written.strip().casefold()
        table = {**PRIORITIES, **{k.casefold(): v for k, v in self.options.priority_map.items()}}
        return table.get(folded, 0)

    # --- reading --------------------------------------------------------------------------------

    def _snapshot_of(self, data: Mapping[str, Any]) -> IssueSnapshot | None:
        if (data.get("creator") or {}).get("id") != self._bot_or_config_error():
            return None
        marker = parse_marker(data.get("description"))
        if marker is None:
            return None
        labels = _label_names(data)
        self._labels[str(data["id"])] = labels
        if data.get("identifier"):
            self._uuids[str(data["identifier"])] = str(data["id"])
        kind = str((data.get("state") or {}).get("type") or "")
        closed = kind in ("completed", "canceled")
        handle = self._handle(data.get("assignee") or {})
        due = data.get("dueDate")
        return IssueSnapshot(
            ref=self._ref(data),
            item_key=marker.item_key,
            postmortem_id=marker.postmortem_id,
            state="closed" if closed else "open",
            status_category="done" if closed else ("indeterminate" if kind == "started" else "new"),
            state_reason=("completed" if kind == "completed" else "not_planned")
            if closed
            else None,
            title=str(data.get("title") or ""),
            body=str(data.get("description") or ""),
            assignees=(handle,) if handle else (),
            due=date.fromisoformat(str(due)) if due else None,
            labels=labels,
            created_at=timestamp(data.get("createdAt")),
            updated_at=timestamp(data.get("updatedAt")),
            closed_at=timestamp(data.get("completedAt") or data.get("canceledAt")),
            synced_hash=marker.content_hash,
            policy=marker.policy,
        )

    def _handle(self, user: Mapping[str, Any]) -> str:
        """How the people directory names a user: their id or their e-mail, as written there
        (the e-mail when the directory names them not at all)."""
        user_id, email = str(user.get("id") or ""), str(user.get("email") or "")
        for handle in self.options.people:
            if handle == user_id or (email and handle.casefold() == email.casefold()):
                return handle
        return email or user_id

    def _id(self, ref: TrackerRef) -> str:
        """The issue's id for queries and mutations: the one read for its identifier (an
        identifier changes when the issue moves to another team), else the identifier,
        which Linear takes too."""
        if not ref.key:
            raise SkippableError("not a Linear issue")
        return self._uuids.get(ref.key, ref.key)

    def _ref(self, data: Mapping[str, Any]) -> TrackerRef:
        return TrackerRef(
            self.name,
            str(data.get("identifier") or data["id"]),
            str(data.get("url") or ""),
        )


def _label_names(data: Mapping[str, Any]) -> tuple[str, ...]:
    nodes = (data.get("labels") or {}).get("nodes") or []
    return tuple(str(n.get("name")) for n in nodes if isinstance(n, dict) and n.get("name"))


def _unassignable_note(handles: Sequence[str], team: str) -> str:
    names = ", ".join(f"`{h}`" for h in handles)
    return (
        f"pmsync could not assign this issue to {names}: Linear has no such user in team "
        f"{team}. Please assign the owner named in the post-mortem by hand, or fix the people "
        'directory (`linear = "<e-mail>"`).'
    )


# --- settings ------------------------------------------------------------------------------------

SECRET_ENV = ("LINEAR_API_KEY", "LINEAR_TOKEN")


class Config(Remote, TrackerSection):
    kind: Literal["linear"]
    team: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,10}$")]  # the team's key, "OPS"
    url: Annotated[str, Field(pattern=r"^https?://")] = "https://api.linear.app"
    api_key: SecretStr | None = None  # a personal API key
    api_key_file: Path | None = None
    token: SecretStr | None = None  # an OAuth access token, sent as a Bearer token
    token_file: Path | None = None
    project: str | None = None  # the name of a project every issue joins
    cycle: Literal["none", "active"] = "none"  # "active": every new issue joins the active cycle
    priority_map: dict[str, Annotated[int, Field(ge=0, le=4)]] = Field(default_factory=dict)
    write_interval_seconds: Annotated[float, Field(ge=0)] = 0.2

    _check_files = field_validator("api_key_file", "token_file")(check_readable)

    @model_validator(mode="after")
    def _load_secret_files(self) -> Config:
        secrets_from_files(self, "api_key", "token")
        return self


def build(name: str, config: Config, context: BuildContext) -> LinearTracker:
    api_key = config.api_key.get_secret_value() if config.api_key else None
    token = config.token.get_secret_value() if config.token else None
    if api_key is None and token is None:
        api_key = os.environ.get("LINEAR_API_KEY") or None
        token = os.environ.get("LINEAR_TOKEN") or None
    if api_key is None and token is None:
        raise context.error(
            f"trackers.{name}.api_key: no Linear key: set api_key or api_key_file (or token, "
            "token_file for OAuth), or LINEAR_API_KEY"
        )
    options = LinearOptions(
        team=config.team.upper(),
        url=config.url,
        api_key=api_key,
        token=token,
        labels=tuple(config.labels),
        project=config.project,
        cycle=config.cycle,
        priority_map=dict(config.priority_map),
        write_interval=config.write_interval_seconds,
        people=context.handles.get("linear", ()),
        **config.patience(),
    )
    return LinearTracker(name, options, sleep=context.sleep)
