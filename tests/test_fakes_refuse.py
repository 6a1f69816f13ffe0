"""The fakes refuse what the services refuse, in the ways pmsync could get a request wrong:
authentication, required fields, enum values, lengths and required headers. A request GitHub's
or Jira Cloud's published description rejects fails the test that sent it."""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import openapi_check
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.notion import FakeNotion

ROOT = Path(__file__).resolve().parent.parent
GH_TOKEN = {"Authorization": "token ghp_" + "f" * 36}


def _send(method: str, url: str, body: Any = None, **headers: str) -> requests.Response:
    return requests.request(method, url, json=body, headers=headers, timeout=10)


# --- GitHub -------------------------------------------------------------------------------


def test_github_refuses_requests_without_valid_credentials() -> None:
    fake = FakeGitHub(revoked={"ghp_revoked"})
    with fake.running():
        issues = f"{fake.url}/repos/acme/incidents/issues"
        assert _send("GET", issues).status_code == 401
        assert _send("GET", issues, Authorization="token ").status_code == 401
        refused = _send("GET", issues, Authorization="token ghp_revoked")
        assert (refused.status_code, refused.json()["message"]) == (401, "Bad credentials")
        assert _send("GET", issues, **GH_TOKEN).status_code == 200
        made = _send("POST", issues, {"title": "t"}, Authorization="Bearer ghp_revoked")
        assert made.status_code == 401
    assert fake.issues == {}


@pytest.mark.parametrize(
    ("method", "path", "body", "wrong"),
    [
        ("POST", "issues", {"body": "no title"}, "'title' is a required property"),
        ("PATCH", "issues/1", {"state": "done"}, "'done' is not one of ['open', 'closed']"),
        ("PATCH", "issues/1", {"state": "closed", "state_reason": "fixed"}, "'fixed' is not one"),
        ("PATCH", "issues/1", {"labels": "pmsync"}, "'pmsync' is not of type 'array'"),
        ("GET", "issues?state=any", None, "'any' is not one of ['open', 'closed', 'all']"),
        ("GET", "issues?per_page=lots", None, "'lots' is not of type 'integer'"),
        ("POST", "hooks", {"name": "web", "secret": "x"}, "'secret' was unexpected"),
    ],
)
def test_github_answers_422_to_what_its_description_rejects(
    method: str, path: str, body: Any, wrong: str
) -> None:
    fake = FakeGitHub()
    with fake.running():
        fake.add_issue("Add alerting", "", user="dana", labels=[])
        before = dict(fake.issues[1])
        with openapi_check.refused_on_purpose() as refused:
            answer = _send(method, f"{fake.url}/repos/acme/incidents/{path}", body, **GH_TOKEN)
        assert answer.status_code == 422
        assert any(wrong in problem for problem in answer.json()["errors"]), answer.json()
        assert refused == answer.json()["errors"]
        assert fake.issues == {1: before}


@pytest.mark.parametrize(("name", "limit"), [("title", 256), ("body", 65536)])
def test_github_refuses_a_title_or_body_over_its_length_limit(name: str, limit: int) -> None:
    fake = FakeGitHub()
    with fake.running():
        issues = f"{fake.url}/repos/acme/incidents/issues"
        at_limit = {"title": "t", name: "x" * limit}
        assert _send("POST", issues, at_limit, **GH_TOKEN).status_code == 201
        over = _send("POST", issues, {"title": "t", name: "x" * (limit + 1)}, **GH_TOKEN)
        assert over.status_code == 422
        assert f"maximum is {limit} characters" in over.json()["errors"][0]["message"]
    assert len(fake.issues) == 1


def test_a_request_github_would_refuse_fails_the_test_that_sent_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted request is valid HTTP that the fake would otherwise serve; only the published
    description says GitHub refuses it (`state_reason` has no value "fixed")."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest("from tests.conftest import _requests_as_published  # noqa: F401\n")
    pytester.makepyfile(
        test_planted=textwrap.dedent(
            """
            import requests
            from tests.fakes.github import FakeGitHub

            def test_closes_an_issue():
                fake = FakeGitHub()
                with fake.running():
                    fake.add_issue("Add alerting", "", user="dana", labels=[])
                    requests.patch(
                        f"{fake.url}/repos/acme/incidents/issues/1",
                        json={"state": "closed", "state_reason": "fixed"},
                        headers={"Authorization": "token ghp_x"},
                        timeout=10,
                    )
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*requests the published API description rejects*", "*fixed*"])


# --- GitLab -------------------------------------------------------------------------------


def test_gitlab_refuses_requests_without_a_valid_private_token() -> None:
    fake = FakeGitLab(revoked={"glpat-revoked"})
    with fake.running():
        issues = f"{fake.url}/api/v4/projects/42/issues"
        assert _send("GET", issues).status_code == 401
        assert _send("GET", issues, **{"PRIVATE-TOKEN": ""}).status_code == 401
        assert _send("GET", issues, **{"PRIVATE-TOKEN": "glpat-revoked"}).status_code == 401
        assert _send("GET", issues, **{"PRIVATE-TOKEN": "glpat-fine"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "wrong"),
    [
        ("PUT", "issues/1", {"state_event": "resolve"}, "state_event does not have a valid"),
        ("PUT", "issues/1", {"title": " "}, "can't be blank"),
        ("PUT", "issues/1", {"title": "x" * 256}, "maximum is 255 characters"),
        ("POST", "issues", {"title": "x" * 256}, "maximum is 255 characters"),
        ("POST", "issues/1/notes", {"body": ""}, "can't be blank"),
        ("POST", "issues/1/notes", {"confidential": False}, "body is missing"),
        ("GET", "issues?sort=newest", None, "sort does not have a valid value"),
        ("GET", "issues?order_by=number", None, "order_by does not have a valid value"),
    ],
)
def test_gitlab_answers_400_to_what_it_does_not_take(
    method: str, path: str, body: Any, wrong: str
) -> None:
    fake = FakeGitLab()
    with fake.running():
        fake.add_issue("Add alerting", "", user="dana", labels=[])
        before = (dict(fake.issues[1]), list(fake.notes[1]))
        answer = _send(
            method, f"{fake.url}/api/v4/projects/42/{path}", body, **{"PRIVATE-TOKEN": "glpat-x"}
        )
        assert answer.status_code == 400
        assert wrong in answer.text
        assert (fake.issues[1], fake.notes[1]) == before
        assert len(fake.issues) == 1


# --- Jira ---------------------------------------------------------------------------------


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def test_jira_refuses_requests_without_well_formed_live_credentials() -> None:
    fake = FakeJira(revoked={"revoked-token"})
    with fake.running():
        myself = f"{fake.url}/rest/api/3/myself"
        for header in ("", "Basic", "Basic not-base64!", _basic("a@b.test", ""), "Bearer "):
            assert _send("GET", myself, Authorization=header).status_code == 401, header
        assert (
            _send("GET", myself, Authorization=_basic("a@b.test", "revoked-token")).status_code
            == 401
        )
        assert _send("GET", myself, Authorization=_basic("a@b.test", "token")).status_code == 200


TASK = {"issuetype": {"name": "Task"}}
NO_SUMMARY = {"summary": "You must specify a summary of the issue."}


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        (TASK, NO_SUMMARY),
        ({"summary": "  ", **TASK}, NO_SUMMARY),
        ({"summary": "x" * 256, **TASK}, {"summary": "Summary must be less than 255 characters."}),
        ({"summary": "Add alerting"}, {"issuetype": "Specify an issue type"}),
        (
            {"summary": "Add", "issuetype": {"name": "Epic"}},
            {"issuetype": "Specify a valid issue type"},
        ),
    ],
)
def test_jira_refuses_an_issue_without_a_summary_or_a_valid_issue_type(
    fields: dict[str, Any], wrong: dict[str, str]
) -> None:
    fake = FakeJira()
    with fake.running():
        body = {"fields": {"project": {"key": "OPS"}, **fields}}
        made = _send(
            "POST", f"{fake.url}/rest/api/3/issue", body, Authorization=_basic("a@b.test", "t")
        )
        assert made.status_code == 400
        assert made.json()["errors"] == wrong
    assert fake.issues == {}


def test_jira_cloud_search_reconciles_at_most_fifty_ids_and_sends_fields_only_when_named() -> None:
    fake = FakeJira()
    with fake.running():
        fake.add_issue("Add alerting", ["pmsync"], creator="mallory")
        search = f"{fake.url}/rest/api/3/search/jql?jql=project%20%3D%20OPS"
        auth = _basic("a@b.test", "t")
        ids = ",".join(str(10000 + n) for n in range(51))
        assert (
            _send("GET", f"{search}&reconcileIssues={ids}", Authorization=auth).status_code == 400
        )
        [issue] = _send("GET", search, Authorization=auth).json()["issues"]
        assert issue["fields"] == {}  # "The default is `id`"
        [issue] = _send("GET", f"{search}&fields=labels", Authorization=auth).json()["issues"]
        assert issue["fields"] == {"labels": ["pmsync"]}


# --- Notion -------------------------------------------------------------------------------


def _notion_page(fake: FakeNotion) -> tuple[str, str]:
    page = fake.add_page(
        {"Name": {"type": "title", "title": []}},
        [{"type": "to_do", "to_do": {"rich_text": [], "checked": False}}],
    )
    return page, fake.children[page][0]


def test_notion_refuses_requests_without_its_version_header() -> None:
    fake = FakeNotion()
    with fake.running():
        page, _ = _notion_page(fake)
        children = f"{fake.url}/v1/blocks/{page}/children"
        auth = {"Authorization": f"Bearer {fake.token}"}
        missing = _send("GET", children, **auth)
        assert (missing.status_code, missing.json()["code"]) == (400, "missing_version")
        wrong = _send("GET", children, **auth, **{"Notion-Version": "2020-01-01"})
        assert (wrong.status_code, wrong.json()["code"]) == (400, "validation_error")
        assert _send("GET", children, **auth, **{"Notion-Version": "2022-06-28"}).ok
        too_many = _send(
            "GET", children + "?page_size=101", **auth, **{"Notion-Version": "2022-06-28"}
        )
        assert too_many.status_code == 400


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ({"paragraph": {"rich_text": []}}, "body.to_do should be defined"),
        ({"to_do": {"checked": True}, "paragraph": {}}, "one block type"),
        (
            {"to_do": {"rich_text": [{"type": "text", "text": {"content": "x" * 2001}}]}},
            "text.content.length should be ≤ 2000",
        ),
    ],
)
def test_notion_refuses_a_block_update_it_cannot_apply(body: dict[str, Any], wrong: str) -> None:
    fake = FakeNotion()
    with fake.running():
        _, block = _notion_page(fake)
        before = dict(fake.blocks[block]["to_do"])
        headers = {"Authorization": f"Bearer {fake.token}", "Notion-Version": "2022-06-28"}
        answer = _send("PATCH", f"{fake.url}/v1/blocks/{block}", body, **headers)
        assert (answer.status_code, answer.json()["code"]) == (400, "validation_error")
        assert wrong in answer.json()["message"]
        assert fake.blocks[block]["to_do"] == before
