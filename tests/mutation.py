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


def unchecked(patterns: list[str]) -> list[str]:
    """The mutants matching a pattern that mutmut has no result for (all, before a first run)."""
    if not Path("mutants").is_dir():
        return patterns
    listing = subprocess.run(
        [MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    names = []
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if status == "not checked" and any(fnmatch.fnmatchcase(name, p) for p in patterns):
            names.append(name)
    return names


def main(argv: list[str]) -> int:
    options = argv[:2] if argv[:1] == ["--max-children"] else []
    patterns = argv[len(options) :]
    if not patterns:
        print(__doc__, file=sys.stderr)
        return 2
    tried: set[str] = set()
    while True:
        names = unchecked(patterns)
        if not names or set(names) <= tried:
            break
        print(f"{len(names)} mutants to run", flush=True)
        tried |= set(names)
        code = subprocess.run([MUTMUT, "run", *options, *names]).returncode
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
