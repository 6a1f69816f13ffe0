"""Focused GitHub tracker behaviour over `responses`: errors translated at the boundary and
rate limits honoured to the second."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import responses

from connectors.trackers.github import GithubOptions, GithubTracker
from connectors.trackers.retry import WriteThrottle
from syncer.errors import ConfigError, FatalError, SkippableError
from syncer.identity import content_hash
from syncer.model import IssueDraft, TrackerRef
from tests import openapi_check

API = "https://api.github.test"
# PyGithub writes the default port into every URL it requests.
REPO = "https://api.github.test:443/repos/acme/incidents"
TOKEN = "ghp_" + "k" * 36


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        for call in mock.calls:  # each request as GitHub's published description takes it
            openapi_check.GITHUB.check_sent(call.request, API)


@pytest.fixture
def waits() -> list[float]:
    return []


def _tracker(waits: list[float], **options: object) -> GithubTracker:
    settings = {
        "repo": "acme/incidents",
        "base_url": API,
        "token": TOKEN,
        "bot_login": "pmsync-bot",
        "write_interval": 0.0,
        "backoff": 1.0,
        **options,
    }
    return GithubTracker(
        "gh",
        GithubOptions(**settings),  # type: ignore[arg-type]
        sleep=waits.append,
        epoch=lambda: 1_000_000.0,
    )


def _draft() -> IssueDraft:
    draft = IssueDraft(
        "0123456789ab", "pm-1", "Add alerting", "Body", (), date(2026, 4, 1), ("pmsync",)
    )
    return IssueDraft(
        **{**{k: getattr(draft, k) for k in draft.__slots__}, "content_hash": content_hash(draft)}
    )


def _issue(number: int = 1) -> dict[str, object]:
    return {
        "number": number,
        "html_url": f"https://github.test/acme/incidents/issues/{number}",
        "title": "Add alerting",
        "body": "",
        "labels": [{"name": "pmsync"}],
        "user": {"login": "pmsync-bot"},
        "state": "open",
    }


def test_bad_credentials_are_fatal_and_never_show_the_token(
    api: responses.RequestsMock, waits: list[float]
) -> None:
    api.get(f"{REPO}/issues", status=401, json={"message": "Bad credentials"})
    with pytest.raises(FatalError, match=r"rejected the credentials \(401\)") as caught:
        _tracker(waits).snapshot()
    assert TOKEN not in str(caught.value)
    assert api.calls[0].request.headers["Authorization"] == f"token {TOKEN}"


def test_a_missing_repository_is_a_config_error_naming_the_setting(
    api: responses.RequestsMock, waits: list[float]
) -> None:
    api.get(f"{REPO}/issues", status=404, json={"message": "Not Found"})
    with pytest.raises(ConfigError, match=r"trackers\.gh\.repo: 'acme/incidents' not found at"):
        _tracker(waits).snapshot()


def test_a_refused_create_names_the_field_and_skips_only_that_item(
    api: responses.RequestsMock, waits: list[float]
) -> None:
    api.post(
        f"{REPO}/issues",
        status=422,
        json={
            "message": "Validation Failed",
            "errors": [{"resource": "Issue", "field": "title", "code": "too_long"}],
        },
    )
    with pytest.raises(
        SkippableError, match=r"refused it \(422\): Validation Failed; title: too_long"
    ):
        _tracker(waits).create(_draft())
    assert len(api.calls) == 1


def test_retry_after_is_honoured_exactly(api: responses.RequestsMock, waits: list[float]) -> None:
    api.post(
        f"{REPO}/issues",
        status=429,
        headers={"Retry-After": "7"},
        json={"message": "API rate limit exceeded"},
    )
    api.post(f"{REPO}/issues", status=201, json=_issue())
    ref = _tracker(waits).create(_draft())
    assert ref.key == "#1"
    assert waits == [7.0]


def test_a_secondary_limit_without_retry_after_waits_a_minute(
    api: responses.RequestsMock, waits: list[float]
) -> None:
    api.patch(
        f"{REPO}/issues/1",
        status=403,
        json={"message": "You have exceeded a secondary rate limit. Please wait."},
    )
    api.patch(f"{REPO}/issues/1", status=200, json=_issue())
    _tracker(waits).close(TrackerRef("gh", "#1", ""), "completed")
    assert waits == [60.0]


def test_a_used_up_quota_waits_for_its_reset(
    api: responses.RequestsMock, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.get(
        f"{REPO}/issues",
        json=[],
        headers={
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(1_000_000 + 42),
        },
    )
    api.get(f"{REPO}/issues/1", status=404, json={"message": "Not Found"})
    assert _tracker(waits).snapshot() == []
    assert waits == [43.0]  # until the reset, and one second more


def test_an_edit_is_retried_after_a_5xx_but_never_past_the_wait_budget(
    api: responses.RequestsMock, waits: list[float]
) -> None:
    api.patch(f"{REPO}/issues/1", status=502, json={"message": "Bad gateway"})
    api.patch(f"{REPO}/issues/1", status=200, json=_issue())
    _tracker(waits).update(TrackerRef("gh", "#1", ""), _draft(), {"body"})
    assert waits == [1.0]

    api.patch(
        f"{REPO}/issues/2",
        status=429,
        headers={"Retry-After": "900"},
        json={"message": "slow down"},
    )
    with pytest.raises(FatalError, match="wait budget"):
        _tracker(waits, max_wait=600.0).update(TrackerRef("gh", "#2", ""), _draft(), {"body"})


def test_an_update_sends_only_the_named_fields(
    api: responses.RequestsMock, waits: list[float]
) -> None:
    api.patch(f"{REPO}/issues/3", json=_issue(3))
    draft = _draft()
    _tracker(waits).update(TrackerRef("gh", "#3", ""), draft, {"title", "body"})
    sent = api.calls[0].request.body
    assert isinstance(sent, (bytes, str))
    text = sent.decode() if isinstance(sent, bytes) else sent
    assert re.fullmatch(
        r'\{"body": ".*", "title": "Add alerting"\}|\{"title": "Add alerting", "body": ".*"\}', text
    )
    assert "Due: 2026-04-01" in text


def test_writes_are_spaced_and_kept_under_the_minute_limit() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    throttle = WriteThrottle(1.0, 3, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        throttle.wait()
    assert slept == [1.0, 1.0, 58.0]  # 1 s apart; the fourth waits for the minute to pass
