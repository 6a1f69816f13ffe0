"""Extraction from Markdown post-mortems: the shapes and fields of issue 2's first version."""

import textwrap
from datetime import date

import pytest

from connectors.extract import extract
from syncer.errors import DocumentError
from syncer.model import ActionItem, Document, DocumentRef, Postmortem


def _extract(text: str, doc_id: str = "pm.md") -> Postmortem:
    ref = DocumentRef("test", doc_id, f"docs/{doc_id}")
    return extract(Document(ref, "pm", textwrap.dedent(text).lstrip("\n")))


def _titles(pm: Postmortem) -> list[str]:
    return [item.title for item in pm.items]


def test_front_matter_gives_identity_and_metadata() -> None:
    pm = _extract(
        """
        ---
        id: PM-7
        title: Checkout latency
        date: 2026-03-04
        severity: SEV2
        team: payments
        facilitator: Lee Park
        tracker: jira
        ---
        # Something else

        ## Action items
        - Add alerting on pool use. Owner: Dana
        """
    )
    assert (pm.id, pm.title, pm.incident_date) == ("PM-7", "Checkout latency", date(2026, 3, 4))
    assert (pm.severity, pm.team, pm.facilitator, pm.route) == (
        "SEV2",
        "payments",
        "Lee Park",
        "jira",
    )
    assert pm.items[0].postmortem_id == "PM-7"
    assert pm.items[0].line == 13


def test_without_front_matter_the_path_and_heading_identify_it() -> None:
    pm = _extract("# 2025-08-12 outage\n\n## Action Items\n\n- Fix the thing @dana\n", "a/b.md")
    assert (pm.id, pm.title, pm.incident_date) == ("a/b.md", "2025-08-12 outage", date(2025, 8, 12))


def test_table_columns_are_found_by_header_synonyms() -> None:
    pm = _extract(
        """
        ---
        date: 2026-03-04
        ---
        ## Action Items

        | **Action Item** | Who | Deadline | Prio | Type (Mitigate/Prevent) | Bug # | State |
        |---|---|---|---|---|---|---|
        | Version the settings file | Dana Kim | 2026-04-15 | P1 | Prevent | [PAY-1](https://t.test/PAY-1) | open |
        | Alert on pool use \\| saturation | @sam | March 31 | high | detect | | Done |
        |  |  |  |  |  |  |  |
        """
    )
    first, second = pm.items
    assert first == ActionItem(
        key=first.key,
        postmortem_id="pm.md",
        title="Version the settings file",
        owner="Dana Kim",
        due=date(2026, 4, 15),
        due_text="2026-04-15",
        priority="P1",
        kind="prevent",
        status="open",
        tickets=("https://t.test/PAY-1",),
        line=8,
    )
    assert second.title == "Alert on pool use | saturation"
    assert (second.owner, second.due, second.priority, second.status) == (
        "@sam",
        date(2026, 3, 31),
        "High",
        "Done",
    )
    assert second.is_done


def test_an_id_column_makes_the_key_survive_retitling() -> None:
    before = _extract("## Actions\n\n| ID | Action |\n|---|---|\n| AI-1 | Old words |\n")
    after = _extract("## Actions\n\n| ID | Action |\n|---|---|\n| AI-1 | New words |\n")
    assert before.items[0].key == after.items[0].key


def test_lists_with_inline_fields_and_task_boxes() -> None:
    pm = _extract(
        """
        ---
        date: 2026-05-19
        ---
        ## Follow-up actions

        - [ ] Add a PodDisruptionBudget. Owner: Lee Park. Due: 2026-06-05
        - [x] Document the upgrade procedure (owner: Priya, due: in 2 weeks)
        1. Scale CoreDNS with node count @sam, due end of Q2
        """
    )
    assert [(i.title, i.owner, i.due, i.status) for i in pm.items] == [
        ("Add a PodDisruptionBudget", "Lee Park", date(2026, 6, 5), "open"),
        ("Document the upgrade procedure", "Priya", date(2026, 6, 2), "done"),
        ("Scale CoreDNS with node count", "@sam", date(2026, 6, 30), None),
    ]


def test_a_due_date_not_understood_is_kept_as_text_without_a_date() -> None:
    (item,) = _extract("## Action items\n\n- Add a probe. Owner: Dana. Due: next sprint\n").items
    assert (item.due, item.due_text) == (None, "next sprint")


def test_only_action_sections_count() -> None:
    pm = _extract(
        """
        ## Timeline
        - 10:02 @sam is paged. Owner: nobody
        ## Follow-up timeline
        - 11:00 Restart the pods
        ## Action Items
        - Add retries to the client
        ### Long-term
        - Replace the queue
        ## Lessons learned
        - Be careful
        """
    )
    assert _titles(pm) == ["Add retries to the client", "Replace the queue"]
    assert pm.items[1].kind == "Long-term"


def test_setext_and_bold_pseudo_headings_open_sections() -> None:
    setext = _extract("Remediation\n-----------\n\n1. Add a canary\n\nOther\n-----\n\n1. No\n")
    bold = _extract("**Action Items:**\n\n- Add a canary\n\n**Timeline**\n\n- No\n")
    assert _titles(setext) == ["Add a canary"]
    assert _titles(bold) == ["Add a canary"]


def test_bold_list_labels_open_sections() -> None:
    pm = _extract(
        """
        - **Resolution**:
          - Restarted the controller
        - **Review actions**:
          - Monitor the certificate expiry. Ticket [#3044](https://gh.test/3044)
        """
    )
    assert _titles(pm) == ["Monitor the certificate expiry"]
    assert pm.items[0].tickets == ("https://gh.test/3044",)


def test_nested_lists_are_detail_of_their_item() -> None:
    pm = _extract("## Action items\n\n1. Add a canary\n   - in every region\n   - paging\n")
    (item,) = pm.items
    assert item.title == "Add a canary"
    assert item.description == "- in every region\n- paging"


def test_a_template_yields_no_real_items() -> None:
    pm = _extract(
        """
        ## Action items
        ### Process improvements
        1. {{ summary }} [link to github issue]
        ### Technical improvements
        - -
        """
    )
    assert pm.template
    assert all(item.placeholder for item in pm.items)


def test_an_empty_action_section_is_a_template_and_a_missing_one_is_not() -> None:
    assert _extract("# T\n\n## Action Items\n\n## Timeline\n").template
    no_section = _extract("# T\n\nJust prose.\n")
    assert not no_section.template
    assert not no_section.has_action_section


def test_a_placeholder_row_in_a_real_document_is_marked() -> None:
    pm = _extract("## Action items\n\n- Add a canary @dana\n- TBD\n")
    assert not pm.template
    assert [item.placeholder for item in pm.items] == [False, True]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: [unclosed\n---\n# x\n", "front matter is not valid YAML"),
        ("---\n- a list\n---\n# x\n", "front matter is not a mapping"),
        ("# x\0binary", "binary data"),
    ],
)
def test_unreadable_documents_raise_an_error_naming_them(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message) as caught:
        extract(Document(DocumentRef("t", "bad.md", "docs/bad.md"), "bad", text))
    assert str(caught.value).startswith("docs/bad.md")


@pytest.mark.parametrize("opener", ["> ", "- ", "1. "])
def test_ten_thousand_levels_of_nesting_do_not_crash(opener: str) -> None:
    pm = _extract("## Action items\n\n- Add a canary\n\n" + opener * 10_000 + "deep\n")
    assert pm.items[0].title == "Add a canary"


def test_a_task_list_beside_an_action_table_is_read_too() -> None:
    pm = _extract(
        "# Outage\n\n## Action items\n\n| Action | Owner |\n|---|---|\n| Add a probe | Bob |\n\n"
        "- Probe: a synthetic check\n- [ ] Share the results (owner: bob) Due: 2026-10-09\n"
    )
    assert _titles(pm) == ["Add a probe", "Share the results"]


def test_a_first_heading_that_names_the_action_section_is_that_section_not_the_title() -> None:
    pm = _extract("# Action items\n\n- Add an alert on replication lag above 30 s\n", "dns.md")
    assert pm.title == "pm"  # the document's own name, not "Action items"
    assert [item.title for item in pm.items] == ["Add an alert on replication lag above 30 s"]
    pm = _extract("# Follow-up actions for the DNS outage\n\n## Action items\n\n- Add a probe\n")
    assert pm.title == "Follow-up actions for the DNS outage"
