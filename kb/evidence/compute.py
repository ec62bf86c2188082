"""Trails, number checks and conflicts for every claim: from the evidence's records
(`compute`), or from a loaded data set as `kb build` and `kb validate --evidence` see it
(`of_dataset`).
"""

from __future__ import annotations

import time
from typing import Iterable

from kb.data.cites import claim_citations
from kb.data.dataset import Dataset
from kb.data.text import split_authors
from kb.data.works import works as works_of

from . import flags as flag_rules
from .conflicts import conflicts as conflicts_of
from .model import DIFFERS, Claim, ClaimEvidence, Evidence, Question, Work, work
from .synthesis import synthesise
from .trails import check_numbers, trail

# the claims.csv columns a Claim holds, in its order
CLAIM_COLUMNS = tuple(name for name in Claim.__dataclass_fields__
                      if name not in ("cites", "figure"))
WORK_COLUMNS = ("key", "pub_type", "label", "pmid", "doi", "title", "year", "abstract")


def compute(claims: Iterable[Claim], works: dict[str, Work],
            broader: dict[str, dict[str, str]], questions: Iterable[Question] = (),
            judgements: dict[str, dict[str, str]] | None = None,
            timings: dict | None = None) -> Evidence:
    """Trails, number checks, conflicts and flags for every claim, and each question's
    synthesis. broader maps a vocabulary field to its term -> broader term; judgements
    maps a question to its GRADE domains' judgements; timings, when given, gets the
    seconds the flags ("flags") and the syntheses ("synthesis") took."""
    by_id = {c.id: c for c in claims}
    trails = []
    summary: dict[str, list] = {}
    for claim in by_id.values():
        hops, depth, status = trail(claim, by_id, works)
        trails.extend(hops)
        differs = sum(1 for hop in hops if hop.status == DIFFERS)
        check, absent = check_numbers(claim, works.get(claim.source_key))
        summary[claim.id] = [check, absent, status, depth, differs, 0, figure_of(claim)]
    found = list(conflicts_of(by_id.values(), works, broader.get("population", {})))
    for row in found:
        summary[row.claim_a][5] += 1
        summary[row.claim_b][5] += 1
    started = time.perf_counter()
    flagged = flag_rules.flags(by_id.values(), works)
    flagged_at = time.perf_counter()
    syntheses, studies, overlaps = synthesise(questions, list(by_id.values()), works,
                                              broader, judgements or {})
    flagged += flag_rules.numbered(overlaps, start=len({f.flag for f in flagged}) + 1)
    if timings is not None:
        timings["flags"] = flagged_at - started
        timings["synthesis"] = time.perf_counter() - flagged_at
    return Evidence({k: ClaimEvidence(*v) for k, v in summary.items()}, trails, found,
                    flagged, syntheses, studies)


def figure_of(claim: Claim) -> str | None:
    """'47%', '0.47 (0.3–0.73) ratio, 95% CI': value or range, unit, interval kind."""
    if not claim.quantitative:
        return None
    shown = claim.shown()
    return f"{shown}, {claim.interval}" if claim.interval else shown


def of_dataset(dataset: Dataset, sources: list[dict] | None = None,
               cited: Iterable | None = None, timings: dict | None = None) -> Evidence:
    """The evidence of a loaded (valid) data set. sources (kb.data.works) and cited
    (kb.data.cites.claim_citations) are worked out here unless the caller has them."""
    if sources is None:
        sources = works_of(dataset).sources
    works = {s["key"]: work(*(s[name] for name in WORK_COLUMNS),
                            authors=tuple(split_authors(s["authors"])[0]))
             for s in sources}
    cites: dict[str, list] = {}
    for claim_id, number, _, cited_key in (claim_citations(dataset) if cited is None
                                           else cited):
        cites.setdefault(claim_id, []).append((number, cited_key))
    claims = dataset["claims.csv"]
    columns = [claims.column(name) for name in CLAIM_COLUMNS]
    vocabulary = dataset["vocabulary.csv"]
    broader: dict[str, dict[str, str]] = {}
    for fld, term, wider in zip(vocabulary.column("field"), vocabulary.column("term"),
                                vocabulary.column("broader")):
        if wider:
            broader.setdefault(fld, {})[term] = wider
    return compute(
        (Claim(*values, cites=cites.get(values[0], [])) for values in zip(*columns)),
        works, broader, questions_of(dataset), judgements_of(dataset), timings)


def questions_of(dataset: Dataset) -> list[Question]:
    f = dataset["questions.csv"]
    names = Question.__dataclass_fields__
    return [Question(*values) for values in zip(*(f.column(name) for name in names))]


def judgements_of(dataset: Dataset) -> dict[str, dict[str, str]]:
    """question id -> GRADE domain -> judgement."""
    f = dataset["certainty.csv"]
    judged: dict[str, dict[str, str]] = {}
    for question, domain, judgement in zip(f.column("question_id"), f.column("domain"),
                                           f.column("judgement")):
        judged.setdefault(question, {})[domain] = judgement
    return judged
