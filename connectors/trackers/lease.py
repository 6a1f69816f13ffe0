"""A tracker's lease while filing, for the trackers that have one (GitHub: a git reference;
Jira: a project version). Each says how its lease is taken and released; this module holds
it for a block, names its holder, and says what `lease = "auto"` and `"required"` do when
the credentials cannot take it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime

from syncer import logs
from syncer.errors import ConfigError, PmsyncError

log = logs.get_logger("pmsync.lease")

CLOCK_SKEW_WARNING = 60.0  # seconds between this machine's clock and a tracker's worth a warning


def date_header(headers: Mapping[str, str]) -> datetime | None:
    """The service's time, as an answer's `Date` header says (None without one)."""
    value = next((v for k, v in headers.items() if k.lower() == "date"), None)
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def holder() -> str:
    """Who takes a lease, as its record names them: host, process and run."""
    return f"{socket.gethostname()} pid {os.getpid()} run {uuid.uuid4().hex[:8]}"


class LeaseHolder:
    """What a tracker with a lease offers (`connectors.base.Leasing`): while filing, its
    lease, so that two pmsync runs on different machines never file at once."""

    _lease: Lease

    @property
    def leased(self) -> bool:
        """Whether this tracker takes a lease while filing."""
        return self._lease.offered

    def lease(self) -> AbstractContextManager[bool]:
        """Hold the lease for the block; yields whether it is held. Raises `Busy` when
        someone else holds it."""
        return self._lease.hold()


class Lease:
    """One tracker's lease. `take` returns a token once held (None: the tracker offers no
    lease to these credentials) or raises `Busy`; `release(token)` gives it back."""

    def __init__(
        self,
        tracker: str,
        mode: str,
        needs: str,
        take: Callable[[], str | None],
        release: Callable[[str], None],
    ) -> None:
        self.tracker = tracker
        self.mode = mode  # auto | required | off
        self.needs = needs  # what the credentials need for it, for the error
        self._take = take
        self._release = release
        self._unavailable = False
        self._skew_told = False

    @property
    def offered(self) -> bool:
        """Whether a lease is taken while filing."""
        return self.mode != "off" and not self._unavailable

    @contextmanager
    def hold(self) -> Iterator[bool]:
        """Hold the lease for the block; yields whether it is held. A lease not given back
        (the tracker unreachable) expires by itself."""
        mine = self._take() if self.offered else None
        try:
            yield mine is not None
        finally:
            if mine is not None:
                try:
                    self._release(mine)
                except PmsyncError as exc:
                    log.warning("lease_not_released", tracker=self.tracker, error=str(exc))

    def note_clock(self, server: datetime | None, wall: datetime) -> datetime:
        """The tracker's time (this machine's when the tracker said none), which the lease is
        timed on; says so in the log once when this machine's clock differs from it by more
        than a minute."""
        if server is None:
            return wall
        skew = (wall - server).total_seconds()
        if abs(skew) > CLOCK_SKEW_WARNING and not self._skew_told:
            self._skew_told = True
            log.warning(
                "clock_skew",
                tracker=self.tracker,
                seconds=round(skew),
                note="this machine's clock is off; the lease goes by the tracker's",
            )
        return server

    def unavailable(self, exc: PmsyncError) -> None:
        """The credentials cannot take the lease: with `auto`, file without one from now on
        (runs that race then close each other's duplicates); with `required`, a
        configuration error naming the setting."""
        if self.mode == "required":
            problem = f"trackers.{self.tracker}.lease: the lease needs {self.needs} ({exc})"
            raise ConfigError([problem]) from exc
        self._unavailable = True
        log.info("lease_unavailable", tracker=self.tracker, error=str(exc))
