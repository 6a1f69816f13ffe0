"""pmsync away from POSIX: nothing but the loop's lock needs `fcntl` (absent on Windows)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE_CORE = [
    "tests/test_extract_markdown.py",
    "tests/test_fields.py",
    "tests/test_dates.py",
    "tests/test_rules.py",
    "tests/test_planner.py",
    "tests/test_identity.py",
    "tests/test_corpus.py",
    "tests/test_extract_conventions.py",
]


def _without_fcntl(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PMSYNC_TEST_WITHOUT_FCNTL": "1"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_commands_that_read_documents_work_without_fcntl(tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text(
        "# Outage\n\n## Action items\n\n- [ ] Add an alert on queue depth (owner: @dana)\n"
    )
    script = (
        "import sys\n"
        "sys.modules['fcntl'] = None\n"
        "from syncer.cli import main\n"
        "codes = [main(['lint', 'one.md']), main(['extract', 'one.md']), main(['rules'])]\n"
        "print(codes, 'fcntl' in sys.modules and sys.modules['fcntl'] is not None)\n"
    )
    done = _without_fcntl(sys.executable, "-c", script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 0] False"


def test_the_pure_core_tests_pass_without_fcntl() -> None:
    done = _without_fcntl(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *PURE_CORE
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert " passed" in done.stdout
