"""Requests and document bodies fetched by the remote sources, with change detection.

    python bench/sources.py [--documents 500]

For each remote source (a GitHub repository with thousands of other files around its
post-mortems, Confluence Cloud, Google Drive), against the `responses` fakes of the tests:
the first read, a second read with nothing changed, and a read after 5 documents changed.
Prints the requests made, the bodies fetched and the items found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import responses

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.base import DocumentSource  # noqa: E402
from connectors.sources.confluence import ConfluenceOptions, ConfluenceSource  # noqa: E402
from connectors.sources.github_repo import GithubRepoSource, RepoOptions  # noqa: E402
from connectors.sources.google_drive import DriveOptions, GoogleDriveSource  # noqa: E402
from connectors.trackers.github import GithubOptions  # noqa: E402
from syncer import logs  # noqa: E402
from syncer.pipeline import read_configured  # noqa: E402
from syncer.settings import Settings  # noqa: E402
from tests.fakes.keys import service_account_file  # noqa: E402
from tests.fakes.sources import (  # noqa: E402
    DOC,
    DriveFile,
    FakeConfluence,
    FakeDrive,
    FakeGithubRepo,
    Page,
)


def markdown(n: int) -> bytes:
    rows = "\n".join(
        f"| Add alert {n}-{k} on queue depth above {k + 10} | Dana Kim | 2026-05-{k + 1:02d} |"
        for k in range(5)
    )
    table = f"| Action | Owner | Due |\n|---|---|---|\n{rows}\n"
    return f"# Incident {n}\n\n## Action items\n\n{table}".encode()


def storage(n: int) -> str:
    tasks = "".join(
        f"<ac:task><ac:task-id>{k}</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        f'<ac:task-body>Add alert {n}-{k} <ac:link><ri:user ri:username="dana" /></ac:link> '
        f'<time datetime="2026-05-{k + 1:02d}" /></ac:task-body></ac:task>'
        for k in range(5)
    )
    return f"<h2>Action items</h2><ac:task-list>{tasks}</ac:task-list>"


def github(
    mock: responses.RequestsMock, count: int, folder: Path
) -> tuple[Any, DocumentSource, Callable[[int], None]]:
    files = {f"postmortems/pm-{n:04d}.md": markdown(n) for n in range(count)}
    files |= {f"src/pkg{n % 40}/mod{n}.py": b"pass\n" for n in range(count * 4)}
    fake = FakeGithubRepo(files)
    fake.register(mock)
    options = RepoOptions(GithubOptions(repo=fake.repo, token=fake.token), "main", "postmortems")

    def change(n: int) -> None:
        fake.files[f"postmortems/pm-{n:04d}.md"] += b"\n"

    return fake, GithubRepoSource("repo", options), change


def confluence(
    mock: responses.RequestsMock, count: int, folder: Path
) -> tuple[Any, DocumentSource, Callable[[int], None]]:
    fake = FakeConfluence({str(1000 + n): Page(f"PM {n}", storage(n)) for n in range(count)})
    fake.register(mock)
    options = ConfluenceOptions(
        url=fake.site,
        deployment="cloud",
        cql='space = "SRE"',
        email="pmsync@acme.test",
        api_token="atl-api-token-0123456789",
    )

    def change(n: int) -> None:
        fake.pages[str(1000 + n)].version += 1

    return fake, ConfluenceSource("wiki", options), change


def drive(
    mock: responses.RequestsMock, count: int, folder: Path
) -> tuple[Any, DocumentSource, Callable[[int], None]]:
    fake = FakeDrive(
        {f"doc{n}": DriveFile(f"pm-{n}", DOC, markdown(n)) for n in range(count)}, page_size=100
    )
    fake.register(mock)
    options = DriveOptions("root-folder", str(service_account_file(folder)))

    def change(n: int) -> None:
        fake.files[f"doc{n}"].modified = "2026-11-02T10:00:00.000Z"

    return fake, GoogleDriveSource("drive", options), change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=500)
    args = parser.parse_args()
    logs.configure("error", json=True)
    print(f"{'source':<12} {'run':<14} {'requests':>9} {'bodies':>7} {'items':>6} {'seconds':>8}")
    for name, build in (
        ("github-repo", github),
        ("confluence", confluence),
        ("google-drive", drive),
    ):
        with (
            tempfile.TemporaryDirectory() as tmp,
            responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
        ):
            fake, source, change = build(mock, args.documents, Path(tmp))
            settings = Settings(state_dir=Path(tmp) / "state")
            for run in ("first", "unchanged", "5 changed"):
                if run == "5 changed":
                    for n in range(5):
                        change(n * 7)
                requests, bodies = fake.requests, len(fake.bodies)
                started = time.perf_counter()
                reading = read_configured(settings, [source])
                seconds = time.perf_counter() - started
                items = sum(len(pm.items) for pm in reading.postmortems)
                print(
                    f"{name:<12} {run:<14} {fake.requests - requests:>9} "
                    f"{len(fake.bodies) - bodies:>7} {items:>6} {seconds:>8.2f}"
                )


if __name__ == "__main__":
    main()
