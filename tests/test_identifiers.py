"""A PMID says where it was read (pmid_seen): only one a PubMed or PMC page labels is
verified; the others are shown as not verified and left out of the exports."""

import pytest

from helpers import datasette_for, edit, getter
from kb.db import build
from kb.export import writers

ROW = {"key": "seen2020", "pub_type": "cohort", "title": "A series", "authors": "Ant A",
       "journal": "J Fixt", "year": 2020, "pmid": "12345678"}


def with_seen(path, seen_for_alpha: str, seen_for_gamma: str = "pubmed"):
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("key,pmid,", "key,pmid,pmid_seen,")
    for i, line in enumerate(lines[1:], 1):
        key, rest = line.split(",", 1)
        pmid, rest = rest.split(",", 1)
        seen = {"alpha2001": seen_for_alpha, "gamma1999": seen_for_gamma}.get(key, "")
        lines[i] = ",".join([key, pmid, seen, rest])
    path.write_text("\n".join(lines) + "\n")


def test_a_pmid_verified_on_pubmed_is_exported():
    assert writers.csl_item({**ROW, "pmid_seen": "pubmed"})["PMID"] == "12345678"
    assert writers.csl_item(ROW)["PMID"] == "12345678"   # older files: no column


@pytest.mark.parametrize("seen, why", [
    ("address", "seen only in a page address"),
    ("other", "labelled only on a page other than PubMed's or PMC's")])
def test_a_pmid_not_verified_on_pubmed_is_left_out_and_said(seen, why):
    item = writers.csl_item({**ROW, "pmid_seen": seen})
    assert "PMID" not in item
    assert item["note"] == f"PMID 12345678 not verified on PubMed ({why})"


def test_every_pmid_says_where_it_was_read(run, data_dir):
    with_seen(data_dir / "references.csv", "")
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 1
    assert "pmid_seen is required with a pmid: pubmed, other or address" in result.output
    edit(data_dir / "references.csv", "gamma1999,22222222,pubmed,", "gamma1999,22222222,labelled,")
    result = run("validate", "--data", data_dir)
    assert "pmid_seen 'labelled' is not valid: one of pubmed, other, address" \
        in result.output


def test_a_pmid_seen_only_in_an_address_is_shown_unverified(data_dir, tmp_path):
    with_seen(data_dir / "references.csv", "address")
    db = tmp_path / "kb.db"
    build.build(db, data_dir)
    get = getter(datasette_for(db))
    page = get("/kb/sources/alpha2001").text
    assert "not verified on PubMed" in page
    assert "not verified on PubMed" not in get("/kb/sources/gamma1999").text
