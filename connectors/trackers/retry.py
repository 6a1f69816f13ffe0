"""Retries and waits shared by the HTTP trackers: how long to back off, what a run may spend
waiting in all, and which calls may be repeated."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests

from syncer import logs
from syncer.errors import (
    STOPPING,
    ConfigError,
    FatalError,
    NotAllowed,
    NotFound,
    PmsyncError,
    Refused,
    RetriableError,
    UncertainError,
)

log = logs.get_logger("pmsync.retry")
T = TypeVar("T")


def retry_after_seconds(headers: Mapping[str, Any]) -> float | None:
    """The seconds a `Retry-After` header asks for (any case of its name), or None."""
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify(
    status: int,
    what: str,
    service: str,
    detail: str = "",
    *,
    retry_after: float | None = None,
    limited: bool = False,
    credentials: str = "",
) -> PmsyncError:
    """What a failed answer means for the caller, the same for every tracker: rate limited
    (429, or `limited` where the service says so otherwise) is retried after `retry_after` (60
    seconds when it names none); 5xx or no answer may have done the write (uncertain); 401 is
    fatal (`credentials` says what to check); 403 not allowed; 404 not found; the rest
    refused, with the service's `detail`."""
    if status == 429 or limited:
        said = f" ({detail})" if detail and limited else ""
        return RetriableError(
            f"{what}: rate limited by {service}{said}", 60.0 if retry_after is None else retry_after
        )
    if status == 503 and retry_after is not None:
        return RetriableError(f"{what}: {service} is busy (503)", retry_after)
    if status >= 500 or status == 0:
        return UncertainError(f"{what}: {service} answered {status or 'nothing'}", retry_after)
    if status == 401:
        check = f": {credentials}" if credentials else ""
        return FatalError(f"{what}: {service} rejected the credentials (401){check}")
    if status == 403:
        return NotAllowed(f"{what}: not allowed (403): {detail}")
    if status == 404:
        return NotFound(f"{what}: not found (404)")
    return Refused(f"{what}: {service} refused it ({status}): {detail}", status)


def reset_in(reset: Any, now: Callable[[], float] = time.time, scale: float = 1.0) -> float | None:
    """Seconds until a quota's reset time (epoch seconds; `scale` 0.001 for milliseconds),
    plus one; None when there is none."""
    try:
        return max(0.0, float(reset) * scale - now()) + 1 if reset is not None else None
    except (TypeError, ValueError):
        return None


def next_link(headers: Mapping[str, Any]) -> str | None:
    """The `Link: <…>; rel="next"` of a paginated answer (any case of its name), or None."""
    link = next((v for k, v in headers.items() if str(k).lower() == "link"), None)
    match = re.search(r'<([^>]+)>;\s*rel="next"', str(link or ""))
    return match.group(1) if match else None


def interruptible_sleep(seconds: float) -> None:
    """`time.sleep` that a stop request (SIGTERM) cuts short."""
    STOPPING.wait(seconds)


class WriteThrottle:
    """Keeps writes serial, at least `interval` seconds apart and under `per_minute` a minute."""

    def __init__(
        self,
        interval: float,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._recent: deque[float] = deque()

    def wait(self) -> None:
        now = self._clock()
        while self._recent and self._recent[0] <= now - 60:
            self._recent.popleft()
        delay = 0.0
        if self._recent:
            delay = self._recent[-1] + self.interval - now
        if self.per_minute and len(self._recent) >= self.per_minute:
            delay = max(delay, self._recent[0] + 60 - now)
        if delay > 0:
            self._sleep(delay)
        self._recent.append(self._clock())


class WaitBudget:
    """The waits of one tracker in one run: as long as a service asks, until the total would
    pass `max_wait`; then the run stops cleanly, and the next run resumes."""

    def __init__(
        self, tracker: str, max_wait: float, backoff: float, sleep: Callable[[float], None]
    ) -> None:
        self.tracker = tracker
        self.max_wait = max_wait
        self.first_backoff = backoff
        self._sleep = sleep
        self.waited = 0.0

    def backoff(self, attempt: int) -> float:
        """The pause before retry `attempt` (1, 2, ...): doubling, at most 30 s."""
        return min(self.first_backoff * 2.0 ** (attempt - 1), 30.0)

    def pause(self, seconds: float, cause: PmsyncError) -> None:
        if STOPPING.is_set():
            raise FatalError(f"{self.tracker}: {cause}; not waiting: pmsync is stopping")
        if self.waited + seconds > self.max_wait:
            raise FatalError(
                f"{self.tracker}: {cause}; waiting {seconds:.0f} s more would pass the "
                f"{self.max_wait:.0f} s wait budget: stopped, the next run resumes"
            ) from cause
        log.warning(
            "tracker_waiting", tracker=self.tracker, seconds=round(seconds, 1), cause=str(cause)
        )
        self.waited += seconds
        self._sleep(seconds)
        if STOPPING.is_set():
            raise FatalError(f"{self.tracker}: {cause}; stopped waiting: pmsync is stopping")


def create_once(
    post: Callable[[], T],
    find: Callable[[], T | None],
    *,
    attempts: int,
    budget: WaitBudget,
    named: Callable[[T], str],
    tracker: str,
    item: str,
) -> T:
    """Create something exactly once: `post` is never repeated blindly. After an uncertain
    failure (a 5xx, a timeout, a dropped connection) give the service time, then `find` what
    the post may have made; adopt it if so (logged with the reference `named` gives), else
    post again."""
    for attempt in range(1, attempts + 1):
        try:
            return post()
        except UncertainError as exc:
            budget.pause(exc.retry_after or budget.backoff(attempt), exc)
            found = find()
            if found is not None:
                log.warning(
                    "issue_adopted",
                    tracker=tracker,
                    item=item,
                    ref=named(found),
                    cause=str(exc),
                )
                return found
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def with_retries(call: Callable[[], T], *, attempts: int, repeat: bool, budget: WaitBudget) -> T:
    """`call`, again after a retriable failure, as told or with backoff. A call that may have
    taken effect (UncertainError) is repeated only when `repeat` says it is safe to."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except RetriableError as exc:
            if attempt == attempts or (isinstance(exc, UncertainError) and not repeat):
                raise
            budget.pause(exc.retry_after or budget.backoff(attempt), exc)
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def no_answer_is_uncertain(what: str, service: str) -> Iterator[None]:
    """A timeout or a dropped connection: the request may or may not have taken effect."""
    try:
        yield
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise UncertainError(f"{what}: no answer from {service} ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        raise UncertainError(f"{what}: {type(exc).__name__}") from exc


def unreachable(exc: BaseException) -> bool:
    """Whether an error comes from a host that could not be reached at all (refused, no such
    name), rather than from one that was slow or failed while answering."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, requests.ConnectionError) and not isinstance(
            cause, requests.ReadTimeout
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def missing(setting: str, what: str, address: str, account: str) -> ConfigError:
    """A repository or project the tracker answers 404 for: a ConfigError naming the setting
    and the host."""
    host = urlparse(address).netloc or address
    return ConfigError([f"{setting}: {what} not found at {host}, or {account} cannot see it"])


def first_contact(call: Callable[[], T], setting: str, address: str, service: str) -> T:
    """A tracker's first request: a wrong address (404, or nobody there) is a ConfigError
    naming the setting and the host, before anything is written."""
    host = urlparse(address).netloc or address
    try:
        return call()
    except NotFound as exc:
        problem = f"{setting}: {address} answers 404: not a {service} address"
        raise ConfigError([problem]) from exc
    except UncertainError as exc:
        if unreachable(exc):
            raise ConfigError([f"{setting}: no answer from {host} ({exc})"]) from exc
        raise
