"""The `pmsync` commands, one module each; `common` holds what they share. Each module's
`register` adds its command (or commands) to the parser. A module imports what its command
uses only when the command runs, so that `--help`, `lint`, `extract` and `rules` load no
tracker client, no notification library and no metrics library."""

from __future__ import annotations

from syncer.commands import (
    check,
    completion,
    config,
    digest,
    extract,
    issues,
    lint,
    report,
    rules,
    run,
    serve,
    sync,
    webhooks,
)

# In the order `pmsync --help` lists them.
MODULES = (
    extract,
    lint,
    sync,
    check,
    digest,
    run,
    serve,
    webhooks,
    report,
    issues,
    rules,
    config,
    completion,
)
