"""kb fetch / kb resolve through the real Bio.Entrez code path, against a local stand-in.

The stand-in (tests/eutils_standin.py) listens on 127.0.0.1 and is reached through
NCBI_EUTILS_URL; it serves real PubMed records and injects faults.
"""

import gzip
import time

import pytest

from helpers import FIXTURES, cached, edit, efetches, free_port, reference_row
from eutils_standin import clone, real_records

REAL = real_records()
FIRST = sorted(REAL)[0]


@pytest.fixture
def data(data_dir):
    """The minimal data set, writable (conftest's data_dir)."""
    return data_dir


def leftovers(data):
    return [p.name for p in (data / "pubmed").rglob("*") if ".tmp" in p.name]


def test_fetch_by_pmid_caches_one_file_per_record(run, data, standin):
    result = run("fetch", "--data", data, "--pmid", ",".join(REAL))
    assert result.exit_code == 0, result.output
    assert cached(data) == sorted(f"{p}.xml.gz" for p in REAL)
    text = gzip.decompress((data / "pubmed" / f"{FIRST}.xml.gz").read_bytes()).decode()
    assert f">{FIRST}</PMID>" in text and text.count("<PubmedArticle>") == 1
    method, _, params = efetches(standin)[0]
    assert params["db"] == "pubmed" and params["tool"] == "nelm-kb"
    assert params["email"] == "curator@example.org"
    assert sorted(params["id"].split(",")) == sorted(REAL)


def test_batches_of_200_posted(run, data, standin):
    pmids = [str(90000000 + i) for i in range(450)]
    standin.records.update({p: clone(REAL[FIRST], p) for p in pmids})
    result = run("fetch", "--data", data, *sum((["--pmid", p] for p in pmids), []))
    assert result.exit_code == 0, result.output
    sizes = [len(params["id"].split(",")) for _, _, params in efetches(standin)]
    assert sizes == [200, 200, 50]
    assert [method for method, _, _ in efetches(standin)] == ["POST", "POST", "GET"]
    assert len(cached(data)) == 450


def test_cached_records_are_not_fetched_again(run, data, standin):
    assert run("fetch", "--data", data, "--pmid", FIRST).exit_code == 0
    before = len(efetches(standin))
    result = run("fetch", "--data", data, "--pmid", FIRST)
    assert result.exit_code == 0 and len(efetches(standin)) == before
    assert result.stdout == (f"saved 0 records to {data / 'pubmed'}/ "
                             "(1 already cached, 0 deleted)\n")
    assert run("fetch", "--data", data, "--pmid", FIRST, "--refresh").exit_code == 0
    assert len(efetches(standin)) == before + 1


def test_interrupted_fetch_resumes_without_loss_or_duplicates(run, data, standin):
    pmids = [str(91000000 + i) for i in range(400)]
    standin.records.update({p: clone(REAL[FIRST], p) for p in pmids})
    args = ["fetch", "--data", data, *sum((["--pmid", p] for p in pmids), [])]
    standin.faults = [{}] + [{"status": 500}] * 3  # batch 1 fine, batch 2 fails every try
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == ("kb fetch: efetch: gave up after 3 attempts (HTTP 500); nothing "
                             "more was changed\n")
    assert len(cached(data)) == 200 and leftovers(data) == []
    standin.requests.clear()
    assert run(*args).exit_code == 0
    asked = [i for _, _, params in efetches(standin) for i in params["id"].split(",")]
    assert sorted(asked) == pmids[200:]  # only what was missing
    assert len(cached(data)) == 400


@pytest.mark.parametrize("fault", [
    {"status": 429, "retry_after": 0},
    {"status": 500},
    {"status": 503},
    {"slow": 3},  # longer than NCBI_TIMEOUT=2
    {"truncate": True},
    {"truncate_xml": True},
    {"drop": True},
    {"error": "Search Backend failed"},
], ids=lambda f: next(iter(f)))
def test_transient_fault_is_retried_and_nothing_partial_is_kept(run, data, standin, fault):
    standin.faults = [fault]
    result = run("fetch", "--data", data, "--pmid", FIRST)
    assert result.exit_code == 0, result.output
    assert len(efetches(standin)) == 2
    assert cached(data) == [f"{FIRST}.xml.gz"] and leftovers(data) == []
    text = gzip.decompress((data / "pubmed" / f"{FIRST}.xml.gz").read_bytes()).decode()
    assert text.rstrip().endswith("</PubmedArticleSet>")


def test_persistent_error_document_fails_clearly(run, data, standin):
    standin.faults = [{"error": "Invalid uid"}] * 3
    result = run("fetch", "--data", data, "--pmid", FIRST)
    assert result.exit_code == 2
    assert result.stderr == ("kb fetch: efetch: gave up after 3 attempts (NCBI error: Invalid "
                             "uid); nothing more was changed\n")
    assert cached(data) == []


def test_empty_result_reports_the_pmids_not_found(run, data, standin):
    standin.faults = [{"empty": True}]
    result = run("fetch", "--data", data, "--pmid", FIRST)
    assert result.exit_code == 1
    assert result.stderr == f"not found in PubMed: {FIRST}\n"
    assert cached(data) == []


def test_unknown_pmid_is_reported_and_the_others_are_kept(run, data, standin):
    result = run("fetch", "--data", data, "--pmid", FIRST, "--pmid", "1")
    assert result.exit_code == 1
    assert result.stderr == "not found in PubMed: 1\n"
    assert cached(data) == [f"{FIRST}.xml.gz"]


def test_rate_limit_spaces_requests(run, data, standin):
    pmids = [str(92000000 + i) for i in range(600)]
    standin.records.update({p: clone(REAL[FIRST], p) for p in pmids})
    stamps = []
    original = standin.answer

    def stamped(utility, params):
        stamps.append(time.monotonic())
        return original(utility, params)

    standin.answer = stamped
    assert run("fetch", "--data", data, *sum((["--pmid", p] for p in pmids), [])).exit_code == 0
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(stamps) == 3 and min(gaps) >= 0.3  # at most 3 requests a second


def test_offline_fails_fast_with_one_line_and_changes_nothing(run, data, monkeypatch):
    port = free_port()  # nobody listens on it
    monkeypatch.setenv("NCBI_EUTILS_URL", f"http://127.0.0.1:{port}/entrez/eutils/")
    before = sorted(p.name for p in data.rglob("*"))
    started = time.monotonic()
    result = run("fetch", "--data", data, "--pmid", FIRST)
    assert time.monotonic() - started < 5
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (f"kb fetch: cannot reach the E-utilities at http://127.0.0.1:{port}"
                             "/entrez/eutils/: [Errno 111] Connection refused; nothing more "
                             "was changed\n")
    assert sorted(p.name for p in data.rglob("*")) == before


def test_unresolvable_host_is_unreachable_too(run, data, monkeypatch):
    monkeypatch.setenv("NCBI_EUTILS_URL", "http://eutils.invalid/entrez/eutils/")
    result = run("fetch", "--data", data, "--pmid", FIRST)
    assert result.exit_code == 2 and result.stdout == ""
    # the resolver's words vary ([Errno -2] Name or service not known, -3 ...): one line
    assert result.stderr.startswith("kb fetch: cannot reach the E-utilities at "
                                    "http://eutils.invalid/entrez/eutils/: [Errno ")
    assert result.stderr.endswith("; nothing more was changed\n")
    assert result.stderr.count("\n") == 1


def test_query_pages_through_the_history_server(run, data, standin):
    pmids = [str(93000000 + i) for i in range(450)]
    standin.records.update({p: clone(REAL[FIRST], p) for p in pmids})
    standin.searches["neuroendocrine liver metastases"] = pmids
    result = run("fetch", "--data", data, "--query", "neuroendocrine liver metastases")
    assert result.exit_code == 0, result.output
    pages = [(p["retstart"], p["retmax"], p["webenv"]) for _, _, p in efetches(standin)]
    assert pages == [("0", "200", "MCID_1"), ("200", "200", "MCID_1"),
                     ("400", "200", "MCID_1")]
    assert len(cached(data)) == 450


def test_refs_of_fetches_the_reference_list(run, data, standin):
    others = sorted(REAL)[1:]
    standin.links[(FIRST, "pubmed_pubmed_refs")] = others
    result = run("fetch", "--data", data, "--refs-of", FIRST)
    assert result.exit_code == 0, result.output
    assert cached(data) == sorted(f"{p}.xml.gz" for p in REAL)
    assert (data / "pubmed" / "links" / f"{FIRST}.pubmed_pubmed_refs.xml.gz").exists()


def test_refs_of_says_when_there_is_no_reference_list(run, data, standin):
    result = run("fetch", "--data", data, "--refs-of", FIRST)
    assert result.exit_code == 0
    assert result.stderr == (f"PMID {FIRST} has no reference list in PubMed (reference lists "
                             "exist only for papers deposited in PubMed Central)\n")


def test_cited_by(run, data, standin):
    standin.links[(FIRST, "pubmed_pubmed_citedin")] = sorted(REAL)[1:]
    result = run("fetch", "--data", data, "--cited-by", FIRST)
    assert result.exit_code == 0, result.output
    assert cached(data) == sorted(f"{p}.xml.gz" for p in sorted(REAL)[1:])


def test_missing_fetches_referenced_pmids_without_a_record(run, data, standin):
    edit(data / "references.csv", "11111111", FIRST)
    edit(data / "references.csv", "22222222", sorted(REAL)[1])
    assert run("fetch", "--data", data, "--pmid", FIRST).exit_code == 0
    standin.requests.clear()
    result = run("fetch", "--data", data, "--missing")
    assert result.exit_code == 0, result.output
    assert [p["id"] for _, _, p in efetches(standin)] == [sorted(REAL)[1]]


def test_nothing_to_fetch_is_a_usage_error(run, data):
    assert run("fetch", "--data", data).exit_code == 2
    assert run("fetch", "--data", data, "--pmid", "abc").exit_code == 2


def test_load_a_saved_answer_without_network(run, data, monkeypatch):
    monkeypatch.setenv("NCBI_EUTILS_URL", "http://eutils.invalid/entrez/eutils/")
    result = run("fetch", "--data", data, "--load", FIXTURES / "eutils" / "three_records.xml")
    assert result.exit_code == 0, result.output
    assert cached(data) == sorted(f"{p}.xml.gz" for p in REAL)


def test_load_applies_delete_citation(run, data, tmp_path):
    assert run("fetch", "--data", data, "--load",
               FIXTURES / "eutils" / "three_records.xml").exit_code == 0
    update = tmp_path / "update.xml"
    update.write_text('<?xml version="1.0"?>\n<PubmedArticleSet><DeleteCitation>'
                      f'<PMID Version="1">{FIRST}</PMID></DeleteCitation></PubmedArticleSet>\n')
    result = run("fetch", "--data", data, "--load", update)
    assert result.exit_code == 0
    assert result.stdout == (f"saved 0 records to {data / 'pubmed'}/ "
                             "(0 already cached, 1 deleted)\n")
    assert f"{FIRST}.xml.gz" not in cached(data)


def test_load_of_a_broken_file_saves_nothing(run, data, tmp_path):
    broken = tmp_path / "broken.xml"
    text = (FIXTURES / "eutils" / "three_records.xml").read_text()
    broken.write_text(text[: len(text) * 2 // 3])
    result = run("fetch", "--data", data, "--load", broken)
    assert result.exit_code == 1
    assert result.stderr == (f"kb fetch: {broken}:246:69: unclosed token; nothing from that "
                             "file was saved\n")
    assert cached(data) == []
    assert list((data / "pubmed").glob(".staging.*")) == []


def test_resolve_proposes_pmids_only_when_titles_agree(run, data, standin, tmp_path):
    import csv

    record_titles = {}
    from ingest import pubmed
    for record in pubmed.parse(FIXTURES / "eutils" / "three_records.xml"):
        record_titles[record["pmid"]] = record
    first, second = (record_titles[p] for p in sorted(REAL)[:2])
    references = data / "references.csv"
    before = references.read_bytes()
    with references.open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(reference_row(
            key="match2000", title=first["title"], authors="Someone A", journal="Journal",
            year="2000", volume="1", pages="1-2", pub_type="review",
            verified_from="https://example.org/x"))
        writer.writerow(reference_row(
            key="wrong2000", title="A different title altogether", authors="Other B",
            journal="Journal", year="2000", volume="2", pages="3-4", pub_type="review",
            verified_from="https://example.org/y"))
    before = references.read_bytes()
    standin.citmatch = {"match2000": first["pmid"], "wrong2000": second["pmid"]}
    out = tmp_path / "proposals.csv"
    result = run("resolve", "--data", data, "-o", out)
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["match2000"]["proposed_pmid"] == first["pmid"]
    assert rows["match2000"]["decision"] == "accept"
    assert rows["wrong2000"]["decision"] == "reject: titles differ"
    assert rows["delta"]["decision"].startswith("not enough to ask")
    assert references.read_bytes() == before  # proposals only, never an edit
    citmatch = [p for _, u, p in standin.requests if u == "ecitmatch"][0]
    assert "Journal|2000|1|1|Someone A|match2000" in citmatch["bdata"].split("\r")
