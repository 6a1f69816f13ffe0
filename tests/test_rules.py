"""The rule framework: codes, selection by prefix, suppression, and the first rules."""

import textwrap

import pytest

from connectors.extract import extract
from rules import CATALOGUE, check, select_rules
from syncer.errors import ConfigError
from syncer.model import Document, DocumentRef, Postmortem, Severity


def _pm(text: str) -> Postmortem:
    ref = DocumentRef("t", "pm.md", "pm.md")
    return extract(Document(ref, "pm", textwrap.dedent(text).lstrip("\n")))


@pytest.mark.parametrize(
    ("item", "codes"),
    [
        ("Add alerting on pool use. Owner: Dana. Due: 2026-04-01", []),
        ("Add alerting on pool use. Due: 2026-04-01", ["PM101"]),
        ("Add alerting on pool use @dana", ["PM201"]),
        ("Add alerting on pool use", ["PM101", "PM201"]),
        ("Add alerting on pool use. Owner: Dana. Due: someday", ["PM202"]),
        ("Add alerting on pool use. Owner: Dana. Due: in 2 weeks", ["PM202"]),
        ("[x] Add alerting on pool use. Owner: Dana", []),
        ("TBD", []),
    ],
)
def test_item_rules(item: str, codes: list[str]) -> None:
    findings = check(_pm(f"## Action items\n\n- {item}\n"), select_rules())
    assert [f.code for f in findings] == codes


def test_findings_name_document_line_and_item() -> None:
    pm = _pm("# T\n\n## Action items\n\n- Fix it. Due: 2026-01-01\n")
    (finding,) = check(pm, select_rules())
    assert (finding.doc, finding.line, finding.item_key) == ("pm.md", 5, pm.items[0].key)
    assert finding.severity is Severity.ERROR
    assert finding.message == 'no owner: "Fix it"'


def test_select_and_ignore_by_prefix() -> None:
    assert [r.code for r in select_rules(["PM"], ["PM2"])] == ["PM101"]
    assert [r.code for r in select_rules(["PM20"])] == ["PM201", "PM202"]
    assert [r.code for r in select_rules(["PM20"], ["PM202"])] == ["PM201"]


@pytest.mark.parametrize(("select", "ignore"), [(["PM9"], []), (["PM"], ["PM1O1"])])
def test_a_code_that_matches_nothing_is_an_error_naming_it(
    select: list[str], ignore: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        select_rules(select, ignore)
    assert any(repr(code) in str(caught.value) for code in select + ignore)


def test_inline_suppression_applies_to_the_next_item_only() -> None:
    pm = _pm(
        """
        ## Action items

        <!-- pmsync: ignore PM101 -->
        - First. Due: 2026-01-01

        - Second. Due: 2026-01-01
        """
    )
    findings = check(pm, select_rules())
    assert [(f.code, f.line) for f in findings] == [("PM101", 6)]


def test_front_matter_suppresses_for_the_whole_document() -> None:
    pm = _pm("---\npmsync_ignore: PM101 PM201\n---\n## Action items\n\n- First\n")
    assert check(pm, select_rules()) == []


def test_every_rule_has_a_unique_code_and_full_docs() -> None:
    codes = [rule.code for rule in CATALOGUE]
    assert len(codes) == len(set(codes))
    for rule in CATALOGUE:
        assert all((rule.doc.what, rule.doc.why, rule.doc.example, rule.doc.instead))
