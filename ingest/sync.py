"""kb fetch: fetch (ingest.entrez), parse (ingest.pubmed), save (ingest.cache), and the
report of what was done.

A batch is parsed in full before anything is written; a broken or truncated answer is
asked for again, so the cache only ever holds complete records. Records already cached
are skipped, which is what makes an interrupted fetch resumable. A file given to
`--load` is saved whole or not at all.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterable, NamedTuple

from . import entrez, pubmed
from .cache import Cache
from .files import CannotWrite


class Request(NamedTuple):
    """What one `kb fetch` asks for."""

    pmids: tuple[str, ...] = ()
    query: str | None = None
    refs_of: tuple[str, ...] = ()
    cited_by: tuple[str, ...] = ()
    load: tuple[Path, ...] = ()
    refresh: bool = False

    @property
    def needs_network(self) -> bool:
        return bool(self.pmids or self.query or self.refs_of or self.cited_by)


class LoadFailed(Exception):
    """A --load file could not be loaded; nothing from it was saved. One line for the user."""


class Report(NamedTuple):
    notes: list[str]      # what was found on the way (standard error)
    summary: str          # what the cache holds now (standard output)
    warnings: list[str]   # what went wrong or is missing (standard error)
    failed: bool          # some PMID asked for is not in PubMed


@dataclass
class Outcome:
    saved: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already cached
    not_found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    networked: bool = False  # NCBI was asked something


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


def load_file(cache: Cache, path: Path, outcome: Outcome) -> None:
    """kb fetch --load of one file: its records are all saved, or none of them."""
    try:
        load_files(cache, [path], outcome)
    except pubmed.PubmedParseError as e:
        raise LoadFailed(f"{e}; nothing from that file was saved") from None
    except CannotWrite as e:
        raise LoadFailed(f"cannot write {e.filename}: {e.strerror}; nothing from {path} "
                         "was saved") from None
    except OSError as e:
        raise LoadFailed(f"cannot read {path}: {e.strerror or e}; nothing from that file "
                         "was saved") from None


@contextlib.contextmanager
def _no_progress(total: int):
    yield lambda n: None


def sync(cache: Cache, request: Request,
         missing: Callable[[], Iterable[str]] | None = None,
         progress: Callable[[int], ContextManager] | None = None,
         client: entrez.Client | None = None) -> Outcome:
    """Everything one `kb fetch` does: load the files, then fetch the PMIDs asked for
    (and, with `missing`, those it gives once the files are loaded: the curated PMIDs
    not cached yet), the references or citing papers of some, and what a query finds.
    progress(total) is a context giving an update(n) callable (click's progress bar's)."""
    outcome = Outcome()
    for path in request.load:
        load_file(cache, path, outcome)
    wanted = [*request.pmids, *(missing() if missing else ())]
    if not (request.needs_network or wanted):
        return outcome
    outcome.networked = True
    client = client or entrez.Client()
    for pmid in request.refs_of:
        wanted += [pmid, *linked_pmids(client, cache, pmid, entrez.REFS, outcome)]
    for pmid in request.cited_by:
        wanted += linked_pmids(client, cache, pmid, entrez.CITED_IN, outcome)
    with (progress or _no_progress)(len(set(wanted))) as update:
        fetch_pmids(client, cache, wanted, request.refresh, outcome, update)
    if request.query:
        fetch_query(client, cache, request.query, request.refresh, outcome)
    return outcome


def report(outcome: Outcome, cache: Cache) -> Report:
    """What kb fetch tells the user about an outcome."""
    warnings = []
    if outcome.networked and not os.environ.get("NCBI_EMAIL"):
        warnings.append("note: NCBI_EMAIL is not set; NCBI asks for an e-mail address with "
                        "every request")
    if outcome.not_found:
        warnings.append("not found in PubMed: " + ", ".join(outcome.not_found))
    summary = (f"saved {len(outcome.saved)} records to {cache.root}/ "
               f"({len(outcome.skipped)} already cached, {len(outcome.deleted)} deleted)")
    return Report(list(outcome.notes), summary, warnings, bool(outcome.not_found))
