"""A fake GitLab REST API (v4) on loopback: stateful, paginated, rate-limited and faulty on
demand.

It implements the endpoints pmsync uses, the way GitLab answers them: `Link` and `x-next-page`
pagination, `RateLimit-*` headers on every response, assignees who are not project members
dropped without an error, system notes for label changes, labels created on first use, a
repository (tree, blobs, files, branches, commits) with merge requests, and injected faults
(the `Fault` of the fake GitHub: a status, a lost answer, a dropped connection, a slow one).
python-gitlab talks to it through `url`.
"""

from __future__ import annotations

import base64
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
from urllib.parse import unquote, urlencode

from tests.fakes.github import Fault
from tests.fakes.loopback import JsonHandler, serve

__all__ = ["FakeGitLab", "Fault"]


@dataclass
class FakeGitLab:
    # The project's hooks; a signing token is kept, never shown (its presence is), as GitLab.
    hooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    signing_tokens: bool = True  # False: the instance's webhook_signing_token feature is off
    revoked: set[str] = field(default_factory=set)  # access tokens answered 401
    project: str = "acme/incidents"
    project_id: int = 42
    bot: str = "pmsync-bot"
    users: dict[str, int] = field(
        default_factory=lambda: {"pmsync-bot": 1, "dana": 2, "sam": 3, "priya": 4, "lee": 5}
    )
    members: set[str] = field(default_factory=lambda: {"pmsync-bot", "dana", "sam", "priya", "lee"})
    milestones: dict[int, str] = field(default_factory=lambda: {7: "Post-mortem actions"})
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # branch: path: text (a binary file as bytes)
    files: dict[str, dict[str, Any]] = field(default_factory=lambda: {"main": {}})
    commits: list[dict[str, Any]] = field(default_factory=list)
    merge_requests: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)  # paths of the blobs served, in order
    payloads: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    rate_remaining: int = 2000
    lag: float = 0.0  # seconds before a new issue shows in lists
    link_header: bool = True  # False: pages say only `x-next-page`, as behind some proxies
    url: str = ""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # moved by tests
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _made: dict[int, float] = field(default_factory=dict)

    # --- what tests look at -----------------------------------------------------------------

    def count(self) -> Counter[str]:
        return Counter(f"{method} {kind}" for method, kind in self.requests)

    def writes(self) -> int:
        return sum(1 for method, _ in self.requests if method != "GET")

    def reset_counts(self) -> None:
        self.requests.clear()
        self.payloads.clear()

    def by_title(self, title: str) -> list[dict[str, Any]]:
        return [issue for issue in self.issues.values() if issue["title"] == title]

    def add_issue(self, title: str, description: str, *, user: str, labels: list[str]) -> int:
        """An issue made by someone other than pmsync."""
        with self._lock:
            return int(
                self._new_issue(
                    {"title": title, "description": description, "labels": ",".join(labels)}, user
                )["iid"]
            )

    def note_as(self, iid: int, user: str, body: str) -> None:
        with self._lock:
            self._add_note(iid, body, user)

    def close_as(self, iid: int, user: str) -> None:
        with self._lock:
            issue = self.issues[iid]
            issue.update(state="closed", closed_at=self.stamp(), updated_at=self.stamp())
            issue["closed_by"] = {"username": user}

    def fail(self, path: str, failure: Any) -> None:
        """Reading the blob now at `path` on main fails as `failure` (a sources.Failure) says."""
        blob = _blob_id(self.files["main"][path])
        self.faults.append(
            Fault(
                "GET",
                rf"/repository/blobs/{blob}/raw$",
                status=failure.status,
                headers=dict(failure.headers),
                body=failure.body,
                times=failure.times,
            )
        )

    def write_file(self, path: str, text: str, branch: str = "main") -> None:
        """A file as a person commits it."""
        with self._lock:
            self.files.setdefault(branch, {})[path] = text
            self._commit(branch, f"Edit {path}")

    def _commit(self, branch: str, message: str) -> dict[str, Any]:
        number = len(self.commits)
        commit = {
            "id": hashlib.sha1(f"{number}:{branch}:{message}".encode()).hexdigest(),
            "branch": branch,
            "message": message,
            "files": dict(self.files[branch]),
        }
        self.commits.append(commit)
        return commit

    # --- state changes ----------------------------------------------------------------------

    def _new_issue(self, payload: dict[str, Any], user: str) -> dict[str, Any]:
        iid = max(self.issues, default=0) + 1
        now = self.stamp()
        labels = _labels(payload.get("labels"))
        issue: dict[str, Any] = {
            "id": 9000 + iid,
            "iid": iid,
            "project_id": self.project_id,
            "title": payload["title"],
            "description": payload.get("description") or "",
            "state": "opened",
            "labels": labels,
            "assignees": self._assignees(payload.get("assignee_ids")),
            "due_date": payload.get("due_date"),
            "milestone": self._milestone(payload.get("milestone_id")),
            "author": {"id": self.users.get(user, 99), "username": user},
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
            "web_url": f"https://gitlab.test/{self.project}/-/issues/{iid}",
        }
        self.issues[iid] = issue
        self._made[iid] = time.monotonic()
        self.notes[iid] = []
        if issue["assignees"]:  # GitLab notes each assignment, the first one too
            names = ", ".join(f"@{a['username']}" for a in issue["assignees"])
            self._add_note(iid, f"assigned to {names}", user, system=True)
        return issue

    def _assignees(self, ids: Any) -> list[dict[str, Any]]:
        names = {v: k for k, v in self.users.items()}
        return [
            {"id": i, "username": names[i]}
            for i in ids or []
            if i in names and names[i] in self.members  # GitLab drops the others silently
        ]

    def _milestone(self, milestone_id: Any) -> dict[str, Any] | None:
        if milestone_id is None or milestone_id not in self.milestones:
            return None
        return {"id": milestone_id, "title": self.milestones[milestone_id]}

    def _add_note(self, iid: int, body: str, user: str, system: bool = False) -> dict[str, Any]:
        note = {
            "id": 70000 + sum(len(n) for n in self.notes.values()),
            "body": body,
            "author": {"id": self.users.get(user, 99), "username": user},
            "created_at": self.stamp(),
            "system": system,
        }
        self.notes[iid].append(note)
        self.issues[iid]["updated_at"] = note["created_at"]
        return note

    def _edit(self, issue: dict[str, Any], payload: dict[str, Any], user: str) -> None:
        iid = issue["iid"]
        for key in ("title", "description", "due_date"):
            if key in payload:
                issue[key] = payload[key]
        if "assignee_ids" in payload:
            before = {a["username"] for a in issue["assignees"]}
            issue["assignees"] = self._assignees(payload["assignee_ids"])
            added = [a["username"] for a in issue["assignees"] if a["username"] not in before]
            if added:
                names = ", ".join(f"@{name}" for name in added)
                self._add_note(iid, f"assigned to {names}", user, system=True)
        if "milestone_id" in payload:
            issue["milestone"] = self._milestone(payload["milestone_id"])
        labels = list(issue["labels"])
        if "labels" in payload:
            labels = _labels(payload["labels"])
        labels += [n for n in _labels(payload.get("add_labels")) if n not in labels]
        removed = set(_labels(payload.get("remove_labels")))
        labels = [n for n in labels if n not in removed]
        if labels != issue["labels"]:
            issue["labels"] = labels
            self._add_note(iid, "changed the labels", user, system=True)
        if payload.get("state_event") == "close" and issue["state"] != "closed":
            issue["state"], issue["closed_at"] = "closed", self.stamp()
            self._add_note(iid, "closed", user, system=True)
        if payload.get("state_event") == "reopen":
            issue["state"], issue["closed_at"] = "opened", None
        issue["updated_at"] = self.stamp()

    # --- serving ----------------------------------------------------------------------------

    def stamp(self) -> str:
        return self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")

    @contextmanager
    def running(self) -> Iterator[FakeGitLab]:
        with serve(_handler(self)) as self.url:
            yield self


MAX_TITLE = 255  # characters, as GitLab's issue model validates
MAX_TEXT = 1_048_576  # characters in a description or a note (1 MB)


def _refused(payload: dict[str, Any]) -> tuple[int, Any, dict[str, str]] | None:
    """GitLab's 400 for an issue create or edit it does not take: an unknown `state_event`, a
    blank or too long title, a too long description."""
    if "state_event" in payload and payload["state_event"] not in ("close", "reopen"):
        return 400, {"error": "state_event does not have a valid value"}, {}
    if "title" in payload and not str(payload["title"] or "").strip():
        return 400, {"message": {"title": ["can't be blank"]}}, {}
    if len(str(payload.get("title") or "")) > MAX_TITLE:
        return 400, {"message": {"title": ["is too long (maximum is 255 characters)"]}}, {}
    if len(str(payload.get("description") or "")) > MAX_TEXT:
        return 400, {"message": {"description": ["is too long (maximum is 1 MB)"]}}, {}
    return None


_LISTING = {  # the values GitLab takes for the issue list's parameters
    "order_by": {"created_at", "updated_at", "priority", "due_date", "relative_position",
                 "label_priority", "milestone_due", "popularity", "weight", "title"},
    "sort": {"asc", "desc"},
    "scope": {"created_by_me", "assigned_to_me", "all", "created-by-me", "assigned-to-me"},
    "state": {"opened", "closed", "all"},
}  # fmt: skip


def _invalid_listing(query: dict[str, str]) -> str:
    """GitLab's 400 for an issue list parameter with a value it does not take."""
    for name, allowed in _LISTING.items():
        if name in query and query[name] not in allowed:
            return f"{name} does not have a valid value"
    return ""


def _labels(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _shown(hook: dict[str, Any]) -> dict[str, Any]:
    """A hook as the API shows it: whether it has tokens, never the tokens."""
    shown = {k: v for k, v in hook.items() if k not in ("signing_token", "token")}
    shown["signing_token_present"] = "signing_token" in hook
    shown["token_present"] = "token" in hook
    return shown


def _handler(fake: FakeGitLab) -> type[JsonHandler]:
    project = r"/api/v4/projects/([^/]+)"
    routes: list[tuple[str, re.Pattern[str], str]] = [
        ("GET", re.compile(r"^/api/v4/user$"), "user"),
        ("GET", re.compile(r"^/api/v4/users$"), "users"),
        ("GET", re.compile(rf"^{project}$"), "project"),
        ("GET", re.compile(rf"^{project}/issues$"), "issues"),
        ("POST", re.compile(rf"^{project}/issues$"), "issues"),
        ("GET", re.compile(rf"^{project}/issues/(\d+)$"), "issue"),
        ("PUT", re.compile(rf"^{project}/issues/(\d+)$"), "issue"),
        ("GET", re.compile(rf"^{project}/issues/(\d+)/notes$"), "notes"),
        ("POST", re.compile(rf"^{project}/issues/(\d+)/notes$"), "notes"),
        ("GET", re.compile(rf"^{project}/milestones$"), "milestones"),
        ("GET", re.compile(rf"^{project}/repository/tree$"), "tree"),
        ("GET", re.compile(rf"^{project}/repository/blobs/(\w+)/raw$"), "blob"),
        ("GET", re.compile(rf"^{project}/repository/files/([^/]+)$"), "file"),
        ("GET", re.compile(rf"^{project}/repository/branches/([^/]+)$"), "branch"),
        ("POST", re.compile(rf"^{project}/repository/commits$"), "commits"),
        ("GET", re.compile(rf"^{project}/repository/commits/(\w+)$"), "commit"),
        ("GET", re.compile(rf"^{project}/merge_requests$"), "merge requests"),
        ("POST", re.compile(rf"^{project}/merge_requests$"), "merge requests"),
        ("PUT", re.compile(rf"^{project}/merge_requests/(\d+)$"), "merge request"),
        ("GET", re.compile(rf"^{project}/hooks$"), "hooks"),
        ("POST", re.compile(rf"^{project}/hooks$"), "hooks"),
        ("PUT", re.compile(rf"^{project}/hooks/(\d+)$"), "hook"),
    ]

    class Handler(JsonHandler):
        def serve(self, method: str) -> None:
            path, query, body = self.read_request()
            payload = body if isinstance(body, dict) else {}
            route = next(
                (
                    (kind, found)
                    for verb, pattern, kind in routes
                    if verb == method and (found := pattern.match(path))
                ),
                None,
            )
            if route is None:
                self._send(404, {"message": "404 Not Found"})
                return
            kind, match = route
            groups = match.groups()
            if len(groups) and kind not in ("user", "users"):
                named = unquote(groups[0])
                if named not in (fake.project, str(fake.project_id)):
                    self._send(404, {"message": "404 Project Not Found"})
                    return
                groups = groups[1:]
            token = self.headers.get("PRIVATE-TOKEN") or ""
            if not token.strip() or token.strip() in fake.revoked:
                self._send(401, {"message": "401 Unauthorized"})
                return
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
                status, answer, headers = self._route(kind, method, groups, query, payload)
            if fault is not None and fault.kind == "after":
                self._send(fault.status, fault.body, fault.headers)
                return
            if fault is not None and fault.kind == "drop":
                self.close_connection = True
                self.wfile.flush()
                self.connection.close()
                return
            self._send(status, answer, headers)

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
            raw = body if isinstance(body, bytes) else None
            data = b"" if status == 204 else raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            kind = "text/plain" if raw is not None else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            fake.rate_remaining = max(0, fake.rate_remaining - 1)
            self.send_header("RateLimit-Limit", "2000")
            self.send_header("RateLimit-Remaining", str(fake.rate_remaining))
            self.send_header("RateLimit-Reset", str(int(time.time()) + 60))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _list(
            self, entries: list[Any], query: dict[str, str]
        ) -> tuple[int, Any, dict[str, str]]:
            for name in ("page", "per_page"):
                if not str(query.get(name, "1")).isdigit():
                    return 400, {"error": f"{name} is invalid"}, {}
            per_page = min(int(query.get("per_page", 20)), 100)
            page = int(query.get("page", 1))
            shown = entries[(page - 1) * per_page : page * per_page]
            headers = {"x-page": str(page), "x-per-page": str(per_page)}
            if page * per_page < len(entries):
                following = {**query, "page": str(page + 1)}
                link = f"{fake.url}{self.path.split('?')[0]}?{urlencode(following)}"
                if fake.link_header:
                    headers["Link"] = f'<{link}>; rel="next"'
                headers["x-next-page"] = str(page + 1)
            else:
                headers["x-next-page"] = ""
            return 200, shown, headers

        def _route(
            self,
            kind: str,
            method: str,
            groups: tuple[str | Any, ...],
            query: dict[str, str],
            payload: dict[str, Any],
        ) -> tuple[int, Any, dict[str, str]]:
            if kind == "user":
                return 200, {"id": fake.users[fake.bot], "username": fake.bot}, {}
            if kind in ("hooks", "hook") and method != "GET":
                hook_id = int(groups[1]) if kind == "hook" else max(fake.hooks, default=0) + 1
                if kind == "hook" and hook_id not in fake.hooks:
                    return 404, {"message": "404 Not found"}, {}
                hook = fake.hooks.setdefault(hook_id, {"id": hook_id, "issues_events": False})
                for key in ("url", "issues_events", "push_events", "enable_ssl_verification"):
                    if key in payload:
                        hook[key] = payload[key]
                if "signing_token" in payload and fake.signing_tokens:
                    hook["signing_token"] = payload["signing_token"]
                if "token" in payload:
                    hook["token"] = payload["token"]
                return 201 if kind == "hooks" else 200, _shown(hook), {}
            if kind == "hooks":
                return 200, [_shown(h) for h in fake.hooks.values()], {}
            if kind == "users":
                name = query.get("username", "")
                found = [{"id": fake.users[name], "username": name}] if name in fake.users else []
                return 200, found, {}
            if kind == "project":
                return (
                    200,
                    {
                        "id": fake.project_id,
                        "path_with_namespace": fake.project,
                        "default_branch": "main",
                        "web_url": f"https://gitlab.test/{fake.project}",
                    },
                    {},
                )
            if kind == "issues" and method == "GET":
                if wrong := _invalid_listing(query):
                    return 400, {"error": wrong}, {}
                return self._list(self._issues(query), query)
            if kind == "issues":
                if not str(payload.get("title") or "").strip():
                    return 400, {"message": {"title": ["can't be blank"]}}, {}
                if refused := _refused(payload):
                    return refused
                return 201, fake._new_issue(payload, fake.bot), {}
            if kind == "milestones":
                title = query.get("title")
                found = [
                    {"id": i, "title": t}
                    for i, t in fake.milestones.items()
                    if title is None or t == title
                ]
                return 200, found, {}
            if kind in ("issue", "notes"):
                iid = int(groups[0])
                issue = fake.issues.get(iid)
                if issue is None:
                    return 404, {"message": "404 Not found"}, {}
                if kind == "issue" and method == "GET":
                    return 200, issue, {}
                if kind == "issue":
                    if refused := _refused(payload):
                        return refused
                    fake._edit(issue, payload, fake.bot)
                    return 200, issue, {}
                if method == "GET":
                    notes = fake.notes[iid]
                    if query.get("sort") == "desc":
                        notes = list(reversed(notes))
                    return self._list(notes, query)
                if "body" not in payload:
                    return 400, {"error": "body is missing"}, {}
                if not str(payload["body"]).strip():
                    return 400, {"message": {"note": ["can't be blank"]}}, {}
                if len(str(payload["body"])) > MAX_TEXT:
                    return 400, {"message": {"note": ["is too long (maximum is 1 MB)"]}}, {}
                return 201, fake._add_note(iid, str(payload["body"]), fake.bot), {}
            return self._repository(kind, method, groups, query, payload)

        def _issues(self, query: dict[str, str]) -> list[dict[str, Any]]:
            now = time.monotonic()
            found = [i for n, i in fake.issues.items() if now - fake._made.get(n, 0) >= fake.lag]
            if query.get("labels"):
                wanted = set(_labels(query["labels"]))
                found = [i for i in found if wanted <= set(i["labels"])]
            if query.get("author_id"):
                found = [i for i in found if str(i["author"]["id"]) == query["author_id"]]
            if query.get("state") in ("opened", "closed"):
                found = [i for i in found if i["state"] == query["state"]]
            if query.get("created_after"):
                after = query["created_after"].replace("Z", "+00:00")
                cut = datetime.fromisoformat(after)
                found = [
                    i
                    for i in found
                    if datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")) >= cut
                ]
            found.sort(key=lambda i: (i["created_at"], i["iid"]))
            if query.get("sort", "desc") == "desc":
                found.reverse()
            return found

        # --- the repository ---------------------------------------------------------------

        def _repository(
            self,
            kind: str,
            method: str,
            groups: tuple[str | Any, ...],
            query: dict[str, str],
            payload: dict[str, Any],
        ) -> tuple[int, Any, dict[str, str]]:
            if kind == "tree":
                branch = query.get("ref", "main")
                if branch not in fake.files:
                    return 404, {"message": "404 Tree Not Found"}, {}
                prefix = query.get("path", "").strip("/")
                entries = [
                    {
                        "id": _blob_id(text),
                        "name": path.rsplit("/", 1)[-1],
                        "type": "blob",
                        "path": path,
                        "mode": "100644",
                    }
                    for path, text in sorted(fake.files[branch].items())
                    if not prefix or path.startswith(prefix + "/")
                ]
                return self._list(entries, query)
            if kind == "blob":
                for branch in fake.files.values():
                    for path, text in branch.items():
                        if _blob_id(text) == groups[0]:
                            fake.bodies.append(path)
                            return 200, _bytes(text), {}
                return 404, {"message": "404 Blob Not Found"}, {}
            if kind == "file":
                path = unquote(groups[0])
                ref = query.get("ref", "main")
                at = next((c["files"] for c in fake.commits if c["id"] == ref), None)
                text = (at if at is not None else fake.files.get(ref, {})).get(path)
                if text is None:
                    return 404, {"message": "404 File Not Found"}, {}
                return (
                    200,
                    {
                        "file_path": path,
                        "blob_id": _blob_id(text),
                        "encoding": "base64",
                        "content": base64.b64encode(_bytes(text)).decode(),
                    },
                    {},
                )
            if kind == "branch":
                name = unquote(groups[0])
                if name not in fake.files:
                    return 404, {"message": "404 Branch Not Found"}, {}
                head = next((c for c in reversed(fake.commits) if c["branch"] == name), None)
                return 200, {"name": name, "commit": {"id": head["id"] if head else "0" * 40}}, {}
            if kind == "commit":
                found = next((c for c in fake.commits if c["id"] == groups[0]), None)
                if found is None:
                    return 404, {"message": "404 Commit Not Found"}, {}
                return 200, {"id": found["id"], "message": found["message"]}, {}
            if kind == "commits":
                branch = str(payload.get("branch"))
                start = payload.get("start_branch")
                if branch not in fake.files or payload.get("force"):
                    if start not in fake.files:
                        return (
                            400,
                            {
                                "message": "You can only create or edit files when you are on a branch"
                            },
                            {},
                        )
                    fake.files[branch] = dict(fake.files[str(start)])
                for action in payload.get("actions") or []:
                    fake.files[branch][action["file_path"]] = action["content"]
                commit = fake._commit(branch, str(payload.get("commit_message", "")))
                return 201, {"id": commit["id"], "message": commit["message"]}, {}
            if kind == "merge requests" and method == "GET":
                found = [
                    m
                    for m in fake.merge_requests.values()
                    if m["source_branch"] == query.get("source_branch", m["source_branch"])
                    and m["state"] == query.get("state", m["state"])
                ]
                return self._list(found, query)
            if kind == "merge requests":
                iid = max(fake.merge_requests, default=0) + 1
                fake.merge_requests[iid] = {
                    "iid": iid,
                    "state": "opened",
                    "title": payload.get("title"),
                    "description": payload.get("description"),
                    "source_branch": payload.get("source_branch"),
                    "target_branch": payload.get("target_branch"),
                    "web_url": f"https://gitlab.test/{fake.project}/-/merge_requests/{iid}",
                }
                return 201, fake.merge_requests[iid], {}
            found_mr = fake.merge_requests.get(int(groups[0]))
            if found_mr is None:
                return 404, {"message": "404 Not found"}, {}
            found_mr.update({k: v for k, v in payload.items() if k in ("title", "description")})
            return 200, found_mr, {}

    return Handler


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def _blob_id(text: str | bytes) -> str:
    """A blob's id as Git computes it."""
    data = _bytes(text)
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
