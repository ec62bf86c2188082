"""Trails, conflicts and evidence range plots on the served pages, through Datasette's
in-process client, on the invented evidence fixture (tests/fixtures/evidence)."""

import html
import re
import xml.etree.ElementTree as ET

import pytest

from helpers import copy_with_records, datasette_for, getter
from kb.db.build import build

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    root = tmp_path_factory.mktemp("evidence-pages")
    build(root / "kb.db", copy_with_records("evidence", root / "data"))
    return root / "kb.db"


@pytest.fixture(scope="module")
def get(db):
    return getter(datasette_for(db))


def trail_section(page: str) -> str:
    return page[page.index('<section class="kb-trail">'):].split("</section>")[0]


def test_a_claim_page_shows_its_trail_as_a_chain(get):
    section = trail_section(get("/kb/claims/review2020-c03").text)
    hops = re.findall(r'<li class="hop" style="--depth: (\d)" data-status="([^"]+)"', section)
    assert hops == [("0", "matches"), ("1", "matches")]
    assert 'href="/kb/sources/review2018"' in section
    assert 'href="/kb/sources/primary2010"' in section
    assert 'href="/kb/claims/review2018-c01"' in section  # via the restated claim
    assert 'href="https://doi.org/10.5555/fixture.2010"' in section
    assert "reaches primary data" in section and "2 hops to primary data" in section


def test_a_distortion_is_shown_with_both_figures(get):
    section = trail_section(get("/kb/claims/review2020-c02").text)
    assert 'data-status="differs"' in section
    assert html.escape("70% here, but primary2015-c01 gives 62.5%") in section
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/90000001/"' in section
    assert "1 hop where the figures differ" in section


def test_unknown_entries_say_so(get):
    section = trail_section(get("/kb/claims/review2020-c05").text)
    assert "entry 3 of the list: not yet known" in section
    assert 'data-status="unverified"' in section


def test_a_claim_page_lists_its_conflicts_and_links_its_plot(get):
    page = get("/kb/claims/primary2016-c03").text
    assert "different denominators" in trail_section(page)
    assert 'href="/kb/claims/primary2010-c02"' in trail_section(page)
    assert 'href="/kb/-/plot/outcome/liver-metastases"' in page


def test_the_plot_is_svg_with_a_linked_bar_per_claim(get):
    response = get("/kb/-/plot/outcome/overall-survival.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    bars = root.findall(f".//{SVG}a")
    claims = {a.get("data-claim") for a in bars}
    assert claims == {"primary2015-c01", "primary2016-c01", "primary2016-c02",
                      "primary2010-c01", "primary2010-c04", "review2018-c01",
                      *(f"review2020-c{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 10))}
    for a in bars:
        assert a.get("href") == f"/kb/claims/{a.get('data-claim')}"
    in_conflict = {a.get("data-claim") for a in bars if "conflict" in a.get("class")}
    assert "primary2016-c02" not in in_conflict  # its population is set against nothing
    assert {"primary2015-c01", "review2020-c02", "primary2010-c04"} <= in_conflict
    tips = {a.get("data-claim"): a.find(f"{SVG}title").text for a in bars}
    assert tips["primary2010-c04"].startswith("primary2010-c04: ≤50% at 5 years")
    # one group per population
    groups = [t.text for t in root.iter(f"{SVG}text") if t.get("font-style") == "italic"]
    assert groups == ["nen-lm", "other"]


def test_the_plot_page_lists_the_conflicts(get):
    page = get("/kb/-/plot/outcome/liver-metastases").text
    assert "<svg" in page and "different denominators" in page
    assert 'href="/kb/claims/primary2016-c03"' in page


def test_a_plot_with_more_claims_than_it_shows_puts_conflicts_first_and_offers_narrowing(
        db, monkeypatch):
    from kb.web import queries as plot

    monkeypatch.setattr(plot, "MAX_BARS", 3)
    get = getter(datasette_for(db))   # a server of its own: the others keep their answers
    root = ET.fromstring(get("/kb/-/plot/outcome/overall-survival.svg").text)
    bars = root.findall(f".//{SVG}a")
    assert len(bars) == 3 and all("conflict" in a.get("class") for a in bars)
    note = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "kb-plot-note"]
    assert note == ["3 of 15 claims shown, those in conflict first: narrow by population, "
                    "intervention, unit or timepoint"]
    page = get("/kb/-/plot/outcome/overall-survival").text
    assert "<strong>3 of 15 shown</strong>" in page
    assert 'href="/kb/-/plot/outcome/overall-survival?population=other">other</a> (1)' in page
    only = ET.fromstring(get("/kb/-/plot/outcome/overall-survival.svg?population=other").text)
    assert [a.get("data-claim") for a in only.findall(f".//{SVG}a")] == ["primary2016-c02"]
    assert not [t for t in only.iter(f"{SVG}text") if t.get("class") == "kb-plot-note"]


def test_plots_of_unknown_outcomes_are_400_with_the_nearest_term(get):
    response = get("/kb/-/plot/outcome/overal-survival.svg", status=400)
    assert ("outcome 'overal-survival' is not an outcome term (did you mean "
            "'overall-survival'?)") in response.text
    get("/kb/-/plot/outcome/nen", status=400)  # a population, not an outcome
    response = get("/kb/-/plot/outcome/overall-survival?population=nen-lmm", status=400)
    assert "population 'nen-lmm' is not a population term (did you mean 'nen-lm'?)" \
        in response.text


@pytest.mark.parametrize("path, message", [
    ("/kb/claims?outcome=overal-survival",
     "outcome 'overal-survival' is not an outcome term (did you mean 'overall-survival'?)"),
    ("/kb/claims.json?population__exact=metastatic-nem",
     "population 'metastatic-nem' is not a population term (did you mean "
     "'metastatic-nen'?)"),
    ("/kb/claim_evidence?timepoint=5%20yaers",
     "timepoint '5 yaers' is not a timepoint any claim gives (did you mean '5 years'?)"),
])
def test_a_table_filtered_by_a_term_no_row_could_match_is_400(get, path, message):
    assert message in html.unescape(get(path, status=400).text)


def test_a_known_term_with_no_rows_is_an_empty_table_not_an_error(get):
    rows = get("/kb/claims.json?outcome=study-size&population=other&_shape=array").json()
    assert rows == []


def test_outcome_pages_link_their_plot(get):
    link = 'href="/kb/-/plot/outcome/overall-survival"'
    assert link in get("/kb/claims?outcome=overall-survival").text
    assert link in get("/kb/vocabulary/outcome,overall-survival").text
    assert link in get("/kb/claims_for_outcome?outcome=overall-survival").text
    assert "/-/plot/" not in get("/kb/claims").text


def test_trails_and_conflicts_are_browsable_tables(get):
    trails = get("/kb/claim_trails.json?_shape=array&status=differs").json()
    assert [(r["claim_id"], r["to_claim"]) for r in trails] == [
        ("review2020-c02", "primary2015-c01")]
    pairs = get("/kb/claim_conflicts.json?_shape=array&kind=different+denominators").json()
    assert [(r["claim_a"], r["claim_b"]) for r in pairs] == [
        ("primary2016-c03", "primary2010-c02")]
