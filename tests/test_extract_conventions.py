"""Hand-written documents in the conventions real teams use: every field must come out right.

These are not copies of the corpus; each states one convention seen in real post-mortems.
"""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from connectors.extract import ExtractOptions, extract
from rules import check, select_rules
from syncer.model import Document, DocumentRef, Postmortem, normalise_status


def _extract(text: str, *, day_first: bool = False) -> Postmortem:
    ref = DocumentRef("t", "pm.md", "pm.md")
    document = Document(ref, "pm", textwrap.dedent(text).lstrip("\n"))
    return extract(document, ExtractOptions(day_first=day_first))


INLINE_FORMS = """
---
date: 2026-03-04
---
# Cache stampede

## Action items

- [ ] Add request coalescing to the cache client. Owner: Dana Kim. Due: 2026-04-15
- [ ] Alert on cache hit ratio below 80% (owner: @sam, due: 5 March 2026)
- [ ] Load-test the cache tier. Assignee: Lee Park. Deadline: March 20
- [ ] Document the stampede runbook — DRI: priya — ETA: 2026/04/01
- [ ] Shard the hot keys by tenant @dana by 30 April 2026
- [ ] Review cache TTLs with the product teams (Who: Sam) Due: Q2 2026
- [ ] Retire the old cache cluster. Owner: Lee. Due: end of Q3
- [ ] Add a cache dashboard to the on-call handbook. Owner: Dana. Due: EOW
- [ ] Publish the capacity model. Owner: Dana. Due: EOM
- [ ] Rehearse a cache failover. Owner: Lee. Due: in 2 weeks
- [ ] Tune eviction settings. Owner: Sam. Due: 04/03/2026
- [ ] Freeze cache schema changes until 2026-05-01. Owner: Lee
- [ ] Share findings with partner teams. Owner: Priya. Due: next sprint
- [ ] Pick a cache library — Team Platform
"""


@pytest.mark.parametrize(
    ("index", "title", "owner", "due", "due_text"),
    [
        (
            0,
            "Add request coalescing to the cache client",
            "Dana Kim",
            date(2026, 4, 15),
            "2026-04-15",
        ),
        (1, "Alert on cache hit ratio below 80%", "@sam", date(2026, 3, 5), "5 March 2026"),
        (2, "Load-test the cache tier", "Lee Park", date(2026, 3, 20), "March 20"),
        (3, "Document the stampede runbook", "priya", date(2026, 4, 1), "2026/04/01"),
        (4, "Shard the hot keys by tenant", "@dana", date(2026, 4, 30), "30 April 2026"),
        (5, "Review cache TTLs with the product teams", "Sam", date(2026, 6, 30), "Q2 2026"),
        (6, "Retire the old cache cluster", "Lee", date(2026, 9, 30), "end of Q3"),
        (7, "Add a cache dashboard to the on-call handbook", "Dana", date(2026, 3, 6), "EOW"),
        (8, "Publish the capacity model", "Dana", date(2026, 3, 31), "EOM"),
        (9, "Rehearse a cache failover", "Lee", date(2026, 3, 18), "in 2 weeks"),
        (10, "Tune eviction settings", "Sam", date(2026, 4, 3), "04/03/2026"),
        (11, "Freeze cache schema changes until 2026-05-01", "Lee", None, None),
        (12, "Share findings with partner teams", "Priya", None, "next sprint"),
        (13, "Pick a cache library", "Team Platform", None, None),
    ],
)
def test_inline_owners_and_every_due_date_form(
    index: int, title: str, owner: str, due: date | None, due_text: str | None
) -> None:
    item = _extract(INLINE_FORMS).items[index]
    assert (item.title, item.owner, item.due, item.due_text) == (title, owner, due, due_text)
    assert item.status == "open"


def test_numeric_dates_follow_the_configured_order() -> None:
    items = _extract(INLINE_FORMS, day_first=True).items
    assert items[10].due == date(2026, 3, 4)


def test_a_due_date_not_understood_is_kept_and_flagged() -> None:
    pm = _extract(INLINE_FORMS)
    findings = [(f.code, f.line) for f in check(pm, select_rules()) if f.code == "PM202"]
    assert findings == [(pm.items[12].line, "PM202")[::-1]]
    assert pm.items[12].due_text == "next sprint"


def test_status_written_on_sub_headings_and_in_words() -> None:
    pm = _extract(
        """
        ## Remediation
        ### Completed
        - Raised the worker memory limit
        ### In progress
        - Batch the cache rebuild (issue created)
        - Split the queue per tenant. This is a work in progress.
        ### Later (Q1 2027)
        - Move the cache to its own cluster
        - ~~Rewrite the worker in Rust~~
        - Add a canary for cache builds, done in [PR #81](https://gh.test/acme/x/pull/81)
        """
    )
    got = [(i.title, normalise_status(i.status), i.due_text) for i in pm.items]
    assert got == [
        ("Raised the worker memory limit", "done", None),
        ("Batch the cache rebuild", "open", None),
        ("Split the queue per tenant. This is a work in progress", "open", None),
        ("Move the cache to its own cluster", None, "Q1 2027"),
        ("Rewrite the worker in Rust", "done", "Q1 2027"),
        ("Add a canary for cache builds, done in PR #81", "done", "Q1 2027"),
    ]
    assert pm.items[5].tickets == ("https://gh.test/acme/x/pull/81",)


def test_sub_headings_nest_and_pass_down_their_ticket() -> None:
    pm = _extract(
        """
        ## Remediation
        ### Short-term ([tracked in #40](https://gh.test/acme/x/issues/40))

        **In progress (next 2 weeks):**

        - **Isolate Redis**: give the flags service its own instance

        **Before re-enabling sync:**

        - Align the chart values with production
        """
    )
    first, second = pm.items
    assert (first.title, first.status, first.due_text) == (
        "Isolate Redis",
        "In progress",
        "next 2 weeks",
    )
    assert first.description == "give the flags service its own instance"
    assert first.kind == "Short-term"
    assert first.tickets == second.tickets == ("https://gh.test/acme/x/issues/40",)
    assert second.status is None


def test_a_table_explains_only_its_own_sub_section() -> None:
    pm = _extract(
        """
        ## Action items
        Types we use:
        * Prevent - stop it happening again
        * Detect - notice sooner

        | Action | Type | Owner |
        |---|---|---|
        | Add a schema check to CI | Prevent | Dana |

        ## Remediation
        ### Completed
        - Cleaned up the stale test data
        ### In progress
        | Follow-up | Priority | Status |
        |---|---|---|
        | Alert on queue backlog | 🔴 High | 🔄 In Progress |
        | Deduplicate cache tasks | Medium | ⏳ Pending |
        """
    )
    got = [(i.title, i.priority, i.status) for i in pm.items]
    assert got == [
        ("Add a schema check to CI", None, None),
        ("Cleaned up the stale test data", None, "Completed"),
        ("Alert on queue backlog", "High", "In Progress"),
        ("Deduplicate cache tasks", "Medium", "Pending"),
    ]


@pytest.mark.parametrize(
    ("header", "cell", "owner"),
    [
        ("Owner", "TBD", None),
        ("Owner", "Unassigned", None),
        ("Owner", "[owner]", None),
        ("Who", "Dana Kim", "Dana Kim"),
        ("DRI", "@dana", "@dana"),
        ("Assignee", "CISO / PCI Program Manager", "CISO / PCI Program Manager"),
    ],
)
def test_owner_columns_and_their_stand_ins(header: str, cell: str, owner: str | None) -> None:
    pm = _extract(
        f"## Action items\n\n| Action item | {header} |\n|---|---|\n| Add a canary | {cell} |\n"
    )
    assert pm.items[0].owner == owner


def test_table_headers_with_alternatives_and_numbers() -> None:
    pm = _extract(
        """
        ## Next steps
        | # | Action Item | Owner | Due Date / Timing | Bug # |
        |---|---|---|---|---|
        | 1 | Publish the API docs | Dana | Week 1 | [PAY-9](https://jira.test/browse/PAY-9) |
        """
    )
    (item,) = pm.items
    assert (item.title, item.owner, item.due_text, item.tickets) == (
        "Publish the API docs",
        "Dana",
        "Week 1",
        ("https://jira.test/browse/PAY-9",),
    )


def test_parenthetical_owners_and_ticket_only_items() -> None:
    pm = _extract(
        """
        ## Follow-up improvements
        - Discuss GitOps for cluster workloads (Rasmus call for meeting)
        - Review the module layout (Willi to follow up)
        - Monitor Kubernetes only (Kubernetes nodes)
        - #2127
        - acme/infra#12
        """
    )
    assert [(i.title, i.owner, i.placeholder) for i in pm.items] == [
        ("Discuss GitOps for cluster workloads (Rasmus call for meeting)", "Rasmus", False),
        ("Review the module layout (Willi to follow up)", "Willi", False),
        ("Monitor Kubernetes only (Kubernetes nodes)", None, False),
        ("#2127", None, False),
        ("acme/infra#12", None, False),
    ]


def test_a_template_with_single_brace_stand_ins_yields_nothing() -> None:
    pm = _extract(
        """
        # {title}
        ## Summary
        {one_paragraph_overview}
        ## Corrective Actions
        | Category | Action | Owner | Due Date |
        | --- | --- | --- | --- |
        | Immediate | {action} | {name} | {date} |
        ## Follow-up
        - [ ] Retrospective scheduled (date {date})
        - [ ] Stakeholders notified
        """
    )
    assert pm.template
    assert all(item.placeholder for item in pm.items)


def test_timelines_and_attendees_are_never_items_or_owners() -> None:
    pm = _extract(
        """
        **Owners:** Jacob Beacham (@pipejakob)

        ## Timeline
        - 10:02 @sam restarts the pods. Owner: Sam
        ## Attendees
        - Dana Kim
        ## Action items
        - Add a readiness probe to the ingress
        """
    )
    assert [(i.title, i.owner) for i in pm.items] == [
        ("Add a readiness probe to the ingress", None)
    ]


def test_multi_paragraph_items_find_tickets_in_later_paragraphs_and_reference_links() -> None:
    pm = _extract(
        """
        ## Action items
        1. Add launch metrics for in-progress builds.

           They only record on completion. See [the issue][metrics].

           ![chart](https://img.test/chart.png)
        2. Quota pending pods
           so that they fail informatively ([issue](https://gh.test/acme/x/issues/7))

        [metrics]: https://gh.test/acme/x/issues/5
        """
    )
    first, second = pm.items
    assert first.tickets == ("https://gh.test/acme/x/issues/5",)
    assert second.tickets == ("https://gh.test/acme/x/issues/7",)
    # A closing link to the issue says where it is tracked; it is not part of the action.
    assert second.title == "Quota pending pods so that they fail informatively"


def test_paragraphs_alone_under_action_sub_headings_are_items() -> None:
    pm = _extract(
        """
        ## Action items

        Each team owns the items below.

        ### Builds

        Limit memory available to build pods. (https://gh.test/acme/r2d/pull/159)

        ### Hub

        Keep user pods when the hub restarts.

        ### Process

        We discussed these:

        1. Nominate one driver per incident.
        2. Alert on 4xx responses from the hub.

        ### Comms

        No action items.
        """
    )
    assert [(i.title, i.tickets) for i in pm.items] == [
        ("Limit memory available to build pods", ("https://gh.test/acme/r2d/pull/159",)),
        ("Keep user pods when the hub restarts", ()),
        ("Nominate one driver per incident", ()),
        ("Alert on 4xx responses from the hub", ()),
    ]


def test_prose_beside_a_list_or_table_is_not_an_item() -> None:
    pm = _extract(
        """
        ## Action items

        Actions should address the lessons above; every type needs at least one item.

        - Add a canary
        """
    )
    assert [i.title for i in pm.items] == ["Add a canary"]


@pytest.mark.parametrize(
    "line",
    [
        "Uptime and alerting issue: https://gh.test/acme/x/issues/611",
        "Uptime and alerting issue (https://gh.test/acme/x/issues/611)",
        "Uptime and alerting issue — https://gh.test/acme/x/issues/611",
        "Uptime and alerting issue (see https://gh.test/acme/x/issues/611).",
        "Uptime and alerting issue (same as https://gh.test/acme/x/issues/611)",
        "Uptime and alerting issue (duplicate of https://gh.test/acme/x/issues/611).",
    ],
)
def test_a_trailing_ticket_url_is_the_ticket_not_part_of_the_title(line: str) -> None:
    (item,) = _extract(f"## Action items\n\n1. {line}\n").items
    assert (item.title, item.tickets) == (
        "Uptime and alerting issue",
        ("https://gh.test/acme/x/issues/611",),
    )


@pytest.mark.parametrize(
    ("line", "ticket"),
    [
        ("Add an alert on replication lag (same as #12)", "#12"),
        ("Add an alert on replication lag (see OPS-12).", "OPS-12"),
        ("Add an alert on replication lag (duplicate of OPS-12)", "OPS-12"),
    ],
)
def test_a_bracket_naming_the_issue_an_item_repeats_is_no_part_of_its_title(
    line: str, ticket: str
) -> None:
    """How an author marks an item as the same promise as an earlier issue."""
    (item,) = _extract(f"## Action items\n\n- {line}\n").items
    assert (item.title, item.tickets) == ("Add an alert on replication lag", (ticket,))


def test_a_trailing_link_to_docs_stays_in_the_title() -> None:
    (item,) = _extract("## Action items\n\n- Follow the guide at https://docs.test/guide\n").items
    assert (item.title, item.tickets) == ("Follow the guide at https://docs.test/guide", ())


def test_checklists_timelines_and_criteria_inside_an_action_section_are_not_items() -> None:
    pm = _extract(
        """
        ## Follow-up
        ### Actions
        - Add a canary for the ingress
        ### Steps to close this review
        - [ ] All items have owners
        - [ ] Review meeting held
        ### Exit criteria
        - Error rate below 0.1% for a week
        ### Follow-up timeline
        - 10:00 Dana restarts the pods
        """
    )
    assert [i.title for i in pm.items] == ["Add a canary for the ingress"]


def test_sub_headings_that_name_kinds_of_work_stay_groups() -> None:
    pm = _extract(
        "## Action items\n### Detection\n- Page on 5xx above 1%\n### Summary of fixes\n- Pin the chart\n"
    )
    assert [(i.title, i.kind) for i in pm.items] == [
        ("Page on 5xx above 1%", "detect"),
        ("Pin the chart", "Summary of fixes"),
    ]


def test_a_snooze_on_the_item_pauses_follow_up_until_its_day() -> None:
    pm = _extract("## Action items\n\n- Rotate the keys. Owner: Dana (snooze: 2026-06-01)\n")
    (item,) = pm.items
    assert (item.title, item.owner, item.snooze) == ("Rotate the keys", "Dana", date(2026, 6, 1))


def test_a_review_action_written_beside_its_label_is_an_item() -> None:
    pm = _extract(
        """
        - **Resolution**:
          * Rolled back the ingress controller
        - **Review actions**:
          Teams will test on the non-production ingress before each upgrade (owner: Dana).
        """
    )
    assert [(i.title, i.owner) for i in pm.items] == [
        ("Teams will test on the non-production ingress before each upgrade", "Dana")
    ]


def test_a_paragraph_labelled_action_item_is_one_wherever_it_stands() -> None:
    pm = _extract(
        """
        ## Remediation
        ### Immediate actions
        - ✅ Reverted the change and released 1.270.1

        **Action item:** Start incidents earlier. Declare one as soon as an issue is confirmed. Owner: @lucas

        ### Long-term (Target: Q4 2025 - Q1 2026)
        - **Compatibility tests**: run the extension against the last 5 releases. Owner: @lucas

        ## Lessons learned

        **Action items:** Add a canary for the extension bundle.
        """
    )
    got = [(i.title, i.owner, i.status, i.due_text) for i in pm.items]
    assert got == [
        ("Reverted the change and released 1.270.1", None, "done", None),
        ("Start incidents earlier", "@lucas", None, None),
        ("Compatibility tests", "@lucas", None, "Q4 2025 - Q1 2026"),
        ("Add a canary for the extension bundle", None, None, None),
    ]
    assert pm.items[1].description == "Declare one as soon as an issue is confirmed. Owner: @lucas"


# --- The second design: sections, shapes and fields in their general forms -------------------


@pytest.mark.parametrize(
    "heading",
    [
        "## Mitigation:",
        "## Recommendations:",
        "## Lessons learned and future improvements",
        "## How are we preventing it from happening again?",
        "## Corrective and preventative measures",
        "## Resolution and recovery",
        "## What we are doing about it",
    ],
)
def test_future_work_is_read_under_any_heading_that_can_hold_it(heading: str) -> None:
    pm = _extract(
        f"""
        # Outage
        {heading}
        We rolled back the release at 10:02.
        We will add a canary stage before production deploys.
        """
    )
    titles = [i.title for i in pm.items]
    assert "We will add a canary stage before production deploys" in titles
    assert "We rolled back the release at 10:02" not in titles or heading.startswith(
        ("## Recommendations", "## Lessons learned and", "## How are", "## Corrective", "## What")
    )


@pytest.mark.parametrize(
    "heading", ["## What went well", "## Timeline", "## Impact", "## Advice to customers"]
)
def test_sections_about_the_past_hold_no_items_even_with_action_words(heading: str) -> None:
    pm = _extract(
        f"""
        # Outage
        {heading}
        - Add more replicas was the first thing we tried
        - We will never forget this day
        """
    )
    assert pm.items == ()


def test_a_plain_line_naming_the_section_opens_it() -> None:
    pm = _extract(
        """
        # Certificate expired
        Detection was through people telling us.

        Action Items
        - Set up alerting for expiring certificates

        - Renew certificates with a scheduled job
        """
    )
    assert [i.title for i in pm.items] == [
        "Set up alerting for expiring certificates",
        "Renew certificates with a scheduled job",
    ]


def test_an_action_table_is_read_wherever_it_stands_and_a_timeline_table_is_not() -> None:
    pm = _extract(
        """
        # Outage
        Some words about it.

        | Action item | Owner | Status |
        |---|---|---|
        | Add alerting on queue depth | Dana | open |

        ## Timeline
        | Time | Action | Who |
        |---|---|---|
        | 10:00 | Restarted the pods | Lee |
        """
    )
    assert [(i.title, i.owner) for i in pm.items] == [("Add alerting on queue depth", "Dana")]


def test_one_action_per_line_without_list_markers() -> None:
    pm = _extract(
        """
        ## Corrective actions
        Add negative tests for every overflow direction. Run them on every PR.
        Minimise the number of data structures used.
        Start a bug bounty for the consensus code.
        """
    )
    assert [(i.title, i.description) for i in pm.items] == [
        ("Add negative tests for every overflow direction. Run them on every PR", ""),
        ("Minimise the number of data structures used", ""),
        ("Start a bug bounty for the consensus code", ""),
    ]


def test_a_wrapped_paragraph_stays_one_item() -> None:
    pm = _extract(
        """
        ## Action items
        Add a canary stage to the deploy pipeline so that a bad release reaches only the
        canary pods before it reaches every customer.
        """
    )
    assert len(pm.items) == 1


def test_a_line_introducing_actions_makes_the_next_list_items() -> None:
    pm = _extract(
        """
        # Outage
        ## Summary
        The queue filled up. To prevent this from happening again, we will:

        - add retries with jitter
        - alert on queue depth

        ## Details
        - the queue had 10,000 messages
        """
    )
    assert [i.title for i in pm.items] == ["add retries with jitter", "alert on queue depth"]


def test_sub_bullets_that_are_actions_are_items_and_details_are_not() -> None:
    pm = _extract(
        """
        ## Action items
        - Improve monitoring:
            - Add an alert on the 5xx rate
            - Add a dashboard for queue depth
        - Spike pre-commit hooks
            - File size
            - Binary files
        - Migrate the cluster
            - https://github.com/acme/app/issues/77
        """
    )
    assert [(i.title, i.tickets) for i in pm.items] == [
        ("Improve monitoring", ()),
        ("Add an alert on the 5xx rate", ()),
        ("Add a dashboard for queue depth", ()),
        ("Spike pre-commit hooks", ()),
        ("Migrate the cluster", ("https://github.com/acme/app/issues/77",)),
    ]
    assert pm.items[1].description == "Part of: Improve monitoring"
    assert pm.items[3].description == "- File size\n- Binary files"


def test_bold_status_paragraphs_and_bracketed_statuses() -> None:
    pm = _extract(
        """
        # Outage
        **DONE** Rotate the leaked credentials.

        **TODO** Add secret scanning to CI.

        ## Follow-ups
        - [DONE] Remove the old token
        - [TODO] Revoke the bot's admin rights
        - **WIP** Move secrets to the vault
        - Rebuild images, which can be done in 5 minutes
        """
    )
    got = [(i.title, normalise_status(i.status)) for i in pm.items]
    assert got == [
        ("Rotate the leaked credentials", "done"),
        ("Add secret scanning to CI", "open"),
        ("Remove the old token", "done"),
        ("Revoke the bot's admin rights", "open"),
        ("Move secrets to the vault", "open"),
        ("Rebuild images, which can be done in 5 minutes", None),
    ]


def test_a_checklist_entry_that_is_only_an_issue_link_points_at_that_issue() -> None:
    pm = _extract(
        """
        ## Follow-up improvements
        - [ ] https://github.com/acme/app/issues/42
        - [ ] https://acme.atlassian.net/browse/OPS-7
        """
    )
    assert [(i.title, i.tickets, i.placeholder) for i in pm.items] == [
        ("acme/app#42", ("https://github.com/acme/app/issues/42",), False),
        ("OPS-7", ("https://acme.atlassian.net/browse/OPS-7",), False),
    ]


def test_commitments_in_prose_are_items_when_there_is_no_action_section() -> None:
    pm = _extract(
        """
        # Flags were down

        We were down for two hours. In this post we will describe what happened, and
        we’ll be making several changes to make sure this doesn’t happen again.

        To start with, all SDKs will stop retrying flag requests. This is already released.

        We might also revisit the cache. If it happens again, we will page the database team.

        The platform team will add a manual override to the health checks.

        As a more long term solution (Q2 2024), we’ll move flags out of the monolith.
        """
    )
    got = [(i.title, i.owner, normalise_status(i.status), i.due_text) for i in pm.items]
    assert got == [
        ("all SDKs will stop retrying flag requests", None, "done", None),
        (
            "The platform team will add a manual override to the health checks",
            "platform team",
            None,
            None,
        ),
        ("we’ll move flags out of the monolith", None, None, "Q2 2024"),
    ]


def test_commitments_in_prose_are_not_read_beside_an_action_section() -> None:
    pm = _extract(
        """
        # Outage
        We will add more tests.

        ## Action items
        - Add a canary stage
        """
    )
    assert [i.title for i in pm.items] == ["Add a canary stage"]


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("Bug #5554823 TODO", "open"),
        ("n/a DONE", "done"),
        ("#12 (done)", "done"),
        ("TODO.", "open"),
        ("fixed", "done"),  # the cell's only word, in any case
        ("Done.", "done"),
    ],
)
def test_a_status_word_anywhere_in_a_ticket_cell(cell: str, status: str) -> None:
    pm = _extract(
        f"""
        ## Action items
        | Action item | Bug |
        |---|---|
        | Add alerting | {cell} |
        """
    )
    assert normalise_status(pm.items[0].status) == status


def test_links_to_issues_in_any_column_are_tickets() -> None:
    pm = _extract(
        """
        ## Action items
        | Action item | Notes |
        |---|---|
        | Add alerting | tracked in [prevent](https://github.com/acme/app/issues/9) |
        """
    )
    assert pm.items[0].tickets == ("https://github.com/acme/app/issues/9",)


@pytest.mark.parametrize(
    ("line", "title", "owner"),
    [
        (
            "Platform team: review the connection limits",
            "review the connection limits",
            "Platform team",
        ),
        ("DevEx will add a pre-merge check", "DevEx will add a pre-merge check", "DevEx"),
        (
            "The error tracking team should monitor the DLQ",
            "The error tracking team should monitor the DLQ",
            "error tracking team",
        ),
        ("Leads to review token usage", "Leads to review token usage", "Leads"),
        ("The team will investigate the failure", "The team will investigate the failure", None),
        ("We will add retries", "We will add retries", None),
        ("API should be rate limited", "API should be rate limited", None),
        ("CI to run the smoke tests", "CI to run the smoke tests", None),
        ("APIs must not return a 500 on retries", "APIs must not return a 500 on retries", None),
        ("GraphQL should be cached at the edge", "GraphQL should be cached at the edge", None),
        # `has to`, `have to` state a need, not who acts; `has moved` says who did.
        (
            "The platform team has to rotate the keys",
            "The platform team has to rotate the keys",
            None,
        ),
        ("SREs have to own the runbook", "SREs have to own the runbook", None),
        ("Platform team has moved the queue", "Platform team has moved the queue", "Platform team"),
    ],
)
def test_owner_named_as_label_or_subject(line: str, title: str, owner: str | None) -> None:
    pm = _extract(f"## Action items\n- {line}\n")
    assert (pm.items[0].title, pm.items[0].owner) == (title, owner)


@pytest.mark.parametrize(
    ("line", "title", "due_text"),
    [
        (
            "Move the cron to a queue within the next 2 weeks",
            "Move the cron to a queue within the next 2 weeks",
            "next 2 weeks",
        ),
        (
            "Check the limits before re-enabling sync",
            "Check the limits before re-enabling sync",
            "before re-enabling sync",
        ),
        ("Split the monolith (Q4 2025 - Q1 2026)", "Split the monolith", "Q4 2025 - Q1 2026"),
    ],
)
def test_timeframes_and_conditions_are_kept_as_due_text(
    line: str, title: str, due_text: str
) -> None:
    pm = _extract(f"## Action items\n- {line}\n")
    assert (pm.items[0].title, pm.items[0].due_text) == (title, due_text)


def test_titles_lose_trailing_ticket_text() -> None:
    pm = _extract(
        """
        ## Action items
        - Fix the flaky check - [jira link](https://acme.atlassian.net/browse/OPS-1)
        - Fix the deploy script #528
        - Pin the base image (GH-7)
        """
    )
    assert [(i.title, i.tickets) for i in pm.items] == [
        ("Fix the flaky check", ("https://acme.atlassian.net/browse/OPS-1",)),
        ("Fix the deploy script", ("#528",)),
        ("Pin the base image", ("GH-7",)),
    ]


def test_template_braces_in_code_are_code_not_placeholders() -> None:
    pm = _extract(
        """
        ## Action items
        - Use `${{ secrets.DEPLOY_TOKEN }}` in the release workflow
        - Render `{{ name }}` in the banner template
        - {{ summary }}
        """
    )
    assert [(i.title, i.placeholder) for i in pm.items] == [
        ("Use ${{ secrets.DEPLOY_TOKEN }} in the release workflow", False),
        ("Render {{ name }} in the banner template", False),
        ("{{ summary }}", True),
    ]


def test_a_confluence_date_followed_by_more_text_is_the_due_date() -> None:
    from connectors.extract.html import html_to_markdown

    text, _ = html_to_markdown(
        "<h2>Action items</h2><ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status>"
        '<ac:task-body>Rotate the keys <time datetime="2026-08-01" /> then tell security'
        "</ac:task-body></ac:task></ac:task-list>"
    )
    item = _extract(text).items[0]
    assert (item.due, item.title) == (date(2026, 8, 1), "Rotate the keys then tell security")


@pytest.mark.parametrize(
    "line",
    [
        "None required for this run.",
        "No further action needed",
        "No action items identified",
        "_(Fill in during the review.)_",
        "To be filled in by the facilitator",
    ],
)
def test_words_saying_there_is_nothing_to_do_are_not_items(line: str) -> None:
    pm = _extract(f"## Follow-up actions\n\n- {line}\n")
    assert [i.placeholder for i in pm.items] == [True]
    assert pm.template


def test_an_item_that_starts_like_nothing_is_still_an_item() -> None:
    pm = _extract("## Follow-up actions\n\n- None of the alerts fired: add one on queue depth\n")
    assert [i.placeholder for i in pm.items] == [False]


@pytest.mark.parametrize(
    "section",
    [
        "- [ ] #[issue] - [Prevention measure 1]\n- [ ] #[issue] - [Process improvement 2]\n",
        "- **Prevent** (design/code/config)\n- **Detect** (alerts/telemetry)\n",
        "- [ ] Action item 1 (owner, due date)\n- [ ] Action item 2 (owner, due date)\n",
        "- [ ] Owner\n",
        "* itemized list of ways to prevent it from happening again\n"
        "* what can we do better next time?\n",
        "- explain in detail how the issue was fixed\n",
    ],
)
def test_template_stand_ins_and_instructions_are_not_items(section: str) -> None:
    pm = _extract(f"# [Incident title]\n\n## Corrective and preventative measures\n\n{section}")
    assert pm.items
    assert all(i.placeholder for i in pm.items)
    assert pm.template


def test_a_bracketed_estimate_beside_a_real_action_is_no_stand_in() -> None:
    pm = _extract("## Action items\n\n- [ ] [20m] Write a small incident-response document\n")
    assert [i.placeholder for i in pm.items] == [False]


def test_a_link_to_an_issue_in_the_status_column_is_a_ticket_not_a_status() -> None:
    pm = _extract(
        """
        ## Action Items
        |**Action Item**|**Type**|**Owner**|**Status**|
        | :- | :- | :- | :- |
        |Revert the storage driver|mitigate|olivier|**DONE**|
        |Run the containers on a VM|prevent|charles|<https://github.com/acme/infra/issues/62>|
        |Open a vendor ticket|process|charles|#12 (done)|
        """
    )
    got = [(i.status, i.tickets) for i in pm.items]
    assert got == [
        ("DONE", ()),
        (None, ("https://github.com/acme/infra/issues/62",)),
        ("done", ("#12",)),
    ]


@pytest.mark.parametrize(
    ("line", "title", "tickets", "due_text"),
    [
        (
            "OPS-123: Alert on connection saturation",
            "Alert on connection saturation",
            ("OPS-123",),
            None,
        ),
        ("[OPS-9] Rotate the keys", "Rotate the keys", ("OPS-9",), None),
        (
            "Plug the descriptor leak (Bug 5554825)",
            "Plug the descriptor leak",
            ("Bug 5554825",),
            None,
        ),
        ("Retro with the vendor, ETA next week", "Retro with the vendor", (), "next week"),
        (
            "Enable storage autoscaling by the end of Q1",
            "Enable storage autoscaling",
            (),
            "the end of Q1",
        ),
        (
            "https://gitlab.com/acme/infra/prod/-/issues/81",
            "acme/infra/prod#81",
            ("https://gitlab.com/acme/infra/prod/-/issues/81",),
            None,
        ),
    ],
)
def test_references_and_timeframes_around_an_action(
    line: str, title: str, tickets: tuple[str, ...], due_text: str | None
) -> None:
    item = _extract(f"## Corrective actions\n\n- {line}\n").items[0]
    assert (item.title, item.tickets, item.due_text) == (title, tickets, due_text)


def test_a_person_the_document_knows_is_the_owner_when_they_are_the_subject() -> None:
    pm = _extract(
        """
        ---
        authors: Dana Kim, Lee Park
        ---
        ## Action items
        - Dana will add an alert on queue depth
        - Lee to review the retry budget
        - Migration to the new cluster
        - Sam will tune the cache
        """
    )
    assert [i.owner for i in pm.items] == ["Dana", "Lee", None, None]
