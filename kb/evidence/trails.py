"""Trails: each hop from a claim to what it rests on, and the check of a claim's numbers
against its own source's abstract (see the package docstring for the statuses).
"""

from __future__ import annotations

from kb.data.schema import SECONDARY_PUB_TYPES

from . import numbers
from .model import (CITES_REVIEW, DIFFERS, FOUND, MATCHES, NO_ABSTRACT, NO_CITATION,
                    NOT_CHECKED, NOT_FOUND, PARTLY_FOUND, PRIMARY, REACHES_PRIMARY,
                    REVIEWS_ONLY, UNVERIFIED, Claim, Hop, Work)


# -- numbers in the stated source ---------------------------------------------------


def check_numbers(claim: Claim, source: Work | None) -> tuple[str | None, str | None]:
    """(numbers_in_source, numbers_missing): are the claim's figures and n in the cached
    title and abstract of the work stating it? (None, None) for qualitative claims."""
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


def trail(claim: Claim, by_id: dict[str, Claim], works: dict[str, Work]
          ) -> tuple[list[Hop], int | None, str]:
    """(hops, depth to primary data, the trail's summary status) of one claim."""
    source = works.get(claim.source_key)
    if not claim.cites:
        if source is not None and source.identified and source.pub_type not in \
                SECONDARY_PUB_TYPES:
            return [], 0, PRIMARY
        if source is None or not source.identified:
            return [], None, UNVERIFIED
        return [], None, NO_CITATION
    hops: list[Hop] = []
    depth: int | None = None
    any_unverified = False
    seen = {claim.id}
    level, frontier = 1, [claim]
    while frontier:
        following = []
        for current in frontier:
            for number, cited_key in current.cites:
                head = (claim.id, len(hops) + 1, level, current.id, number)
                hop, onward = _hop(head, current, cited_key, by_id, works)
                hops.append(hop)
                status, cited = hop.status, works.get(cited_key) if cited_key else None
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


def _hop(head: tuple, claim: Claim, cited_key: str | None, by_id: dict[str, Claim],
         works: dict[str, Work]) -> tuple[Hop, Claim | None]:
    """The hop of one number `claim` cites (head: the Hop's claim_id, step, depth,
    from_claim and ref_number), and the restated claim to follow."""
    number = head[4]
    cited = works.get(cited_key) if cited_key else None
    if cited is None:
        return Hop(*head, None, None, None, UNVERIFIED,
                   f"entry {number} of the reference list is not identified yet"), None
    restated = by_id.get(claim.derived_from) if claim.derived_from else None
    if restated is not None and restated.source_key != cited_key:
        restated = None
    if not cited.identified:
        why = ("its kind of publication has not been seen" if cited.pub_type == "unknown"
               else "it has no title, year or identifier yet")
        return Hop(*head, cited_key, cited.pub_type, None, UNVERIFIED,
                   f"{cited.label} is not identified: {why}"), None
    secondary = cited.pub_type in SECONDARY_PUB_TYPES
    if restated is not None:
        if not (claim.quantitative and restated.quantitative):
            return Hop(*head, cited_key, cited.pub_type, restated.id, NOT_CHECKED,
                       f"restates {restated.id}; no figures to compare"), restated
        if same_figures(claim, restated):
            return Hop(*head, cited_key, cited.pub_type, restated.id, MATCHES,
                       f"{restated.id} gives {restated.shown()}"), restated
        return Hop(*head, cited_key, cited.pub_type, restated.id, DIFFERS,
                   f"{claim.shown()} here, but {restated.id} gives {restated.shown()}"), restated
    if secondary:
        return Hop(*head, cited_key, cited.pub_type, None, CITES_REVIEW,
                   f"{cited.label} is a {cited.pub_type}; no claim of it is linked to "
                   "follow further"), None
    if claim.quantitative and cited.text_numbers is not None:
        wanted = claim.figures
        absent = numbers.missing(wanted, cited.text_numbers)
        if not absent:
            return Hop(*head, cited_key, cited.pub_type, None, MATCHES,
                       f"{', '.join(wanted)} appear in its title or abstract"), None
        return Hop(*head, cited_key, cited.pub_type, None, NOT_FOUND,
                   f"{', '.join(absent)} not in its cached title or abstract"), None
    why = ("no abstract cached and no claim of it linked" if claim.quantitative
           else "a qualitative claim")
    return Hop(*head, cited_key, cited.pub_type, None, NOT_CHECKED, why), None


def same_figures(claim: Claim, source: Claim) -> bool:
    if claim.unit != source.unit:
        return False
    for mine, theirs in ((claim.value, source.value), (claim.low, source.low),
                         (claim.high, source.high)):
        if bool(mine) != bool(theirs):
            return False
        if mine and not numbers.restates(mine, theirs):
            return False
    return True
