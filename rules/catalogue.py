"""The rule catalogue: every quality rule pmsync has, with its code, name, default severity and
documentation. `docs/rules.md` is generated from it (`pmsync rules --format markdown`)."""

from __future__ import annotations

from collections.abc import Sequence

from rules import checks
from rules.registry import DocumentRule, ItemRule, Rule, RuleDoc, select_from
from syncer.model import Severity

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
POLICY_CODES = frozenset({"PM105", "PM205"})  # what a policy fills in: information only
INFERRED_CODE = "PM305"  # an item read from prose, for its author to confirm or mark
UNREADABLE_CODE = "PM400"  # a document that cannot be read at all
REPEAT_CODE = "PM601"  # an item an earlier post-mortem promised already

CATALOGUE: tuple[Rule, ...] = (
    ItemRule(
        "PM101",
        "no-owner",
        ERROR,
        RuleDoc(
            what="An open action item names no owner.",
            why="An item that belongs to everyone is done by no one; SMART items have one owner.",
            example="- Add alerting on certificate expiry",
            instead="- Add alerting on certificate expiry (owner: @dana, due: 2026-04-30)",
        ),
        checks.no_owner,
    ),
    ItemRule(
        "PM102",
        "owner-is-a-group",
        WARNING,
        RuleDoc(
            what='The owner is a team, a role or a group ("SRE team", "Leads") rather than one '
            "person. Team names come from the people directory and `[rules] teams`.",
            why="A team cannot be nudged, asked or held to a date; one person can, and can still "
            "share the work.",
            example="- Rotate the leaked keys. Owner: Platform team",
            instead="- Rotate the leaked keys. Owner: Dana Kim",
        ),
        checks.group_owner,
    ),
    ItemRule(
        "PM103",
        "several-owners",
        WARNING,
        RuleDoc(
            what="The item names several owners (`Dana / Lee`, `@dana and @lee`).",
            why="When two people own an item, each can assume the other is on it.",
            example="| Add a canary | Dana Kim / Lee Park |",
            instead="| Add a canary | Dana Kim |  (Lee helps; Dana is responsible)",
        ),
        checks.many_owners,
    ),
    ItemRule(
        "PM104",
        "owner-unknown",
        WARNING,
        RuleDoc(
            what="The owner is not in the people directory, so pmsync cannot assign the issue.",
            why="An unassigned issue is filed with a needs-owner label and is easily forgotten.",
            example="- Add a canary. Owner: Dnaa",
            instead="- Add a canary. Owner: Dana  (or add the person to the people file)",
        ),
        checks.unknown_owner,
    ),
    ItemRule(
        "PM105",
        "owner-by-policy",
        INFO,
        RuleDoc(
            what="The item names no owner pmsync can assign, and the owner policy "
            "(`[policy.owner]`, team triage people) would assign it: the finding says to whom "
            "and why.",
            why="The issue goes to someone the document does not name; the author sees who "
            "before merging, and can name the real owner instead.",
            example="- Add a canary  (in a post-mortem whose facilitator is Lee Park)",
            instead="- Add a canary. Owner: Dana Kim",
        ),
        checks.owner_by_policy,
    ),
    ItemRule(
        "PM201",
        "no-due-date",
        WARNING,
        RuleDoc(
            what="An open action item has no due date.",
            why="Items without a date drift; a date is what a follow-up can hold people to.",
            example="- Add alerting on certificate expiry (owner: @dana)",
            instead="- Add alerting on certificate expiry (owner: @dana, due: 2026-04-30)",
        ),
        checks.no_due,
    ),
    ItemRule(
        "PM202",
        "due-date-not-understood",
        WARNING,
        RuleDoc(
            what="An item's due date is written in a form pmsync cannot read as one date.",
            why="A date nobody can compute is no date: it cannot be tracked or flagged as overdue.",
            example="- Add alerting on certificate expiry (owner: @dana, due: next sprint)",
            instead="- Add alerting on certificate expiry (owner: @dana, due: 2026-04-30)",
        ),
        checks.due_not_understood,
    ),
    ItemRule(
        "PM203",
        "due-before-incident",
        ERROR,
        RuleDoc(
            what="The due date is before the incident (or the document's date).",
            why="It is a typo, most often the wrong year, and the item is overdue from day one.",
            example="- Add a canary (due: 2025-04-30) in a post-mortem of 2026-03-04",
            instead="- Add a canary (due: 2026-04-30)",
        ),
        checks.due_before_incident,
    ),
    ItemRule(
        "PM204",
        "due-too-far",
        WARNING,
        RuleDoc(
            what="The due date is more than `[rules] max_due_days` (default 180) after the "
            "incident, or after today when the post-mortem gives no incident date.",
            why="Far dates are wishes; by then the context is gone. Split the work into a first "
            "step that can be done soon.",
            example="- Rewrite the scheduler (due: 2028-01-01)",
            instead="- Write the scheduler rewrite proposal (due: 2026-05-01)",
        ),
        checks.due_too_far,
    ),
    ItemRule(
        "PM205",
        "due-by-policy",
        INFO,
        RuleDoc(
            what="The item gives no due date pmsync can read, and the due-date policy "
            "(`[policy.due]`) or the end of the period it names (`Q2 2026`) would set one: the "
            "finding says which day and why.",
            why="The issue gets a date the document does not state; the author sees it before "
            "merging, and can write the real one instead.",
            example='- Add a canary (owner: Dana Kim)  (a P1 item, with `P1 = "4w"`)',
            instead="- Add a canary (owner: Dana Kim, due: 2026-04-30)",
        ),
        checks.due_by_policy,
    ),
    ItemRule(
        "PM301",
        "vague-action",
        WARNING,
        RuleDoc(
            what='The item uses wording that names no concrete change: "look into", "be more '
            'careful", "communicate better", "consider", "try to", and "improve", '
            '"investigate", "ensure", "review" without a deliverable or threshold. The phrases '
            "live in rules/data/vague.toml; add your own with `[rules] vague_phrases`.",
            why="Vague items cannot be finished, so they are never closed; asking people to be "
            "careful changes nothing in the system that let the incident happen.",
            example="- Improve monitoring",
            instead="- Alert when the checkout error rate is above 2% for 5 minutes",
        ),
        checks.vague,
    ),
    ItemRule(
        "PM302",
        "not-measurable",
        INFO,
        RuleDoc(
            what="The item names no threshold, deliverable or observable end state.",
            why="Without one, nobody can tell when the item is done.",
            example="- Make deploys safer",
            instead="- Require a second approval for production deploys in the pipeline",
        ),
        checks.not_measurable,
    ),
    ItemRule(
        "PM303",
        "several-actions",
        WARNING,
        RuleDoc(
            what="One item holds several separate actions (two clauses, each with its own verb "
            "and its own work).",
            why="Half-done items stay open forever; one item per action can each be owned and "
            "closed.",
            example="- Add an alert on pool usage and document the rollback procedure",
            instead="- Add an alert on pool usage\n- Document the rollback procedure",
        ),
        checks.several_actions,
    ),
    ItemRule(
        "PM304",
        "placeholder-or-too-short",
        ERROR,
        RuleDoc(
            what="A template placeholder (`TBD`, `{{ summary }}`, `[owner]`) was left in a real "
            "post-mortem, or the item is too short to act on (fewer than three words).",
            why="Placeholders are never filed, so the action silently goes missing.",
            example="- TBD",
            instead="- Add a readiness probe to the ingress controller",
        ),
        checks.placeholder_or_short,
        placeholders=True,
    ),
    ItemRule(
        INFERRED_CODE,
        "inferred-item",
        INFO,
        RuleDoc(
            what="The item was read from prose, not stated as an action: a commitment such as "
            '"we will …" in a paragraph, or a line in a Mitigation, Resolution or Recovery '
            "section, or in a document with no action section. With `[extract] file_inferred "
            "= false` (the default) it is not filed until its author settles it.",
            why="A sentence that reads as a promise may be one, or may describe a design or "
            "restate a lesson. Only the author knows; a ticket nobody meant is noise in "
            "someone's tracker.",
            example="## Mitigation\nWe will add a second relay before the next release.",
            instead="## Action items\n- Add a second relay before the next release (owner: "
            "@dana)\n\nor, to keep the sentence and never file it:\nWe will add a second relay. "
            "<!-- pmsync: not-an-item -->",
        ),
        checks.inferred,
    ),
    DocumentRule(
        UNREADABLE_CODE,
        "document-unreadable",
        ERROR,
        RuleDoc(
            what="The document cannot be read: text that is not UTF-8, front matter that is not "
            "valid YAML, a table too large to be a post-mortem's, a file that cannot be opened. "
            "Reported where the document is read; nothing in it is checked or filed.",
            why="Action items in a document pmsync cannot read are never filed, and nobody "
            "notices unless the author is told where they look.",
            example="---\ntitle: Outage: DNS\n---",
            instead='---\ntitle: "Outage: DNS"\n---',
        ),
        checks.nothing,
    ),
    DocumentRule(
        "PM401",
        "no-action-section",
        ERROR,
        RuleDoc(
            what="The document has no action-item section (Action items, Follow-ups, "
            "Remediation, Corrective actions, Next steps…).",
            why="A post-mortem without actions records the incident but changes nothing.",
            example="# Outage\n## Timeline\n…",
            instead="## Action items\n- Add a canary (owner: @dana, due: 2026-04-30)",
        ),
        checks.no_action_section,
    ),
    DocumentRule(
        "PM402",
        "no-root-cause",
        WARNING,
        RuleDoc(
            what="The document has no root-cause or contributing-factors section.",
            why="Actions should address causes, not symptoms; without the analysis, nobody can "
            "check that they do.",
            example="# Outage\n## Timeline\n## Action items",
            instead="## Root cause\nThe pool was sized for staging because…",
        ),
        checks.no_root_cause,
    ),
    DocumentRule(
        "PM403",
        "items-not-linked-to-causes",
        INFO,
        RuleDoc(
            what="The document lists several root causes, and no item says which it addresses.",
            why="Linking each action to a cause shows that every cause is addressed.",
            example="| Action | Owner |",
            instead="| Action | Owner | Root cause |",
        ),
        checks.items_without_cause,
    ),
    DocumentRule(
        "PM404",
        "blame",
        ERROR,
        RuleDoc(
            what='Blame language: "human error", "X\'s fault", "should have", "careless", '
            'or a person\'s name as the subject of a failure ("Dana forgot to…"). The phrases '
            "live in rules/data/blame.toml.",
            why="Blame makes people hide mistakes, and hides the conditions that made the "
            "mistake easy; blameless reviews find causes people can fix.",
            example="Dana forgot to update the config, a human error.",
            instead="The deploy did not check that the config matched production.",
        ),
        checks.blame,
    ),
    DocumentRule(
        "PM405",
        "no-what-went-well",
        INFO,
        RuleDoc(
            what='The document has no "what went well" section.',
            why="Knowing what worked keeps it working, and keeps the review balanced.",
            example="## Lessons learned\n- Alerts were noisy",
            instead="## What went well\n- The on-call engineer was paged within 2 minutes",
        ),
        checks.no_went_well,
    ),
    DocumentRule(
        "PM406",
        "no-incident-date",
        WARNING,
        RuleDoc(
            what="The document gives no incident date (front matter `date:`, a date in the "
            "title, or a `Date:` line).",
            why="Due dates, the follow-up review and the digest are all counted from it.",
            example="# Checkout outage",
            instead="---\ndate: 2026-03-04\n---\n# Checkout outage",
        ),
        checks.no_incident_date,
    ),
    DocumentRule(
        REPEAT_CODE,
        "repeated-item",
        INFO,
        RuleDoc(
            what="The item promises what an item of an earlier post-mortem promised, and that "
            "one is still open, or was dropped: the same action on the same object, in any "
            "words. The note names the earlier post-mortem, its item, how long it has been "
            "open, its owner and its issue. Checked across every post-mortem `lint` reads "
            "(and the configured folders'); see docs/recurrence.md.",
            why="The same promise made twice, with the first still open, is how an incident "
            "comes back. Pointing to the existing issue keeps one owner and one history.",
            example="- Add an alert on replication lag  (already in PM-2026-012, still open)",
            instead="- Add an alert on replication lag (same as https://github.com/acme/ops/"
            "issues/12)\n\nLinking the earlier issue marks the item as the same promise: "
            "`sync` files nothing new and notes on the earlier issue that it was promised "
            "again.",
        ),
        checks.nothing,
    ),
)


def select_rules(select: Sequence[str] = ("PM",), ignore: Sequence[str] = ()) -> list[Rule]:
    """Catalogue rules by code prefix; a prefix that matches nothing is an error naming it."""
    return select_from(CATALOGUE, select, ignore)
