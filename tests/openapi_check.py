"""Checks a request against Atlassian's published OpenAPI description of Jira Cloud (the subset
in tests/schemas): the path and method exist, every query parameter is declared, and the JSON
body validates against the operation's request schema."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource

SPEC_PATH = Path(__file__).parent / "schemas" / "jira-cloud-platform-v3.subset.json"


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for template in _spec()["paths"]:
        pattern = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        found.append((re.compile(f"^{pattern}$"), template))
    # The most specific template first: /issue/bulk before /issue/{issueIdOrKey}.
    return sorted(found, key=lambda entry: entry[1].count("{"))


def problems(method: str, path: str, query: dict[str, str], body: Any) -> list[str]:
    """What is wrong with this request, by the published API; empty when it is accepted."""
    template = next((t for pattern, t in _templates() if pattern.match(path)), None)
    if template is None:
        return [f"{method} {path}: no such path in the Jira Cloud REST API"]
    operation = _spec()["paths"][template].get(method.lower())
    if operation is None:
        return [f"{method} {template}: no such operation"]
    found = []
    declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    found += [
        f"{method} {template}: undeclared query parameter {n!r}" for n in set(query) - declared
    ]
    if body is not None:
        content = (operation.get("requestBody") or {}).get("content", {})
        schema = (content.get("application/json") or {}).get("schema")
        if schema is None:
            found.append(f"{method} {template}: takes no JSON body")
        else:
            registry = Registry().with_resource("spec", Resource.opaque(_spec()))
            resolved = _rebase(schema)
            validator = OAS30Validator(resolved, registry=registry)
            found += [
                f"{method} {template}: body: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(body)
            ]
    return found


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
