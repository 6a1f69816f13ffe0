"""pmsync's one error root, classified by what the caller should do about an error.

Connector code translates library exceptions into these at its boundary; nothing above
`connectors/` ever sees a `requests`, PyGithub or jira exception.
"""

from __future__ import annotations

import threading

# Set when pmsync is asked to stop (SIGTERM, SIGINT): writers check it between writes, so the
# write under way finishes and nothing is left half-done; the rest waits for the next run.
STOPPING = threading.Event()


class PmsyncError(Exception):
    """Root of every error pmsync raises on purpose."""


class ConfigError(PmsyncError):
    """The settings are wrong; the run cannot start. Exit code 2."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(problems))


class UsageError(PmsyncError):
    """The command line is wrong (a missing file, a bad option value). Exit code 2."""


class Locked(PmsyncError):
    """Another pmsync run holds the state dir's lock."""


class FatalError(PmsyncError):
    """Nothing more can be done in this run (bad credentials, tracker gone). Exit code 3."""


class NotAllowed(FatalError):
    """A 403 that is no rate limit: the credentials may not do this (for a tracker, nothing it
    would do next is allowed either)."""


class RetriableError(PmsyncError):
    """A passing fault (timeout, 5xx, rate limit); the same call may succeed later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SkippableError(PmsyncError):
    """This one document, item or request failed; the others go on."""


class Refused(SkippableError):
    """The service refused the request as it stands (a 4xx other than those with a meaning of
    their own): `status` says which."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class NotFound(SkippableError):
    """The service answered 404: no such thing there (or not visible to these credentials)."""


class Busy(SkippableError):
    """Another pmsync holds the tracker's lease: its items wait for the next run."""


class DocumentError(SkippableError):
    """A document could not be read or parsed; `path` names it for the user."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        self.where = f"{path}:{line}" if line else path
        super().__init__(f"{self.where}: {message}")


class UncertainError(RetriableError):
    """A write may or may not have taken effect (a timeout, a dropped connection, a 5xx):
    look before repeating it."""


class Interrupted(SkippableError):
    """Not attempted: pmsync is stopping. The next run does it."""

    def __init__(self) -> None:
        super().__init__("not attempted: pmsync is stopping")
