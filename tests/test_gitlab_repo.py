"""A GitLab project holding both the post-mortems (a `gitlab-repo` source) and the issues (a
`gitlab` tracker), on the fake GitLab: write-back keeps one merge request, updated in place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.pipeline import sync
from syncer.settings import Settings, load_settings
from tests.fakes.gitlab import FakeGitLab
from tests.test_writeback import DOC

PATH = "postmortems/2026-03-04-checkout.md"
PEOPLE = '[[people]]\nname = "Dana Kim"\ngitlab = "dana"\n\n[[people]]\nname = "Sam Rivera"\ngitlab = "sam"\n'
LINK = "https://gitlab.test/acme/incidents/-/issues/"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGitLab, Settings]]:
    fake = FakeGitLab()
    fake.write_file(PATH, DOC)
    fake.write_file("README.md", "# Incidents\n")
    with fake.running():
        monkeypatch.setenv("GITLAB_TOKEN", "glpat-" + "t" * 20)
        (tmp_path / "people.toml").write_text(PEOPLE)
        (tmp_path / "config.toml").write_text(
            f'people_file = "people.toml"\n'
            f'[sources.repo]\nkind = "gitlab-repo"\nurl = "{fake.url}"\nproject = "acme/incidents"\n'
            'path = "postmortems"\nwrite_back = "links+status"\n'
            f'[trackers.lab]\nkind = "gitlab"\nurl = "{fake.url}"\nproject = "acme/incidents"\n'
            'write_interval_seconds = 0\n[routing]\ndefault = "lab"\n'
        )
        yield fake, load_settings(tmp_path / "config.toml")


def _repository_writes(fake: FakeGitLab) -> list[str]:
    return [
        f"{method} {kind}"
        for method, kind in fake.requests
        if method != "GET" and kind in ("commits", "merge requests", "merge request")
    ]


def test_write_back_opens_one_merge_request_and_updates_it_in_place(
    world: tuple[FakeGitLab, Settings],
) -> None:
    fake, settings = world
    first = sync(settings, dry_run=False)
    assert not first.problems
    assert len(fake.issues) == 3
    assert list(fake.merge_requests) == [1]
    merge = fake.merge_requests[1]
    assert (merge["source_branch"], merge["target_branch"]) == ("pmsync/write-back", "main")
    assert f"`{PATH}`: 3 links" in merge["description"]
    assert fake.files["pmsync/write-back"][PATH].count(LINK) == 3
    assert fake.files["main"][PATH] == DOC  # the default branch is untouched
    assert first.write_back.edits

    writes = len(_repository_writes(fake))
    blobs = len(fake.bodies)
    sync(settings, dry_run=False)  # nothing changed: no commit, no edit, no file fetched
    assert len(_repository_writes(fake)) == writes
    assert len(fake.bodies) == blobs

    # Someone adds an item on the default branch; the next run updates the same request.
    fake.write_file(PATH, DOC + "- Page the payments on-call at 1% errors, owner: Sam Rivera\n")
    sync(settings, dry_run=False)
    assert list(fake.merge_requests) == [1]
    proposed = fake.files["pmsync/write-back"][PATH]
    assert proposed.count(LINK) == 4
    assert "Page the payments on-call" in proposed
    assert _repository_writes(fake)[writes:] == ["POST commits", "PUT merge request"]
    assert len(fake.bodies) == blobs + 1  # only the changed file was fetched


def test_the_source_reads_what_a_checkout_reads(world: tuple[FakeGitLab, Settings]) -> None:
    from syncer.pipeline import read_configured

    _, settings = world
    reading = read_configured(settings)
    (pm,) = reading.postmortems
    assert pm.ref.id == "2026-03-04-checkout.md"
    assert pm.ref.link == f"https://gitlab.test/acme/incidents/-/blob/main/{PATH}"
    assert [item.owner for item in pm.items] == ["Dana Kim", "Sam Rivera", "Dana Kim"]
