"""The small JSON files pmsync keeps in its state folder: read leniently (a missing or broken
file is no file, with a warning), written atomically (a temporary file, then a rename)."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syncer import logs

log = logs.get_logger("pmsync.state")


def load(path: Path, event: str) -> Any:
    """The file's JSON, or None when it is missing or cannot be read (logged as `event`)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning(event, path=str(path), error=str(exc))
        return None


# State files whose last write failed, since when and why: the heartbeat carries them to
# `pmsync health`, and the metrics count them. A later write that succeeds clears its file.
_FAULTS: dict[str, dict[str, Any]] = {}


def faults() -> dict[str, dict[str, Any]]:
    """The state files whose last write failed: path -> {error, needs_bytes, since}."""
    return {path: dict(fault) for path, fault in _FAULTS.items()}


def failed(path: Path, error: str, needs_bytes: int | None = None) -> None:
    """Note that a state file could not be written (a full or read-only disk)."""
    since = _FAULTS.get(str(path), {}).get("since")
    _FAULTS[str(path)] = {
        "error": error,
        "needs_bytes": needs_bytes,
        "since": since or datetime.now(UTC).isoformat(timespec="seconds"),
    }


def written(path: Path) -> None:
    """Note that a state file was written: any fault it had is over."""
    _FAULTS.pop(str(path), None)


def save(path: Path, data: Any, event: str, *, optional: bool = False) -> bool:
    """Write `data` to `path` whole or not at all (a full or read-only disk leaves the file as
    it was, and no temporary file behind); a failure is logged as `event`, with the file and
    the space it needs, not raised: state is a convenience. An `optional` file (a cache kept
    outside the state folder) that cannot be written is no fault, and logged at debug level.
    Whether it was written."""
    text = json.dumps(data, ensure_ascii=False)
    temporary = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        needed = len(text.encode())
        error = exc.strerror or str(exc)
        if optional:
            log.debug(event, path=str(path), needs_bytes=needed, error=error)
            return False
        log.warning(event, path=str(path), needs_bytes=needed, error=error)
        failed(path, error, needed)
        return False
    written(path)
    return True
