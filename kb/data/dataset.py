"""A data set as read: the four curated files, the cached PubMed records, and every
problem found in them (kb/data/loader.py reads and checks them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator, Sequence

from .csvfile import CsvFile, Problem
from .schema import DataFile


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
