"""GRADE's rating of the certainty of a body of evidence: start high for randomized
evidence and low for observational, then move down one level for each domain judged
serious and two for each judged very serious (never below very low)."""

from __future__ import annotations

LEVELS = ("very low", "low", "moderate", "high")
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
STEPS = {"not serious": 0, "serious": 1, "very serious": 2}


def starting_level(design: str | None) -> str:
    """High for randomized evidence; low for observational or mixed."""
    return "high" if design == "randomized" else "low"


def rate(design: str | None, judgements: dict[str, str]) -> str:
    """The certainty after the domains' judgements (domain -> judgement)."""
    level = LEVELS.index(starting_level(design))
    level -= sum(STEPS[j] for j in judgements.values())
    return LEVELS[max(level, 0)]


def symbols(level: str | None) -> str:
    return SYMBOLS.get(level or "", "")
