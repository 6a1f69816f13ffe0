"""Trackers: where action items become issues."""
