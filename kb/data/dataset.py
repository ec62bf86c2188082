"""A data set as read: the four curated files, the cached PubMed records, and every
problem found in them (kb/data/loader.py reads and checks them).
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator, Sequence

from .csvfile import CsvFile, Problem
from .schema import DataFile

FILE_CHUNK = 50_000  # rows of a file converted at a time by file_rows


@dataclass
class Dataset:
    """The data files as read, and every problem found in them."""

    data_dir: Path
    files: dict[str, CsvFile] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    pubmed: dict[str, dict] = field(default_factory=dict)  # cached records by PMID

    def __getitem__(self, name: str) -> CsvFile:
        return self.files[name]

    @cached_property
    def reference_lists(self) -> dict[tuple[str, str], str]:
        """(citing_key, ref_number) -> cited_key ('' while unknown), from citations.csv."""
        citations = self["citations.csv"]
        return dict(zip(zip(citations.column("citing_key"), citations.column("ref_number")),
                        citations.column("cited_key")))

    @cached_property
    def list_sizes(self) -> Counter[str]:
        """citing_key -> how many entries of its reference list citations.csv holds."""
        return Counter(citing for citing, _ in self.reference_lists)

    @property
    def ok(self) -> bool:
        return not self.problems


def typed_rows(f: CsvFile, spec: DataFile) -> Iterator[tuple]:
    """Rows of a data file in declared column order, blanks as None, types converted."""
    yield from zip(*[_convert(f.column(fld.name), fld.type) for fld in spec.fields])


def _convert(values: Sequence[str], field_type: str) -> list:
    """One column's values as Python values of the field's type; blanks as None."""
    if field_type == "integer":
        return [int(v) if v else None for v in values]
    if field_type == "real":
        return [float(v) if v else None for v in values]
    return [v or None for v in values]


def file_rows(path: Path, spec: DataFile) -> Iterator[tuple]:
    """The rows of a data file read straight from its CSV text, a chunk at a time, as
    typed_rows gives those of the file read by CsvFile: for a file that validates, the
    same rows in the same order. (Of one that does not, whatever csv reads; no rows
    when the file is missing.) `kb build` loads the bulk tables so, beside the checks."""
    try:
        f = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        return
    with f:
        reader = csv.reader(f, strict=True)
        header = next(reader, [])
        where = [header.index(fld.name) if fld.name in header else None
                 for fld in spec.fields]
        while True:
            chunk = list(itertools.islice(reader, FILE_CHUNK))
            if not chunk:
                return
            columns = list(zip(*chunk))
            blank = ("",) * len(chunk)
            yield from zip(*[_convert(blank if at is None else columns[at], fld.type)
                             for at, fld in zip(where, spec.fields)])
