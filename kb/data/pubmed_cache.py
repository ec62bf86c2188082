"""The cached PubMed records as the data layer sees them: read (a problem for each
unreadable file), compared with the curated references, and which curated PMIDs are not
cached yet. Their fields are merged into the works by kb/data/works.py."""

from __future__ import annotations

from pathlib import Path

from rapidfuzz import fuzz

from ingest import pubmed
from ingest.cache import Cache

from .csvfile import CsvFile, Problem
from .text import normalise

GZIP_MAGIC = b"\x1f\x8b"
TITLE_AGREEMENT = 90  # rapidfuzz ratio of normalised titles below which we report it


def read(data_dir: Path, display: str) -> tuple[dict[str, dict], list[Problem]]:
    """Every cached record by PMID, and a problem for each unreadable cache file.

    A cache file is never changed or removed here: the problem says how to repair it.
    """
    records: dict[str, dict] = {}
    problems: list[Problem] = []
    for path in Cache(Path(data_dir) / "pubmed").files():
        name = f"{display}/{path.name}"
        pmid = path.name[: -len(".xml.gz")]
        try:
            found = [r for r in pubmed.parse(path) if not r.get("deleted")]
        except (pubmed.PubmedParseError, OSError) as e:
            line, column, reason = _unreadable(path, e)
            problems.append(Problem(name, line, column, f"unreadable cached record: "
                                    f"{reason}; {_repair(pmid)}"))
            continue
        if [r["pmid"] for r in found] != [pmid]:
            problems.append(Problem(name, 1, 1, "a cache file must hold exactly the record "
                                    f"of PMID {pmid}; it holds "
                                    f"{[r['pmid'] for r in found] or 'none'}; "
                                    + _repair(pmid)))
            continue
        records[pmid] = found[0]
    return records, problems


def _repair(pmid: str) -> str:
    if not pmid.isdigit():
        return "remove it (a cache file is named <PMID>.xml.gz)"
    return f"fetch it again with kb fetch --refresh --pmid {pmid}"


def _unreadable(path: Path, error: pubmed.PubmedParseError | OSError) -> tuple[int, int, str]:
    """Line, column and a plain reason for a cache file that cannot be parsed."""
    if isinstance(error, OSError):
        return 1, 1, error.strerror or str(error)
    line, column, reason = error.line, error.column, error.reason
    with path.open("rb") as f:
        head = f.read(2)
    if not head:
        return 1, 1, "the file is empty"
    if head != GZIP_MAGIC:
        return line, column, f"not a gzip file (read as plain XML: {reason})"
    if reason.startswith("broken gzip stream"):
        return 1, 1, reason
    if (line, column, reason) == (1, 1, "no element found"):
        return 1, 1, "the gzip stream holds no XML"
    return line, column, f"malformed XML ({reason})"


def check(references: CsvFile, records: dict[str, dict]) -> None:
    """Report curated title, year and DOI that disagree with the cached PubMed record."""
    for row, cells in enumerate(references.dicts()):
        record = records.get(cells["pmid"])
        if not record:
            continue

        def report(column: str, message: str) -> None:
            references.problem(*references.location(row, column),
                               f"{message} in the cached PubMed record {cells['pmid']}; "
                               "correct one of them, or explain in notes and fix the record")

        if cells["title"] and record["title"]:
            score = fuzz.ratio(normalise(cells["title"]), normalise(record["title"]))
            if score < TITLE_AGREEMENT:
                report("title", f"title differs (agreement {score:.0f}/100) from "
                       f"{record['title']!r}")
        if cells["year"].isdecimal() and record["year"] and int(cells["year"]) != record["year"]:
            report("year", f"year {cells['year']} is {record['year']}")
        if cells["doi"] and record["doi"] and cells["doi"].casefold() != record["doi"].casefold():
            report("doi", f"doi {cells['doi']} is {record['doi']}")


def missing_pmids(data_dir: Path) -> list[str]:
    """PMIDs in references.csv that have no cached record."""
    references = CsvFile(Path(data_dir) / "references.csv")
    cached = Cache(Path(data_dir) / "pubmed").pmids()
    return [p for p in references.column("pmid") if p and p not in cached]
