"""A loaded data set as the rows of every table `kb build` writes, in each table's
column order (kb/db/tables.py): the curated files typed, the works with their authors,
the resolved citations, the cached PubMed records, and the evidence computed from them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from pathlib import Path
from typing import Iterable, Sequence

from kb.data import schema
from kb.data.cites import ClaimCitation
from kb.data.dataset import Dataset, file_rows, typed_rows
from kb.data.works import Works
from kb.evidence.compute import of_dataset
from kb.evidence.model import Evidence

from .tables import EVIDENCE_COLUMNS, TABLES_BY_NAME

# the curated files whose table holds their rows as they are (typed_rows): `kb build`
# loads these tables straight from the files (file_rows), beside the checks
FILE_TABLES = (schema.VOCABULARY, schema.CITATIONS, schema.QUESTIONS, schema.CERTAINTY)
# the tables of the works (kb/data/works.py), which need references.csv and the PubMed
# cache alone: also loaded beside the checks, once the works are made
WORKS_TABLES = ("sources", "authors", "source_authors")

HASH_BLOCK = 1024 ** 2  # bytes of a file hashed at a time (build_info)
JSON_COLUMNS = ("publication_types", "mesh", "keywords", "language", "references",
                "comments_corrections")


def evidence_rows(dataset: Dataset, known: Works, cited: list[ClaimCitation],
                  timings: dict | None = None) -> dict[str, Iterable[Sequence]]:
    """Table name -> its rows, for the tables the build loads last: the claims, what the
    evidence makes of them, and the PubMed records (every table but FILE_TABLES',
    WORKS_TABLES, claim_citations and build_info). known: the works of dataset (works()),
    cited: its claims' citations (claim_citations()). timings, when given, gets the
    seconds the evidence took ("evidence"), and of them the flags' and the syntheses'
    ("flags", "synthesis")."""
    started = time.perf_counter()
    found = of_dataset(dataset, known.sources, cited, timings)
    if timings is not None:
        timings["evidence"] = time.perf_counter() - started
    return {
        "claims": claim_rows(dataset, found),
        "pubmed_records": (tuple(record_row(r).values()) for r in dataset.pubmed.values()),
        "claim_trails": found.trails,
        "claim_conflicts": found.conflicts,
        "claim_flags": found.flags,
        "syntheses": found.syntheses,
        "synthesis_studies": found.studies,
    }


def works_rows(known: Works) -> dict[str, Iterable[Sequence]]:
    """The rows of the tables of the works (WORKS_TABLES)."""
    source_columns = list(TABLES_BY_NAME["sources"].columns)
    return {
        "sources": (tuple(s[c] for c in source_columns) for s in known.sources),
        "authors": enumerate(known.authors, start=1),
        "source_authors": known.authorships,
    }


def file_table_rows(data_dir: Path) -> dict[str, Iterable[Sequence]]:
    """Table name -> its rows, for the tables of FILE_TABLES, read from data_dir's files:
    for files that validate, the rows typed_rows gives of the files as checked."""
    return {spec.table: file_rows(data_dir / spec.name, spec) for spec in FILE_TABLES}


def build_info(dataset: Dataset) -> list[tuple[str, str]]:
    """When the build ran, and the version of the data it read: the first 12 hex digits
    of a SHA-256 over the curated files' names and bytes (the PubMed cache is not
    curated and is left out)."""
    digest = hashlib.sha256()
    for name in sorted(dataset.files):
        path = dataset.data_dir / name
        if path.exists():
            digest.update(name.encode() + b"\0")
            with open(path, "rb") as f:  # a block at a time: the files are large
                for block in iter(lambda: f.read(HASH_BLOCK), b""):
                    digest.update(block)
            digest.update(b"\0")
    built = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [("built_at", built), ("data_version", digest.hexdigest()[:12])]


def claim_rows(dataset: Dataset, found: Evidence) -> Iterable[tuple]:
    """The curated claims, each followed by its evidence columns."""
    blank = (None,) * len(EVIDENCE_COLUMNS)
    return ((*row, *found.claims.get(row[0], blank))
            for row in typed_rows(dataset["claims.csv"], schema.CLAIMS))


def record_row(record: dict) -> dict:
    """A pubmed_records row, its columns in the table's order."""
    row = {}
    for column in TABLES_BY_NAME["pubmed_records"].columns:
        if column == "authors":
            row[column] = "; ".join(record.get("authors") or []) or None
        elif column in ("authors_complete", "retracted"):
            row[column] = int(bool(record.get(column, column == "authors_complete")))
        elif column in JSON_COLUMNS:
            row[column] = json.dumps(record.get(column) or [], ensure_ascii=False)
        else:
            row[column] = record.get(column)
    return row
