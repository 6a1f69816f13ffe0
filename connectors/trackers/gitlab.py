"""The `gitlab` tracker: action items as GitLab issues (gitlab.com or self-managed), through
python-gitlab, exactly once.

python-gitlab provides the address, the sign-in and the session; every request is made
explicitly through its `http_request`, with its own retries off: it would re-send a POST after
a 5xx (a duplicate issue) and sleep out a 429 outside the run's wait budget. pmsync owns
retries: reads and edits are retried with backoff, `Retry-After` and `RateLimit-Reset` are
waited within the budget, and a create is never re-sent blindly — after an uncertain failure
the issue is looked up by its marker first.

GitLab issues have what pmsync needs natively: assignees (resolved from usernames to user ids
once per run), a due date, labels and an optional milestone. A closing reason, which GitLab
does not record, is said in a note.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import gitlab
import requests
from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import CloseReason, activity_of, create_each
from connectors.config import (
    BuildContext,
    Remote,
    TrackerSection,
    check_readable,
    secrets_from_files,
)
from connectors.sources.http import timestamp
from connectors.trackers.rest import NumberedIssues, RestApi
from connectors.trackers.retry import (
    classify,
    first_contact,
    missing,
    next_link,
    no_answer_is_uncertain,
    reset_in,
    retry_after_seconds,
    with_retries,
)
from syncer import logs
from syncer.errors import (
    ConfigError,
    FatalError,
    NotAllowed,
    NotFound,
    PmsyncError,
    SkippableError,
    UncertainError,
)
from syncer.identity import parse_marker, with_marker
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

log = logs.get_logger("pmsync.gitlab")

SYNC_LABEL = "pmsync"
# GitLab's system notes for a change linked to an issue: "mentioned in merge request !12",
# "closed via merge request !3", "mentioned in commit 1a2b3c4d".
_CHANGE_NOTE = re.compile(r"^(?:mentioned in|closed via) ((?:merge request|commit) \S+)")
_CLOSE_NOTES = {
    "completed": "Closed as completed.",
    "not_planned": "Closed as not planned.",
    "duplicate": "Closed as a duplicate.",
}


@dataclass(frozen=True, slots=True)
class GitlabOptions:
    """How to reach one project and how hard to push it (from `[trackers.<name>]`)."""

    project: str  # "group/subgroup/project" or the numeric id
    url: str = "https://gitlab.com"
    token: str | None = None
    bot_username: str | None = None
    labels: tuple[str, ...] = ()
    milestone: str | None = None  # the title of a milestone every issue joins
    write_interval: float = 0.25
    max_writes_per_minute: int = 180  # 0: no cap (a test server)
    max_wait: float = 600.0
    timeout: float = 30.0
    attempts: int = 4
    backoff: float = 2.0


class GitlabApi(RestApi):
    """One project's API through python-gitlab: requests translated to pmsync's errors,
    retried within a wait budget, paginated, and counted (`RestApi`)."""

    service = "GitLab"
    quota = ("ratelimit-remaining", "ratelimit-reset")

    def __init__(
        self,
        name: str,
        options: GitlabOptions,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        observe: Callable[[str, bool, Mapping[str, str]], None] | None = None,
    ) -> None:
        super().__init__(name, options, sleep=sleep, clock=clock, observe=observe)
        self.options = options
        self.project = f"/projects/{quote(options.project, safe='')}"
        self._last: requests.Response | None = None
        session = requests.Session()
        session.hooks["response"].append(self._keep)
        if not options.token:
            raise FatalError("no GitLab token: set token, token_file or GITLAB_TOKEN")
        self._gitlab = gitlab.Gitlab(
            options.url.rstrip("/"),
            private_token=options.token,
            session=session,
            timeout=max(1.0, options.timeout),
            retry_transient_errors=False,
            user_agent="pmsync",
        )

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Every answer's headers, for the errors python-gitlab raises without them."""
        self._last = response

    def _send(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[Mapping[str, str], Any]:
        what = f"{verb} {path.split('?')[0]}"
        self._last = None
        try:
            with no_answer_is_uncertain(what, "GitLab"):
                answer = self._gitlab.http_request(
                    verb.lower(),
                    path,
                    query_data=dict(params or {}),
                    post_data=dict(body) if body is not None else None,
                    obey_rate_limit=False,
                    retry_transient_errors=False,
                    max_retries=0,
                )
        except gitlab.GitlabError as exc:
            failed = _headers(self._last)
            self.failed(verb, failed)
            raise _classify(exc, failed, what) from exc
        except PmsyncError:
            self.failed(verb, {})
            raise
        try:
            data = answer.json() if answer.content else None
        except ValueError as exc:
            raise SkippableError(f"{what}: GitLab answered something not JSON") from exc
        return _headers(answer), data

    def raw(self, path: str, limit: int) -> bytes:
        """A file's bytes, read no further than `limit` + 1 (a larger file is not downloaded
        whole to find out it is too large)."""
        what = f"GET {path}"

        def once() -> bytes:
            self.requests += 1
            try:
                with no_answer_is_uncertain(what, "GitLab"):
                    answer = self._gitlab.http_request(
                        "get",
                        path,
                        streamed=True,
                        obey_rate_limit=False,
                        retry_transient_errors=False,
                        max_retries=0,
                    )
                    try:
                        data: bytes = answer.raw.read(limit + 1, decode_content=True)
                    finally:
                        answer.close()
            except gitlab.GitlabError as exc:
                headers = _headers(self._last)
                self.failed("GET", headers)
                raise _classify(exc, headers, what) from exc
            self._observe("GET", True, _headers(answer))
            return data

        return with_retries(once, attempts=self.attempts, repeat=True, budget=self.budget)

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        return super().pages(path, {"per_page": 100, **params})

    def following(
        self,
        path: str,
        query: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        data: list[Any],
    ) -> tuple[str | None, Mapping[str, Any] | None]:
        """The `Link` header's next page; without one (some proxies drop it), the page number
        `X-Next-Page` says where to go on."""
        following = next_link(headers)
        if following is None and headers.get("x-next-page", "").strip().isdigit() and data:
            return path, {**(query or {}), "page": headers["x-next-page"].strip()}
        return following, None


class GitlabTracker(NumberedIssues):
    kind = "gitlab"

    def __init__(
        self,
        name: str,
        options: GitlabOptions,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self.api = GitlabApi(name, options, sleep=sleep, clock=clock)
        self._issues = f"{self.api.project}/issues"
        self._bot: dict[str, Any] | None = None
        self._user_ids: dict[str, int | None] = {}
        self._milestone_id: int | None = None

    def fresh_webhook_secret(self) -> str:
        """A signing token as GitLab takes it: `whsec_` and 32 random bytes in base64."""
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

    def webhook_at(self, url: str) -> bool:
        return any(h.get("issues_events") for h in self._hooks_at(url))

    def install_webhook(self, url: str, secret: str) -> str:
        """The project hook for issue events, signed with the signing token `secret` (needs
        the Maintainer role). A GitLab that drops the token (its signing feature is off)
        makes this an error: a hook without it would be refused by `pmsync serve`."""
        body = {
            "url": url,
            "issues_events": True,
            "push_events": False,
            "enable_ssl_verification": True,
            "signing_token": secret,
        }
        found = self._hooks_at(url)
        path = f"{self.api.project}/hooks"
        verb, path = ("PUT", f"{path}/{found[0]['id']}") if found else ("POST", path)
        _, hook = self.api.request(verb, path, body=body, write=True)
        if not (isinstance(hook, dict) and hook.get("signing_token_present")):
            raise FatalError(
                f"gitlab {self.name}: the hook for {url} kept no signing token (this GitLab "
                "has webhook signing turned off): set a secret token on the hook by hand and "
                f"name its file in trackers.{self.name}.webhook_token_file"
            )
        said = "gave the project hook for" if found else "made a project hook for"
        return f"{said} {url} (issue events, a signing token)"

    def _hooks_at(self, url: str) -> list[dict[str, Any]]:
        return [h for h in self.api.pages(f"{self.api.project}/hooks", {}) if h.get("url") == url]

    def verify(self) -> None:
        """Reach the project once: a ConfigError naming the setting when the address or the
        project is wrong (`config check --online`)."""
        self._bot_or_config_error()
        try:
            self.api.get(self.api.project)
        except NotFound as exc:
            raise self._project_missing() from exc

    def snapshot(self) -> Sequence[IssueSnapshot]:
        """Every issue pmsync's own account created with the sync label: one paginated list,
        then the issues numbered after the newest it shows (read-your-writes)."""
        bot = self._bot_or_config_error()
        params = {
            "labels": SYNC_LABEL,
            "author_id": bot["id"],
            "scope": "all",
            "order_by": "created_at",
            "sort": "asc",
        }
        try:
            return self._listed(self.api.pages(self._issues, params))
        except NotFound as exc:
            raise self._project_missing() from exc
        except (SkippableError, NotAllowed) as exc:
            raise FatalError(
                f"gitlab {self.name}: project {self.options.project!r} cannot be listed ({exc}); "
                "check project and url, and that the token can read it"
            ) from exc

    # --- numbered issues (`NumberedIssues`) ----------------------------------------------------

    def _read_number(self, number: int) -> Any:
        return self.api.get(f"{self._issues}/{number}")

    def _newest_number(self) -> int:
        params = {"scope": "all", "order_by": "created_at", "sort": "desc", "per_page": 1}
        data = self.api.get(self._issues, params)
        newest = data[0] if isinstance(data, list) and data else {}
        iid = newest.get("iid") if isinstance(newest, dict) else None
        return iid if isinstance(iid, int) else 0

    def _newest_ours(self) -> list[dict[str, Any]]:
        params = {
            "labels": SYNC_LABEL,
            "author_id": self._bot_account()["id"],
            "scope": "all",
            "order_by": "created_at",
            "sort": "desc",
            "per_page": 100,
        }
        data = self.api.get(self._issues, params)
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []

    def _number_of(self, data: Mapping[str, Any]) -> int | None:
        iid = str(data.get("iid", ""))
        return int(iid) if iid.isdigit() else None

    def _filed_for(self, data: Mapping[str, Any]) -> str | None:
        marker = parse_marker(data.get("description"))
        return marker.item_key if marker is not None and self._ours(data) else None

    def create(self, draft: IssueDraft) -> TrackerRef:
        labels = sorted({SYNC_LABEL, *self.options.labels, *draft.labels})
        meant, ids = self._user_ids_of(draft.assignees)
        if meant:
            labels = sorted({*labels, NEEDS_OWNER_LABEL})
        payload: dict[str, Any] = {
            "title": draft.title,
            "description": with_marker(draft),
            "labels": ",".join(labels),
        }
        if ids:
            payload["assignee_ids"] = ids
        if draft.due is not None:
            payload["due_date"] = draft.due.isoformat()
        if self.options.milestone:
            payload["milestone_id"] = self._milestone()
        data = self._create_once(payload, draft)
        ref = self._ref(data)
        self._note_refused(ref, data, draft.assignees, labelled=bool(meant))
        return ref

    def create_many(self, drafts: Sequence[IssueDraft]) -> list[TrackerRef | PmsyncError]:
        return create_each(self.create, drafts)

    def update(self, ref: TrackerRef, draft: IssueDraft, fields: Collection[str]) -> None:
        payload: dict[str, Any] = {"description": with_marker(draft)}
        if "title" in fields:
            payload["title"] = draft.title
        meant: list[str] = []
        if "assignees" in fields:
            meant, ids = self._user_ids_of(draft.assignees)
            payload["assignee_ids"] = ids
        if "due" in fields:
            payload["due_date"] = draft.due.isoformat() if draft.due else None
        added = set(draft.labels) | ({NEEDS_OWNER_LABEL} if meant else set())
        if ("labels" in fields or meant) and added:
            payload["add_labels"] = ",".join(sorted(added))
        if "labels" in fields and (stale := stale_labels(draft, STATE_LABELS, added)):
            payload["remove_labels"] = ",".join(sorted(stale))  # absent ones are no matter
        _, data = self.api.request("PUT", self._path(ref), body=payload, write=True)
        if "assignees" in fields:
            self._note_refused(ref, data, draft.assignees, labelled=bool(meant))

    def close(self, ref: TrackerRef, reason: CloseReason, comment: str | None = None) -> None:
        """GitLab has no close reason: one closed without being done gets `not-planned`,
        in the same write."""
        body = {"state_event": "close"}
        if reason in DROPPED_REASONS:
            body["add_labels"] = NOT_PLANNED_LABEL
        self.api.request("PUT", self._path(ref), body=body, write=True)
        self.comment(ref, comment or _CLOSE_NOTES[reason])

    def reopen(self, ref: TrackerRef, comment: str) -> None:
        body = {"state_event": "reopen", "remove_labels": NOT_PLANNED_LABEL}
        self.api.request("PUT", self._path(ref), body=body, write=True)
        self.comment(ref, comment)

    def comment(self, ref: TrackerRef, body: str) -> None:
        self.api.request("POST", f"{self._path(ref)}/notes", body={"body": body}, write=True)

    def add_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        body = {"add_labels": ",".join(sorted(labels))}
        self.api.request("PUT", self._path(ref), body=body, write=True)

    def remove_labels(self, ref: TrackerRef, labels: Collection[str]) -> None:
        body = {"remove_labels": ",".join(sorted(labels))}
        self.api.request("PUT", self._path(ref), body=body, write=True)

    def link(self, ref: TrackerRef, to: TrackerRef, note: str) -> None:
        self.comment(ref, f"{note}: {to.key} {to.url}".rstrip())

    def mention(self, handle: str) -> str:
        return f"@{handle}"

    def activity(self, ref: TrackerRef) -> Activity:
        """People's newest note (system notes, which GitLab writes for label and field
        changes, are nobody's activity), and pmsync's nudges: one paginated read."""
        notes = list(self.api.pages(f"{self._path(ref)}/notes", {"sort": "asc"}))
        entries = [
            (
                (note.get("author") or {}).get("username"),
                timestamp(note.get("created_at")),
                str(note.get("body") or ""),
            )
            for note in notes
            if not note.get("system")
        ]
        # GitLab's own notes say when someone was assigned and what change mentions or closed it.
        system = [
            (str(n.get("body") or ""), timestamp(n.get("created_at")))
            for n in notes
            if n.get("system")
        ]
        assigned = [at for body, at in system if body.startswith("assigned to ")]
        changes = [
            match.group(1) for body, _ in system if (match := _CHANGE_NOTE.match(body)) is not None
        ]
        return activity_of(
            entries,
            str(self._bot_account()["username"]),
            assigned_at=min(filter(None, assigned), default=None),
            changes=changes,
        )

    def _create_once(self, payload: dict[str, Any], draft: IssueDraft) -> dict[str, Any]:
        """POST the issue; after an uncertain failure, adopt it if it was in fact made."""

        def post() -> dict[str, Any]:
            _, data = self.api.request("POST", self._issues, body=payload, write=True, repeat=False)
            if not isinstance(data, dict) or "iid" not in data:
                raise UncertainError(f"POST {self._issues}: unexpected answer")
            return data

        return self.create_exactly_once(
            post, draft.item_key, self.api.budget, self.options.attempts
        )

    # --- helpers ------------------------------------------------------------------------------

    def _bot_account(self) -> dict[str, Any]:
        """The account pmsync writes as: only its markers are trusted."""
        if self._bot is None:
            data = self.api.get("/user")
            if not isinstance(data, dict) or "id" not in data or "username" not in data:
                raise FatalError(f"GET /user: unexpected answer: {str(data)[:80]!r}")
            configured = self.options.bot_username
            if configured and configured != data["username"]:
                raise FatalError(
                    f"gitlab {self.name}: the token signs in as {data['username']!r}, not "
                    f"bot_username {configured!r}"
                )
            self._bot = {"id": data["id"], "username": str(data["username"])}
        return self._bot

    def _bot_or_config_error(self) -> dict[str, Any]:
        """The bot's account; the first request, so a wrong address shows here."""
        setting = f"trackers.{self.name}.url"
        return first_contact(self._bot_account, setting, self.options.url, "GitLab API")

    def _project_missing(self) -> ConfigError:
        setting = f"trackers.{self.name}.project"
        return missing(setting, repr(self.options.project), self.options.url, "the token")

    def _ours(self, data: Mapping[str, Any]) -> bool:
        author = (data.get("author") or {}).get("username")
        return bool(author == self._bot_account()["username"])

    def _snapshot_of(self, data: Mapping[str, Any]) -> IssueSnapshot | None:
        labels = tuple(str(label) for label in data.get("labels") or [])
        marker = parse_marker(data.get("description"))
        if marker is None or SYNC_LABEL not in labels or not self._ours(data):
            return None
        closed = data.get("state") == "closed"
        due = data.get("due_date")
        return IssueSnapshot(
            ref=self._ref(data),
            item_key=marker.item_key,
            postmortem_id=marker.postmortem_id,
            state="closed" if closed else "open",
            status_category="done" if closed else "new",
            state_reason=("not_planned" if NOT_PLANNED_LABEL in labels else "completed")
            if closed
            else None,
            title=str(data.get("title") or ""),
            body=str(data.get("description") or ""),
            assignees=_assignees(data),
            due=date.fromisoformat(due) if due else None,
            labels=labels,
            created_at=timestamp(data.get("created_at")),
            updated_at=timestamp(data.get("updated_at")),
            closed_at=timestamp(data.get("closed_at")) if closed else None,
            synced_hash=marker.content_hash,
            policy=marker.policy,
        )

    def _ref(self, data: Mapping[str, Any]) -> TrackerRef:
        return TrackerRef(self.name, f"#{data['iid']}", str(data.get("web_url") or ""))

    def _path(self, ref: TrackerRef) -> str:
        iid = ref.key.lstrip("#")
        if not iid.isdigit():
            raise SkippableError(f"not a GitLab issue number: {ref.key}")
        return f"{self._issues}/{iid}"

    def _user_ids_of(self, usernames: Sequence[str]) -> tuple[list[str], list[int]]:
        """(usernames GitLab has no user for, the user ids of the others): each username is
        looked up once per run."""
        unknown: list[str] = []
        ids: list[int] = []
        for username in usernames:
            if username not in self._user_ids:
                found = self.api.get("/users", {"username": username})
                match = next(
                    (u for u in found or [] if isinstance(u, dict) and u.get("username")), None
                )
                self._user_ids[username] = int(match["id"]) if match else None
            user_id = self._user_ids[username]
            if user_id is None:
                unknown.append(username)
            else:
                ids.append(user_id)
        return unknown, ids

    def _note_refused(
        self, ref: TrackerRef, data: Any, wanted: Sequence[str], *, labelled: bool
    ) -> None:
        """Who was meant to be assigned and is not (unknown to GitLab, or not allowed in the
        project: GitLab drops such assignees without an error) is said in a note, and the
        issue labelled as needing an owner."""
        assigned = set(_assignees(data)) if isinstance(data, dict) else set()
        refused = [name for name in wanted if name not in assigned]
        if not refused:
            return
        if not labelled:
            self.add_labels(ref, [NEEDS_OWNER_LABEL])
        self.comment(ref, _unassignable_note(refused))

    def _milestone(self) -> int:
        """The configured milestone's id, looked up once; a missing one is a setting error."""
        if self._milestone_id is None:
            title = self.options.milestone or ""
            found = self.api.get(f"{self.api.project}/milestones", {"title": title})
            match = next((m for m in found or [] if m.get("title") == title), None)
            if match is None:
                raise ConfigError(
                    [f"trackers.{self.name}.milestone: no milestone {title!r} in the project"]
                )
            self._milestone_id = int(match["id"])
        return self._milestone_id


def _assignees(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The usernames an issue is assigned to (`assignees`, or the older single `assignee`)."""
    people = list(data.get("assignees") or []) or [data.get("assignee") or {}]
    names = (str(p.get("username")) for p in people if isinstance(p, dict) and p.get("username"))
    return tuple(dict.fromkeys(names))


def _headers(response: requests.Response | None) -> dict[str, str]:
    """An answer's headers, lower-cased; GitLab's `RateLimit-Remaining` is also given under
    the name the metrics read for every tracker."""
    if response is None:
        return {}
    headers = {str(k).lower(): str(v) for k, v in response.headers.items()}
    if "ratelimit-remaining" in headers:
        headers["x-ratelimit-remaining"] = headers["ratelimit-remaining"]
    return headers


def _classify(exc: gitlab.GitlabError, headers: Mapping[str, str], what: str) -> PmsyncError:
    retry_after = retry_after_seconds(headers)
    if exc.response_code == 429 and retry_after is None:
        retry_after = reset_in(headers.get("ratelimit-reset"))
    return classify(
        exc.response_code or 0,
        what,
        "GitLab",
        str(exc.error_message or "")[:200],
        retry_after=retry_after,
        credentials="check the token",
    )


def _unassignable_note(usernames: Sequence[str]) -> str:
    names = ", ".join(f"`{name}`" for name in usernames)
    return (
        f"pmsync could not assign this issue to {names}: GitLab has no such user, or they are "
        "not a member of this project. Please assign the owner named in the post-mortem by "
        "hand, or fix the people directory."
    )


# --- settings ------------------------------------------------------------------------------

SECRET_ENV = ("GITLAB_TOKEN",)


class GitlabAuth(Remote):
    """How to reach GitLab: its address and a token (personal, project or group access
    token)."""

    url: Annotated[str, Field(pattern=r"^https?://")] = "https://gitlab.com"
    token: SecretStr | None = None
    token_file: Path | None = None

    _check_files = field_validator("token_file")(check_readable)

    @model_validator(mode="after")
    def _load_secret_files(self) -> GitlabAuth:
        secrets_from_files(self, "token")
        return self


class Config(GitlabAuth, TrackerSection):
    kind: Literal["gitlab"]
    # The project hook's legacy secret token, for webhooks without a signing token: it travels
    # in the clear (`config check` says so); prefer `webhook_secret_file`, the signing token.
    webhook_token_file: Path | None = None

    _check_webhook_token = field_validator("webhook_token_file")(check_readable)
    project: Annotated[str, Field(pattern=r"^(\d+|[\w.-]+(/[\w.-]+)+)$")]  # path or id
    milestone: str | None = None  # the title of a milestone every issue joins
    bot_username: str | None = None  # checked against the token's account when given
    write_interval_seconds: Annotated[float, Field(ge=0)] = 0.25
    # gitlab.com allows some 200 issue creations a minute; 0 turns the cap off (test servers).
    max_writes_per_minute: Annotated[int, Field(ge=0)] = 180


def gitlab_token(config: GitlabAuth) -> str | None:
    """The token for a GitLab tracker or source: its own setting, else $GITLAB_TOKEN."""
    if config.token is not None:
        return config.token.get_secret_value()
    return os.environ.get("GITLAB_TOKEN") or None


def auth_options(
    key: str, project: str, config: GitlabAuth, context: BuildContext
) -> GitlabOptions:
    token = gitlab_token(config)
    if token is None:
        raise context.error(f"{key}.token: no token: set token or token_file, or GITLAB_TOKEN")
    return GitlabOptions(project=project, url=config.url, token=token, **config.patience())


def build(name: str, config: Config, context: BuildContext) -> GitlabTracker:
    options = replace(
        auth_options(f"trackers.{name}", config.project, config, context),
        labels=tuple(config.labels),
        milestone=config.milestone,
        bot_username=config.bot_username,
        write_interval=config.write_interval_seconds,
        max_writes_per_minute=config.max_writes_per_minute,
    )
    return GitlabTracker(name, options, sleep=context.sleep)
