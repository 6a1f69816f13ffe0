"""Items promised again across post-mortems: the similarity, the sync's links both ways (on
the stateful fake GitHub and the local tracker), the author's marking, and lint's PM601."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from connectors.extract import extract_file
from connectors.trackers.local import LocalTracker
from syncer import recurrence
from syncer.cli import main
from syncer.errors import ConfigError
from syncer.model import DocumentRef, IssueSnapshot, Postmortem
from syncer.pipeline import SyncRun, sync
from syncer.settings import load_settings
from tests import recurrence_score
from tests.fakes.github import FakeGitHub
from tests.pages import assert_reads_well, browser_session
from tests.test_document_life import PEOPLE

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 7, 10, 14, 0, tzinfo=UTC)
FIRST = """---
title: Replica lag took checkout down
date: 2026-03-02
team: data
services: [postgres, checkout]
---
# Replica lag took checkout down

## Action items

- Add an alert on replication lag. Owner: Dana Kim
- Document the failover procedure for the checkout database. Owner: Dana Kim
- Rotate the replication user's password every quarter. Owner: Sam Rivera
"""
SECOND = """---
title: Replica lag again
date: 2026-07-10
services: [postgres]
---
# Replica lag again

## Action items

- Alert when replication lag on the replicas grows. Owner: Sam Rivera
- Rotate the replication user's password every quarter. Owner: Sam Rivera
- Document the failover procedure for the search cluster. Owner: Sam Rivera
"""
REWORDED = "Alert when replication lag on the replicas grows"
SAME_WORDS = "Rotate the replication user's password every quarter"
LOOK_ALIKE = "Document the failover procedure for the search cluster"


# --- the similarity ---------------------------------------------------------------------------


def _score(a: str, b: str) -> float:
    ta, tb = recurrence.terms(a), recurrence.terms(b)
    return recurrence.similarity(ta, tb, recurrence.Rarity.of([ta, tb]))


def test_a_rewording_is_the_same_promise_and_another_object_is_not() -> None:
    assert _score("Add an alert on replication lag", REWORDED) >= recurrence.THRESHOLD
    assert _score("Add an alert on replication lag", "Add an alert on disk usage") < 0.3
    assert _score("Document the failover procedure for the checkout database", LOOK_ALIKE) < (
        recurrence.THRESHOLD
    )
    # Spellings and abbreviations meet; words every item has weigh nothing.
    assert recurrence.terms("Configure the DB certs") == recurrence.terms(
        "configuration of database certificate"
    )
    assert recurrence.terms("We should make sure to add it") == frozenset()


def test_held_out_pairs_keep_their_precision_and_recall() -> None:
    scored = [(pair, recurrence_score.score(pair)) for pair in recurrence_score.pairs()]
    held = [(p, s) for p, s in scored if p.held_out]
    tuning = [(p, s) for p, s in scored if not p.held_out]
    assert len(held) > 40
    assert len(tuning) > 40
    assert sum(p.same for p, _ in held) > 20  # both kinds in each half
    figures = recurrence_score.figures(held, recurrence.THRESHOLD)
    assert figures.precision >= 0.9, figures
    assert figures.recall >= 0.75, figures


def test_the_shipped_background_is_made_from_the_answer_key_as_terms_are_now() -> None:
    key = json.loads(recurrence_score.KEY.read_text())
    titles = [i["title"] for doc in key["documents"].values() for i in doc["items"]]
    counts: dict[str, int] = {}
    for title in titles:
        for term in recurrence.terms(title):
            counts[term] = counts.get(term, 0) + 1
    shipped = recurrence._background()
    assert shipped == (len(titles), counts), (
        "run: python -m tests.recurrence_score --write-background"
    )


def _pm(pm_id: str, day: date | None, *titles: str, topics: tuple[str, ...] = ()) -> Postmortem:
    from syncer.model import ActionItem

    items = tuple(
        ActionItem(key=f"{pm_id}-{n}", postmortem_id=pm_id, title=t, line=n + 1)
        for n, t in enumerate(titles)
    )
    ref = DocumentRef("docs", pm_id, f"/pm/{pm_id}.md")
    return Postmortem(pm_id, ref, pm_id, incident_date=day, items=items, topics=topics)


def test_only_an_earlier_post_mortem_within_the_window_is_repeated() -> None:
    a = _pm("a", date(2026, 1, 5), "Add an alert on replication lag")
    b = _pm("b", date(2026, 6, 1), "Alert on replication lag of the replicas")
    c = _pm("c", date(2027, 9, 1), "Add an alert on replication lag")
    undated = _pm("d", None, "Add an alert on replication lag")
    found = recurrence.repeats([a, b, c, undated], 0.6, timedelta(days=365))
    assert {(r.postmortem.id, r.earlier.id) for r in found} == {("b", "a")}
    # The closest earlier item wins when several are alike.
    longer = recurrence.repeats([a, b, c], 0.6, timedelta(days=10 * 365))
    assert {(r.postmortem.id, r.earlier.id) for r in longer} == {("b", "a"), ("c", "a")}


def test_an_items_own_incident_chores_are_never_repeats() -> None:
    a = _pm("a", date(2026, 1, 5), "Write an incident report")
    b = _pm("b", date(2026, 2, 5), "write the incident report", "Hold a retrospective")
    assert recurrence.repeats([a, b], 0.6, timedelta(days=365)) == []


def test_the_index_finds_what_comparing_every_pair_finds() -> None:
    rng = random.Random(7)
    words = [
        "alert",
        "replication",
        "lag",
        "disk",
        "cache",
        "build",
        "runbook",
        "failover",
        "queue",
        "retry",
        "pool",
    ]
    postmortems = [
        _pm(
            f"pm{n}",
            date(2026, 1, 1) + timedelta(days=n),
            *(" ".join(rng.sample(words, rng.randint(2, 4))) for _ in range(3)),
        )
        for n in range(40)
    ]
    found = recurrence.repeats(postmortems, 0.6, timedelta(days=365))
    entries = [(pm, item) for pm in postmortems for item in pm.items]
    rarity = recurrence.Rarity.of(recurrence.terms(i.title) for _, i in entries)
    expected = {}
    for pm, item in entries:
        mine = recurrence.terms(item.title)
        best = max(
            (
                (recurrence.similarity(mine, recurrence.terms(o.title), rarity), o.key)
                for opm, o in entries
                if opm.incident_date and pm.incident_date and opm.incident_date < pm.incident_date
            ),
            default=(0.0, ""),
        )
        if best[0] >= 0.6:
            expected[item.key] = best[0]
    assert {r.item.key: round(r.score, 9) for r in found} == {
        k: round(v, 9) for k, v in expected.items()
    }


def test_recurring_incidents_share_a_service_component_or_tag() -> None:
    a = _pm("a", date(2026, 1, 5), "x", topics=("postgres", "checkout"))
    b = _pm("b", date(2026, 3, 5), "y", topics=("postgres",))
    c = _pm("c", date(2026, 4, 5), "z", topics=("search",))
    found = recurrence.recurrences([a, b, c], timedelta(days=365))
    assert [(r.postmortem.id, r.earlier.id, r.shared) for r in found] == [("b", "a", ("postgres",))]


def test_front_matter_names_services_components_alerts_and_tags(tmp_path: Path) -> None:
    doc = tmp_path / "pm.md"
    doc.write_text(
        "---\nservices: [Postgres, checkout]\ncomponent: pgbouncer\nalerts: ReplicaLag\n"
        "tags: sev2, postgres\n---\n# X\n## Action items\n- Add a thing to the pool\n"
    )
    assert extract_file(doc).topics == ("postgres", "checkout", "pgbouncer", "replicalag", "sev2")


# --- the shared corpus ----------------------------------------------------------------------------


def test_no_pair_of_the_untouched_corpus_is_claimed() -> None:
    assert recurrence_score.corpus_claims(recurrence.THRESHOLD) == []


def test_repeats_added_to_a_copy_of_the_corpus_are_found(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(recurrence_score.HERE / "corpus" / "docs", docs)
    (docs / "zz-2030-01-01-again.md").write_text(
        "---\ntitle: It came back\ndate: 2030-01-01\n---\n# It came back\n\n## Action items\n\n"
        "- Alert before the TLS certificates expire\n"  # learningequality: SSL expiry alerting
        "- Fix the file descriptor leak in the search ranking subsystem\n"  # google-sre
        "- Autoscale CoreDNS with the number of nodes\n"  # dfds
        "- Buy more coffee for the office\n"
    )
    postmortems = [extract_file(p) for p in sorted(docs.iterdir()) if p.is_file()]
    found = recurrence.repeats(postmortems, recurrence.THRESHOLD, timedelta(days=100 * 365))
    claimed = {r.item.title: r.earlier_item.title for r in found}
    assert claimed == {
        "Alert before the TLS certificates expire": "Set up alerting to warn us of expiring SSL",
        "Fix the file descriptor leak in the search ranking subsystem": (
            "Plug file descriptor leak in search ranking subsystem"
        ),
        "Autoscale CoreDNS with the number of nodes": (
            "Scale coreDNS dynamically based on the number of nodes"
        ),
    }


# --- sync: on the fake GitHub and the local tracker ---------------------------------------------


@dataclass
class World:
    root: Path
    fake: FakeGitHub | None

    def sync(self, at: datetime) -> SyncRun:
        if self.fake is not None:
            self.fake.clock = lambda: at
        return sync(load_settings(self.root / "config.toml"), dry_run=False, now=at)

    def issues(self) -> list[IssueSnapshot]:
        settings = load_settings(self.root / "config.toml")
        if self.fake is None:
            store = settings.path(settings.state_dir) / "local-tracker.sqlite3"
            return list(LocalTracker("t", store, clock=lambda: T0).snapshot())
        from syncer.pipeline import build_trackers

        return list(build_trackers(settings)["t"].snapshot())

    def comments(self, snap: IssueSnapshot) -> list[str]:
        if self.fake is None:
            settings = load_settings(self.root / "config.toml")
            store = settings.path(settings.state_dir) / "local-tracker.sqlite3"
            tracker = LocalTracker("t", store, clock=lambda: T0)
            return [body for _, body in tracker.comments(snap.ref)]
        return [c["body"] for c in self.fake.comments[int(snap.ref.key.lstrip("#"))]]

    def writes(self) -> int:
        return self.fake.writes() if self.fake else 0

    def reset(self) -> None:
        if self.fake:
            self.fake.reset_counts()

    def file_both(self) -> IssueSnapshot:
        """The first post-mortem filed, then the one that repeats it; the earlier issue of
        the repeated item."""
        (self.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
        self.sync(T0)
        (self.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
        self.sync(LATER)
        return self.by_title()["Add an alert on replication lag"]

    def by_title(self) -> dict[str, IssueSnapshot]:
        """The open issues by title; the first filed where two share one."""
        found: dict[str, IssueSnapshot] = {}
        for snap in sorted(self.issues(), key=lambda s: int(s.ref.key.lstrip("#"))):
            if snap.state == "open":
                found.setdefault(snap.title, snap)
        return found


@pytest.fixture(params=["github", "local"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    (tmp_path / "pm").mkdir()
    (tmp_path / "people.toml").write_text(PEOPLE)
    config = (
        'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "pm"\n'
        '[routing]\ndefault = "t"\n'
    )
    if request.param == "local":
        (tmp_path / "config.toml").write_text(config + '[trackers.t]\nkind = "local"\n')
        yield World(tmp_path, None)
        return
    fake = FakeGitHub(collaborators={"dana", "sam"})
    with fake.running():
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "5ec" * 12)
        (tmp_path / "config.toml").write_text(
            config + f'[trackers.t]\nkind = "github"\nrepo = "acme/incidents"\n'
            f'base_url = "{fake.url}"\nwrite_interval_seconds = 0\n'
        )
        yield World(tmp_path, fake)


def _check_linked(world: World) -> None:
    issues = [snap for snap in world.issues() if snap.state == "open"]
    assert len(issues) == 6
    first = {s.title: s for s in issues if s.postmortem_id == "2026-03-02-replica.md"}
    pairs = {REWORDED: first["Add an alert on replication lag"], SAME_WORDS: first[SAME_WORDS]}
    second = [s for s in world.issues() if s.postmortem_id == "2026-07-10-again.md"]
    for snap in second:
        earlier = pairs.get(snap.title)
        if earlier is None:  # the look-alike: no link either way
            assert snap.title == LOOK_ALIKE
            assert "Promised before" not in snap.body
            continue
        assert f"| Promised before | {earlier.ref.key} {earlier.ref.url}" in snap.body
        notes = [c for c in world.comments(earlier) if "promised again" in c]
        assert len(notes) == 1
        assert snap.ref.url in notes[0]
        assert "Replica lag again" in notes[0]
    for title, snap in first.items():
        if snap not in pairs.values():
            assert not [c for c in world.comments(snap) if "promised again" in c], title


def test_two_repeats_are_linked_both_ways_once_and_the_look_alike_is_not(world: World) -> None:
    (world.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
    assert world.sync(T0).counts()["created"] == 3
    (world.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
    run = world.sync(LATER)
    assert run.counts()["created"] == 3
    assert run.counts()["updated"] == 0
    reasons = sorted(o.action.reason for o in run.outcomes if o.action.op == "create")
    assert sum("promised before as" in r for r in reasons) == 2
    _check_linked(world)
    world.reset()
    again = world.sync(LATER + timedelta(hours=1))
    assert again.counts()["created"] == again.counts()["updated"] == 0
    assert world.writes() == 0
    _check_linked(world)


def test_a_link_made_stays_when_the_earlier_promise_is_then_kept(world: World) -> None:
    from syncer.pipeline import build_trackers

    earlier = world.file_both()
    tracker = build_trackers(load_settings(world.root / "config.toml"))["t"]
    tracker.close(earlier.ref, "completed", "Done.")
    world.reset()
    run = world.sync(LATER + timedelta(hours=1))
    assert run.counts()["updated"] == 0
    assert world.writes() == 0
    assert (
        f"| Promised before | {earlier.ref.key} {earlier.ref.url}"
        in world.by_title()[REWORDED].body
    )


def test_repeats_filed_in_the_same_run_are_linked_in_that_run(world: World) -> None:
    (world.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
    (world.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
    run = world.sync(LATER)
    assert run.counts()["created"] == 6
    assert run.counts()["updated"] == 2
    _check_linked(world)
    world.reset()
    assert world.sync(LATER + timedelta(hours=1)).counts()["updated"] == 0
    assert world.writes() == 0


def test_an_item_marked_as_the_earlier_issue_files_nothing_and_notes_it_once(
    world: World,
) -> None:
    (world.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
    world.sync(T0)
    earlier = world.by_title()["Add an alert on replication lag"]
    link = earlier.ref.url if world.fake else earlier.ref.key  # a local store has no web page
    marked = SECOND.replace(f"- {REWORDED}.", f"- {REWORDED} (same as {link}).")
    (world.root / "pm" / "2026-07-10-again.md").write_text(marked)
    run = world.sync(LATER)
    assert run.counts()["created"] == 2  # the marked item has its issue already
    skipped = [(o.action.item, o.action.reason) for o in run.outcomes if o.action.op == "skip"]
    assert [(item.title if item else None, reason) for item, reason in skipped] == [
        (
            REWORDED,
            f"the same as {earlier.ref.key} (marked in the post-mortem): promised again, noted there",
        )
    ]
    notes = [c for c in world.comments(earlier) if "promised again" in c]
    assert len(notes) == 1
    assert "Replica lag again" in notes[0]
    assert "2026-07-10" in notes[0]
    # A run that lost its state reads the earlier issue's notes and writes nothing.
    state = world.root / ".pmsync" / "recurrence.json"
    state.unlink()
    world.reset()
    world.sync(LATER + timedelta(hours=1))
    assert world.writes() == 0
    assert len([c for c in world.comments(earlier) if "promised again" in c]) == 1


def test_an_issue_filed_before_its_item_was_marked_closes_as_a_duplicate(world: World) -> None:
    earlier = world.file_both()
    marked = SECOND.replace(f"- {REWORDED}.", f"- {REWORDED} (same as {earlier.ref.key}).")
    (world.root / "pm" / "2026-07-10-again.md").write_text(marked)
    run = world.sync(LATER + timedelta(days=1))
    closes = [o for o in run.outcomes if o.action.op == "close"]
    assert len(closes) == 1
    assert closes[0].action.close_reason == "duplicate"
    assert closes[0].action.keeper == earlier.ref
    assert [o.action.item.title for o in closes if o.action.item] == [REWORDED]
    assert REWORDED not in world.by_title()


def test_an_issue_marked_as_an_earlier_one_nobody_saw_as_a_repeat_closes_and_tells_it(
    world: World,
) -> None:
    """The look-alike was filed as an item of its own; its author then marks it as the same
    as an earlier issue: its issue closes as a duplicate, and the earlier issue is told once."""
    (world.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
    world.sync(T0)
    (world.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
    world.sync(LATER)
    earlier = world.by_title()["Document the failover procedure for the checkout database"]
    assert not [c for c in world.comments(earlier) if "promised again" in c]
    marked = SECOND.replace(f"- {LOOK_ALIKE}.", f"- {LOOK_ALIKE} (same as {earlier.ref.key}).")
    (world.root / "pm" / "2026-07-10-again.md").write_text(marked)
    run = world.sync(LATER + timedelta(days=1))
    assert [o.action.close_reason for o in run.outcomes if o.action.op == "close"] == ["duplicate"]
    assert LOOK_ALIKE not in world.by_title()
    notes = [c for c in world.comments(earlier) if "promised again" in c]
    assert len(notes) == 1
    assert "Replica lag again" in notes[0]


def test_recurrence_turned_off_links_nothing(world: World) -> None:
    config = world.root / "config.toml"
    config.write_text(config.read_text() + "[recurrence]\nenabled = false\n")
    (world.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
    world.sync(T0)
    (world.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
    world.sync(LATER)
    assert not any("Promised before" in snap.body for snap in world.issues())


def test_settings_say_what_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[recurrence]\nthreshold = 1.5\nwindow_days = 0\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    text = str(caught.value)
    assert "recurrence.threshold" in text
    assert "recurrence.window_days" in text


# --- lint ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["text", "json", "sarif"])
def test_lint_names_the_earlier_item_and_its_issue(
    world: World, form: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (world.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
    world.sync(T0)
    earlier = world.by_title()["Add an alert on replication lag"]
    (world.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
    monkeypatch.chdir(world.root)
    monkeypatch.setenv("PMSYNC_NOW", "2026-07-20T10:00:00+00:00")
    code = main(["lint", "pm/2026-07-10-again.md", "--select", "PM6", "--format", form])
    out = capsys.readouterr().out
    assert code == 0  # a note fails nothing
    expected = (
        "repeats 'Add an alert on replication lag' from 2026-03-02-replica.md (open, 140 days, "
        f"owner {earlier.assignees[0]}); its issue: {earlier.ref.key} {earlier.ref.url}"
    )
    if form == "text":
        assert f"pm/2026-07-10-again.md:10: info PM601 {expected}" in out
        assert out.count("PM601") == 2  # the reworded item and the same words; not the look-alike
    elif form == "json":
        found = json.loads(out)["findings"]
        assert [f["line"] for f in found] == [10, 11]
        assert found[0]["code"] == "PM601"
        assert found[0]["message"].startswith(expected)
    else:
        run = json.loads(out)["runs"][0]
        assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["PM601"]
        assert run["results"][0]["level"] == "note"
        assert run["results"][0]["message"]["text"].startswith(expected)


def test_lint_without_a_sync_names_the_earlier_item_as_not_filed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_text(FIRST)
    quiet = SECOND.replace("- Rotate", "<!-- pmsync: ignore PM601 -->\n- Rotate")
    (tmp_path / "b.md").write_text(quiet)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PMSYNC_NOW", "2026-07-20T10:00:00+00:00")
    assert main(["lint", ".", "--select", "PM601"]) == 0
    out = capsys.readouterr().out
    assert out.count("PM601") == 1  # the other is suppressed in the document
    assert "(open, 140 days, owner Dana Kim); not filed yet" in out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from browser_session()


# --- the report and the digest ------------------------------------------------------------------

THIRD = """---
title: Checkout timeouts
date: 2026-08-01
components: [checkout]
---
# Checkout timeouts

## Action items

- Raise the checkout pool size to 80. Owner: Sam Rivera
"""


def _learned(world: World) -> None:
    """Three post-mortems: the second repeats two items of the first and names its service;
    the third names the first's other service; then one of the first's repeated items is
    done."""
    (world.root / "pm" / "2026-03-02-replica.md").write_text(FIRST)
    world.sync(T0)
    (world.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
    (world.root / "pm" / "2026-08-01-checkout.md").write_text(THIRD)
    world.sync(LATER)


def test_the_report_lists_promised_before_and_recurred_with_open_items(
    world: World, browser: Browser
) -> None:
    from syncer.report import collect, figures, render

    _learned(world)
    now = datetime(2026, 8, 11, 9, 0, tzinfo=UTC)
    report = collect(load_settings(world.root / "config.toml"), now=now)
    data = figures(report)
    promised = data["promised_before"]
    assert sorted(p["item"] for p in promised) == [REWORDED, SAME_WORDS]
    assert {p["earlier_postmortem"] for p in promised} == {"2026-03-02-replica.md"}
    assert {p["open_days"] for p in promised} == {(date(2026, 8, 11) - date(2026, 3, 2)).days}
    assert {p["earlier_status"] for p in promised} == {"open"}
    assert data["promised_before_by_team"] == {"data": 2}
    recurred = {(r["postmortem"], r["earlier_postmortem"]) for r in data["recurred"]}
    assert recurred == {
        ("2026-07-10-again.md", "2026-03-02-replica.md"),
        ("2026-08-01-checkout.md", "2026-03-02-replica.md"),
    }
    assert {r["open_items"] for r in data["recurred"]} == {3}
    page = world.root / "report.html"
    page.write_text(render(report, data))
    text = page.read_text()
    assert "recurred with 3 items open from 2026-03-02-replica.md: postgres" in text
    assert '<table id="promised" class="cards">' in text
    assert_reads_well(browser, page)


def test_the_digest_lists_promised_before_and_recurred_with_open_items(world: World) -> None:
    from syncer.digest import digest

    config = world.root / "config.toml"
    config.write_text(config.read_text() + '[digest.lists.lead]\nchannels = ["file://out"]\n')
    _learned(world)
    run = digest(load_settings(config), now=datetime(2026, 8, 11, 9, 0, tzinfo=UTC), dry_run=False)
    assert [d.status for d in run.deliveries] == ["sent"]
    [text] = list((world.root / "out").glob("lead-*.txt"))
    body = text.read_text()
    assert "PROMISED BEFORE (2; by team: data 2)" in body
    assert (
        f"  - {REWORDED!r} in 2026-07-10-again.md was promised before in "
        "2026-03-02-replica.md (" in body
    )
    assert "open for 162 days" in body
    assert "RECURRED WITH OPEN ITEMS (2)" in body
    assert (
        "  - Replica lag again (2026-07-10-again.md) recurred with 3 items open from "
        "2026-03-02-replica.md: postgres" in body
    )
    html_page = next((world.root / "out").glob("lead-*.html")).read_text()
    assert "<h3>Promised before (2; by team: data 2)</h3>" in html_page


def test_a_promise_kept_before_it_was_made_again_is_not_listed(world: World) -> None:
    from syncer.report import collect, figures

    (world.root / "pm" / "2026-03-02-replica.md").write_text(
        FIRST.replace(
            "- Add an alert on replication lag.", "- [x] Add an alert on replication lag."
        )
    )
    world.sync(T0)
    (world.root / "pm" / "2026-07-10-again.md").write_text(SECOND)
    world.sync(LATER)
    data = figures(collect(load_settings(world.root / "config.toml"), now=LATER))
    assert [p["item"] for p in data["promised_before"]] == [SAME_WORDS]
