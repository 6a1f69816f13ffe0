"""The digest's state file: per recipient, the figures and open items of each period and the
channels already served, so that a digest is never sent twice in one period and trends
survive a restart."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from syncer import logs, statefile
from syncer.digest.model import Digest

log = logs.get_logger("pmsync.digest")


STATE_FILE = "digest-state.json"


_KEEP_PERIODS = 8


def _valid_record(record: object) -> bool:
    """A period's record as pmsync writes it: channels sent to, open items, when."""
    if not isinstance(record, dict):
        return False
    if not isinstance(record.get("sent", []), list) or not isinstance(record.get("open", []), list):
        return False
    try:
        datetime.fromisoformat(str(record.get("at", "2000-01-01")))
    except ValueError:
        return False
    return True


def _previous(state: Mapping[str, Any], period: str) -> Mapping[str, Any] | None:
    """The latest recorded period before `period`."""
    periods = state.get("periods", {})
    earlier = sorted(p for p in periods if p < period)
    return periods[earlier[-1]] if earlier else None


def channel_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:12]


@dataclass(slots=True)
class DigestState:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> DigestState:
        data = statefile.load(path, "digest_state_unreadable")
        if data is None:
            return cls(path)
        if not isinstance(data, dict) or not isinstance(data.get("recipients", {}), dict):
            log.error("digest_state_unreadable", path=str(path), error="not a pmsync state")
            return cls(path)
        recipients = {}
        for name, entry in data.get("recipients", {}).items():
            periods = entry.get("periods", {}) if isinstance(entry, dict) else None
            if not isinstance(periods, dict):
                continue
            recipients[name] = {
                **entry,
                "periods": {
                    period: record for period, record in periods.items() if _valid_record(record)
                },
            }
        if recipients != data.get("recipients", {}):
            log.error("digest_state_unreadable", path=str(path), error="entries of a wrong shape")
        return cls(path, {**data, "recipients": recipients})

    def of(self, recipient: str) -> dict[str, Any]:
        found: dict[str, Any] = self.data.setdefault("recipients", {}).setdefault(recipient, {})
        return found

    def sent(self, recipient: str, period: str, url: str) -> bool:
        periods = self.of(recipient).get("periods", {})
        return channel_id(url) in periods.get(period, {}).get("sent", [])

    def record(self, digest: Digest, url: str) -> None:
        periods = self.of(digest.recipient).setdefault("periods", {})
        entry = periods.setdefault(digest.period, {"sent": []})
        entry["figures"] = digest.figures.as_dict()
        entry["open"] = list(digest.open_keys)
        entry["at"] = digest.now.isoformat()
        if channel_id(url) not in entry["sent"]:
            entry["sent"].append(channel_id(url))
        for old in sorted(periods)[:-_KEEP_PERIODS]:
            del periods[old]

    def save(self) -> bool:
        """Whether the state was written (a full disk leaves it as it was, and says so)."""
        return statefile.save(self.path, self.data, "digest_state_unsaved")
