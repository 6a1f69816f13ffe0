"""A fake Jira REST API on loopback, Cloud (v3) or Data Center (v2), stateful and faulty on
demand: create and bulk create, edit, search (`/search/jql` with `nextPageToken` and
`reconcileIssues` on Cloud, where the old `/search` is gone; `/search` with `startAt` on Data
Center), user search, remote links, transitions, create metadata, 429s and search lag."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from tests import openapi_check
from tests.fakes.github import Fault
from tests.fakes.loopback import JsonHandler, serve

PROJECT_ID = "10000"
STATUSES = {
    "To Do": "new",
    "In Progress": "indeterminate",
    "Done": "done",
}


@dataclass
class FakeJira:
    # Admin webhooks (/rest/webhooks/1.0/webhook; the secret kept, never shown), and the
    # dynamic webhooks an OAuth app registered (/rest/api/3/webhook): id -> expiration (ms).
    admin_hooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    dynamic_hooks: dict[int, int] | None = None  # None: the credentials are no app (403)
    deployment: str = "cloud"  # or "datacenter"
    project: str = "OPS"
    bot: str = "557058:pmsync-bot"
    users: list[dict[str, str]] = field(
        default_factory=lambda: [
            {"accountId": "acc-dana", "name": "dana", "emailAddress": "dana@example.com"},
            {"accountId": "acc-sam", "name": "sam", "emailAddress": "sam@example.com"},
            {"accountId": "acc-lee1", "name": "lee1", "emailAddress": "lee@example.com"},
            {"accountId": "acc-lee2", "name": "lee2", "emailAddress": "lee.park@example.com"},
        ]
    )
    required_fields: dict[str, str] = field(default_factory=dict)  # id -> name
    priorities: tuple[str, ...] = ("Highest", "High", "Medium", "Low", "Lowest")
    lag: float = 0.0  # seconds before a new issue shows in search
    indexed: set[str] = field(default_factory=set)  # keys search shows at once (out of order)
    # Project versions (a lease is one); False: the account may not manage them (403).
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions_allowed: bool = True
    revoked: set[str] = field(default_factory=set)  # API tokens answered 401
    version_ids: list[str] = field(default_factory=list)  # every id handed out, never reused
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: list[tuple[str, str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    url: str = ""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # moved by tests
    _created_at: dict[str, float] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def version(self) -> int:
        return 3 if self.deployment == "cloud" else 2

    def count(self) -> Counter[str]:
        return Counter(f"{method} {_kind(path)}" for method, path, _, _ in self.requests)

    def writes(self) -> int:
        return sum(1 for method, _, _, _ in self.requests if method != "GET")

    def reset_counts(self) -> None:
        self.requests.clear()

    def user_key(self, user: dict[str, str]) -> str:
        return user["accountId"] if self.deployment == "cloud" else user["name"]

    def add_issue(
        self, summary: str, labels: list[str], *, creator: str, description: Any = ""
    ) -> str:
        with self._lock:
            data = self._new(
                {"summary": summary, "labels": labels, "description": description}, creator
            )
            return str(data["key"])

    # --- state ------------------------------------------------------------------------------

    def _user(self, ref: dict[str, str] | None) -> dict[str, str] | None:
        if not ref:
            return None
        wanted = ref.get("accountId") or ref.get("name")
        for user in self.users:
            if self.user_key(user) == wanted:
                return (
                    {"accountId": user["accountId"], "displayName": user["name"]}
                    if self.deployment == "cloud"
                    else {"name": user["name"], "displayName": user["name"]}
                )
        return None

    def _creator(self, account: str) -> dict[str, str]:
        return {"accountId": account} if self.deployment == "cloud" else {"name": account}

    def _validate(self, fields: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        if (
            "assignee" in fields
            and fields["assignee"] is not None
            and self._user(fields["assignee"]) is None
        ):
            errors["assignee"] = "User cannot be assigned issues."
        priority = (fields.get("priority") or {}).get("name")
        if priority is not None and priority not in self.priorities:
            errors["priority"] = f"The priority selected is invalid: {priority}"
        for field_id, name in self.required_fields.items():
            if field_id not in fields:
                errors[field_id] = f"{name} is required."
        if self.deployment == "cloud" and isinstance(fields.get("description"), str):
            errors["description"] = "Operation value must be an Atlassian Document"
        if "summary" in fields and not str(fields["summary"] or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        if len(str(fields.get("summary") or "")) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        return errors

    def _new(self, fields: dict[str, Any], creator: str) -> dict[str, Any]:
        number = len(self.issues) + 1
        key = f"{self.project}-{number}"
        now = self.stamp()
        issue = {
            "id": str(10000 + number),
            "key": key,
            "self": f"{self.url}/rest/api/{self.version}/issue/{10000 + number}",
            "fields": {
                "summary": fields.get("summary", ""),
                "description": fields.get("description"),
                "labels": list(fields.get("labels") or []),
                "duedate": fields.get("duedate"),
                "assignee": self._user(fields.get("assignee")),
                "priority": fields.get("priority"),
                "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                "created": now,
                "updated": now,
                "creator": self._creator(creator),
                "comment": {"comments": []},
            },
            "changelog": {"histories": []},
            "remotelinks": {},
        }
        self.issues[key] = issue
        self._created_at[key] = time.monotonic()
        return issue

    def history(
        self, key: str, name: str, to: Any, author: str | None = None, before: Any = None
    ) -> None:
        """A changelog entry, as Jira records a field's change (the assignee, a remote link)."""
        issue = self.issues[key]
        issue["changelog"]["histories"].append(
            {
                "id": str(len(issue["changelog"]["histories"]) + 1),
                "author": self._creator(author or self.bot),
                "created": self.stamp(),
                "items": [
                    {
                        "field": name,
                        "from": _account(before),
                        "to": _account(to),
                        "toString": str(to) if to else None,
                    }
                ],
            }
        )

    def _searchable(self, key: str, reconcile: set[str]) -> bool:
        fresh = time.monotonic() - self._created_at.get(key, 0) < self.lag
        return not fresh or key in self.indexed or self.issues[key]["id"] in reconcile

    # --- serving ----------------------------------------------------------------------------

    def stamp(self) -> str:
        """Now, by the fake's clock, as the API writes times."""
        return self.clock().strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    @contextmanager
    def running(self) -> Iterator[FakeJira]:
        with serve(_handler(self)) as self.url:
            yield self


def _account(user: Any) -> Any:
    """A user as a changelog item names them: the account id (or name), else the value."""
    if isinstance(user, dict):
        return user.get("accountId") or user.get("name")
    return user


def _kind(path: str) -> str:
    path = re.sub(r"^/rest/api/\d/", "", path)
    path = re.sub(r"issue/[A-Z]+-\d+", "issue/{key}", path)
    path = re.sub(r"^version/\d+$", "version/{id}", path)
    return re.sub(r"issuetypes/\w+$", "issuetypes/{id}", path)


def _jql(jql: str) -> tuple[str | None, list[str], str]:
    project = re.search(r'project\s*=\s*"?([A-Z][A-Z0-9]*)"?', jql)
    labels = re.search(r"labels\s*=\s*([\w-]+)", jql)
    many = re.search(r"labels\s+in\s*\(([^)]*)\)", jql)
    wanted = (
        [labels.group(1)]
        if labels
        else [s.strip() for s in many.group(1).split(",")]
        if many
        else []
    )
    mode = "in" if many else "all"
    return (project.group(1) if project else None), wanted, mode


ISSUE_TYPES = [{"id": "10001", "name": "Task"}, {"id": "10002", "name": "Bug"}]


def _authenticated(header: str, revoked: set[str]) -> bool:
    """Basic with an e-mail and an API token (Cloud) or a user and password, or Bearer with a
    personal access token (Data Center): well formed, and not revoked."""
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "basic":
        try:
            user, colon, secret = (
                base64.b64decode(credential, validate=True).decode().partition(":")
            )
        except (ValueError, UnicodeDecodeError):
            return False
        return bool(user and colon and secret) and secret not in revoked
    return scheme.lower() == "bearer" and bool(credential) and credential not in revoked


def _handler(fake: FakeJira) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def serve(self, method: str) -> None:
            path, query, body = self.read_request()
            if fake.deployment == "cloud" and path.startswith("/rest/api/3/"):
                refused = openapi_check.JIRA.check(method, path, query, body)
                if refused:  # as Jira Cloud answers a request its API does not take
                    status = 404 if "no such" in refused[0] else 400
                    self._send(status, {"errorMessages": refused, "errors": {}})
                    return
            with fake._lock:
                fake.requests.append((method, path, query, body))
                fault = next(
                    (
                        f
                        for f in fake.faults
                        if f.times > 0 and f.method == method and re.search(f.path, path)
                    ),
                    None,
                )
                if fault is not None and fault.skip > 0:
                    fault.skip -= 1
                    fault = None
                elif fault is not None:
                    fault.times -= 1
            if fault is not None and fault.kind == "status":
                self._send(fault.status, fault.body, fault.headers)
                return
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            with fake._lock:
                status, data = self._route(method, path, query, body)
            if fault is not None and fault.kind == "after":
                self._send(fault.status, fault.body, fault.headers)
                return
            self._send(status, data)

        def date_time_string(self, timestamp: float | None = None) -> str:
            """The Date header: the fake's clock, which tests move."""
            return format_datetime(fake.clock().astimezone(UTC), usegmt=True)

        def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = b"" if data is None else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _admin_hooks(self, method: str, number: str | None, body: Any) -> tuple[int, Any]:
            if method == "GET":
                shown = [
                    {k: v for k, v in h.items() if k != "secret"} for h in fake.admin_hooks.values()
                ]
                return 200, shown
            data = body if isinstance(body, dict) else {}
            if not str(data.get("url", "")).startswith("https://") or not data.get("events"):
                return 400, {"errorMessages": ["url must be https and events are required"]}
            hook_id = int(number) if number else max(fake.admin_hooks, default=0) + 1
            self_link = f"{fake.url}/rest/webhooks/1.0/webhook/{hook_id}"
            fake.admin_hooks[hook_id] = {**data, "self": self_link, "enabled": True}
            return (201 if number is None else 200), {"self": self_link, **data}

        def _dynamic_hooks(self, method: str, rest: str, body: Any) -> tuple[int, Any]:
            if fake.dynamic_hooks is None:
                message = "Only Connect and OAuth 2.0 apps can use this operation."
                return 403, {"errorMessages": [message]}
            if rest == "webhook" and method == "GET":
                values = [
                    {"id": i, "jqlFilter": "labels = pmsync", "events": ["jira:issue_updated"],
                     "expirationDate": ms}
                    for i, ms in sorted(fake.dynamic_hooks.items())
                ]  # fmt: skip
                return 200, {"isLast": True, "maxResults": 100, "startAt": 0, "total": len(values),
                             "values": values}  # fmt: skip
            if rest == "webhook/refresh" and method == "PUT":
                later = int((fake.clock().timestamp() + 30 * 86400) * 1000)
                for hook_id in (body or {}).get("webhookIds") or []:
                    if hook_id in fake.dynamic_hooks:
                        fake.dynamic_hooks[hook_id] = later
                return 200, {"expirationDate": later}
            return 404, {"errorMessages": ["Not found"]}

        def _route(
            self, method: str, path: str, query: dict[str, str], body: Any
        ) -> tuple[int, Any]:
            hook = re.match(r"^/rest/webhooks/1\.0/webhook(?:/(\d+))?$", path)
            if hook:
                return self._admin_hooks(method, hook.group(1), body)
            match = re.match(r"^/rest/api/(\d)/(.*)$", path)
            if not match:
                return 404, {"errorMessages": ["Not found"]}
            version, rest = int(match.group(1)), match.group(2)
            if version != fake.version and not rest.startswith("serverInfo"):
                return 404, {"errorMessages": [f"REST v{version} is not served here"]}
            if not _authenticated(self.headers.get("Authorization", ""), fake.revoked):
                return 401, {"errorMessages": ["You are not authenticated."]}
            if rest == "serverInfo":
                kind = "Cloud" if fake.deployment == "cloud" else "Server"
                return 200, {
                    "deploymentType": kind,
                    "version": "1001.0.0",
                    "versionNumbers": [1001, 0, 0],
                }
            if rest == "myself":
                return 200, fake._creator(fake.bot)
            if rest.startswith("webhook"):
                return self._dynamic_hooks(method, rest, body)
            if rest == "search" and fake.deployment == "cloud":
                return 410, {
                    "errorMessages": [
                        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
                    ]
                }
            if rest in ("search", "search/jql") and method == "GET":
                project, _, _ = _jql(query.get("jql", ""))
                if project is not None and project != fake.project:
                    message = f"The value '{project}' does not exist for the field 'project'."
                    return 400, {"errorMessages": [message], "errors": {}}
                if len(query.get("reconcileIssues", "").split(",")) > 50:  # "max 50 ids"
                    return 400, {"errorMessages": ["Too many issues to reconcile."], "errors": {}}
                return 200, self._search(query, rest == "search/jql")
            if rest.startswith("version") or rest.endswith("/versions"):
                return self._versions(method, rest, body)
            if rest.startswith("project/") and method == "GET":
                if rest.split("/", 1)[1] != fake.project:
                    return 404, {"errorMessages": ["No project could be found with key."]}
                return 200, {"id": PROJECT_ID, "key": fake.project, "name": "Operations"}
            if rest == "issue" and method == "POST":
                return self._create(body["fields"])
            if rest == "issue/bulk" and method == "POST":
                made, errors = [], []
                for index, update in enumerate(body["issueUpdates"]):
                    status, data = self._create(update["fields"])
                    if status == 201:
                        made.append(data)
                    else:
                        errors.append(
                            {"status": status, "elementErrors": data, "failedElementNumber": index}
                        )
                return 201, {"issues": made, "errors": errors}
            if rest == "issueLink" and method == "POST":
                inward, outward = body["inwardIssue"]["key"], body["outwardIssue"]["key"]
                if inward not in fake.issues or outward not in fake.issues:
                    return 404, {"errorMessages": ["Issue does not exist."]}
                fake.links.append((body["type"]["name"], inward, outward))
                return 201, None
            if rest == "user/search":
                wanted = (query.get("query") or query.get("username") or "").casefold()
                found = [
                    u
                    for u in fake.users
                    if wanted and wanted.split("@")[0] in u["emailAddress"].casefold()
                ]
                return 200, [
                    {"accountId": u["accountId"], "emailAddress": u["emailAddress"]}
                    if fake.deployment == "cloud"
                    else {"name": u["name"], "emailAddress": u["emailAddress"]}
                    for u in found
                ]
            meta = re.match(rf"^issue/createmeta/{fake.project}/issuetypes(?:/(\w+))?$", rest)
            if meta and not meta.group(1):
                return 200, {"issueTypes": ISSUE_TYPES, "total": len(ISSUE_TYPES)}
            if meta:
                fields = [
                    {"fieldId": "summary", "name": "Summary", "required": True},
                    {"fieldId": "project", "name": "Project", "required": True},
                    {"fieldId": "issuetype", "name": "Issue Type", "required": True},
                    {
                        "fieldId": "reporter",
                        "name": "Reporter",
                        "required": True,
                        "hasDefaultValue": True,
                    },
                    {
                        "fieldId": "priority",
                        "name": "Priority",
                        "required": False,
                        "allowedValues": [{"name": p} for p in fake.priorities],
                    },
                    *(
                        {"fieldId": fid, "name": name, "required": True}
                        for fid, name in fake.required_fields.items()
                    ),
                ]
                return 200, {"fields": fields, "total": len(fields)}
            issue_match = re.match(r"^issue/([A-Z]+-\d+)(?:/(\w+))?$", rest)
            if not issue_match:
                return 404, {"errorMessages": ["Not found"]}
            key, sub = issue_match.group(1), issue_match.group(2)
            issue = fake.issues.get(key)
            if issue is None:
                return 404, {
                    "errorMessages": [
                        "Issue does not exist or you do not have permission to see it."
                    ]
                }
            fields = issue["fields"]
            if sub is None and method == "GET":
                data = {k: v for k, v in issue.items() if k not in ("remotelinks",)}
                if query.get("expand") != "changelog":
                    data.pop("changelog", None)
                return 200, data
            if sub is None and method == "PUT":
                errors = fake._validate(body.get("fields", {}))
                if errors:
                    return 400, {"errorMessages": [], "errors": errors}
                for name, value in body.get("fields", {}).items():
                    if name == "assignee" and fake._user(value) != fields.get("assignee"):
                        fake.history(key, "assignee", fake._user(value), before=fields["assignee"])
                    fields[name] = fake._user(value) if name == "assignee" else value
                for op in body.get("update", {}).get("labels", []):
                    if "add" in op and op["add"] not in fields["labels"]:
                        fields["labels"].append(op["add"])
                    if "remove" in op and op["remove"] in fields["labels"]:
                        fields["labels"].remove(op["remove"])
                fields["updated"] = fake.stamp()
                return 204, None
            if sub == "comment" and method == "POST":
                comment = {
                    "id": str(len(fields["comment"]["comments"]) + 1),
                    "body": body["body"],
                    "author": fake._creator(fake.bot),
                    "created": fake.stamp(),
                }
                fields["comment"]["comments"].append(comment)
                return 201, comment
            if sub == "remotelink" and method == "POST":
                existed = body["globalId"] in issue["remotelinks"]
                issue["remotelinks"][body["globalId"]] = body
                return (200 if existed else 201), {
                    "id": len(issue["remotelinks"]),
                    "self": f"{fake.url}/x",
                }
            if sub == "transitions" and method == "GET":
                return 200, {
                    "transitions": [
                        {
                            "id": "21",
                            "name": "Start",
                            "to": {
                                "name": "In Progress",
                                "statusCategory": {"key": "indeterminate"},
                            },
                        },
                        {
                            "id": "31",
                            "name": "Resolve",
                            "to": {"name": "Done", "statusCategory": {"key": "done"}},
                        },
                    ]
                }
            if sub == "transitions" and method == "POST":
                target = {"21": "In Progress", "31": "Done"}[body["transition"]["id"]]
                fields["status"] = {"name": target, "statusCategory": {"key": STATUSES[target]}}
                fields["updated"] = fake.stamp()
                fields["resolutiondate"] = fake.stamp() if target == "Done" else None
                return 204, None
            return 404, {"errorMessages": ["Not found"]}

        def _versions(self, method: str, rest: str, body: Any) -> tuple[int, Any]:
            """Project versions, as a lease needs them: names unique in the project."""
            if rest == f"project/{fake.project}/versions" and method == "GET":
                return 200, list(fake.versions.values())
            if rest == "version" and method == "POST":
                if not fake.versions_allowed:
                    return 403, {"errorMessages": ["You do not have permission to do this."]}
                if str(body.get("projectId")) != PROJECT_ID or not body.get("name"):
                    return 400, {"errorMessages": [], "errors": {"project": "Project required."}}
                if any(v["name"] == body["name"] for v in fake.versions.values()):
                    message = "A version with this name already exists in this project."
                    return 400, {"errorMessages": [], "errors": {"name": message}}
                number = str(20000 + len(fake.version_ids))
                fake.version_ids.append(number)
                made = {**body, "id": number, "projectId": int(PROJECT_ID), "archived": False}
                fake.versions[number] = made
                return 201, made
            match = re.match(r"^version/(\d+)$", rest)
            if match and method == "DELETE":
                if fake.versions.pop(match.group(1), None) is None:
                    return 404, {"errorMessages": ["Could not find version for id"]}
                return 204, None
            return 404, {"errorMessages": ["Not found"]}

        def _create(self, fields: dict[str, Any]) -> tuple[int, Any]:
            errors = fake._validate(fields)
            if "summary" not in fields:
                errors["summary"] = "You must specify a summary of the issue."
            kind = fields.get("issuetype") or {}
            if not (kind.get("name") or kind.get("id")):
                errors["issuetype"] = "Specify an issue type"
            elif not any(kind.get(k) in (t["id"], t["name"]) for t in ISSUE_TYPES for k in kind):
                errors["issuetype"] = "Specify a valid issue type"
            if fields.get("project", {}).get("key") != fake.project:
                errors["project"] = "valid project is required"
            if errors:
                return 400, {"errorMessages": [], "errors": errors}
            issue = fake._new(fields, fake.bot)
            return 201, {"id": issue["id"], "key": issue["key"], "self": issue["self"]}

        def _search(self, query: dict[str, str], cloud: bool) -> dict[str, Any]:
            project, labels, mode = _jql(query.get("jql", ""))
            reconcile = set(filter(None, query.get("reconcileIssues", "").split(",")))
            wanted_fields = set(filter(None, query.get("fields", "").split(",")))
            if cloud and not wanted_fields:
                wanted_fields = {"id"}  # Cloud's default: no fields, only the issue's id
            chosen = []
            for key, issue in fake.issues.items():
                names = set(issue["fields"]["labels"])
                if project and not key.startswith(f"{project}-"):
                    continue
                if labels and (
                    not names & set(labels) if mode == "in" else not set(labels) <= names
                ):
                    continue
                if fake._searchable(key, reconcile):
                    chosen.append(issue)
            if re.search(r"ORDER BY key DESC", query.get("jql", ""), re.IGNORECASE):
                chosen.sort(key=lambda i: int(i["key"].rsplit("-", 1)[1]), reverse=True)
            size = min(int(query.get("maxResults", 50)), 100)
            start = (
                int(base64.b64decode(query["nextPageToken"]).decode())
                if cloud and query.get("nextPageToken")
                else int(query.get("startAt", 0))
            )
            page = [
                {
                    "id": i["id"],
                    "key": i["key"],
                    "fields": {
                        k: v
                        for k, v in i["fields"].items()
                        if not wanted_fields or k in wanted_fields
                    },
                }
                for i in chosen[start : start + size]
            ]
            if cloud:
                result: dict[str, Any] = {"issues": page, "isLast": start + size >= len(chosen)}
                if start + size < len(chosen):
                    result["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
                return result
            return {"issues": page, "startAt": start, "maxResults": size, "total": len(chosen)}

    return Handler
