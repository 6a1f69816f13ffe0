"""Regenerate jira-cloud-platform-v3.subset.json from Atlassian's full OpenAPI description.

    python tests/schemas/make_jira_subset.py ../shared/apispecs/jira-cloud-platform-v3.json

Keeps the operations pmsync calls and every schema they reference, so the tests can check
pmsync's requests against the published API without vendoring the whole (large) file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PATHS = [
    "/rest/api/3/myself",
    "/rest/api/3/serverInfo",
    "/rest/api/3/search/jql",
    "/rest/api/3/issue",
    "/rest/api/3/issue/bulk",
    "/rest/api/3/issue/{issueIdOrKey}",
    "/rest/api/3/issue/{issueIdOrKey}/comment",
    "/rest/api/3/issue/{issueIdOrKey}/remotelink",
    "/rest/api/3/issue/{issueIdOrKey}/transitions",
    "/rest/api/3/issueLink",
    "/rest/api/3/user/search",
    "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
    "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
    "/rest/api/3/project/{projectIdOrKey}",
    "/rest/api/3/project/{projectIdOrKey}/versions",
    "/rest/api/3/version",
    "/rest/api/3/version/{id}",
    "/rest/api/3/webhook",
    "/rest/api/3/webhook/refresh",
]


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def main(source: Path) -> None:
    spec = json.loads(source.read_text(encoding="utf-8"))
    paths = {path: spec["paths"][path] for path in PATHS}
    names: set[str] = set()
    _refs(paths, names)
    schemas = spec["components"]["schemas"]
    todo = list(names)
    while todo:
        nested: set[str] = set()
        _refs(schemas[todo.pop()], nested)
        for name in nested - names:
            names.add(name)
            todo.append(name)
    subset = {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-pmsync-subset-of": "jira-cloud-platform-v3.json"},
        "paths": paths,
        "components": {"schemas": {name: schemas[name] for name in sorted(names)}},
    }
    out = Path(__file__).with_name("jira-cloud-platform-v3.subset.json")
    out.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{out}: {len(paths)} paths, {len(names)} schemas")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
