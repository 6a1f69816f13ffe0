"""The Notion source on the fake Notion: to-do assignees and date mentions become owners and due
dates, page properties the front matter, requests are paced, and write-back links and ticks
items without overwriting a block someone edited meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.sources.notion import NotionOptions, NotionSource
from syncer.pipeline import sync
from syncer.reading import read_documents
from syncer.settings import Settings, load_settings
from tests.fakes.github import FakeGitHub
from tests.fakes.notion import DATABASE, FakeNotion
from tests.test_writeback import tracker_toml

DANA = "11111111-aaaa-bbbb-cccc-000000000001"
SAM = "11111111-aaaa-bbbb-cccc-000000000002"


def text(content: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": {"content": content}, "plain_text": content, **extra}


def person(user_id: str, email: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {"object": "user", "id": user_id}
    if email:
        user["person"] = {"email": email}
    return {"type": "mention", "mention": {"type": "user", "user": user}, "plain_text": "@x"}


def day(start: str) -> dict[str, Any]:
    return {
        "type": "mention",
        "mention": {"type": "date", "date": {"start": start}},
        "plain_text": start,
    }


def todo(checked: bool, *rich: dict[str, Any]) -> dict[str, Any]:
    return {"type": "to_do", "to_do": {"rich_text": list(rich), "checked": checked}}


def page(fake: FakeNotion) -> str:
    properties = {
        "Name": {"type": "title", "title": [text("Checkout latency")]},
        "Incident date": {"type": "date", "date": {"start": "2026-03-04"}},
        "Severity": {"type": "select", "select": {"name": "SEV2"}},
        "Team": {"type": "select", "select": {"name": "payments"}},
        "Owner": {"type": "people", "people": [{"object": "user", "id": SAM}]},
        "Status": {"type": "select", "select": {"name": "Published"}},
    }
    blocks = [
        {"type": "heading_2", "heading_2": {"rich_text": [text("Summary")]}},
        {"type": "paragraph", "paragraph": {"rich_text": [text("Checkout slowed for an hour.")]}},
        {
            "type": "callout",
            "callout": {
                "rich_text": [text("Customer impact: 4% of orders")],
                "icon": {"emoji": "⚠️"},
            },
        },
        {"type": "heading_2", "heading_2": {"rich_text": [text("Action items")]}},
        todo(
            False,
            text("Alert when the pool is above 90% for 5 minutes "),
            person(DANA, "dana@acme.test"),
            text(" "),
            day("2026-04-01"),
        ),
        todo(
            True,
            text("Load-test checkout at twice last year's peak "),
            person(SAM),
            day("2026-04-15"),
        ),
        {
            "type": "toggle",
            "toggle": {"rich_text": [text("Later")]},
            "children": [
                todo(False, text("Version the settings file "), person(DANA, "dana@acme.test")),
            ],
        },
    ]
    fake.users[SAM] = {
        "object": "user",
        "id": SAM,
        "name": "Sam Rivera",
        "person": {"email": "sam@acme.test"},
    }
    return fake.add_page(properties, blocks)


@pytest.fixture
def fake() -> Iterator[FakeNotion]:
    server = FakeNotion()
    with server.running():
        yield server


def _source(fake: FakeNotion, **options: Any) -> NotionSource:
    settings = {"requests_per_second": 0.0, "backoff": 0.0, **options}
    return NotionSource(
        "notion",
        NotionOptions(token=fake.token, database_id=DATABASE, base_url=fake.url, **settings),
    )


def test_to_do_assignees_and_date_mentions_become_owners_and_due_dates(fake: FakeNotion) -> None:
    page(fake)
    reading = read_documents([_source(fake, where={"Status": "Published"})])
    assert reading.problems == []
    (pm,) = reading.postmortems
    assert (pm.title, pm.incident_date, pm.severity, pm.team) == (
        "Checkout latency",
        date(2026, 3, 4),
        "SEV2",
        "payments",
    )
    assert pm.owner == "sam@acme.test"  # a people property, by e-mail (read from /users)
    assert [(i.title, i.owner, i.due, i.is_done) for i in pm.items] == [
        (
            "Alert when the pool is above 90% for 5 minutes",
            "dana@acme.test",
            date(2026, 4, 1),
            False,
        ),
        ("Load-test checkout at twice last year's peak", "sam@acme.test", date(2026, 4, 15), True),
        ("Version the settings file", "dana@acme.test", None, False),
    ]
    assert fake.count()["GET users"] == 1  # each person looked up once


def test_the_filter_keeps_only_the_pages_asked_for(fake: FakeNotion) -> None:
    page(fake)
    draft = page(fake)
    fake.pages[draft]["properties"]["Status"]["select"]["name"] = "Draft"
    refs = _source(fake, where={"Status": "Published"}).list()
    assert [ref.id for ref in refs] != [draft]
    assert len(refs) == 1


def test_requests_are_spaced_to_three_a_second(fake: FakeNotion) -> None:
    page(fake)
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))
        now[0] += seconds

    source = NotionSource(
        "notion",
        NotionOptions(token=fake.token, database_id=DATABASE, base_url=fake.url, backoff=0.0),
        sleep=sleep,
        clock=lambda: now[0],
    )
    read_documents([source])
    assert source.requests >= 4
    assert waits == [0.333] * (source.requests - 1)


@pytest.fixture
def synced(
    tmp_path: Path, fake: FakeNotion, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeNotion, FakeGitHub, Settings]]:
    page(fake)
    tracker = FakeGitHub(collaborators={"dana", "sam"})
    with tracker.running():
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        monkeypatch.setenv("NOTION_TOKEN", fake.token)
        (tmp_path / "people.toml").write_text(
            '[[people]]\nname = "Dana Kim"\nemail = "dana@acme.test"\ngithub = "dana"\n\n'
            '[[people]]\nname = "Sam Rivera"\nemail = "sam@acme.test"\ngithub = "sam"\n'
        )
        (tmp_path / "config.toml").write_text(
            'people_file = "people.toml"\n'
            f'[sources.notion]\nkind = "notion"\ndatabase_id = "{DATABASE}"\n'
            f'base_url = "{fake.url}"\nrequests_per_second = 0\nwrite_back = "links+status"\n'
            + tracker_toml(tracker)
        )
        yield fake, tracker, load_settings(tmp_path / "config.toml")


def _todos(fake: FakeNotion) -> list[dict[str, Any]]:
    return [b for p in fake.pages for b in fake.page_blocks(p) if b["type"] == "to_do"]


def test_write_back_links_each_item_and_ticks_what_was_completed(
    synced: tuple[FakeNotion, FakeGitHub, Settings],
) -> None:
    fake, tracker, settings = synced
    first = sync(settings, dry_run=False)
    assert not first.problems
    assert sorted(i["assignees"][0]["login"] for i in tracker.issues.values()) == ["dana", "dana"]
    for block in _todos(fake):
        runs = block["to_do"]["rich_text"]
        if block["to_do"]["checked"]:  # done before it was filed: no issue to link
            continue
        assert runs[-2]["href"].startswith("https://github.test/acme/incidents/issues/")
    # The second run reads the links as the items' tickets: nothing new, nothing written.
    before = [dict(b) for b in _todos(fake)]
    assert sync(settings, dry_run=False).counts()["created"] == 0
    assert [b["last_edited_time"] for b in _todos(fake)] == [b["last_edited_time"] for b in before]
    # An issue closed as completed ticks its to-do.
    tracker.issues[1].update(state="closed", state_reason="completed", updated_at=tracker.stamp())
    sync(settings, dry_run=False)
    assert _todos(fake)[0]["to_do"]["checked"] is True


def test_a_block_edited_after_it_was_read_is_left_as_the_person_wrote_it(
    synced: tuple[FakeNotion, FakeGitHub, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncer import writeback

    fake, _, settings = synced
    first = _todos(fake)[0]
    original = writeback.write

    def someone_edits_first(*args: object, **kwargs: object) -> writeback.WriteBack:
        fake.edit_text(first["id"], "Alert when the pool is above 80% for 5 minutes")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writeback, "write", someone_edits_first)
    run = sync(settings, dry_run=False)
    runs = fake.blocks[first["id"]]["to_do"]["rich_text"]
    assert [r["plain_text"] for r in runs] == ["Alert when the pool is above 80% for 5 minutes"]
    assert any("edited in Notion since pmsync read it" in p.message for p in run.problems)
    monkeypatch.setattr(writeback, "write", original)
    again = sync(settings, dry_run=False)  # the next run reads the edit and links it
    assert not [p for p in again.problems if "edited in Notion" in p.message]
    assert fake.blocks[first["id"]]["to_do"]["rich_text"][-2]["href"]


def test_the_pages_under_a_parent_page(fake: FakeNotion) -> None:
    page(fake)
    parent = "22222222-aaaa-bbbb-cccc-000000000009"
    fake.under(parent)
    source = NotionSource(
        "notion",
        NotionOptions(token=fake.token, page_id=parent, base_url=fake.url, requests_per_second=0),
    )
    (pm,) = read_documents([source]).postmortems
    assert pm.title == "Checkout latency"
    assert [i.owner for i in pm.items] == ["dana@acme.test", "sam@acme.test", "dana@acme.test"]


def test_an_edit_in_the_same_minute_as_the_read_is_kept_too(
    synced: tuple[FakeNotion, FakeGitHub, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notion keeps edit times to the minute: the block's text tells an edit apart as well."""
    from syncer import writeback
    from tests.fakes.notion import rich_text

    fake, _, settings = synced
    first = _todos(fake)[0]
    original = writeback.write

    def someone_edits_first(*args: object, **kwargs: object) -> writeback.WriteBack:
        first["to_do"]["rich_text"] = rich_text("Alert at 80% instead")  # same last_edited_time
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writeback, "write", someone_edits_first)
    run = sync(settings, dry_run=False)
    assert [r["plain_text"] for r in fake.blocks[first["id"]]["to_do"]["rich_text"]] == [
        "Alert at 80% instead"
    ]
    assert any("edited in Notion since pmsync read it" in p.message for p in run.problems)


def test_a_second_edit_within_the_minute_of_a_read_is_filed_by_the_next_sync(
    synced: tuple[FakeNotion, FakeGitHub, Settings],
) -> None:
    """Notion keeps edit times to the minute: a page edited at 10:00:15, read at 10:00:30 and
    edited again at 10:00:45 shows the same `last_edited_time` both times. The next sync
    reads it again and files the second edit."""
    fake, tracker, settings = synced
    fake.timed_edits = True
    at = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
    fake.clock = lambda: at
    sync(settings, dry_run=False, now=at)
    block = _todos(fake)[2]
    fake.clock = lambda: at + timedelta(seconds=15)
    fake.edit_text(block["id"], "Version the settings file and review it ")
    sync(settings, dry_run=False, now=at + timedelta(seconds=30))
    fake.clock = lambda: at + timedelta(seconds=45)
    fake.edit_text(block["id"], "Add a canary stage to the settings deploy ")
    first_stamp = fake.pages[next(iter(fake.pages))]["last_edited_time"]
    assert first_stamp == "2026-10-05T10:00:00.000Z"
    run = sync(settings, dry_run=False, now=at + timedelta(seconds=50))
    assert [o.action.op for o in run.outcomes].count("create") == 1
    titles = sorted(issue["title"] for issue in tracker.issues.values())
    assert "Add a canary stage to the settings deploy" in titles
    # Read after the minute has passed, the page is served from the state again.
    bodies = len(fake.bodies)
    sync(settings, dry_run=False, now=at + timedelta(minutes=5))
    sync(settings, dry_run=False, now=at + timedelta(minutes=6))
    assert len(fake.bodies) == bodies + 1


def test_a_page_edited_while_it_is_read_is_read_again(fake: FakeNotion) -> None:
    """A block edited after the page was listed: the page is read again, until two reads
    agree, and the document is the page as it stands."""
    page_id = page(fake)
    source = _source(fake)
    (ref,) = source.list()
    block = _todos(fake)[0]
    fake.edit_text(block["id"], "Alert when the pool is above 80% for 5 minutes ")
    document = source.fetch(ref)
    assert "above 80%" in document.text
    assert fake.bodies.count(page_id) == 2
    untouched = source.fetch(source.list()[0])
    assert untouched.text == document.text
    assert fake.bodies.count(page_id) == 3  # listed again after the edit: one read


def test_items_in_a_table_get_their_link_in_the_row(
    tmp_path: Path, fake: FakeNotion, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.notion import page_of_markdown

    properties, blocks = page_of_markdown(
        "---\ntitle: DNS failures\ndate: 2026-03-25\n---\n# DNS failures\n\n## Action items\n\n"
        "| Action | Owner | Due |\n|---|---|---|\n"
        "| Add a PodDisruptionBudget for CoreDNS | Dana Kim | 2026-04-01 |\n"
        "| Add a synthetic probe for five internal names | Sam Rivera | 2026-05-30 |\n"
    )
    fake.add_page(properties, blocks)
    tracker = FakeGitHub(collaborators={"dana", "sam"})
    with tracker.running():
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "t" * 36)
        (tmp_path / "people.toml").write_text(
            '[[people]]\nname = "Dana Kim"\ngithub = "dana"\n\n'
            '[[people]]\nname = "Sam Rivera"\ngithub = "sam"\n'
        )
        (tmp_path / "config.toml").write_text(
            'people_file = "people.toml"\n'
            f'[sources.notion]\nkind = "notion"\ndatabase_id = "{DATABASE}"\ntoken = "{fake.token}"\n'
            f'base_url = "{fake.url}"\nrequests_per_second = 0\nwrite_back = "links"\n'
            + tracker_toml(tracker)
        )
        settings = load_settings(tmp_path / "config.toml")
        assert not sync(settings, dry_run=False).problems
        rows = [b for p in fake.pages for b in fake.page_blocks(p) if b["type"] == "table_row"]
        header, *items = rows
        assert [r["plain_text"] for r in header["table_row"]["cells"][-1]] == ["Due"]
        for row in items:
            last = row["table_row"]["cells"][-1]
            assert last[-2]["href"].startswith("https://github.test/acme/incidents/issues/")
        again = sync(settings, dry_run=False)
        assert not again.problems
        assert again.counts()["created"] == 0
        assert len(tracker.issues) == 2
