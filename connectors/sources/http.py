"""Reading a web API for a document source: GETs, retried after a passing fault as the service
asks (`Retry-After`) within a wait budget, and every failure translated into pmsync's errors.

Reads are always safe to repeat. What a status means for the run: 401 stops this source's
reading (bad credentials); 403, 404 and other refusals concern the one page or file asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests

from connectors.base import report_source_request
from connectors.trackers.retry import (
    WaitBudget,
    interruptible_sleep,
    retry_after_seconds,
    with_retries,
)
from syncer.errors import FatalError, PmsyncError, RetriableError, SkippableError

# Statuses worth asking again: rate limits and a server's passing trouble.
_RETRIABLE = frozenset({429, 500, 502, 503, 504})


class Conflict(SkippableError):
    """The thing written was changed since it was read (an edit with a stale version)."""


class HttpReader:
    """GETs against one service (`service` names it in messages: "confluence wiki")."""

    def __init__(
        self,
        service: str,
        session: requests.Session,
        *,
        timeout: float = 30.0,
        max_wait: float = 600.0,
        backoff: float = 2.0,
        attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        rate_limited: Callable[[requests.Response], bool] | None = None,
        sign_in_errors: tuple[type[Exception], ...] = (),
        source: str = "",
    ) -> None:
        self.service = service
        self.source = source  # the configured source's name, for the request metrics
        self.session = session
        self.timeout = timeout
        self.attempts = attempts
        self.budget = WaitBudget(service, max_wait, backoff, sleep or interruptible_sleep)
        self._rate_limited = rate_limited or (lambda response: False)
        self._sign_in_errors = sign_in_errors  # what the session raises when it cannot sign in
        self.requests = 0

    def get(
        self, url: str, params: Mapping[str, Any] | None = None, *, what: str = ""
    ) -> requests.Response:
        """The answer to a GET of `url`, once it is a 2xx; `what` names the thing asked for."""
        return self.send("GET", url, params=params, what=what)

    def send(
        self,
        verb: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        what: str = "",
    ) -> requests.Response:
        """A request that is safe to repeat (a read, or a write the service checks: a page
        update carrying the version it replaces); a 409 is a `Conflict`."""
        label = what or url

        def once() -> requests.Response:
            self.requests += 1
            try:
                response = self.session.request(
                    verb, url, params=params, json=body, timeout=self.timeout
                )
            except Exception:
                report_source_request(self.source, verb, False)
                raise
            report_source_request(self.source, verb, response.ok)
            if response.ok:
                return response
            raise self._error(response, label)

        def guarded() -> requests.Response:
            try:
                return once()
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise RetriableError(f"{label}: no answer ({type(exc).__name__})") from None
            except requests.RequestException as exc:
                raise SkippableError(f"{label}: {type(exc).__name__}") from None
            except self._sign_in_errors as exc:
                raise FatalError(f"{self.service}: cannot sign in: {exc}") from None

        return with_retries(guarded, attempts=self.attempts, repeat=True, budget=self.budget)

    def json(
        self, url: str, params: Mapping[str, Any] | None = None, *, what: str = ""
    ) -> dict[str, Any]:
        response = self.get(url, params, what=what)
        try:
            data = response.json()
        except ValueError:
            raise SkippableError(f"{what or url}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise SkippableError(f"{what or url}: unexpected answer (not a JSON object)")
        return data

    def _error(self, response: requests.Response, label: str) -> PmsyncError:
        status = response.status_code
        if status in _RETRIABLE or self._rate_limited(response):
            return RetriableError(
                f"{label}: {self.service} answered {status}", retry_after_seconds(response.headers)
            )
        if status == 409:
            return Conflict(f"{label}: changed by someone else (409): {_message(response)}")
        if status == 401:
            return FatalError(f"{label}: {self.service} rejected the credentials (401)")
        if status == 403:
            return SkippableError(f"{label}: not allowed (403): {_message(response)}")
        if status in (404, 410):
            return SkippableError(f"{label}: not found ({status}): deleted, moved or not shared")
        return SkippableError(
            f"{label}: {self.service} refused it ({status}): {_message(response)}"
        )


def _message(response: requests.Response) -> str:
    """The service's own words for a refusal, short; never the request (it may carry secrets)."""
    try:
        data = response.json()
    except ValueError:
        return (response.reason or "").strip()[:200]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):  # Google: {"error": {"code", "message", "errors"}}
            return str(error.get("message", ""))[:200]
        for key in ("message", "errorMessage", "reason"):
            if isinstance(data.get(key), str):
                return str(data[key])[:200]
    return (response.reason or "").strip()[:200]


def timestamp(value: Any) -> datetime | None:
    """An API's ISO 8601 time (`2026-11-02T09:30:00.000Z`), or None when absent or garbled."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
