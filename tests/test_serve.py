"""`pmsync serve`: signed webhooks on loopback, verified by each provider's documented scheme,
flowing a closed issue back to the post-mortem in seconds; every bad delivery refused with its
4xx and nothing written; repeats, strangers' issues, disorder and bursts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import structlog

from syncer import logs, scheduler, server, webhooks
from syncer.pipeline import sync
from syncer.settings import load_settings
from tests.fakes.github import FakeGitHub
from tests.waiting import until

STARTED = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
SECRET = "gh-webhook-secret-" + "7" * 20
TOKEN = "ghp_" + "5e7e" * 9
DOC = """---
id: PM-3
title: Queue backlog
date: 2026-03-04
---
# Queue backlog

## Action items

- [ ] Alert when the queue is deeper than 10,000 messages (owner: Dana Kim)
- [ ] Add a runbook step to drain the queue safely (owner: Sam Rivera)
"""
PEOPLE = '[[people]]\nname = "Dana Kim"\ngithub = "dana"\n\n[[people]]\nname = "Sam Rivera"\ngithub = "sam-rivera"\n'


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Served:
    root: Path
    fake: FakeGitHub
    url: str
    serving: server.Serving

    @property
    def doc(self) -> Path:
        return self.root / "pm" / "pm-3.md"

    def post(self, body: bytes, headers: dict[str, str], tracker: str = "gh") -> requests.Response:
        return requests.post(
            f"{self.url}/webhooks/{tracker}", data=body, headers=headers, timeout=10
        )

    def deliver(self, action: str, number: int, delivery: str | None = None) -> requests.Response:
        issue = self.fake.issues[number]
        body = json.dumps({"action": action, "issue": issue, "repository": {"id": 1}}).encode()
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": _sign(body),
            "Content-Type": "application/json",
        }
        return self.post(body, headers)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    (tmp_path / "pm").mkdir()
    (tmp_path / "pm" / "pm-3.md").write_text(DOC)
    (tmp_path / "people.toml").write_text(PEOPLE)
    (tmp_path / "hook-secret").write_text(SECRET + "\n")
    fake = FakeGitHub()
    with fake.running():
        (tmp_path / "config.toml").write_text(
            'people_file = "people.toml"\n[sources.docs]\nkind = "markdown-dir"\npath = "pm"\n'
            'link_base_url = "https://github.test/acme/pm/blob/main/"\n'
            'write_back = "links+status"\n'
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            'write_interval_seconds = 0\nwebhook_secret_file = "hook-secret"\n'
            '[routing]\ndefault = "gh"\n[serve]\nmax_body_kib = 64\n'
        )
        settings = load_settings(tmp_path / "config.toml")
        assert sync(settings, dry_run=False).counts()["created"] == 2
        job = scheduler.webhook_job(settings, lambda: STARTED)
        serving = server.start(settings, job, host="127.0.0.1", port=0)
        try:
            yield Served(tmp_path, fake, serving.url, serving)
        finally:
            serving.stop()


def _close(fake: FakeGitHub, number: int) -> None:
    fake.issues[number].update(state="closed", state_reason="completed", closed_at=fake.stamp())


def test_a_closed_issue_flows_back_to_the_post_mortem_within_five_seconds(served: Served) -> None:
    assert "- [ ] Alert when the queue" in served.doc.read_text()
    _close(served.fake, 1)
    delivery = str(uuid.uuid4())
    answer = served.deliver("closed", 1, delivery)
    assert answer.status_code == 202
    until(lambda: "- [x] Alert when the queue" in served.doc.read_text(), 5)
    assert "- [ ] Add a runbook step" in served.doc.read_text()
    assert served.serving.worker.idle(5)
    runs = served.serving.worker.runs
    again = served.deliver("closed", 1, delivery)  # the same delivery, redelivered
    assert again.status_code == 200
    assert again.json() == {"status": "already received"}
    assert served.serving.worker.idle(0)  # not woken: a wake is before the answer
    assert served.serving.worker.runs == runs


def _refusals(served: Served) -> list[tuple[str, requests.Response]]:
    issue = served.fake.issues[1]
    body = json.dumps({"action": "closed", "issue": issue}).encode()
    base = {"X-GitHub-Event": "issues", "Content-Type": "application/json"}
    big = json.dumps({"action": "closed", "issue": issue, "pad": "x" * 70_000}).encode()
    broken = b'{"action": "closed", "issue": '
    return [
        ("forged", served.post(body, {**base, "X-Hub-Signature-256": _sign(body, "wrong")})),
        ("missing", served.post(body, base)),
        ("wrong method", served.post(body, {**base, "X-Hub-Signature-256": "sha1=" + "0" * 40})),
        ("too large", served.post(big, {**base, "X-Hub-Signature-256": _sign(big)})),
        ("malformed", served.post(broken, {**base, "X-Hub-Signature-256": _sign(broken)})),
        ("no such tracker", served.post(body, {**base, "X-Hub-Signature-256": _sign(body)}, "x")),
    ]


def test_every_bad_delivery_gets_its_4xx_writes_nothing_and_logs_no_body_or_secret(
    served: Served,
) -> None:
    stream = io.StringIO()
    logs.configure("debug", json=True, stream=stream)
    try:
        _close(served.fake, 1)
        before = served.doc.read_text()
        answers = {name: answer.status_code for name, answer in _refusals(served)}
    finally:
        structlog.reset_defaults()
    assert answers == {
        "forged": 401,
        "missing": 401,
        "wrong method": 401,
        "too large": 413,
        "malformed": 400,
        "no such tracker": 404,
    }
    assert served.serving.worker.idle(0)  # never woken
    assert served.serving.worker.runs == 0
    assert served.doc.read_text() == before
    seen = stream.getvalue()
    assert "webhook_refused" in seen
    assert SECRET not in seen
    assert "Alert when the queue" not in seen  # no body in the logs


def test_events_on_issues_pmsync_did_not_file_change_nothing(served: Served) -> None:
    number = served.fake.add_issue("Someone's issue", "No marker here.", user="mallory", labels=[])
    served.fake.issues[number].update(state="closed", state_reason="completed")
    answer = served.deliver("closed", number)
    assert answer.status_code == 204
    unknown = json.dumps({"zen": "Keep it logically awesome."}).encode()
    ping = served.post(
        unknown,
        {
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "p-1",
            "X-Hub-Signature-256": _sign(unknown),
        },
    )
    assert ping.status_code == 204
    assert served.serving.worker.idle(0)  # never woken
    assert served.serving.worker.runs == 0


def test_close_then_reopen_out_of_order_ends_as_the_tracker_says(served: Served) -> None:
    _close(served.fake, 1)
    served.fake.issues[1].update(state="open", state_reason="reopened", closed_at=None)
    # The reopen arrives first, then the older close: the tracker says open.
    assert served.deliver("reopened", 1).status_code == 202
    assert served.deliver("closed", 1).status_code == 202
    assert served.serving.worker.idle(10)
    assert "- [ ] Alert when the queue" in served.doc.read_text()
    _close(served.fake, 1)
    assert served.deliver("closed", 1).status_code == 202
    until(lambda: "- [x] Alert when the queue" in served.doc.read_text(), 5)


def test_a_burst_of_a_thousand_deliveries_is_all_answered_and_coalesced(served: Served) -> None:
    _close(served.fake, 2)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda n: served.deliver("closed", 2).status_code, range(1000)))
    assert len(answers) == 1000
    assert set(answers) == {202}
    until(lambda: "- [x] Add a runbook step" in served.doc.read_text(), 20)
    assert served.serving.worker.idle(20)
    assert 1 <= served.serving.worker.runs <= 20  # coalesced: not one sync a delivery
    kept = server.Deliveries.load(served.root / ".pmsync" / server.DELIVERIES_FILE)
    assert len(kept.seen) == 1000


def test_health_and_metrics_are_served(served: Served) -> None:
    assert requests.get(f"{served.url}/healthz", timeout=5).json()["ok"] is True
    metrics = requests.get(f"{served.url}/metrics", timeout=5, allow_redirects=False)
    assert metrics.status_code == 200
    assert "python_info" in metrics.text


# --- each provider's scheme, as documented ---------------------------------------------------

NOW = 1_780_000_000.0
BODY = json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-1"}}).encode()


def test_jira_accepts_only_the_method_it_supports() -> None:
    secrets = webhooks.Secrets(signing=b"jira-secret")
    good = "sha256=" + hmac.new(b"jira-secret", BODY, hashlib.sha256).hexdigest()
    headers = {"x-hub-signature": good, "x-atlassian-webhook-identifier": "42"}
    assert webhooks.verify("jira", headers, BODY, secrets, NOW) == "42"
    sha1 = "sha1=" + hmac.new(b"jira-secret", BODY, hashlib.sha1).hexdigest()
    with pytest.raises(webhooks.Refused, match="method 'sha1' is not supported"):
        webhooks.verify("jira", {"x-hub-signature": sha1}, BODY, secrets, NOW)


def _gitlab_signed(secret: bytes, stamp: float, body: bytes = BODY) -> dict[str, str]:
    key = base64.b64decode(secret[6:])
    signed = b"msg_1." + str(int(stamp)).encode() + b"." + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(stamp)),
        "webhook-signature": f"v1,{signature}",
        "idempotency-key": "d-1",
    }


def test_gitlab_signing_tokens_are_checked_with_their_timestamp() -> None:
    secret = b"whsec_" + base64.b64encode(b"gitlab-signing-key-0123456789")
    secrets = webhooks.Secrets(signing=secret)
    assert webhooks.verify("gitlab", _gitlab_signed(secret, NOW), BODY, secrets, NOW) == "d-1"
    stale = _gitlab_signed(secret, NOW - 900)
    with pytest.raises(webhooks.Refused, match="outside the five minutes"):
        webhooks.verify("gitlab", stale, BODY, secrets, NOW)
    forged = {**_gitlab_signed(secret, NOW), "webhook-signature": "v1,AAAA"}
    with pytest.raises(webhooks.Refused, match="does not match"):
        webhooks.verify("gitlab", forged, BODY, secrets, NOW)


def test_gitlab_legacy_tokens_are_compared_in_constant_time() -> None:
    secrets = webhooks.Secrets(token=b"legacy-token")
    headers = {"x-gitlab-token": "legacy-token", "x-gitlab-event-uuid": "u-1"}
    assert webhooks.verify("gitlab", headers, BODY, secrets, NOW) == "u-1"
    with pytest.raises(webhooks.Refused):
        webhooks.verify("gitlab", {"x-gitlab-token": "legacy-tokeN"}, BODY, secrets, NOW)


def test_linear_signatures_need_a_fresh_webhook_timestamp() -> None:
    secrets = webhooks.Secrets(signing=b"lin_wh_secret")

    def signed(stamp_ms: int) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"type": "Issue", "action": "update", "webhookTimestamp": stamp_ms})
        raw = body.encode()
        digest = hmac.new(b"lin_wh_secret", raw, hashlib.sha256).hexdigest()
        return {"linear-signature": digest, "linear-delivery": "ld-1"}, raw

    headers, raw = signed(int(NOW * 1000) - 20_000)
    assert webhooks.verify("linear", headers, raw, secrets, NOW) == "ld-1"
    headers, raw = signed(int(NOW * 1000) - 120_000)
    with pytest.raises(webhooks.Refused, match="more than a minute"):
        webhooks.verify("linear", headers, raw, secrets, NOW)


def test_webhooks_install_makes_the_github_hook_and_config_check_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from syncer.cli import main

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    fake = FakeGitHub()
    with fake.running():
        (tmp_path / "config.toml").write_text(
            f'[trackers.gh]\nkind = "github"\nrepo = "acme/incidents"\nbase_url = "{fake.url}"\n'
            'webhook_secret_file = "secrets/gh-hook"\n[routing]\ndefault = "gh"\n'
            '[serve]\npublic_url = "https://pmsync.acme.test"\n'
        )
        (tmp_path / "secrets").mkdir()
        config = str(tmp_path / "config.toml")
        assert main(["--config", config, "config", "check", "--online"]) == 0
        assert "no webhook delivers issue events to" in capsys.readouterr().err
        assert main(["--config", config, "webhooks", "install"]) == 0
        out = capsys.readouterr().out
        assert "gh: made a repository hook for https://pmsync.acme.test/webhooks/gh" in out
        [hook] = fake.hooks.values()
        secret = (tmp_path / "secrets" / "gh-hook").read_text().strip()
        assert hook["config"]["secret"] == secret
        assert len(secret) == 64
        assert (tmp_path / "secrets" / "gh-hook").stat().st_mode & 0o077 == 0
        assert hook["events"] == ["issues"]
        assert secret not in out
        assert main(["--config", config, "webhooks", "install"]) == 0  # again: a new secret
        assert "gave the repository hook" in capsys.readouterr().out
        assert len(fake.hooks) == 1
        assert (
            fake.hooks[1]["config"]["secret"]
            == (tmp_path / "secrets" / "gh-hook").read_text().strip()
        )
        assert main(["--config", config, "config", "check", "--online"]) == 0
        assert (
            "its webhook delivers to https://pmsync.acme.test/webhooks/gh"
            in capsys.readouterr().err
        )


def test_webhooks_install_gives_the_gitlab_project_hook_a_signing_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from syncer.cli import main
    from tests.fakes.gitlab import FakeGitLab

    monkeypatch.setenv("GITLAB_TOKEN", "glpat-" + "5" * 20)
    fake = FakeGitLab()
    with fake.running():
        (tmp_path / "config.toml").write_text(
            f'[trackers.lab]\nkind = "gitlab"\nurl = "{fake.url}"\nproject = "{fake.project}"\n'
            'webhook_secret_file = "lab-hook"\n[routing]\ndefault = "lab"\n'
            '[serve]\npublic_url = "https://pmsync.acme.test/"\n'
        )
        config = str(tmp_path / "config.toml")
        assert main(["--config", config, "webhooks", "install"]) == 0
        assert "lab: made a project hook for https://pmsync.acme.test/webhooks/lab" in (
            capsys.readouterr().out
        )
        [hook] = fake.hooks.values()
        secret = (tmp_path / "lab-hook").read_text().strip()
        assert hook["signing_token"] == secret
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret[6:])) == 32
        assert hook["issues_events"] is True
        # What GitLab then signs is what `pmsync serve` verifies.
        settings = load_settings(tmp_path / "config.toml")
        found = server._secrets(settings, "lab")
        assert found is not None
        body = json.dumps({"object_kind": "issue"}).encode()
        stamp = "1780000000"
        key = base64.b64decode(secret[6:])
        mac = hmac.new(key, b"id-1." + stamp.encode() + b"." + body, hashlib.sha256).digest()
        headers = {
            "webhook-id": "id-1",
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(mac).decode(),
        }
        assert webhooks.verify("gitlab", headers, body, found, float(stamp)) == "id-1"
        # A GitLab with signing turned off keeps no token: said, and the old secret stays.
        fake.signing_tokens = False
        fake.hooks.clear()
        assert main(["--config", config, "webhooks", "install"]) == 3
        assert "kept no signing token" in capsys.readouterr().err
        assert (tmp_path / "lab-hook").read_text().strip() == secret


def test_webhooks_install_makes_the_jira_admin_webhook_and_check_renews_dynamic_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from syncer.check import check
    from syncer.cli import main
    from tests.fakes.jira import FakeJira
    from tests.test_jira_tracker import DOC as JIRA_DOC
    from tests.test_jira_tracker import _project_with

    fake = FakeJira()
    with fake.running():
        project = _project_with(
            tmp_path,
            fake,
            JIRA_DOC,
            tracker='webhook_secret_file = "jira-hook"\n',
        )
        project.write_text(
            project.read_text() + '[serve]\npublic_url = "https://pmsync.acme.test"\n'
        )
        config = str(project)
        assert main(["--config", config, "webhooks", "install"]) == 0
        assert "jira: made an admin webhook for https://pmsync.acme.test/webhooks/jira" in (
            capsys.readouterr().out
        )
        [hook] = fake.admin_hooks.values()
        assert hook["secret"] == (tmp_path / "jira-hook").read_text().strip()
        assert hook["events"] == ["jira:issue_updated", "jira:issue_deleted"]
        assert "labels = pmsync" in hook["filters"]["issue-related-events-section"]
        assert main(["--config", config, "config", "check", "--online"]) == 0
        assert "its webhook delivers to" in capsys.readouterr().err
        # Dynamic webhooks an app registered: the one ending within a week is renewed.
        now = fake.clock()
        soon, far = (int((now.timestamp() + days * 86400) * 1000) for days in (2, 20))
        fake.dynamic_hooks = {7: soon, 8: far}
        check(load_settings(project), now=now, dry_run=False)
        assert fake.dynamic_hooks[7] > soon
        assert fake.dynamic_hooks[8] == far
