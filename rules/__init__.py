"""Checks with stable codes: the catalogue, selection by code prefix, and running them."""

from rules.registry import CATALOGUE, Rule, RuleContext, RuleDoc, check, select_rules

__all__ = ["CATALOGUE", "Rule", "RuleContext", "RuleDoc", "check", "select_rules"]
