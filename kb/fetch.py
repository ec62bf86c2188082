"""kb fetch and kb resolve: fetch (ingest.entrez), parse (ingest.pubmed), save (ingest.cache).

A batch is parsed in full before anything is written; a broken or truncated answer is
asked for again, so the cache only ever holds complete records. Records already cached
are skipped, which is what makes an interrupted fetch resumable.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from rapidfuzz import fuzz

from ingest import entrez, pubmed
from ingest.cache import Cache

from .csvfile import CsvFile
from .match import normalise

TITLE_MATCH_SCORE = 90  # rapidfuzz token_sort_ratio of normalised titles, 0-100


@dataclass
class Outcome:
    saved: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already cached
    not_found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_all(body: bytes) -> list[dict]:
    """Every record of a response, or Retryable when it is incomplete or broken."""
    try:
        return list(pubmed.parse(io.BytesIO(body), keep_xml=True))
    except pubmed.PubmedParseError as e:
        raise entrez.Retryable(f"incomplete or broken XML ({e})") from None


def _fetch_parsed(fetch: Callable[[Callable[[bytes], None]], bytes]) -> list[dict]:
    """The records of one efetch answer; a broken answer is asked for again."""
    records: list[dict] = []

    def check(body: bytes) -> None:
        records[:] = parse_all(body)

    fetch(check)
    return records


def save(cache: Cache, records: Iterable[dict], outcome: Outcome) -> set[str]:
    """Write parsed records to the cache (a DeleteCitation removes one); PMIDs seen."""
    seen = set()
    for record in records:
        seen.add(record["pmid"])
        if record.get("deleted"):
            if cache.delete_record(record["pmid"]):
                outcome.deleted.append(record["pmid"])
        else:
            cache.save_record(record["pmid"], record["xml"])
            outcome.saved.append(record["pmid"])
    return seen


def fetch_pmids(client: entrez.Client, cache: Cache, pmids: Iterable[str],
                refresh: bool = False, outcome: Outcome | None = None,
                progress: Callable[[int], None] = lambda n: None) -> Outcome:
    outcome = outcome or Outcome()
    wanted = list(dict.fromkeys(pmids))
    todo = wanted if refresh else [p for p in wanted if not cache.has(p)]
    asked = set(todo)
    outcome.skipped.extend(p for p in wanted if p not in asked)
    for batch in entrez.batches(todo):
        records = _fetch_parsed(lambda check: entrez.fetch_pubmed(client, batch, check=check))
        seen = save(cache, records, outcome)
        outcome.not_found.extend(p for p in batch if p not in seen)
        progress(len(batch))
    return outcome


def fetch_query(client: entrez.Client, cache: Cache, query: str, refresh: bool = False,
                outcome: Outcome | None = None,
                progress: Callable[[int], None] = lambda n: None) -> Outcome:
    """Every record a PubMed search finds, paged through the history server."""
    outcome = outcome or Outcome()
    result = entrez.search_pubmed(client, query)
    outcome.notes.append(f"search {query!r}: {result.count} records")
    for start in range(0, result.count, entrez.BATCH_SIZE):
        records = _fetch_parsed(
            lambda check: entrez.fetch_search_page(client, result, start, check=check))
        cached = {r["pmid"] for r in records if not refresh and cache.has(r["pmid"])}
        outcome.skipped.extend(sorted(cached))
        save(cache, [r for r in records if r["pmid"] not in cached], outcome)
        progress(min(entrez.BATCH_SIZE, result.count - start))
    return outcome


def linked_pmids(client: entrez.Client, cache: Cache, pmid: str, linkname: str,
                 outcome: Outcome) -> list[str]:
    """The PMIDs a paper cites (REFS) or that cite it (CITED_IN); the answer is cached."""
    body = entrez.fetch_links(client, pmid, linkname)
    cache.save_links(pmid, linkname, body)
    ids = entrez.parse_links(body, linkname)
    if not ids and linkname == entrez.REFS:
        outcome.notes.append(f"PMID {pmid} has no reference list in PubMed (reference lists "
                             "exist only for papers deposited in PubMed Central)")
    elif not ids:
        outcome.notes.append(f"PMID {pmid}: PubMed knows no paper citing it")
    else:
        outcome.notes.append(f"PMID {pmid}: {len(ids)} linked records ({linkname})")
    return ids


def load_files(cache: Cache, paths: Iterable[Path], outcome: Outcome | None = None) -> Outcome:
    """Ingest saved efetch answers or PubMed baseline/update files, without a network.

    Records stream into a staging folder and move into the cache only once the whole
    file has parsed, so a broken file changes nothing, in constant memory whatever the
    file's size. Deletions (DeleteCitation) are applied after the records.
    """
    outcome = outcome or Outcome()
    for path in paths:
        saved, deleted = [], []
        with cache.staging() as staging:
            for record in pubmed.parse(path, keep_xml=True):
                if record.get("deleted"):
                    deleted.append(record["pmid"])
                    staging.discard(record["pmid"])
                else:
                    staging.save_record(record["pmid"], record["xml"])
                    saved.append(record["pmid"])
        gone = set(deleted)
        outcome.saved.extend(dict.fromkeys(p for p in saved if p not in gone))
        outcome.deleted.extend(p for p in deleted if cache.delete_record(p))
    return outcome


def missing_pmids(data_dir: Path, cache: Cache) -> list[str]:
    """PMIDs in references.csv that have no cached record."""
    references = CsvFile(Path(data_dir) / "references.csv")
    cached = cache.pmids()
    return [p for p in references.column("pmid") if p and p not in cached]


# -- resolve -------------------------------------------------------------------------


PROPOSAL_COLUMNS = ["key", "proposed_pmid", "decision", "title_score", "pubmed_title",
                    "curated_title", "citmatch_query"]


def citmatch_query(row: dict) -> dict | None:
    """What ECitMatch is asked for one reference, or None when it is too little."""
    first_page = (row["pages"] or "").split("-")[0]
    author = (row["authors"] or "").split(";")[0].strip()
    if author == "et al.":
        author = ""
    if not (row["journal"] and row["year"] and (row["volume"] or first_page)):
        return None
    return dict(zip(entrez.CITMATCH_FIELDS, (row["journal"], row["year"], row["volume"],
                                              first_page, author, row["key"])))


def resolve(client: entrez.Client, cache: Cache, data_dir: Path) -> list[dict]:
    """Propose PMIDs for references without one; a proposal is accepted only when the
    fetched PubMed title agrees with the curated title (score >= TITLE_MATCH_SCORE)."""
    references = CsvFile(Path(data_dir) / "references.csv")
    candidates = [r for r in references.dicts() if not r["pmid"]]
    asked = {r["key"]: citmatch_query(r) for r in candidates}
    proposals = []
    queries = [query for query in asked.values() if query]
    found = entrez.parse_citmatch(entrez.fetch_citmatch(client, queries)) if queries else {}
    fetch_pmids(client, cache, found.values())
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
    from ingest.cache import write_atomic

    out = io.StringIO()
    writer = csv.DictWriter(out, PROPOSAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(proposals)
    write_atomic(Path(path), out.getvalue().encode("utf-8"))
