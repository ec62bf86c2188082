"""The served knowledge base, through Datasette's in-process client."""

import csv
import html
import re

from urllib.parse import quote

import pytest
import sqlite_utils
from datasette.plugins import get_plugins

import kb.db.build
from helpers import DATA, datasette_for, edit, getter


@pytest.fixture(scope="module")
def get(real_db):
    return getter(datasette_for(real_db))


def text_of(response):
    return html.unescape(response.text)


def test_plugin_is_registered_through_the_entry_point():
    plugin = next(p for p in get_plugins() if p["name"] == "nelm-kb")
    assert {"get_metadata", "render_cell", "extra_template_vars",
            "prepare_jinja2_environment", "register_output_renderer",
            "register_routes"} <= set(plugin["hooks"])


@pytest.fixture
def claims_settings(monkeypatch):
    """Our metadata with extra settings on the claims table: claims_settings(**settings)."""
    from kb.web import metadata

    declared = metadata.database_metadata()

    def ruled(**settings):
        tables = declared["database"]["tables"]
        changed = {**declared, "database": {**declared["database"], "tables": {
            **tables, "claims": {**tables["claims"], **settings}}}}
        metadata.forget()
        monkeypatch.setattr(metadata, "database_metadata", lambda: changed)
    yield ruled
    monkeypatch.undo()
    metadata.forget()


@pytest.fixture
def claims_allowed_to_nobody(claims_settings):
    """Our metadata, with an allow rule on the claims table that no actor meets."""
    claims_settings(allow={"id": "nobody"})


def test_an_allow_rule_in_our_metadata_still_refuses_its_table(real_db,
                                                               claims_allowed_to_nobody):
    """The permission check is given the tables' settings without their column
    descriptions, and obeys the allow rules among them."""
    get = getter(datasette_for(real_db))
    get("/kb/claims", status=403)
    get("/kb/claims.json", status=403)
    get("/kb/sources")


def test_a_facet_size_in_our_metadata_limits_its_tables_facets(real_db, claims_settings):
    """The tables' settings Datasette asks for keep facet_size, which the facets read."""
    page = getter(datasette_for(real_db))("/kb/claims.json?_facet=outcome")
    assert len(page.json()["facet_results"]["outcome"]["results"]) > 2
    claims_settings(facet_size=2)
    page = getter(datasette_for(real_db))("/kb/claims.json?_facet=outcome")
    assert len(page.json()["facet_results"]["outcome"]["results"]) == 2


@pytest.mark.parametrize("path", ["/", "/kb/claims", "/kb/sources/caplin2016",
                                  "/kb/search_claims?q=survival", "/kb/-/search?q=liver"])
def test_every_page_links_our_stylesheet(get, path):
    assert '<link rel="stylesheet" href="/-/kb.css">' in get(path).text


def test_our_stylesheet_is_served_as_css(get):
    css = get("/-/kb.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert "em.unverified" in css.text


def facet_names(page_text):
    return re.findall(r'<p class="facet-info-name">\s*<strong>([\w_]+)', page_text)


def test_a_table_search_lists_its_matches_with_a_link_to_their_counts(get):
    searched = get("/kb/claims?_search=survival").text
    assert facet_names(searched) == [] and "jagannath2012-c05" in get(
        "/kb/claims?_search=survival+untreated").text
    link = re.search(r'class="kb-count-link">.*?by outcome, population, [^:]*: '
                     r'<a href="([^"]+)">count them</a>', searched).group(1)
    assert html.unescape(link) == "/kb/claims?_search=survival&_counts=on"
    counted = get(html.unescape(link)).text
    declared = {"outcome", "population", "intervention", "timepoint", "kind", "trail",
                "numbers_in_source"}
    assert set(facet_names(counted)) == declared
    assert "kb-count-link" not in counted
    # the page's own links keep it uncounted; a filter or no search keeps the counts
    assert "_nofacet=1" in searched and "_nofacet" not in counted
    # a search of one column is a search too
    assert "kb-count-link" in get("/kb/claims?_search_statement=survival").text
    assert set(facet_names(get("/kb/claims").text)) == declared
    assert set(facet_names(get("/kb/claims?outcome=overall-survival").text)) == declared
    assert not get("/kb/claims.json?_search=survival").json()["facet_results"]
    assert get("/kb/claims.json?_search=survival&_counts=on").json()["facet_results"]


def test_database_page_lists_tables_and_canned_queries(get):
    page = text_of(get("/kb"))
    for title in ("Search claims", "Claims for an outcome", "Reference list of a review",
                  "Claims that rest on a work"):
        assert title in page
    assert "Data CC BY 4.0" in page


def test_default_facets(get):
    claims = get("/kb/claims.json").json()
    assert set(claims["facet_results"]) == {"outcome", "population", "intervention",
                                            "timepoint", "kind", "trail",
                                            "numbers_in_source"}
    kinds = {r["value"]: r["count"] for r in claims["facet_results"]["kind"]["results"]}
    assert set(kinds) == {"quantitative", "qualitative"}
    sources = get("/kb/sources.json").json()
    assert set(sources["facet_results"]) == {"pub_type", "year"}


@pytest.mark.parametrize("path, shown", [
    ("/kb/claims", ["Who the claim is about (its denominator)."]),
    ("/kb/claims?id=jagannath2012-c05", ['<a href="/kb/sources/jagannath2012">Jagannath 2012: '
                                         "Surgical Treatment of Liver Metastases in "
                                         "Neuroendocrine Neoplasms</a>"]),
    ("/kb/sources/cavalcoli2017", [
        '<a href="https://pubmed.ncbi.nlm.nih.gov/28487601/">28487601</a>',
        '<a href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5403743/">',
        '<a href="https://doi.org/10.3748/wjg.v23.i15.2640">']),
    ("/kb/sources/stump2013", ['<a href="https://pmc.ncbi.nlm.nih.gov/articles/PMC3875902">'
                               "https://pmc.ncbi.nlm.nih.gov/articles/PMC3875902</a>"]),
    ("/kb/claims_resting_on?work=touzios", [
        '<a href="/kb/claims/jagannath2012-c05">jagannath2012-c05</a>',
        '<a href="/kb/sources/jagannath2012">jagannath2012</a>']),
], ids=["column descriptions are shown", "foreign keys show labels",
        "identifiers link to PubMed, PMC and DOI", "verified_from addresses are links",
        "canned query pages show links"])
def test_the_page_shows(get, path, shown):
    page = text_of(get(path))
    for html_text in shown:
        assert html_text in page


def test_claim_page_shows_its_source_and_what_it_rests_on(get):
    page = text_of(get("/kb/claims/jagannath2012-c05"))
    stated_in = page.index("<h2>Stated in</h2>")
    rests_on = page.index("<h2>Rests on</h2>")
    assert '<a href="/kb/sources/jagannath2012">' in page[stated_in:rests_on]
    assert '[10]</span>' in page[rests_on:]
    assert '<a href="/kb/sources/touzios">Touzios (title not yet known)</a>' in page[rests_on:]


def test_claim_page_says_when_the_cited_entry_is_unknown(get):
    page = text_of(get("/kb/claims/jagannath2012-c06"))
    assert page.count("list entry not yet known") == 5  # refs 11-15


def test_source_page_lists_its_claims_and_reference_list(get):
    page = text_of(get("/kb/sources/cavalcoli2017"))
    assert "Claims stated in this work" in page
    assert '<a href="/kb/claims/cavalcoli2017-c01">cavalcoli2017-c01</a>' in page
    reference_list = page[page.index("<h2>Reference list</h2>"):]
    assert '<a href="/kb/sources/modlin2003">Modlin 2003' in reference_list


def test_cited_work_page_lists_claims_resting_on_it(get):
    page = text_of(get("/kb/sources/touzios"))
    resting = page[page.index("Claims that rest on this work"):]
    assert '<a href="/kb/claims/jagannath2012-c05">' in resting


def test_blank_identifiers_show_as_unverified(get):
    page = text_of(get("/kb/sources/touzios"))
    assert page.count('class="unverified"') == 3  # pmid, pmcid, doi


def test_table_search_finds_every_match(get):
    # all the matches, not one page of kb serve's 50
    rows = get("/kb/claims.json?_search=metastatic&_size=max&_shape=objects").json()["rows"]
    matches = get("/kb.json?sql=select+claims.id+from+claims_fts+join+claims+on+claims.rowid"
                  "+%3D+claims_fts.rowid+where+claims_fts+match+'metastatic'&_shape=objects"
                  ).json()["rows"]
    assert len(rows) == len(matches) > 50
    assert {r["id"] for r in rows} == {r["id"] for r in matches}
    assert "cazzato2021-c03" in {r["id"] for r in rows}


def test_canned_query_search_claims(get):
    rows = get("/kb/search_claims.json?q=review+5-year+survival+liver+metastases"
               "&_shape=objects").json()["rows"]
    ids = {r["claim_id"] for r in rows}
    assert {"jagannath2012-c05", "jagannath2012-c06"} <= ids


def test_canned_query_search_survives_search_syntax(get):
    rows = get("/kb/search_claims.json?q=13-54%25+%22untreated&_shape=objects").json()["rows"]
    assert [r["claim_id"] for r in rows] == ["jagannath2012-c05"]


def test_canned_query_claims_for_an_outcome_keeps_denominators_apart(get):
    rows = get("/kb/claims_for_outcome.json?outcome=liver-metastases&_shape=objects"
               ).json()["rows"]
    by_id = {r["claim_id"]: r for r in rows}
    assert by_id["jagannath2012-c01"]["population"] == "nen"
    assert by_id["cazzato2021-c03"]["population"] == "metastatic-gep-nen"
    assert by_id["jagannath2012-c01"]["value"] == 10
    assert by_id["cazzato2021-c03"]["value"] == 80


def test_canned_query_reference_list(get):
    rows = get("/kb/reference_list.json?review=jagannath2012&_shape=objects").json()["rows"]
    assert [r["ref_number"] for r in rows] == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    entry = {r["ref_number"]: r for r in rows}
    assert entry[10]["cited_key"] == "touzios" and entry[10]["claims_citing"] == 1
    assert entry[11]["status"] == "entry not yet known"
    assert entry[1]["status"] == "identified"


def test_canned_query_claims_resting_on_a_work(get):
    rows = get("/kb/claims_resting_on.json?work=touzios&_shape=objects").json()["rows"]
    assert [(r["claim_id"], r["ref_number"]) for r in rows] == [("jagannath2012-c05", 10)]


def test_sql_editor(get):
    rows = get("/kb.json?sql=select+count(*)+as+n+from+claims&_shape=objects").json()["rows"]
    with open(DATA / "claims.csv", encoding="utf-8") as f:
        assert rows[0]["n"] == len(list(csv.DictReader(f)))
    assert "Custom SQL query" in get("/kb?sql=select+1").text


def test_claim_evidence_view_page(get):
    page = text_of(get("/kb/claim_evidence?claim_id=jagannath2012-c06"))
    assert page.count("reference not yet known") >= 5


def test_markup_in_data_is_escaped(tmp_path, data_dir):
    data = data_dir
    edit(data / "claims.csv", "Surgery is the preferred option.",
         "Surgery <script>alert(1)</script> is preferred.")
    db_path = tmp_path / "kb.db"
    kb.db.build.build(db_path, data)
    page = getter(datasette_for(db_path))("/kb/sources/alpha2001").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_other_databases_are_left_alone(tmp_path):
    other = tmp_path / "other.db"
    sqlite_utils.Database(other)["things"].insert({"pmid": "123", "doi": "10.1/x"})
    get = getter(datasette_for(other))
    page = get("/other/things").text
    assert "pubmed.ncbi.nlm.nih.gov" not in page
    assert "Search claims" not in get("/other").text


def test_whole_numbers_show_without_a_decimal_point(get):
    page = text_of(get("/kb/claims/jagannath2012-c05"))
    assert '<td class="type-float">13</td>' in page
    assert "13.0" not in page
    page = text_of(get("/kb/claims/modlin2003-c04"))
    assert '<td class="type-float">67.5</td>' in page


def test_the_plot_of_an_outcome_offers_one_intervention_at_a_time(get):
    # overall survival is reported after resection, transplantation, embolization, ...:
    # the page links a plot per intervention, and that plot holds exactly its claims
    page = get("/kb/-/plot/outcome/overall-survival").text
    link = "/kb/-/plot/outcome/overall-survival?intervention=transplantation"
    assert f'href="{link}"' in page
    expected = get("/kb.json?sql=select+id+from+claims+where+outcome='overall-survival'"
                   "+and+intervention='transplantation'+and+kind='quantitative'+and+"
                   "coalesce(value,low,high)+is+not+null&_shape=objects").json()["rows"]
    assert len(expected) >= 5
    svg = get(link.replace("survival?", "survival.svg?")).text
    shown = sorted(re.findall(r'class="kb-bar(?: conflict)?" data-claim="([^"]+)"', svg))
    assert shown == sorted(r["id"] for r in expected)
    assert "(transplantation)" in svg                      # the tooltips name it
    narrowed = get(link).text
    assert 'href="/kb/-/plot/outcome/overall-survival">Every intervention</a>' in narrowed
    assert "One intervention at a time" not in narrowed


@pytest.mark.parametrize("query, title", [
    ("search_claims?q=survival", "Search claims"),
    ("claims_for_outcome?outcome=liver-metastases", "Claims for an outcome"),
    ("reference_list?review=jagannath2012", "Reference list of a review"),
    ("claims_resting_on?work=touzios", "Claims that rest on a work")])
def test_canned_queries_hide_their_sql_and_have_titles_in_words(get, query, title):
    page = get(f"/kb/{query}").text
    assert re.search(r"<title>\s*(.*?)\s*</title>", page, re.S).group(1) == f"{title} · kb"
    assert "<textarea" not in page.split("<table")[0]


@pytest.mark.parametrize("path", ["/", "/kb"])
def test_the_front_door_answers_the_questions_first(get, path):
    page = text_of(get(path))
    assert re.search(r"<title>\s*nelm-kb: evidence on liver metastases of GEP-NEN", page)
    assert page.index("Guideline questions") < page.index("Outcomes") < page.index(
        "For power users")
    assert 'href="/kb/-/question/os-5y-resection"' in page
    row = re.search(r'<tr data-question="os-5y-resection">(.*?)</tr>', page, re.S).group(1)
    assert re.search(r"\d+ % \(\d+–\d+\), \d+ studies", row) and "very low" in row
    assert re.search(r'href="/kb/claims\?outcome=overall-survival"[^>]*>overall-survival'
                     r'</a> \(\d+\)', page)
    assert 'action="/kb/-/search"' in page and 'name="q"' in page


@pytest.mark.parametrize("path, status", [("/kb/no_such_table", 404),
                                          ("/kb/claims?outcome=overal-survival", 400)])
def test_an_error_page_keeps_the_sites_frame_and_a_way_back(get, path, status):
    page = get(path, status=status).text
    assert '<nav class="kb-way-back">' in page and '<a href="/">the front door</a>' in page


def test_one_ranked_search_finds_claims_sources_and_questions_with_synonyms(get):
    page = get("/kb/-/search?q=hepatectomy").text
    kinds = re.findall(r'<li data-kind="(\w+)">', page)
    assert kinds and set(kinds) <= {"claim", "source", "question"}
    # hepatectomy is a synonym of resection: claims coded resection are found
    assert "<mark>resection</mark>" in page.lower() or "<mark>hepatectomy</mark>" in page.lower()
    kinds = set()
    for words in ("alive+transplantation", "liver+transplantation+neuroendocrine"):
        kinds |= set(re.findall(r'<li data-kind="(\w+)">', get(f"/kb/-/search?q={words}").text))
    assert {"claim", "source", "question"} <= kinds


@pytest.mark.parametrize("words", ['"unbalanced', "NOT", "*", "a OR"])
def test_the_search_reads_any_words_without_an_error(get, words):
    page = get("/kb/-/search?q=" + quote(words)).text
    assert "Search the evidence" in page


def test_a_search_that_finds_nothing_says_so(get):
    assert "Nothing matches zzzqqq." in html.unescape(get("/kb/-/search?q=zzzqqq").text)
