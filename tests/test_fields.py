"""Reading owner, due date, status, priority and tickets out of an item's own text."""

import pytest

from connectors.extract.fields import (
    clean_owner,
    find_tickets,
    is_placeholder,
    is_ticket_url,
    kind_of,
    priority_of,
    read_fields,
    square_blank_template,
    template_tokens,
    timeframe_of,
)


@pytest.mark.parametrize(
    ("text", "title", "owner", "due"),
    [
        ("Add a PDB. Owner: Lee Park. Due: 2026-06-05", "Add a PDB", "Lee Park", "2026-06-05"),
        ("Scale CoreDNS @sam, due 2026-06-12", "Scale CoreDNS", "@sam", "2026-06-12"),
        ("Write docs (owner: Priya, due: 2026-05-29)", "Write docs", "Priya", "2026-05-29"),
        ("Add a probe — Owner: Dana Kim, Due: end of Q2", "Add a probe", "Dana Kim", "end of Q2"),
        ("Add a probe. Due: Q3 2026...", "Add a probe", None, "Q3 2026"),
        ("Add a probe – Dana Kim", "Add a probe", "Dana Kim", None),  # an en dash
        (
            "Add alerts before the next release. Due: 2026-05-01",
            "Add alerts before the next release",  # a stated date wins over a phrase
            None,
            "2026-05-01",
        ),
        ("Rotate keys. Assignee: dana Deadline: March 5", "Rotate keys", "dana", "March 5"),
        ("Add alerts (DRI: @lee)", "Add alerts", "@lee", None),
        ("Tune the pool by 2026-04-01", "Tune the pool", None, "2026-04-01"),
        ("Freeze deploys until 2015-11-20 for the store", None, None, None),
        ("Ask @infra-team for quota", None, "@infra-team", None),
        ("Email ops@example.com the report", None, None, None),
    ],
)
def test_inline_fields_are_taken_out_of_the_title(
    text: str, title: str | None, owner: str | None, due: str | None
) -> None:
    found = read_fields(text)
    assert found.owner == owner
    assert found.due_text == due
    assert found.rest == (title if title is not None else text)


def test_a_bracket_after_a_status_stays_unless_it_says_the_status() -> None:
    text = "Migrate the cron job, already done (see the runbook)"
    found = read_fields(text)
    assert (found.status, found.rest) == ("already done", text)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Upgrade the parser (bug 1234)", "Upgrade the parser"),
        ("Upgrade the parser, see #1234", "Upgrade the parser"),
        ("Upgrade the parser (OPS-1234). (done)", "Upgrade the parser"),
        ("Upgrade the parser [OPS-1234]", "Upgrade the parser"),
        ("Add alert (#12)", "Add alert"),
        ("Add logs (#1234)", "Add logs (#1234)"),  # too short without it
        ("Fix the check - jira link. (done)", "Fix the check"),
        ("... https://github.com/acme/x/issues/12", "acme/x#12"),  # only an issue: named by it
        ("Upgrade the parser to fix bug 1234", "Upgrade the parser to fix bug 1234"),  # the action
        # Its first characters stay; spaces are tidied.
        (".NET 8 upgrade for the API", ".NET 8 upgrade for the API"),
        ("XML schema check in CI", "XML schema check in CI"),
        ("Add  alerts\tfor the pool", "Add alerts for the pool"),
        ("Add alerts for the pool, ()", "Add alerts for the pool"),  # an emptied bracket
    ],
)
def test_the_title_is_the_action_without_a_reference_at_its_end(text: str, title: str) -> None:
    assert read_fields(text).rest == title


@pytest.mark.parametrize(
    ("heading", "timeframe"),
    [
        ("To do within the next 2 weeks", "next 2 weeks"),
        ("To complete before re-enabling sync", "before re-enabling sync"),
        ("Follow-ups (Q3 2026)", None),  # a bracketed quarter is the heading's own due date
        ("Long-term", None),
    ],
)
def test_a_heading_states_a_timeframe_for_what_it_holds(
    heading: str, timeframe: str | None
) -> None:
    assert timeframe_of(heading) == timeframe


def test_a_priority_written_in_the_item_is_read() -> None:
    assert read_fields("P1: add alerts on the pool").priority == "P1"
    assert read_fields("Add alerts on the pool (P2)").priority == "P2"
    assert read_fields("Serve the API over HTTP2").priority is None


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("[x] Ship it", "done"),
        ("[X] Ship it", "done"),  # GitHub and editors write either case
        ("[x] - Ship it", "done"),
        ("Ship it; (done)", "done"),
        ("[ ] Ship it", "open"),
        ("DONE: ship it", "DONE"),
        ("Ship it (done)", "done"),
        ("Ship it - TODO", "TODO"),
        ("Ship it ✅", "done"),
        ("Ship it (status: In review)", "In review"),
        ("Ship it, Status: blocked", "blocked"),
        ("Ship it", None),
    ],
)
def test_status_markers(text: str, status: str | None) -> None:
    found = read_fields(text)
    assert found.status == status
    assert found.rest == "Ship it" or found.rest.casefold() == "ship it"


def test_tickets_in_every_written_form() -> None:
    text = "See https://github.com/acme/x/issues/7, acme/infra#12, #99, OPS-42 and Bug #5554823."
    assert find_tickets(text) == [
        "https://github.com/acme/x/issues/7",
        "Bug #5554823",
        "acme/infra#12",
        "#99",
        "OPS-42",
    ]


def test_a_reference_is_not_repeated_beside_its_own_link() -> None:
    links = [("https://gh.test/acme/x/issues/12", "#12")]
    assert find_tickets("fix #12 and #13, Ticket #12", links) == [links[0][0], "#13"]


@pytest.mark.parametrize(
    ("url", "text", "ticket"),
    [
        ("https://github.com/acme/x/issues/12", "here", True),
        ("https://github.com/acme/x/pull/12", "", True),
        ("https://gitlab.test/g/p/-/merge_requests/4", "", True),
        ("https://acme.atlassian.net/browse/OPS-42", "", True),
        ("http://jira.internal/browse/OPS-42", "", True),  # an intranet without TLS
        ("https://bugzilla.test/show_bug.cgi?id=5554823", "", True),
        ("https://docs.test/runbooks/rollback", "Created a ticket", True),
        ("https://github.com/acme/cli", "cloud-platform-cli", False),
        ("https://grafana.test/d/components", "in grafana", False),
        ("mailto:ops@example.com", "issue", False),
    ],
)
def test_only_links_to_issues_and_changes_are_tickets(url: str, text: str, ticket: bool) -> None:
    assert is_ticket_url(url, text) is ticket


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "TBD",
        "**TBD**",
        "_TBD_",
        "{{ summary }}",
        "[link to github issue]",
        "<action>",
        "…",
        "1.",
        "Prevent:",  # a category heading where an item would be
        "**Mitigate.**",
    ],
)
def test_placeholders(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize(
    ("value", "owner"),
    [
        ("Dana Kim", "Dana Kim"),
        ("Dana Kim.", "Dana Kim"),
        ("_Dana Kim_", "Dana Kim"),
        ("`dana`", "dana"),
        ("Dana \n  Kim", "Dana Kim"),
        ("Max", "Max"),
        ("Xi", "Xi"),
        ("TBD", None),
        ("[owner]", None),
        ("", None),
    ],
)
def test_an_owner_is_read_as_written_without_markup(value: str, owner: str | None) -> None:
    assert clean_owner(value) == owner


def test_a_template_of_square_blanks_says_so_in_its_opening() -> None:
    blanks = "Owner: [Team name]. Due: [Date].\n"
    assert square_blank_template("This is a template. " + blanks)
    assert not square_blank_template("This is a template. Owner: [Team name].")  # one: a link?
    assert not square_blank_template(blanks)  # nothing says it is one
    # Said after the blanks, within the first 600 characters.
    says = "Copy this template"
    assert square_blank_template(blanks + says.rjust(600 - len(blanks)))
    assert not square_blank_template(blanks + says.rjust(601 - len(blanks)))
    assert not square_blank_template("Owner: [Team name]." + says.rjust(700) + " Due: [Date].")


def test_template_stand_ins_are_counted_outside_code_only() -> None:
    assert template_tokens("Owner: {{ owner }}, due {{ due }}.") == 2
    assert template_tokens("Owner: {{ owner }}. `{{ due }}` in a template engine.") == 1
    assert template_tokens("Ran `systemctl` and got <none>.") == 0


def test_real_short_actions_are_not_placeholders() -> None:
    assert not is_placeholder("Add alerting")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Prevent", "prevent"),
        ("mitigation", "mitigate"),
        ("**Prevention:**", "prevent"),
        ("_Mitigation_", "mitigate"),
        ("**:**", None),
        ("XSS", "XSS"),  # no category: as written
        ("Process improvements", "process"),
        ("Short-term", "Short-term"),
        (None, None),
    ],
)
def test_kinds_map_to_sre_categories_where_known(text: str | None, kind: str | None) -> None:
    assert kind_of(text) == kind


@pytest.mark.parametrize(
    ("cell", "priority"),
    [
        ("P1", "P1"),
        ("__P1__", "P1"),  # emphasis around it
        ("**high**", "High"),
        ("_Urgent_", "Urgent"),
        ("🔴 Critical", "Critical"),
        ("Must have", "Must have"),  # no scale pmsync knows: as written
        ("", None),
    ],
)
def test_a_priority_cell_is_read_without_its_emphasis(cell: str, priority: str | None) -> None:
    assert priority_of(cell) == priority


@pytest.mark.parametrize(
    ("text", "owner"),
    [
        ("Add a runbook link (ping @sre-lead in #ops when done)", None),
        ("(Ping @sre-lead in #ops) Add a runbook link", None),
        ("Add a runbook link (ping @sre-lead in #ops", None),  # the bracket never closes
        ("Add a runbook link @dana (ping @sre-lead in #ops when done)", "@dana"),
        ("(Runbook) Add a link (ping @sre-lead in #ops) for @dana", "@dana"),
        ("Tell @here, then add a runbook link @dana", "@dana"),
        ("Add a runbook link (with @dana)", "@dana"),  # a bracket that calls nobody to look
        ("(Runbook) Add a link (ping @sre-lead) for @dana", "@dana"),  # two brackets before
        ("Rotate the keys (@dana) and tell the team (ping @sre-lead in #ops)", "@dana"),
    ],
)
def test_the_owner_is_the_first_mention_that_names_a_person(text: str, owner: str | None) -> None:
    """`@here`, and a mention a bracket only calls to look (`ping`, `cc`, `in #ops`), name no
    owner; the next mention may."""
    assert read_fields(text).owner == owner
