"""PM404: blame language is caught with a blameless rewrite; neutral, factual prose is not."""

from __future__ import annotations

import pytest

from connectors.extract import extract
from rules import check, select_rules
from syncer.model import Document, DocumentRef

BLAME = [
    "The outage was caused by human error during the deploy.",
    "This was Dana's fault: she pushed the wrong config.",
    "It was the fault of the on-call engineer.",
    "The engineer should have checked the target cluster first.",
    "We should've tested the migration on staging.",
    "A careless change to the load balancer took the site down.",
    "Carelessness in the review let the bug through.",
    "Negligence by the release manager delayed the fix.",
    "Bob fat-fingered the replica count.",
    "Someone messed up the DNS records.",
    "Lee forgot to renew the certificate.",
    "Dana failed to check the dashboards before the rollout.",
    "Sam didn't follow the runbook.",
    "Priya ignored the alert for an hour.",
    "He made a mistake in the firewall rules.",
    "The sloppy rollout broke checkout.",
    "Operator error deleted the volume.",
    "The team is to blame for the missing alert.",
    "The culprit was a junior engineer's change.",
    "They dropped the ball on the certificate renewal.",
]

NEUTRAL = [
    "The deploy script did not check which cluster it targeted.",
    "There was no review step for production config changes.",
    "The alert fired, but the runbook did not describe this failure mode.",
    "Human review is now required for schema migrations.",
    "An error reported by a user in the forum was the first signal.",
    "The load balancer is fault tolerant across two zones.",
    "A faulty disk on node 7 caused the write errors.",
    "It was nobody's fault; the pool size was copied from staging.",
    "Dana rolled back the release at 10:42 and latency recovered.",
    "Lee noticed the certificate expiry warning in the logs.",
    "The pipeline failed to start because the runner was out of disk.",
    "Kubernetes failed to schedule the pods on the tainted nodes.",
    "The on-call engineer was paged within two minutes.",
    "The migration ran longer than expected because the table had 40 million rows.",
    "We will add a check that blocks deploys to the wrong cluster.",
    "Sam restarted the hub pod, which cleared the stuck requests.",
    "The config value was set to 20, which was correct for staging.",
    "Nobody was paged, because the alert had no routing rule.",
    "The request should be retried with backoff, which the client now does.",
    "Engineers on call had no dashboard for the queue depth.",
]


def _blame_lines(prose: str) -> list[str]:
    text = f"---\ndate: 2026-03-04\n---\n# Outage\n\n## Summary\n\n{prose}\n"
    document = Document(DocumentRef("t", "pm.md", "pm.md"), "pm", text)
    return [f.message for f in check(extract(document), select_rules(["PM404"]))]


@pytest.mark.parametrize("sentence", BLAME)
def test_blame_is_caught_with_a_rewrite(sentence: str) -> None:
    (message,) = _blame_lines(sentence)
    assert "instead" in message


@pytest.mark.parametrize("sentence", NEUTRAL)
def test_neutral_facts_are_not_blame(sentence: str) -> None:
    assert _blame_lines(sentence) == []


def test_quoted_chat_and_code_are_not_the_authors_words() -> None:
    prose = (
        "> 10:02 <dana> my bad, human error on my side\n\n"
        "```\n# should have used --dry-run\n```\n\nThe deploy tool had no dry-run default."
    )
    assert _blame_lines(prose) == []


def test_blame_findings_point_at_their_line() -> None:
    text = "---\ndate: 2026-03-04\n---\n# Outage\n\nFine.\n\nIt was human error.\n"
    document = Document(DocumentRef("t", "pm.md", "pm.md"), "pm", text)
    (finding,) = check(extract(document), select_rules(["PM404"]))
    assert (finding.line, finding.code) == (8, "PM404")


def test_each_blaming_line_is_reported_once_quoting_what_blames() -> None:
    prose = (
        "It was human error, and human error again.\n\n"
        "They ignored the first page, then Dana missed the second and Lee forgot the third.\n\n"
        "Sam didn't follow the runbook."
    )
    assert _blame_lines(prose) == [
        'blame language ("human error"); instead, describe the conditions that made the mistake '
        "easy: a missing guard rail, an unclear interface, no review step",
        'a person as the subject of a failure ("Dana missed"); instead, describe what the '
        "process or tooling allowed",
        'a person as the subject of a failure ("Sam didn\'t follow"); instead, describe what '
        "the process or tooling allowed",
    ]
