"""The `jira` tracker: action items as Jira issues, on Cloud and Data Center, exactly once.

The `jira` library provides authentication (Cloud: e-mail and API token; Data Center: a
personal access token) and its session; requests are made explicitly through that session
with its own retries off, since they re-send a POST after a 503 (a duplicate) and cut long
`Retry-After` waits short. Cloud is spoken to in REST v3 (ADF descriptions, the
`/search/jql` endpoint with `nextPageToken`; the old `/search` is gone there), Data Center in
REST v2 (wiki markup, `/search` with `startAt`).

Identity: labels `pmsync` and `pmsync-<item key>`, and the marker at the end of the
description, trusted only in issues pmsync's own account created.

Read-your-writes: search lags behind writes (seconds to minutes), but reading an issue by key
does not, and keys are numbered in order within a project. So after searching, pmsync reads
the keys after the highest one search shows, one by one, until one does not exist: whatever
any run created that search does not show yet is found, with one request when there is
nothing new. No lag is guessed, and no local state is needed.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlparse

import requests
from jira import JIRA, JIRAError
from pydantic import Field

from connectors.base import CloseReason, activity_of
from connectors.config import AtlassianAuth, BuildContext, LeaseSection, TrackerSection
from connectors.trackers.jira_format import adf_text, to_adf, to_wiki
from connectors.trackers.lease import Lease, LeaseHolder, date_header, holder
from connectors.trackers.rest import RestApi
from connectors.trackers.retry import (
    classify,
    first_contact,
    missing,
    no_answer_is_uncertain,
    retry_after_seconds,
)
from syncer import logs, statefile
from syncer.errors import (
    STOPPING,
    Busy,
    ConfigError,
    FatalError,
    Interrupted,
    NotAllowed,
    NotFound,
    PmsyncError,
    Refused,
    SkippableError,
    UncertainError,
)
from syncer.identity import parse_marker, render_marker
from syncer.model import (
    DROPPED_REASONS,
    NEEDS_OWNER_LABEL,
    NOT_PLANNED_LABEL,
    STATE_LABELS,
    Activity,
    IssueDraft,
    IssueSnapshot,
    TrackerRef,
    stale_labels,
)

log = logs.get_logger("pmsync.jira")

SYNC_LABEL = "pmsync"
WEBHOOKS = "/rest/webhooks/1.0/webhook"  # admin webhooks (Cloud and Data Center)
_KEY_LABEL_RE = re.compile(r"(?:review-)?[0-9a-f]{12}")
BULK_SIZE = 50
MAX_PROBE = 5000  # issues read by key after the newest search shows, at most
MAX_GAP_PROBE = 1000  # issues read by key below the newest search shows, at most
SEARCH_LAG = timedelta(minutes=10)  # the longest search is taken to lag behind a create
LEASE_VERSION = "pmsync-lease"  # the project version a run holds while filing
SEARCH_FIELDS = (
    "summary",
    "description",
    "status",
    "assignee",
    "duedate",
    "labels",
    "created",
    "updated",
    "resolution",
    "resolutiondate",
    "statuscategorychangedate",
    "creator",
    "priority",
)
# Fields pmsync fills itself; any other required field must come from `fields` in config.
_OWN_FIELDS = frozenset(
    {
        "summary",
        "description",
        "project",
        "issuetype",
        "duedate",
        "labels",
        "priority",
        "assignee",
        "components",
        "reporter",
    }
)
_STATUS = {"new": "new", "indeterminate": "indeterminate", "done": "done"}
# Resolutions that close an issue without it being done (Jira's defaults, and common custom
# ones), by their names in lower case.
DROPPED_RESOLUTIONS = frozenset(
    {
        "won't do",
        "won't fix",
        "wont do",
        "wont fix",
        "duplicate",
        "cannot reproduce",
        "declined",
        "rejected",
        "obsolete",
        "abandoned",
        "not planned",
        "not a bug",
    }
)


@dataclass(frozen=True, slots=True)
class JiraOptions:
    """How to reach one Jira project (from `[trackers.<name>]`)."""

    url: str
    project: str
    deployment: Literal["cloud", "datacenter"] | None = None
    issue_type: str = "Task"
    email: str | None = None
    api_token: str | None = None
    token: str | None = None
    components: tuple[str, ...] = ()
    priority_map: Mapping[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    bot_account: str | None = None
    bulk: bool = True
    write_interval: float = 0.0
    max_writes_per_minute: int = 0  # no cap: Jira limits by cost, and says so with a 429
    max_wait: float = 600.0
    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 2.0
    lease: str = "auto"  # auto | required | off: hold the project's lease while filing
    lease_minutes: float = 30.0  # the longest a lease is held; a holder that died frees it then
    # Where the issues filed and not yet shown by search are kept between runs; None: nowhere
    # (the keys below the newest search shows still find them, within `SEARCH_LAG`).
    unseen_file: Path | None = None


class JiraApi(RestApi):
    """Jira's REST API through the jira library's signed-in session: requests translated to
    pmsync's errors, retried within a wait budget, kept apart, counted (`RestApi`)."""

    service = "Jira"

    def __init__(
        self,
        name: str,
        options: JiraOptions,
        session: requests.Session,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(name, options, sleep=sleep)
        self._session = session
        self._base = options.url.rstrip("/")

    def _send(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[Mapping[str, str], Any]:
        text = json.dumps(body) if body is not None else None
        with _translated(f"{verb} {path}"):
            try:
                response = self._session.request(verb, self._base + path, params=params, data=text)
            except Exception as exc:
                answer = getattr(exc, "response", None)
                self.failed(verb, dict(getattr(answer, "headers", None) or {}))
                raise
        data = response.json() if response.content else None
        return {k.lower(): v for k, v in response.headers.items()}, data


class JiraTracker(LeaseHolder):
    kind = "jira"

    def __init__(
        self,
        name: str,
        options: JiraOptions,
        *,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self._client = JIRA(
            server=options.url.rstrip("/"),
            basic_auth=(options.email, options.api_token)
            if options.email and options.api_token
            else None,
            token_auth=options.token if not (options.email and options.api_token) else None,
            get_server_info=False,
            max_retries=0,
            timeout=options.timeout,
        )
        self.api = JiraApi(name, options, self._client._session, sleep=sleep)
        self._deployment = options.deployment
        self._bot: str | None = options.bot_account
        self._users: dict[str, str | None] = {}
        self._meta_checked = False
        # Issues filed (by this run or an earlier one) that search has not shown yet: item key
        # -> (issue id, issue key); kept in the state folder, read by key until search shows them.
        self._unseen: dict[str, tuple[str, str]] | None = None
        self._mine: set[str] = set()  # items this process filed or adopted
        self._high: int | None = None  # the highest issue number known to exist
        self._read: dict[int, dict[str, Any] | None] = {}  # issues read by number, this pass
        self._server_now: datetime | None = None  # Jira's time, as its last answer said
        needs = f"the permission to manage the versions of project {options.project}"
        self._lease = Lease(name, options.lease, needs, self._take_lease, self._release_lease)

    # --- the lease --------------------------------------------------------------------------

    def _release_lease(self, mine: str) -> None:
        self._request("DELETE", self._api(f"version/{mine}"), write=True)

    def _take_lease(self) -> str | None:
        """The id of the lease's version, once held; None when the project offers no lease to
        this account (`auto`); `Busy` when someone else holds it. The lease is the project
        version `pmsync-lease`: Jira refuses a second version of the same name, so of two
        runs making it, one fails. Its description says who holds it until when, on Jira's
        clock (its `Date` header); once expired, a run deletes it by id (of two runs, the
        second deletes nothing) and makes its own. Needs the permission to manage the
        project's versions (Administer Projects)."""
        who = holder()
        try:
            _, project = self._request("GET", self._api(f"project/{quote(self.options.project)}"))
            for _ in range(2):
                now = self._lease.note_clock(self._server_now, datetime.now(UTC))
                until = now + timedelta(minutes=self.options.lease_minutes)
                version = {
                    "name": LEASE_VERSION,
                    "projectId": int(project["id"]),
                    "description": f"pmsync lease; holder: {who}; until: {until.isoformat()}",
                }
                try:
                    _, made = self._request(
                        "POST", self._api("version"), body=version, write=True, repeat=False
                    )
                    return str(made["id"])
                except Refused as exc:
                    if "already exists" not in str(exc):
                        raise NotAllowed(str(exc)) from exc
                held = self._lease_held()
                if held is None:
                    continue  # released meanwhile
                expires, who, version_id = held
                if expires > (self._server_now or datetime.now(UTC)):
                    raise Busy(
                        f"jira {self.name}: another pmsync ({who}) is filing issues until "
                        f"{expires.isoformat(timespec='seconds')}; its items wait for the next run"
                    )
                with suppress(NotFound):  # another run deleted it first
                    self._request("DELETE", self._api(f"version/{version_id}"), write=True)
            raise Busy(f"jira {self.name}: another pmsync took the lease first")
        except (NotFound, NotAllowed) as exc:
            self._lease.unavailable(exc)
            return None
        except (KeyError, TypeError, ValueError) as exc:
            self._lease.unavailable(FatalError(f"unexpected answer about the lease: {exc!r}"))
            return None

    def _lease_held(self) -> tuple[datetime, str, str] | None:
        """The lease's version as it stands: when it expires, who holds it, its id."""
        path = self._api(f"project/{quote(self.options.project)}/versions")
        _, versions = self._request("GET", path)
        for version in versions or []:
            if version.get("name") == LEASE_VERSION:
                text = str(version.get("description") or "")
                until = re.search(r"until: (\S+)", text)
                who = re.search(r"holder: ([^;]+)", text)
                try:
                    expires = _timestamp(until.group(1)) if until else None
                except ValueError:
                    expires = None
                if expires is not None and expires.tzinfo is None:
                    expires = None  # not written by pmsync: treated as expired
                return (
                    expires or datetime.min.replace(tzinfo=UTC),
                    who.group(1) if who else "unknown",
                    str(version["id"]),
                )
        return None

    # --- the Tracker protocol -------------------------------------------------------------

    # --- webhooks (`pmsync serve`) ---------------------------------------------------------

    def fresh_webhook_secret(self) -> str:
        return secrets.token_hex(32)

    def webhook_at(self, url: str) -> bool:
        return any(hook.get("enabled", True) for hook in self._admin_hooks_at(url))

    def install_webhook(self, url: str, secret: str) -> str:
        """The admin webhook for this project's pmsync issues (updated, deleted), signed with
        `secret` (needs the Administer Jira permission). Admin webhooks do not expire."""
        body = {
            "name": f"pmsync {self.name}",
            "url": url,
            "events": ["jira:issue_updated", "jira:issue_deleted"],
            "filters": {
                "issue-related-events-section": f"project = {self.options.project} "
                f"AND labels = {SYNC_LABEL}"
            },
            "excludeBody": False,
            "secret": secret,
        }
        found = self._admin_hooks_at(url)
        if found:
            hook_id = str(found[0].get("self", "")).rstrip("/").rsplit("/", 1)[-1]
            self._request("PUT", f"{WEBHOOKS}/{hook_id}", body=body, write=True)
            return f"gave the admin webhook for {url} a new secret"
        self._request("POST", WEBHOOKS, body=body, write=True)
        return f"made an admin webhook for {url} (issue updated and deleted, pmsync's issues)"

    def _admin_hooks_at(self, url: str) -> list[dict[str, Any]]:
        _, hooks = self._request("GET", WEBHOOKS)
        return [h for h in hooks or [] if isinstance(h, dict) and h.get("url") == url]

    def renew_webhooks(self) -> int:
        """Jira Cloud's dynamic webhooks (those an OAuth or Connect app registered) end after
        30 days unless refreshed: the ones ending within a week are refreshed. Credentials of
        no app (an API token) have none, and Jira says so with a 403: nothing to do."""
        if not self._cloud():
            return 0
        try:
            _, page = self._request("GET", self._api("webhook"), params={"maxResults": 100})
        except (NotAllowed, NotFound):
            return 0
        now_ms = (self._server_now or datetime.now(UTC)).timestamp() * 1000
        soon = [
            int(v["id"])
            for v in (page or {}).get("values") or []
            if isinstance(v, dict) and int(v.get("expirationDate") or 0) - now_ms < 7 * 86_400_000
        ]
        if soon:
            self._request(
                "PUT", self._api("webhook/refresh"), body={"webhookIds": soon}, write=True
            )
            log.info("webhooks_renewed", tracker=self.name, count=len(soon))
        return len(soon)

    def verify(self) -> None:
        """Reach the site and the project once: a ConfigError naming the setting when the
        address or the project is wrong (`config check --online`)."""
        self._first_contact()
        try:
            self._request("GET", self._api(f"project/{quote(self.options.project)}"))
        except NotFound as exc:
            raise self._project_missing() from exc

    def snapshot(self) -> Sequence[IssueSnapshot]:
        """Every issue pmsync's account filed with the sync label. Search lags behind writes,
        and not in key order, so what it shows is completed by reading keys, which never lag:
        every key filed and not yet shown (kept in the state folder); the keys after the
        highest it shows, until one does not exist; and the keys below it that it does not
        show, down to an issue created longer ago than search can lag (`_below`)."""
        bot = self._first_contact()
        jql = f'project = "{self.options.project}" AND labels = {SYNC_LABEL} ORDER BY created ASC'
        seen: dict[str, IssueSnapshot] = {}
        shown: dict[int, datetime | None] = {}  # numbers search shows, with their creation
        high: int | None = None  # the highest number search shows
        unseen = self._pending()
        self._read = {}
        try:
            # Cloud's read-after-write for this process's own creates. Search then shows them
            # whether indexed or not, so they stay unseen until a later run's search shows them.
            ids = [issue_id for item, (issue_id, _) in unseen.items() if item in self._mine]
            for data in self._search(jql, ids):
                number = _number(str(data.get("key", "")))
                high = max(high or 0, number)
                shown[number] = _timestamp((data.get("fields") or {}).get("created"))
                snap = self._snapshot_of(data, bot)
                if snap is not None:
                    seen[snap.ref.key] = snap
        except SkippableError as exc:
            if "does not exist" in str(exc) and "project" in str(exc):
                raise self._project_missing() from exc
            raise FatalError(
                f"jira {self.name}: project {self.options.project!r} cannot be searched ({exc})"
            ) from exc
        self._lease.note_clock(self._server_now, datetime.now(UTC))
        for item_key, (_, key) in list(unseen.items()):  # filed, not shown by search yet
            if _number(key) in shown:
                if item_key not in self._mine:
                    del unseen[item_key]
                continue
            fetched = self._by_number(_number(key))
            snap = self._snapshot_of(fetched, bot) if fetched is not None else None
            if snap is None or snap.item_key != item_key:
                del unseen[item_key]  # gone, or no longer this item's
                continue
            seen[key] = snap
        for snap in self._newer_than(high, bot):
            seen[snap.ref.key] = snap
        for snap in self._below(shown, bot):
            seen[snap.ref.key] = snap
        for snap in seen.values():
            number = _number(snap.ref.key)
            if number not in shown and (read := self._read.get(number)) is not None:
                unseen[snap.item_key] = (str(read.get("id") or ""), snap.ref.key)
        self._save_pending()
        return list(seen.values())

    def create(self, draft: IssueDraft) -> TrackerRef:
        result = self.create_many([draft])[0]
        if isinstance(result, PmsyncError):
            raise result
        return result

    def create_many(self, drafts: Sequence[IssueDraft]) -> list[TrackerRef | PmsyncError]:
        """File drafts in bulk (50 a call) or one by one; each gets a ref or its own error."""
        self._check_create_meta()
        results: list[TrackerRef | PmsyncError] = []
        size = BULK_SIZE if self.options.bulk else 1
        for start in range(0, len(drafts), size):
            batch = list(drafts[start : start + size])
            if STOPPING.is_set():
                results.extend(Interrupted() for _ in batch)
                continue
            try:
                results.extend(self._create_batch(batch))
            except FatalError as exc:  # what was filed before it stands
                return results + [exc] * (len(drafts) - len(results))
            finally:
                self._save_pending()
        return results

    def update(self, ref: TrackerRef, draft: IssueDraft, fields: Collection[str]) -> None:
        payload: dict[str, Any] = {"fields": {"description": self._description(draft)}}
        update: dict[str, Any] = {}
        if "title" in fields:
            payload["fields"]["summary"] = draft.title
        if "due" in fields:
            payload["fields"]["duedate"] = draft.due.isoformat() if draft.due else None
        unassigned: list[str] = []
        if "assignees" in fields:
            assignee, unassigned = self._assignee(draft.assignees)
            payload["fields"]["assignee"] = assignee
        labels = set(self._labels_of(draft)) if "labels" in fields else set()
        if unassigned:
            labels.add(NEEDS_OWNER_LABEL)
        if labels:
            update["labels"] = [{"add": label} for label in sorted(labels)]
        if "labels" in fields:  # removing an absent label is no matter to Jira
            stale = stale_labels(draft, STATE_LABELS, labels)
            update.setdefault("labels", []).extend({"remove": label} for label in sorted(stale))
        if update:
            payload["update"] = update
        self._request("PUT", self._api(f"issue/{ref.key}"), body=payload, write=True)
        if unassigned:
            self.comment(ref, _unassigned_note(unassigned))
        if "link" in fields:
            self._link_back(ref, draft)

    def close(self, ref: TrackerRef, reason: CloseReason, comment: str | None = None) -> None:
        """Moved to a done status. One closed without being done gets `not-planned` first:
        many workflows set no resolution, or always the same one."""
        if reason in DROPPED_REASONS:
            self._edit_labels(ref, "add", [NOT_PLANNED_LABEL])
        _, data = self._request("GET", self._api(f"issue/{ref.key}/transitions"))
        for transition in (data or {}).get("transitions", []):
            category = ((transition.get("to") or {}).get("statusCategory") or {}).get("key")
            if category == "done":
                body = {"transition": {"id": str(transition["id"])}}
                self._request(
                    "POST", self._api(f"issue/{ref.key}/transitions"), body=body, write=True
                )
                if comment:
                    self.comment(ref, comment)
                return
        # Already done (another run closed it first), or a workflow with no way there.
        raise Refused(f"jira {self.name}: {ref.key} has no transition to a done status", 409)

    def reopen(self, ref: TrackerRef, comment: str) -> None:
        """Moved back to a to-do status (else one in progress), without `not-planned`."""
        _, data = self._request("GET", self._api(f"issue/{ref.key}/transitions"))
        transitions = (data or {}).get("transitions", [])
        for wanted in ("new", "indeterminate"):
            for transition in transitions:
                category = ((transition.get("to") or {}).get("statusCategory") or {}).get("key")
                if category == wanted:
                    body = {"transition": {"id": str(transition["id"])}}
                    path = self._api(f"issue/{ref.key}/transitions")
                    self._request("POST", path, body=body, write=True)
                    self._edit_labels(ref, "remove", [NOT_PLANNED_LABEL])
                    self.comment(ref, comment)
                    return
        raise SkippableError(f"jira {self.name}: {ref.key} has no transition out of done")

    def comment(self, ref: TrackerRef, body: str) -> None:
        payload = {"body": to_adf(body) if self._cloud() else to_wiki(body)}
        self._request("POST", self._api(f"issue/{ref.key}/comment"), body=payload, write=True)

    def add_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        self._edit_labels(ref, "add", labels)

    def remove_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        self._edit_labels(ref, "remove", labels)

    def link(self, ref: TrackerRef, to: TrackerRef, note: str) -> None:
        """A "Relates" issue link: both issues show it."""
        body = {
            "type": {"name": "Relates"},
            "inwardIssue": {"key": ref.key},
            "outwardIssue": {"key": to.key},
        }
        self._request("POST", self._api("issueLink"), body=body, write=True)

    def mention(self, handle: str) -> str:
        """`[~accountid:…]` on Cloud (an ADF mention once rendered), `[~name]` on Data Center."""
        return f"[~accountid:{handle}]" if self._cloud() else f"[~{handle}]"

    def activity(self, ref: TrackerRef) -> Activity:
        """People's newest comment or change, and pmsync's nudges (one read)."""
        _, data = self._request(
            "GET",
            self._api(f"issue/{ref.key}"),
            params={"fields": "comment,assignee,created", "expand": "changelog"},
        )
        fields = (data or {}).get("fields") or {}
        comments = (fields.get("comment") or {}).get("comments", [])
        histories = ((data or {}).get("changelog") or {}).get("histories", [])
        entries = [
            (
                _account_of(c.get("author")),
                _timestamp(c.get("created")),
                adf_text(c.get("body") or ""),
            )
            for c in comments
        ] + [(_account_of(h.get("author")), _timestamp(h.get("created")), None) for h in histories]
        bot = self._bot_account()
        changed = [
            (h, item) for h in histories for item in h.get("items") or [] if isinstance(item, dict)
        ]
        # The first assignment: the first change of assignee, unless someone was assigned
        # before it (when the issue was made: Jira records no change for that).
        moves = sorted(
            (
                (_timestamp(h.get("created")), item)
                for h, item in changed
                if item.get("field") == "assignee"
            ),
            key=lambda pair: pair[0] or datetime.min.replace(tzinfo=UTC),
        )
        made = _timestamp(fields.get("created"))
        if moves and moves[0][1].get("from"):
            assigned = [made]
        elif moves:
            assigned = [at for at, item in moves if item.get("to")][:1]
        else:
            assigned = [made] if fields.get("assignee") else []
        # A remote link a person added (pmsync's own links its post-mortem): a pull request
        # or commit, as development tools link them.
        changes = [
            str(item.get("toString") or item.get("to") or "remote link")
            for h, item in changed
            if item.get("field") == "RemoteIssueLink" and _account_of(h.get("author")) != bot
        ]
        return activity_of(
            entries,
            bot,
            assigned_at=min(filter(None, assigned), default=None),
            changes=changes,
        )

    # --- creating -------------------------------------------------------------------------

    def _create_batch(self, batch: list[IssueDraft]) -> list[TrackerRef | PmsyncError]:
        prepared = [self._prepare(draft) for draft in batch]
        try:
            created = self._post(batch, prepared)
            # Jira refused an assignee: file those items unassigned, naming who was meant.
            for index, outcome in enumerate(created):
                if isinstance(outcome, SkippableError) and "assignee:" in str(outcome):
                    draft = batch[index]
                    fields = dict(prepared[index][0]["fields"])
                    fields.pop("assignee", None)
                    fields["labels"] = sorted({*fields["labels"], NEEDS_OWNER_LABEL})
                    prepared[index] = ({"fields": fields}, list(draft.assignees))
                    log.warning(
                        "assignee_refused",
                        tracker=self.name,
                        item=draft.item_key,
                        field="assignee",
                        error=str(outcome),
                    )
                    created[index] = self._post([draft], [prepared[index]])[0]
        except UncertainError as exc:
            return self._adopt_or_fail(batch, exc)
        except SkippableError as exc:  # the whole request refused: nothing was made
            return [SkippableError(f"item {d.item_key} ({d.title[:50]!r}): {exc}") for d in batch]
        results: list[TrackerRef | PmsyncError] = []
        for draft, (_, unassigned), outcome in zip(batch, prepared, created, strict=True):
            if isinstance(outcome, PmsyncError):
                results.append(outcome)
                continue
            ref = self._remember(draft, outcome)
            self._after_create(ref, draft, unassigned)
            results.append(ref)
        return results

    def _post(
        self, batch: list[IssueDraft], prepared: list[tuple[dict[str, Any], list[str]]]
    ) -> list[dict[str, Any] | PmsyncError]:
        """One create request: a single issue, or up to 50 in bulk. Errors name the item."""
        if len(batch) == 1:
            try:
                _, data = self._request(
                    "POST", self._api("issue"), body=prepared[0][0], write=True, repeat=False
                )
            except SkippableError as exc:
                item = batch[0]
                return [SkippableError(f"item {item.item_key} ({item.title[:50]!r}): {exc}")]
            return [dict(data)]
        body = {"issueUpdates": [fields for fields, _ in prepared]}
        _, data = self._request(
            "POST", self._api("issue/bulk"), body=body, write=True, repeat=False
        )
        return self._bulk_results(data, batch)

    def _prepare(self, draft: IssueDraft) -> tuple[dict[str, Any], list[str]]:
        assignee, unassigned = self._assignee(draft.assignees)
        labels = self._labels_of(draft) | ({NEEDS_OWNER_LABEL} if unassigned else set())
        fields: dict[str, Any] = {
            "project": {"key": self.options.project},
            "issuetype": {"name": self.options.issue_type},
            "summary": draft.title,
            "description": self._description(draft),
            "labels": sorted(labels),
            **self.options.fields,
        }
        if draft.due:
            fields["duedate"] = draft.due.isoformat()
        if assignee:
            fields["assignee"] = assignee
        if self.options.components:
            fields["components"] = [{"name": name} for name in self.options.components]
        priority = self.options.priority_map.get(draft.priority or "")
        if priority:
            fields["priority"] = {"name": priority}
        return {"fields": fields}, unassigned

    def _bulk_results(
        self, data: Any, batch: list[IssueDraft]
    ) -> list[dict[str, Any] | PmsyncError]:
        """Bulk create answers the issues made, in order, and an error for each element that
        failed (`failedElementNumber`)."""
        failed = {
            int(error.get("failedElementNumber", -1)): error
            for error in (data or {}).get("errors", [])
        }
        made = iter((data or {}).get("issues", []))
        results: list[dict[str, Any] | PmsyncError] = []
        for index, draft in enumerate(batch):
            if index in failed:
                detail = _error_text(failed[index].get("elementErrors") or {})
                results.append(
                    SkippableError(
                        f"item {draft.item_key} ({draft.title[:50]!r}): Jira refused it: {detail}"
                    )
                )
            else:
                results.append(next(made))
        return results

    def _after_create(self, ref: TrackerRef, draft: IssueDraft, unassigned: list[str]) -> None:
        if unassigned:
            self.comment(ref, _unassigned_note(unassigned))
        self._link_back(ref, draft)

    def _link_back(self, ref: TrackerRef, draft: IssueDraft) -> None:
        """The remote link to the post-mortem (one per post-mortem: posting it again with the
        same `globalId` updates it in place, as after the document moved)."""
        if draft.source_url.startswith(("http://", "https://")):
            link = {
                "globalId": f"pmsync:postmortem:{draft.postmortem_id}",
                "object": {"url": draft.source_url, "title": f"Post-mortem: {draft.source_title}"},
            }
            self._request("POST", self._api(f"issue/{ref.key}/remotelink"), body=link, write=True)

    def _adopt_or_fail(
        self, batch: list[IssueDraft], cause: UncertainError
    ) -> list[TrackerRef | PmsyncError]:
        """After a create whose answer was lost, give it a moment, then read the issues made
        since (by key: no search lag) and adopt this batch's; what was not made is reported
        failed (the next run creates it), never re-sent."""
        self.api.budget.pause(self.api.budget.backoff(1), cause)
        keys = {draft.item_key for draft in batch}
        self._read = {}
        found = {
            snap.item_key: snap
            for snap in self._newer_than(self._high, self._bot_account())
            if snap.item_key in keys
        }
        results: list[TrackerRef | PmsyncError] = []
        for draft in batch:
            snap = found.get(draft.item_key)
            if snap is not None:
                ref = self._remember(draft, self._read.get(_number(snap.ref.key)) or {})
                log.warning("issue_adopted", tracker=self.name, item=draft.item_key, ref=ref.key)
                results.append(ref)
            else:
                results.append(
                    UncertainError(f"{cause}; not found afterwards, left for the next run")
                )
        return results

    def _newer_than(self, high: int | None, bot: str) -> list[IssueSnapshot]:
        """pmsync's issues numbered after `high` (the highest search showed), read by key until
        a key does not exist. Others' issues on the way are passed over; when the first is
        someone else's, the project's newest visible issue is looked up once, to skip ahead to
        it."""
        if high is None:
            high = self._newest_number()
        found: list[IssueSnapshot] = []
        number, skipped = high + 1, False
        for _ in range(MAX_PROBE):
            data = self._by_number(number)
            if data is None:
                break
            snap = self._snapshot_of(data, bot)
            if snap is not None:
                found.append(snap)
            elif not skipped:
                skipped = True
                # On from the newest listed, which is read too: it may be pmsync's own.
                number = max(number, self._newest_number() - 1)
            number += 1
        else:
            log.warning("jira_probe_stopped", tracker=self.name, after=MAX_PROBE)
        self._high = max(self._high or 0, number - 1)
        return found

    def _below(self, shown: Mapping[int, datetime | None], bot: str) -> list[IssueSnapshot]:
        """pmsync's issues numbered below the highest known that search does not show (it
        indexes out of order: a newer issue may show while older ones lag), read by key
        downwards until an issue created more than `SEARCH_LAG` ago by Jira's clock (or,
        when Jira sends no time, before the newest one read): all below it are older still,
        so search shows them when they are pmsync's. It starts from the highest number known to
        exist, which may be someone else's issue: search can show that before pmsync's."""
        made = dict(shown)
        for number, data in self._read.items():
            if data is not None:
                made[number] = _timestamp((data.get("fields") or {}).get("created"))
        known = [stamp for stamp in made.values() if stamp is not None]
        top = max([*made, self._high or 0])
        now = self._server_now or max(known, default=None)
        if not top or now is None:
            return []
        oldest_lagging = now - SEARCH_LAG
        found: list[IssueSnapshot] = []
        reads = 0
        for number in range(top, 0, -1):
            if number not in made:
                if reads >= MAX_GAP_PROBE:
                    log.warning("jira_gap_probe_stopped", tracker=self.name, after=reads)
                    break
                reads += 1
                data = self._by_number(number)
                if data is None:
                    continue
                made[number] = _timestamp((data.get("fields") or {}).get("created"))
                if number not in shown and (snap := self._snapshot_of(data, bot)) is not None:
                    found.append(snap)
            stamp = made[number]
            if stamp is not None and stamp < oldest_lagging:
                break
        return found

    def _by_number(self, number: int) -> dict[str, Any] | None:
        """The issue numbered `number` in the project, read by key once a pass."""
        if number not in self._read:
            self._read[number] = self._get_issue(f"{self.options.project}-{number}")
        return self._read[number]

    def _pending(self) -> dict[str, tuple[str, str]]:
        """The issues filed and not yet shown by search, as the state folder keeps them."""
        if self._unseen is None:
            self._unseen = {}
            path = self.options.unseen_file
            kept = statefile.load(path, "jira_unseen_unreadable") if path else None
            for item_key, pair in (kept if isinstance(kept, dict) else {}).items():
                if (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and all(isinstance(p, str) for p in pair)
                ):
                    self._unseen[str(item_key)] = (pair[0], pair[1])
        return self._unseen

    def _save_pending(self) -> None:
        if self.options.unseen_file is not None:
            pending = {item: list(pair) for item, pair in self._pending().items()}
            statefile.save(self.options.unseen_file, pending, "jira_unseen_not_saved")

    def _newest_number(self) -> int:
        """The number of the project's newest issue that search shows (0 when none)."""
        jql = f'project = "{self.options.project}" ORDER BY key DESC'
        if self._cloud():
            params: dict[str, Any] = {"jql": jql, "fields": "created", "maxResults": 1}
            _, data = self._request("GET", self._api("search/jql"), params=params)
        else:
            params = {"jql": jql, "fields": "created", "startAt": 0, "maxResults": 1}
            _, data = self._request("GET", self._api("search"), params=params)
        issues = (data or {}).get("issues") if isinstance(data, dict) else None
        if not isinstance(issues, list) or not issues or not isinstance(issues[0], dict):
            return 0
        return _number(str(issues[0].get("key", "")))

    def _remember(self, draft: IssueDraft, data: Mapping[str, Any]) -> TrackerRef:
        """An issue filed (or adopted): read back through `reconcileIssues` (Cloud) and by
        key until search shows it, by this run and the next ones."""
        key = str(data["key"])
        self._pending()[draft.item_key] = (str(data.get("id") or ""), key)
        self._mine.add(draft.item_key)
        self._high = max(self._high or 0, _number(key))
        return TrackerRef(self.name, key, self._browse(key))

    # --- users, metadata ------------------------------------------------------------------

    def _assignee(self, handles: Sequence[str]) -> tuple[dict[str, str] | None, list[str]]:
        """The Jira user for the first handle that resolves, and the handles that did not."""
        unresolved: list[str] = []
        for handle in handles:
            account = self._account(handle)
            if account is not None:
                return ({"accountId": account} if self._cloud() else {"name": account}), unresolved
            unresolved.append(handle)
        return None, unresolved

    def _account(self, handle: str) -> str | None:
        """accountId (Cloud) or user name (Data Center). An e-mail is looked up, and accepted
        only when exactly one user has exactly that address: never the "first result"."""
        if "@" not in handle:
            return handle
        if handle not in self._users:
            params = {"query": handle} if self._cloud() else {"username": handle}
            _, users = self._request("GET", self._api("user/search"), params=params)
            matches = [
                u
                for u in users or []
                if str(u.get("emailAddress", "")).casefold() == handle.casefold()
            ]
            self._users[handle] = _account_of(matches[0]) if len(matches) == 1 else None
        return self._users[handle]

    def _check_create_meta(self) -> None:
        """Once a run: every field the project requires has a value (a clear error if not)."""
        if self._meta_checked:
            return
        project = self.options.project
        _, types = self._request("GET", self._api(f"issue/createmeta/{project}/issuetypes"))
        entries = (types or {}).get("issueTypes") or (types or {}).get("values") or []
        wanted = self.options.issue_type.casefold()
        type_id = next(
            (t["id"] for t in entries if str(t.get("name", "")).casefold() == wanted), None
        )
        if type_id is None:
            names = ", ".join(sorted(str(t.get("name")) for t in entries))
            raise FatalError(
                f"jira {self.name}: project {project} has no issue type "
                f"{self.options.issue_type!r} (it has: {names})"
            )
        _, fields = self._request(
            "GET",
            self._api(f"issue/createmeta/{project}/issuetypes/{type_id}"),
            params={"maxResults": 200},
        )
        entries = (fields or {}).get("fields") or (fields or {}).get("values") or []
        missing = [
            f"{entry.get('name')} ({entry.get('fieldId') or entry.get('key')})"
            for entry in entries
            if entry.get("required")
            and not entry.get("hasDefaultValue")
            and (entry.get("fieldId") or entry.get("key")) not in _OWN_FIELDS
            and (entry.get("fieldId") or entry.get("key")) not in self.options.fields
        ]
        if missing:
            raise FatalError(
                f"jira {self.name}: {project} requires fields pmsync does not fill: "
                f"{', '.join(missing)}; set them in trackers.{self.name}.fields"
            )
        self._meta_checked = True

    def _first_contact(self) -> str:
        """The bot's account: the first request, so a wrong address shows here."""
        setting = f"trackers.{self.name}.url"
        return first_contact(self._bot_account, setting, self.options.url, "Jira site")

    def _project_missing(self) -> ConfigError:
        what = f"project {self.options.project!r}"
        return missing(f"trackers.{self.name}.project", what, self.options.url, "the account")

    def _bot_account(self) -> str:
        if self._bot is None:
            _, me = self._request("GET", self._api("myself"))
            self._bot = _account_of(me) or ""
        return self._bot

    def _cloud(self) -> bool:
        if self._deployment is None:
            try:
                _, info = self._request("GET", "/rest/api/3/serverInfo")
            except SkippableError:
                _, info = self._request("GET", "/rest/api/2/serverInfo")
            self._deployment = (
                "cloud" if (info or {}).get("deploymentType") == "Cloud" else "datacenter"
            )
        return self._deployment == "cloud"

    # --- reading ----------------------------------------------------------------------------

    def _search(self, jql: str, reconcile: Sequence[str]) -> Iterator[dict[str, Any]]:
        fields = ",".join(SEARCH_FIELDS)
        if self._cloud():
            token: str | None = None
            while True:
                params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": 100}
                if token:
                    params["nextPageToken"] = token
                if reconcile:
                    params["reconcileIssues"] = ",".join(reconcile[-50:])
                _, data = self._request("GET", self._api("search/jql"), params=params)
                yield from _issues_of(data, "GET search/jql")
                token = (data or {}).get("nextPageToken")
                if not token or (data or {}).get("isLast"):
                    return
        start = 0
        while True:
            params = {"jql": jql, "fields": fields, "startAt": start, "maxResults": 100}
            _, data = self._request("GET", self._api("search"), params=params)
            issues = _issues_of(data, "GET search")
            yield from issues
            start += len(issues)
            if not issues or start >= int((data or {}).get("total", 0)):
                return

    def _get_issue(self, key: str) -> dict[str, Any] | None:
        try:
            _, data = self._request(
                "GET", self._api(f"issue/{key}"), params={"fields": ",".join(SEARCH_FIELDS)}
            )
        except SkippableError:
            return None
        return dict(data or {})

    def _snapshot_of(self, data: Mapping[str, Any], bot: str) -> IssueSnapshot | None:
        fields = data.get("fields") or {}
        if _account_of(fields.get("creator")) != bot:
            return None
        labels = tuple(fields.get("labels") or [])
        body = adf_text(fields.get("description") or "")
        marker = parse_marker(body)
        # The marker names the item; the `pmsync-<key>` label does when the marker was edited away.
        keys = [
            label[len(SYNC_LABEL) + 1 :]
            for label in labels
            if _KEY_LABEL_RE.fullmatch(label[len(SYNC_LABEL) + 1 :])
        ]
        item_key = marker.item_key if marker else (keys[0] if keys else None)
        if item_key is None or SYNC_LABEL not in labels:
            return None
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key", "new")
        resolution = str((fields.get("resolution") or {}).get("name") or "").casefold()
        dropped = NOT_PLANNED_LABEL in labels or resolution in DROPPED_RESOLUTIONS
        assignee = _account_of(fields.get("assignee"))
        due = fields.get("duedate")
        return IssueSnapshot(
            ref=TrackerRef(self.name, str(data["key"]), self._browse(str(data["key"]))),
            item_key=item_key,
            postmortem_id=marker.postmortem_id if marker else None,
            state="closed" if category == "done" else "open",
            status_category=_STATUS.get(category, "new"),  # type: ignore[arg-type]
            state_reason=("not_planned" if dropped else "completed")
            if category == "done"
            else None,
            title=str(fields.get("summary") or ""),
            body=body,
            assignees=(assignee,) if assignee else (),
            due=date.fromisoformat(due) if due else None,
            labels=labels,
            created_at=_timestamp(fields.get("created")),
            updated_at=_timestamp(fields.get("updated")),
            # Resolved, else moved to a done status (workflows that set no resolution).
            closed_at=(
                _timestamp(fields.get("resolutiondate") or fields.get("statuscategorychangedate"))
                if category == "done"
                else None
            ),
            synced_hash=marker.content_hash if marker else "",
            policy=marker.policy if marker else (),
        )

    # --- requests ---------------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return f"/rest/api/{3 if self._cloud() else 2}/{path}"

    def _browse(self, key: str) -> str:
        return f"{self.options.url.rstrip('/')}/browse/{quote(key)}"

    def _request(
        self,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any | None = None,
        write: bool = False,
        repeat: bool = True,
    ) -> tuple[Mapping[str, str], Any]:
        headers, data = self.api.request(
            verb, path, params=params, body=body, write=write, repeat=repeat
        )
        self._server_now = date_header(headers) or self._server_now
        return headers, data

    def _edit_labels(self, ref: TrackerRef, how: str, labels: Collection[str]) -> None:
        body = {"update": {"labels": [{how: label} for label in sorted(labels)]}}
        self._request("PUT", self._api(f"issue/{ref.key}"), body=body, write=True)

    def _labels_of(self, draft: IssueDraft) -> set[str]:
        return {SYNC_LABEL, f"{SYNC_LABEL}-{draft.item_key}", *self.options.labels, *draft.labels}

    def _description(self, draft: IssueDraft) -> Any:
        text = f"{draft.body.rstrip()}\n\n{render_marker(draft.marker)}\n"
        return to_adf(text) if self._cloud() else to_wiki(text)


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """jira and requests errors, as pmsync's: what the caller should do about them."""
    try:
        with no_answer_is_uncertain(what, "Jira"):
            yield
    except JIRAError as exc:
        raise _classify(exc, what) from exc


def _classify(exc: JIRAError, what: str) -> PmsyncError:
    response = exc.response
    headers = {k.lower(): v for k, v in (response.headers if response is not None else {}).items()}
    detail = _response_detail(response) or str(exc.text or "")
    retry_after = retry_after_seconds(headers)
    return classify(exc.status_code or 0, what, "Jira", detail, retry_after=retry_after)


def _response_detail(response: requests.Response | None) -> str:
    if response is None:
        return ""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return _error_text(data) if isinstance(data, dict) else ""


def _error_text(data: Mapping[str, Any]) -> str:
    """Jira's `errorMessages` and `errors` ({field: message}) as one line naming each field."""
    messages = [str(m) for m in data.get("errorMessages") or []]
    messages += [f"{name}: {message}" for name, message in (data.get("errors") or {}).items()]
    return "; ".join(messages)


def _issues_of(data: Any, what: str) -> list[dict[str, Any]]:
    """The issues of a search answer; a SkippableError naming the endpoint for any other shape."""
    issues = data.get("issues", []) if isinstance(data, dict) else None
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise SkippableError(f"{what}: unexpected answer: {str(data)[:80]!r}")
    return issues


def _number(key: str) -> int:
    """The number of an issue key (`OPS-12` -> 12); 0 for anything else."""
    _, _, number = key.rpartition("-")
    return int(number) if number.isdigit() else 0


def _account_of(user: Any) -> str | None:
    if not isinstance(user, Mapping):
        return None
    value = user.get("accountId") or user.get("name") or user.get("key")
    return str(value) if value else None


def _timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", str(value))
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _unassigned_note(handles: Sequence[str]) -> str:
    names = ", ".join(f"`{handle}`" for handle in handles)
    return (
        f"pmsync could not assign this issue to {names}: Jira has no single matching user who "
        "can be assigned here. Please assign the owner named in the post-mortem, or fix the "
        "people directory."
    )


# --- settings ------------------------------------------------------------------------------


class Config(AtlassianAuth, LeaseSection, TrackerSection):
    kind: Literal["jira"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    deployment: Literal["cloud", "datacenter"] | None = None
    project: str
    issue_type: str = "Task"
    components: list[str] = Field(default_factory=list)
    priority_map: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)
    bot_account: str | None = None  # accountId (Cloud) or user name (Data Center) pmsync uses
    bulk_create: bool = True  # file new issues 50 to a request
    write_interval_seconds: Annotated[float, Field(ge=0)] = 0.0
    # No longer used (issues are read back by key, which never lags); accepted so that older
    # configuration files still load.
    search_lag_seconds: Annotated[float, Field(ge=0)] | None = None


def build(name: str, config: Config, context: BuildContext) -> JiraTracker:
    """A Jira tracker; the deployment is told by the site's address when the config does not
    say (Atlassian Cloud sites are *.atlassian.net)."""
    deployment = config.deployment
    host = urlparse(config.url).hostname or ""
    if deployment is None and host.endswith((".atlassian.net", ".jira.com")):
        deployment = "cloud"
    api_token = config.api_token.get_secret_value() if config.api_token else None
    token = config.token.get_secret_value() if config.token else None
    if not (config.email and api_token) and not token:
        raise context.error(
            f"trackers.{name}: no credentials: Cloud needs email and api_token (or "
            "api_token_file); Data Center needs token (a personal access token) or token_file"
        )
    options = JiraOptions(
        url=config.url,
        project=config.project,
        deployment=deployment,
        issue_type=config.issue_type,
        email=config.email,
        api_token=api_token,
        token=token,
        components=tuple(config.components),
        priority_map=dict(config.priority_map),
        labels=tuple(config.labels),
        fields=dict(config.fields),
        bot_account=config.bot_account,
        bulk=config.bulk_create,
        write_interval=config.write_interval_seconds,
        lease=config.lease,
        lease_minutes=config.lease_minutes,
        unseen_file=context.state_dir / "trackers" / f"{name}.unseen.json",
        **config.patience(),
    )
    return JiraTracker(name, options, sleep=context.sleep)
