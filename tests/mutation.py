"""`make mutation`: run mutmut on the mutants of the given name patterns that have no result yet.

mutmut reruns every mutant a name on its command line matches, even one it has a result for;
with no names it runs every mutant of the mutated files. So this asks mutmut which of the
selected mutants are not checked yet and names only those, and asks again after the run:
code changed since the last run gives its functions (and their callers) new, unchecked
mutants only when mutmut generates them. It stops when a run leaves nothing new to do.

    python -m tests.mutation [--max-children N] PATTERN...
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

MUTMUT = str(Path(sys.executable).with_name("mutmut"))


def selected(patterns: list[str]) -> dict[str, str]:
    """The status mutmut gives each mutant matching a pattern ("not checked", "killed", …)."""
    listing = subprocess.run(
        [MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            found[name] = status
    return found


def to_run(patterns: list[str], *, first: bool) -> list[str]:
    """The selected mutants with no result yet. Before a first run, the patterns themselves.
    When every mutant has a result, the first round names one the type checker rejected (or
    any): mutmut only finds code changed since its last run, and gives it new mutants, when it
    runs, and that one costs a type check, not a test run."""
    if not Path("mutants").is_dir():
        return patterns
    status = selected(patterns)
    names = [name for name, said in status.items() if said == "not checked"]
    if names or not first or not status:
        return names
    rejected = [name for name, said in status.items() if said == "caught by type check"]
    return (rejected or list(status))[:1]


def main(argv: list[str]) -> int:
    options = argv[:2] if argv[:1] == ["--max-children"] else []
    patterns = argv[len(options) :]
    if not patterns:
        print(__doc__, file=sys.stderr)
        return 2
    tried: set[str] = set()
    names = to_run(patterns, first=True)
    while names and not set(names) <= tried:
        print(f"{len(names)} mutants to run", flush=True)
        tried |= set(names)
        code = subprocess.run([MUTMUT, "run", *options, *names]).returncode
        if code != 0:
            return code
        names = to_run(patterns, first=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
