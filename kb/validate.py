"""Check the curated data files and collect every problem with its location.

The rules come from `schema.FILES` (columns, required cells, patterns, types,
vocabularies, keys, foreign keys) plus the cross-file rules below. Checks run column by
column so that a million-row file stays quick.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator

from rapidfuzz import process

from . import match, pubmed_cache, schema
from .csvfile import CsvFile, Problem, gc_paused

INTEGER = r"-?[0-9]+"
UNSIGNED_REAL = r"([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?"
REAL = rf"-?{UNSIGNED_REAL}"
INT64 = (-2**63, 2**63 - 1)  # the whole numbers SQLite holds
LONG_INTEGER = re.compile(r"^-?[0-9]{19,}$", re.M)  # candidates beyond INT64
LONG_REAL = re.compile(r"^.*[eE]\+?[0-9]{3,}$|^.{300,}$", re.M)  # candidates for inf
# A cell starting so is run as a formula by a spreadsheet opening the file (CSV
# injection), unless it is a plain number. The other triggers are refused anyway: a
# leading tab as space around a value, a carriage return anywhere (kb/csvfile.py).
FORMULA = re.compile(rf"^(?![-+]{UNSIGNED_REAL}$)[=+\-@]", re.M)
TYPE_PATTERNS = {"integer": INTEGER, "real": REAL}
TYPE_NAMES = {"integer": "a whole number", "real": "a number"}
CITES = re.compile(schema.CITES)
TITLE_DUPLICATE_SCORE = 95  # rapidfuzz ratio on normalised titles, same year


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


def load(data_dir: Path | str) -> Dataset:
    """Read and check every data file in data_dir, and the PubMed cache beside them."""
    data_dir = Path(data_dir)
    # the XML parsers leave cyclic garbage behind, so the collector runs while the cache
    # is read; it is paused for the CSV files, whose millions of rows all stay alive
    records, cache_problems = pubmed_cache.read(data_dir, _display(data_dir, "pubmed"))
    with gc_paused():
        return _load(data_dir, records, cache_problems)


def _load(data_dir: Path, records: dict[str, dict], cache_problems: list[Problem]) -> Dataset:
    dataset = Dataset(data_dir, pubmed=records, problems=list(cache_problems))
    for spec in schema.FILES:
        dataset.files[spec.name] = CsvFile(data_dir / spec.name, _display(data_dir, spec.name))
    usable = {name: _check_header(dataset[name], schema.FILES_BY_NAME[name])
              for name in dataset.files}
    vocabulary = _vocabulary(dataset["vocabulary.csv"]) if usable["vocabulary.csv"] else None
    for spec in schema.FILES:
        if usable[spec.name]:
            _check_cells(dataset[spec.name], spec, vocabulary)
            _check_unique(dataset[spec.name], spec)
    if usable["vocabulary.csv"]:
        _check_terms(dataset["vocabulary.csv"])
        _check_broader(dataset["vocabulary.csv"])
    if usable["references.csv"]:
        pubmed_cache.check(dataset["references.csv"], records)
    if all(usable.values()):
        _check_references(dataset)
        _check_cites(dataset)
        _check_derived_from(dataset)
        _check_numbers(dataset["claims.csv"])
        _check_years(dataset["references.csv"])
        _check_duplicate_works(dataset["references.csv"])
    for csv_file in dataset.files.values():
        dataset.problems.extend(csv_file.problems)
    dataset.problems.sort()
    return dataset


def _display(data_dir: Path, name: str) -> str:
    path = data_dir / name
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -- per file ----------------------------------------------------------------------


def _check_header(f: CsvFile, spec: schema.DataFile) -> bool:
    if not f.header:
        return False
    missing = [c for c in spec.columns if c not in f.header]
    for name in f.header:
        if name not in spec.columns:
            line, column = f.header_location(name)
            f.problem(line, column, f"unknown column {_shown(name)}; {spec.name} has: "
                      + ", ".join(spec.columns))
    if missing:
        f.problem(1, 1, "missing column" + ("s " if len(missing) > 1 else " ")
                  + ", ".join(repr(m) for m in missing))
    return not missing


def _rows_matching(joined: str, regex: re.Pattern) -> list[int]:
    """Row indexes (lines of joined) where regex finds a match, each row once."""
    rows: list[int] = []
    row, position = 0, 0
    for found in regex.finditer(joined):
        row += joined.count("\n", position, found.start())
        position = found.start()
        if not rows or rows[-1] != row:
            rows.append(row)
    return rows


def _not_matching(pattern: str) -> re.Pattern:
    """A regex finding the non-empty lines that do not match pattern in full."""
    return re.compile(rf"^(?!(?:{pattern})$)(?=.).*$", re.M)


def _rows_with_spaces_around(values: tuple[str, ...]) -> list[int]:
    """Indexes of values that start or end with whitespace (as str.strip sees it)."""
    return [row for row, value in enumerate(values) if value != value.strip()]


def _check_cells(f: CsvFile, spec: schema.DataFile,
                 vocabulary: dict[str, set[str]] | None) -> None:
    """Per-cell rules, column by column; vocabulary is None when it could not be read."""
    for fld in spec.fields:
        for row, message in _column_problems(fld, f.column(fld.name), vocabulary):
            f.problem(*f.location(row, fld.name), message)


def _column_problems(fld: schema.Field, values: tuple[str, ...],
                     vocabulary: dict[str, set[str]] | None) -> Iterator[tuple[int, str]]:
    """(row, message) for every cell of one column that breaks a rule; a cell that is not
    of the column's form (type, pattern, vocabulary) gets no formula message besides."""
    joined = "\n".join(values)
    for row in _rows_with_spaces_around(values):
        yield row, f"{fld.name}: remove the spaces around {_shown(values[row])}"
    if fld.required and not all(values):
        yield from ((row, f"{fld.name} is required") for row, value in enumerate(values)
                    if not value)
    wrong: set[int] = set()
    if fld.type in TYPE_PATTERNS:
        wrong.update(_rows_matching(joined, _not_matching(TYPE_PATTERNS[fld.type])))
        yield from ((row, f"{fld.name} must be {TYPE_NAMES[fld.type]}, not "
                     f"{_shown(values[row])}") for row in sorted(wrong))
        yield from _out_of_range(fld, values, joined, wrong)
    if fld.pattern:
        for row in _rows_matching(joined, _not_matching(fld.pattern)):
            if row not in wrong:
                wrong.add(row)
                yield row, (f"{fld.name} {_shown(values[row])} is not valid: "
                            f"{_pattern_hint(fld)}")
    if fld.vocabulary and vocabulary is not None:
        allowed = vocabulary.get(fld.vocabulary, set())
        if set(values) - allowed - {""}:
            for row, value in enumerate(values):
                if value and value not in allowed:
                    wrong.add(row)
                    yield row, (f"{fld.name} {_shown(value)} is not "
                                f"{_a(fld.vocabulary)} term in vocabulary.csv"
                                + _suggest(value, allowed))
    if not fld.prose:
        for row in _rows_matching(joined, FORMULA):
            if row not in wrong:
                yield row, (f"{fld.name} {_shown(values[row])} starts with "
                            f"{values[row][0]!r}, so a spreadsheet would run it as a "
                            "formula; reword it (only numbers, like -0.5, may start so)")


def _out_of_range(fld: schema.Field, values: tuple[str, ...], joined: str,
                  wrong: set[int]) -> Iterator[tuple[int, str]]:
    """Numbers of the right form that the database cannot hold: whole numbers beyond
    SQLite's 64 bits, numbers beyond a float's range. Rows in wrong are left alone."""
    if fld.type == "integer":
        for row in _rows_matching(joined, LONG_INTEGER):
            if not _fits_int64(values[row]):
                yield row, (f"{fld.name} {_shown(values[row])} is too large: a whole "
                            f"number has at most 19 digits and lies between {INT64[0]} "
                            f"and {INT64[1]}")
    elif fld.type == "real":
        for row in _rows_matching(joined, LONG_REAL):
            if row not in wrong and math.isinf(float(values[row])):
                yield row, f"{fld.name} {_shown(values[row])} is too large to be a number"


def _whole(text: str) -> int | None:
    """The whole number text holds, or None when it is not one the database holds (those
    are reported by _column_problems)."""
    return int(text) if re.fullmatch(INTEGER, text) and _fits_int64(text) else None


def _fits_int64(text: str) -> bool:
    digits = text.lstrip("-")
    return len(digits) < 19 or (len(digits) == 19 and INT64[0] <= int(text) <= INT64[1])


def _shown(value: str, limit: int = 60) -> str:
    """value quoted for a message, cut short (saying how long it is) when it is long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def _a(word: str) -> str:
    """'an outcome', 'a measure', 'a unit' (every u of our field names sounds 'you')."""
    return ("an " if word[:1] in "aeio" else "a ") + word


def _pattern_hint(fld: schema.Field) -> str:
    hints = {
        "pmid": "a PMID is digits only, e.g. 28487601",
        "pmcid": "a PMCID looks like PMC5403743",
        "doi": "a bare DOI looks like 10.3748/wjg.v23.i15.2640 (no https://doi.org/, no "
        "spaces, braces or backslashes)",
        "cites": "reference numbers like 10, 11-15 or 7,9 (no spaces)",
        "ref_number": "an entry's number in the list, 1 to 999999",
        "verified_from": "seed file names (000_dc62262bcde70ad5.txt), page addresses "
        "(https://...) or 'pubmed', separated by ' ; '",
        "kind": "quantitative or qualitative",
        "authors": "'Surname Initials; Surname Initials'",
    }
    if fld.name in hints:
        return hints[fld.name]
    return f"expected {fld.example or 'the pattern ' + fld.pattern!s}"


def _suggest(value: str, allowed: set[str]) -> str:
    best = process.extractOne(value, sorted(allowed), score_cutoff=70) if allowed else None
    return f" (did you mean {best[0]!r}?)" if best else ""


def _check_unique(f: CsvFile, spec: schema.DataFile) -> None:
    keys = list(zip(*(f.column(c) for c in spec.key)))
    if len(set(keys)) == len(keys):
        return
    first: dict[tuple, int] = {}
    for row, key in enumerate(keys):
        if key in first:
            shown = ", ".join(key)
            f.problem(*f.location(row, spec.key[-1]),
                      f"duplicate {'/'.join(spec.key)} {_shown(shown)}; first on line "
                      f"{f.line_numbers[first[key]]}")
        else:
            first[key] = row


def _check_terms(f: CsvFile) -> None:
    """Terms are lowercase slugs, except units, which may be symbols or phrases."""
    slug = re.compile(schema.TERM)
    for row, (fld, term) in enumerate(zip(f.column("field"), f.column("term"))):
        if fld != "unit" and term and not slug.fullmatch(term):
            f.problem(*f.location(row, "term"), f"{fld} term {_shown(term)} is not a "
                      "lowercase slug (letters, digits and . _ / % -)")


def _check_broader(f: CsvFile) -> None:
    """A broader term is a term of the same field, and following them never loops."""
    fields, terms, wider = f.column("field"), f.column("term"), f.column("broader")
    known = set(zip(fields, terms))
    up = {(fld, term): b for fld, term, b in zip(fields, terms, wider) if b}
    for row, (fld, term, b) in enumerate(zip(fields, terms, wider)):
        if not b:
            continue
        if (fld, b) not in known:
            f.problem(*f.location(row, "broader"), f"broader {_shown(b)} is not {_a(fld)} "
                      "term in vocabulary.csv"
                      + _suggest(b, {t for g, t in known if g == fld}))
            continue
        seen, current = {term}, b
        while current is not None and current not in seen:
            seen.add(current)
            current = up.get((fld, current))
        if current is not None:
            f.problem(*f.location(row, "broader"), f"broader terms of {term!r} lead back "
                      f"to {current!r}: a term cannot include itself")


def _vocabulary(f: CsvFile) -> dict[str, set[str]]:
    terms: dict[str, set[str]] = defaultdict(set)
    for fld, term in zip(f.column("field"), f.column("term")):
        terms[fld].add(term)
    return terms


# -- across files ------------------------------------------------------------------


def _check_references(dataset: Dataset) -> None:
    for spec in schema.FILES:
        f = dataset[spec.name]
        for column, (target_file, target_column) in spec.references.items():
            known = set(dataset[target_file].column(target_column))
            values = f.column(column)
            if not (set(values) - known - {""}):
                continue
            for row, value in enumerate(values):
                if value and value not in known:
                    f.problem(*f.location(row, column), f"{column} {_shown(value)} is not "
                              f"{_a(target_column)} in {target_file}"
                              + _suggest(value, known))


def parse_cites(cites: str) -> list[int]:
    """'7-9,12' -> [7, 8, 9, 12]"""
    numbers: list[int] = []
    for part in filter(None, cites.split(",")):
        low, _, high = part.partition("-")
        numbers.extend(range(int(low), int(high or low) + 1))
    return numbers


def _check_cites(dataset: Dataset) -> None:
    claims = dataset["claims.csv"]
    listed, sizes = dataset.reference_lists, dataset.list_sizes
    for row, (source, cites) in enumerate(zip(claims.column("source_key"),
                                                claims.column("cites"))):
        if cites and CITES.fullmatch(cites):
            for message in _cites_problems(cites, source, listed, sizes[source]):
                claims.problem(*claims.location(row, "cites"), message)


def _cites_problems(cites: str, source: str, listed: dict[tuple[str, str], str],
                    size: int) -> Iterator[str]:
    """What is wrong with well-formed cites of a claim stated in source, whose
    reference list has size entries in citations.csv (listed)."""
    for part, low, high in _ranges(cites):
        if "-" in part and high <= low:
            yield f"cites range {part!r} runs backwards"
        elif high - low >= max(size, 1):
            yield (f"cites range {part!r} spans {high - low + 1:,} numbers, but "
                   f"citations.csv has only {size} entries in the reference list of "
                   f"{source!r}")
    missing = [n for n in _cited_numbers(cites, size) if (source, str(n)) not in listed]
    if missing:
        yield (f"cites {', '.join(map(str, missing))} but citations.csv has no such entry "
               f"in the reference list of {source!r}")


def _ranges(cites: str) -> list[tuple[str, int, int]]:
    """'7-9,12' -> [('7-9', 7, 9), ('12', 12, 12)], for well-formed cites."""
    ranges = []
    for part in cites.split(","):
        low, _, high = part.partition("-")
        ranges.append((part, int(low), int(high or low)))
    return ranges


def _cited_numbers(cites: str, size: int) -> list[int]:
    """The numbers of well-formed cites, leaving out every range that spans more numbers
    than a reference list of size entries holds: it cannot be right, and spelling out
    1-999999 for every claim would take long."""
    return [n for _, low, high in _ranges(cites) if high - low < max(size, 1)
            for n in range(low, high + 1)]


def _check_derived_from(dataset: Dataset) -> None:
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
        numbers = _cited_numbers(cites, sizes[source]) if CITES.fullmatch(cites) else []
        works = {cited_works.get((source, str(n))) for n in numbers}
        if source_of[derived] not in works:
            claims.problem(*claims.location(row, "derived_from"),
                           f"derived_from {derived!r} is stated in "
                           f"{source_of[derived]!r}, which this claim's cites "
                           f"({cites or 'none'}) do not point to")


def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _check_numbers(claims: CsvFile) -> None:
    for row, cells in enumerate(claims.dicts()):
        value, low, high = (_number(cells[c]) for c in ("value", "low", "high"))
        numbers = [x for x in (value, low, high) if x is not None]

        def report(column: str, message: str) -> None:
            claims.problem(*claims.location(row, column), message)

        if cells["kind"] == "quantitative":
            if not any(cells[c] for c in ("value", "low", "high")):
                report("kind", "a quantitative claim needs value, low or high")
            for column in ("outcome", "measure", "unit"):
                if not cells[column]:
                    report(column, f"a quantitative claim needs {column}")
        elif cells["kind"] == "qualitative" and numbers:
            report("kind", "a qualitative claim has no value, low or high; "
                   "use kind quantitative")
        if low is not None and high is not None and low > high:
            report("low", f"low ({cells['low']}) is greater than high ({cells['high']})")
        if value is not None and low is not None and value < low:
            report("value", f"value ({cells['value']}) is below low ({cells['low']})")
        if value is not None and high is not None and value > high:
            report("value", f"value ({cells['value']}) is above high ({cells['high']})")
        if cells["unit"] == "%":
            for column, number in zip(("value", "low", "high"), (value, low, high)):
                if number is not None and not 0 <= number <= 100:
                    report(column, f"{column} {cells[column]} is a percentage outside 0-100")
        n = _whole(cells["n"])
        if n is not None and n <= 0:
            report("n", f"n must be a positive number of patients, not {cells['n']}")


def _check_years(references: CsvFile) -> None:
    last = datetime.date.today().year + 1
    for row, year in enumerate(references.column("year")):
        number = _whole(year)
        if number is not None and not schema.MIN_YEAR <= number <= last:
            references.problem(*references.location(row, "year"),
                               f"year {year} is outside {schema.MIN_YEAR}-{last}")


def _check_duplicate_works(references: CsvFile) -> None:
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
    # near-identical titles in the same year, blocked and scored by kb/match.py
    works = [match.work_reference(key, title, authors, year, None, None)
             for key, title, authors, year in zip(
                 keys, references.column("title"), references.column("authors"),
                 references.column("year"))]
    for earlier, row, _ in match.duplicates(works, TITLE_DUPLICATE_SCORE):
        references.problem(*references.location(row, "title"),
                           f"title and year nearly identical to {keys[earlier]!r} (line "
                           f"{references.line_numbers[earlier]}): the same work twice?")


# -- evidence (kb validate --evidence) -----------------------------------------------

STATED_IN_ABSTRACT = re.compile(r"\b(abstract|title)\b", re.I)


@dataclass
class EvidenceReport:
    problems: list[Problem]  # numbers absent from the abstract the locator points to
    notes: list[Problem]     # other findings: to look at, not errors
    summary: str


def evidence_report(dataset: Dataset, found) -> EvidenceReport:
    """What `kb validate --evidence` prints, from build.evidence_of(dataset)."""
    from .evidence import DIFFERS, NOT_FOUND, NUMBER_CHECKS

    claims = dataset["claims.csv"]
    row_of = {claim_id: row for row, claim_id in enumerate(claims.column("id"))}
    problems, notes = [], []
    checks = dict.fromkeys(NUMBER_CHECKS, 0)
    for claim_id, (check, absent, *_rest) in found.claims.items():
        if check is None:
            continue
        checks[check] += 1
        if not absent:
            continue
        row = row_of[claim_id]
        cells = {c: claims.column(c)[row] for c in ("value", "low", "high", "n", "locator",
                                                     "source_key")}
        first = absent.split(", ")[0]
        column = next((c for c in ("value", "low", "high", "n") if cells[c] == first),
                      "value")
        line, col = claims.location(row, column)
        if STATED_IN_ABSTRACT.search(cells["locator"]):
            problems.append(Problem(claims.display, line, col, (
                f"{claim_id}: {absent} not in the cached title or abstract of "
                f"{cells['source_key']!r}, where the locator ({cells['locator']}) says it is "
                "stated: check the figure or the locator")))
        else:
            notes.append(Problem(claims.display, line, col, (
                f"note: {claim_id}: {absent} not in the cached title or abstract of "
                f"{cells['source_key']!r}; stated in {cells['locator']}: check it there")))
    hops = {DIFFERS: 0, NOT_FOUND: 0}
    for claim_id, step, _depth, from_claim, number, cited, _type, to_claim, status, \
            detail in found.trails:
        if status not in hops or claim_id != from_claim:
            continue
        hops[status] += 1
        row = row_of[claim_id]
        column = "derived_from" if status == DIFFERS else "cites"
        notes.append(Problem(claims.display, *claims.location(row, column),
                             f"note: {claim_id} -> [{number}] {cited}: {status}: {detail}"))
    summary = ("numbers checked against cached abstracts: "
               + ", ".join(f"{n} {name}" for name, n in checks.items())
               + f"; trail hops: {hops[DIFFERS]} differ, {hops[NOT_FOUND]} not found in the "
               "cited abstract")
    return EvidenceReport(sorted(problems), sorted(notes), summary)
