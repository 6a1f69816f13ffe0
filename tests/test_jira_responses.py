"""Focused Jira tracker behaviour over `responses`: errors translated at the boundary, waits
as Jira asks, and e-mail look-ups that never take a "first result"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import responses

from connectors.trackers.jira import JiraOptions, JiraTracker
from syncer.errors import FatalError
from syncer.model import IssueDraft, TrackerRef

SITE = "https://acme.jira.test"


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def _tracker(waits: list[float], deployment: str | None = "cloud") -> JiraTracker:
    options = JiraOptions(
        url=SITE,
        project="OPS",
        deployment=deployment,  # type: ignore[arg-type]
        email="bot@acme.test",
        api_token="api-s3cret",
        bot_account="bot",
        backoff=1.0,
    )
    return JiraTracker("jira", options, sleep=waits.append)


def test_a_503_with_retry_after_is_waited_out_exactly(api: responses.RequestsMock) -> None:
    waits: list[float] = []
    api.put(f"{SITE}/rest/api/3/issue/OPS-1", status=503, headers={"Retry-After": "45"})
    api.put(f"{SITE}/rest/api/3/issue/OPS-1", status=204)
    draft = IssueDraft("0123456789ab", "pm-1", "Add alerting", "Body", (), date(2026, 4, 1))
    _tracker(waits).update(TrackerRef("jira", "OPS-1", ""), draft, {"due"})
    assert waits == [45.0]


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ([{"accountId": "a1", "emailAddress": "dana@acme.test"}], "a1"),
        ([{"accountId": "a1", "emailAddress": "dana.k@acme.test"}], None),  # not the same address
        (
            [
                {"accountId": "a1", "emailAddress": "dana@acme.test"},
                {"accountId": "a2", "emailAddress": "DANA@acme.test"},
            ],
            None,
        ),  # not exactly one
        ([{"accountId": "a1"}], None),  # the address is hidden: cannot be sure
    ],
)
def test_an_email_resolves_only_to_exactly_one_exact_match(
    api: responses.RequestsMock, found: list[dict[str, str]], expected: str | None
) -> None:
    api.get(f"{SITE}/rest/api/3/user/search", json=found)
    assert _tracker([])._account("dana@acme.test") == expected


def test_bad_credentials_are_fatal_and_do_not_show_the_token(api: responses.RequestsMock) -> None:
    api.get(f"{SITE}/rest/api/3/search/jql", status=401, json={"errorMessages": ["Unauthorized"]})
    with pytest.raises(FatalError, match=r"rejected the credentials \(401\)") as caught:
        _tracker([]).snapshot()
    assert "s3cret" not in str(caught.value)


def test_the_deployment_is_read_from_server_info_when_not_configured(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{SITE}/rest/api/3/serverInfo", status=404, json={"errorMessages": ["no v3"]})
    api.get(f"{SITE}/rest/api/2/serverInfo", json={"deploymentType": "Server"})
    api.get(f"{SITE}/rest/api/2/search", json={"issues": [], "total": 0, "startAt": 0})
    api.get(f"{SITE}/rest/api/2/issue/OPS-1", status=404, json={"errorMessages": ["no such"]})
    assert _tracker([], deployment=None).snapshot() == []
