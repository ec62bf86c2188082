"""The served pages in a real headless Chromium, as a new user would click through them.

Screenshots are kept in tests/artifacts/ for a person to look at.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from helpers import DATA, HOSTILE_PAGES, copy_with_records, kb_serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    with kb_serve(tmp_path_factory.mktemp("browser") / "kb.db", DATA) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    assert os.path.exists(CHROMIUM), (
        "Chromium is needed for the browser tests: apt-get install chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_follow_a_claim_to_the_work_it_rests_on(page, base_url):
    page.goto(base_url + "/kb/claims/jagannath2012-c05")
    expect(page.locator("h2", has_text="Rests on")).to_be_visible()
    shot(page, "claim-jagannath2012-c05")
    rests_on = page.locator("section.kb-panel", has_text="Rests on")
    rests_on.get_by_role("link", name="Touzios (title not yet known)").click()
    expect(page).to_have_url(base_url + "/kb/sources/touzios")
    resting = page.locator("section.kb-panel", has_text="Claims that rest on this work")
    expect(resting.get_by_role("link", name="jagannath2012-c05")).to_be_visible()
    expect(page.locator("em.unverified").first).to_have_text("unverified")
    shot(page, "source-touzios")


def test_source_page_lists_claims_and_links_pubmed(page, base_url):
    page.goto(base_url + "/kb/sources/cavalcoli2017")
    expect(page.get_by_role("link", name="28487601", exact=True)).to_have_attribute(
        "href", "https://pubmed.ncbi.nlm.nih.gov/28487601/")
    claims = page.locator("section.kb-panel", has_text="Claims stated in this work")
    expect(claims.get_by_role("link", name="cavalcoli2017-c01")).to_be_visible()
    shot(page, "source-cavalcoli2017")


def test_claim_list_facets_and_search(page, base_url):
    page.goto(base_url + "/kb/claims")
    facet = page.locator(".facet-info", has_text="outcome").get_by_role(
        "link", name="liver-metastases", exact=True)
    facet.click()
    expect(page).to_have_url(base_url + "/kb/claims?outcome=liver-metastases")
    expect(page.locator("td.col-outcome").first).to_have_text("liver-metastases")
    shot(page, "claims-facet-outcome")
    page.goto(base_url + "/kb/claims")
    page.fill("input#_search", "survival untreated")
    page.press("input#_search", "Enter")
    expect(page).to_have_url(re.compile(r"/kb/claims\?_search=survival\+untreated"))
    expect(page.locator("td.col-id", has_text="jagannath2012-c05")).to_be_visible()
    shot(page, "claims-search")


@pytest.mark.parametrize("query, field, value, expected", [
    ("search_claims", "q", "5-year survival", "jagannath2012-c05"),
    ("claims_for_outcome", "outcome", "liver-metastases", "cazzato2021-c03"),
    ("reference_list", "review", "jagannath2012", "Touzios et al."),
    ("claims_resting_on", "work", "touzios", "jagannath2012-c05"),
])
def test_canned_query_forms(page, base_url, query, field, value, expected):
    page.goto(f"{base_url}/kb/{query}")
    page.fill(f"input[name={field}]", value)
    page.locator("input[type=submit]").first.click()
    expect(page.locator("table.rows-and-columns")).to_contain_text(expected)
    shot(page, f"query-{query}")


def test_sql_editor(page, base_url):
    page.goto(base_url + "/kb?sql=select+outcome,+count(*)+as+n+from+claims+group+by+outcome")
    expect(page.locator("table.rows-and-columns")).to_contain_text("liver-metastases")
    shot(page, "sql-editor")


def test_export_an_evidence_table_for_a_facet(page, base_url):
    page.goto(base_url + "/kb/claims")
    page.locator(".facet-info", has_text="outcome").get_by_role(
        "link", name="overall-survival", exact=True).click()
    box = page.locator("section.kb-export")
    expect(box).to_contain_text("Export the works behind these claims")
    shot(page, "claims-export-box")
    box.locator(".kb-export-group", has_text="Evidence table").get_by_role(
        "link", name="HTML").click()
    expect(page).to_have_url(base_url + "/kb/-/export/evidence-table.html"
                                        "?outcome=overall-survival")
    row = page.locator("tr", has_text="jagannath2012-c05")
    expect(row).to_contain_text("13–54%")
    expect(row).to_contain_text(re.compile(r"Jagannath 2012 \[\d+\]"))
    expect(row).to_contain_text(re.compile(r"Touzios \[\d+\]"))
    # each number in the row is the reference of that number in the list below
    text = row.inner_text()
    for name, listed in (("Jagannath 2012", "Jagannath P, et al."), ("Touzios", "Touzios")):
        number = re.search(re.escape(name) + r" \[(\d+)\]", text).group(1)
        expect(page.locator(f'ol.references li[value="{number}"]')).to_contain_text(listed)
    shot(page, "evidence-table-overall-survival")


def test_download_a_reviews_reference_list_as_bibtex(page, base_url):
    page.goto(base_url + "/kb/sources/jagannath2012")
    box = page.locator("section.kb-export")
    expect(box).to_contain_text("Export this work's reference list")
    with page.expect_download() as info:
        box.get_by_role("link", name="BibTeX").click()
    download = info.value
    assert download.suggested_filename == "jagannath2012-references.bib"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert "@article{rindi2006," in text and "@incollection{talamonti2004," in text


def test_this_data_as_bib_on_the_sources_page(page, base_url):
    page.goto(base_url + "/kb/sources?pub_type=chapter")
    with page.expect_download() as info:
        page.locator("p.export-links").get_by_role("link", name="bib").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    kinds = re.findall(r"^@(\w+)\{", text, re.M)
    chapters = sum(1 for line in (DATA / "references.csv").read_text().splitlines()
                   if ",chapter," in line)
    assert kinds == ["incollection"] * chapters and chapters >= 2


# -- trails and plots ------------------------------------------------------------------


def test_follow_a_trail_from_a_review_claim_to_the_cited_work(page, base_url):
    page.goto(base_url + "/kb/claims/jagannath2012-c05")
    trail = page.locator("section.kb-trail")
    expect(trail.locator("li.hop")).to_have_count(1)
    expect(trail.locator(".kb-status")).to_have_text("unverified")
    expect(trail.locator(".kb-trail-summary")).to_have_text("unverified")
    shot(page, "trail-jagannath2012-c05")
    trail.get_by_role("link", name="Touzios (title not yet known)").click()
    expect(page).to_have_url(base_url + "/kb/sources/touzios")


def test_the_75_99_claim_shows_five_unknown_entries(page, base_url):
    page.goto(base_url + "/kb/claims/jagannath2012-c06")
    hops = page.locator("section.kb-trail li.hop")
    expect(hops).to_have_count(5)
    expect(hops.first).to_contain_text("entry 11 of the list: not yet known")
    shot(page, "trail-jagannath2012-c06")


def rows(page, base_url, sql):
    """The rows of a query against the served database, through Datasette's JSON API."""
    answer = page.request.get(base_url + "/kb.json", params={"sql": sql, "_shape": "array"})
    assert answer.ok, answer.text()
    return answer.json()


def test_open_the_plot_from_a_claim_and_click_a_conflicting_bar(page, base_url):
    # what the plot must show, asked of the same database: one bar per claim with a
    # figure, and the claims in a conflict marked
    bars = rows(page, base_url, "select id from claims where outcome = 'liver-metastases' "
                "and coalesce(value, low, high) is not null")
    conflicting = rows(page, base_url, "select claim_a as id from claim_conflicts where "
                       "outcome = 'liver-metastases' union select claim_b from "
                       "claim_conflicts where outcome = 'liver-metastases'")
    partners = rows(page, base_url, "select claim_b as id from claim_conflicts where "
                    "claim_a = 'cazzato2021-c03' union select claim_a from claim_conflicts "
                    "where claim_b = 'cazzato2021-c03'")
    assert len(bars) > len(conflicting) >= 3 and partners
    page.goto(base_url + "/kb/claims/jagannath2012-c01")
    page.get_by_role("link", name="Evidence range plot for liver-metastases").click()
    expect(page).to_have_url(base_url + "/kb/-/plot/outcome/liver-metastases")
    figure = page.locator("figure.kb-plot svg")
    expect(figure).to_be_visible()
    expect(figure.locator("a.kb-bar")).to_have_count(len(bars))
    expect(figure.locator("a.conflict")).to_have_count(len(conflicting))
    box = figure.bounding_box()
    assert box["width"] > 600 and box["height"] > 200
    shot(page, "plot-liver-metastases")
    figure.locator('a[data-claim="cazzato2021-c03"] circle').click()
    expect(page).to_have_url(base_url + "/kb/claims/cazzato2021-c03")
    for partner in partners:
        expect(page.locator("ul.kb-claim-conflicts")).to_contain_text(partner["id"])
    shot(page, "claim-cazzato2021-c03-conflicts")


@pytest.fixture(scope="module")
def evidence_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-evidence")
    with kb_serve(root / "kb.db", copy_with_records("evidence", root / "data")) as url:
        yield url


def test_follow_a_two_hop_trail_to_primary_data(page, evidence_url):
    page.goto(evidence_url + "/kb/claims/review2020-c03")
    hops = page.locator("section.kb-trail li.hop")
    expect(hops).to_have_count(2)
    expect(hops.nth(0).locator(".kb-status")).to_have_text("matches")
    expect(hops.nth(1)).to_contain_text("via review2018-c01")
    # the second hop is drawn indented under the first
    assert hops.nth(1).bounding_box()["x"] > hops.nth(0).bounding_box()["x"]
    shot(page, "trail-two-hops")
    hops.nth(1).get_by_role("link", name=re.compile("^Old 2010")).click()
    expect(page).to_have_url(evidence_url + "/kb/sources/primary2010")


def test_a_distortion_is_red_on_the_claim_page(page, evidence_url):
    page.goto(evidence_url + "/kb/claims/review2020-c02")
    status = page.locator("section.kb-trail .kb-status")
    expect(status).to_have_text("differs")
    assert status.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(192, 57, 43)"
    shot(page, "trail-differs")


# Defined before any page script runs: a payload that gets to run calls it
RECORD_XSS = "window.kbXssCalls = []; window.kbXss = (label) => window.kbXssCalls.push(label);"


@pytest.mark.parametrize("path", HOSTILE_PAGES)
def test_injected_scripts_never_run(browser, hostile_url, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(RECORD_XSS)
    try:
        response = page.goto(hostile_url + path, wait_until="load")
        assert response.status == 200
        page.wait_for_timeout(100)   # an onerror fires once the broken image fails
        calls = page.evaluate("window.kbXssCalls")
        assert calls == [] and dialogs == [], (path, calls, dialogs)
    finally:
        page.close()


def test_an_injected_statement_reads_as_text_on_its_claim_page(page, hostile_url):
    page.add_init_script(RECORD_XSS)
    page.goto(hostile_url + "/kb/claims/primary2015-c01")
    trail = page.locator("section.kb-trail")
    expect(trail).to_contain_text("<script>kbXss('statement')</script> Five-year survival")
    expect(page.locator("table.kb-record td").filter(
        has_text="onerror=kbXss('locator')")).to_have_count(1)
    assert page.evaluate("window.kbXssCalls") == []
    shot(page, "hostile-claim")


def test_the_injection_check_sees_a_payload_that_does_run(page, hostile_url):
    """The canary: the same check on a page that does run a payload finds it."""
    page.route(hostile_url + "/canary", lambda route: route.fulfill(
        body="<p>x</p><img src=x onerror=\"kbXss('canary')\">", content_type="text/html"))
    page.add_init_script(RECORD_XSS)
    page.goto(hostile_url + "/canary", wait_until="load")
    page.wait_for_timeout(100)
    assert page.evaluate("window.kbXssCalls") == ["canary"]


# -- guideline questions ---------------------------------------------------------------


def test_answer_five_year_survival_after_resection_and_follow_a_study(page, base_url):
    """The guideline writer's question on the shipped data: the answer, its certainty,
    and a click from the forest plot to the claim and the page that states it."""
    page.goto(base_url + "/kb/-/question/os-5y-resection")
    expect(page.locator(".kb-answer .kb-estimate")).to_contain_text("% (95% CI")
    expect(page.locator(".kb-certainty")).to_contain_text("very low")
    rows = page.locator("figure.kb-forest a.kb-forest-row")
    pooled = page.locator("table.kb-profile tr.included")
    assert rows.count() == pooled.count() >= 3
    expect(page.locator("figure.kb-forest .kb-forest-diamond")).to_have_count(1)
    shot(page, "question-os-5y-resection")
    claim_id = rows.first.get_attribute("data-claim")
    rows.first.click()
    expect(page).to_have_url(base_url + "/kb/claims/" + claim_id)
    expect(page.locator("table.kb-record")).to_contain_text("verified_from")


def test_a_flagged_figure_is_marked_on_the_question_page(page, base_url):
    page.goto(base_url + "/kb/-/question/os-5y-embolization")
    flagged = page.locator("table.kb-profile tr", has=page.locator(".kb-flag"))
    expect(flagged.first).to_contain_text("cannot go that way")


# -- the front door: the three tasks of a new user, each within three clicks ------------


def test_five_year_survival_after_resection_is_one_click_from_the_front_door(page, base_url):
    page.goto(base_url + "/")
    page.locator('tr[data-question="os-5y-resection"] a').click()
    expect(page).to_have_url(base_url + "/kb/-/question/os-5y-resection")
    expect(page.locator(".kb-answer .kb-estimate")).to_contain_text("% (95% CI")
    shot(page, "front-door-resection")


def test_sources_disagreeing_on_liver_metastases_are_three_clicks_away(page, base_url):
    page.goto(base_url + "/")
    page.locator("ul.kb-outcomes").get_by_role("link", name="liver-metastases",
                                              exact=True).click()              # 1
    expect(page).to_have_url(base_url + "/kb/claims?outcome=liver-metastases")
    page.locator("p.kb-plot-link a").click()                                   # 2
    expect(page.locator("ul.kb-conflicts li").first).to_be_visible()
    conflict = page.locator("ul.kb-conflicts li").first
    claim = conflict.locator("a").first.text_content()
    conflict.locator("a").first.click()                                        # 3
    expect(page).to_have_url(base_url + "/kb/claims/" + claim)
    expect(page.locator("ul.kb-claim-conflicts")).to_be_visible()


def test_a_vancouver_list_on_transplantation_is_two_clicks_away(page, base_url):
    page.goto(base_url + "/")
    page.locator("ul.kb-interventions").get_by_role("link", name="transplantation",
                                                   exact=True).click()         # 1
    expect(page).to_have_url(base_url + "/kb/claims?intervention=transplantation")
    link = page.locator("section.kb-export .kb-export-group", has_text="Vancouver") \
        .get_by_role("link", name="text")
    href = link.get_attribute("href")
    response = page.request.get(base_url + href)                                # 2
    assert response.status == 200
    text = response.text()
    assert re.match(r"1\. ", text) and "Le Treut YP" in text
    assert "[Incomplete: no" in text   # the gaps are in the list itself


def test_the_claims_table_fits_a_1400_pixel_screen_and_reads_in_short_rows(browser,
                                                                           base_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(base_url + "/kb/claims")
        table = page.locator("table.rows-and-columns")
        assert table.bounding_box()["width"] <= 1400 - 16
        heights = [row.bounding_box()["height"]
                   for row in page.locator("table.rows-and-columns tbody tr").all()[:50]]
        assert max(heights) <= 160 and sum(heights) / len(heights) <= 120
        expect(page.locator("th.col-figure")).to_be_visible()
        expect(page.locator("th.col-verified_from")).to_be_hidden()
        expect(page.locator("details.kb-column-dictionary")).not_to_have_attribute("open", "")
        page.check("#kb-more-columns")
        expect(page.locator("th.col-verified_from")).to_be_visible()
        shot(page, "claims-readable")
    finally:
        page.close()


def test_search_from_the_front_door_finds_resection_for_hepatectomy(page, base_url):
    page.goto(base_url + "/")
    page.fill("#kb-q", "hepatectomy survival")
    page.press("#kb-q", "Enter")
    expect(page).to_have_url(re.compile(r"/kb/-/search\?q=hepatectomy\+survival"))
    results = page.locator("ol.kb-results li")
    expect(results.first).to_be_visible()
    expect(page.locator("ol.kb-results mark").first).to_be_visible()
    shot(page, "search-hepatectomy")
    first = results.first.locator("a").first
    key = first.text_content()
    first.click()
    expect(page).to_have_url(re.compile(re.escape(key) + "$"))
