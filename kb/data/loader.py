"""Read and check a data folder: every curated file and the PubMed cache beside them,
every problem collected with its location (`kb validate`, and the first step of
`kb build`).

The rules come from `schema.FILES` (kb/data/file_rules.py checks one file at a time)
plus the rules across files (kb/data/cross_rules.py); the cached records are read and
compared with the curated references by kb/data/pubmed_cache.py.
"""

from __future__ import annotations

from pathlib import Path

from . import cross_rules, file_rules, pubmed_cache, schema, study_rules
from .csvfile import CsvFile, gc_paused
from .dataset import Dataset


def load(data_dir: Path | str) -> Dataset:
    """Read and check every data file in data_dir, and the PubMed cache beside them."""
    return check(read(data_dir))


def read(data_dir: Path | str, given: Dataset | None = None) -> Dataset:
    """Read every data file in data_dir, and the PubMed cache beside them, without
    checking them (dataset.problems holds the problems met while reading, not yet the
    files'): `kb build` starts writing the database from it, beside check(). given: a
    data set of this folder already read in part (references()), whose cache and files
    are kept as they are, not read again."""
    data_dir = Path(data_dir)
    if given is None:
        given = _cache(data_dir)
    with gc_paused():
        return _read(data_dir, given)


def check(dataset: Dataset) -> Dataset:
    """Check the data set read(): every problem is in dataset.problems, sorted."""
    with gc_paused():
        return _check(dataset)


def references(data_dir: Path | str) -> Dataset:
    """The data set of references.csv and the PubMed cache alone, as read (unchecked):
    enough for the works (kb/data/works.py), which `kb build` makes before the other
    files are read (read(data_dir, given=it) reads them)."""
    data_dir = Path(data_dir)
    dataset = _cache(data_dir)
    with gc_paused():
        spec = schema.FILES_BY_NAME["references.csv"]
        dataset.files[spec.name] = _file(data_dir, spec)
    return dataset


def _cache(data_dir: Path) -> Dataset:
    """The data set of the PubMed cache alone, and the problems met reading it."""
    # the XML parsers leave cyclic garbage behind, so the collector runs while the cache
    # is read; it is paused for the CSV files, whose millions of rows all stay alive
    records, cache_problems = pubmed_cache.read(data_dir, display(data_dir, "pubmed"))
    return Dataset(data_dir, pubmed=records, problems=list(cache_problems))


def _read(data_dir: Path, given: Dataset) -> Dataset:
    """given, with every data file it has not read yet read, the files in schema order."""
    files = {spec.name: given.files[spec.name] if spec.name in given.files
             else _file(data_dir, spec) for spec in schema.FILES}
    return Dataset(data_dir, files=files, problems=list(given.problems),
                   pubmed=given.pubmed)


def _file(data_dir: Path, spec: schema.DataFile) -> CsvFile:
    path, shown_as = data_dir / spec.name, display(data_dir, spec.name)
    return (CsvFile.empty(path, shown_as, spec.columns) if spec.optional and not path.exists()
            else CsvFile(path, shown_as))


def _check(dataset: Dataset) -> Dataset:
    records = dataset.pubmed
    usable = {name: file_rules.check_header(dataset[name], schema.FILES_BY_NAME[name])
              for name in dataset.files}
    vocabulary = (file_rules.vocabulary_of(dataset["vocabulary.csv"])
                  if usable["vocabulary.csv"] else None)
    for spec in schema.FILES:
        if usable[spec.name]:
            file_rules.check_cells(dataset[spec.name], spec, vocabulary)
            file_rules.check_unique(dataset[spec.name], spec)
    if usable["vocabulary.csv"]:
        file_rules.check_terms(dataset["vocabulary.csv"])
        file_rules.check_broader(dataset["vocabulary.csv"])
    if usable["references.csv"]:
        pubmed_cache.check(dataset["references.csv"], records)
    if all(usable.values()):
        cross_rules.check_references(dataset)
        cross_rules.check_cites(dataset)
        cross_rules.check_derived_from(dataset)
        file_rules.check_numbers(dataset["claims.csv"])
        study_rules.check_intervals(dataset["claims.csv"])
        study_rules.check_arm_sizes(dataset["claims.csv"])
        study_rules.check_cohorts(dataset["claims.csv"])
        file_rules.check_years(dataset["references.csv"])
        file_rules.check_pmid_seen(dataset["references.csv"])
        cross_rules.check_duplicate_works(dataset["references.csv"])
    for csv_file in dataset.files.values():
        dataset.problems.extend(csv_file.problems)
    dataset.problems.sort()
    return dataset


def display(data_dir: Path, name: str) -> str:
    """How a file of the data folder is named in messages: relative to the current
    folder when it is below it."""
    path = data_dir / name
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
