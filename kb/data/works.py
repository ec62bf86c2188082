"""The works as the knowledge base knows them: each curated references.csv row, its blank
fields filled from the cached PubMed record (curated fields always win), with the
columns derived from it (first author, whether the author list is complete, a label).

The build writes these as the `sources` table and the evidence reads them as works, so
both see the same fields.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from . import journals, schema, text
from .dataset import Dataset, typed_rows

# sources columns a cached record may fill when the curated cell is blank
FILLABLE = ("pmcid", "doi", "title", "journal", "year", "volume", "issue", "pages",
            "publisher", "place")
# the columns a source gets from its cached PubMed record (blank without one)
PUBMED_SOURCE_COLUMNS = {"abstract": str, "mesh": str, "publication_types": str,
                         "journal_abbrev": str, "journal_abbrev_from": str,
                         "retracted": int, "from_pubmed": str}
DERIVED_COLUMNS = ("first_author", "authors_complete", "label")
COLUMNS = (*schema.REFERENCES.columns, *DERIVED_COLUMNS, *PUBMED_SOURCE_COLUMNS)


class Works(NamedTuple):
    """Every source (a dict of COLUMNS), the distinct author names in order of first
    appearance, and (source key, position, author number) for each authorship."""

    sources: list[dict]
    authors: list[str]
    authorships: list[tuple[str, int, int]]


def works(dataset: Dataset) -> Works:
    """The sources of a loaded data set, and who wrote them."""
    columns = schema.REFERENCES.columns
    sources, authorships = [], []
    ids: dict[str, int] = {}
    for row in typed_rows(dataset["references.csv"], schema.REFERENCES):
        source = dict(zip(columns, row))
        record = dataset.pubmed.get(source["pmid"]) if source["pmid"] else None
        extra = fill(source, record)
        if not extra["journal_abbrev"] and source["pub_type"] not in ("book", "chapter"):
            extra["journal_abbrev"] = journals.abbreviation(source["journal"])
        if extra["journal_abbrev"]:
            from_pubmed = bool(record and record.get("journal_abbrev"))
            extra["journal_abbrev_from"] = (journals.FROM_PUBMED if from_pubmed
                                            else journals.DERIVED)
        names, complete = text.split_authors(source["authors"])
        for position, name in enumerate(names, start=1):
            authorships.append((source["key"], position, ids.setdefault(name, len(ids) + 1)))
        first = text.printed_surname(names[0]) if names else ""
        label = _label(source["key"], first, str(source["year"] or ""), source["title"] or "")
        if extra["retracted"]:
            label = "RETRACTED " + label
        source.update(first_author=first or None,
                      authors_complete=(1 if complete else 0) if names else None,
                      label=label, **extra)
        sources.append(source)
    return Works(sources, list(ids), authorships)


def fill(source: dict, record: dict | None) -> dict:
    """The PubMed-derived columns of a source; its blank curated fields are filled."""
    extra = dict.fromkeys(PUBMED_SOURCE_COLUMNS)
    if not record:
        return extra
    filled = []
    authors = "; ".join(record.get("authors") or [])
    if authors and not record.get("authors_complete", True):
        authors += f"; {text.ET_AL}"
    offered = {**{c: record.get(c) for c in FILLABLE}, "authors": authors}
    for column, value in offered.items():
        if source.get(column) in (None, "") and value not in (None, ""):
            source[column] = value
            filled.append(column)
    extra.update(abstract=record.get("abstract"),
                 mesh=json.dumps(record.get("mesh") or [], ensure_ascii=False),
                 publication_types=json.dumps(record.get("publication_types") or [],
                                              ensure_ascii=False),
                 journal_abbrev=record.get("journal_abbrev"),
                 retracted=int(bool(record.get("retracted"))),
                 from_pubmed=", ".join(filled) or None)
    return extra


def _label(key: str, first_author: str, year: str, title: str) -> str:
    head = " ".join(filter(None, [first_author or key, year]))
    if not title:
        return f"{head} (title not yet known)"
    return f"{head}: {title if len(title) <= 90 else title[:89] + '…'}"
