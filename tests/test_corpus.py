"""Extraction scored against the answer key of real public post-mortems (tests/corpus).

The bars: item precision and recall at least 0.95 (per item and pooled by organisation), no
organisation below 0.85, owner, ticket and status right on at least 0.95 of matched items, and
nothing at all from templates.
"""

from __future__ import annotations

import json

import pytest

from tests.corpus_score import (
    CORPUS,
    DocScore,
    by_organisation,
    org_table,
    pooled,
    score_corpus,
    table,
    totals,
)

SCORES: list[DocScore] = []


@pytest.fixture(scope="module")
def scores() -> list[DocScore]:
    if not SCORES:
        SCORES.extend(score_corpus())
    return SCORES


def test_items_are_found_and_none_invented(scores: list[DocScore]) -> None:
    result = totals(scores)
    assert result.precision >= 0.95, table(scores, verbose=True)
    assert result.recall >= 0.95, table(scores, verbose=True)


def test_every_organisation_is_read_alike(scores: list[DocScore]) -> None:
    """Pooled by organisation, each weighing the same, and for each organisation alone."""
    result = pooled(scores)
    assert result.precision >= 0.95, org_table(scores)
    assert result.recall >= 0.95, org_table(scores)
    for org, figures in by_organisation(scores).items():
        assert figures.precision >= 0.85, (org, org_table(scores))
        assert figures.recall >= 0.85, (org, org_table(scores))


def test_fields_of_matched_items_are_right(scores: list[DocScore]) -> None:
    result = totals(scores)
    assert result.owner >= 0.95, table(scores, verbose=True)
    assert result.ticket >= 0.95, table(scores, verbose=True)
    assert result.status >= 0.95, table(scores, verbose=True)


def test_templates_yield_no_items(scores: list[DocScore]) -> None:
    key = json.loads((CORPUS / "answer-key.json").read_text())["documents"]
    templates = [s for s in scores if key[s.name]["is_template"]]
    assert len(templates) == 8
    assert [(s.name, s.found) for s in templates] == [(s.name, 0) for s in templates]


def test_every_document_of_the_key_is_scored(scores: list[DocScore]) -> None:
    assert sorted(p.name for p in (CORPUS / "docs").iterdir()) == [s.name for s in scores]
    assert sum(s.expected for s in scores) == 308
