"""No reference is exported silently incomplete: a work lacking authors, title, journal
or year says so in every format and on the command line; journal abbreviations come
from PubMed or, for a full title, from ISO 4 (pyiso4), marked as derived."""

import json

import pytest

from kb.data import journals
from kb.export import citeproc, writers

ROW = {"key": "gap2020", "pub_type": "cohort", "title": "A series with gaps",
       "authors": None, "journal": "Journal of Fixtures", "year": None}


def test_the_gaps_are_what_a_reader_needs_to_find_the_work():
    item = writers.csl_item(ROW)
    assert writers.gaps(item) == ["authors", "year"]
    assert item["note"] == "Incomplete: no authors or year verified yet (nelm-kb key gap2020)"
    complete = writers.csl_item({**ROW, "authors": "Ant A", "year": 2020})
    assert writers.gaps(complete) == [] and "note" not in complete


def test_a_whole_book_needs_no_journal_but_a_chapter_needs_its_book():
    book = writers.csl_item({"key": "b", "pub_type": "book", "title": "T", "authors": "A A",
                             "year": 2000})
    chapter = writers.csl_item({"key": "c", "pub_type": "chapter", "title": "T",
                                "authors": "A A", "year": 2000})
    assert writers.gaps(book) == [] and writers.gaps(chapter) == ["journal"]


@pytest.mark.parametrize("output", ["text", "markdown", "html"])
def test_a_formatted_entry_says_what_it_lacks(output):
    [entry] = citeproc.entries([writers.csl_item(ROW)], "vancouver", output)
    assert entry.startswith("A series with gaps.")
    assert entry.endswith("[Incomplete: no authors or year verified yet (nelm-kb key "
                          "gap2020).]")


def test_bibtex_ris_and_csl_json_carry_the_gap_as_a_note():
    item = writers.csl_item(ROW)
    note = "Incomplete: no authors or year verified yet (nelm-kb key gap2020)"
    assert f"note = {{{note}}}" in writers.to_bibtex([item])
    assert f"N1  - {note}" in writers.to_ris([item])
    assert json.loads(writers.to_csl_json([item]))[0]["note"] == note


def test_a_retraction_and_a_gap_are_both_said():
    item = writers.csl_item({**ROW, "retracted": 1})
    assert item["note"].startswith(writers.RETRACTED_NOTE + "; Incomplete: no authors")


def test_kb_export_lists_the_incomplete_works_on_standard_error(run, data_dir, tmp_path):
    result = run("export", tmp_path / "kb.db", "--data", data_dir, "-f", "bibtex")
    assert result.exit_code == 0, result.output
    assert "incomplete: delta: no title, journal, year verified yet" in result.stderr


@pytest.mark.parametrize("journal, abbreviation", [
    ("Journal of Gastrointestinal Surgery", "J. Gastrointest. Surg."),
    ("Annals of Surgical Oncology", "Ann. Surg. Oncol."),
    ("Am J Transplant", None),          # printed as an abbreviation already: kept
    ("HPB", None),
    ("", None),
])
def test_full_journal_titles_get_their_iso4_abbreviation(journal, abbreviation):
    assert journals.abbreviation(journal) == abbreviation


def test_a_derived_abbreviation_is_marked_so_in_the_database(export_conn):
    row = export_conn.execute("select journal_abbrev, journal_abbrev_from from sources "
                               "where key = 'solo2001'").fetchone()
    assert tuple(row) == ("J. Fixt.", journals.DERIVED)
    chapter = export_conn.execute("select journal_abbrev from sources where key = "
                                   "'chapter2007'").fetchone()
    assert chapter[0] is None
