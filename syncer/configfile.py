"""Which config file a command reads (without reading it: this module loads nothing else)."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "PMSYNC_CONFIG"
DEFAULT_CONFIG = Path("config.toml")


def config_path(explicit: str | None) -> Path | None:
    """The config file to use: --config, else $PMSYNC_CONFIG, else ./config.toml if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
