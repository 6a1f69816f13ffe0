"""The rule framework and each rule: codes, selection by prefix, suppression, documents."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from connectors.extract import extract
from rules import CATALOGUE, RuleContext, check, select_rules
from rules.checks import measurable
from rules.words import Phrase
from syncer.errors import ConfigError
from syncer.model import Document, DocumentRef, Postmortem, Severity

ITEM_RULES = select_rules(["PM1", "PM2", "PM3"])
COMPLETE = """
---
date: 2026-03-04
---
# Checkout latency

## Root cause
The pool was sized for staging.

## What went well
- Paging was fast.

## Action items
"""


def _pm(text: str) -> Postmortem:
    ref = DocumentRef("t", "pm.md", "pm.md")
    return extract(Document(ref, "pm", textwrap.dedent(text).lstrip("\n")))


def _codes(text: str, context: RuleContext | None = None, rules: object = None) -> list[str]:
    chosen = ITEM_RULES if rules is None else rules
    return [f.code for f in check(_pm(text), chosen, context)]  # type: ignore[arg-type]


def _item(line: str, context: RuleContext | None = None) -> list[str]:
    return _codes(f"{COMPLETE}\n- {line}\n", context)


@pytest.mark.parametrize(
    ("item", "codes"),
    [
        ("Add an alert on pool use above 90%. Owner: Dana. Due: 2026-04-01", []),
        ("Add an alert on pool use above 90%. Due: 2026-04-01", ["PM101"]),
        ("Add an alert on pool use above 90% @dana", ["PM201"]),
        ("Add an alert on pool use above 90%", ["PM101", "PM201"]),
        ("Add an alert on pool use above 90%. Owner: Dana. Due: someday", ["PM202"]),
        ("Add an alert on pool use above 90%. Owner: Dana. Due: 2025-04-01", ["PM203"]),
        ("Add an alert on pool use above 90%. Owner: Dana. Due: 2027-04-01", ["PM204"]),
        ("[x] Add an alert on pool use above 90%", []),
        ("Monitoring. Owner: Dana. Due: 2026-04-01", ["PM302", "PM304"]),
        # No concrete verb, no number: the thing it delivers is what can be seen done.
        ("Failover runbook for the pool. Owner: Dana. Due: 2026-04-01", []),
        # A soft phrase in the purpose of a concrete action is not the action; it is after a
        # vague one. "Never" leads to the verb.
        ("Add metrics to improve visibility. Owner: Dana. Due: 2026-04-01", []),
        (
            "Work with the vendor to improve visibility. Owner: Dana. Due: 2026-04-01",
            ["PM301", "PM302"],
        ),
        ("Never rotate the keys by hand. Owner: Dana. Due: 2026-04-01", []),
        (  # the first soft phrase excused, the next one not
            "Add metrics to improve visibility, then review the pool limits. Owner: Dana. "
            "Due: 2026-04-01",
            ["PM301"],
        ),
        # Several actions: two sentences that act, or two acting clauses in any sentence.
        ("Add an alert on pool use above 90%. Pool use is the first sign. Owner: Dana", ["PM201"]),
        (
            "The pool ran dry; add an alert on pool use and document the pool limits. Owner: "
            "Dana. Due: 2026-04-01",
            ["PM303"],
        ),
        # Each acting clause says what it works on in three words or more, or it is one action.
        ("Add an alert and write a runbook for the pool. Owner: Dana. Due: 2026-04-01", ["PM303"]),
        ("Add alerts and write a runbook for the pool. Owner: Dana. Due: 2026-04-01", []),
        ("Test and write a runbook for the pool. Owner: Dana. Due: 2026-04-01", []),
        ("Add an alert on pool use and write a runbook. Owner: Dana. Due: 2026-04-01", ["PM303"]),
        # A second clause about what the first made ("it", "them") in its next three words.
        ("Add an alert on pool use and test it on staging. Owner: Dana. Due: 2026-04-01", []),
        (
            "Add an alert on pool use and write a runbook for it. Owner: Dana. Due: 2026-04-01",
            ["PM303"],
        ),
    ],
)
def test_item_rules(item: str, codes: list[str]) -> None:
    assert _item(item) == codes


def test_placeholders_short_items_and_bare_references() -> None:
    def found(line: str) -> list[tuple[str, str]]:
        real = "- Add an alert on pool use above 90%. Owner: Dana. Due: 2026-04-01"
        pm = _pm(f"{COMPLETE}\n{real}\n- {line}\n")
        return [(f.code, f.message) for f in check(pm, ITEM_RULES) if f.item_key == pm.items[1].key]

    assert found("[ ] ") == [("PM304", 'placeholder, not an action: "(empty)"')]
    assert found("TBD") == [("PM304", 'placeholder, not an action: "TBD"')]
    assert found("Rotate the keys. Owner: Dana. Due: 2026-04-01") == []  # three words will do
    assert found("Rotate keys. Owner: Dana. Due: 2026-04-01") == [
        ("PM304", 'too short to act on: "Rotate keys"; say what will be done to what')
    ]
    # A bare ticket reference is not too short: the ticket says what it is.
    assert [code for code, _ in found("OPS-12")] == ["PM101", "PM201"]
    # A ticket beside a vague action does not make it concrete.
    assert [code for code, _ in found("Look into the pool (OPS-12). Owner: Dana")] == [
        "PM201",
        "PM301",
        "PM302",
    ]


def test_a_placeholder_left_among_real_items_is_flagged() -> None:
    text = COMPLETE + "- Add an alert on pool use above 90%. Owner: Dana. Due: 2026-04-01\n- TBD\n"
    assert _codes(text) == ["PM304"]


def test_findings_name_document_line_and_item() -> None:
    pm = _pm(COMPLETE + "\n- Fix the pool size. Due: 2026-04-01\n")
    (finding,) = check(pm, ITEM_RULES)
    assert (finding.doc, finding.line, finding.item_key) == ("pm.md", 14, pm.items[0].key)
    assert finding.severity is Severity.ERROR
    assert finding.message == 'no owner: "Fix the pool size"'


@pytest.mark.parametrize(
    ("title", "quoted"),
    [
        (
            "Fix the pool size and the queue and the retry budget of each",  # sixty
            "Fix the pool size and the queue and the retry budget of each",
        ),
        (
            "Fix the pool size and the queue and the retry budget of the workers in the fleet",
            "Fix the pool size and the queue and the retry budget of the…",
        ),
        (
            "Fix the pool size and the queue and the retry budgets of a whole fleet of workers",
            "Fix the pool size and the queue and the retry budgets of a…",
        ),
    ],
)
def test_a_title_longer_than_sixty_characters_is_quoted_cut_short(title: str, quoted: str) -> None:
    """Its first 59 characters, without the space they may end with, and an ellipsis."""
    pm = _pm(COMPLETE + f"\n- {title}. Due: 2026-04-01\n")
    (finding,) = check(pm, ITEM_RULES)
    assert finding.message == f'no owner: "{quoted}"'


def test_owners_are_checked_against_the_directory_and_teams() -> None:
    known = {"dana", "dana kim", "@dana"}
    context = RuleContext(
        is_known_person=lambda o: o.casefold() in known, teams=frozenset({"payments"})
    )
    base = "Add an alert on pool use above 90%. Due: 2026-04-01. Owner: "
    assert _item(base + "Dana Kim", context) == []
    assert _item(base + "Dnaa", context) == ["PM104"]
    assert _item(base + "payments", context) == ["PM102"]
    assert _item(base + "@payments", context) == ["PM102"]  # a team as chat mentions it
    assert _item(base + "SRE team", context) == ["PM102"]
    assert _item(base + "Incident commander", context) == ["PM102"]  # a role
    assert _item(base + "Dana / Lee", context) == ["PM103"]
    assert _item(base + "Dnaa", RuleContext()) == []


def test_due_date_messages() -> None:
    def messages(due: str) -> dict[str, str]:
        line = f"Add an alert on pool use above 90%. Owner: Dana. Due: {due}"
        findings = check(_pm(f"{COMPLETE}\n- {line}\n"), ITEM_RULES, RuleContext(max_due_days=90))
        return {f.code: f.message for f in findings}

    assert messages("2026-06-05")["PM204"] == (
        "due 2026-06-05 is 93 days after the incident; split it into steps due within 90 days"
    )
    assert messages("when the vendor ships the new firmware that fixes the pool leak")["PM202"] == (
        'due date not understood: "when the vendor ships the new firmware…"; write it as YYYY-MM-DD'
    )


def test_a_due_date_on_the_day_of_the_incident_is_not_before_it() -> None:
    assert _item("Add an alert on pool use above 90%. Owner: Dana. Due: 2026-03-04") == []


def test_no_policy_due_date_for_an_item_done_or_dated() -> None:
    context = RuleContext(due_policy=lambda item, pm: "2026-05-01 (P1 priority policy)")
    assert _item("[x] Add an alert on pool use above 90%. Owner: Dana", context) == []
    assert _item("Add an alert on pool use above 90%. Owner: Dana", context) == [
        "PM201",
        "PM205",
    ]


def test_a_measurable_detail_makes_an_item_measurable_and_a_done_one_needs_none() -> None:
    def codes(item: str, detail: str = "") -> list[str]:
        nested = f"\n  - {detail}" if detail else ""
        return _codes(f"{COMPLETE}\n- {item}. Owner: Dana. Due: 2026-04-01{nested}\n")

    assert codes("Think about the pool", "we could consider it later") == ["PM301", "PM302"]
    assert codes("Think about the pool", "add an alert on pool use above 90%") == ["PM301"]
    assert "PM302" not in codes("[x] Think about the pool")


def test_a_text_without_words_measures_nothing() -> None:
    assert not measurable("— !!! 🚀")
    assert not measurable("Do not")


def test_due_dates_far_away_follow_the_configured_limit() -> None:
    line = "Add an alert on pool use above 90%. Owner: Dana. Due: 2026-06-04"
    assert _item(line, RuleContext(max_due_days=60)) == ["PM204"]
    assert _item(line, RuleContext(max_due_days=120)) == []
    # 92 days after the incident of 2026-03-04: the limit itself is within it, a day less is not.
    assert _item(line, RuleContext(max_due_days=92)) == []
    assert _item(line, RuleContext(max_due_days=91)) == ["PM204"]


def test_vague_phrases_can_be_added_in_config() -> None:
    line = "Circle the wagons on the pool size above 90%. Owner: Dana. Due: 2026-04-01"
    extra = (Phrase.literal("circle the wagons", "say what changes"),)
    assert _item(line) == []
    assert _item(line, RuleContext(extra_vague=extra)) == ["PM301"]


@pytest.mark.parametrize(
    ("document", "codes"),
    [
        (COMPLETE + "- Add an alert on pool use above 90%. Owner: Dana. Due: 2026-04-01\n", []),
        ("# Outage\n\nThe pool ran dry.\n", ["PM401", "PM402", "PM405", "PM406"]),
        (
            COMPLETE.replace("## Root cause\nThe pool was sized for staging.\n", "")
            + "- Add an alert on pool use above 90%. Owner: Dana. Due: 2026-04-01\n",
            ["PM402"],
        ),
        (
            COMPLETE.replace(
                "## Root cause\nThe pool was sized for staging.\n",
                "## Root causes\n- Pool size\n- No alert\n",
            )
            + "- Add an alert on pool use above 90%. Owner: Dana. Due: 2026-04-01\n",
            ["PM403"],
        ),
        (  # the cause under a heading of another name, as prose: no list of causes, still there
            COMPLETE.replace("## Root cause\n", "## Analysis\n")
            + "- Add an alert on pool use above 90%. Owner: Dana. Due: 2026-04-01\n",
            [],
        ),
    ],
)
def test_document_rules(document: str, codes: list[str]) -> None:
    assert _codes(document, rules=select_rules(["PM4"])) == codes


def test_document_findings_point_at_the_first_line() -> None:
    findings = check(_pm("# Outage\n\nThe pool ran dry.\n"), select_rules(["PM4"]))
    assert [(f.code, f.line) for f in findings] == [
        ("PM401", 1),
        ("PM402", 1),
        ("PM405", 1),
        ("PM406", 1),
    ]


def test_document_rules_leave_templates_alone() -> None:
    assert _codes("# {title}\n## Action items\n1. {{ summary }}\n", rules=select_rules()) == []


def test_select_and_ignore_by_prefix() -> None:
    assert [r.code for r in select_rules(["PM2"], ["PM202", "PM203"])] == [
        "PM201",
        "PM204",
        "PM205",
    ]
    assert [r.code for r in select_rules(["PM40"])] == [f"PM40{n}" for n in range(7)]


@pytest.mark.parametrize(("select", "ignore"), [(["PM9"], []), (["PM"], ["PM1O1"])])
def test_a_code_that_matches_nothing_is_an_error_naming_it(
    select: list[str], ignore: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        select_rules(select, ignore)
    assert any(repr(code) in str(caught.value) for code in select + ignore)


def test_inline_suppression_applies_to_the_next_item_only() -> None:
    pm = _pm(
        COMPLETE
        + """
<!-- pmsync: ignore PM101 -->
- Fix the pool size of the first cluster. Due: 2026-04-01

- Fix the pool size of the second cluster. Due: 2026-04-01
"""
    )
    assert [(f.code, f.line) for f in check(pm, ITEM_RULES)] == [("PM101", 17)]


def test_front_matter_suppresses_for_the_whole_document() -> None:
    text = COMPLETE.replace("date: 2026-03-04", "date: 2026-03-04\npmsync_ignore: PM101 PM2")
    assert _codes(text + "- Fix the pool size\n") == []


def test_every_rule_has_a_unique_code_a_name_and_full_docs() -> None:
    codes = [rule.code for rule in CATALOGUE]
    assert len(codes) == len(set(codes)) == 23
    assert len({rule.name for rule in CATALOGUE}) == 23
    for rule in CATALOGUE:
        assert all((rule.doc.what, rule.doc.why, rule.doc.example, rule.doc.instead))


def test_the_context_dates_far_due_dates_without_an_incident_date() -> None:
    text = "## Action items\n- Add an alert on pool use above 90%. Owner: Dana. Due: 2027-01-01\n"
    assert "PM204" in _codes(text, RuleContext(today=date(2026, 3, 4)))
    assert "PM204" not in _codes(text)


@pytest.mark.parametrize(
    ("title", "vague"),
    [
        ("Improve checkout latency", True),
        ("Improve p99 checkout latency to under 300 ms", False),  # a number
        ("Improve checkout latency by adding a connection cache", False),  # a means
        ("Improve checkout latency and write up the findings", True),  # an output is no threshold
        ("Investigate the checkout timeouts", True),
        ("Investigate the checkout timeouts and write up the cause", False),  # an output
        ("Investigate the 3 checkout timeouts", True),  # a number is no output
        ("Review the pool limits and document the chosen size", False),
        ("Review the pool limits", True),
    ],
)
def test_a_soft_phrase_is_vague_unless_the_item_has_what_makes_it_concrete(
    title: str, vague: bool
) -> None:
    """ "Improve" needs a threshold or a means; "investigate" and "review" need an output."""
    codes = _item(f"{title}. Owner: Dana. Due: 2026-04-01")
    assert ("PM301" in codes) is vague, codes
