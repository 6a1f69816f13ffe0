"""A fake GitHub REST API on loopback: stateful, paginated, rate-limited and faulty on demand.

It implements the endpoints pmsync uses, the way GitHub answers them: `Link` pagination,
`x-ratelimit-*` headers on every response, 422 for assignees who are not collaborators, labels
created on first use, secondary rate limits and injected faults (a 5xx after the issue was
created, a dropped connection, a slow answer). PyGithub talks to it through `base_url`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode, urlparse

from tests import openapi_check
from tests.fakes.loopback import JsonHandler, serve


@dataclass
class Fault:
    """One injected fault, used `times` times on requests matching `method` and `path`.

    kind: "status" answers `status` with `headers` and does nothing; "after" does the work,
    then answers `status` (a lost response); "drop" does the work, then closes the connection
    without answering; "slow" waits `delay` seconds before doing the work and answering.
    """

    method: str
    path: str
    kind: str = "status"
    status: int = 502
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=lambda: {"message": "Server Error"})
    delay: float = 0.0
    times: int = 1
    skip: int = 0  # let this many matching requests through first


@dataclass
class FakeGitHub:
    owner: str = "acme"
    repo: str = "incidents"
    bot: str = "pmsync-bot"
    collaborators: set[str] = field(default_factory=lambda: {"dana", "sam-rivera", "priyan"})
    app_slug: str = "pmsync-app"
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    milestones: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    issue_fields: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": 7, "name": "Target date", "data_type": "date"}]
    )
    field_values: dict[int, dict[int, str]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Each GET answered 200 carries an ETag; a GET sending it back (If-None-Match) is answered
    # 304 with no body and costs no rate limit, as on GitHub: (kind, status) of each such GET.
    conditional: list[tuple[str, int]] = field(default_factory=list)
    payloads: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    rate_remaining: int = 5000
    lag: float = 0.0  # seconds before a new issue shows in lists (a replica behind the primary)
    deleted: set[int] = field(default_factory=set)  # numbers answered with 410 Gone
    git_api: bool = True  # answer git objects and references (a lease); False: 404 as a proxy might
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)
    commit_dates: bool = True  # False: commits come back without author and committer
    refs: dict[str, str] = field(default_factory=dict)
    hooks: dict[int, dict[str, Any]] = field(default_factory=dict)  # the repository's webhooks
    revoked: set[str] = field(default_factory=set)  # tokens answered 401 Bad credentials
    url: str = ""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # moved by tests
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _made: dict[int, float] = field(default_factory=dict)

    # --- what tests look at -----------------------------------------------------------------

    def count(self) -> Counter[str]:
        """Requests by kind: "GET issues", "POST issues", "PATCH issue", ..."""
        return Counter(f"{method} {kind}" for method, kind in self.requests)

    def writes(self) -> int:
        return sum(1 for method, _ in self.requests if method != "GET")

    def reset_counts(self) -> None:
        self.requests.clear()
        self.payloads.clear()
        self.conditional.clear()

    def by_title(self, title: str) -> list[dict[str, Any]]:
        return [issue for issue in self.issues.values() if issue["title"] == title]

    def add_issue(
        self, title: str, body: str, *, user: str, labels: list[str], pr: bool = False
    ) -> int:
        """An issue (or pull request) made by someone other than pmsync."""
        with self._lock:
            issue = self._new_issue(
                {"title": title, "body": body, "labels": labels, "assignees": []}, user
            )
            if pr:
                issue["pull_request"] = {
                    "url": f"{self.url}/repos/{self.owner}/{self.repo}/pulls/1"
                }
            return int(issue["number"])

    def assign_event(self, number: int, actor: str, login: str) -> None:
        """The `assigned` event GitHub records when someone is assigned."""
        self.events[number].append(
            {
                "event": "assigned",
                "actor": {"login": actor},
                "assignee": {"login": login},
                "created_at": self.stamp(),
                "commit_id": None,
            }
        )

    def comment_as(self, number: int, user: str, body: str) -> None:
        with self._lock:
            self._add_comment(number, body, user)

    # --- state changes ----------------------------------------------------------------------

    def _new_issue(self, payload: dict[str, Any], user: str) -> dict[str, Any]:
        number = max([*self.issues, *self.deleted], default=0) + 1
        now = self.stamp()
        labels = list(dict.fromkeys(payload.get("labels") or []))
        self.labels.update(labels)
        issue: dict[str, Any] = {
            "id": 1000 + number,
            "node_id": f"I_{number}",
            "number": number,
            "url": f"{self.url}/repos/{self.owner}/{self.repo}/issues/{number}",
            "html_url": f"https://github.test/{self.owner}/{self.repo}/issues/{number}",
            "title": payload["title"],
            "body": payload.get("body") or "",
            "state": "open",
            "state_reason": None,
            "labels": [{"name": name} for name in labels],
            "assignees": [{"login": login} for login in payload.get("assignees") or []],
            "assignee": None,
            "milestone": self.milestones.get(payload["milestone"])
            if payload.get("milestone")
            else None,
            "user": {"login": user, "type": "Bot" if user.endswith("[bot]") else "User"},
            "comments": 0,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
        }
        self.issues[number] = issue
        self._made[number] = time.monotonic()
        self.comments[number] = []
        self.events[number] = []
        for login in payload.get("assignees") or []:  # GitHub records each assignment
            self.assign_event(number, user, login)
        for entry in payload.get("issue_field_values") or []:
            self.field_values.setdefault(number, {})[entry["field_id"]] = entry["value"]
        return issue

    def _add_comment(self, number: int, body: str, user: str) -> dict[str, Any]:
        comment = {
            "id": 5000 + sum(len(c) for c in self.comments.values()),
            "body": body,
            "user": {"login": user},
            "created_at": self.stamp(),
        }
        self.comments[number].append(comment)
        self.issues[number]["comments"] += 1
        self.issues[number]["updated_at"] = comment["created_at"]
        return comment

    # --- serving ----------------------------------------------------------------------------

    def stamp(self) -> str:
        """Now, by the fake's clock, as the API writes times."""
        return self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")

    @contextmanager
    def running(self) -> Iterator[FakeGitHub]:
        with serve(_handler(self)) as self.url:
            yield self


def _handler(fake: FakeGitHub) -> type[JsonHandler]:
    repo_base = f"/repos/{fake.owner}/{fake.repo}"
    routes: list[tuple[str, re.Pattern[str], str]] = [
        ("GET", re.compile(r"^/user$"), "user"),
        ("GET", re.compile(r"^/app$"), "app"),
        ("POST", re.compile(r"^/app/installations/(\d+)/access_tokens$"), "app token"),
        ("GET", re.compile(rf"^{repo_base}/issues$"), "issues"),
        ("POST", re.compile(rf"^{repo_base}/issues$"), "issues"),
        ("GET", re.compile(rf"^{repo_base}/issues/(\d+)$"), "issue"),
        ("PATCH", re.compile(rf"^{repo_base}/issues/(\d+)$"), "issue"),
        ("GET", re.compile(rf"^{repo_base}/issues/(\d+)/comments$"), "comments"),
        ("POST", re.compile(rf"^{repo_base}/issues/(\d+)/comments$"), "comments"),
        ("GET", re.compile(rf"^{repo_base}/issues/(\d+)/events$"), "events"),
        ("POST", re.compile(rf"^{repo_base}/issues/(\d+)/labels$"), "labels"),
        ("DELETE", re.compile(rf"^{repo_base}/issues/(\d+)/labels/([^/]+)$"), "label"),
        ("GET", re.compile(rf"^{repo_base}/assignees/([^/]+)$"), "assignee"),
        ("GET", re.compile(rf"^{repo_base}/milestones$"), "milestones"),
        ("POST", re.compile(rf"^{repo_base}/milestones$"), "milestones"),
        ("GET", re.compile(rf"^/orgs/{fake.owner}/issue-fields$"), "issue fields"),
        ("POST", re.compile(rf"^{repo_base}/issues/(\d+)/issue-field-values$"), "field values"),
        ("POST", re.compile(rf"^{repo_base}/git/trees$"), "git tree"),
        ("POST", re.compile(rf"^{repo_base}/git/commits$"), "git commit"),
        ("GET", re.compile(rf"^{repo_base}/git/commits/(\w+)$"), "git commit"),
        ("POST", re.compile(rf"^{repo_base}/git/refs$"), "git refs"),
        ("GET", re.compile(rf"^{repo_base}/git/ref/(.+)$"), "git ref"),
        ("PATCH", re.compile(rf"^{repo_base}/git/refs/(.+)$"), "git ref"),
        ("DELETE", re.compile(rf"^{repo_base}/git/refs/(.+)$"), "git ref"),
        ("GET", re.compile(rf"^{repo_base}$"), "repo"),
        ("GET", re.compile(rf"^{repo_base}/hooks$"), "hooks"),
        ("POST", re.compile(rf"^{repo_base}/hooks$"), "hooks"),
        ("PATCH", re.compile(rf"^{repo_base}/hooks/(\d+)$"), "hook"),
    ]

    class Handler(JsonHandler):
        def serve(self, method: str) -> None:
            path, query, body = self.read_request()
            refused = openapi_check.GITHUB.check(method, path, query, body)
            if refused and "no such" in refused[0]:
                self._send(404, {"message": "Not Found"})
                return
            if refused:  # GitHub's own answer to a body or parameter it does not take
                self._send(422, {"message": "Invalid request.", "errors": refused})
                return
            scheme, _, credential = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() not in ("token", "bearer") or not credential.strip():
                self._send(401, {"message": "Requires authentication"})
                return
            if credential.strip() in fake.revoked:
                self._send(401, {"message": "Bad credentials"})
                return
            payload = body if body is not None else {}
            route = next(
                (
                    (kind, found)
                    for verb, pattern, kind in routes
                    if verb == method and (found := pattern.match(path))
                ),
                None,
            )
            if route is None:
                self._send(404, {"message": "Not Found"})
                return
            kind, match = route
            with fake._lock:
                fake.requests.append((method, kind))
                if method != "GET":
                    fake.payloads.append((method, kind, payload))
                fault = self._fault(method, path)
            if fault is not None and fault.kind == "status":
                self._send(fault.status, fault.body, fault.headers)
                return
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            with fake._lock:
                status, body, headers = self._route(kind, method, match.groups(), query, payload)
            if fault is not None and fault.kind == "after":
                self._send(fault.status, fault.body, fault.headers)
                return
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                self.wfile.flush()
                self.connection.close()
                return
            if method == "GET" and status == 200:
                shown = json.dumps([body, headers.get("Link")], sort_keys=True).encode()
                headers = {**headers, "ETag": f'W/"{hashlib.sha1(shown).hexdigest()}"'}
                asked = self.headers.get("If-None-Match")
                if asked is not None:
                    unchanged = asked == headers["ETag"]
                    with fake._lock:
                        fake.conditional.append((kind, 304 if unchanged else 200))
                    if unchanged:  # no body, and no Link: the client keeps where the next page was
                        kept = {k: v for k, v in headers.items() if k.lower() != "link"}
                        self._send(304, None, kept)
                        return
            self._send(status, body, headers)

        def _fault(self, method: str, path: str) -> Fault | None:
            for fault in fake.faults:
                if fault.times > 0 and fault.method == method and re.search(fault.path, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
            return None

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if status in (204, 304) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if status != 304:  # a revalidated answer costs no rate limit
                fake.rate_remaining = max(0, fake.rate_remaining - 1)
            self.send_header("x-ratelimit-limit", "5000")
            self.send_header("x-ratelimit-remaining", str(fake.rate_remaining))
            self.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
            self.send_header("x-ratelimit-resource", "core")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _route(
            self,
            kind: str,
            method: str,
            groups: tuple[str, ...],
            query: dict[str, str],
            payload: dict[str, Any],
        ) -> tuple[int, Any, dict[str, str]]:
            auth = self.headers.get("Authorization", "")
            if kind == "user":
                return 200, {"login": fake.bot, "id": 1, "type": "User"}, {}
            if kind == "app":
                return 200, {"id": 99, "slug": fake.app_slug, "name": "pmsync"}, {}
            if kind == "app token":
                if not auth.startswith("Bearer "):
                    return 401, {"message": "Bad credentials"}, {}
                expires = datetime.fromtimestamp(time.time() + 3600, UTC)
                return (
                    201,
                    {
                        "token": "ghs_installationtoken0000000000000000000",
                        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    },
                    {},
                )
            if kind == "repo":
                return 200, {"full_name": f"{fake.owner}/{fake.repo}", "has_issues": True}, {}
            if kind == "hooks" and method == "GET":
                shown = [
                    {**h, "config": {k: v for k, v in h["config"].items() if k != "secret"}}
                    for h in fake.hooks.values()
                ]  # GitHub never shows a hook's secret
                return 200, shown, {}
            if kind == "hooks":
                url = str((payload.get("config") or {}).get("url") or "")
                if payload.get("name") != "web" or not url.startswith("http"):
                    return 422, {"message": "Validation Failed"}, {}
                number = max(fake.hooks, default=0) + 1
                fake.hooks[number] = {
                    "id": number,
                    "name": "web",
                    "active": bool(payload.get("active", True)),
                    "events": list(payload.get("events") or ["push"]),
                    "config": dict(payload["config"]),
                }
                return 201, fake.hooks[number], {}
            if kind == "hook":
                hook = fake.hooks.get(int(groups[0]))
                if hook is None:
                    return 404, {"message": "Not Found"}, {}
                hook["config"].update(payload.get("config") or {})
                for key in ("active", "events"):
                    if key in payload:
                        hook[key] = payload[key]
                return 200, hook, {}
            if kind.startswith("git "):
                return self._git(kind, method, groups, payload)
            if kind == "issues" and method == "GET":
                now = time.monotonic()
                shown = [
                    i for n, i in fake.issues.items() if now - fake._made.get(n, 0) >= fake.lag
                ]
                return self._list(shown, query, _issue_filter(query))
            if kind in ("issues", "issue", "comments") and method != "GET":
                for name, limit in (("title", 256), ("body", 65536)):
                    if len(str(payload.get(name) or "")) > limit:
                        return 422, _invalid(name, "", code="custom", limit=limit), {}
            if kind == "issues":
                bad = [a for a in payload.get("assignees") or [] if a not in fake.collaborators]
                if bad:
                    return 422, _invalid("assignees", bad), {}
                if payload.get("milestone") and payload["milestone"] not in fake.milestones:
                    return 422, _invalid("milestone", payload["milestone"]), {}
                login = fake.bot if not auth.startswith("token ghs_") else f"{fake.app_slug}[bot]"
                return 201, fake._new_issue(payload, login), {}
            number = int(groups[0]) if groups and groups[0].isdigit() else 0
            if number in fake.deleted:
                return 410, {"message": "This issue was deleted"}, {}
            if number and kind not in ("assignee",) and number not in fake.issues:
                return 404, {"message": "Not Found"}, {}
            issue = fake.issues.get(number)
            if kind == "issue" and method == "GET":
                return 200, issue, {}
            if kind == "issue":
                assert issue is not None
                bad = [a for a in payload.get("assignees") or [] if a not in fake.collaborators]
                if bad:
                    return 422, _invalid("assignees", bad), {}
                for key in ("title", "body", "state", "state_reason"):
                    if key in payload:
                        issue[key] = payload[key]
                if "labels" in payload:
                    issue["labels"] = [{"name": n} for n in dict.fromkeys(payload["labels"])]
                    fake.labels.update(payload["labels"])
                if "assignees" in payload:
                    before = {a["login"] for a in issue["assignees"]}
                    issue["assignees"] = [{"login": login} for login in payload["assignees"]]
                    for login in payload["assignees"]:
                        if login not in before:
                            fake.assign_event(number, _login(auth, fake), login)
                if "milestone" in payload:
                    issue["milestone"] = fake.milestones.get(payload["milestone"])
                issue["updated_at"] = fake.stamp()
                if payload.get("state") == "closed":
                    issue["closed_at"] = issue["updated_at"]
                elif payload.get("state") == "open":
                    issue["closed_at"] = None
                return 200, issue, {}
            if kind == "comments" and method == "GET":
                return self._list(fake.comments[number], query, lambda c: True)
            if kind == "comments":
                return 201, fake._add_comment(number, payload["body"], _login(auth, fake)), {}
            if kind == "events":
                return self._list(fake.events[number], query, lambda e: True)
            if kind == "labels":
                assert issue is not None
                names = [label["name"] for label in issue["labels"]]
                issue["labels"] = [{"name": n} for n in dict.fromkeys([*names, *payload["labels"]])]
                fake.labels.update(payload["labels"])
                fake.events[number].append(
                    {
                        "event": "labeled",
                        "actor": {"login": _login(auth, fake)},
                        "created_at": fake.stamp(),
                    }
                )
                return 200, issue["labels"], {}
            if kind == "label":
                assert issue is not None
                name = unquote(groups[1])
                if name not in [label["name"] for label in issue["labels"]]:
                    return 404, {"message": "Label does not exist"}, {}
                issue["labels"] = [label for label in issue["labels"] if label["name"] != name]
                return 200, issue["labels"], {}
            if kind == "assignee":
                return (
                    (204, None, {})
                    if unquote(groups[0]) in fake.collaborators
                    else (404, {"message": "Not Found"}, {})
                )
            if kind == "milestones" and method == "GET":
                return self._list(fake.milestones.values(), query, lambda m: True)
            if kind == "milestones":
                if any(m["title"] == payload["title"] for m in fake.milestones.values()):
                    return 422, _invalid("title", payload["title"], code="already_exists"), {}
                number = len(fake.milestones) + 1
                fake.milestones[number] = {
                    "number": number,
                    "title": payload["title"],
                    "due_on": payload.get("due_on"),
                    "state": "open",
                }
                return 201, fake.milestones[number], {}
            if kind == "issue fields":
                return 200, fake.issue_fields, {}
            if kind == "field values":
                for entry in payload["issue_field_values"]:
                    fake.field_values.setdefault(number, {})[entry["field_id"]] = entry["value"]
                return (
                    200,
                    [{"field_id": k, "value": v} for k, v in fake.field_values[number].items()],
                    {},
                )
            return 404, {"message": "Not Found"}, {}

        def _git(
            self, kind: str, method: str, groups: tuple[str, ...], payload: dict[str, Any]
        ) -> tuple[int, Any, dict[str, str]]:
            """Git objects and references, as much as a lease needs: commits, and references
            whose update is refused unless it is a fast-forward (or forced)."""
            if not fake.git_api:
                return 404, {"message": "Not Found"}, {}
            if kind == "git tree":
                return 201, {"sha": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "tree": []}, {}
            if kind == "git commit" and method == "POST":
                sha = f"{len(fake.commits) + 1:040x}"
                fake.commits[sha] = {
                    "sha": sha,
                    "message": payload.get("message", ""),
                    "parents": [{"sha": p} for p in payload.get("parents", [])],
                }
                if fake.commit_dates:  # not sent: the account, at the server's time
                    fake.commits[sha]["author"] = {"name": "pmsync", "date": fake.stamp()}
                    fake.commits[sha]["committer"] = {"name": "GitHub", "date": fake.stamp()}
                return 201, fake.commits[sha], {}
            if kind == "git commit":
                found = fake.commits.get(groups[0])
                return (200, found, {}) if found else (404, {"message": "Not Found"}, {})
            if kind == "git refs":
                name = str(payload.get("ref", ""))
                if name in fake.refs:
                    return 422, {"message": "Reference already exists"}, {}
                fake.refs[name] = str(payload["sha"])
                return 201, {"ref": name, "object": {"sha": fake.refs[name]}}, {}
            name = "refs/" + groups[0]
            if name not in fake.refs:
                return 404, {"message": "Not Found"}, {}
            if method == "GET":
                return 200, {"ref": name, "object": {"sha": fake.refs[name], "type": "commit"}}, {}
            if method == "DELETE":
                del fake.refs[name]
                return 204, None, {}
            new = fake.commits.get(str(payload.get("sha")))
            parents = [p["sha"] for p in (new or {}).get("parents", [])]
            if new is None or (not payload.get("force") and fake.refs[name] not in parents):
                return 422, {"message": "Update is not a fast forward"}, {}
            fake.refs[name] = str(payload["sha"])
            return 200, {"ref": name, "object": {"sha": fake.refs[name]}}, {}

        def _list(
            self, items: Any, query: dict[str, str], keep: Any
        ) -> tuple[int, Any, dict[str, str]]:
            chosen = [item for item in items if keep(item)]
            if query.get("direction") == "desc":
                chosen = list(reversed(chosen))
            per_page = min(int(query.get("per_page", 30)), 100)
            page = int(query.get("page", 1))
            last = max(1, -(-len(chosen) // per_page))
            body = chosen[(page - 1) * per_page : page * per_page]
            links = []
            base = f"{fake.url}{urlparse(self.path).path}"
            for rel, number in (("next", page + 1), ("last", last)):
                if number <= last and (rel != "next" or page < last):
                    links.append(f'<{base}?{urlencode({**query, "page": number})}>; rel="{rel}"')
            return 200, body, ({"Link": ", ".join(links)} if links else {})

    return Handler


def _issue_filter(query: dict[str, str]) -> Any:
    wanted = set(filter(None, query.get("labels", "").split(",")))
    state = query.get("state", "open")
    since = query.get("since")

    def keep(issue: dict[str, Any]) -> bool:
        names = {label["name"] for label in issue["labels"]}
        if wanted - names:
            return False
        if state != "all" and issue["state"] != state:
            return False
        return not (since and issue["updated_at"] < since)

    return keep


def _login(auth: str, fake: FakeGitHub) -> str:
    return f"{fake.app_slug}[bot]" if auth.startswith("token ghs_") else fake.bot


def _invalid(field_name: str, value: Any, code: str = "invalid", limit: int = 0) -> dict[str, Any]:
    error = {"resource": "Issue", "code": code, "field": field_name, "value": value}
    if limit:
        error["message"] = f"{field_name} is too long (maximum is {limit} characters)"
    return {
        "message": "Validation Failed",
        "errors": [error],
        "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue",
    }


__all__ = ["FakeGitHub", "Fault"]
