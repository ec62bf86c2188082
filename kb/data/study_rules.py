"""Rules about the studies behind the claims: what a claim's interval is, the arms of a
study and the cohorts that several claims report. Each problem names its file, line and
column; the softer signs of trouble (arms adding up to more than the study, a figure
going the wrong way) are not errors but flags the build computes (kb/evidence/flags.py).
"""

from __future__ import annotations

from .csvfile import CsvFile
from .schema import STUDY_SIZE
from .text import shown, whole_number



def check_intervals(claims: CsvFile) -> None:
    """A claim with low or high says what they are (interval), and only such a claim
    does. Files written before the interval column stay readable without it."""
    if "interval" not in claims.header:
        return
    for row, (low, high, kind) in enumerate(zip(claims.column("low"), claims.column("high"),
                                                claims.column("interval"))):
        if (low or high) and not kind:
            claims.problem(*claims.location(row, "interval"), "interval is required with "
                           "low or high: say whether they are a range, a 95% CI or an IQR")
        elif kind and not (low or high):
            claims.problem(*claims.location(row, "interval"), f"interval {shown(kind)} "
                           "names what low and high are, but the claim has neither")


def study_sizes(claims: CsvFile) -> dict[str, int]:
    """source_key -> the size of its study: the largest whole-study `study-size` figure
    (n, or the count itself) among its claims."""
    sizes: dict[str, int] = {}
    for source, outcome, arm, value, n in zip(
            claims.column("source_key"), claims.column("outcome"), claims.column("arm"),
            claims.column("value"), claims.column("n")):
        if outcome != STUDY_SIZE or arm:
            continue
        size = whole_number(n) or whole_number(value)
        if size is not None and size > sizes.get(source, 0):
            sizes[source] = size
    return sizes


def check_arm_sizes(claims: CsvFile) -> None:
    """An arm cannot hold more patients than its whole study."""
    sizes = study_sizes(claims)
    if not sizes:
        return
    for row, (claim_id, source, arm, n) in enumerate(zip(
            claims.column("id"), claims.column("source_key"), claims.column("arm"),
            claims.column("n"))):
        size, arm_n = sizes.get(source), whole_number(n)
        if arm and size is not None and arm_n is not None and arm_n > size:
            claims.problem(*claims.location(row, "n"), f"arm {shown(arm)} has n {arm_n}, "
                           f"more than the {size} patients of its study ({source}'s "
                           "study-size claims)")


def check_cohorts(claims: CsvFile) -> None:
    """Claims sharing a cohort key report the same patients, so they share a
    population: a key across two populations joins different patients."""
    first: dict[str, tuple[str, int]] = {}
    for row, (cohort, population) in enumerate(zip(claims.column("cohort"),
                                                   claims.column("population"))):
        if not cohort or not population:
            continue
        if cohort not in first:
            first[cohort] = (population, row)
        elif first[cohort][0] != population:
            seen, at = first[cohort]
            claims.problem(*claims.location(row, "cohort"), f"cohort {shown(cohort)} is "
                           f"population {population!r} here but {seen!r} on line "
                           f"{claims.line_numbers[at]}: one cohort is one set of patients")
