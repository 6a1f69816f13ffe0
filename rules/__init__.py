"""Checks with stable codes: the catalogue, selection by code prefix, and running them."""

from rules.catalogue import CATALOGUE, select_rules
from rules.registry import DocumentRule, ItemRule, Rule, RuleContext, RuleDoc, check

__all__ = [
    "CATALOGUE",
    "DocumentRule",
    "ItemRule",
    "Rule",
    "RuleContext",
    "RuleDoc",
    "check",
    "select_rules",
]
