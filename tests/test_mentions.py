"""Text pasted into a post-mortem notifies nobody: what pmsync sends to a tracker mentions and
cross-links only the people it assigns (and, in follow-up, their managers)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from syncer.pipeline import sync
from syncer.render import safe_text
from syncer.settings import load_settings
from tests.fakes.github import FakeGitHub
from tests.fakes.jira import FakeJira

HOSTILE = (
    "Ask @mallory and @acme/everyone about #1, acme/web#5 and GH-7, cc [~accountid:evil] "
    "and [~admin], also &#64;eve and `stray backtick @trent"
)
DOC = f"""---
id: PM-9
title: "Outage, see #2 @mallory"
date: 2026-03-04
facilitator: Lee Park
---
# Outage

## Action items

| Action | Owner |
|---|---|
| Rotate the keys. {HOSTILE} | |
"""
PEOPLE = """
[[people]]
name = "Lee Park"
github = "priyan"
jira = "acc-lee1"

[policy.owner]
fallback = ["postmortem"]
"""
# What GitHub links: @login or @org/team not inside a word or an e-mail address, #n, GH-n.
GITHUB_LIVE = re.compile(r"(?<![\w.+-])@[A-Za-z0-9][\w-]*|(?<![&\w])#\d|(?<=/)\w+#\d|\bGH-\d", re.I)


@pytest.mark.parametrize(
    ("text", "live"),
    [
        ("@dana", False),
        ("acme/web#5", False),
        ("#12", False),
        ("gh-7", False),
        ("[~accountid:x]", False),
        ("&#64;dana", False),
        ("dana@example.com", True),  # an e-mail address is left as it is
        ("C# and &#8212;", True),
    ],
)
def test_safe_text_breaks_every_kind_of_reference(text: str, live: bool) -> None:
    assert (safe_text(text) == text) is live
    assert safe_text(text).replace("\u200b", "") == text.replace("&#64;", "@")


def _project(tmp_path: Path, tracker: str) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "pm-9.md").write_text(DOC)
    config = tmp_path / "config.toml"
    config.write_text(PEOPLE + '[sources.docs]\nkind = "markdown-dir"\npath = "docs"\n' + tracker)
    return config


def test_github_receives_no_live_mention_but_the_assignees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeGitHub(collaborators={"priyan"})
    with fake.running():
        config = _project(
            tmp_path,
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            'write_interval_seconds = 0\nmax_writes_per_minute = 0\n[routing]\ndefault = "gh"\n',
        )
        monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "0" * 36)
        run = sync(load_settings(config), dry_run=False)
        assert not run.problems
        sent = [
            str(payload.get(key, ""))
            for method, _, payload in fake.payloads
            if method in ("POST", "PATCH")
            for key in ("title", "body")
        ]
    live = sorted({m.group() for text in sent for m in GITHUB_LIVE.finditer(text)})
    assert live == ["@priyan"]  # the hand-over comment to the person assigned
    assert any("mallory" in text for text in sent)  # the text is there, only not live


def test_jira_receives_no_mention_node_but_the_assignees(tmp_path: Path) -> None:
    fake = FakeJira(deployment="cloud")
    with fake.running():
        config = _project(
            tmp_path,
            f'[trackers.jira]\nkind = "jira"\nurl = "{fake.url}"\ndeployment = "cloud"\n'
            'project = "OPS"\nemail = "pmsync@acme.test"\napi_token = "t"\n'
            'retry_backoff_seconds = 0.01\n[routing]\ndefault = "jira"\n',
        )
        run = sync(load_settings(config), dry_run=False)
        assert not run.problems
        bodies = [body for method, _, _, body in fake.requests if method in ("POST", "PUT")]
    mentions = sorted({node["attrs"]["id"] for body in bodies for node in _nodes(body, "mention")})
    assert mentions == ["acc-lee1"]  # the hand-over comment to the person assigned
    text = json.dumps(bodies, ensure_ascii=False)
    assert "[~accountid:evil]" not in text
    assert "[\u200b~accountid:evil]" in text  # the text is there, only not live


def _nodes(data: Any, kind: str) -> list[dict[str, Any]]:
    """Every ADF node of `kind` anywhere in a request body."""
    found = []
    if isinstance(data, dict):
        if data.get("type") == kind:
            found.append(data)
        for value in data.values():
            found += _nodes(value, kind)
    elif isinstance(data, list):
        for value in data:
            found += _nodes(value, kind)
    return found
