"""Extraction on shapes seen in post-mortems outside the corpus: each test states one general
form (a title is not a section, a lesson is not a commitment, a hedge is not an action, a
phrasal verb is a verb) with documents written for it, not copied from any organisation."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from connectors.extract import extract
from connectors.trackers.local import LocalTracker
from syncer.applier import apply
from syncer.cli import main
from syncer.model import Document, DocumentRef, Postmortem
from syncer.people import Directory
from syncer.planner import Target, plan
from syncer.settings import SyncSettings


def _extract(text: str, name: str = "pm.md") -> Postmortem:
    ref = DocumentRef("test", name, name)
    return extract(Document(ref, "pm", textwrap.dedent(text).lstrip("\n")))


def _titles(pm: Postmortem) -> list[str]:
    return [item.title for item in pm.items if not item.placeholder]


def _basis(pm: Postmortem) -> dict[str, str]:
    return {item.title: item.basis for item in pm.items}


# --- Precision ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title", ["Follow-up Actions outage of 3 May", "Remediation Service incident report"]
)
def test_a_document_title_with_an_action_word_is_not_an_action_section(title: str) -> None:
    pm = _extract(
        f"""
        # {title}

        We restarted the cluster and the service recovered.

        - The queue backed up at 10:02.
        - Paging reached the on-call engineer at 10:09.

        ## Action items

        - Add an alert on queue depth
        """
    )
    assert _titles(pm) == ["Add an alert on queue depth"]


@pytest.mark.parametrize("heading", ["Lessons learned", "Key takeaways", "Conclusion"])
def test_lessons_and_conclusions_are_not_commitments_when_actions_are_listed(heading: str) -> None:
    pm = _extract(
        f"""
        # Outage

        ## Action items

        - Add an alert on replication lag

        ## {heading}

        Replication lag must be watched from day one. There will be a new dashboard for it.
        A new runbook will be created for failovers.
        The on-call engineer needs to know where the dashboards are when paged.

        - Alerting should cover every replica.
        - We will add an alert on replication lag.
        """
    )
    assert _titles(pm) == ["Add an alert on replication lag"]


def test_future_descriptions_and_narrative_needs_in_recovery_are_not_items() -> None:
    pm = _extract(
        """
        # Outage

        ## Recovery

        In the new design there will be one queue per region. A new bucket will be created
        for every customer, and the scheduler will be able to move work between regions.

        The database needs to replay its log before it accepts writes, which took an hour.

        ## Action items

        - Document the replay time in the runbook
        """
    )
    assert _titles(pm) == ["Document the replay time in the runbook"]


def test_a_colon_sentence_opens_items_only_where_actions_belong() -> None:
    pm = _extract(
        """
        # Outage

        ## What went wrong

        Currently the only safe way to do this would be:

        - Loosen the loader in one change
        - Deploy it
        - Tighten the validation again

        ## What should you do?

        Our recommendations are to:

        1. Rotate your tokens
        2. Check your logs

        ## Action items

        - Version the configuration format
        """
    )
    assert _titles(pm) == ["Version the configuration format"]


def test_wrap_ups_and_hedged_musings_in_an_action_section_are_not_items() -> None:
    pm = _extract(
        """
        # Outage

        ## Next steps

        - Add a canary stage to the deploy
        - Page the owning team on checkout errors

        The changes outlined above will address both the immediate issue and the gaps.

        We could also think about moving the cache to its own cluster at some point.

        We should probably revisit how we size nodes.
        """
    )
    assert _titles(pm) == [
        "Add a canary stage to the deploy",
        "Page the owning team on checkout errors",
    ]


def test_a_template_with_square_bracket_placeholders_yields_nothing() -> None:
    pm = _extract(
        """
        > This is a template: copy it and fill in each section.

        # [Title]

        **Date:** [Date]
        **Authors:** [Names]

        ## Summary

        [Summary of the incident]

        ## Action items

        - List each action with an owner and a due date
        - Link every action to its ticket
        """
    )
    assert pm.template
    assert _titles(pm) == []


# --- Recall ---------------------------------------------------------------------------------


def test_a_bold_priority_label_is_the_priority_not_the_title() -> None:
    pm = _extract(
        """
        ## Action items

        - **HIGH** Include the region in every alert
        - **Low:** Tidy the dashboard folders
        - **P1** Rate-limit the export endpoint
        """
    )
    assert [(i.title, i.priority) for i in pm.items] == [
        ("Include the region in every alert", "High"),
        ("Tidy the dashboard folders", "Low"),
        ("Rate-limit the export endpoint", "P1"),
    ]


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        (
            "In the coming weeks we will add a limit on export size.",
            "we will add a limit on export size",
        ),
        (
            "Though the bug is fixed, we will add a regression test for it.",
            "we will add a regression test for it",
        ),
        (
            "We have already rotated the keys, and will continue to audit their use monthly.",
            "We have already rotated the keys, and will continue to audit their use monthly",
        ),
        (
            "Lastly, the platform team will review every cron job.",
            "the platform team will review every cron job",
        ),
    ],
)
def test_commitments_whose_promise_is_not_the_first_clause(sentence: str, title: str) -> None:
    pm = _extract(f"# Outage\n\nThe export ran out of memory.\n\n{sentence}\n")
    assert _titles(pm) == [title]
    assert pm.items[0].basis == "inferred"


@pytest.mark.parametrize(
    "heading",
    ["What is being done about this?", "What are we doing about it?", "What will we change?"],
)
def test_question_headings_that_ask_what_is_being_done_hold_actions(heading: str) -> None:
    pm = _extract(
        f"""
        # Outage

        ## {heading}

        - Add a circuit breaker to the payment client
        """
    )
    assert _titles(pm) == ["Add a circuit breaker to the payment client"]
    assert pm.items[0].basis == "explicit"


def test_sub_bullets_that_are_actions_by_form_are_items_of_their_own() -> None:
    pm = _extract(
        """
        ## Action items

        - Improve probe coverage
            - Reach out to teams about readiness probes
            - Turn the probe dashboard back on
            - Write a wiki page on liveness probes
        - Rotate the keys
            - the old keys are in the vault
            - rotation takes an hour
        """
    )
    assert _titles(pm) == [
        "Improve probe coverage",
        "Reach out to teams about readiness probes",
        "Turn the probe dashboard back on",
        "Write a wiki page on liveness probes",
        "Rotate the keys",
    ]


def test_imperative_lines_in_a_recovery_section_are_items_and_steps_taken_are_not() -> None:
    pm = _extract(
        """
        # Outage

        ## Resolution and recovery

        We took the following steps:

        - Restart the ingress pods
        - Flush the DNS cache

        Publish guidelines for channel admins
        File a feature request for default roles with the vendor
        """
    )
    assert _titles(pm) == [
        "Publish guidelines for channel admins",
        "File a feature request for default roles with the vendor",
    ]
    assert {i.basis for i in pm.items} == {"inferred"}


def test_action_bullets_beside_an_action_table_are_kept_and_definitions_are_not() -> None:
    pm = _extract(
        """
        ## Action items

        - **Prevent**: stops the incident from happening again
        - **Detect**: finds it sooner

        | Action item | Owner |
        |---|---|
        | Add a quota on builds | dana |

        - Schedule a game day for the failover
        """
    )
    assert _titles(pm) == ["Add a quota on builds", "Schedule a game day for the failover"]


def test_a_long_paragraph_item_is_titled_by_its_first_sentence() -> None:
    long_tail = " ".join(["It also needs a test plan and a rollout window."] * 9)
    pm = _extract(
        f"""
        ## Corrective actions

        A new decommissioning process will be created that removes the addresses from the proxy. {long_tail}
        """
    )
    assert _titles(pm) == [
        "A new decommissioning process will be created that removes the addresses from the proxy"
    ]
    assert pm.items[0].description.startswith("It also needs")


# --- Fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("InfraOps has placed an item on the roadmap to rotate keys", "InfraOps"),
        ("SRE did a review of every alert route", "SRE"),
        ("The error tracking team should monitor suspicious exceptions", "error tracking team"),
    ],
)
def test_a_team_as_the_subject_is_the_owner(text: str, owner: str) -> None:
    pm = _extract(f"## Action items\n\n- {text}\n")
    assert pm.items[0].owner == owner


def test_a_chat_role_mention_in_a_closing_bracket_is_not_the_owner() -> None:
    pm = _extract(
        """
        ## Action items

        - Add a runbook link to the alert (ping @oncall in #ops when done)
        - Tune the disk alert (cc @here)
        - Rotate the keys (@dana)
        """
    )
    assert [i.owner for i in pm.items] == [None, None, "@dana"]


def test_a_bracket_saying_what_was_done_is_the_status_and_leaves_the_title() -> None:
    pm = _extract(
        """
        ## Action items

        - Add a timeout to the client (added in v2.3)
        - Track the flaky test (filed https://github.com/acme/app/issues/7)
        - Document the failover (wrote the page on 3 May)
        """
    )
    assert [(i.title, i.status) for i in pm.items] == [
        ("Add a timeout to the client", "done"),
        ("Track the flaky test", "done"),
        ("Document the failover", "done"),
    ]
    assert pm.items[1].tickets == ("https://github.com/acme/app/issues/7",)


def test_a_link_around_the_action_text_is_its_ticket() -> None:
    pm = _extract(
        """
        ## Action items

        - [Add retries to the export client](https://tracker.example.com/work/4411)
        - Read [the guide](https://docs.example.com/guide) before the next deploy
        """
    )
    assert pm.items[0].title == "Add retries to the export client"
    assert pm.items[0].tickets == ("https://tracker.example.com/work/4411",)
    assert pm.items[1].tickets == ()


def test_a_bracketed_owner_and_date_tail_leaves_the_title_whole() -> None:
    pm = _extract(
        "## Action items\n\n- [ ] Move the renewal to automatic (@alex, due 2026-11-30)\n"
    )
    item = pm.items[0]
    assert (item.title, item.owner, item.due_text) == (
        "Move the renewal to automatic",
        "@alex",
        "2026-11-30",
    )


# --- Basis ----------------------------------------------------------------------------------


def test_every_item_says_whether_the_document_states_it_or_it_was_read_from_prose() -> None:
    pm = _extract(
        """
        # Outage

        ## Mitigation

        The team will add a second relay before the next release.

        ## Action items

        | Action | Owner |
        |---|---|
        | Add a relay health check | dana |

        - [ ] Page on relay lag
        - Write the relay runbook

        **Action item:** Review relay alerts.
        """
    )
    assert _basis(pm) == {
        "The team will add a second relay before the next release": "inferred",
        "Add a relay health check": "explicit",
        "Page on relay lag": "explicit",
        "Write the relay runbook": "explicit",
        "Review relay alerts": "explicit",
    }


def test_a_marked_line_is_not_an_item() -> None:
    pm = _extract(
        """
        # Outage

        We will add a limit on export size. <!-- pmsync: not-an-item -->

        <!-- pmsync: not-an-item -->
        We will move the cache to its own cluster.

        We will page the owning team on export errors.
        """
    )
    assert _titles(pm) == ["We will page the owning team on export errors"]


_PROSE_AND_LIST = """\
# Outage

We will add a limit on export size.

## Action items

- Page the owning team on export errors
"""


def test_extract_json_and_lint_say_which_items_were_read_from_prose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "pm.md"
    doc.write_text(_PROSE_AND_LIST.replace("## Action items", "## Mitigation"))
    assert main(["extract", str(doc), "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)["documents"][0]["items"]
    assert [(i["title"], i["basis"]) for i in items] == [
        ("Page the owning team on export errors", "inferred")
    ]
    main(["lint", str(doc), "--select", "PM305", "--format", "json"])
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["code"], finding["severity"], finding["line"]) == ("PM305", "info", 7)
    assert "not-an-item" in finding["message"]


def test_inferred_items_are_filed_only_when_the_team_says_so_and_filed_ones_are_kept(
    tmp_path: Path,
) -> None:
    pm = _extract(_PROSE_AND_LIST.replace("## Action items", "## Resolution"))
    pm = Postmortem(pm.id, pm.ref, pm.title, items=pm.items, route="t")
    assert {i.basis for i in pm.items} == {"inferred"}
    targets = {"t": Target("t", "local")}
    people = Directory.from_entries([])
    tracker = LocalTracker("t", tmp_path / "issues.sqlite")

    def ops(file_inferred: bool) -> list[str]:
        snapshot = {"t": tracker.snapshot()}
        settings = SyncSettings()
        result = plan([pm], snapshot, targets, people, {}, settings, file_inferred=file_inferred)
        apply(result, {"t": tracker})
        return [a.op for a in result.actions]

    assert ops(False) == ["skip"]
    assert ops(True) == ["create"]
    assert ops(False) == ["unchanged"]  # once filed, followed: never closed for the setting


def test_an_empty_entry_in_a_mixed_section_is_read_without_error() -> None:
    pm = _extract("## Mitigation\n\n-\n- Add a second relay\n")
    assert _titles(pm) == ["Add a second relay"]


def test_a_mark_before_a_heading_marks_nothing_under_it() -> None:
    pm = _extract(
        """
        # Outage

        <!-- pmsync: not-an-item -->

        ## Action items

        - Add a second relay
        """
    )
    assert _titles(pm) == ["Add a second relay"]
