"""Plausibility checks: figures a reader should re-read before trusting or pooling them.

Each rule yields `Flag`s (kb/evidence/model.py), the rows of claim_flags; the claims one
finding is about share its number. None of them refuses the data (kb/data/ refuses what
cannot be true of a file); they say what is unlikely to be true of a study.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from itertools import combinations
from typing import Iterable, Iterator

from kb.data.schema import CI95, STUDY_SIZE
from kb.data.text import whole_number

from .model import FLAG, NOTE, POOLED_ELSEWHERE, Claim, Flag, Work, study_of
from .numbers import plain_number
from .trails import same_figures

SURVIVAL = frozenset({"overall-survival", "progression-free-survival",
                      "disease-free-survival", "disease-specific-survival",
                      "hepatic-progression-free-survival"})
CUMULATIVE = frozenset({"recurrence"})
TIMEPOINT = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?) (?P<unit>years?|months?)")

DIRECTION, ARMS, COUNT, DENOMINATOR, OUTSIDE = (
    "cannot go that way", "arms above study size", "count above n", "wrong denominator",
    "outside its interval")
RESTATED_DIFFER, RESTATED_AGREE, OVERLAP = (
    "restatements disagree", "restatements agree", "suspected overlap")
RULES = (DIRECTION, ARMS, COUNT, DENOMINATOR, OUTSIDE, RESTATED_DIFFER, RESTATED_AGREE,
         OVERLAP)


def flags(claims: Iterable[Claim], works: dict[str, Work]) -> list[Flag]:
    """Every rule's findings over the claims, numbered from 1."""
    claims = list(claims)
    return numbered((finding for rule in RULE_FUNCTIONS for finding in rule(claims, works)),
                    start=1)


def numbered(findings: Iterable[tuple[str, str, str, Iterable[str]]],
             start: int) -> list[Flag]:
    """Findings (level, rule, message, claim ids) as flags numbered from start."""
    rows: list[Flag] = []
    for number, (level, rule, message, ids) in enumerate(findings, start=start):
        rows.extend(Flag(number, claim_id, rule, level, message)
                    for claim_id in dict.fromkeys(ids))
    return rows


def years(timepoint: str) -> float | None:
    """'5 years' -> 5.0, '36 months' -> 3.0; None for anything else."""
    match = TIMEPOINT.fullmatch(timepoint.strip()) if timepoint else None
    if not match:
        return None
    number = float(match["number"])
    return number if match["unit"].startswith("year") else number / 12


def _number(text: str) -> float | None:
    return float(text) if text else None


def _direction(claims: list[Claim], works) -> Iterator[tuple]:
    """Survival at a later time cannot be higher; recurrence cannot be lower."""
    groups: dict[tuple, list[tuple[float, float, Claim]]] = defaultdict(list)
    for c in claims:
        if (c.outcome in SURVIVAL or c.outcome in CUMULATIVE) and c.measure == "proportion" \
                and c.value and years(c.timepoint) is not None:
            if not _one_study(c, works):
                continue
            key = (study_of(c, works), c.arm, c.population, c.outcome, c.intervention,
                   c.comparator)
            groups[key].append((years(c.timepoint), float(c.value), c))
    for (source, arm, _, outcome, _, _), points in groups.items():
        points.sort(key=lambda p: p[0])
        for (t1, v1, c1), (t2, v2, c2) in zip(points, points[1:]):
            if t2 == t1:
                continue
            rises = v2 > v1
            if (outcome in SURVIVAL and rises) or (outcome in CUMULATIVE and v2 < v1):
                verb = "rises" if rises else "falls"
                kind = "survival cannot rise" if rises else "a cumulative share cannot fall"
                yield (FLAG, DIRECTION, f"{outcome} {verb} from {c1.shown()} at "
                       f"{c1.timepoint} to {c2.shown()} at {c2.timepoint} in {source}"
                       + (f", arm {arm}" if arm else "") + f": {kind} with time",
                       (c1.id, c2.id))


def _arms(claims: list[Claim], works) -> Iterator[tuple]:
    """The arms of one study add up to more patients than the study has."""
    by_source: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:   # a review's table rows belong to the studies they cite
        if _one_study(c, works):
            by_source[study_of(c, works)].append(c)
    for source, own in by_source.items():
        arms: dict[str, tuple[int, str]] = {}
        for c in own:
            n = whole_number(c.n)
            if c.arm and n is not None and n > arms.get(c.arm, (0, ""))[0]:
                arms[c.arm] = (n, c.id)
        if len(arms) < 2:
            continue
        sizes = [(whole_number(c.n) or whole_number(c.value), c.id) for c in own
                 if c.outcome == STUDY_SIZE and not c.arm]
        whole = [(size, cid) for size, cid in sizes if size]
        said_by = "its study-size claim"
        if not whole:
            whole = [(whole_number(c.n), c.id) for c in own if not c.arm and whole_number(c.n)]
            said_by = "its whole-study claims"
        if not whole:
            continue
        size, size_id = max(whole)
        total = sum(n for n, _ in arms.values())
        if total > size:
            parts = ", ".join(f"{arm} {n}" for arm, (n, _) in sorted(arms.items()))
            yield (FLAG, ARMS, f"the arms of {source} add up to {total} patients ({parts}), "
                   f"more than the {size} of {said_by}",
                   [size_id, *(cid for _, cid in arms.values())])


def _count_above_n(claims: list[Claim], works) -> Iterator[tuple]:
    for c in claims:
        n, count = whole_number(c.n), _number(c.value) if c.measure == "count" else None
        events = whole_number(c.events)
        for what, number in (("count", count), ("events", events)):
            if n is not None and number is not None and number > n:
                yield (FLAG, COUNT, f"{c.id}: {what} {plain_number(number)} is more than "
                       f"its n of {n}", (c.id,))


def _denominator(claims: list[Claim], works) -> Iterator[tuple]:
    """A percentage and a count imply a denominator; it should be n, give or take the
    percentage's rounding. Procedures counted as patients show up here."""
    for c in claims:
        events, n = whole_number(c.events), whole_number(c.n)
        if c.unit != "%" or not c.value or events is None or n is None:
            continue
        share = float(c.value)
        half = 0.5 * 10 ** -len(c.value.partition(".")[2])  # the share's rounding
        fits = share - half <= events * 100 / n <= share + half
        if not fits:
            implied = events * 100 / share if share else math.inf
            yield (FLAG, DENOMINATOR, f"{c.id}: {events} events at {c.value} % imply about "
                   f"{implied:.0f} in the denominator, not n {n}: were procedures or "
                   "lesions counted as patients?", (c.id,))


def _outside_interval(claims: list[Claim], works) -> Iterator[tuple]:
    for c in claims:
        value, low, high = _number(c.value), _number(c.low), _number(c.high)
        if value is None or (low is None and high is None):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"{plain_number(low) if low is not None else ''}–" \
                   f"{plain_number(high) if high is not None else ''}"
            what = ("its 95% CI does not contain it" if c.interval == CI95 else
                    f"it lies outside its {c.interval or 'stated'} {span}")
            yield (FLAG, OUTSIDE, f"{c.id}: value {c.value} but {what}"
                   + (f" ({span})" if c.interval == CI95 else ""), (c.id,))


def _restatements(claims: list[Claim], works: dict[str, Work]) -> Iterator[tuple]:
    """Secondary works restating one primary figure: do they agree with each other?"""
    by_primary: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        if c.derived_from and c.quantitative:
            by_primary[c.derived_from].append(c)
    for primary, restating in by_primary.items():
        sources = {c.source_key for c in restating}
        if len(sources) < 2:
            continue
        pairs = [(a, b) for a, b in combinations(restating, 2) if a.source_key != b.source_key]
        differ = [(a, b) for a, b in pairs
                  if not (same_figures(a, b) or same_figures(b, a))]
        ids = [c.id for c in restating]
        if differ:
            shown = "; ".join(f"{c.source_key} {c.shown()}" for c in restating)
            yield (FLAG, RESTATED_DIFFER, f"{len(sources)} works restate {primary} and "
                   f"disagree: {shown}", ids)
        else:
            yield (NOTE, RESTATED_AGREE, f"{len(sources)} works restate {primary} alike "
                   f"({restating[0].shown()}): concordant", ids)


def _one_study(claim: Claim, works: dict[str, Work]) -> bool:
    """Is the figure one study's? A review's figure is when it cites one reference."""
    work = works.get(claim.source_key)
    return work is None or work.pub_type not in POOLED_ELSEWHERE or len(claim.cites) == 1


RULE_FUNCTIONS = (_direction, _arms, _count_above_n, _denominator, _outside_interval,
                  _restatements)


