"""A fake Linear GraphQL API on loopback: stateful, rate-limited and faulty on demand.

Queries and mutations are parsed, validated and executed by graphql-core against a schema
that is the part of Linear's own that pmsync uses, with Linear's names, arguments and
filters, so a misspelt field or a wrong argument type is refused as Linear refuses it: HTTP
400 and `errors[].extensions.code` = GRAPHQL_VALIDATION_FAILED. What Linear refuses when it
runs an operation (an unknown id, an id already taken, a label of another team) comes back
as `errors[]` with Linear's codes (INVALID_INPUT, ENTITY_NOT_FOUND, AUTHENTICATION_ERROR,
FORBIDDEN), and a spent request budget as RATELIMITED with its `X-RateLimit-Requests-*`
headers. Injected faults: an error status, a lost answer after the work was done, a dropped
connection.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError, build_schema, graphql_sync, parse, validate

from tests.fakes.loopback import JsonHandler, serve

SDL = """
scalar DateTime
scalar TimelessDate

type PageInfo { hasNextPage: Boolean! endCursor: String }

input StringComparator { eq: String eqIgnoreCase: String in: [String!] }
input IDComparator { eq: ID in: [ID!] }
input NumberComparator { eq: Float gt: Float }
input TeamFilter { id: IDComparator key: StringComparator }
input UserFilter { id: IDComparator email: StringComparator }
input NullableUserFilter { id: IDComparator }
input IssueLabelFilter { name: StringComparator team: TeamFilter }
input IssueLabelCollectionFilter { some: IssueLabelFilter }
input IssueFilter {
  team: TeamFilter creator: NullableUserFilter labels: IssueLabelCollectionFilter
  id: IDComparator number: NumberComparator
}
input ProjectFilter { name: StringComparator }

type User { id: ID! name: String! displayName: String! email: String! active: Boolean! }
type UserConnection { nodes: [User!]! pageInfo: PageInfo! }
type WorkflowState { id: ID! name: String! type: String! position: Float! }
type WorkflowStateConnection { nodes: [WorkflowState!]! pageInfo: PageInfo! }
type IssueLabel { id: ID! name: String! team: Team }
type IssueLabelConnection { nodes: [IssueLabel!]! pageInfo: PageInfo! }
type Cycle { id: ID! number: Float! }
type Project { id: ID! name: String! }
type ProjectConnection { nodes: [Project!]! pageInfo: PageInfo! }
type Team {
  id: ID! key: String! name: String!
  states(first: Int, after: String): WorkflowStateConnection!
  members(first: Int, after: String): UserConnection!
  activeCycle: Cycle
}
type TeamConnection { nodes: [Team!]! pageInfo: PageInfo! }
type Comment { id: ID! body: String! createdAt: DateTime! user: User }
type CommentConnection { nodes: [Comment!]! pageInfo: PageInfo! }
type IssueHistory {
  id: ID! createdAt: DateTime! actor: User
  fromAssignee: User toAssignee: User fromState: WorkflowState toState: WorkflowState
}
type IssueHistoryConnection { nodes: [IssueHistory!]! pageInfo: PageInfo! }
type Attachment { id: ID! url: String! title: String! issue: Issue! }
type AttachmentConnection { nodes: [Attachment!]! pageInfo: PageInfo! }
type Issue {
  id: ID! identifier: String! number: Float! url: String! title: String! description: String
  priority: Float! dueDate: TimelessDate createdAt: DateTime! updatedAt: DateTime!
  completedAt: DateTime canceledAt: DateTime archivedAt: DateTime
  state: WorkflowState! assignee: User creator: User team: Team!
  project: Project cycle: Cycle
  labels(first: Int, after: String): IssueLabelConnection!
  comments(first: Int, after: String): CommentConnection!
  history(first: Int, after: String): IssueHistoryConnection!
  attachments(first: Int, after: String): AttachmentConnection!
}
type IssueConnection { nodes: [Issue!]! pageInfo: PageInfo! }

type Webhook { id: ID! url: String enabled: Boolean! resourceTypes: [String!]! }
type WebhookConnection { nodes: [Webhook!]! pageInfo: PageInfo! }

type Query {
  viewer: User!
  webhooks(first: Int, after: String): WebhookConnection!
  teams(filter: TeamFilter, first: Int, after: String): TeamConnection!
  team(id: String!): Team!
  users(filter: UserFilter, first: Int, after: String): UserConnection!
  issue(id: String!): Issue!
  issues(
    filter: IssueFilter, first: Int, after: String, includeArchived: Boolean
  ): IssueConnection!
  issueLabels(filter: IssueLabelFilter, first: Int, after: String): IssueLabelConnection!
  attachmentsForURL(url: String!, first: Int, after: String): AttachmentConnection!
  projects(filter: ProjectFilter, first: Int, after: String): ProjectConnection!
}

input IssueCreateInput {
  id: String teamId: String! title: String description: String assigneeId: String
  dueDate: TimelessDate priority: Int labelIds: [String!] projectId: String cycleId: String
  stateId: String
}
input IssueUpdateInput {
  title: String description: String assigneeId: String dueDate: TimelessDate priority: Int
  labelIds: [String!] stateId: String projectId: String cycleId: String
}
input CommentCreateInput { issueId: String! body: String! }
input AttachmentCreateInput { issueId: String! url: String! title: String! }
input IssueLabelCreateInput { name: String! teamId: String }

type IssuePayload { success: Boolean! issue: Issue }
type CommentPayload { success: Boolean! comment: Comment }
type AttachmentPayload { success: Boolean! attachment: Attachment }
type IssueLabelPayload { success: Boolean! issueLabel: IssueLabel }

type Mutation {
  issueCreate(input: IssueCreateInput!): IssuePayload!
  issueUpdate(id: String!, input: IssueUpdateInput!): IssuePayload!
  issueAddLabel(id: String!, labelId: String!): IssuePayload!
  issueRemoveLabel(id: String!, labelId: String!): IssuePayload!
  commentCreate(input: CommentCreateInput!): CommentPayload!
  attachmentCreate(input: AttachmentCreateInput!): AttachmentPayload!
  issueLabelCreate(input: IssueLabelCreateInput!): IssueLabelPayload!
}
"""
SCHEMA = build_schema(SDL)


class Refusal(GraphQLError):
    """What Linear refuses when it runs an operation, with its code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code, "userPresentableMessage": message})


@dataclass
class Fault:
    """One injected fault on operations whose text contains `operation` ("issueCreate").

    kind: "status" answers `status` with `body` and does nothing; "after" does the work, then
    answers `status` (a lost answer); "drop" does the work, then closes the connection.
    """

    operation: str
    kind: str = "status"
    status: int = 502
    body: dict[str, Any] = field(default_factory=lambda: {"errors": [{"message": "Bad gateway"}]})
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    reset_in: float | None = None  # seconds: the answer says the request budget resets then


@dataclass
class FakeLinear:
    api_key: str = "lin_api_" + "0" * 32
    team_key: str = "OPS"
    bot_email: str = "pmsync@acme.test"
    members: dict[str, str] = field(
        default_factory=lambda: {"dana@acme.test": "Dana Kim", "sam@acme.test": "Sam Rivera"}
    )
    outsiders: dict[str, str] = field(default_factory=lambda: {"lee@acme.test": "Lee Park"})
    faults: list[Fault] = field(default_factory=list)
    # (query or mutation, the operation's first field) of each request: ("mutation", "issueCreate")
    requests: list[tuple[str, str]] = field(default_factory=list)
    limit: int = 1500  # requests an hour; each request spends one
    remaining: int = 1500
    url: str = ""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # set up in Linear's settings
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.bot = self._user(self.bot_email, "pmsync")
        self.team = {"id": str(uuid.uuid4()), "key": self.team_key, "name": "Operations"}
        self.member_ids = {self.bot["id"]} | {
            self._user(email, name)["id"] for email, name in self.members.items()
        }
        for email, name in self.outsiders.items():
            self._user(email, name)
        self.mallory = self._user("mallory@acme.test", "Mallory")
        self.member_ids.add(self.mallory["id"])
        names = [
            ("Triage", "triage"),
            ("Backlog", "backlog"),
            ("Todo", "unstarted"),
            ("In Progress", "started"),
            ("Done", "completed"),
            ("Canceled", "canceled"),
            ("Duplicate", "canceled"),
        ]
        self.states = [
            {"id": str(uuid.uuid4()), "name": n, "type": t, "position": float(i)}
            for i, (n, t) in enumerate(names)
        ]
        self.cycle = {"id": str(uuid.uuid4()), "number": 12.0}
        self.projects = [{"id": str(uuid.uuid4()), "name": "Reliability"}]
        self.labels: dict[str, dict[str, Any]] = {}
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.attachments: list[dict[str, Any]] = []
        self._numbers = itertools.count(1)

    def _user(self, email: str, name: str) -> dict[str, Any]:
        user = {"id": str(uuid.uuid4()), "email": email, "name": name, "displayName": name}
        user["active"] = True
        self.users[user["id"]] = user
        return user

    # --- what tests look at ---------------------------------------------------------------------

    def writes(self) -> int:
        return sum(1 for kind, _ in self.requests if kind == "mutation")

    def count(self) -> Counter[str]:
        """Requests by operation: "mutation issueCreate", "query issues", ..."""
        return Counter(f"{kind} {name}" for kind, name in self.requests)

    def reset_counts(self) -> None:
        self.requests.clear()

    def by_title(self, title: str) -> list[dict[str, Any]]:
        return [issue for issue in self.issues.values() if issue["title"] == title]

    def by_identifier(self, identifier: str) -> dict[str, Any]:
        return next(i for i in self.issues.values() if i["identifier"] == identifier)

    def state_type(self, issue: dict[str, Any]) -> str:
        return str(self._state(issue["stateId"])["type"])

    def label_names(self, issue: dict[str, Any]) -> set[str]:
        return {self.labels[i]["name"] for i in issue["labelIds"]}

    def add_issue_as(self, user: dict[str, Any], title: str, description: str) -> dict[str, Any]:
        """An issue someone else filed, with the `pmsync` label (made if missing)."""
        label = self._label_named("pmsync") or self._make_label("pmsync", self.team["id"])
        with self._lock:
            return self._create(
                {
                    "teamId": self.team["id"],
                    "title": title,
                    "description": description,
                    "labelIds": [label["id"]],
                },
                user,
            )

    def comment_as(self, user: dict[str, Any], issue_id: str, body: str) -> None:
        with self._lock:
            self._comment(issue_id, body, user)

    def move(self, issue_id: str, state_type: str, user: dict[str, Any] | None = None) -> None:
        """A person moves the issue to the team's first state of `state_type`."""
        with self._lock:
            state = next(s for s in self.states if s["type"] == state_type)
            self._update(self.issues[issue_id], {"stateId": state["id"]}, user or self.mallory)

    @contextmanager
    def running(self) -> Iterator[FakeLinear]:
        with serve(_handler(self)) as self.url:
            yield self

    # --- the model -------------------------------------------------------------------------------

    def _stamp(self) -> str:
        return (
            self.clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )

    def _state(self, state_id: str) -> dict[str, Any]:
        found = next((s for s in self.states if s["id"] == state_id), None)
        if found is None:
            raise Refusal(f"Entity not found: WorkflowState {state_id}", "INVALID_INPUT")
        return found

    def _label_named(self, name: str) -> dict[str, Any] | None:
        return next((lb for lb in self.labels.values() if lb["name"] == name), None)

    def _make_label(self, name: str, team_id: str | None) -> dict[str, Any]:
        if any(lb["name"].casefold() == name.casefold() for lb in self.labels.values()):
            raise Refusal(f"Duplicate label name: {name}", "INVALID_INPUT")
        label = {"id": str(uuid.uuid4()), "name": name, "teamId": team_id}
        self.labels[label["id"]] = label
        return label

    def _check_assignee(self, user_id: str | None) -> None:
        if user_id is None:
            return
        if user_id not in self.users:
            raise Refusal(f"Entity not found: User {user_id}", "INVALID_INPUT")
        if user_id not in self.member_ids:
            raise Refusal("Assignee is not a member of the issue's team", "INVALID_INPUT")

    def _check_labels(self, label_ids: list[str]) -> None:
        for label_id in label_ids:
            label = self.labels.get(label_id)
            if label is None:
                raise Refusal(f"Entity not found: IssueLabel {label_id}", "INVALID_INPUT")
            if label["teamId"] not in (None, self.team["id"]):
                raise Refusal("Label does not belong to the issue's team", "INVALID_INPUT")

    def _create(self, data: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        if data.get("teamId") != self.team["id"]:
            raise Refusal(f"Entity not found: Team {data.get('teamId')}", "INVALID_INPUT")
        issue_id = data.get("id") or str(uuid.uuid4())
        try:
            if uuid.UUID(issue_id).version != 4:
                raise ValueError
        except ValueError:
            raise Refusal("id must be a UUID v4", "INVALID_INPUT") from None
        if issue_id in self.issues:
            raise Refusal(f"Entity with id {issue_id} already exists", "INVALID_INPUT")
        self._check_assignee(data.get("assigneeId"))
        self._check_labels(list(data.get("labelIds") or []))
        number = next(self._numbers)
        now = self._stamp()
        backlog = next(s for s in self.states if s["type"] == "backlog")
        issue = {
            "id": issue_id,
            "number": number,
            "identifier": f"{self.team['key']}-{number}",
            "url": f"https://linear.app/acme/issue/{self.team['key']}-{number}",
            "title": data.get("title") or "",
            "description": data.get("description"),
            "priority": data.get("priority") or 0,
            "dueDate": data.get("dueDate"),
            "assigneeId": data.get("assigneeId"),
            "creatorId": user["id"],
            "stateId": data.get("stateId") or backlog["id"],
            "labelIds": list(dict.fromkeys(data.get("labelIds") or [])),
            "projectId": data.get("projectId"),
            "cycleId": data.get("cycleId"),
            "createdAt": now,
            "updatedAt": now,
            "completedAt": None,
            "canceledAt": None,
        }
        self.issues[issue_id] = issue
        self.comments[issue_id] = []
        self.history[issue_id] = []
        if issue["assigneeId"]:
            self._record(issue, user, toAssignee=issue["assigneeId"])
        return issue

    def _record(self, issue: dict[str, Any], user: dict[str, Any], **change: Any) -> None:
        entry = {"id": str(uuid.uuid4()), "createdAt": self._stamp(), "actorId": user["id"]}
        self.history[issue["id"]].append({**entry, **change})

    def _update(self, issue: dict[str, Any], data: dict[str, Any], user: dict[str, Any]) -> None:
        if "assigneeId" in data:
            self._check_assignee(data["assigneeId"])
            if data["assigneeId"] != issue["assigneeId"]:
                self._record(
                    issue, user, fromAssignee=issue["assigneeId"], toAssignee=data["assigneeId"]
                )
        if "labelIds" in data:
            self._check_labels(list(data["labelIds"] or []))
            data = {**data, "labelIds": list(dict.fromkeys(data["labelIds"] or []))}
        if "stateId" in data:
            new = self._state(data["stateId"])
            if data["stateId"] != issue["stateId"]:
                self._record(issue, user, fromState=issue["stateId"], toState=new["id"])
            issue["completedAt"] = self._stamp() if new["type"] == "completed" else None
            issue["canceledAt"] = self._stamp() if new["type"] == "canceled" else None
        for key, value in data.items():
            if key in issue:
                issue[key] = value
        issue["updatedAt"] = self._stamp()

    def _comment(self, key: str, body: str, user: dict[str, Any]) -> dict[str, Any]:
        issue_id = self._issue(key)["id"]
        comment = {
            "id": str(uuid.uuid4()),
            "body": body,
            "createdAt": self._stamp(),
            "userId": user["id"],
        }
        self.comments[issue_id].append(comment)
        return comment

    def _issue(self, key: str) -> dict[str, Any]:
        found = self.issues.get(key) or next(
            (i for i in self.issues.values() if i["identifier"] == key), None
        )
        if found is None:
            raise Refusal(f"Entity not found: Issue {key}", "ENTITY_NOT_FOUND")
        return found

    # --- what the schema's fields answer ---------------------------------------------------------

    def root(self, viewer: dict[str, Any]) -> dict[str, Any]:
        fake = self

        def user(user_id: str | None) -> dict[str, Any] | None:
            return fake.users.get(user_id) if user_id else None

        def team_view() -> dict[str, Any]:
            return {
                **fake.team,
                "states": lambda info, **a: _page(fake.states, **a),
                "members": lambda info, **a: _page(
                    [fake.users[i] for i in sorted(fake.member_ids)], **a
                ),
                "activeCycle": fake.cycle,
            }

        def label_view(label: dict[str, Any]) -> dict[str, Any]:
            return {**label, "team": team_view() if label["teamId"] else None}

        def issue_view(issue: dict[str, Any]) -> dict[str, Any]:
            state = fake._state(issue["stateId"])
            return {
                **issue,
                "state": state,
                "assignee": user(issue["assigneeId"]),
                "creator": user(issue["creatorId"]),
                "team": team_view(),
                "project": next((p for p in fake.projects if p["id"] == issue["projectId"]), None),
                "cycle": fake.cycle if issue["cycleId"] == fake.cycle["id"] else None,
                "archivedAt": None,
                "labels": lambda info, **a: _page(
                    [label_view(fake.labels[i]) for i in issue["labelIds"]], **a
                ),
                "comments": lambda info, **a: _page(
                    [{**c, "user": user(c["userId"])} for c in fake.comments[issue["id"]]], **a
                ),
                "history": lambda info, **a: _page(
                    [
                        {
                            **h,
                            "actor": user(h.get("actorId")),
                            "fromAssignee": user(h.get("fromAssignee")),
                            "toAssignee": user(h.get("toAssignee")),
                            "fromState": fake._state(h["fromState"])
                            if h.get("fromState")
                            else None,
                            "toState": fake._state(h["toState"]) if h.get("toState") else None,
                        }
                        for h in fake.history[issue["id"]]
                    ],
                    **a,
                ),
                "attachments": lambda info, **a: _page(
                    [x for x in fake.attachments if x["issueId"] == issue["id"]], **a
                ),
            }

        def issues(info: Any, filter: dict[str, Any] | None = None, **a: Any) -> dict[str, Any]:
            found = [i for i in fake.issues.values() if _issue_matches(fake, i, filter or {})]
            found.sort(key=lambda i: i["number"])
            return _page([issue_view(i) for i in found], **a)

        def issue_create(info: Any, input: dict[str, Any]) -> dict[str, Any]:
            return {"success": True, "issue": issue_view(fake._create(dict(input), viewer))}

        def issue_update(info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
            issue = fake._issue(id)
            fake._update(issue, dict(input), viewer)
            return {"success": True, "issue": issue_view(issue)}

        def add_label(info: Any, id: str, labelId: str) -> dict[str, Any]:
            issue = fake._issue(id)
            fake._update(issue, {"labelIds": [*issue["labelIds"], labelId]}, viewer)
            return {"success": True, "issue": issue_view(issue)}

        def remove_label(info: Any, id: str, labelId: str) -> dict[str, Any]:
            issue = fake._issue(id)
            if labelId not in issue["labelIds"]:
                raise Refusal("Label is not on the issue", "INVALID_INPUT")
            kept = [i for i in issue["labelIds"] if i != labelId]
            fake._update(issue, {"labelIds": kept}, viewer)
            return {"success": True, "issue": issue_view(issue)}

        def comment_create(info: Any, input: dict[str, Any]) -> dict[str, Any]:
            made = fake._comment(input["issueId"], input["body"], viewer)
            return {"success": True, "comment": {**made, "user": viewer}}

        def attachment_create(info: Any, input: dict[str, Any]) -> dict[str, Any]:
            issue = fake._issue(input["issueId"])
            same = next(
                (
                    x
                    for x in fake.attachments
                    if x["url"] == input["url"] and x["issueId"] == issue["id"]
                ),
                None,
            )
            if same is None:  # idempotent for the same url and issue, as Linear's
                same = {
                    "id": str(uuid.uuid4()),
                    "url": input["url"],
                    "title": input["title"],
                    "issueId": issue["id"],
                }
                fake.attachments.append(same)
            return {"success": True, "attachment": {**same, "issue": issue_view(issue)}}

        def label_create(info: Any, input: dict[str, Any]) -> dict[str, Any]:
            label = fake._make_label(input["name"], input.get("teamId"))
            return {"success": True, "issueLabel": label_view(label)}

        def attachments_for(info: Any, url: str, **a: Any) -> dict[str, Any]:
            found = [
                {**x, "issue": issue_view(fake.issues[x["issueId"]])}
                for x in fake.attachments
                if x["url"] == url
            ]
            return _page(found, **a)

        def teams(info: Any, filter: dict[str, Any] | None = None, **a: Any) -> dict[str, Any]:
            shown = [team_view()] if _team_matches(fake.team, filter or {}) else []
            return _page(shown, **a)

        def users(info: Any, filter: dict[str, Any] | None = None, **a: Any) -> dict[str, Any]:
            wanted = (filter or {}).get("email", {})
            found = [
                u for u in fake.users.values() if not wanted or _string_matches(u["email"], wanted)
            ]
            return _page(found, **a)

        def labels(info: Any, filter: dict[str, Any] | None = None, **a: Any) -> dict[str, Any]:
            wanted = (filter or {}).get("name", {})
            found = [
                label_view(lb)
                for lb in fake.labels.values()
                if not wanted or _string_matches(lb["name"], wanted)
            ]
            return _page(found, **a)

        def projects(info: Any, filter: dict[str, Any] | None = None, **a: Any) -> dict[str, Any]:
            wanted = (filter or {}).get("name", {})
            found = [p for p in fake.projects if not wanted or _string_matches(p["name"], wanted)]
            return _page(found, **a)

        def team(info: Any, id: str) -> dict[str, Any]:
            if id not in (fake.team["id"], fake.team["key"]):
                raise Refusal(f"Entity not found: Team {id}", "ENTITY_NOT_FOUND")
            return team_view()

        return {
            "viewer": viewer,
            "webhooks": lambda info, **a: _page(fake.webhooks, **a),
            "teams": teams,
            "team": team,
            "users": users,
            "issue": lambda info, id: issue_view(fake._issue(id)),
            "issues": issues,
            "issueLabels": labels,
            "attachmentsForURL": attachments_for,
            "projects": projects,
            "issueCreate": issue_create,
            "issueUpdate": issue_update,
            "issueAddLabel": add_label,
            "issueRemoveLabel": remove_label,
            "commentCreate": comment_create,
            "attachmentCreate": attachment_create,
            "issueLabelCreate": label_create,
        }


def _page(nodes: list[Any], first: int | None = None, after: str | None = None) -> dict[str, Any]:
    """A connection's page: `first` nodes (Linear's default 50, at most 250) after `after`."""
    size = min(first or 50, 250)
    start = int(after) if after and after.isdigit() else 0
    shown = nodes[start : start + size]
    more = start + size < len(nodes)
    return {"nodes": shown, "pageInfo": {"hasNextPage": more, "endCursor": str(start + size)}}


def _string_matches(value: str, comparator: dict[str, Any]) -> bool:
    if "eq" in comparator and value != comparator["eq"]:
        return False
    if "eqIgnoreCase" in comparator and value.casefold() != comparator["eqIgnoreCase"].casefold():
        return False
    return not ("in" in comparator and value not in comparator["in"])


def _id_matches(value: str | None, comparator: dict[str, Any]) -> bool:
    if "eq" in comparator and value != comparator["eq"]:
        return False
    return not ("in" in comparator and value not in comparator["in"])


def _team_matches(team: dict[str, Any], filter: dict[str, Any]) -> bool:
    if "id" in filter and not _id_matches(team["id"], filter["id"]):
        return False
    return not ("key" in filter and not _string_matches(team["key"], filter["key"]))


def _issue_matches(fake: FakeLinear, issue: dict[str, Any], filter: dict[str, Any]) -> bool:
    if "team" in filter and not _team_matches(fake.team, filter["team"]):
        return False
    if "creator" in filter and not _id_matches(issue["creatorId"], filter["creator"].get("id", {})):
        return False
    if "id" in filter and not _id_matches(issue["id"], filter["id"]):
        return False
    number = filter.get("number") or {}
    if "eq" in number and issue["number"] != number["eq"]:
        return False
    if "gt" in number and not issue["number"] > number["gt"]:
        return False
    some = ((filter.get("labels") or {}).get("some") or {}).get("name")
    if some is not None:
        names = [fake.labels[i]["name"] for i in issue["labelIds"]]
        if not any(_string_matches(n, some) for n in names):
            return False
    return True


def _handler(fake: FakeLinear) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def serve(self, method: str) -> None:
            path, _, body = self.read_request()
            if method != "POST" or path != "/graphql":
                self._send(404, {"errors": [{"message": "Not found"}]})
                return
            query = str((body or {}).get("query") or "")
            variables = (body or {}).get("variables") or {}
            kind = "mutation" if query.lstrip().startswith("mutation") else "query"
            first = re.search(r"\{\s*(\w+)", query)
            with fake._lock:
                fake.requests.append((kind, first.group(1) if first else "?"))
                viewer = self._viewer()
                if viewer is None:
                    self._send(
                        400,
                        _errors(
                            "Authentication required, not authenticated", "AUTHENTICATION_ERROR"
                        ),
                    )
                    return
                if fake.remaining <= 0:
                    self._send(400, _errors("Rate limit exceeded", "RATELIMITED"))
                    return
                fake.remaining -= 1
                fault = next((f for f in fake.faults if f.times > 0 and f.operation in query), None)
                if fault is not None:
                    fault.times -= 1
                if fault is not None and fault.kind == "status":
                    headers = dict(fault.headers)
                    if fault.reset_in is not None:
                        reset = int((time.time() + fault.reset_in) * 1000)
                        headers["X-RateLimit-Requests-Reset"] = str(reset)
                        headers["X-RateLimit-Requests-Remaining"] = "0"
                    self._send(fault.status, fault.body, headers)
                    return
                try:
                    document = parse(query)
                except GraphQLError as exc:
                    self._send(400, _errors(exc.message, "GRAPHQL_PARSE_FAILED"))
                    return
                invalid = validate(SCHEMA, document)
                if invalid:
                    self._send(400, _errors(invalid[0].message, "GRAPHQL_VALIDATION_FAILED"))
                    return
                result = graphql_sync(
                    SCHEMA, query, root_value=fake.root(viewer), variable_values=variables
                )
                answer: dict[str, Any] = {"data": result.data}
                if result.errors:
                    answer["errors"] = [
                        {
                            "message": e.message,
                            "path": e.path,
                            "extensions": e.extensions or {"code": "INTERNAL_SERVER_ERROR"},
                        }
                        for e in result.errors
                    ]
                    if result.data is None or all(v is None for v in result.data.values()):
                        answer["data"] = None
            if fault is not None and fault.kind == "after":
                self._send(fault.status, fault.body, fault.headers)
                return
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                self.wfile.flush()
                self.connection.close()
                return
            self._send(200, answer)

        def _viewer(self) -> dict[str, Any] | None:
            given = self.headers.get("Authorization", "")
            token = given.removeprefix("Bearer ").strip()
            return fake.bot if token == fake.api_key else None

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            reset_ms = int((time.time() + 3600) * 1000)
            sent = {
                "X-RateLimit-Requests-Limit": str(fake.limit),
                "X-RateLimit-Requests-Remaining": str(max(0, fake.remaining)),
                "X-RateLimit-Requests-Reset": str(reset_ms),
                "X-Complexity": "12",
                **(headers or {}),
            }
            for name, value in sent.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _errors(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}], "data": None}
