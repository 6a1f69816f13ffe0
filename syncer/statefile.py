"""The small JSON files pmsync keeps in its state folder: read leniently (a missing or broken
file is no file, with a warning), written atomically (a temporary file, then a rename)."""

from __future__ import annotations

import contextlib
import json
import os
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


def save(path: Path, data: Any, event: str) -> bool:
    """Write `data` to `path` whole or not at all (a full or read-only disk leaves the file as
    it was, and no temporary file behind); a failure is logged as `event`, with the file and
    the space it needs, not raised: state is a convenience. Whether it was written."""
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
        log.warning(event, path=str(path), needs_bytes=needed, error=exc.strerror or str(exc))
        return False
    return True
