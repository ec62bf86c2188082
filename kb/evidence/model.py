"""The evidence's named records: a work and a claim as the trails see them, and the rows
the build writes (a hop of `claim_trails`, a pair of `claim_conflicts`, a claim's
evidence columns), each a NamedTuple in its table's column order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from kb.data.schema import SECONDARY_PUB_TYPES

from . import numbers

# works whose figures are pooled or summarised from others: not primary data to pool
POOLED_ELSEWHERE = SECONDARY_PUB_TYPES | {"meta-analysis"}

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
    authors: tuple[str, ...] = ()   # as printed, 'Surname Initials'
    year: int | None = None


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
    arm: str = ""
    interval: str = ""
    cohort: str = ""
    events: str = ""
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
         title: str | None, year, abstract: str | None,
         authors: tuple[str, ...] = ()) -> Work:
    """A work as the trails see it; identified when it can be found by someone else."""
    identified = pub_type != "unknown" and bool(pmid or doi or (title and year))
    text = None
    if abstract:
        text = numbers.numbers_in(f"{title or ''}\n{abstract}")
    return Work(key, pub_type, label, identified, text, tuple(authors),
                int(year) if year not in (None, "") else None)


def study_of(claim: Claim, works: dict[str, Work]) -> str:
    """The primary study a figure belongs to: its source, or for a review's figure that
    cites one reference (a review table's row), the cited work ('review#N' while the
    entry is not known)."""
    work = works.get(claim.source_key)
    if work is not None and work.pub_type in POOLED_ELSEWHERE and len(claim.cites) == 1:
        number, cited = claim.cites[0]
        return cited or f"{claim.source_key}#{number}"
    return claim.source_key


class Hop(NamedTuple):
    """One hop of a claim's trail: a row of claim_trails."""

    claim_id: str
    step: int
    depth: int
    from_claim: str
    ref_number: int
    cited_key: str | None
    cited_pub_type: str | None
    to_claim: str | None
    status: str
    detail: str


class Conflict(NamedTuple):
    """Two claims a reader could set against each other: a row of claim_conflicts."""

    claim_a: str
    claim_b: str
    kind: str
    outcome: str
    unit: str
    population_a: str
    population_b: str
    timepoint_a: str | None
    timepoint_b: str | None
    figure_a: str
    figure_b: str
    source_a: str
    source_b: str
    explanation: str


class ClaimEvidence(NamedTuple):
    """What the build adds to a claim's row (the claims table's evidence columns)."""

    numbers_in_source: str | None
    numbers_missing: str | None
    trail: str
    trail_depth: int | None
    trail_differs: int
    conflicts: int
    figure: str | None      # the figure as a reader writes it, with its interval kind


class Flag(NamedTuple):
    """A plausibility check's finding about one claim: a row of claim_flags. Claims
    found together share the flag's number."""

    flag: int
    claim_id: str
    rule: str
    level: str      # FLAG (a figure to re-read) or NOTE (said for the record)
    message: str


FLAG, NOTE = "flag", "note"


@dataclass(frozen=True)
class Question:
    """A guideline question as PICO (a questions.csv row)."""

    id: str
    question: str
    population: str
    intervention: str
    comparator: str
    outcome: str
    timepoint: str
    measure: str


class Synthesis(NamedTuple):
    """A question's pooled answer: a row of syntheses."""

    question_id: str
    outcome: str
    timepoint: str | None
    measure: str
    method: str
    k: int
    n_total: int | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    pi_low: float | None
    pi_high: float | None
    tau2: float | None
    i2: float | None
    q: float | None
    q_p: float | None
    unit: str | None
    design: str | None       # randomized, observational, or mixed
    certainty: str | None    # high, moderate, low, very low


class SynthesisStudy(NamedTuple):
    """A claim considered for a question: a row of synthesis_studies."""

    question_id: str
    claim_id: str
    source_key: str
    study_key: str           # the primary study: the source, or the work a review cites
    included: int
    reason: str | None
    weight: float | None     # percent of the pooled estimate's weight
    n: int | None
    events: int | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class Evidence:
    claims: dict[str, ClaimEvidence]   # by claim id
    trails: list[Hop]
    conflicts: list[Conflict]
    flags: list[Flag] = field(default_factory=list)
    syntheses: list[Synthesis] = field(default_factory=list)
    studies: list[SynthesisStudy] = field(default_factory=list)
