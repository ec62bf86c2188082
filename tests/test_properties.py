"""Properties, checked on inputs hypothesis generates: the validator on any data file
never raises or hangs and locates every problem on a line and column that exist; a
valid file read and written again is the same file; every export read back by a
consumer (bibtexparser, rispy, json) gives the fields it was made from.

Profiles: `dev` (the default) explores new examples on each run; `ci` (chosen when the
CI environment variable is set, or with HYPOTHESIS_PROFILE=ci) is derandomized, so a
CI run checks the same examples every time. Both bound the number of examples so that
this file takes well under 30 seconds; HYPOTHESIS_PROFILE=thorough tries 2000 each.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import FIXTURES
from kb.data import file_rules, loader, schema
from kb.data.csvfile import CsvFile
from kb.export import writers

settings.register_profile("dev", max_examples=60, deadline=5000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True,
                          database=None, print_blob=True)
settings.register_profile("thorough", parent=settings.get_profile("dev"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") else "dev"))

MINIMAL = FIXTURES / "minimal"
DATA_FILES = [spec.name for spec in schema.FILES if not spec.optional]


@contextmanager
def data_dir_with(name: str, data: bytes):
    """A copy of the minimal data set whose file `name` holds data (hypothesis runs many
    examples in one test, so a pytest tmp_path, made once per test, would be shared)."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "data"
        shutil.copytree(MINIMAL, target)
        (target / name).write_bytes(data)
        yield target


def file_lines(data: bytes) -> list[str]:
    """The lines of a data file as an editor shows them (any line ending ends a line)."""
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    return re.split(r"\r\n|\r|\n", text)


def assert_every_problem_is_located(data_dir: Path) -> None:
    """validate.load runs to the end, and each problem names a line and a column
    (1-based; one past a line's end is where a missing cell would start) of its file."""
    for problem in loader.load(data_dir).problems:
        lines = file_lines((data_dir / Path(problem.path).name).read_bytes())
        assert 1 <= problem.line <= len(lines), problem
        assert 1 <= problem.column <= len(lines[problem.line - 1]) + 1, problem


# -- the validator on any data file ---------------------------------------------------

# what goes wrong in hand-edited CSV files, as bytes to splice in
HOSTILE = [b'"', b",", b'",', b',"', b"\n", b"\r", b"\r\n", b"\x00", b"\xef\xbb\xbf",
           b"\xff\xfe", b"\t", b" ", b"=", b"+", b"-", b"@", b";", b"\xe9", b"\x93",
           "\u2028".encode(), b"\xc2\x85", b"\\", b"''", b"1-999999", b"0",
           b"99999999999999999999", "\u00b2".encode(), b"1e999", b"\n\n"]


@st.composite
def mutated_files(draw) -> tuple[str, bytes]:
    """One file of the minimal data set with a few bytes replaced, cut or spliced in."""
    name = draw(st.sampled_from(DATA_FILES))
    data = bytearray((MINIMAL / name).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 12))
        data[at: at + cut] = draw(st.one_of(st.sampled_from(HOSTILE),
                                            st.binary(max_size=6)))
    return name, bytes(data)


CELL = st.one_of(st.sampled_from([h.decode("utf-8", "replace") for h in HOSTILE]),
                 st.text(max_size=12), st.from_regex(r"[0-9,-]{1,12}", fullmatch=True))


@st.composite
def files_of_arbitrary_cells(draw) -> tuple[str, bytes]:
    """One data file with its right header and rows of arbitrary cells (ragged too)."""
    spec = draw(st.sampled_from(schema.FILES))
    width = len(spec.columns)
    rows = draw(st.lists(st.lists(CELL, min_size=width - 1, max_size=width + 1),
                         max_size=4))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([spec.columns, *rows])
    return spec.name, out.getvalue().encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("files", [mutated_files, files_of_arbitrary_cells],
                         ids=["a mutated data file", "arbitrary cells"])
@given(drawn=st.data())
def test_validating_never_raises_and_locates_every_problem(files, drawn):
    name, data = drawn.draw(files(), label="case")
    with data_dir_with(name, data) as data_dir:
        assert_every_problem_is_located(data_dir)


# -- a valid file stays valid ---------------------------------------------------------

# text a curator may write in a cell: anything printable, no line breaks, nothing
# around it that str.strip() removes
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1,
               max_size=30).filter(lambda s: s == s.strip())
PLAIN = TEXT.filter(lambda s: not file_rules.FORMULA.match(s))   # not prose: no formula
NAME = st.from_regex(r"[A-Z][a-z]{1,10}( [A-Z]{1,3})?", fullmatch=True)


@st.composite
def reference_rows(draw, year: int) -> list[str]:
    """A valid row of references.csv for a work of that year (its key says the year, so
    that keys and titles cannot clash with other works')."""
    fields = {
        "key": f"w{year}" + draw(st.from_regex(r"[a-z0-9_-]{0,12}", fullmatch=True)),
        "title": draw(TEXT), "notes": draw(TEXT), "journal": draw(PLAIN),
        "authors": "; ".join(draw(st.lists(NAME, min_size=1, max_size=4))),
        "year": str(year), "volume": draw(PLAIN), "pages": draw(PLAIN),
        "publisher": draw(PLAIN), "place": draw(PLAIN),
        "pub_type": "review", "verified_from": "https://example.org/generated",
    }
    # in the minimal fixture's columns, which leave out those added later
    return [fields.get(f.name, "") for f in schema.REFERENCES.fields if not f.may_be_absent]


@st.composite
def references_files(draw) -> bytes:
    """references.csv of the minimal data set with generated works added."""
    years = range(1900, 1900 + draw(st.integers(1, 4)))
    rows = [draw(reference_rows(year)) for year in years]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return (MINIMAL / "references.csv").read_bytes() + out.getvalue().encode("utf-8")


@given(references_files())
def test_a_valid_file_stays_valid_and_identical_when_written_again(data):
    with data_dir_with("references.csv", data) as data_dir:
        assert loader.load(data_dir).problems == []
        read = CsvFile(data_dir / "references.csv")
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([read.header, *read.rows])
        assert out.getvalue().encode("utf-8") == data


# -- exports read back ----------------------------------------------------------------

LATEX_SPECIALS = "{}$%&#_^~\\"
QUOTES = "\"'“”‘’«»„"
# Text as curated cells hold it, LaTeX's specials and quotes made likely. Not line or
# paragraph separators, which RIS writes as spaces by design (one line per tag, see
# test_export_formats). Not the backtick: LaTeX prints it as an opening quote, and no
# escape of it is read back by both pandoc (\`{}) and pylatexenc (\textasciigrave).
TITLE_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"),
                                   include_characters=LATEX_SPECIALS + QUOTES,
                                   exclude_characters="`"),
                     min_size=1, max_size=40)
# very long titles: a generated piece repeated
TITLES = st.one_of(TITLE_TEXT, st.builds(lambda text, times: text * times, TITLE_TEXT,
                                        st.integers(50, 200)))
WORDS = st.text(st.characters(exclude_categories=("Cs", "Cc", "Z"),
                              include_characters=LATEX_SPECIALS + QUOTES + "-.,",
                              exclude_characters="`"),
                min_size=1, max_size=12)
FAMILY = st.lists(WORDS, min_size=1, max_size=3).map(" ".join)
PERSON = st.builds(lambda family, initials: f"{family} {initials}", FAMILY,
                   st.from_regex(r"[A-Z]{1,3}", fullmatch=True))
GROUP = st.lists(WORDS, min_size=2, max_size=4).map(" ".join).filter(
    lambda name: not writers._is_initials(name.rsplit(" ", 1)[-1]))
AUTHORS = st.builds(lambda names, partial: "; ".join(names + ["et al."] * partial),
                    st.lists(st.one_of(PERSON, PERSON, GROUP), min_size=1, max_size=40),
                    st.booleans())
DOI = st.builds(lambda prefix, suffix: f"10.{prefix}/{suffix}",
                st.from_regex(r"[0-9]{4,9}", fullmatch=True),
                st.from_regex(schema.DOI.split("/", 1)[1], fullmatch=True))
OPTIONAL = st.one_of(st.none(), TITLE_TEXT.map(str.strip).filter(bool))


@st.composite
def sources_rows(draw, key: str) -> dict:
    """A sources row as the database has it (the columns export reads)."""
    return {
        "key": key, "title": draw(TITLES.map(str.strip).filter(bool)),
        "authors": draw(st.one_of(st.none(), AUTHORS)),
        "editors": draw(st.one_of(st.none(), AUTHORS)),
        "journal": draw(OPTIONAL), "journal_abbrev": draw(OPTIONAL),
        "publisher": draw(OPTIONAL), "place": draw(OPTIONAL),
        "year": draw(st.one_of(st.none(), st.integers(1800, 2100))),
        "volume": draw(OPTIONAL), "issue": draw(OPTIONAL),
        "pages": draw(st.one_of(st.none(), st.from_regex(r"[e]?[0-9]{1,5}(-[0-9]{1,5})?",
                                                         fullmatch=True))),
        "doi": draw(st.one_of(st.none(), DOI)),
        "pmid": draw(st.one_of(st.none(), st.from_regex(schema.PMID, fullmatch=True))),
        "pmcid": draw(st.one_of(st.none(), st.from_regex(schema.PMCID, fullmatch=True))),
        "pub_type": draw(st.sampled_from(["review", "cohort", "book", "chapter"])),
        "retracted": draw(st.sampled_from([0, 1])),
    }


ITEMS = st.integers(1, 3).flatmap(lambda n: st.tuples(
    *(sources_rows(f"work{i}") for i in range(n)))).map(
        lambda rows: [writers.csl_item(row) for row in rows])


def names_as_written(names: list[dict]) -> list[str]:
    """CSL names as 'family, given' text, a literal name as it is."""
    return [n["literal"] if "literal" in n else f"{n['family']}, {n['given']}"
            for n in names]


@given(ITEMS)
def test_csl_json_read_back_gives_the_same_items(items):
    assert json.loads(writers.to_csl_json(items)) == items


@given(ITEMS)
def test_ris_read_back_by_rispy_gives_the_same_fields(items):
    import rispy

    records = rispy.loads(writers.to_ris(items))
    assert [r["id"] for r in records] == [i["id"] for i in items]
    for item, record in zip(items, records):
        for csl, ris in writers.RIS_FIELDS:
            assert record.get(ris) == item.get(csl), (item["id"], ris)
        for role, tag in (("author", "authors"), ("editor", "secondary_authors")):
            assert record.get(tag, []) == names_as_written(item.get(role, [])), role
        first, _, last = (item.get("page") or "").partition("-")
        assert (record.get("start_page"), record.get("end_page")) == (first or None,
                                                                     last or None)
        assert record.get("notes", [None]) == [item.get("note")]


def bibtex_decoder():
    """pylatexenc's LaTeX-to-text reader, as bibtexparser's LatexDecodingMiddleware uses
    it, with one correction: it reads \\textasciicircum as U+02C6, which LaTeX typesets
    as '^'."""
    from pylatexenc.latex2text import (LatexNodes2Text, MacroTextSpec,
                                       get_default_latex_context_db)

    context = get_default_latex_context_db().filter_context()
    context.add_context_category("kb", prepend=True,
                                 macros=[MacroTextSpec("textasciicircum", "^")])
    return LatexNodes2Text(latex_context=context)


VERBATIM = ("doi", "pmid", "pmcid", "year")   # written as they are, never LaTeX


def bibtex_read_back(text: str) -> list[dict]:
    """Each entry as bibtexparser reads it: names split where BibTeX splits them, pages
    with '--' read as '-', identifiers verbatim, all else LaTeX decoded."""
    import bibtexparser

    decode = bibtex_decoder().latex_to_text
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks, [b.error for b in library.failed_blocks]
    entries = []
    for entry in library.entries:
        fields = {"ID": entry.key, "type": entry.entry_type}
        for f in entry.fields:
            if f.key in ("author", "editor"):
                fields[f.key] = split_names(f.value, decode)
            elif f.key == "pages":
                fields[f.key] = f.value.replace("--", "-")
            else:
                fields[f.key] = f.value if f.key in VERBATIM else decode(f.value)
        entries.append(fields)
    return entries


def split_names(raw: str, decode) -> list[str]:
    """A BibTeX name list ('Family, G. I. and {Group} and others') as 'Family, G. I.'
    and literal names, split as BibTeX splits it: at ' and ' outside braces, then at the
    first comma outside braces. (bibtexparser's own splitter is not used: it drops the
    first character after 'and ' when that is a backslash.)"""
    names = []
    for name in split_outside_braces(raw, re.compile(r"\s+and\s+", re.IGNORECASE)):
        if name == "others":
            names.append(writers.ET_AL)
        elif name.startswith("{") and 0 not in brace_depths(name)[:-1]:  # one group
            names.append(decode(name[1:-1]))
        else:
            family, given = split_outside_braces(name, re.compile(r"\s*,\s*"), 1)
            names.append(f"{decode(family)}, {decode(given)}")
    return names


def split_outside_braces(text: str, separator: re.Pattern, most: int | None = None
                         ) -> list[str]:
    depths = brace_depths(text)
    cuts = [m for m in separator.finditer(text) if depths[m.start()] == 0][:most]
    ends = [0] + [x for m in cuts for x in m.span()] + [len(text)]
    return [text[a:b] for a, b in zip(ends[::2], ends[1::2])]


def brace_depths(text: str) -> list[int]:
    """The brace depth after each character of text (an escaped brace, \\{, counts not)."""
    depths, depth = [], 0
    for i, char in enumerate(text):
        if char in "{}" and text[i - 1: i] != "\\":
            depth += 1 if char == "{" else -1
        depths.append(depth)
    return depths


@given(ITEMS)
def test_bibtex_read_back_by_bibtexparser_gives_the_same_fields(items):
    entries = bibtex_read_back(writers.to_bibtex(items))
    assert [e["ID"] for e in entries] == [i["id"] for i in items]
    for item, entry in zip(items, entries):
        assert entry["type"] == writers.BIBTEX_TYPES[item["type"]]
        container = "booktitle" if item["type"] == "chapter" else "journal"
        year = item.get("issued", {}).get("date-parts", [[None]])[0][0]
        expected = {"title": item.get("title"), container: item.get("container-title"),
                    "shortjournal": item.get("container-title-short"),
                    "publisher": item.get("publisher"),
                    "address": item.get("publisher-place"), "volume": item.get("volume"),
                    "number": item.get("issue"), "pages": item.get("page"),
                    "doi": item.get("DOI"), "pmid": item.get("PMID"),
                    "pmcid": item.get("PMCID"), "note": item.get("note"),
                    "year": None if year is None else str(year),
                    "author": names_as_written(item.get("author", [])) or None,
                    "editor": names_as_written(item.get("editor", [])) or None}
        assert {name: entry.get(name) for name in expected} == expected, item["id"]
