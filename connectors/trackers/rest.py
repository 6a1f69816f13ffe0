"""What the REST trackers share: an API client that retries within a wait budget, keeps writes
apart, waits out a spent quota and counts every request; and, for trackers whose issues are
numbered one after another in a project (GitHub, GitLab), exactly-once filing.

**Exactly once on numbered issues.** The listing of a project's issues may lag behind a
write, so after reading it, the issues numbered after the newest it shows are read one by
one until a number is unused (read-your-writes, one request when nothing is new). A create is
never sent twice blindly: after an answer that may hide a write (a timeout, a 5xx), the issue
is looked for by its marker among pmsync's newest issues and those numbered after them, and
adopted when found.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain
from typing import Any, Protocol

from connectors.base import report_request
from connectors.trackers.retry import (
    WaitBudget,
    WriteThrottle,
    create_once,
    interruptible_sleep,
    next_link,
    reset_in,
    with_retries,
)
from syncer.errors import NotAllowed, PmsyncError, RetriableError, SkippableError
from syncer.model import IssueSnapshot

MAX_PROBE = 5000  # issues read by number after the newest the list shows, at most

Headers = Mapping[str, str]


class Patience(Protocol):
    """How hard a tracker's settings say to push its service."""

    @property
    def attempts(self) -> int: ...
    @property
    def backoff(self) -> float: ...
    @property
    def max_wait(self) -> float: ...
    @property
    def write_interval(self) -> float: ...
    @property
    def max_writes_per_minute(self) -> int: ...


class RestApi:
    """One service's API: `request` sends through `_send` (each kind's client), retried with
    backoff unless told not to (a create), writes kept apart by the throttle, every request
    counted and reported to the metrics, and a spent quota (`quota`: the remaining and reset
    headers, the reset in epoch seconds) waited out before the next request."""

    service = ""
    quota: tuple[str, str] = ("x-ratelimit-remaining", "x-ratelimit-reset")
    quota_scale = 1.0  # the reset header's unit, in seconds (0.001: epoch milliseconds)

    def __init__(
        self,
        name: str,
        options: Patience,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        observe: Callable[[str, bool, Headers], None] | None = None,
        epoch: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._epoch = epoch  # the wall clock, in seconds: quotas reset at such times
        self.attempts = options.attempts
        self._sleep = sleep or interruptible_sleep
        self._clock = clock or time.monotonic
        label = f"{self.service.casefold()} {name}"
        self.budget = WaitBudget(label, options.max_wait, options.backoff, self._sleep)
        self._throttle = WriteThrottle(
            options.write_interval, options.max_writes_per_minute, self._clock, self._sleep
        )
        self._observe = observe or (
            lambda verb, ok, headers: report_request(name, verb, ok, headers)
        )
        self.requests = 0

    def _send(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Any | None,
        headers: Mapping[str, str] | None,
    ) -> tuple[Headers, Any]:
        """One request through the kind's client: (lower-cased headers, decoded body), or a
        PmsyncError (`failed` gives the failure's headers to the metrics first)."""
        raise NotImplementedError

    def failed(self, verb: str, headers: Headers) -> None:
        """Report a request that failed (its answer's headers, if any) to the metrics."""
        self._observe(verb, False, headers)

    def request(
        self,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any | None = None,
        headers: Mapping[str, str] | None = None,
        write: bool = False,
        repeat: bool = True,
    ) -> tuple[Headers, Any]:
        """One API call, translated; retried with backoff unless `repeat` is off (creates)."""

        def once() -> tuple[Headers, Any]:
            if write:
                self._throttle.wait()
            self.requests += 1
            answer = self._send(verb, path, params, body, headers)
            self._observe(verb, True, answer[0])
            return answer

        answer = with_retries(once, attempts=self.attempts, repeat=repeat, budget=self.budget)
        self.watch_quota(answer[0])
        return answer

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)[1]

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every entry of a paginated list, following the `Link: rel="next"` of each page."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        while url:
            headers, data = self.request("GET", url, params=query)
            if not isinstance(data, list):
                raise SkippableError(f"GET {path}: unexpected answer (not a list)")
            yield from (entry for entry in data if isinstance(entry, dict))
            url, query = self.following(path, query, headers, data)

    def following(
        self, path: str, query: Mapping[str, Any] | None, headers: Headers, data: list[Any]
    ) -> tuple[str | None, Mapping[str, Any] | None]:
        """Where the next page is: the `Link` header's next link (it carries the query)."""
        return next_link(headers), None

    def watch_quota(self, headers: Headers) -> None:
        """When the quota is spent, wait for its reset before the next request."""
        remaining, reset = (headers.get(name) for name in self.quota)
        if remaining is not None and remaining.strip() == "0":
            wait = reset_in(reset, self._epoch, self.quota_scale)
            if wait is not None:
                cause = RetriableError(f"{self.service.casefold()} {self.name}: quota used up")
                self.budget.pause(wait, cause)


class NumberedIssues:
    """Exactly-once filing for a tracker whose issues are numbered one after another. The
    tracker says how to read one issue by number, how to find the newest number, which
    answers are pmsync's issues, and which item an issue was filed for."""

    name: str
    gone: tuple[type[PmsyncError], ...] = ()  # a number that was used and is free no more

    def _read_number(self, number: int) -> Any:
        """The issue numbered `number`; NotFound or SkippableError when the number is unused."""
        raise NotImplementedError

    def _newest_number(self) -> int:
        """The project's newest issue number (0 when there is none)."""
        raise NotImplementedError

    def _newest_ours(self) -> list[dict[str, Any]]:
        """pmsync's newest issues, newest first: one page."""
        raise NotImplementedError

    def _number_of(self, data: Mapping[str, Any]) -> int | None:
        raise NotImplementedError

    def _snapshot_of(self, data: Mapping[str, Any]) -> IssueSnapshot | None:
        """The issue as pmsync sees it, or None when it is not one of pmsync's."""
        raise NotImplementedError

    def _filed_for(self, data: Mapping[str, Any]) -> str | None:
        """The item an issue was filed for (its marker's key), when pmsync's account filed it."""
        raise NotImplementedError

    def _listed(self, entries: Iterable[Any]) -> list[IssueSnapshot]:
        """pmsync's issues among a listing's `entries`, then those numbered after the newest
        it shows: read-your-writes however the listing lags."""
        found = []
        high = 0
        for data in entries:
            number = self._number_of(data) if isinstance(data, dict) else None
            if number is None:
                raise SkippableError(f"unexpected answer: {str(data)[:80]!r}")
            high = max(high, number)
            if (snap := self._snapshot_of(data)) is not None:
                found.append(snap)
        return found + [snap for data in self._after(high) if (snap := self._snapshot_of(data))]

    def _after(self, high: int) -> Iterator[dict[str, Any]]:
        """pmsync's issues numbered after `high`, read one by one until a number is unused:
        one request when nothing is new. When the first read is someone else's issue, the
        newest number is looked up once, to skip ahead to it."""
        number, skipped = high + 1, False
        for _ in range(MAX_PROBE):
            try:
                data = self._read_number(number)
            except self.gone:
                number += 1  # a deleted issue keeps its number
                continue
            except (SkippableError, NotAllowed):
                return  # not made yet
            if isinstance(data, dict) and self._snapshot_of(data) is not None:
                yield data
            elif not skipped:
                skipped = True
                # On from the newest listed, which is read too: it may be pmsync's own.
                number = max(number, self._newest_number() - 1)
            number += 1

    def _find_created(self, item_key: str) -> dict[str, Any] | None:
        """The issue filed for this item, if pmsync made it: among its newest issues (one
        page, newest first), then those numbered after them (a list that lags). No time
        filter: the server's clock need not agree with this machine's."""
        newest = self._newest_ours()
        high = max((n for d in newest if (n := self._number_of(d)) is not None), default=0)
        for entry in chain(newest, self._after(high)):
            if self._filed_for(entry) == item_key:
                return dict(entry)
        return None

    def create_exactly_once(
        self, post: Callable[[], dict[str, Any]], item_key: str, budget: WaitBudget, attempts: int
    ) -> dict[str, Any]:
        """`post` the issue. After an uncertain failure, adopt the issue if it was in fact made."""
        return create_once(
            post,
            lambda: self._find_created(item_key),
            attempts=attempts,
            budget=budget,
            named=lambda data: f"#{self._number_of(data)}",
            tracker=self.name,
            item=item_key,
        )
