"""Checks a request against a service's published OpenAPI description: the path and method
exist, path and query parameters are declared and have the declared type and values, and the
JSON body validates against the operation's request schema.

`JIRA` is Atlassian's description of Jira Cloud (the subset in tests/schemas); `GITHUB` is the
part of GitHub's official REST description that pmsync uses, with the repository-webhook
operations the subset leaves out. The fakes check every request they are sent and record what
the description rejects in `REJECTED`; tests/conftest.py fails the test that sent one.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from requests import PreparedRequest

SCHEMAS = Path(__file__).parent / "schemas"

# What the fakes were sent that the published description refuses, for the running test.
REJECTED: list[str] = []
_LOCK = threading.Lock()


@contextmanager
def refused_on_purpose() -> Iterator[list[str]]:
    """For a test that sends requests the description refuses on purpose (a wrong address, a
    planted bad request): what was refused inside the block is yielded, not failed on."""
    with _LOCK:
        start = len(REJECTED)
    found: list[str] = []
    try:
        yield found
    finally:
        with _LOCK:
            found += REJECTED[start:]
            del REJECTED[start:]


class Description:
    """One service's OpenAPI description (one or more files with disjoint paths)."""

    def __init__(self, service: str, *files: Path) -> None:
        self.service = service
        self.files = files

    @cached_property
    def spec(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for path in self.files:
            spec = json.loads(path.read_text(encoding="utf-8"))
            if not merged:
                merged = spec
            else:
                merged["paths"].update(spec["paths"])
        return merged

    @cached_property
    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        found = []
        for template in self.spec["paths"]:
            # A parameter is one path segment, but a git ref or a file path may hold slashes.
            pattern = re.sub(
                r"\{([^}]+)\}",
                lambda m: "(.+)" if m[1] in ("ref", "path") else "([^/]+)",
                template,
            )
            found.append((re.compile(f"^{pattern}$"), template))
        # The most specific template first: /issue/bulk before /issue/{issueIdOrKey}.
        return sorted(found, key=lambda entry: entry[1].count("{"))

    @cached_property
    def _registry(self) -> Registry[Any]:
        return Registry().with_resource("spec", Resource.opaque(self.spec))

    def problems(self, method: str, path: str, query: dict[str, str], body: Any) -> list[str]:
        """What is wrong with this request, by the published API; empty when it is accepted."""
        matched = next(((m, t) for p, t in self._templates if (m := p.match(path))), None)
        if matched is None:
            return [f"{method} {path}: no such path in the {self.service} REST API"]
        match, template = matched
        operation = self.spec["paths"][template].get(method.lower())
        if operation is None:
            return [f"{method} {template}: no such operation"]
        found = []
        parameters = operation.get("parameters", [])
        values = dict(zip(re.findall(r"\{([^}]+)\}", template), match.groups(), strict=True))
        for where, given in (("path", values), ("query", query)):
            declared = {p["name"]: p for p in parameters if p.get("in") == where}
            for name, value in given.items():
                if name not in declared:
                    found.append(f"{method} {template}: undeclared {where} parameter {name!r}")
                    continue
                wanted = declared[name].get("schema", {})
                found += [
                    f"{method} {template}: {where} parameter {name}={value!r}: {message}"
                    for message in self._errors(wanted, _typed(value, wanted))
                ]
        content = (operation.get("requestBody") or {}).get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        if body is None:
            if (operation.get("requestBody") or {}).get("required"):
                found.append(f"{method} {template}: needs a JSON body")
        elif schema is None:
            found.append(f"{method} {template}: takes no JSON body")
        else:
            found += [f"{method} {template}: body: {m}" for m in self._errors(schema, body)]
        return found

    def check(self, method: str, path: str, query: dict[str, str], body: Any) -> list[str]:
        """`problems`, also recorded in `REJECTED` for the running test."""
        found = self.problems(method, path, query, body)
        with _LOCK:
            REJECTED.extend(found)
        return found

    def check_sent(self, request: PreparedRequest, base: str) -> list[str]:
        """`check` for a request `responses` intercepted, sent to the API at `base`."""
        url = urlsplit(request.url or "")
        path = unquote(url.path).removeprefix(urlsplit(base).path.rstrip("/")).rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        raw = request.body
        body = json.loads(raw) if raw else None
        return self.check(str(request.method), path or "/", query, body)

    def _errors(self, schema: dict[str, Any], value: Any) -> list[str]:
        validator = OAS30Validator(_rebase(schema), registry=self._registry)
        return [
            ": ".join(filter(None, ["/".join(map(str, e.absolute_path)), e.message]))
            for e in validator.iter_errors(value)
        ]


def _typed(value: str, schema: dict[str, Any]) -> Any:
    """A path or query value as the JSON value the parameter's schema asks for, when it spells
    one: digits for an integer, true or false for a boolean, comma-separated values for an
    array; otherwise the string."""
    kind = schema.get("type")
    if kind == "array":  # form style: comma-separated
        return [_typed(part, schema.get("items", {})) for part in value.split(",")]
    if kind in ("integer", "number") and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _rebase(node: Any) -> Any:
    """Point local `#/components/...` references at the registered spec document."""
    if isinstance(node, dict):
        return {
            k: (
                f"spec{v}"
                if k == "$ref" and isinstance(v, str) and v.startswith("#/")
                else _rebase(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


JIRA = Description("Jira Cloud", SCHEMAS / "jira-cloud-platform-v3.subset.json")
GITHUB = Description(
    "GitHub", SCHEMAS / "github-rest-subset.json", SCHEMAS / "github-webhooks.json"
)
