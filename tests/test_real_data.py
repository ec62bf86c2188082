"""The curated data in data/: valid, traceable, and holding the seed reviews."""

import csv

import pytest

from helpers import DATA
from kb.data import loader

SEED_REVIEWS = {"rossi2012", "cavalcoli2017", "cazzato2021", "jagannath2012"}


def rows(name):
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_data_folder_is_valid():
    assert [str(p) for p in loader.load(DATA).problems] == []


def test_seed_reviews_are_present():
    assert SEED_REVIEWS <= {r["key"] for r in rows("references.csv")}


def test_every_row_says_where_it_was_verified():
    for name in ("references.csv", "citations.csv", "claims.csv"):
        for row in rows(name):
            assert row["verified_from"].strip(), (name, row)


def test_claims_cover_every_seed_review_with_quantitative_and_qualitative_claims():
    claims = rows("claims.csv")
    assert len(claims) >= 20
    assert SEED_REVIEWS <= {c["source_key"] for c in claims}
    kinds = {c["kind"] for c in claims}
    assert kinds == {"quantitative", "qualitative"}
    for claim in claims:
        assert claim["locator"], claim["id"]
        if claim["kind"] == "quantitative":
            assert claim["value"] or claim["low"] or claim["high"], claim["id"]


def test_reference_lists_carry_their_numbers():
    citing = {(c["citing_key"], int(c["ref_number"])) for c in rows("citations.csv")}
    assert ("jagannath2012", 10) in citing and ("cavalcoli2017", 1) in citing


def test_the_evidence_base_holds_at_least_40_sources_and_80_claims():
    assert len(rows("references.csv")) >= 40
    assert len(rows("claims.csv")) >= 80


def test_every_identifier_comes_with_the_page_or_record_that_shows_it():
    for ref in rows("references.csv"):
        items = ref["verified_from"].split(" ; ")
        if ref["pmid"] or ref["pmcid"] or ref["doi"]:
            assert any(i.startswith("http") or i.endswith(".txt") or i == "pubmed"
                       for i in items), ref["key"]
        if ref["pmid"]:
            # the canonical address of the record beside the page actually read
            assert (f"https://pubmed.ncbi.nlm.nih.gov/{ref['pmid']}/" in items
                    or "pubmed" in items or any(i.endswith(".txt") for i in items)), ref["key"]


@pytest.mark.parametrize("treatment", [
    "resection", "transplantation", "rfa", "mwa", "tae", "tace", "tare", "prrt", "ssa",
    "everolimus", "sunitinib"])
def test_each_treatment_the_reviews_discuss_has_figures_read_on_a_page(treatment):
    claims = [c for c in rows("claims.csv") if c["kind"] == "quantitative"
              and treatment in (c["intervention"], c["comparator"])
              and any(i.startswith("http") for i in c["verified_from"].split(" ; "))]
    assert claims, treatment
    assert any(c["n"] for c in claims), f"no {treatment} claim gives its sample size"
