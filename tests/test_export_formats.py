"""Every export is read back by a consumer other than our code, and compared with the
database: BibTeX by pybtex and by pandoc, RIS by rispy, CSL-JSON by pandoc and by
citeproc-py. The fixture works (tests/fixtures/export) are invented to be awkward:
1, 3, 6, 7 and 30 authors, no pages, a chapter, a book, a group author, a partial author
list, LaTeX specials and Unicode, and RIS tags inside a title."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess

import pytest

from kb.export import writers
from kb.export import selection as selecting


@pytest.fixture(scope="module")
def conn(export_conn):
    return export_conn


@pytest.fixture(scope="module")
def sources(conn):
    conn.row_factory = sqlite3.Row
    rows = {r["key"]: dict(r) for r in conn.execute("select * from sources")}
    conn.row_factory = None
    return rows


@pytest.fixture(scope="module")
def everything(conn):
    return selecting.all_sources(conn)


def pandoc(*args: str, text: str) -> str:
    from kb.export.citeproc import pandoc_path

    done = subprocess.run([pandoc_path(), *args], input=text.encode(), capture_output=True,
                          check=True)
    return done.stdout.decode()


def family_of(name: dict) -> str:
    """A CSL name's family with the particles pandoc splits off ('de la' + 'Cruz')."""
    return " ".join(filter(None, [name.get("dropping-particle"),
                                  name.get("non-dropping-particle"), name["family"]]))


def names_of(authors: str | None) -> list[str]:
    return [a for a in (authors or "").split("; ") if a]


def split_name(name: str) -> tuple[str, str]:
    """'de la Cruz MJ' -> ('de la Cruz', 'MJ')"""
    family, _, initials = name.rpartition(" ")
    return family, initials


# -- BibTeX -----------------------------------------------------------------------------


def test_bibtex_read_by_pybtex_has_every_field_of_the_database(everything, sources):
    import pybtex.database

    parsed = pybtex.database.parse_string(writers.to_bibtex(everything.items), "bibtex")
    assert set(parsed.entries) == set(sources)
    for key, row in sources.items():
        entry = parsed.entries[key]
        expected_type = {"book": "book", "chapter": "incollection"}.get(
            row["pub_type"], "article" if row["journal"] else "misc")
        assert entry.type == expected_type, key
        fields = entry.fields
        for column, name in (("doi", "doi"), ("pmid", "pmid"), ("pmcid", "pmcid"),
                             ("volume", "volume"), ("issue", "number")):
            assert fields.get(name) == (str(row[column]) if row[column] else None), (key, name)
        assert fields.get("year") == (str(row["year"]) if row["year"] else None)
        assert fields.get("pages") == (row["pages"].replace("-", "--") if row["pages"]
                                       else None)
        people = names_of(row["authors"])
        persons = entry.persons.get("author", [])
        assert len(persons) == len(people), key
        for person, name in zip(persons, people):
            if name == "et al.":
                assert str(person) == "others"
            elif " " not in name or not name.rsplit(" ", 1)[1].isupper():
                assert str(person) == "{" + name + "}"   # a group: one literal name
            else:
                family, initials = split_name(name)
                assert " ".join(person.prelast_names + person.last_names) == family
                assert "".join(n.rstrip(".") for n in person.first_names
                               + person.middle_names) == initials


def test_bibtex_read_by_pandoc_matches_the_database(everything, sources):
    read = {i["id"]: i for i in json.loads(pandoc("-f", "bibtex", "-t", "csljson",
                                                  text=writers.to_bibtex(everything.items)))}
    assert set(read) == set(sources)
    for key, row in sources.items():
        item = read[key]
        # in TeX several spaces are one
        assert item.get("title") == " ".join(row["title"].split()), key
        container = row["journal"]
        assert item.get("container-title") == container, key
        assert item.get("DOI") == row["doi"], key
        assert item.get("PMID") == row["pmid"], key
        assert item.get("PMCID") == row["pmcid"], key
        assert item.get("publisher") == row["publisher"], key
        assert item.get("publisher-place") == row["place"], key
        assert item.get("page") == row["pages"], key
        for role, column in (("author", "authors"), ("editor", "editors")):
            names = []
            for n in item.get(role, []):
                if "literal" in n:
                    names.append("et al." if n["literal"] == "others" else n["literal"])
                else:
                    names.append(f"{family_of(n)} "
                                 f"{n['given'].replace('.', '').replace(' ', '')}")
            # pandoc typesets a straight apostrophe as a curly one
            assert [n.replace("’", "'") for n in names] == names_of(row[column]), (key, role)


def test_latex_specials_are_escaped_and_unicode_is_kept(everything):
    bib = writers.to_bibtex(everything.items)
    [title] = [line for line in bib.splitlines() if "Costs" in line]
    assert r"Costs \& cures: 50\% of \$5 fees, \#1 in \{braces\}" in title
    assert r"\textasciitilde{} \textasciicircum{} \_ \textbackslash{}" in title
    assert "α-fetoprotein ≥ 5 µg/L in Zürich" in title
    assert "doi = {10.1000/(SICI)1-2_3;x}" in bib      # identifiers verbatim


def test_titles_are_protected_from_case_changes(everything):
    bib = writers.to_bibtex(everything.items)
    assert "title = {{Three authors count fixtures}}" in bib
    assert "booktitle = {{The Book of Fixtures}}" in bib


# -- RIS --------------------------------------------------------------------------------


def test_ris_read_by_rispy_matches_the_database(everything, sources):
    import rispy

    records = {r["id"]: r for r in rispy.loads(writers.to_ris(everything.items))}
    assert set(records) == set(sources)
    for key, row in sources.items():
        record = records[key]
        assert record["type_of_reference"] == {"book": "BOOK", "chapter": "CHAP"}.get(
            row["pub_type"], "JOUR" if row["journal"] else "GEN")
        assert record.get("title") == row["title"]
        assert record.get("secondary_title") == row["journal"]
        assert record.get("doi") == row["doi"]
        assert record.get("accession_number") == row["pmid"]
        assert record.get("custom2") == row["pmcid"]
        assert record.get("publisher") == row["publisher"]
        assert record.get("place_published") == row["place"]
        assert record.get("year") == (str(row["year"]) if row["year"] else None)
        first, _, last = (row["pages"] or "").partition("-")
        assert record.get("start_page") == (first or None)
        assert record.get("end_page") == (last or None)
        expected = [("et al." if n == "et al." else
                     (f"{split_name(n)[0]}, {'. '.join(split_name(n)[1])}."
                      if " " in n and split_name(n)[1].isupper() else n))
                    for n in names_of(row["authors"])]
        assert record.get("authors", []) == expected, key


def test_ris_tags_inside_a_title_stay_inside_it(everything):
    import rispy

    text = writers.to_ris(everything.items)
    assert not re.search(r"^AU  - too", text, re.M)
    [record] = [r for r in rispy.loads(text) if r["id"] == "ristags2011"]
    assert record["title"] == "TY  - JOUR and ER  - inside a title, AU  - too"
    assert record["authors"] == ["Tagg, T."]


def test_a_line_break_in_a_value_cannot_start_a_ris_tag():
    import rispy

    item = writers.csl_item({"key": "x", "title": "First line\nER  - \nTY  - BOOK",
                            "authors": "Tagg T", "journal": "J", "pub_type": "review"})
    [record] = rispy.loads(writers.to_ris([item]))
    assert record["type_of_reference"] == "JOUR"
    assert record["title"] == "First line ER  -  TY  - BOOK"   # each break one space


# -- CSL-JSON ---------------------------------------------------------------------------


def test_csl_json_read_by_pandoc_is_unchanged(everything):
    ours = json.loads(writers.to_csl_json(everything.items))
    again = json.loads(pandoc("-f", "csljson", "-t", "csljson",
                              text=writers.to_csl_json(everything.items)))
    assert {i["id"] for i in again} == {i["id"] for i in ours}
    by_id = {i["id"]: i for i in again}
    for item in ours:
        theirs = by_id[item["id"]]
        for name in ("title", "container-title", "DOI", "PMID", "PMCID", "page", "volume",
                     "issue", "publisher", "publisher-place", "issued", "type"):
            mine = item.get(name)
            if name == "title":   # pandoc reads text into words: runs of spaces are one
                mine = " ".join(mine.split())
            assert theirs.get(name) == mine, (item["id"], name)
        # pandoc typesets a straight apostrophe as a curly one
        assert [{"family": family_of(n).replace("’", "'"), "given": n["given"]}
                if "family" in n else n
                for n in theirs.get("author", [])] == item.get("author", []), item["id"]


def test_csl_json_rendered_by_citeproc_py(everything, sources):
    from citeproc import (Citation, CitationItem, CitationStylesBibliography,
                          CitationStylesStyle, formatter)
    from citeproc.source.json import CiteProcJSON

    from kb.export.citeproc import STYLES, STYLES_DIR

    items = json.loads(writers.to_csl_json(everything.items))
    style = CitationStylesStyle(str(STYLES_DIR / STYLES["vancouver"]), validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    assert len(rendered) == len(items)
    for item, text in zip(items, rendered):
        row = sources[item["id"]]
        assert row["title"].split(":")[0][:20] in text, item["id"]
        if row["pmid"]:
            assert f"PMID: {row['pmid']}" in text


def test_identifiers_are_carried_in_every_format(conn):
    [item] = selecting.sources(conn, ["trio2002"]).items
    assert (item["PMID"], item["PMCID"], item["DOI"]) == (
        "10000002", "PMC1000002", "10.1000/trio.2002")
    bib = writers.to_bibtex([item])
    assert "pmid = {10000002}" in bib and "pmcid = {PMC1000002}" in bib
    assert "doi = {10.1000/trio.2002}" in bib
    ris = writers.to_ris([item])
    assert "AN  - 10000002" in ris and "C2  - PMC1000002" in ris
    assert "DO  - 10.1000/trio.2002" in ris


def test_a_list_known_only_in_part_says_so_in_every_format(conn):
    [item] = selecting.sources(conn, ["partial2012"]).items
    assert item["author"][-1] == {"literal": "et al."}
    assert "author = {Partial, P. and Part, Q. and others}" in writers.to_bibtex([item])
    assert writers.to_ris([item]).count("AU  - ") == 3
    assert "AU  - et al." in writers.to_ris([item])


def test_a_retracted_work_is_marked_in_every_format():
    row = {"key": "gone", "title": "Withdrawn", "authors": "Gone G", "journal": "J",
           "pub_type": "cohort", "retracted": 1}
    item = writers.csl_item(row)
    assert item["note"].startswith("RETRACTED")
    assert "note = {RETRACTED" in writers.to_bibtex([item])
    assert "N1  - RETRACTED" in writers.to_ris([item])


@pytest.mark.parametrize("name, expected", [
    ("Rossi RE", {"family": "Rossi", "given": "R. E."}),
    ("de Herder WW", {"family": "de Herder", "given": "W. W."}),
    ("Wróbel Ł", {"family": "Wróbel", "given": "Ł."}),
    ("Touzios", {"literal": "Touzios"}),
    ("ENETS Consensus Conference participants", {"literal":
                                                 "ENETS Consensus Conference participants"}),
])
def test_names_split_into_family_and_initials(name, expected):
    assert writers.csl_name(name) == expected
