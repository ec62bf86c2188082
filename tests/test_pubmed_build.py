"""The cached PubMed records in the build: merged, compared, flagged, never trusted blindly."""

import csv
import gzip
import shutil

import pytest
import sqlite_utils

from helpers import FIXTURES, datasette_for, edit, getter, reference_row
from kb.data import loader

RECORDS = FIXTURES / "eutils" / "three_records.xml"
TITLE_399298 = ("The prevalence of Encephalitozoon antibodies in dogs and an evaluation of "
                "the indirect fluorescent antibody test.")


@pytest.fixture
def data(data_dir, run):
    target = data_dir
    assert run("fetch", "--data", target, "--load", RECORDS).exit_code == 0
    with (target / "references.csv").open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        # known only by its PMID: everything else comes from the cached record
        writer.writerow(reference_row(key="vet1979", pmid="399298", pub_type="cohort",
                                      verified_from="pubmed"))
        # curated fields that PubMed would fill differently stay as curated
        writer.writerow(reference_row(
            key="pineal1979", pmid="399297", title="[The pineal body].",
            authors="Curated A", journal="Curated journal name", year="1979", volume="50",
            issue="2", pages="87-95", pub_type="review", verified_from="pubmed"))
    return target


def problems(data):
    return [str(p) for p in loader.load(data).problems]


def build(run, data, db):
    result = run("build", db, "--data", data)
    assert result.exit_code == 0, result.output
    return sqlite_utils.Database(db)


def test_cached_records_become_pubmed_records(run, data, tmp_path):
    db = build(run, data, tmp_path / "kb.db")
    assert {r["pmid"] for r in db["pubmed_records"].rows} == {"399296", "399297", "399298"}
    row = db["pubmed_records"].get("399298")
    assert row["title"] == TITLE_399298
    assert row["journal_abbrev"] == "J S Afr Vet Assoc"
    assert row["year"] == 1979 and row["pages"] == "169-72"
    assert row["retracted"] == 0


def test_blank_curated_fields_are_filled_and_marked(run, data, tmp_path):
    source = build(run, data, tmp_path / "kb.db")["sources"].get("vet1979")
    assert source["title"] == TITLE_399298
    assert source["year"] == 1979 and source["volume"] == "50" and source["issue"] == "3"
    assert source["journal_abbrev"] == "J S Afr Vet Assoc"
    assert source["abstract"].startswith("Fifteen dogs which were serologically negative")
    assert "Journal Article" in source["publication_types"]
    assert source["from_pubmed"] == "title, journal, year, volume, issue, pages, authors"


def test_curated_fields_win(run, data, tmp_path):
    source = build(run, data, tmp_path / "kb.db")["sources"].get("pineal1979")
    assert source["pages"] == "87-95" and source["journal"] == "Curated journal name"
    assert source["authors"] == "Curated A"
    assert source["from_pubmed"] is None
    assert source["journal_abbrev"] == "J S Afr Vet Assoc"


def test_disagreeing_title_year_and_doi_are_reported(data):
    edit(data / "references.csv", "alpha2001,11111111,", "alpha2001,399296,")
    found = problems(data)
    title = [p for p in found if "title differs" in p]
    assert len(title) == 1 and "cached PubMed record 399296" in title[0]
    assert "references.csv:2:" in title[0]
    years = [p for p in found if "year 2001 is 1979" in p]
    assert len(years) == 1


def test_agreeing_record_is_not_reported(data):
    assert problems(data) == []


def test_corrupt_cache_file_is_a_clear_error_and_the_build_keeps_the_old_db(
        run, data, tmp_path):
    db_path = tmp_path / "kb.db"
    build(run, data, db_path)
    before = db_path.read_bytes()
    (data / "pubmed" / "399296.xml.gz").write_bytes(gzip.compress(b"<PubmedArticleSet><Pub"))
    result = run("build", db_path, "--data", data)
    assert result.exit_code == 1
    assert result.stdout == (
        f"{data / 'pubmed' / '399296.xml.gz'}:1:19: unreadable cached record: malformed XML "
        "(unclosed token); fetch it again with kb fetch --refresh --pmid 399296\n")
    assert db_path.read_bytes() == before


def test_cache_file_with_another_record_is_an_error(data):
    shutil.copy(data / "pubmed" / "399296.xml.gz", data / "pubmed" / "123.xml.gz")
    found = problems(data)
    assert any("123.xml.gz:1:1: a cache file must hold exactly the record of PMID 123"
               in p for p in found), found


def test_retracted_work_is_flagged(run, data, tmp_path):
    path = data / "pubmed" / "399298.xml.gz"
    text = gzip.decompress(path.read_bytes()).decode()
    # test-made change to a real record: PubMed links a retraction notice like this
    text = text.replace("</MedlineCitation>", '<CommentsCorrectionsList><CommentsCorrections '
                        'RefType="RetractionIn"><RefSource>J Test. 2020;1:1</RefSource>'
                        '<PMID Version="1">1</PMID></CommentsCorrections>'
                        "</CommentsCorrectionsList></MedlineCitation>", 1)
    path.write_bytes(gzip.compress(text.encode()))
    db = build(run, data, tmp_path / "kb.db")
    source = db["sources"].get("vet1979")
    assert source["retracted"] == 1
    assert source["label"].startswith("RETRACTED ")
    assert db["pubmed_records"].get("399298")["retracted"] == 1


def test_source_page_links_its_pubmed_record(run, data, tmp_path):
    build(run, data, tmp_path / "kb.db")
    get = getter(datasette_for(tmp_path / "kb.db"))
    page = get("/kb/sources/vet1979").text
    panel = page[page.index("<h2>PubMed record</h2>"):]
    assert f'<a href="/kb/pubmed_records/399298">{TITLE_399298}</a>' in panel
    record = get("/kb/pubmed_records/399298").text
    assert 'class="kb-record"' in record
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/399298/">399298</a>' in record
