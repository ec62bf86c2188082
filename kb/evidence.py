"""Where a claim's numbers come from, and where claims disagree.

Computed by `kb build` (and `kb validate --evidence`) from the curated claims, the
reference lists and the cached abstracts; nothing here reads or writes files.

Trails. A claim cites reference numbers; each resolves through the stating work's
reference list to a cited work: one *hop*. A hop's status says what the cited work
shows for the claim's figures:

- unverified: the cited work is not identified yet (no list entry, or a work known
  only by a name, or whose kind of publication has not been seen);
- matches / differs: the claim restates (`derived_from`) a claim of the cited work,
  and the figures are the same (allowing rounding) or not: a possible distortion;
- cites a review: the cited work is itself secondary (a review, guideline, book...)
  and no claim of it is linked to follow further;
- matches / not found: the cited work's cached title and abstract do or do not
  contain the claim's numbers;
- not checked: the cited work is identified but there is nothing to check against.

When the restated claim sits in a secondary work, its own citations are followed in
turn (depth 2, 3, ...), so a trail ends at primary data, at an unknown, or at a review.

Conflicts. Quantitative claims from different works about the same population,
intervention, comparator, outcome, timepoint, measure and unit whose ranges do not
overlap ("values differ"; outcomes that are not one quantity, such as primary-site,
are left out); and claims whose populations nest (one is a `broader` term
of the other) with ranges that do not overlap ("different denominators": "~10 % of
all patients" against "~80 % of metastatic patients"). Each claim is paired with its
nearest disagreeing claim above and below, not with every one: n claims about one
quantity give at most 2n pairs, which a reader can follow and a build can afford.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from . import numbers
from .schema import SECONDARY_PUB_TYPES, UNCOMPARED_OUTCOMES

# statuses of a hop, and of a claim's trail as a whole
UNVERIFIED, MATCHES, DIFFERS = "unverified", "matches", "differs"
CITES_REVIEW, NOT_FOUND, NOT_CHECKED = "cites a review", "not found", "not checked"
PRIMARY, REACHES_PRIMARY, REVIEWS_ONLY = "primary data", "reaches primary data", "reviews only"
NO_CITATION = "no citation"
# the check of a claim's numbers against its own source's title and abstract
FOUND, PARTLY_FOUND, NO_ABSTRACT = "found", "partly found", "no abstract"
NUMBER_CHECKS = (FOUND, PARTLY_FOUND, NOT_FOUND, NO_ABSTRACT)
VALUES_DIFFER, DENOMINATORS = "values differ", "different denominators"


@dataclass(slots=True)
class Work:
    key: str
    pub_type: str
    label: str
    identified: bool
    text_numbers: set[str] | None  # numbers of the cached title + abstract; None: none


@dataclass(slots=True, eq=False)  # compared and hashed by identity: one per claim
class Claim:
    id: str
    source_key: str
    kind: str
    population: str
    intervention: str
    comparator: str
    outcome: str
    timepoint: str
    measure: str
    value: str
    low: str
    high: str
    unit: str
    n: str
    derived_from: str
    cites: list[tuple[int, str]] = field(default_factory=list)  # (ref number, cited key)
    figure: str | None = None  # the figure as shown, worked out once

    @property
    def figures(self) -> list[str]:
        return [x for x in (self.value, self.low, self.high) if x]

    @property
    def quantitative(self) -> bool:
        return self.kind == "quantitative" and bool(self.figures)

    def shown(self) -> str:
        if self.figure is None:
            self.figure = numbers.format_value({"value": self.value, "low": self.low,
                                                "high": self.high, "unit": self.unit})
        return self.figure


def work(key: str, pub_type: str, label: str, pmid: str | None, doi: str | None,
         title: str | None, year, abstract: str | None) -> Work:
    """A work as the trails see it; identified when it can be found by someone else."""
    identified = pub_type != "unknown" and bool(pmid or doi or (title and year))
    text = None
    if abstract:
        text = numbers.numbers_in(f"{title or ''}\n{abstract}")
    return Work(key, pub_type, label, identified, text)


@dataclass
class Evidence:
    # claim id -> (numbers_in_source, numbers_missing, trail, trail_depth, trail_differs,
    # conflicts)
    claims: dict[str, tuple]
    trails: list[tuple]     # rows of claim_trails, in schema order
    conflicts: list[tuple]  # rows of claim_conflicts, in schema order


def compute(claims: Iterable[Claim], works: dict[str, Work],
            broader: dict[str, str]) -> Evidence:
    """Trails, number checks and conflicts for every claim."""
    by_id = {c.id: c for c in claims}
    trails: list[tuple] = []
    summary: dict[str, list] = {}
    for claim in by_id.values():
        hops, depth, trail = _trail(claim, by_id, works)
        trails.extend((claim.id, step, *hop) for step, hop in enumerate(hops, start=1))
        differs = sum(1 for hop in hops if hop[6] == DIFFERS)
        check, absent = _check_numbers(claim, works.get(claim.source_key))
        summary[claim.id] = [check, absent, trail, depth, differs, 0]
    conflicts = list(_conflicts(by_id.values(), works, broader))
    for row in conflicts:
        summary[row[0]][5] += 1
        summary[row[1]][5] += 1
    return Evidence({k: tuple(v) for k, v in summary.items()}, trails, conflicts)


# -- numbers in the stated source ---------------------------------------------------


def _check_numbers(claim: Claim, source: Work | None) -> tuple[str | None, str | None]:
    if claim.kind != "quantitative" or not claim.figures:
        return None, None
    wanted = claim.figures + ([claim.n] if claim.n else [])
    if source is None or source.text_numbers is None:
        return NO_ABSTRACT, None
    absent = numbers.missing(wanted, source.text_numbers)
    if not absent:
        return FOUND, None
    return (NOT_FOUND if len(absent) == len(wanted) else PARTLY_FOUND), ", ".join(absent)


# -- trails -------------------------------------------------------------------------


def _trail(claim: Claim, by_id: dict[str, Claim], works: dict[str, Work]
           ) -> tuple[list[tuple], int | None, str]:
    """(hops, depth to primary data, summary); a hop is a claim_trails row sans id, step."""
    source = works.get(claim.source_key)
    if not claim.cites:
        if source is not None and source.identified and source.pub_type not in \
                SECONDARY_PUB_TYPES:
            return [], 0, PRIMARY
        if source is None or not source.identified:
            return [], None, UNVERIFIED
        return [], None, NO_CITATION
    hops: list[tuple] = []
    depth: int | None = None
    any_unverified = False
    seen = {claim.id}
    level, frontier = 1, [claim]
    while frontier:
        following = []
        for current in frontier:
            for number, cited_key in current.cites:
                hop, onward = _hop(current, number, cited_key, by_id, works)
                hops.append((level, current.id, number, *hop))
                status, cited = hop[3], works.get(cited_key) if cited_key else None
                if status == UNVERIFIED:
                    any_unverified = True
                elif cited is not None and cited.pub_type not in SECONDARY_PUB_TYPES:
                    depth = level if depth is None else min(depth, level)
                if onward is not None and onward.id not in seen:
                    seen.add(onward.id)
                    if onward.cites:
                        following.append(onward)
        frontier, level = following, level + 1
    if depth is not None:
        return hops, depth, REACHES_PRIMARY
    return hops, None, UNVERIFIED if any_unverified else REVIEWS_ONLY


def _hop(claim: Claim, number: int, cited_key: str | None, by_id: dict[str, Claim],
         works: dict[str, Work]) -> tuple[tuple, Claim | None]:
    """(cited_key, pub_type, to_claim, status, detail) and the restated claim to follow."""
    cited = works.get(cited_key) if cited_key else None
    if cited is None:
        return (None, None, None, UNVERIFIED,
                f"entry {number} of the reference list is not identified yet"), None
    restated = by_id.get(claim.derived_from) if claim.derived_from else None
    if restated is not None and restated.source_key != cited_key:
        restated = None
    if not cited.identified:
        why = ("its kind of publication has not been seen" if cited.pub_type == "unknown"
               else "it has no title, year or identifier yet")
        return (cited_key, cited.pub_type, None, UNVERIFIED,
                f"{cited.label} is not identified: {why}"), None
    secondary = cited.pub_type in SECONDARY_PUB_TYPES
    if restated is not None:
        if not (claim.quantitative and restated.quantitative):
            return (cited_key, cited.pub_type, restated.id, NOT_CHECKED,
                    f"restates {restated.id}; no figures to compare"), restated
        if _same_figures(claim, restated):
            return (cited_key, cited.pub_type, restated.id, MATCHES,
                    f"{restated.id} gives {restated.shown()}"), restated
        return (cited_key, cited.pub_type, restated.id, DIFFERS,
                f"{claim.shown()} here, but {restated.id} gives {restated.shown()}"), restated
    if secondary:
        return (cited_key, cited.pub_type, None, CITES_REVIEW,
                f"{cited.label} is a {cited.pub_type}; no claim of it is linked to "
                "follow further"), None
    if claim.quantitative and cited.text_numbers is not None:
        wanted = claim.figures
        absent = numbers.missing(wanted, cited.text_numbers)
        if not absent:
            return (cited_key, cited.pub_type, None, MATCHES,
                    f"{', '.join(wanted)} appear in its title or abstract"), None
        return (cited_key, cited.pub_type, None, NOT_FOUND,
                f"{', '.join(absent)} not in its cached title or abstract"), None
    why = ("no abstract cached and no claim of it linked" if claim.quantitative
           else "a qualitative claim")
    return (cited_key, cited.pub_type, None, NOT_CHECKED, why), None


def _same_figures(claim: Claim, source: Claim) -> bool:
    if claim.unit != source.unit:
        return False
    for mine, theirs in ((claim.value, source.value), (claim.low, source.low),
                         (claim.high, source.high)):
        if bool(mine) != bool(theirs):
            return False
        if mine and not numbers.restates(mine, theirs):
            return False
    return True


# -- conflicts ----------------------------------------------------------------------


def _conflicts(claims: Iterable[Claim], works: dict[str, Work], broader: dict[str, str]
               ) -> Iterator[tuple]:
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


def _values_differ(members: list) -> Iterator[tuple]:
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


def _denominators(members: list, broader: dict[str, str]) -> Iterator[tuple]:
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


def _row(kind: str, a: Claim, b: Claim) -> tuple:
    if kind == VALUES_DIFFER:
        why = (f"{a.shown()} ({a.source_key}) and {b.shown()} ({b.source_key}) do not "
               "overlap")
    else:
        why = (f"{a.shown()} of {a.population} ({a.source_key}) and {b.shown()} of "
               f"{b.population} ({b.source_key}): {b.population} is part of "
               f"{a.population}, so the figures have different denominators")
    return (a.id, b.id, kind, a.outcome, a.unit, a.population, b.population,
            a.timepoint or None, b.timepoint or None, a.shown(), b.shown(), a.source_key,
            b.source_key, why)
