"""The `github` tracker: action items as GitHub issues, through PyGithub, exactly once.

PyGithub provides authentication (token or GitHub App), the base URL (GitHub Enterprise
Server) and its exceptions; every request is made explicitly through its requester, because
its object layer issues hidden GETs for attributes missing from list payloads and its own
retries re-send POSTs after a 5xx (a duplicate issue). pmsync owns retries: reads and edits are
retried with backoff, a create is never re-sent blindly — after an uncertain failure the issue
is looked up by its marker first.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from github import Auth, Github, GithubException, GithubIntegration
from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import CloseReason, activity_of, create_each
from connectors.config import (
    BuildContext,
    LeaseSection,
    Remote,
    TrackerSection,
    check_readable,
    secrets_from_files,
)
from connectors.trackers.lease import Lease, LeaseHolder, date_header, holder
from connectors.trackers.rest import NumberedIssues, RestApi
from connectors.trackers.retry import (
    classify,
    first_contact,
    missing,
    next_link,
    no_answer_is_uncertain,
    reset_in,
    retry_after_seconds,
)
from syncer import logs, statefile
from syncer.errors import (
    Busy,
    ConfigError,
    FatalError,
    NotAllowed,
    NotFound,
    PmsyncError,
    SkippableError,
    UncertainError,
)
from syncer.identity import parse_marker, render_marker
from syncer.model import (
    NEEDS_OWNER_LABEL,
    STATE_LABELS,
    Activity,
    IssueDraft,
    IssueSnapshot,
    TrackerRef,
    stale_labels,
)

log = logs.get_logger("pmsync.github")

SYNC_LABEL = "pmsync"
_DUE_LINE_RE = re.compile(r"^Due: (\d{4}-\d{2}-\d{2})\s*$", re.MULTILINE)
MAX_PROBE = 5000  # issues read by number after the newest the list shows, at most
_GITHUB_CLOSE_REASONS = {
    "completed": "completed",
    "not_planned": "not_planned",
    "duplicate": "not_planned",
}


@dataclass(frozen=True, slots=True)
class GithubOptions:
    """How to reach one repository and how hard to push it (from `[trackers.<name>]`)."""

    repo: str
    base_url: str = "https://api.github.com"
    token: str | None = None
    app_id: int | None = None
    private_key: str | None = None
    installation_id: int | None = None
    bot_login: str | None = None
    labels: tuple[str, ...] = ()
    due_date: str = "body"  # body | milestone | issue-field
    due_field: str = "Target date"
    write_interval: float = 1.0  # seconds between two writes
    max_writes_per_minute: int = 79  # 0: no cap (a test server)
    max_wait: float = 600.0  # the most a run waits for rate limits, in all
    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 2.0  # first pause before a retry; doubles each time, at most 30 s
    lease: str = "auto"  # auto | required | off: hold the repository's lease while filing
    lease_minutes: float = 30.0  # the longest a lease is held; a holder that died frees it then
    # Where the listing's pages and their ETags are kept between runs, so that an unchanged
    # listing is asked for conditionally (a 304 costs no rate limit); None: never conditional.
    etag_file: Path | None = None


LEASE_REF = "refs/pmsync/lease"  # not a branch: no push events, nothing in the branch list


def _committed(commit: Mapping[str, Any]) -> datetime | None:
    """When GitHub recorded a commit (its committer date), or None."""
    value = (commit.get("committer") or {}).get("date")
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else None


def _lease_expiry(commit: Mapping[str, Any]) -> datetime:
    """When a lease's commit frees the lease: `minutes` after GitHub recorded it. A lease
    written by an older pmsync names its own `until`; one that says neither has expired."""
    message = str(commit.get("message", ""))
    minutes = re.search(r"^minutes: ([\d.]+)$", message, re.MULTILINE)
    committed = _committed(commit)
    if minutes and committed is not None:
        return committed + timedelta(minutes=float(minutes.group(1)))
    until = re.search(r"^until: (\S+)$", message, re.MULTILINE)
    try:
        return datetime.fromisoformat(until.group(1)) if until else datetime.min.replace(tzinfo=UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


class Gone(FatalError):
    """A 410: the issue was deleted, or issues are turned off in the repository."""


class GithubApi(RestApi):
    """One repository's API through PyGithub's requester: requests translated to pmsync's
    errors, retried within a wait budget, counted (`RestApi`); listings read with their
    ETags, so that an unchanged page costs no rate limit."""

    service = "GitHub"

    def __init__(
        self,
        name: str,
        options: GithubOptions,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        epoch: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, options, sleep=sleep, clock=clock, epoch=epoch)
        self._github = github_client(options)

    def _send(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[Mapping[str, str], Any]:
        with translated(f"{verb} {path}"):
            try:
                answer: tuple[Mapping[str, str], Any] = self._github.requester.requestJsonAndCheck(
                    verb,
                    path,
                    parameters=dict(params) if params is not None else None,
                    headers=dict(headers) if headers else None,
                    input=body,
                )
            except Exception as exc:
                self.failed(verb, getattr(exc, "headers", None) or {})
                raise
            return answer

    def listing(
        self,
        path: str,
        params: dict[str, Any],
        kept: dict[str, Any],
        fresh: dict[str, Any],
    ) -> Iterator[dict[str, Any]]:
        """Every entry of a paginated list; a page is asked for with the ETag it had in `kept`
        (pages by URL from an earlier read) and reused when the answer is 304 Not Modified;
        each page read goes into `fresh`."""
        url: str | None = path
        query: dict[str, Any] | None = params
        while url:
            key = url + ("?" + urlencode(sorted(query.items())) if query else "")
            before = kept.get(key)
            condition = {}
            # The ETag alone: beside If-None-Match, a server ignores If-Modified-Since.
            if isinstance(before, dict) and before.get("etag"):
                condition["If-None-Match"] = str(before["etag"])
            headers, data = self.request("GET", url, params=query, headers=condition)
            if condition and data is None and isinstance(before, dict):  # 304 Not Modified
                data, following = (
                    before.get("body") or [],
                    next_link(headers) or before.get("next"),
                )
            else:
                following = next_link(headers)
            if headers.get("etag"):
                fresh[key] = {"etag": headers.get("etag"), "body": data, "next": following}
            yield from data or []
            url, query = following, None  # the next link carries the query


class GithubTracker(LeaseHolder, NumberedIssues):
    gone: tuple[type[PmsyncError], ...] = (Gone,)
    kind = "github"

    def __init__(
        self,
        name: str,
        options: GithubOptions,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        wall: Callable[[], datetime] | None = None,
        epoch: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._wall = wall or (lambda: datetime.now(UTC))  # only to tell the clock's skew
        self.options = options
        self.api = GithubApi(name, options, sleep=sleep, clock=clock, epoch=epoch)
        self._repo_path = f"/repos/{options.repo}"
        self._bot: str | None = options.bot_login
        self._assignable: dict[str, bool] = {}
        self._labels: dict[int, tuple[str, ...]] = {}
        self._milestones: dict[str, int] | None = None
        self._due_field_id: int | None = None
        needs = f"the git references API with `contents: write` on {options.repo}"
        self._lease = Lease(name, options.lease, needs, self._take_lease, self._release_lease)

    # --- the Tracker protocol -----------------------------------------------------------------

    def _release_lease(self, mine: str) -> None:
        _, data = self._request("GET", f"{self._repo_path}/git/ref/{LEASE_REF[5:]}")
        if ((data or {}).get("object") or {}).get("sha") == mine:
            self._request("DELETE", f"{self._repo_path}/git/{LEASE_REF}", write=True)

    def _take_lease(self) -> str | None:
        """The lease's commit, once held; None when the repository offers no lease to this
        token (`auto`); `Busy` when someone else holds it. The lease is the reference
        `refs/pmsync/lease`, made atomically (creating a reference that exists fails) and
        taken over only by a fast-forward update once expired (of two runs taking it over,
        one fails). Its commit says who holds it and for how long; a holder that died frees
        it then. Needs `contents: write`. Its expiry is read on GitHub's clock, never on
        this machine's: a lease lasts `lease_minutes` from the time GitHub recorded its
        commit, and "now" is the time GitHub records for the commit this run has just made.
        (Where a server records no commit time, its `Date` header stands in: the lease then
        also names its end.)"""
        minutes = self.options.lease_minutes
        git = f"{self._repo_path}/git"
        try:
            headers, tree = self._request("POST", f"{git}/trees", body={"tree": []}, write=True)
            until = (date_header(headers) or self._wall()) + timedelta(minutes=minutes)
            message = (
                f"pmsync lease\n\nholder: {holder()}\nminutes: {minutes:g}\n"
                f"until: {until.isoformat(timespec='seconds')}\n"
            )
            commit = {"message": message, "tree": tree["sha"], "parents": []}
            headers, made = self._request("POST", f"{git}/commits", body=commit, write=True)
            now = self._lease.note_clock(_committed(made) or date_header(headers), self._wall())
            try:
                self._request(
                    "POST",
                    f"{git}/refs",
                    body={"ref": LEASE_REF, "sha": made["sha"]},
                    write=True,
                    repeat=False,
                )
                return str(made["sha"])
            except SkippableError as exc:
                if "already exists" not in str(exc):
                    raise NotAllowed(str(exc)) from exc
                # it exists: held, or left behind by a run that died
            _, ref = self._request("GET", f"{git}/ref/{LEASE_REF[5:]}")
            current = str(ref["object"]["sha"])
            _, held = self._request("GET", f"{git}/commits/{current}")
            expires = _lease_expiry(held)
            if expires > now:
                who = re.search(r"^holder: (.+)$", str(held.get("message", "")), re.MULTILINE)
                raise Busy(
                    f"github {self.name}: another pmsync ({who.group(1) if who else 'unknown'}) "
                    f"is filing issues until {expires.isoformat(timespec='seconds')}; "
                    "its items wait for the next run"
                )
            commit["parents"] = [current]
            _, taken = self._request("POST", f"{git}/commits", body=commit, write=True)
            try:
                self._request(
                    "PATCH",
                    f"{git}/{LEASE_REF}",
                    body={"sha": taken["sha"], "force": False},
                    write=True,
                    repeat=False,
                )
            except SkippableError as exc:
                raise Busy(f"github {self.name}: another pmsync took the lease first") from exc
            return str(taken["sha"])
        except (NotFound, NotAllowed) as exc:
            self._lease.unavailable(exc)
            return None
        except (KeyError, TypeError) as exc:
            self._lease.unavailable(FatalError(f"unexpected answer about the lease: {exc!r}"))
            return None

    def fresh_webhook_secret(self) -> str:
        return secrets.token_hex(32)

    def webhook_at(self, url: str) -> bool:
        return any(
            hook.get("active") and "issues" in (hook.get("events") or [])
            for hook in self._hooks_at(url)
        )

    def install_webhook(self, url: str, secret: str) -> str:
        """The repository hook for issue events, JSON, signed with `secret` (needs the
        token's admin:repo_hook or a GitHub App's webhooks permission)."""
        config = {"url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"}
        body: dict[str, Any] = {"active": True, "events": ["issues"], "config": config}
        found = self._hooks_at(url)
        if found:
            path = f"{self._repo_path}/hooks/{found[0]['id']}"
            self._request("PATCH", path, body=body, write=True)
            return f"gave the repository hook for {url} a new secret"
        self._request("POST", f"{self._repo_path}/hooks", body={"name": "web", **body}, write=True)
        return f"made a repository hook for {url} (issue events)"

    def _hooks_at(self, url: str) -> list[dict[str, Any]]:
        hooks = self.api.pages(f"{self._repo_path}/hooks", {"per_page": 100})
        return [h for h in hooks if (h.get("config") or {}).get("url") == url]

    def verify(self) -> None:
        """Reach the repository once: a ConfigError naming the setting when the address or
        the repository is wrong (`config check --online`)."""
        self._bot_login_or_config_error()
        try:
            self._request("GET", self._repo_path)
        except NotFound as exc:
            raise self._repo_missing() from exc

    def snapshot(self) -> Sequence[IssueSnapshot]:
        """Every issue pmsync's own account created with the sync label, in one paginated
        read, then those numbered after the newest it shows (read-your-writes)."""
        self._bot_login_or_config_error()
        kept, fresh = self._load_pages(), dict[str, Any]()
        params = {
            "labels": SYNC_LABEL,
            "state": "all",
            "per_page": 100,
            "sort": "created",
            "direction": "asc",
        }
        try:
            found = self._listed(self.api.listing(f"{self._repo_path}/issues", params, kept, fresh))
        except NotFound as exc:
            raise self._repo_missing() from exc
        except SkippableError as exc:
            raise FatalError(
                f"github {self.name}: repository {self.options.repo!r} cannot be listed "
                f"({exc}); check repo and base_url, and that the token can read it"
            ) from exc
        self._save_pages(fresh)
        return found

    def _load_pages(self) -> dict[str, Any]:
        """The listing's pages as the last run saw them, by URL: {etag, body, next}.
        A missing or unreadable file only means unconditional reads."""
        path = self.options.etag_file
        if path is None or not path.is_file():
            return {}
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.debug("etags_unreadable", path=str(path), error=str(exc))
            return {}
        return kept if isinstance(kept, dict) else {}

    def _save_pages(self, pages: dict[str, Any]) -> None:
        path = self.options.etag_file
        if path is None:
            return
        statefile.save(path, pages, "etags_not_saved")

    def _bot_login_or_config_error(self) -> str:
        """The bot's login; the first request, so a wrong address shows here."""
        setting = f"trackers.{self.name}.base_url"
        return first_contact(self._bot_login, setting, self.options.base_url, "GitHub API")

    def _repo_missing(self) -> ConfigError:
        setting = f"trackers.{self.name}.repo"
        return missing(setting, repr(self.options.repo), self.options.base_url, "the token")

    # --- numbered issues (`NumberedIssues`) ----------------------------------------------------

    def _read_number(self, number: int) -> Any:
        return self.api.get(f"{self._repo_path}/issues/{number}")

    def _newest_number(self) -> int:
        """The repository's newest issue or pull request number (0 when there is none)."""
        params = {"state": "all", "sort": "created", "direction": "desc", "per_page": 1}
        data = self.api.get(f"{self._repo_path}/issues", params)
        newest = data[0] if isinstance(data, list) and data else {}
        number = newest.get("number") if isinstance(newest, dict) else None
        return number if isinstance(number, int) else 0

    def _newest_ours(self) -> list[dict[str, Any]]:
        params = {
            "labels": SYNC_LABEL,
            "state": "all",
            "sort": "created",
            "direction": "desc",
            "per_page": 100,
        }
        data = self.api.get(f"{self._repo_path}/issues", params)
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []

    def _number_of(self, data: Mapping[str, Any]) -> int | None:
        number = str(data.get("number", ""))
        return int(number) if number.isdigit() else None

    def _filed_for(self, data: Mapping[str, Any]) -> str | None:
        marker = parse_marker(data.get("body"))
        login = (data.get("user") or {}).get("login")
        return marker.item_key if marker is not None and login == self._bot_login() else None

    def create(self, draft: IssueDraft) -> TrackerRef:
        payload: dict[str, Any] = {
            "title": draft.title,
            "body": _with_marker(draft),
            "labels": sorted({SYNC_LABEL, *self.options.labels, *draft.labels}),
        }
        meant, usable = self._split_assignees(draft.assignees)
        if usable:
            payload["assignees"] = usable
        if meant:
            payload["labels"] = sorted({*payload["labels"], NEEDS_OWNER_LABEL})
        self._due_fields(payload, draft.due)
        data = self._create_once(payload, draft)
        ref = self._ref(data)
        self._labels[int(data["number"])] = tuple(payload["labels"])
        if meant:
            self.comment(ref, _unassignable_note(meant))
        if (
            self.options.due_date == "issue-field"
            and draft.due
            and "issue_field_values" not in payload
        ):
            self._set_due_field(ref, draft.due)
        return ref

    def create_many(self, drafts: Sequence[IssueDraft]) -> list[TrackerRef | PmsyncError]:
        return create_each(self.create, drafts)

    def update(self, ref: TrackerRef, draft: IssueDraft, fields: Collection[str]) -> None:
        number = _number(ref)
        payload: dict[str, Any] = {"body": _with_marker(draft)}
        if "title" in fields:
            payload["title"] = draft.title
        meant: list[str] = []
        if "assignees" in fields:
            meant, payload["assignees"] = self._split_assignees(draft.assignees)
        new_labels = set(draft.labels) | ({NEEDS_OWNER_LABEL} if meant else set())
        if "labels" in fields or meant:
            current = self._labels.get(number)
            if current is None:  # not listed this run: labels by their own calls
                self.add_labels(ref, sorted(new_labels))
                if "labels" in fields:
                    self.remove_labels(ref, stale_labels(draft, STATE_LABELS, new_labels))
            else:  # one write: the labels it has, with the draft's, less the stale ones
                stale = stale_labels(draft, current, new_labels) if "labels" in fields else set()
                payload["labels"] = sorted({*current, *new_labels} - stale)
        if "due" in fields and self.options.due_date == "milestone":
            payload["milestone"] = self._milestone(draft.due) if draft.due else None
        self._request("PATCH", f"{self._repo_path}/issues/{number}", body=payload, write=True)
        if "labels" in payload:
            self._labels[number] = tuple(payload["labels"])
        if meant:
            self.comment(ref, _unassignable_note(meant))
        if "due" in fields and self.options.due_date == "issue-field" and draft.due:
            self._set_due_field(ref, draft.due)

    def close(self, ref: TrackerRef, reason: CloseReason, comment: str | None = None) -> None:
        body = {"state": "closed", "state_reason": _GITHUB_CLOSE_REASONS[reason]}
        self._request("PATCH", f"{self._repo_path}/issues/{_number(ref)}", body=body, write=True)
        if comment:
            self.comment(ref, comment)

    def reopen(self, ref: TrackerRef, comment: str) -> None:
        body = {"state": "open", "state_reason": "reopened"}
        self._request("PATCH", f"{self._repo_path}/issues/{_number(ref)}", body=body, write=True)
        self.comment(ref, comment)

    def comment(self, ref: TrackerRef, body: str) -> None:
        path = f"{self._repo_path}/issues/{_number(ref)}/comments"
        self._request("POST", path, body={"body": body}, write=True)

    def add_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        number = _number(ref)
        path = f"{self._repo_path}/issues/{number}/labels"
        _, data = self._request("POST", path, body={"labels": sorted(labels)}, write=True)
        if isinstance(data, list):
            self._labels[number] = tuple(label["name"] for label in data)

    def remove_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        number = _number(ref)
        for label in labels:
            path = f"{self._repo_path}/issues/{number}/labels/{quote(label, safe='')}"
            try:
                self._request("DELETE", path, write=True)
            except SkippableError:
                continue  # the label was not there
        if number in self._labels:
            self._labels[number] = tuple(n for n in self._labels[number] if n not in labels)

    def link(self, ref: TrackerRef, to: TrackerRef, note: str) -> None:
        self.comment(ref, f"{note}: {to.key} {to.url}".rstrip())

    def mention(self, handle: str) -> str:
        return f"@{handle}"

    def activity(self, ref: TrackerRef) -> Activity:
        """People's newest comment or event, pmsync's nudges, when someone was first assigned,
        and the commits and pull requests linked to it (two paginated reads)."""
        number = _number(ref)
        read = {
            kind: list(
                self.api.pages(f"{self._repo_path}/issues/{number}/{kind}", {"per_page": 100})
            )
            for kind in ("comments", "events")
        }
        entries = [
            (
                (entry.get("user") or entry.get("actor") or {}).get("login"),
                _timestamp(entry.get("created_at")),
                entry.get("body") if kind == "comments" else None,
            )
            for kind, listed in read.items()
            for entry in listed
        ]
        events = read["events"]
        assigned = [_timestamp(e.get("created_at")) for e in events if e.get("event") == "assigned"]
        changes = [f"commit {e['commit_id']}" for e in events if e.get("commit_id")]
        changes += [f"pull request {number}" for e in events if e.get("event") == "connected"]
        return activity_of(
            entries,
            self._bot_login(),
            assigned_at=min(filter(None, assigned), default=None),
            changes=changes,
        )

    # --- requests ------------------------------------------------------------------------------

    def _request(
        self,
        verb: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any | None = None,
        write: bool = False,
        repeat: bool = True,
    ) -> tuple[Mapping[str, str], Any]:
        return self.api.request(verb, path, params=params, body=body, write=write, repeat=repeat)

    def _create_once(self, payload: dict[str, Any], draft: IssueDraft) -> dict[str, Any]:
        """POST the issue; after an uncertain failure, adopt it if it was in fact made."""

        def post() -> dict[str, Any]:
            path = f"{self._repo_path}/issues"
            _, data = self._request("POST", path, body=payload, write=True, repeat=False)
            if not isinstance(data, dict) or not isinstance(data.get("number"), int):
                raise UncertainError(f"POST {path}: unexpected answer")
            return data

        return self.create_exactly_once(
            post, draft.item_key, self.api.budget, self.options.attempts
        )

    # --- helpers ---------------------------------------------------------------------------------

    def _bot_login(self) -> str:
        """The account pmsync writes as: only its markers are trusted."""
        if self._bot is None:
            if self.options.app_id is not None:
                self._bot = f"{self._app_slug()}[bot]"
            else:
                _, data = self._request("GET", "/user")
                if not isinstance(data, dict) or not data.get("login"):
                    raise FatalError(f"GET /user: unexpected answer: {str(data)[:80]!r}")
                self._bot = str(data["login"])
        return self._bot

    def _app_slug(self) -> str:
        if self.options.app_id is None or self.options.private_key is None:
            raise FatalError(f"github {self.name}: a GitHub App needs app_id and a private key")
        integration = GithubIntegration(
            auth=Auth.AppAuth(self.options.app_id, self.options.private_key),
            base_url=self.options.base_url.rstrip("/"),
            retry=None,
            timeout=int(max(1, self.options.timeout)),
        )
        with translated("GET /app"):
            return str(integration.get_app().slug)

    def _snapshot_of(self, data: Mapping[str, Any]) -> IssueSnapshot | None:
        if "pull_request" in data or (data.get("user") or {}).get("login") != self._bot_login():
            return None
        marker = parse_marker(data.get("body"))
        if marker is None:
            return None
        labels = tuple(label["name"] for label in data.get("labels") or [])
        self._labels[int(data["number"])] = labels
        closed = data.get("state") == "closed"
        return IssueSnapshot(
            ref=self._ref(data),
            item_key=marker.item_key,
            postmortem_id=marker.postmortem_id,
            state="closed" if closed else "open",
            status_category="done" if closed else "new",
            state_reason=data.get("state_reason"),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            assignees=tuple(a["login"] for a in data.get("assignees") or []),
            due=_due_of(data),
            labels=labels,
            created_at=_timestamp(data.get("created_at")),
            updated_at=_timestamp(data.get("updated_at")),
            closed_at=_timestamp(data.get("closed_at")) if closed else None,
            synced_hash=marker.content_hash,
            policy=marker.policy,
        )

    def _ref(self, data: Mapping[str, Any]) -> TrackerRef:
        return TrackerRef(self.name, f"#{data['number']}", str(data.get("html_url") or ""))

    def _split_assignees(self, logins: Sequence[str]) -> tuple[list[str], list[str]]:
        """(meant but not assignable, assignable): each login is checked once per run."""
        meant: list[str] = []
        usable: list[str] = []
        for login in logins:
            if login not in self._assignable:
                path = f"{self._repo_path}/assignees/{quote(login, safe='')}"
                try:
                    self._request("GET", path)
                    self._assignable[login] = True
                except SkippableError:
                    self._assignable[login] = False
            (usable if self._assignable[login] else meant).append(login)
        return meant, usable

    def _due_fields(self, payload: dict[str, Any], due: date | None) -> None:
        if due is None:
            return
        if self.options.due_date == "milestone":
            payload["milestone"] = self._milestone(due)
        elif self.options.due_date == "issue-field":
            payload["issue_field_values"] = [
                {"field_id": self._field_id(), "value": due.isoformat()}
            ]

    def _milestone(self, due: date) -> int:
        """The milestone for a due date, made once; due at noon UTC so no time zone shows the
        day before."""
        title = f"Due {due.isoformat()}"
        if self._milestones is None:
            self._milestones = {
                str(m["title"]): int(m["number"])
                for m in self.api.pages(
                    f"{self._repo_path}/milestones", {"state": "all", "per_page": 100}
                )
            }
        if title not in self._milestones:
            body = {
                "title": title,
                "due_on": f"{due.isoformat()}T12:00:00Z",
                "description": "Action items due on this day (pmsync).",
            }
            _, data = self._request("POST", f"{self._repo_path}/milestones", body=body, write=True)
            self._milestones[title] = int(data["number"])
        return self._milestones[title]

    def _field_id(self) -> int:
        if self._due_field_id is None:
            org = self.options.repo.split("/")[0]
            _, fields = self._request("GET", f"/orgs/{org}/issue-fields")
            wanted = self.options.due_field.casefold()
            for entry in fields or []:
                if (
                    str(entry.get("name", "")).casefold() == wanted
                    and entry.get("data_type") == "date"
                ):
                    self._due_field_id = int(entry["id"])
                    break
            else:
                raise FatalError(
                    f"github {self.name}: organisation {org!r} has no date issue field named "
                    f"{self.options.due_field!r} (trackers.{self.name}.due_field)"
                )
        return self._due_field_id

    def _set_due_field(self, ref: TrackerRef, due: date) -> None:
        body = {"issue_field_values": [{"field_id": self._field_id(), "value": due.isoformat()}]}
        path = f"{self._repo_path}/issues/{_number(ref)}/issue-field-values"
        self._request("POST", path, body=body, write=True)


def github_client(options: GithubOptions) -> Github:
    """PyGithub for explicit requests only: its own retries and pauses off, nothing fetched
    behind our back."""
    return Github(
        auth=github_auth(options),
        base_url=options.base_url.rstrip("/"),
        timeout=int(max(1, options.timeout)),
        retry=None,
        per_page=100,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )


def github_auth(options: GithubOptions) -> Auth.Auth:
    if options.app_id is not None:
        if options.private_key is None or options.installation_id is None:
            raise FatalError("a GitHub App needs app_id, private_key_file and installation_id")
        app = Auth.AppAuth(options.app_id, options.private_key)
        return app.get_installation_auth(options.installation_id)
    if not options.token:
        raise FatalError("no GitHub token: set token, token_file or GITHUB_TOKEN, or a GitHub App")
    return Auth.Token(options.token)


@contextmanager
def translated(what: str) -> Iterator[None]:
    """PyGithub and requests errors, as pmsync's: what the caller should do about them."""
    try:
        with no_answer_is_uncertain(what, "GitHub"):
            yield
    except GithubException as exc:
        raise _classify(exc, what) from exc


def _classify(exc: GithubException, what: str) -> PmsyncError:
    """GitHub's answer as pmsync's error: a 403 that is a rate limit is retried (after the
    quota's reset, or a minute for the secondary limit); a 410 is `Gone`."""
    status = exc.status
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    message = _message(exc)
    retry_after = retry_after_seconds(headers)
    spent = headers.get("x-ratelimit-remaining") == "0"
    limited = status == 403 and (
        retry_after is not None or spent or "rate limit" in message.casefold()
    )
    if (status == 429 or limited) and retry_after is None:
        if spent:
            retry_after = reset_in(headers.get("x-ratelimit-reset")) or 60.0
        elif "secondary" in message.casefold():
            retry_after = 60.0  # GitHub asks for at least a minute without Retry-After
    if status == 410:
        return Gone(f"{what}: gone (410): {message}")
    return classify(status, what, "GitHub", message, retry_after=retry_after, limited=limited)


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.message or "")
    details = [
        f"{e.get('field')}: {e.get('code')} {e.get('value', '')}".strip()
        for e in data.get("errors") or []
        if isinstance(e, dict)
    ]
    return "; ".join(filter(None, [message, *details]))


def _number(ref: TrackerRef) -> int:
    try:
        return int(ref.key.lstrip("#"))
    except ValueError:
        raise SkippableError(f"not a GitHub issue number: {ref.key}") from None


def _timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _due_of(data: Mapping[str, Any]) -> date | None:
    found = _DUE_LINE_RE.findall(str(data.get("body") or ""))
    if found:
        return date.fromisoformat(found[-1])
    return None


def _with_marker(draft: IssueDraft) -> str:
    """The body as written to GitHub: it always says the due date (GitHub has no due-date
    field), and it ends with the marker."""
    body = draft.body.rstrip()
    if draft.due is not None and f"Due: {draft.due.isoformat()}" not in body:
        body += f"\n\nDue: {draft.due.isoformat()}"
    return f"{body}\n\n{render_marker(draft.marker)}\n"


def _unassignable_note(logins: Sequence[str]) -> str:
    names = ", ".join(f"`{login}`" for login in logins)
    return (
        f"pmsync could not assign this issue to {names}: GitHub does not accept them as "
        "assignees in this repository (not a collaborator, or unknown). Please assign the "
        "owner named in the post-mortem by hand, or fix the people directory."
    )


# --- settings ------------------------------------------------------------------------------

SECRET_ENV = ("GITHUB_TOKEN",)


class GithubAuth(Remote):
    """How to reach GitHub: a token, or a GitHub App installation."""

    base_url: str = "https://api.github.com"
    token: SecretStr | None = None
    token_file: Path | None = None
    app_id: int | None = None
    private_key_file: Path | None = None
    installation_id: int | None = None

    _check_files = field_validator("token_file", "private_key_file")(check_readable)

    @model_validator(mode="after")
    def _load_secret_files(self) -> GithubAuth:
        secrets_from_files(self, "token")
        return self


class Config(GithubAuth, LeaseSection, TrackerSection):
    kind: Literal["github"]
    repo: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]
    due_date: Literal["body", "milestone", "issue-field"] = "body"
    due_field: str = (
        "Target date"  # the organisation's date issue field, for due_date = "issue-field"
    )
    bot_login: str | None = None  # the account pmsync writes as; looked up when not given
    write_interval_seconds: Annotated[float, Field(ge=0)] = 1.0
    # GitHub allows 80 content-creating requests a minute; 0 turns the cap off (test servers).
    max_writes_per_minute: Annotated[int, Field(ge=0, le=80)] = 79
    # The lease is the reference refs/pmsync/lease; taking it needs contents: write.


def build(name: str, config: Config, context: BuildContext) -> GithubTracker:
    auth = auth_options(f"trackers.{name}", config.repo, config, context)
    options = replace(
        auth,
        bot_login=config.bot_login,
        labels=tuple(config.labels),
        due_date=config.due_date,
        due_field=config.due_field,
        write_interval=config.write_interval_seconds,
        max_writes_per_minute=config.max_writes_per_minute,
        lease=config.lease,
        lease_minutes=config.lease_minutes,
        etag_file=context.state_dir / "trackers" / f"{name}.pages.json",
    )
    return GithubTracker(name, options, sleep=context.sleep)


def github_token(config: GithubAuth) -> str | None:
    """The token for a GitHub tracker or source: its own setting, else $GITHUB_TOKEN."""
    if config.token is not None:
        return config.token.get_secret_value()
    return os.environ.get("GITHUB_TOKEN") or None


def auth_options(key: str, repo: str, config: GithubAuth, context: BuildContext) -> GithubOptions:
    """Where a GitHub repository is and how pmsync signs in to it (`key` names the section)."""
    private_key = None
    if config.private_key_file is not None:
        try:
            private_key = context.path(config.private_key_file).read_text(encoding="utf-8")
        except OSError as exc:
            problem = f"{key}.private_key_file: cannot read: {exc.strerror or exc}"
            raise context.error(problem) from exc
    token = github_token(config)
    if token is None and config.app_id is None:
        raise context.error(
            f"{key}.token: no token: set token or token_file, or GITHUB_TOKEN, "
            "or app_id, private_key_file and installation_id"
        )
    return GithubOptions(
        repo=repo,
        base_url=config.base_url,
        token=token,
        app_id=config.app_id,
        private_key=private_key,
        installation_id=config.installation_id,
        **config.patience(),
    )
