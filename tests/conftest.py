"""Shared fixtures: a throw-away project folder with a config, documents and a people file."""

from __future__ import annotations

import json
import os
import shutil
import sys

if os.environ.get("PMSYNC_TEST_WITHOUT_FCNTL"):
    # As on Windows: no POSIX file locks (tests/test_portability.py runs the pure core so).
    sys.modules["fcntl"] = None  # type: ignore[assignment]
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
import responses
import structlog
import time_machine

from syncer import logs
from tests import openapi_check

pytest_plugins = ["pytester"]

PEOPLE = """
[[people]]
name = "Dana Kim"
aliases = ["dana"]
email = "dana@example.com"
github = "dana"
manager = "Lee Park"

[[people]]
name = "Lee Park"
aliases = ["lee"]
github = "leepark"
"""

CONFIG = """
people_file = "people.toml"

[sources.docs]
kind = "markdown-dir"
path = "docs"

[trackers.local]
kind = "local"

[routing]
default = "local"
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pmsync")
    group.addoption(
        "--at",
        metavar="ISO-TIME",
        help="run every test as if the clock showed this instant (with its offset), e.g. "
        "2026-11-30T00:30:00+00:00; the clock still ticks from there",
    )
    group.addoption("--tz", metavar="ZONE", help="run with this local time zone (IANA name)")


def pytest_configure(config: pytest.Config) -> None:
    zone = config.getoption("--tz")
    if zone:
        os.environ["TZ"] = zone
        time.tzset()
    at = config.getoption("--at")
    if at:
        datetime.fromisoformat(at)  # a typo fails the run at once, not every test


@pytest.fixture(autouse=True)
def _fixed_instant(request: pytest.FixtureRequest) -> Iterator[None]:
    """With `--at`, the wall clock of every test starts at that instant: tests that read the
    clock (they should not) fail at the instants CI picks, not on the day they happen to hit."""
    at = request.config.getoption("--at")
    if not at:
        yield
        return
    with time_machine.travel(datetime.fromisoformat(at), tick=True):
        yield


@pytest.fixture(autouse=True)
def _quiet_logs() -> None:
    logs.configure("warning", json=True)
    structlog.contextvars.clear_contextvars()


@pytest.fixture(autouse=True)
def _not_stopping() -> Iterator[None]:
    """A test that stops a loop never leaves the stop flag set for the next test."""
    from syncer.errors import STOPPING

    STOPPING.clear()
    yield
    STOPPING.clear()


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's own PMSYNC_* settings."""
    for name in list(os.environ):
        if name.startswith("PMSYNC_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _requests_as_published() -> Iterator[None]:
    """A test fails when a fake was sent a request the service's published API description
    rejects (the fakes check every request; see tests/openapi_check.py)."""
    openapi_check.REJECTED.clear()
    yield
    rejected, openapi_check.REJECTED[:] = list(openapi_check.REJECTED), []
    if rejected:
        pytest.fail("requests the published API description rejects:\n" + "\n".join(rejected))


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    """`responses` for a test that talks HTTP to services faked in `tests/fakes/sources.py`."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a file below the test's folder, dedenting the text."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def project(tmp_path: Path, write: Callable[[str, str], Path]) -> Path:
    """A folder with config.toml, people.toml and an empty docs/; returns the config path."""
    write("people.toml", PEOPLE)
    (tmp_path / "docs").mkdir()
    return write("config.toml", CONFIG)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """config.example.toml and examples/ as shipped, in a folder of their own; returns the
    config path."""
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "examples", tmp_path / "examples")
    shutil.copy(root / "config.example.toml", tmp_path / "config.toml")
    return tmp_path / "config.toml"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `make mutation`, run a mutant's quickest tests first, and end a hung one.

    mutmut hands each mutant its tests in no particular order and stops at the first failure;
    the timings it recorded (in the folder it runs from) put a mutant's quick killer first.
    mutmut's own limit counts CPU seconds, which a mutant that loops on a sleep (a retry or a
    poll that never ends) hardly spends; past ten times its tests' usual time, it ends with
    the exit code mutmut reads as a timeout."""
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    # mutmut forks each mutant's process from one that may have sent a digest already; Apprise's
    # shared worker pools would come without their threads and wait for ever. Start new ones.
    sent_through = sys.modules.get("apprise.apprise")
    for pool in ("_shared_executor", "_coordinator_executor"):
        if getattr(sent_through, pool, None) is not None:
            setattr(sent_through, pool, None)
    try:
        seconds = json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: seconds.get(item.nodeid, 0.0))
    usual = sum(seconds.get(item.nodeid, 0.0) for item in items)
    watchdog = threading.Timer(60 + 10 * usual, os._exit, (_MUTMUT_TIMEOUT,))
    watchdog.daemon = True
    watchdog.start()


_MUTMUT_TIMEOUT = 36


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the corpus score table whenever the corpus tests ran."""
    from tests import test_corpus
    from tests.corpus_score import table

    if test_corpus.SCORES:
        terminalreporter.section("extraction against the corpus answer key")
        terminalreporter.write_line(table(test_corpus.SCORES))
