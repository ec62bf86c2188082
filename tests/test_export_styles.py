"""Formatted reference lists (Vancouver and AMA, by pandoc's citeproc) against goldens.

The goldens in tests/fixtures/export/golden were read entry by entry against the
styles' rules: Vancouver lists up to six authors then "et al.", AMA lists all of up to
six and three then "et al." beyond; a chapter reads "In: Editor E, Second S, editors."
(AMA "eds."); a book gives place and publisher; a group author is printed whole."""

from __future__ import annotations


import pytest

from helpers import FIXTURES

from kb.export import citeproc, formats
from kb.export import selection as selecting

GOLDEN = FIXTURES / "export" / "golden"
EXTENSIONS = {"text": "txt", "markdown": "md", "html": "html"}


@pytest.fixture(scope="module")
def selection(export_conn):
    return selecting.all_sources(export_conn)


@pytest.mark.parametrize("style", ["vancouver", "ama"])
@pytest.mark.parametrize("output", ["text", "markdown", "html"])
def test_formatted_list_matches_golden(selection, style, output):
    golden = GOLDEN / f"{style}.{EXTENSIONS[output]}"
    assert formats.render(selection, style, output) == golden.read_text(encoding="utf-8")


def entry(selection, key: str, style: str) -> str:
    [item] = [i for i in selection.items if i["id"] == key]
    [text] = citeproc.entries([item], style)
    return text


@pytest.mark.parametrize("key, style, authors", [
    ("solo2001", "vancouver", "Solo S."),
    ("trio2002", "vancouver", "Abel AB, Acker BC, Baird CD."),
    ("six2003", "vancouver", "Abel AB, Acker BC, Baird CD, Bacon DE, Cobb EF, Crane FG."),
    ("seven2004", "vancouver",
     "Abel AB, Acker BC, Baird CD, Bacon DE, Cobb EF, Crane FG, et al."),
    ("thirty2005", "vancouver",
     "Abel AB, Acker BC, Baird CD, Bacon DE, Cobb EF, Crane FG, et al."),
    ("six2003", "ama", "Abel AB, Acker BC, Baird CD, Bacon DE, Cobb EF, Crane FG."),
    ("seven2004", "ama", "Abel AB, Acker BC, Baird CD, et al."),
    ("thirty2005", "ama", "Abel AB, Acker BC, Baird CD, et al."),
    ("group2009", "vancouver", "Fixture Neuroendocrine Study Group."),
    ("partial2012", "vancouver", "Partial P, Part Q, et al."),
])
def test_author_lists_follow_the_style(selection, key, style, authors):
    assert entry(selection, key, style).startswith(authors + " ")


def test_a_chapter_names_its_editors_after_in(selection):
    assert ("In: Editor E, Second S, editors. The Book of Fixtures. Lyon: Fixture Press; "
            "2007. p. 13–24.") in entry(selection, "chapter2007", "vancouver")
    assert ("In: Editor E, Second S, eds. The Book of Fixtures. Fixture Press; 2007:13-24."
            ) in entry(selection, "chapter2007", "ama")


def test_a_work_without_pages_ends_at_its_year(selection):
    assert entry(selection, "nopages2006", "vancouver").endswith("Fixture Letters. 2006.")


@pytest.mark.parametrize("style", ["vancouver", "ama"])
@pytest.mark.parametrize("output", ["text", "markdown", "html"])
def test_a_work_with_nothing_to_print_keeps_its_place_and_says_so(selection, style, output):
    # a source known only by the page its figures were read on: pandoc prints its
    # number and nothing else, and the entries after it must not slide up a place
    bare = {"id": "bare-work", "type": "article-journal"}
    items = [selection.items[0], bare, selection.items[1]]
    first, middle, last = citeproc.entries(items, style, output)
    assert middle == "No author, title or journal verified yet (key bare-work)."
    assert (first, last) == tuple(citeproc.entries(
        [selection.items[0], selection.items[1]], style, output))


def test_numbers_are_the_selections_not_pandocs(selection):
    numbered = [(7, selection.items[0]), (12, selection.items[1])]
    text = citeproc.bibliography(numbered, "vancouver", "text")
    assert text.startswith("7. Abel AB") and "\n\n12. Abel AB" in text
    markdown = citeproc.bibliography(numbered, "vancouver", "markdown")
    assert markdown.startswith("7\\. Abel AB")   # not a list Markdown would renumber
    html = citeproc.bibliography(numbered, "vancouver", "html")
    assert '<li value="7" id="ref-trio2002">' in html


def test_chunks_rendered_in_parallel_give_the_same_list(selection):
    items = selection.items * 3
    items = [{**item, "id": f"{item['id']}-{n}"} for n, item in enumerate(items)]
    for output in ("text", "html"):
        whole = citeproc.entries(items, "vancouver", output, chunk=len(items))
        assert citeproc.entries(items, "vancouver", output, chunk=4, workers=2) == whole


@pytest.mark.parametrize("pandoc, style, message", [
    ("/bin/false", "vancouver", r"pandoc failed \(1\): "),
    ("/nonexistent/pandoc", "ama",
     r"pandoc did not run: \[Errno 2\] No such file or directory: '/nonexistent/pandoc'"),
], ids=["a failing pandoc", "a missing pandoc"])
def test_a_pandoc_that_gives_no_list_is_an_error_saying_why(selection, monkeypatch, pandoc,
                                                            style, message):
    monkeypatch.setattr(citeproc, "pandoc_path", lambda: pandoc)
    with pytest.raises(citeproc.CiteprocError, match=f"^{message}$"):
        citeproc.entries(selection.items, style)
