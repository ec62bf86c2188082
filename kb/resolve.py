"""`kb resolve`: propose PMIDs for the references without one (ECitMatch, then a title
check against the fetched record) into a review file; references.csv is never edited.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rapidfuzz import fuzz

from ingest import entrez, pubmed, sync
from ingest.cache import Cache
from ingest.files import write_atomic
from kb.data.csvfile import CsvFile
from kb.data.text import first_author, first_page, normalise

TITLE_MATCH_SCORE = 90  # rapidfuzz token_sort_ratio of normalised titles, 0-100

PROPOSAL_COLUMNS = ["key", "proposed_pmid", "decision", "title_score", "pubmed_title",
                    "curated_title", "citmatch_query"]


def citmatch_query(row: dict) -> dict | None:
    """What ECitMatch is asked for one reference, or None when it is too little."""
    page, author = first_page(row["pages"]), first_author(row["authors"])
    if not (row["journal"] and row["year"] and (row["volume"] or first_page)):
        return None
    return dict(zip(entrez.CITMATCH_FIELDS, (row["journal"], row["year"], row["volume"],
                                              page, author, row["key"])))


def resolve(client: entrez.Client, cache: Cache, data_dir: Path) -> list[dict]:
    """Propose PMIDs for references without one; a proposal is accepted only when the
    fetched PubMed title agrees with the curated title (score >= TITLE_MATCH_SCORE)."""
    references = CsvFile(Path(data_dir) / "references.csv")
    candidates = [r for r in references.dicts() if not r["pmid"]]
    asked = {r["key"]: citmatch_query(r) for r in candidates}
    proposals = []
    queries = [query for query in asked.values() if query]
    found = entrez.parse_citmatch(entrez.fetch_citmatch(client, queries)) if queries else {}
    sync.fetch_pmids(client, cache, found.values())
    titles = {}
    for pmid in found.values():
        if cache.has(pmid):
            record = next(iter(pubmed.parse(cache.path(pmid))), None)
            titles[pmid] = (record or {}).get("title") or ""
    for row in candidates:
        pmid = found.get(row["key"], "")
        pubmed_title = titles.get(pmid, "")
        score = round(fuzz.token_sort_ratio(normalise(row["title"] or ""),
                                            normalise(pubmed_title))) if pmid else ""
        if not asked[row["key"]]:
            decision = "not enough to ask (needs journal, year, and volume or pages)"
        elif not pmid:
            decision = "no match"
        elif not row["title"]:
            decision = "check by hand: no curated title to compare"
        else:
            decision = "accept" if score >= TITLE_MATCH_SCORE else "reject: titles differ"
        proposals.append({"key": row["key"], "proposed_pmid": pmid, "decision": decision,
                          "title_score": score, "pubmed_title": pubmed_title,
                          "curated_title": row["title"],
                          "citmatch_query": "|".join((asked[row["key"]] or {}).values())})
    return proposals


def write_proposals(path: Path, proposals: list[dict]) -> None:
    """The proposals as a CSV review file, written atomically."""
    out = io.StringIO()
    writer = csv.DictWriter(out, PROPOSAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(proposals)
    write_atomic(Path(path), out.getvalue().encode("utf-8"))


def propose(data_dir: Path, output: Path) -> list[dict]:
    """`kb resolve`: ask NCBI for the references without a PMID, cache what it finds,
    and write the proposals to output."""
    proposals = resolve(entrez.Client(), Cache(Path(data_dir) / "pubmed"), data_dir)
    write_proposals(output, proposals)
    return proposals
