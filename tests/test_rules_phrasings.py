"""Action items as teams really write them, each with the codes it must and must not raise.

Every item gets a known owner and a date unless the row is about ownership, so that each row
tests its wording. SMART rows must raise no wording or ownership finding at all.
"""

from __future__ import annotations

import pytest

from connectors.extract import extract
from rules import RuleContext, check, select_rules
from syncer.model import Document, DocumentRef

WORDING = {"PM301", "PM302", "PM303", "PM304"}
OWNERSHIP = {"PM101", "PM102", "PM103", "PM104"}
KNOWN = {"dana kim", "dana", "@dana", "lee park", "lee", "sam rivera", "@sam", "priya"}
CONTEXT = RuleContext(
    is_known_person=lambda owner: owner.casefold() in KNOWN, teams=frozenset({"payments"})
)
RULES = select_rules(["PM1", "PM3"])

SMART = [
    "Add a PodDisruptionBudget for CoreDNS that keeps at least 2 of 3 replicas up",
    "Alert when the database connection pool is above 90% for 5 minutes",
    "Version the payments settings file and deploy it through the release pipeline",
    "Load-test checkout at twice last year's peak before each sale",
    "Add a runbook step for rolling back settings changes, with the exact command",
    "Scale CoreDNS with the node count: one replica per 16 nodes, at least 3",
    "Page the on-call engineer when the newest indexed document is over 30 minutes old",
    "Require two approvals for changes to the production Terraform workspace",
    "Set a 10 second timeout on all calls from checkout to the fraud service",
    "Limit build pods to 4 GiB of memory",
    "Rotate the leaked GitHub token and revoke the old one",
    "Add a CI check that fails when the cluster name differs from the workspace name",
    "Publish the incident report on the status page",
    "Migrate the persons table to the partitioned schema",
    "Remove the nfs-share-creator job from every hub",
    "Add *.out to .gitignore in the infrastructure repository",
    "Write a runbook for revoking a token through the API",
    "Enable Inspector scanning for all ECR repositories",
    "Cap Envoy retries at 2 per request between the load balancer and the flags service",
    "Move the flags service to its own Redis instance",
    "Pin the hub image to 1.4.2 until the memory leak fix is released",
    "Document the node pool upgrade procedure, including a DNS check after each pool",
    "Add a synthetic probe that resolves five internal names every 30 seconds",
    "Deploy the culler fix from jupyterhub PR 1807 to mybinder.org",
    "Create a dashboard of queue backlog per worker pool with links to the runbook",
    "Disable the image cleaner on production until its inode threshold bug is fixed",
    "Hold a failover drill for the payments database every quarter",
    "Add the freshness check to the deploy pipeline",
    "Configure Stackdriver to alert on config load failures in hook",
    "Reduce local retention of the ingestion Kafka topic to 6 hours",
    "Replace Sablubot with a bot the platform team controls",
    "Set up break-glass access for two platform engineers",
]

VAGUE = [
    "Look into why the deploy failed",
    "Be more careful when deploying the indexer",
    "Improve monitoring",
    "Communicate better with customers during incidents",
    "Consider using a versioned API for Prow config",
    "Investigate options for improving rollover process",
    "Try to catch config errors earlier",
    "Ensure this doesn't happen again",
    "Better alerting",
    "Improve handling of spawners that are slow to stop",
    "Pay more attention to warnings in the deploy output",
    "Keep an eye on disk usage on the build nodes",
    "Figure out how to monitor the critical CVEs",
    "Raise awareness of the rollback procedure",
    "Review our incident response process",
    "Explore other data stores for the persons database",
    "Make sure people know how to escalate",
    "Revisit automatic pull requests",
    "Be more vigilant about expiring certificates",
    "Think about capacity planning",
    "Investigate memory usage of the hub",
    "More testing of the culler",
    "Improve documentation",
    "Discuss modularity of our Terraform repo",
    "Look into the flaky tests in CI",
    "Enhance observability",
    "Optimize the build process",
    "Follow up on the DNS issues",
    "Improve communication between teams",
    "Evaluate our on-call rotation",
    "Fix the thing",
    "Handle it",
    "Deal with this",
    "Sort this out",
    "Fix the stuff.",
    "Address the issues",
]

NOT_MEASURABLE = [
    "Make deploys safer",
    "Get buy-in from leadership on reliability work",
    "Make the culler more robust",
    "Make the indexer deploy resumable",
]

SEVERAL = [
    "Add an alert on pool usage and document the rollback procedure",
    "Upgrade the ingress controller; rotate the certificates on all clusters",
    "Write the incident report. Publish it on the status page",
    "Add retries to the webhook client and move the queue to its own Redis",
    "Fix the culler bug, as well as add tests for the image cleaner",
    "Create a staging cluster and migrate the QA jobs to the new runners",
]

TOO_SHORT = ["Monitoring", "Fix it", "Alerts", "Tests"]

OWNERS = [
    ("Payments team", {"PM102"}, {"PM101", "PM103", "PM104"}),
    ("SRE", {"PM102"}, {"PM101", "PM103", "PM104"}),
    ("payments", {"PM102"}, {"PM101", "PM103", "PM104"}),
    ("Leads", {"PM102"}, {"PM101", "PM103", "PM104"}),
    ("Dana Kim / Lee Park", {"PM103"}, {"PM101", "PM102", "PM104"}),
    ("Dana and Lee", {"PM103"}, {"PM101", "PM102", "PM104"}),
    ("Bob Unknown", {"PM104"}, {"PM101", "PM102", "PM103"}),
    ("Dana Kim", set(), OWNERSHIP),
    ("@dana", set(), OWNERSHIP),
    ("priya", set(), OWNERSHIP),
]

ROWS: list[tuple[str, str, set[str], set[str]]] = [
    *((text, "Dana Kim", set(), WORDING | OWNERSHIP) for text in SMART),
    *((text, "Dana Kim", {"PM301"}, set()) for text in VAGUE),
    *((text, "Dana Kim", {"PM302"}, {"PM303"}) for text in NOT_MEASURABLE),
    *((text, "Dana Kim", {"PM303"}, {"PM301"}) for text in SEVERAL),
    *((text, "Dana Kim", {"PM304"}, set()) for text in TOO_SHORT),
    *(
        ("Add an alert on pool use above 90%", owner, must, must_not)
        for owner, must, must_not in OWNERS
    ),
]


def _codes(title: str, owner: str) -> set[str]:
    text = f"## Action items\n\n- {title}. Owner: {owner}. Due: 2026-04-01\n"
    document = Document(DocumentRef("t", "pm.md", "pm.md"), "pm", text)
    return {finding.code for finding in check(extract(document), RULES, CONTEXT)}


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 80


@pytest.mark.parametrize(
    ("title", "owner", "must", "must_not"), ROWS, ids=[r[0][:40] for r in ROWS]
)
def test_phrasing(title: str, owner: str, must: set[str], must_not: set[str]) -> None:
    codes = _codes(title, owner)
    assert must <= codes, f"missing {sorted(must - codes)}"
    assert not (codes & must_not), f"unexpected {sorted(codes & must_not)}"
