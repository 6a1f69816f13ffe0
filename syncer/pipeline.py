"""One run, composed: read documents, check them, read trackers, plan, and (unless dry) apply.

Every failure that concerns one document or one tracker is collected as a `Problem` and the
run goes on with the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import cast
from urllib.parse import urlparse

import structlog

from connectors.base import DocumentSource, Guarded, Leasing, Tracker
from connectors.extract import ExtractOptions, extract
from connectors.sources.cache import CachedSource
from connectors.sources.confluence import ConfluenceOptions, ConfluenceSource, confluence_cql
from connectors.sources.github_repo import GithubRepoSource, RepoOptions
from connectors.sources.google_drive import DriveOptions, GoogleDriveSource
from connectors.sources.markdown_dir import MarkdownDirSource
from connectors.trackers.github import GithubOptions, GithubTracker
from connectors.trackers.jira import JiraOptions, JiraTracker
from connectors.trackers.local import LocalTracker
from rules import RuleContext, check, select_rules
from rules.words import Phrase
from syncer import writeback
from syncer.applier import Outcome, apply, converge, hand_over
from syncer.errors import ConfigError, DocumentError, FatalError, PmsyncError, SkippableError
from syncer.model import (
    ActionItem,
    Document,
    Finding,
    IssueSnapshot,
    PlannedAction,
    Postmortem,
    SyncPlan,
)
from syncer.people import Directory, load_directory
from syncer.planner import Target, plan
from syncer.policy import Policy
from syncer.settings import (
    ConfluenceSourceSettings,
    DriveSourceSettings,
    GithubRepoSourceSettings,
    GithubTrackerSettings,
    JiraTrackerSettings,
    LocalTrackerSettings,
    RoutingSettings,
    Settings,
    github_token,
)

log = structlog.get_logger("pmsync.pipeline")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that went wrong for one document, source or tracker."""

    where: str
    message: str
    fatal: bool = False


@dataclass(slots=True)
class Reading:
    """The documents of one run, read and checked."""

    postmortems: list[Postmortem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    documents: dict[tuple[str, str], Document] = field(default_factory=dict)  # by source, id
    skipped: list[str] = field(default_factory=list)  # files in source folders not read

    def findings_by_item(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            if finding.item_key:
                grouped[finding.item_key].append(finding)
        return grouped


@dataclass(slots=True)
class SyncRun:
    reading: Reading
    plan: SyncPlan
    outcomes: list[Outcome]
    problems: list[Problem]
    dry_run: bool
    write_back: writeback.WriteBack = field(default_factory=lambda: writeback.WriteBack())

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)

    def counts(self) -> dict[str, int]:
        counts = {"created": 0, "updated": 0, "unchanged": 0, "closed": 0, "failed": 0}
        names = {"create": "created", "update": "updated", "unchanged": "unchanged"}
        for outcome in self.outcomes:
            if not outcome.ok:
                counts["failed"] += 1
            elif outcome.action.op in names or outcome.action.op == "close":
                counts[names.get(outcome.action.op, "closed")] += 1
        return counts


def read_configured(
    settings: Settings,
    sources: Sequence[DocumentSource] | None = None,
    *,
    rule_select: Sequence[str] = ("PM",),
    rule_ignore: Sequence[str] = (),
    context: RuleContext | None = None,
) -> Reading:
    """`read_documents` on the configured sources (or `sources`), each with its own options.

    Remote sources keep their documents in `<state_dir>/sources/`, so that a document whose
    version did not change is not fetched again."""
    folder = settings.path(settings.state_dir) / "sources"
    readers: list[DocumentSource] = []
    for source in sources if sources is not None else build_sources(settings):
        remote = getattr(source, "remote", False)
        readers.append(CachedSource(source, folder) if remote else source)
    reading = read_documents(
        readers,
        options={n: ExtractOptions(day_first=c.day_first) for n, c in settings.sources.items()},
        rule_select=rule_select,
        rule_ignore=rule_ignore,
        context=context,
    )
    for reader in readers:
        if isinstance(reader, CachedSource):
            reader.save()
    return reading


def read_snapshots(
    name: str, tracker: Tracker, problems: list[Problem]
) -> Sequence[IssueSnapshot] | None:
    """The tracker's synced issues; None, with the reason added to `problems`, if unreadable."""
    try:
        return tracker.snapshot()
    except ConfigError:
        raise  # a wrong address or project: the run cannot start
    except PmsyncError as exc:
        problems.append(Problem(f"tracker {name}", str(exc), isinstance(exc, FatalError)))
        log.info("tracker_unreadable", tracker=name, error=str(exc))
        return None


def read_documents(
    sources: Iterable[DocumentSource],
    *,
    options: Mapping[str, ExtractOptions] | None = None,
    rule_select: Sequence[str] = ("PM",),
    rule_ignore: Sequence[str] = (),
    context: RuleContext | None = None,
) -> Reading:
    """Read, extract and check every document; one bad document is a problem, not a stop."""
    rules = select_rules(rule_select, rule_ignore)
    reading = Reading()
    for source in sources:
        try:
            refs = source.list()
        except PmsyncError as exc:
            reading.problems.append(Problem(f"source {source.name}", str(exc)))
            log.info("source_failed", source=source.name, error=str(exc))
            continue
        for problem in getattr(source, "unreadable", []):
            reading.problems.append(Problem(f"source {source.name}", problem))
            log.info("folder_unreadable", source=source.name, problem=problem)
        for link, target in getattr(source, "outside", []):
            message = (
                f"{link}: a symbolic link to {target}, outside the folder: not read "
                "(follow_symlinks = true reads such files)"
            )
            reading.problems.append(Problem(f"source {source.name}", message))
            log.info("link_outside_skipped", source=source.name, path=link, target=target)
        skipped = getattr(source, "skipped", [])  # a folder source's files that are not read
        reading.skipped += [f"{source.name}: {name}" for name in skipped]
        if skipped:
            log.info("files_skipped", source=source.name, count=len(skipped))
        for ref in refs:
            try:
                document = source.fetch(ref)
                postmortem = extract(document, (options or {}).get(source.name))
            except FatalError as exc:
                # Credentials gone, budget spent: the rest of this source would fail alike.
                message = f"{exc}; stopped reading this source, the next run reads the rest"
                reading.problems.append(Problem(f"source {source.name}", message))
                log.info("source_failed", source=source.name, document=ref.id, error=str(exc))
                break
            except DocumentError as exc:  # it names the file (and line) itself
                reading.problems.append(Problem(exc.where, exc.reason))
                log.info("document_failed", source=source.name, document=ref.id, error=str(exc))
                continue
            except PmsyncError as exc:
                reading.problems.append(Problem(ref.uri, str(exc)))
                log.info("document_failed", source=source.name, document=ref.id, error=str(exc))
                continue
            reading.postmortems.append(postmortem)
            reading.documents[(source.name, ref.id)] = document
            if rules:
                reading.findings += check(postmortem, rules, context)
            log.debug("document_read", document=ref.id, items=len(postmortem.items))
    return reading


def build_sources(settings: Settings) -> list[DocumentSource]:
    sources: list[DocumentSource] = []
    for name, config in settings.sources.items():
        if isinstance(config, GithubRepoSourceSettings):
            sources.append(GithubRepoSource(name, repo_options(name, config, settings)))
        elif isinstance(config, ConfluenceSourceSettings):
            sources.append(ConfluenceSource(name, confluence_options(name, config, settings)))
        elif isinstance(config, DriveSourceSettings):
            sources.append(GoogleDriveSource(name, drive_options(config, settings)))
        else:
            globs = [config.glob] if isinstance(config.glob, str) else config.glob
            root = settings.path(config.path)
            sources.append(
                MarkdownDirSource(
                    name,
                    root,
                    globs,
                    config.exclude,
                    config.link_base_url,
                    config.commit,
                    config.follow_symlinks,
                )
            )
    return [
        cast(DocumentSource, Guarded(source, f"source {source.name}", SkippableError))
        for source in sources
    ]


def repo_options(name: str, config: GithubRepoSourceSettings, settings: Settings) -> RepoOptions:
    globs = [config.glob] if isinstance(config.glob, str) else config.glob
    return RepoOptions(
        auth=_github_auth_options(f"sources.{name}", config.repo, config, settings),
        branch=config.branch,
        path=config.path,
        globs=tuple(globs),
        exclude=tuple(config.exclude),
        write_back_branch=config.write_back_branch,
    )


def confluence_options(
    name: str, config: ConfluenceSourceSettings, settings: Settings
) -> ConfluenceOptions:
    """A Confluence source's settings; the deployment is told by the address when not given."""
    deployment = config.deployment or (
        "cloud"
        if (urlparse(config.url).hostname or "").endswith(".atlassian.net")
        else "datacenter"
    )
    key = f"sources.{name}"
    if deployment == "cloud" and not (config.email and config.api_token):
        problem = f"{key}.api_token: Confluence Cloud needs email and api_token (or api_token_file)"
        raise ConfigError([problem], settings.origin)
    if deployment == "datacenter" and config.token is None:
        problem = f"{key}.token: Confluence Data Center needs a personal access token (token_file)"
        raise ConfigError([problem], settings.origin)
    return ConfluenceOptions(
        url=config.url,
        deployment=deployment,
        cql=confluence_cql(
            space=config.space, label=config.label, ancestor=config.ancestor, cql=config.cql
        ),
        email=config.email,
        api_token=config.api_token.get_secret_value() if config.api_token else None,
        token=config.token.get_secret_value() if config.token else None,
        page_size=config.page_size,
        timeout=config.timeout_seconds,
        max_wait=config.max_wait_seconds,
        backoff=config.retry_backoff_seconds,
    )


def drive_options(config: DriveSourceSettings, settings: Settings) -> DriveOptions:
    credentials = config.credentials_file
    return DriveOptions(
        folder_id=config.folder_id,
        credentials_file=str(settings.path(credentials)) if credentials else None,
        export=config.export,
        recursive=config.recursive,
        timeout=config.timeout_seconds,
        max_wait=config.max_wait_seconds,
        backoff=config.retry_backoff_seconds,
    )


def build_trackers(
    settings: Settings, clock: Callable[[], datetime] | None = None
) -> dict[str, Tracker]:
    trackers: dict[str, Tracker] = {}
    for name, config in settings.trackers.items():
        if isinstance(config, LocalTrackerSettings):
            path = settings.local_store(config)
            trackers[name] = LocalTracker(name, path, clock=clock or _utcnow)
        elif isinstance(config, GithubTrackerSettings):
            trackers[name] = GithubTracker(name, github_options(name, config, settings))
        elif isinstance(config, JiraTrackerSettings):
            trackers[name] = JiraTracker(name, jira_options(name, config, settings))
        else:
            problem = f"trackers.{name}.kind: {config.kind!r} is not available in this version"
            raise ConfigError([problem], settings.origin)
    return {
        name: cast(Tracker, Guarded(tracker, f"tracker {name}", FatalError))
        for name, tracker in trackers.items()
    }


def github_options(name: str, config: GithubTrackerSettings, settings: Settings) -> GithubOptions:
    """A GitHub tracker's settings, as the connector takes them; secrets read from their files."""
    auth = _github_auth_options(f"trackers.{name}", config.repo, config, settings)
    return replace(
        auth,
        bot_login=config.bot_login,
        labels=tuple(config.labels),
        due_date=config.due_date,
        due_field=config.due_field,
        write_interval=config.write_interval_seconds,
        max_writes_per_minute=config.max_writes_per_minute,
        lease=config.lease,
        lease_minutes=config.lease_minutes,
    )


def _github_auth_options(
    key: str,
    repo: str,
    config: GithubTrackerSettings | GithubRepoSourceSettings,
    settings: Settings,
) -> GithubOptions:
    """Where a GitHub repository is and how pmsync signs in to it (`key` names the section)."""
    private_key = None
    if config.private_key_file is not None:
        try:
            private_key = settings.path(config.private_key_file).read_text(encoding="utf-8")
        except OSError as exc:
            problem = f"{key}.private_key_file: cannot read: {exc.strerror or exc}"
            raise ConfigError([problem], settings.origin) from exc
    token = github_token(config)
    if token is None and config.app_id is None:
        problem = (
            f"{key}.token: no token: set token or token_file, or GITHUB_TOKEN, "
            "or app_id, private_key_file and installation_id"
        )
        raise ConfigError([problem], settings.origin)
    return GithubOptions(
        repo=repo,
        base_url=config.base_url,
        token=token,
        app_id=config.app_id,
        private_key=private_key,
        installation_id=config.installation_id,
        max_wait=config.max_wait_seconds,
        timeout=config.timeout_seconds,
        backoff=config.retry_backoff_seconds,
    )


def jira_options(name: str, config: JiraTrackerSettings, settings: Settings) -> JiraOptions:
    """A Jira tracker's settings, as the connector takes them; the deployment is told by the
    site's address when the config does not say (Atlassian Cloud sites are *.atlassian.net)."""
    deployment = config.deployment
    host = urlparse(config.url).hostname or ""
    if deployment is None and host.endswith((".atlassian.net", ".jira.com")):
        deployment = "cloud"
    api_token = config.api_token.get_secret_value() if config.api_token else None
    token = config.token.get_secret_value() if config.token else None
    if not (config.email and api_token) and not token:
        problem = (
            f"trackers.{name}: no credentials: Cloud needs email and api_token (or "
            "api_token_file); Data Center needs token (a personal access token) or token_file"
        )
        raise ConfigError([problem], settings.origin)
    return JiraOptions(
        url=config.url,
        project=config.project,
        deployment=deployment,
        issue_type=config.issue_type,
        email=config.email,
        api_token=api_token,
        token=token,
        components=tuple(config.components),
        priority_map=dict(config.priority_map),
        labels=tuple(config.labels),
        fields=dict(config.fields),
        bot_account=config.bot_account,
        bulk=config.bulk_create,
        write_interval=config.write_interval_seconds,
        max_wait=config.max_wait_seconds,
        timeout=config.timeout_seconds,
        backoff=config.retry_backoff_seconds,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def route_for(postmortem: Postmortem, routing: RoutingSettings) -> str:
    """The tracker for a post-mortem: its front matter `tracker:`, a matching rule, the default."""
    if postmortem.route:
        return postmortem.route
    for rule in routing.rules:
        if rule.team is not None and (postmortem.team or "").casefold() != rule.team.casefold():
            continue
        severity = (postmortem.severity or "").casefold()
        if rule.severity is not None and severity != rule.severity.casefold():
            continue
        return rule.tracker
    return routing.default


def targets_of(settings: Settings, trackers: Mapping[str, Tracker]) -> dict[str, Target]:
    return {
        name: Target(name, tracker.kind, tuple(settings.trackers[name].labels))
        for name, tracker in trackers.items()
    }


def sync(
    settings: Settings,
    *,
    dry_run: bool,
    trackers: Mapping[str, Tracker] | None = None,
    sources: Sequence[DocumentSource] | None = None,
    now: datetime | None = None,
) -> SyncRun:
    """The whole sync: documents to issues. With `dry_run` nothing is written anywhere.
    `now` is the time of the run (the clock's when not given)."""
    now = now or _utcnow()
    today = now.astimezone(UTC).date()
    directory = load_directory(settings)
    policy = Policy.of(settings, directory)
    sources = list(sources) if sources is not None else build_sources(settings)
    reading = read_configured(
        settings,
        sources,
        rule_select=settings.rules.select,
        rule_ignore=settings.rules.ignore,
        context=rule_context(settings, directory, today, policy),
    )
    active = dict(trackers) if trackers is not None else build_trackers(settings, lambda: now)
    problems = list(reading.problems)
    routed = []
    for postmortem in reading.postmortems:
        route = route_for(postmortem, settings.routing)
        if route not in active:
            problems.append(Problem(postmortem.ref.uri, f"front matter names no tracker {route!r}"))
        routed.append(replace(postmortem, route=route))
    snapshots: dict[str, Sequence[IssueSnapshot]] = {}
    for name in sorted({pm.route or "" for pm in routed} & set(active)):
        try:
            snapshots[name] = active[name].snapshot()
        except ConfigError:
            raise  # a wrong address or project: nothing is written
        except PmsyncError as exc:
            fatal = isinstance(exc, FatalError)
            problems.append(Problem(f"tracker {name}", str(exc), fatal))
            log.info("tracker_unreadable", tracker=name, error=str(exc))

    def planned() -> SyncPlan:
        return plan(
            routed,
            snapshots,
            targets_of(settings, active),
            directory,
            reading.findings_by_item(),
            settings.sync,
            policy,
            today,
        )

    the_plan = planned()
    with ExitStack() as leases:
        if dry_run:
            outcomes = [Outcome(a, ref=a.target) for a in the_plan.actions]
        else:
            the_plan = _under_leases(the_plan, active, snapshots, problems, leases, planned)
            outcomes = apply(the_plan, active)
            # Converge under a lease too: a run that outlasts its lease may have shared it.
            outcomes += converge(
                outcomes, active, lambda name: read_snapshots(name, active[name], problems)
            )
            hand_over(outcomes, active)
    for tracker in sorted({o.action.tracker for o in outcomes if o.fatal}):
        error = next(o.error for o in outcomes if o.fatal and o.action.tracker == tracker)
        problems.append(Problem(f"tracker {tracker}", error or "failed", fatal=True))
    filed = writeback.filed_items(outcomes, snapshots)
    edits = writeback.plan_edits(settings, routed, reading.documents, filed)
    if dry_run:
        unfiled = sum(1 for o in outcomes if o.action.op == "create")
        written = writeback.WriteBack(edits, unfiled=unfiled)
    else:
        written = writeback.write(edits, sources)
        problems += [Problem(where, message) for where, message in written.problems]
    return SyncRun(reading, the_plan, outcomes, problems, dry_run, written)


def _under_leases(
    the_plan: SyncPlan,
    trackers: Mapping[str, Tracker],
    snapshots: dict[str, Sequence[IssueSnapshot]],
    problems: list[Problem],
    leases: ExitStack,
    planned: Callable[[], SyncPlan],
) -> SyncPlan:
    """Take the lease of each tracker that has one and is about to file issues; then read it
    again and plan anew, since another run may have filed meanwhile. A tracker whose lease
    someone else holds is left alone this run."""
    filing = sorted({a.tracker for a in the_plan.actions if a.op == "create"})
    held, busy = [], set()
    for name in filing:
        tracker = trackers[name]
        if not isinstance(tracker, Leasing) or not tracker.leased:
            continue
        try:
            if leases.enter_context(tracker.lease()):
                held.append(name)
        except ConfigError:
            raise
        except PmsyncError as exc:
            problems.append(Problem(f"tracker {name}", str(exc)))
            busy.add(name)
    for name in held:
        found = read_snapshots(name, trackers[name], problems)
        if found is None:
            busy.add(name)
        else:
            snapshots[name] = found
    fresh = planned() if held else the_plan
    actions = tuple(
        PlannedAction("skip", a.tracker, "another pmsync is filing there", item=a.item)
        if a.tracker in busy and a.op not in ("skip", "unchanged")
        else a
        for a in fresh.actions
    )
    return SyncPlan(actions)


def rule_context(
    settings: Settings, directory: Directory, today: date | None, policy: Policy | None = None
) -> RuleContext:
    """What the rules know: the people directory, the teams, the limits, extra phrases, and
    what the policies would fill in (reported as information)."""
    policy = policy or Policy.of(settings, directory)
    teams = {name.casefold() for name in settings.rules.teams}
    teams |= {person.team.casefold() for person in directory.people if person.team}
    teams |= {name.casefold() for name in settings.teams}
    return RuleContext(
        today=today,
        is_known_person=(
            (lambda owner: directory.resolve(owner) is not None) if directory.people else None
        ),
        teams=frozenset(teams),
        max_due_days=settings.rules.max_due_days,
        extra_vague=tuple(
            Phrase.literal(v.phrase, v.rewrite) for v in settings.rules.vague_phrases
        ),
        owner_policy=_owner_note(policy) if policy.active else None,
        due_policy=_due_note(policy, today) if policy.active and today else None,
    )


def _owner_note(policy: Policy) -> Callable[[ActionItem, Postmortem], str | None]:
    """Who a policy would assign an item to, and why; None when no policy fills the owner."""

    def note(item: ActionItem, postmortem: Postmortem) -> str | None:
        owner = policy.owner(item, postmortem)
        return owner.describe() if owner.by_policy else None

    return note


def _due_note(policy: Policy, today: date) -> Callable[[ActionItem, Postmortem], str | None]:
    """The due date a policy (or the end of a named period) would give an item filed today."""

    def note(item: ActionItem, postmortem: Postmortem) -> str | None:
        due = policy.due(item, postmortem, today)
        return due.describe() if due.day is not None and due.why else None

    return note
