"""What `kb validate --evidence` prints: claims whose numbers are not in the abstract
their locator points to (problems), the other missing numbers, the trail hops whose
figures differ or are not found and the plausibility flags (notes), and a summary line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.data.csvfile import Problem, gc_paused
from kb.data.dataset import Dataset

from .compute import of_dataset
from .model import DIFFERS, FLAG, NOT_FOUND, NOTE, NUMBER_CHECKS, Evidence

STATED_IN_ABSTRACT = re.compile(r"\b(abstract|title)\b", re.I)


@dataclass
class EvidenceReport:
    problems: list[Problem]  # numbers absent from the abstract the locator points to
    notes: list[Problem]     # other findings: to look at, not errors
    summary: str


def evidence_report(dataset: Dataset, found: Evidence) -> EvidenceReport:
    """What `kb validate --evidence` prints, from the data set's evidence."""
    claims = dataset["claims.csv"]
    row_of = {claim_id: row for row, claim_id in enumerate(claims.column("id"))}
    problems, notes = [], []
    checks = dict.fromkeys(NUMBER_CHECKS, 0)
    for claim_id, evidence in found.claims.items():
        check, absent = evidence.numbers_in_source, evidence.numbers_missing
        if check is None:
            continue
        checks[check] += 1
        if not absent:
            continue
        row = row_of[claim_id]
        cells = {c: claims.column(c)[row] for c in ("value", "low", "high", "n", "locator",
                                                     "source_key")}
        first = absent.split(", ")[0]
        column = next((c for c in ("value", "low", "high", "n") if cells[c] == first),
                      "value")
        line, col = claims.location(row, column)
        if STATED_IN_ABSTRACT.search(cells["locator"]):
            problems.append(Problem(claims.display, line, col, (
                f"{claim_id}: {absent} not in the cached title or abstract of "
                f"{cells['source_key']!r}, where the locator ({cells['locator']}) says it is "
                "stated: check the figure or the locator")))
        else:
            notes.append(Problem(claims.display, line, col, (
                f"note: {claim_id}: {absent} not in the cached title or abstract of "
                f"{cells['source_key']!r}; stated in {cells['locator']}: check it there")))
    hops = {DIFFERS: 0, NOT_FOUND: 0}
    for hop in found.trails:
        if hop.status not in hops or hop.claim_id != hop.from_claim:
            continue
        hops[hop.status] += 1
        row = row_of[hop.claim_id]
        column = "derived_from" if hop.status == DIFFERS else "cites"
        notes.append(Problem(claims.display, *claims.location(row, column),
                             f"note: {hop.claim_id} -> [{hop.ref_number}] {hop.cited_key}: "
                             f"{hop.status}: {hop.detail}"))
    levels = {FLAG: 0, NOTE: 0}
    for flag in found.flags:
        levels[flag.level] += 1
        notes.append(Problem(claims.display, *claims.location(row_of[flag.claim_id], "id"),
                             f"note: {flag.claim_id}: {flag.level} {flag.flag} "
                             f"({flag.rule}): {flag.message}"))
    summary = ("numbers checked against cached abstracts: "
               + ", ".join(f"{n} {name}" for name, n in checks.items())
               + f"; trail hops: {hops[DIFFERS]} differ, {hops[NOT_FOUND]} not found in the "
               f"cited abstract; plausibility: {len({f.flag for f in found.flags if f.level == FLAG})}"
               f" flags on {levels[FLAG]} claims, "
               f"{len({f.flag for f in found.flags if f.level == NOTE})} notes")
    return EvidenceReport(sorted(problems), sorted(notes), summary)


def check(dataset: Dataset) -> EvidenceReport:
    """`kb validate --evidence` of a valid data set."""
    with gc_paused():  # as in the build: millions of live rows, no garbage
        found = of_dataset(dataset)
    return evidence_report(dataset, found)
