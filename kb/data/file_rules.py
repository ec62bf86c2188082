"""Rules about one data file at a time, from its declaration in kb/data/schema.py:
columns, required cells, types, patterns, vocabularies, keys, and the sense of a
claim's numbers and a work's year. Checks run column by column, so that a
million-row file stays quick; each problem names its file, line and column.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections import defaultdict
from typing import Iterator

from . import schema
from .csvfile import CsvFile
from .text import did_you_mean, shown, with_article

INTEGER = r"-?[0-9]+"


UNSIGNED_REAL = r"([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?"


REAL = rf"-?{UNSIGNED_REAL}"


INT64 = (-2**63, 2**63 - 1)  # the whole numbers SQLite holds


LONG_INTEGER = re.compile(r"^-?[0-9]{19,}$", re.M)  # candidates beyond INT64


LONG_REAL = re.compile(r"^.*[eE]\+?[0-9]{3,}$|^.{300,}$", re.M)  # candidates for inf


# A cell starting so is run as a formula by a spreadsheet opening the file (CSV
# injection), unless it is a plain number. The other triggers are refused anyway: a
# leading tab as space around a value, a carriage return anywhere (kb/data/csvfile.py).
FORMULA = re.compile(rf"^(?![-+]{UNSIGNED_REAL}$)[=+\-@]", re.M)


TYPE_PATTERNS = {"integer": INTEGER, "real": REAL}


TYPE_NAMES = {"integer": "a whole number", "real": "a number"}


def check_header(f: CsvFile, spec: schema.DataFile) -> bool:
    if not f.header:
        return False
    missing = [fld.name for fld in spec.fields
               if fld.name not in f.header and not fld.may_be_absent]
    for name in f.header:
        if name not in spec.columns:
            line, column = f.header_location(name)
            f.problem(line, column, f"unknown column {shown(name)}; {spec.name} has: "
                      + ", ".join(spec.columns))
    if missing:
        f.problem(1, 1, "missing column" + ("s " if len(missing) > 1 else " ")
                  + ", ".join(repr(m) for m in missing))
    return not missing


def _rows_where(values: tuple[str, ...], distinct: set[str], test) -> list[int]:
    """Indexes of the values for which test is true, in order; test is called once for
    each distinct value, so that a column of a million cells and few values is quick."""
    hits = {value for value in distinct if test(value)}
    return [row for row, value in enumerate(values) if value in hits] if hits else []


@functools.lru_cache(maxsize=None)
def _full(pattern: str):
    """A test: is a non-empty value not of pattern, in full?"""
    regex = re.compile(pattern)
    return lambda value: value and not regex.fullmatch(value)


def check_cells(f: CsvFile, spec: schema.DataFile,
                 vocabulary: dict[str, set[str]] | None) -> None:
    """Per-cell rules, column by column; vocabulary is None when it could not be read."""
    for fld in spec.fields:
        for row, message in _column_problems(fld, f.column(fld.name), vocabulary):
            f.problem(*f.location(row, fld.name), message)


def _column_problems(fld: schema.Field, values: tuple[str, ...],
                     vocabulary: dict[str, set[str]] | None) -> Iterator[tuple[int, str]]:
    """(row, message) for every cell of one column that breaks a rule; a cell that is not
    of the column's form (type, pattern, vocabulary) gets no formula message besides."""
    distinct = set(values)
    for row in _rows_where(values, distinct, lambda value: value != value.strip()):
        yield row, f"{fld.name}: remove the spaces around {shown(values[row])}"
    if fld.required and "" in distinct:
        yield from ((row, f"{fld.name} is required") for row, value in enumerate(values)
                    if not value)
    wrong: set[int] = set()
    if fld.type in TYPE_PATTERNS:
        wrong.update(_rows_where(values, distinct, _full(TYPE_PATTERNS[fld.type])))
        yield from ((row, f"{fld.name} must be {TYPE_NAMES[fld.type]}, not "
                     f"{shown(values[row])}") for row in sorted(wrong))
        yield from _out_of_range(fld, values, distinct, wrong)
    if fld.pattern:
        for row in _rows_where(values, distinct, _full(fld.pattern)):
            if row not in wrong:
                wrong.add(row)
                yield row, (f"{fld.name} {shown(values[row])} is not valid: "
                            f"{_pattern_hint(fld)}")
    if fld.vocabulary and vocabulary is not None:
        allowed = vocabulary.get(fld.vocabulary, set())
        if distinct - allowed - {""}:
            for row, value in enumerate(values):
                if value and value not in allowed:
                    wrong.add(row)
                    yield row, (f"{fld.name} {shown(value)} is not "
                                f"{with_article(fld.vocabulary)} term in vocabulary.csv"
                                + did_you_mean(value, allowed))
    if not fld.prose:
        for row in _rows_where(values, distinct, FORMULA.match):
            if row not in wrong:
                yield row, (f"{fld.name} {shown(values[row])} starts with "
                            f"{values[row][0]!r}, so a spreadsheet would run it as a "
                            "formula; reword it (only numbers, like -0.5, may start so)")


def _out_of_range(fld: schema.Field, values: tuple[str, ...], distinct: set[str],
                  wrong: set[int]) -> Iterator[tuple[int, str]]:
    """Numbers of the right form that the database cannot hold: whole numbers beyond
    SQLite's 64 bits, numbers beyond a float's range. Rows in wrong are left alone."""
    if fld.type == "integer":
        for row in _rows_where(values, distinct, LONG_INTEGER.match):
            if not _fits_int64(values[row]):
                yield row, (f"{fld.name} {shown(values[row])} is too large: a whole "
                            f"number has at most 19 digits and lies between {INT64[0]} "
                            f"and {INT64[1]}")
    elif fld.type == "real":
        for row in _rows_where(values, distinct, LONG_REAL.match):
            if row not in wrong and math.isinf(float(values[row])):
                yield row, f"{fld.name} {shown(values[row])} is too large to be a number"


def _whole(text: str) -> int | None:
    """The whole number text holds, or None when it is not one the database holds (those
    are reported by _column_problems)."""
    return int(text) if re.fullmatch(INTEGER, text) and _fits_int64(text) else None


def _fits_int64(text: str) -> bool:
    digits = text.lstrip("-")
    return len(digits) < 19 or (len(digits) == 19 and INT64[0] <= int(text) <= INT64[1])


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
        "interval": "one of " + ", ".join(schema.INTERVALS),
        "pmid_seen": "one of " + ", ".join(schema.PMID_SEEN),
        "domain": "one of " + ", ".join(schema.GRADE_DOMAINS),
        "judgement": "one of " + ", ".join(schema.JUDGEMENTS),
    }
    if fld.name in hints:
        return hints[fld.name]
    return f"expected {fld.example or 'the pattern ' + fld.pattern!s}"


def check_unique(f: CsvFile, spec: schema.DataFile) -> None:
    keys = list(zip(*(f.column(c) for c in spec.key)))
    if len(set(keys)) == len(keys):
        return
    first: dict[tuple, int] = {}
    for row, key in enumerate(keys):
        if key in first:
            joined = ", ".join(key)
            f.problem(*f.location(row, spec.key[-1]),
                      f"duplicate {'/'.join(spec.key)} {shown(joined)}; first on line "
                      f"{f.line_numbers[first[key]]}")
        else:
            first[key] = row


def check_terms(f: CsvFile) -> None:
    """Terms are lowercase slugs, except units, which may be symbols or phrases."""
    slug = re.compile(schema.TERM)
    for row, (fld, term) in enumerate(zip(f.column("field"), f.column("term"))):
        if fld != "unit" and term and not slug.fullmatch(term):
            f.problem(*f.location(row, "term"), f"{fld} term {shown(term)} is not a "
                      "lowercase slug (letters, digits and . _ / % -)")


def check_broader(f: CsvFile) -> None:
    """A broader term is a term of the same field, and following them never loops."""
    fields, terms, wider = f.column("field"), f.column("term"), f.column("broader")
    known = set(zip(fields, terms))
    up = {(fld, term): b for fld, term, b in zip(fields, terms, wider) if b}
    for row, (fld, term, b) in enumerate(zip(fields, terms, wider)):
        if not b:
            continue
        if (fld, b) not in known:
            f.problem(*f.location(row, "broader"), f"broader {shown(b)} is not {with_article(fld)} "
                      "term in vocabulary.csv"
                      + did_you_mean(b, {t for g, t in known if g == fld}))
            continue
        seen, current = {term}, b
        while current is not None and current not in seen:
            seen.add(current)
            current = up.get((fld, current))
        if current is not None:
            f.problem(*f.location(row, "broader"), f"broader terms of {term!r} lead back "
                      f"to {current!r}: a term cannot include itself")


def vocabulary_of(f: CsvFile) -> dict[str, set[str]]:
    terms: dict[str, set[str]] = defaultdict(set)
    for fld, term in zip(f.column("field"), f.column("term")):
        terms[fld].add(term)
    return terms


def _number(text: str) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def check_numbers(claims: CsvFile) -> None:
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
        # a value outside its own interval is recorded as printed and flagged by the
        # build (kb/evidence/flags.py), not refused: the source says so
        if cells["unit"] == "%":
            for column, number in zip(("value", "low", "high"), (value, low, high)):
                if number is not None and not 0 <= number <= 100:
                    report(column, f"{column} {cells[column]} is a percentage outside 0-100")
        n = _whole(cells["n"])
        if n is not None and n <= 0:
            report("n", f"n must be a positive number of patients, not {cells['n']}")


def check_years(references: CsvFile) -> None:
    last = datetime.date.today().year + 1
    for row, year in enumerate(references.column("year")):
        number = _whole(year)
        if number is not None and not schema.MIN_YEAR <= number <= last:
            references.problem(*references.location(row, "year"),
                               f"year {year} is outside {schema.MIN_YEAR}-{last}")


def check_pmid_seen(references: CsvFile) -> None:
    """A PMID says where it was read, and only a PMID does (files written before the
    pmid_seen column stay readable without it)."""
    if "pmid_seen" not in references.header:
        return
    for row, (pmid, seen) in enumerate(zip(references.column("pmid"),
                                           references.column("pmid_seen"))):
        if pmid and not seen:
            references.problem(*references.location(row, "pmid_seen"), "pmid_seen is "
                               "required with a pmid: pubmed, other or address")
        elif seen and not pmid:
            references.problem(*references.location(row, "pmid_seen"),
                               f"pmid_seen {shown(seen)} but the row has no pmid")
