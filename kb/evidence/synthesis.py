"""A question's answer: the claims that answer it, which of them are pooled and why the
others are not, the pooled estimate (kb/evidence/pooling.py) and its GRADE certainty.

A claim answers a question when its population, intervention, comparator and outcome
are the question's terms or narrower ones (the vocabulary's `broader`). Of those:
- only primary studies are pooled: a review or meta-analysis has pooled already, and a
  review's restatement of a primary figure counts once, as that primary's claim; a
  review's figure citing one reference and restating no curated claim (a review table's
  row) stands for that one primary study, until the primary's own figure is curated;
- one report per cohort, the one with the largest n; one figure per study and arm;
- only a point value with its n (a proportion) or with its 95% CI (a ratio), at the
  question's timepoint; medians and ranges are listed, never pooled.
Two pooled primary studies of one author group (two or more authors shared) without a
cohort key are flagged as a suspected overlap, never merged silently: the message says
whether their n are within 10 % or they were published the same year; their accrual
years are not recorded, so an overlap is never ruled out.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Iterable, Iterator

from kb.data.schema import CI95
from kb.data.text import surname, whole_number

from . import grade, pooling
from .model import (FLAG, POOLED_ELSEWHERE, Claim, Question, Synthesis, SynthesisStudy,
                    Work, study_of)

RATIOS = frozenset({"hazard-ratio", "odds-ratio"})
RANDOMIZED = frozenset({"rct"})
OVERLAP = "suspected overlap"
NO_STUDY, ONE_STUDY = "no poolable study", "single study"
METHODS = {"proportion": "random effects (DerSimonian-Laird), logit proportions",
           "ratio": "random effects (DerSimonian-Laird), log ratios"}


def within(term: str, wider: str, broader: dict[str, str]) -> bool:
    """Is term the wider term, or narrower than it through the broader chain?"""
    seen = set()
    while term and term not in seen:
        if term == wider:
            return True
        seen.add(term)
        term = broader.get(term, "")
    return False


def answers(claim: Claim, question: Question, broader: dict[str, dict[str, str]]) -> bool:
    """Does the claim speak to the question's population, intervention, comparator and
    outcome? (Its timepoint and measure decide whether it is pooled.)"""
    def fits(value: str, wanted: str, field: str) -> bool:
        return not wanted or within(value, wanted, broader.get(field, {}))

    return (claim.kind == "quantitative" and bool(claim.outcome)
            and fits(claim.outcome, question.outcome, "outcome")
            and fits(claim.population, question.population, "population")
            and fits(claim.intervention, question.intervention, "intervention")
            and fits(claim.comparator, question.comparator, "intervention"))


def synthesise(questions: Iterable[Question], claims: list[Claim], works: dict[str, Work],
               broader: dict[str, dict[str, str]], judgements: dict[str, dict[str, str]]
               ) -> tuple[list[Synthesis], list[SynthesisStudy], list[tuple]]:
    """Each question's synthesis and studies, and the overlap findings (level, rule,
    message, claim ids) for kb/evidence/flags.py to number."""
    syntheses, studies, overlaps = [], [], []
    by_id = {c.id: c for c in claims}
    find = _Index(claims, broader)
    for question in questions:
        candidates = [c for c in find(question) if answers(c, question, broader)]
        rows, included = _choose(question, candidates, by_id, works)
        synthesis, weights = _pooled(question, included, works,
                                     judgements.get(question.id, {}))
        syntheses.append(synthesis)
        studies.extend(row._replace(weight=weights.get(row.claim_id)) for row in rows)
        overlaps.extend(_overlaps(question, included, works))
    return syntheses, studies, overlaps


class _Index:
    """The quantitative claims by outcome and intervention, so that a question reads
    only the claims of its terms and their narrower ones, in the claims' order."""

    def __init__(self, claims: list[Claim], broader: dict[str, dict[str, str]]):
        self.broader = broader
        self.groups: dict[tuple[str, str], list[tuple[int, Claim]]] = defaultdict(list)
        for position, claim in enumerate(claims):
            if claim.kind == "quantitative" and claim.outcome:
                self.groups[(claim.outcome, claim.intervention)].append((position, claim))

    def __call__(self, question: Question) -> list[Claim]:
        outcomes = self.broader.get("outcome", {})
        interventions = self.broader.get("intervention", {})
        found = [member for (outcome, intervention), members in self.groups.items()
                 if within(outcome, question.outcome, outcomes)
                 and (not question.intervention
                      or within(intervention, question.intervention, interventions))
                 for member in members]
        return [claim for _, claim in sorted(found, key=lambda m: m[0])]


def _choose(question: Question, candidates: list[Claim], by_id: dict[str, Claim],
            works: dict[str, Work]) -> tuple[list[SynthesisStudy], list[tuple]]:
    """Every candidate with whether it is pooled (or why not), and the pooled ones as
    (claim, events or None, effect)."""
    reasons: dict[str, str] = {}
    usable: list[Claim] = []
    answering = {c.id for c in candidates}
    for claim in candidates:
        reason = _why_not(question, claim, by_id, works, answering)
        if reason:
            reasons[claim.id] = reason
        else:
            usable.append(claim)
    for claim, kept in _one_per_cohort_and_arm(usable, works):
        reasons[claim.id] = kept
    rows, included = [], []
    for claim in candidates:
        n, events = whole_number(claim.n), _events(claim)
        if claim.id in reasons:
            rows.append(SynthesisStudy(question.id, claim.id, claim.source_key,
                                       study_of(claim, works), 0, reasons[claim.id], None,
                                       n, events, *_own(claim)))
            continue
        effect, shown = _effect(question, claim)
        rows.append(SynthesisStudy(question.id, claim.id, claim.source_key,
                                   study_of(claim, works), 1, None, None, n, events, *shown))
        included.append((claim, effect, shown))
    return rows, included


def _why_not(question: Question, claim: Claim, by_id: dict[str, Claim],
             works: dict[str, Work], answering: set[str]) -> str | None:
    work = works.get(claim.source_key)
    if work is not None and work.pub_type in POOLED_ELSEWHERE:
        if claim.derived_from and claim.derived_from in by_id:
            if claim.derived_from in answering:
                return f"restates {claim.derived_from}: counted once, as that primary's claim"
            return (f"restates {claim.derived_from}, which does not answer this question "
                    "as curated: the review's figure does not stand in for it")
        if len(claim.cites) != 1:
            return (f"stated by a {work.pub_type} citing {len(claim.cites) or 'no'} "
                    "references: pooled or summarised already, not one study's figure")
    if claim.measure != question.measure:
        if claim.measure in ("median", "mean"):
            return f"a {claim.measure}: listed, not pooled"
        return f"measure {claim.measure}, not {question.measure}"
    if question.timepoint and claim.timepoint != question.timepoint:
        return f"timepoint {claim.timepoint or 'not stated'}, not {question.timepoint}"
    if not claim.value:
        return "a range without a point value: listed, not pooled"
    if question.measure in RATIOS:
        if claim.interval != CI95 or not (claim.low and claim.high):
            return "no 95% CI to weigh it by"
        if min(float(claim.value), float(claim.low)) <= 0:
            return "a ratio of 0 or less cannot be pooled on the log scale"
        return None
    if claim.unit != "%":
        return f"unit {claim.unit}, not %"
    if not claim.n:
        return "no n: its weight is unknown"
    return None


def _one_per_cohort_and_arm(claims: list[Claim], works: dict[str, Work]
                            ) -> Iterator[tuple[Claim, str]]:
    """The claims to leave out, and why: all but the largest report of a cohort, all but
    one figure of a study's arm, and a study's whole-group figure when its arms are
    pooled."""
    def size(c: Claim) -> tuple[int, bool]:
        """The larger n first; of equal n, the study's own report before a review's."""
        return whole_number(c.n) or 0, study_of(c, works) == c.source_key

    left_out: set[str] = set()
    by_cohort: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        if c.cohort:
            by_cohort[c.cohort].append(c)
    for cohort, reports in by_cohort.items():
        kept = max(reports, key=size)
        for c in reports:
            if c is not kept:
                left_out.add(c.id)
                yield c, f"same cohort as {kept.id} ({cohort}), which has the largest n"
    by_study: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        if c.id not in left_out:
            by_study[study_of(c, works)].append(c)
    for source, figures in by_study.items():
        arms = {c.arm for c in figures if c.arm}
        by_arm: dict[str, list[Claim]] = defaultdict(list)
        for c in figures:
            if arms and not c.arm:
                yield c, f"the whole study's figure: its arms ({', '.join(sorted(arms))}) " \
                         "are pooled instead"
            else:
                by_arm[c.arm].append(c)
        for arm, same in by_arm.items():
            kept = max(same, key=size)
            for c in same:
                if c is not kept:
                    yield c, f"another figure of the same study{' arm' if arm else ''}: " \
                             f"{kept.id} is pooled"


def _effect(question: Question, claim: Claim):
    """The claim on the pooling scale, and its estimate and 95% CI as shown (percent
    for a share, by Clopper-Pearson; the ratio and its own CI)."""
    if question.measure in RATIOS:
        ratio, low, high = float(claim.value), float(claim.low), float(claim.high)
        return pooling.log_ratio_effect(ratio, low, high), (ratio, low, high)
    events, n = _events(claim), whole_number(claim.n)
    low, high = pooling.exact_interval(events, n)
    return pooling.logit_effect(events, n), (float(claim.value), low * 100, high * 100)


def _own(claim: Claim) -> tuple:
    return (float(claim.value) if claim.value else None,
            float(claim.low) if claim.low else None,
            float(claim.high) if claim.high else None)


def _events(claim: Claim) -> int | None:
    """Printed events, else round(value / 100 x n) for a share."""
    printed = whole_number(claim.events)
    if printed is not None:
        return printed
    n = whole_number(claim.n)
    if claim.unit == "%" and claim.value and n is not None:
        return round(float(claim.value) / 100 * n)
    return None


def _pooled(question: Question, included: list[tuple], works: dict[str, Work],
            judgements: dict[str, str]) -> tuple[Synthesis, dict[str, float]]:
    k = len(included)
    ratio = question.measure in RATIOS
    sizes = [whole_number(c.n) for c, _, _ in included]
    n_total = sum(s for s in sizes if s) if any(sizes) else None
    designs = {works[key].pub_type in RANDOMIZED if key in works else False
               for key in (study_of(c, works) for c, _, _ in included)}
    design = (None if not designs else "randomized" if designs == {True}
              else "observational" if designs == {False} else "mixed")
    certainty = grade.rate(design, judgements) if k else None
    head = (question.id, question.outcome, question.timepoint or None, question.measure)
    unit = "ratio" if ratio else "%"
    if k == 0:
        return Synthesis(*head, NO_STUDY, 0, None, *(None,) * 9, unit, None, None), {}
    back = "exp" if ratio else "expit"
    scale = 1 if ratio else 100
    if k == 1:   # the study's own figure and CI: exact for a share, printed for a ratio
        claim, _, (estimate, low, high) = included[0]
        return Synthesis(*head, ONE_STUDY, 1, n_total, estimate, low, high, None, None,
                         None, None, None, None, unit, design, certainty), {claim.id: 100.0}
    result = pooling.pool([effect for _, effect, _ in included], back)
    pi = ((result.pi_low * scale, result.pi_high * scale) if result.pi_low is not None
          else (None, None))
    return (Synthesis(*head, METHODS["ratio" if ratio else "proportion"], k, n_total,
                      result.estimate * scale, result.ci_low * scale,
                      result.ci_high * scale, *pi, result.tau2, result.i2, result.q,
                      result.q_p, unit, design, certainty),
            {c.id: w for (c, _, _), w in zip(included, result.weights)})


def _overlaps(question: Question, included: list[tuple], works: dict[str, Work]
              ) -> Iterator[tuple]:
    for (a, _, _), (b, _, _) in combinations(included, 2):
        key_a, key_b = study_of(a, works), study_of(b, works)
        if key_a == key_b or (a.cohort and a.cohort == b.cohort):
            continue
        wa, wb = works.get(key_a), works.get(key_b)
        if wa is None or wb is None:
            continue
        shared = _surnames(wa.authors) & _surnames(wb.authors)
        if len(shared) < 2:
            continue
        na, nb = whole_number(a.n), whole_number(b.n)
        close = na and nb and abs(na - nb) <= 0.1 * max(na, nb)
        if close:
            why = f"n {na} and {nb}"
        elif wa.year is not None and wa.year == wb.year:
            why = f"both published in {wa.year}"
        else:   # the accrual years are not recorded, so an overlap cannot be ruled out
            why = "accrual years not recorded"
        yield (FLAG, OVERLAP, f"{question.id}: {key_a} and {key_b} share "
               f"{len(shared)} authors ({', '.join(sorted(shared))}), {why}: the "
               "same patients reported twice? Give them one cohort key if so",
               (a.id, b.id))


def _surnames(authors: tuple[str, ...]) -> set[str]:
    return {surname(name) for name in authors}




def shown_estimate(row: Synthesis) -> str:
    """'62.1 % (95% CI 55.0–68.7; PI 40.2–80.1)'"""
    if row.estimate is None:
        return ""
    unit = " %" if row.unit == "%" else ""
    digits = 2 if row.unit == "ratio" else 1
    text = f"{row.estimate:.{digits}f}{unit} (95% CI {row.ci_low:.{digits}f}–" \
           f"{row.ci_high:.{digits}f}"
    if row.pi_low is not None:
        text += f"; PI {row.pi_low:.{digits}f}–{row.pi_high:.{digits}f}"
    return text + ")"
