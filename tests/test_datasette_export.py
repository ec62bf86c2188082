"""Export in the browser: the .bib/.ris/.csljson renderers, the download routes that export
whole selections, and the export box on the pages. Through Datasette's in-process client,
on the export fixture (tests/fixtures/export) with a page size small enough that a
renderer sees only part of a selection."""

from __future__ import annotations

import asyncio
import html
import json
import re

import pytest

from helpers import datasette_for, getter


@pytest.fixture(scope="module")
def get(export_db):
    # kb serve's settings but for the page size: 2 rows a page (not 50), so that a
    # renderer sees only part of the 13 sources and a download must export them all
    return getter(datasette_for(export_db, default_page_size=2))


def bib_keys(text: str) -> list[str]:
    return re.findall(r"^@\w+\{([^,]+),", text, re.M)


# -- renderers --------------------------------------------------------------------------


def test_sources_page_renders_as_bibtex_its_own_rows(get):
    response = get("/kb/sources.bib?_sort=key")
    assert response.headers["content-type"].startswith("application/x-bibtex")
    assert bib_keys(response.text) == ["book2008", "chapter2007"]   # one page of 2


def test_sources_page_renders_as_ris_and_csl_json(get):
    ris = get("/kb/sources.ris?_sort=key&key=solo2001").text
    assert ris.startswith("TY  - JOUR\nID  - solo2001\nAU  - Solo, S.")
    assert "AN  - 10000001" in ris
    items = json.loads(get("/kb/sources.csljson?key=trio2002").text)
    assert items[0]["id"] == "trio2002" and items[0]["PMCID"] == "PMC1000002"


def test_claims_render_the_works_behind_them(get):
    text = get("/kb/claims.bib?id=review2013-c04").text
    assert bib_keys(text) == ["review2013", "chapter2007", "thirty2005"]


def test_claim_evidence_view_renders_the_works_behind_its_claims(get):
    response = get("/kb/claim_evidence.csljson?claim_id=review2013-c02")
    assert [i["id"] for i in json.loads(response.text)] == ["review2013", "solo2001"]
    assert "entries 3 of review2013's list are not yet known" in response.headers[
        "x-kb-not-exported"]


def test_any_query_with_a_key_column_renders(get):
    sql = "select key from sources where year >= 2011 order by year"
    response = get(f"/kb.ris?sql={sql}")
    assert re.findall(r"^ID  - (.+)$", response.text, re.M) == [
        "ristags2011", "partial2012", "review2013"]


def test_rows_without_the_columns_get_a_400_naming_them(get):
    response = get("/kb/vocabulary.bib", status=400)
    assert "need a column claim_id (claims), key (sources), or source_key / cited_key" in (
        response.text)
    assert "they have field, term, definition" in response.text
    get("/kb.csljson?sql=select 1 as x", status=400)


def test_renderer_links_show_only_where_they_can_render(get):
    assert 'href="/kb/sources.bib' in get("/kb/sources").text
    assert 'href="/kb/claim_evidence.csljson' in get("/kb/claim_evidence").text
    assert ".bib" not in get("/kb/vocabulary").text


# -- download routes: whole selections --------------------------------------------------


def test_every_source_downloads_as_bibtex(get):
    response = get("/kb/-/export/sources.bib")
    assert len(bib_keys(response.text)) == 13        # not just the page of 2
    assert response.headers["content-disposition"] == 'attachment; filename="sources.bib"'


def test_filtered_sources_download_follows_the_tables_filters(get):
    text = get("/kb/-/export/sources.json?pub_type=journal-article&year__gte=2005").text
    assert sorted(i["id"] for i in json.loads(text)) == [
        "latex2010", "nopages2006", "partial2012", "ristags2011", "thirty2005"]


def test_a_reviews_reference_list_downloads_with_its_own_numbers(get):
    response = get("/kb/-/export/reference-list/review2013.vancouver.txt")
    assert response.headers["content-type"].startswith("text/plain")
    numbers = re.findall(r"^(\d+)\. ", response.text, re.M)
    assert numbers == ["1", "2", "4", "5", "6"]
    assert response.headers["x-kb-not-exported"] == (
        "entries 3 of review2013's list are not yet known")


def test_works_behind_claims_download_by_id_or_by_filter(get):
    by_id = get("/kb/-/export/claims.ris?claim=review2013-c04&claim=review2013-c01").text
    assert re.findall(r"^ID  - (.+)$", by_id, re.M) == [
        "review2013", "chapter2007", "thirty2005", "seven2004"]
    by_outcome = get("/kb/-/export/claims.bib?outcome=liver-metastases").text
    assert bib_keys(by_outcome) == ["review2013", "seven2004"]
    by_where = get("/kb/-/export/claims.json?_where=value%20%3E%2050").text
    assert [i["id"] for i in json.loads(by_where)] == ["review2013", "seven2004"]


def test_formatted_lists_download_as_text_markdown_and_html(get):
    md = get("/kb/-/export/claims.ama.md?outcome=overall-survival")
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# References behind the claims: outcome overall-survival\n\n"
                              "1. Review R, Writer W.")
    page = get("/kb/-/export/sources.vancouver.html").text
    assert page.startswith("<!DOCTYPE html>") and page.count("<li value=") == 13


def test_evidence_table_downloads(get):
    response = get("/kb/-/export/evidence-table.csv?claim=review2013-c03")
    assert response.headers["content-disposition"] == (
        'attachment; filename="1-chosen-evidence-table.csv"')
    assert "'=HYPERLINK(" in response.text
    page = get("/kb/-/export/evidence-table.html?outcome=overall-survival").text
    assert '<td class="col-claim">review2013-c02</td>' in page
    assert '<td class="col-claim">review2013-c04</td>' in page


@pytest.mark.parametrize("url, status, message", [
    ("/kb/-/export/sources.docx", 404, "unknown export .docx: use one of .bib"),
    ("/kb/-/export/reference-list/nobody.bib", 404, "no such source: nobody"),
    ("/kb/-/export/claims.bib?claim=nope-c01", 400, "no such claim: nope-c01"),
    ("/kb/-/export/claims.bib?_where=bogus%3D1", 400, "no such column: bogus"),
    ("/kb/-/export/sources.vancouver.csv", 404, "unknown export .vancouver.csv"),
    ("/kb/-/export/evidence-table.bib", 404, "an evidence table is .md, .csv or .html"),
])
def test_bad_export_requests_say_what_is_wrong(get, url, status, message):
    assert message in get(url, status=status).text


# -- the export box on the pages --------------------------------------------------------


def export_box(page: str) -> str:
    found = re.search(r'<section class="kb-export".*?</section>', page, re.S)
    return html.unescape(found.group(0)) if found else ""


@pytest.mark.parametrize("url, title, link", [
    ("/kb/sources", "Export every source", "/kb/-/export/sources.bib"),
    ("/kb/sources?pub_type=chapter", "Export these sources",
     "/kb/-/export/sources.ris?pub_type=chapter"),
    ("/kb/claims?outcome=overall-survival", "Export the works behind these claims",
     "/kb/-/export/evidence-table.csv?outcome=overall-survival"),
    ("/kb/claim_evidence", "Export the works behind these claims",
     "/kb/-/export/claim_evidence.vancouver.txt"),
    ("/kb/claims/review2013-c02", "Export the works behind this claim",
     "/kb/-/export/claims.bib?claim=review2013-c02"),
    ("/kb/sources/review2013", "Export this work's reference list",
     "/kb/-/export/reference-list/review2013.ama.html"),
    ("/kb/reference_list?review=review2013", "Export the reference list of review2013",
     "/kb/-/export/reference-list/review2013.json"),
    ("/kb/claims_for_outcome?outcome=liver-metastases",
     "Export the works behind the claims about liver-metastases",
     "/kb/-/export/claims.bib?outcome=liver-metastases"),
])
def test_pages_offer_an_export_box(get, url, title, link):
    box = export_box(get(url).text)
    assert title in box
    assert f'href="{link}"' in box
    get(link)   # and the link works


def test_a_work_without_a_reference_list_offers_none(get):
    assert export_box(get("/kb/sources/solo2001").text) == ""


# -- limits ------------------------------------------------------------------------------


def test_a_formatted_list_over_the_cap_is_refused_with_the_ways_out(get, monkeypatch):
    from kb.web import export_routes as datasette_export

    monkeypatch.setattr(datasette_export, "MAX_FORMATTED", 2)
    response = get("/kb/-/export/sources.vancouver.txt", status=413)
    assert "more than a formatted list served here holds (2)" in response.text
    assert "kb export --format vancouver" in response.text
    assert bib_keys(get("/kb/-/export/sources.bib").text)   # BibTeX has no such cap


def test_formatted_lists_are_rendered_one_at_a_time(export_db, monkeypatch):
    import threading
    import time

    from kb.export import formats

    datasette = datasette_for(export_db)
    running, most = [0], [0]
    lock = threading.Lock()
    real_render = formats.render

    def render(*args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        try:
            return real_render(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(formats, "render", render)

    async def burst(urls):
        return await asyncio.gather(*(datasette.client.get(u) for u in urls))

    styled = asyncio.run(burst(["/kb/-/export/sources.vancouver.txt",
                                "/kb/-/export/sources.ama.md"] * 3))
    assert [r.status_code for r in styled] == [200] * 6 and most[0] == 1
    most[0] = 0
    plain = asyncio.run(burst(["/kb/-/export/sources.bib", "/kb/-/export/sources.ris"] * 3))
    assert [r.status_code for r in plain] == [200] * 6 and most[0] > 1


@pytest.mark.parametrize("path, name", [
    ("/kb/-/export/claims.bib?outcome=overall-survival&timepoint=5+years",
     "overall-survival-5-years-claims.bib"),
    ("/kb/-/export/reference-list/review2013.ris", "review2013-references.ris"),
    ("/kb/-/export/sources.bib?pub_type=chapter", "chapter-sources.bib"),
    ("/kb/-/export/sources.bib", "sources.bib"),
])
def test_a_download_is_named_for_its_selection(get, path, name):
    disposition = get(path).headers["content-disposition"]
    assert disposition.endswith(f'filename="{name}"')
