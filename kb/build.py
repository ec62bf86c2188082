"""Build the SQLite database from the data files: offline, from scratch, atomically.

The database is written to a temporary file beside the target and renamed over it only
when complete, so a failed build leaves the previous database as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import sqlite_utils

from . import schema
from .validate import Dataset, load, parse_cites

ET_AL = "et al."


class InvalidData(Exception):
    """The data files have problems; `problems` lists them."""

    def __init__(self, dataset: Dataset):
        self.problems = dataset.problems
        super().__init__(f"{len(self.problems)} problem(s) in the data files")


def build(db_path: Path | str, data_dir: Path | str) -> dict[str, int]:
    """Validate data_dir and build db_path from it; returns row counts per table."""
    dataset = load(data_dir)
    if not dataset.ok:
        raise InvalidData(dataset)
    db_path = Path(db_path)
    tmp = db_path.with_name(f".{db_path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        counts = _write(tmp, dataset)
        os.replace(tmp, db_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


def _write(path: Path, dataset: Dataset) -> dict[str, int]:
    db = sqlite_utils.Database(path)
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    for table in schema.TABLES:
        db.create_table(table.name, table.columns, pk=table.pk,
                        foreign_keys=list(table.foreign_keys))
    sources = list(_sources(dataset["references.csv"]))
    authors, source_authors = _authors(sources)
    rows: dict[str, Iterable[Sequence]] = {
        "vocabulary": _typed(dataset["vocabulary.csv"], schema.VOCABULARY),
        "sources": sources,
        "authors": authors,
        "source_authors": source_authors,
        "citations": _typed(dataset["citations.csv"], schema.CITATIONS),
        "claims": _typed(dataset["claims.csv"], schema.CLAIMS),
        "claim_citations": _claim_citations(dataset),
    }
    counts = {}
    with db.conn:
        for table in schema.TABLES:
            counts[table.name] = _insert(db, table, rows[table.name])
    for table in schema.TABLES:
        for columns in table.indexes:
            db[table.name].create_index(columns)
        if table.fts:
            db[table.name].enable_fts(table.fts, tokenize="porter")
    for name, sql in schema.VIEWS.items():
        db.create_view(name, sql.strip())
    db.execute("analyze")
    db.conn.close()
    return counts


def _insert(db: sqlite_utils.Database, table: schema.Table, rows: Iterable[Sequence]) -> int:
    columns = list(table.columns)
    sql = "insert into [{}] ({}) values ({})".format(
        table.name, ", ".join(f"[{c}]" for c in columns), ", ".join("?" * len(columns)))
    cursor = db.conn.executemany(sql, rows)
    return cursor.rowcount


def _converter(fld: schema.Field):
    if fld.type == "integer":
        return lambda v: int(v) if v else None
    if fld.type == "real":
        return lambda v: float(v) if v else None
    return lambda v: v or None


def _typed(f, spec: schema.DataFile) -> Iterator[tuple]:
    """Rows of a data file in declared column order, blanks as NULL, types converted."""
    order = [f.header.index(c) for c in spec.columns]
    converters = [_converter(fld) for fld in spec.fields]
    if all(fld.type == "text" for fld in spec.fields):
        for row in f.rows:
            yield tuple(row[i] or None for i in order)
    else:
        for row in f.rows:
            yield tuple(convert(row[i]) for convert, i in zip(converters, order))


def split_authors(authors: str) -> tuple[list[str], bool]:
    """'Rossi RE; Massironi S; et al.' -> (['Rossi RE', 'Massironi S'], False)"""
    names = [a.strip() for a in authors.split(";") if a.strip()]
    complete = not names or names[-1] != ET_AL
    return [n for n in names if n != ET_AL], complete


def _label(key: str, first_author: str, year: str, title: str) -> str:
    head = " ".join(filter(None, [first_author or key, year]))
    if not title:
        return f"{head} (title not yet known)"
    return f"{head}: {title if len(title) <= 90 else title[:89] + '…'}"


def _sources(references) -> Iterator[tuple]:
    typed = _typed(references, schema.REFERENCES)
    columns = schema.REFERENCES.columns
    for row in typed:
        record = dict(zip(columns, row))
        names, complete = split_authors(record["authors"] or "")
        first = names[0].rsplit(" ", 1)[0] if names and " " in names[0] else (
            names[0] if names else "")
        label = _label(record["key"], first, str(record["year"] or ""), record["title"] or "")
        yield (*row, first or None, (1 if complete else 0) if names else None, label)


def _authors(sources: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    key_at = schema.REFERENCES.columns.index("key")
    authors_at = schema.REFERENCES.columns.index("authors")
    ids: dict[str, int] = {}
    links = []
    for source in sources:
        names, _ = split_authors(source[authors_at] or "")
        for position, name in enumerate(names, start=1):
            author_id = ids.setdefault(name, len(ids) + 1)
            links.append((source[key_at], position, author_id))
    return [(i, name) for name, i in ids.items()], links


def _claim_citations(dataset: Dataset) -> Iterator[tuple]:
    citations = dataset["citations.csv"]
    cited = {(k, n): w or None for k, n, w in zip(citations.column("citing_key"),
                                                  citations.column("ref_number"),
                                                  citations.column("cited_key"))}
    claims = dataset["claims.csv"]
    for claim_id, source, cites in zip(claims.column("id"), claims.column("source_key"),
                                       claims.column("cites")):
        for number in dict.fromkeys(parse_cites(cites)):
            yield claim_id, number, source, cited.get((source, str(number)))
