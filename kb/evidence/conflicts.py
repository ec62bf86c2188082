"""Conflicts: pairs of quantitative claims from different works that a reader could set
against each other (see the package docstring for the two kinds).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Iterable, Iterator

from kb.data.schema import UNCOMPARED_OUTCOMES

from . import numbers
from .model import DENOMINATORS, VALUES_DIFFER, Claim, Conflict, Work


# -- conflicts ----------------------------------------------------------------------


def conflicts(claims: Iterable[Claim], works: dict[str, Work], broader: dict[str, str]
              ) -> Iterator[Conflict]:
    """Every conflict among the claims; broader: population -> its wider population."""
    groups: dict[tuple, list[tuple[tuple[float, float], Claim]]] = defaultdict(list)
    for claim in claims:
        if not claim.quantitative or not claim.population or \
                claim.outcome in UNCOMPARED_OUTCOMES:
            continue
        span = numbers.interval(claim.value, claim.low, claim.high)
        if span is None:
            continue
        key = (claim.outcome, claim.unit, claim.measure, claim.intervention,
               claim.comparator)
        groups[key].append((span, claim))
    for members in groups.values():
        if len(members) < 2:
            continue
        yield from _values_differ(members)
        yield from _denominators(members, broader)


def _values_differ(members: list) -> Iterator[Conflict]:
    same: dict[tuple[str, str], list] = defaultdict(list)
    for span, claim in members:
        same[(claim.population, claim.timepoint)].append((span, claim))
    for group in same.values():
        if len(group) > 1:
            pairs = {tuple(sorted((a, b), key=lambda c: c.id))
                     for a, b in _nearest_apart(group, group, _different_works)}
            for a, b in sorted(pairs, key=lambda p: (p[0].id, p[1].id)):
                yield _row(VALUES_DIFFER, a, b)


def _different_works(a: Claim, b: Claim) -> bool:
    """Claims from different works, neither restating the other: whether a restatement
    keeps its source's figures is the trail's question (matches or differs), and a
    rounded restatement is no conflict."""
    return a.source_key != b.source_key and a.derived_from != b.id and \
        b.derived_from != a.id


def _comparable_denominators(a: Claim, b: Claim) -> bool:
    return a.source_key != b.source_key and (
        not a.timepoint or not b.timepoint or a.timepoint == b.timepoint)


def _denominators(members: list, broader: dict[str, str]) -> Iterator[Conflict]:
    by_population: dict[str, list] = defaultdict(list)
    for span, claim in members:
        by_population[claim.population].append((span, claim))
    if len(by_population) < 2:
        return
    for population, narrow in by_population.items():
        wider = broader.get(population)
        seen = {population}
        while wider and wider not in seen:
            seen.add(wider)
            if wider in by_population:
                pairs = set(_nearest_apart(by_population[wider], narrow,
                                           _comparable_denominators))
                pairs.update((a, b) for b, a in _nearest_apart(
                    narrow, by_population[wider], _comparable_denominators))
                for a, b in sorted(pairs, key=lambda p: (p[0].id, p[1].id)):
                    yield _row(DENOMINATORS, a, b)
            wider = broader.get(wider)


def _nearest_apart(left: list, right: list, pairable, scan: int = 64
                   ) -> Iterator[tuple[Claim, Claim]]:
    """For each claim a of left, the nearest claim of right whose range lies wholly
    above a's and the nearest wholly below it, among those `pairable` with a (looking
    at most `scan` claims past the nearest). Every claim that disagrees with others is
    paired with its closest disagreement on each side, so a group of n claims gives at
    most 2n pairs, not n²: the pairs stay readable and the build stays linear."""
    by_low = sorted(right, key=lambda m: m[0][0])
    lows = [m[0][0] for m in by_low]
    by_high = sorted(right, key=lambda m: m[0][1])
    highs = [m[0][1] for m in by_high]
    for span, a in left:
        start = bisect.bisect_right(lows, span[1])
        for _, b in by_low[start:start + scan]:
            if pairable(a, b):
                yield a, b
                break
        end = bisect.bisect_left(highs, span[0])
        for _, b in reversed(by_high[max(0, end - scan):end]):
            if pairable(a, b):
                yield a, b
                break


def _row(kind: str, a: Claim, b: Claim) -> Conflict:
    if kind == VALUES_DIFFER:
        why = (f"{a.shown()} ({a.source_key}) and {b.shown()} ({b.source_key}) do not "
               "overlap")
    else:
        why = (f"{a.shown()} of {a.population} ({a.source_key}) and {b.shown()} of "
               f"{b.population} ({b.source_key}): {b.population} is part of "
               f"{a.population}, so the figures have different denominators")
    return Conflict(a.id, b.id, kind, a.outcome, a.unit, a.population, b.population,
                    a.timepoint or None, b.timepoint or None, a.shown(), b.shown(),
                    a.source_key, b.source_key, why)
