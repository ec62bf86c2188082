"""Rules across data files: keys that name rows of another file, claims' citations and
restatements that the reference lists must support, and the same work entered twice.
Each function takes a loaded `Dataset` (kb/data/dataset.py) and adds its problems to
the files concerned.
"""

from __future__ import annotations

from typing import Iterator

from . import fuzzy, schema
from .cites import WELL_FORMED, cited_numbers, ranges
from .csvfile import CsvFile
from .dataset import Dataset
from .text import did_you_mean, shown, with_article

TITLE_DUPLICATE_SCORE = 95  # rapidfuzz ratio on normalised titles, same year


def check_references(dataset: Dataset) -> None:
    for spec in schema.FILES:
        f = dataset[spec.name]
        for column, (target_file, target_column) in spec.references.items():
            known = set(dataset[target_file].column(target_column))
            values = f.column(column)
            if not (set(values) - known - {""}):
                continue
            for row, value in enumerate(values):
                if value and value not in known:
                    f.problem(*f.location(row, column), f"{column} {shown(value)} is not "
                              f"{with_article(target_column)} in {target_file}"
                              + did_you_mean(value, known))


def check_cites(dataset: Dataset) -> None:
    claims = dataset["claims.csv"]
    listed, sizes = dataset.reference_lists, dataset.list_sizes
    for row, (source, cites) in enumerate(zip(claims.column("source_key"),
                                                claims.column("cites"))):
        if cites and WELL_FORMED.fullmatch(cites):
            for message in _cites_problems(cites, source, listed, sizes[source]):
                claims.problem(*claims.location(row, "cites"), message)


def _cites_problems(cites: str, source: str, listed: dict[tuple[str, str], str],
                    size: int) -> Iterator[str]:
    """What is wrong with well-formed cites of a claim stated in source, whose
    reference list has size entries in citations.csv (listed)."""
    for part, low, high in ranges(cites):
        if "-" in part and high <= low:
            yield f"cites range {part!r} runs backwards"
        elif high - low >= max(size, 1):
            yield (f"cites range {part!r} spans {high - low + 1:,} numbers, but "
                   f"citations.csv has only {size} entries in the reference list of "
                   f"{source!r}")
    missing = [n for n in cited_numbers(cites, size) if (source, str(n)) not in listed]
    if missing:
        yield (f"cites {', '.join(map(str, missing))} but citations.csv has no such entry "
               f"in the reference list of {source!r}")


def check_derived_from(dataset: Dataset) -> None:
    claims = dataset["claims.csv"]
    source_of = dict(zip(claims.column("id"), claims.column("source_key")))
    cited_works, sizes = dataset.reference_lists, dataset.list_sizes
    for row, (claim_id, source, cites, derived) in enumerate(zip(
            claims.column("id"), claims.column("source_key"), claims.column("cites"),
            claims.column("derived_from"))):
        if not derived or derived not in source_of:
            continue
        if derived == claim_id:
            claims.problem(*claims.location(row, "derived_from"),
                           "a claim cannot be derived from itself")
            continue
        numbers = cited_numbers(cites, sizes[source]) if WELL_FORMED.fullmatch(cites) else []
        works = {cited_works.get((source, str(n))) for n in numbers}
        if source_of[derived] not in works:
            claims.problem(*claims.location(row, "derived_from"),
                           f"derived_from {derived!r} is stated in "
                           f"{source_of[derived]!r}, which this claim's cites "
                           f"({cites or 'none'}) do not point to")


def check_duplicate_works(references: CsvFile) -> None:
    keys = references.column("key")
    for column in ("pmid", "doi", "pmcid"):
        first: dict[str, int] = {}
        for row, value in enumerate(references.column(column)):
            value = value.casefold()
            if not value:
                continue
            if value in first:
                references.problem(*references.location(row, column),
                                   f"same {column} as {keys[first[value]]!r} (line "
                                   f"{references.line_numbers[first[value]]}): "
                                   "the same work twice?")
            else:
                first[value] = row
    # near-identical titles in the same year, blocked and scored by kb/data/fuzzy.py
    works = [fuzzy.work_reference(key, title, authors, year, None, None)
             for key, title, authors, year in zip(
                 keys, references.column("title"), references.column("authors"),
                 references.column("year"))]
    for earlier, row, _ in fuzzy.duplicates(works, TITLE_DUPLICATE_SCORE):
        references.problem(*references.location(row, "title"),
                           f"title and year nearly identical to {keys[earlier]!r} (line "
                           f"{references.line_numbers[earlier]}): the same work twice?")
