"""ingest.pubmed.parse: real PubMed records (tests/fixtures/pubmed/, see its README.md)
read field by field against Biopython's Bio.Entrez reader, explicit values read by hand
from the XML, malformed and hostile input, and flat memory on a large file."""

from __future__ import annotations

import gc
import gzip
import html
import http.server
import io
import re
import socket
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from helpers import free_port
from ingest import pubmed
from ingest.pubmed import RECORD_KEYS, PubmedParseError, parse

FIXTURES = Path(__file__).parent / "fixtures" / "pubmed"
EFETCH = FIXTURES / "efetch-29768149.xml"
BASELINE = FIXTURES / "pubmed20n0014-excerpt.xml"
UPDATE = FIXTURES / "pubmed21n1298-excerpt.xml"
BOOK = FIXTURES / "zotero-book-20821847.xml"
ALL_FIXTURES = [EFETCH, BASELINE, UPDATE, BOOK]
WHERE = re.compile(r"^line \d+, column \d+: ")


def records(path_or_file, **kw) -> dict[str, dict]:
    return {r["pmid"]: r for r in parse(path_or_file, **kw) if not r.get("deleted")}


def error_of(data: bytes, **kw) -> PubmedParseError:
    """The PubmedParseError that parsing data raises (and that it raises quickly)."""
    started = time.monotonic()
    with pytest.raises(PubmedParseError) as caught:
        list(parse(io.BytesIO(data), **kw))
    assert time.monotonic() - started < 10
    assert WHERE.match(str(caught.value)), str(caught.value)
    return caught.value


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test (instead of reaching out)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# ----------------------------------------------------------------- the independent reader

def bio_read(path: Path):
    """Bio.Entrez.read of a fixture, offline.

    Biopython ships the PubMed DTDs it needs (Bio/Entrez/DTDs) but accepts DTD URLs only
    over https from *.nlm.nih.gov, and downloads any DTD it lacks. So, for Biopython's
    copy only, the DOCTYPE URL is rewritten to the https NLM address of the same DTD,
    and its downloader is replaced by one that fails: it must find every DTD locally."""
    from Bio import Entrez
    from Bio.Entrez import Parser

    data = path.read_bytes()
    data = data.replace(b'"http://dtd.nlm.nih.gov/', b'"https://dtd.nlm.nih.gov/')
    data = data.replace(b'"http://www.ncbi.nlm.nih.gov/corehtml/query/DTD/',
                        b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/')

    def refuse(url, *args, **kwargs):
        raise AssertionError(f"Biopython tried to download {url}")

    saved = Parser.urlopen
    Parser.urlopen = refuse
    try:
        return Entrez.read(io.BytesIO(data), escape=True)
    finally:
        Parser.urlopen = saved


def plain(value) -> str | None:
    """Biopython's text (escape=True keeps inline tags as markup) -> plain normalised text."""
    if value is None:
        return None
    text = html.unescape(re.sub(r"<[^>]*>", "", str(value)))
    text = re.sub(r"[ \t\n\r]+", " ", text).strip(" ")
    return text or None


def bio_authors(author_list) -> list[str]:
    names = []
    for a in author_list or []:
        if a.attributes.get("ValidYN") == "N":
            continue
        if "LastName" in a:
            initials = str(a.get("Initials", "")) or "".join(
                w[0] for w in re.split(r"[\s\-.]+", str(a.get("ForeName", ""))) if w).upper()
            names.append(f"{plain(a['LastName'])} {initials}".strip())
        elif "CollectiveName" in a:
            names.append(plain(a["CollectiveName"]))
    return names


def bio_ids(id_list) -> dict[str, str]:
    ids: dict[str, str] = {}
    for i in id_list or []:
        ids.setdefault(i.attributes.get("IdType"), str(i).strip())
    return ids


def bio_references(ref_lists) -> list[dict]:
    out = []
    for ref_list in ref_lists or []:
        for ref in ref_list.get("Reference", []):
            ids = bio_ids(ref.get("ArticleIdList"))
            out.append({"citation": plain(ref.get("Citation")), "pmid": ids.get("pubmed"),
                        "doi": ids.get("doi"), "pmcid": ids.get("pmc")})
        out.extend(bio_references(ref_list.get("ReferenceList")))
    return out


def bio_abstract(abstract) -> str | None:
    if not abstract:
        return None
    parts = []
    for part in abstract["AbstractText"]:
        label = part.attributes.get("Label") if hasattr(part, "attributes") else None
        text = plain(part)
        parts.append(f"{label}: {text}" if label else text)
    return "\n".join(p for p in parts if p) or None


def bio_pages(pagination) -> str | None:
    if not pagination:
        return None
    if pagination.get("MedlinePgn"):
        return str(pagination["MedlinePgn"])
    start, end = pagination.get("StartPage"), pagination.get("EndPage")
    return f"{start}-{end}" if start and end else (start or end or None)


def bio_year(pub_date, article_dates=()) -> int | None:
    if pub_date.get("Year"):
        return int(pub_date["Year"])
    if pub_date.get("MedlineDate"):
        return int(re.search(r"\d{4}", pub_date["MedlineDate"]).group())
    for d in article_dates:
        return int(d["Year"])
    return None


def bio_article(a) -> dict:
    mc, data = a["MedlineCitation"], a.get("PubmedData", {})
    art = mc["Article"]
    issue = art["Journal"]["JournalIssue"]
    ids = bio_ids(data.get("ArticleIdList"))
    doi = ids.get("doi") or next((str(e) for e in art.get("ELocationID", [])
                                  if e.attributes.get("EIdType") == "doi"
                                  and e.attributes.get("ValidYN") != "N"), None)
    return {
        "pmid": str(mc["PMID"]), "kind": "article", "title": plain(art.get("ArticleTitle")),
        "authors": bio_authors(art.get("AuthorList")),
        "journal": plain(art["Journal"].get("Title")),
        "year": bio_year(issue["PubDate"], art.get("ArticleDate", [])),
        "volume": issue.get("Volume"), "issue": issue.get("Issue"),
        "pages": bio_pages(art.get("Pagination")), "doi": doi, "pmcid": ids.get("pmc"),
        "abstract": bio_abstract(art.get("Abstract")),
        "publication_types": [plain(t) for t in art.get("PublicationTypeList", [])],
        "references": bio_references(data.get("ReferenceList")),
    }


def bio_book(b) -> dict:
    doc, data = b["BookDocument"], b.get("PubmedBookData", {})
    book = doc["Book"]
    authors = next((al for al in list(doc.get("AuthorList", [])) + list(book.get("AuthorList", []))
                    if al.attributes.get("Type", "authors") == "authors"), [])
    ids = {**bio_ids(doc.get("ArticleIdList")), **bio_ids(data.get("ArticleIdList"))}
    return {
        "pmid": str(doc["PMID"]), "kind": "book",
        "title": plain(doc.get("ArticleTitle")) or plain(book["BookTitle"]),
        "authors": bio_authors(authors), "journal": plain(book["BookTitle"]),
        "year": bio_year(book["PubDate"]), "volume": book.get("Volume"), "issue": None,
        "pages": bio_pages(doc.get("Pagination")), "doi": ids.get("doi"),
        "pmcid": ids.get("pmc"), "abstract": bio_abstract(doc.get("Abstract")),
        "publication_types": [plain(t) for t in doc.get("PublicationType", [])],
        "references": bio_references(doc.get("ReferenceList")),
    }


def bio_records(path: Path) -> dict[str, dict]:
    result = bio_read(path)
    if hasattr(result, "keys"):        # DTDs from 2017 on: {"PubmedArticle": [...], ...}
        items = list(result["PubmedArticle"]) + list(result["PubmedBookArticle"])
    else:                              # older DTDs: a plain list of records
        items = list(result)
    out = {}
    for item in items:
        rec = bio_book(item) if "BookDocument" in item else bio_article(item)
        out[rec["pmid"]] = rec
    return out


COMPARED = ("pmid", "kind", "title", "authors", "journal", "year", "volume", "issue", "pages",
            "doi", "pmcid", "abstract", "publication_types", "references")


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.name)
def test_every_record_matches_biopython_field_by_field(path):
    ours = records(path)
    theirs = bio_records(path)
    assert sorted(ours) == sorted(theirs)
    for pmid, expected in theirs.items():
        got = {k: ours[pmid][k] for k in COMPARED}
        assert got == expected, pmid


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.name)
def test_every_record_has_every_key(path):
    for rec in parse(path):
        if rec.get("deleted"):
            assert rec == {"pmid": rec["pmid"], "deleted": True}
            continue
        assert tuple(rec) == RECORD_KEYS
        assert isinstance(rec["pmid"], str) and rec["pmid"].isdigit()
        assert rec["xml"] is None
        for key in ("authors", "publication_types", "mesh", "keywords", "language",
                    "references", "comments_corrections"):
            assert isinstance(rec[key], list), key
        assert isinstance(rec["authors_complete"], bool) and isinstance(rec["retracted"], bool)


# ------------------------------------------------------ values read by hand in the XML

def test_efetch_29768149_explicit_values():
    [rec] = parse(EFETCH)
    assert rec["pmid"] == "29768149"
    assert rec["kind"] == "article"
    assert rec["title"] == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    assert rec["authors"] == ["O'Byrne PM", "FitzGerald JM", "Bateman ED", "Barnes PJ",
                              "Zhong N", "Keen C", "Jorup C", "Lamarca R", "Ivanov S",
                              "Reddel HK"]
    assert rec["authors_complete"] is True
    assert rec["journal"] == "The New England journal of medicine"
    assert rec["journal_abbrev"] == "N Engl J Med"
    assert (rec["year"], rec["pub_date"]) == (2018, "2018 05 17")
    assert (rec["volume"], rec["issue"], rec["pages"]) == ("378", "20", "1865-1876")
    assert rec["doi"] == "10.1056/NEJMoa1715274"
    assert rec["pmcid"] is None
    # four labelled parts; the first holds "&#946;" and a <sub>2</sub> across a line break
    parts = rec["abstract"].split("\n")
    assert [p.split(":")[0] for p in parts] == ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert parts[0] == ("BACKGROUND: In patients with mild asthma, as-needed use of an inhaled "
                        "glucocorticoid plus a fast-acting \u03b2 2-agonist may be an alternative "
                        "to conventional treatment strategies.")
    assert parts[3].endswith("(Funded by AstraZeneca; SYGMA 1 ClinicalTrials.gov number, "
                             "NCT02149199 .).")
    assert rec["publication_types"] == [
        "Clinical Trial, Phase III", "Comparative Study", "Journal Article",
        "Multicenter Study", "Randomized Controlled Trial", "Research Support, Non-U.S. Gov't"]
    assert len(rec["mesh"]) == 23
    assert rec["mesh"][:3] == ["Administration, Inhalation", "Adolescent", "Adult"]
    assert rec["mesh"][-1] == "Young Adult"
    assert rec["keywords"] == []
    assert rec["language"] == ["eng"]
    assert rec["references"] == []
    assert rec["comments_corrections"] == [
        {"type": "CommentIn", "source": "N Engl J Med. 2018 May 17;378(20):1940-1942",
         "pmid": "29768146"},
        {"type": "CommentIn", "source": "Ann Intern Med. 2018 Sep 18;169(6):JC31",
         "pmid": "30242404"},
    ]
    assert rec["retracted"] is False
    assert rec["publisher"] is None
    assert rec["place"] is None


def test_book_20821847_explicit_values():
    # Zotero's own test case expects the same: title, Nussey/Whitehead, 2001, the publisher
    [rec] = parse(BOOK)
    assert rec == {
        "pmid": "20821847", "kind": "book",
        "title": "Endocrinology: An Integrated Approach",
        "authors": ["Nussey S", "Whitehead S"], "authors_complete": True,
        "journal": "Endocrinology: An Integrated Approach", "journal_abbrev": None,
        "year": 2001, "pub_date": "2001", "volume": None, "issue": None, "pages": None,
        "doi": None, "pmcid": None,
        "abstract": ("Endocrinology has been written to meet the requirements of today's "
                     "trainee doctors and the demands of an increasing number of degree courses "
                     "in health and biomedical sciences, and allied subjects. It is a truly "
                     "integrated text using large numbers of real clinical cases to introduce "
                     "the basic biochemistry, physiology and pathophysiology underlying endocrine "
                     "disorders and also the principles of clinical diagnosis and treatment. The "
                     "increasing importance of the molecular and genetic aspects of "
                     "endocrinology in relation to clinical medicine is explained."),
        "publication_types": [], "mesh": [], "keywords": [], "language": ["eng"],
        "references": [], "comments_corrections": [], "retracted": False,
        "publisher": "BIOS Scientific Publishers", "place": "Oxford", "xml": None,
    }


def test_baseline_excerpt_explicit_values():
    recs = records(BASELINE)
    medline_date = recs["419320"]                 # <MedlineDate>1979 Jan-Feb</MedlineDate>
    assert (medline_date["year"], medline_date["pub_date"]) == (1979, "1979 Jan-Feb")
    assert medline_date["authors"] == []
    incomplete = recs["400865"]                   # <AuthorList CompleteYN="N">
    assert incomplete["authors_complete"] is False
    assert incomplete["authors"][:2] == ["Lecart C", "Claerhout F"]
    assert incomplete["authors"][7] == "Longrée H"
    retracted = recs["423962"]
    assert retracted["retracted"] is True
    assert retracted["comments_corrections"] == [
        {"type": "RetractionIn", "source": "Nature. 1980 Jan 3;283(5742):111", "pmid": "7350521"}]
    retraction = recs["400964"]                   # the retraction notice is not retracted
    assert retraction["retracted"] is False
    assert [c["pmid"] for c in retraction["comments_corrections"]] == [
        "166323", "178540", "183981", "785270"]
    three_lists = recs["420555"]                  # three sibling <ReferenceList>s
    assert three_lists["references"] == [
        {"citation": "J Appl Physiol. 1964 Nov;19:1234-6", "pmid": "14232329", "doi": None, "pmcid": None},
        {"citation": "J Biomech. 1971 Mar;4(2):113-7", "pmid": "5119406", "doi": None, "pmcid": None},
        {"citation": "Dtsch Z Gesamte Gerichtl Med. 1965;56(6):341-8", "pmid": "5886432",
         "doi": None, "pmcid": None},
    ]
    assert three_lists["doi"] == "10.1007/bf00389683"
    assert recs["419619"]["authors"] == ["Beck"]  # <LastName> only, no initials, no forename
    assert recs["421115"]["pmcid"] == "PMC1597722"


def test_update_excerpt_explicit_values():
    all_records = list(parse(UPDATE))
    recs = {r["pmid"]: r for r in all_records if not r.get("deleted")}
    assert recs["34092084"]["pub_date"] == "2021 Jan-Mar" and recs["34092084"]["year"] == 2021
    no_pages = recs["34092665"]                   # no <Pagination>; DOI only in ELocationID
    assert (no_pages["pages"], no_pages["volume"], no_pages["issue"]) == (None, None, None)
    assert no_pages["doi"] == "10.3233/PRM-219004"
    assert recs["34086810"]["authors"] == ["PLOS ONE Editors"]      # <CollectiveName>
    assert recs["34087119"]["authors"] == ["The Lancet Oncology"]   # <LastName> only
    assert recs["34096209"]["abstract"].startswith(
        "INTRODUCTION: South Africa has a rich tradition in urinary tract stone research.")
    assert recs["34094126"]["title"] == "Transformations of the cyclo-P4 ligand in [Cp'''Co(\u03b74-P4)]."
    assert recs["34092203"]["title"].startswith(
        "Theoricae novae planetarum Georgii Peurbachii dans l'histoire de l'astronomie "
        "Essay Review of Michela Malpangotto, Theoricae novae")
    assert "two-compartment Ca2+ signalling" in recs["34092205"]["abstract"]   # MathML
    assert recs["34075368"]["references"] == [
        {"citation": "N Engl J Med. 2020 Jun 11;382(24):2302-2315", "pmid": "32289214",
         "doi": None, "pmcid": None}]
    nested = recs["33907322"]                     # <ReferenceList><ReferenceList>
    assert [r["doi"] for r in nested["references"]] == [
        "10.1038/s41582-020-0398-3", "10.1038/s41582-020-00452-x"]
    assert nested["references"][0]["citation"].startswith("Pezzini, A. & Padovani, A.")
    assert nested["pmcid"] == "PMC8078089"
    assert nested["doi"] == "10.1038/s41582-021-00502-y"   # its own, not a reference's
    assert recs["33104149"]["retracted"] is True
    assert {"type": "RetractionIn", "source": "Chem Commun (Camb). 2021 Jun 6;:",
            "pmid": "34095918"} in recs["33104149"]["comments_corrections"]
    assert recs["33246668"]["comments_corrections"] == [
        {"type": "ErratumIn", "source": "J Dermatol Sci. 2021 Jun 2;:", "pmid": "34090766"}]
    assert recs["34097092"]["title"] is None      # <ArticleTitle/>, a <VernacularTitle> only
    deleted = [r for r in all_records if r.get("deleted")]
    assert len(deleted) == 20
    assert deleted[0] == {"pmid": "31688362", "deleted": True}
    assert deleted[-1] == {"pmid": "34096142", "deleted": True}
    assert all_records[-20:] == deleted           # in document order, after the articles


# ------------------------------------------------------------------ sources and xml

def test_gzip_paths_and_file_objects_give_the_same_records(tmp_path):
    expected = list(parse(UPDATE))
    gz = tmp_path / "update.xml.gz"
    gz.write_bytes(gzip.compress(UPDATE.read_bytes()))
    named_plainly = tmp_path / "no-suffix"                # recognised by magic bytes
    named_plainly.write_bytes(gz.read_bytes())
    assert list(parse(gz)) == expected
    assert list(parse(str(named_plainly))) == expected
    assert list(parse(io.BytesIO(UPDATE.read_bytes()))) == expected
    assert list(parse(io.BytesIO(gz.read_bytes()))) == expected
    with gz.open("rb") as f:
        assert list(parse(f)) == expected
    data = UPDATE.read_bytes()                         # a multi-member gzip stream
    members = gzip.compress(data[:10_000]) + gzip.compress(data[10_000:])
    assert list(parse(io.BytesIO(members))) == expected


def test_stopping_early_leaves_the_callers_file_open():
    f = io.BytesIO(UPDATE.read_bytes())
    records_ = parse(f)
    assert next(records_)["pmid"] == "34092084"
    records_.close()
    assert not f.closed


def test_book_article_set_root():
    book = BOOK.read_bytes().split(b"<PubmedArticleSet>")[1].split(b"</PubmedArticleSet>")[0]
    doc = b"<PubmedBookArticleSet>" + book + b"</PubmedBookArticleSet>"
    assert list(parse(io.BytesIO(doc))) == list(parse(BOOK))


def test_keep_xml_gives_each_records_own_element(tmp_path):
    with_xml = list(parse(UPDATE, keep_xml=True))
    for rec in with_xml:
        if rec.get("deleted"):
            continue
        xml = rec["xml"]
        assert isinstance(xml, bytes)
        assert xml.startswith(b"<PubmedArticle") and xml.endswith(b"</PubmedArticle>")
        again = list(parse(io.BytesIO(b"<PubmedArticleSet>" + xml + b"</PubmedArticleSet>"),
                           keep_xml=True))
        assert again == [rec]
    mathml = next(r for r in with_xml if r["pmid"] == "34092205")["xml"]
    assert b'="http://www.w3.org/1998/Math/MathML"' in mathml      # a proper xmlns declaration
    assert b"MathML}" not in mathml                                # not expat's 'uri}name' 
    [book] = parse(BOOK, keep_xml=True)
    assert book["xml"].startswith(b"<PubmedBookArticle>")
    assert "\u00a9 2001".encode() in book["xml"]            # UTF-8, not character references


def test_the_collector_runs_as_the_caller_had_it_whenever_a_record_comes():
    """The reader pauses the cyclic collector while it parses a read, never across a
    yield: the caller's code runs with the collector as it was, also after an error."""
    data = UPDATE.read_bytes()
    assert gc.isenabled()
    states = [gc.isenabled() for _ in parse(io.BytesIO(data))]
    assert len(states) > 10 and all(states) and gc.isenabled()
    gc.disable()
    try:
        assert not any(gc.isenabled() for _ in parse(io.BytesIO(data)))
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(PubmedParseError):
        for _ in parse(io.BytesIO(data[: len(data) // 2])):
            assert gc.isenabled()
    assert gc.isenabled()


def test_records_before_an_error_in_the_same_read_still_come():
    """A read's records are made before any is yielded; those made before a bad one in
    the same read still come, in order, and then the error."""
    data = UPDATE.read_bytes()
    end = data.rindex(b"</PubmedArticleSet>")
    bad = b"<PubmedArticle><MedlineCitation/></PubmedArticle>\n"
    assert len(data) < 256 * 1024                       # all in one read
    got = []
    with pytest.raises(PubmedParseError, match="without a PMID"):
        for rec in parse(io.BytesIO(data[:end] + bad + data[end:])):
            got.append(rec)
    assert got == list(parse(io.BytesIO(data)))


def test_broken_gzip_streams_of_every_kind_are_parse_errors():
    """The ISA-L inflater's own errors (a corrupt block, a wrong CRC, a cut stream) are
    PubmedParseErrors like the standard library's."""
    packed = gzip.compress(UPDATE.read_bytes())
    corrupt = packed[:30] + bytes(40) + packed[70:]
    wrong_crc = packed[:-8] + b"\0\0\0\0" + packed[-4:]
    for broken in (corrupt, wrong_crc, packed[:-3]):
        assert "broken gzip stream" in str(error_of(broken))


def test_text_stream_is_refused():
    with pytest.raises(TypeError):
        list(parse(io.StringIO("<PubmedArticleSet/>")))


def test_empty_article_set_gives_nothing():
    assert list(parse(io.BytesIO(b"<PubmedArticleSet>\n</PubmedArticleSet>\n"))) == []


# ------------------------------------------------------------- malformed and hostile

def test_truncated_document_fails_without_yielding_a_partial_record():
    data = UPDATE.read_bytes()
    complete = records(UPDATE)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 30):
        got = []
        with pytest.raises(PubmedParseError) as caught:
            for rec in parse(io.BytesIO(data[:cut])):
                got.append(rec)
        assert WHERE.match(str(caught.value))
        assert int(str(caught.value).split()[1].rstrip(",")) > 1      # a real line number
        for rec in got:                   # whatever came before the error is whole
            if not rec.get("deleted"):
                assert rec == complete[rec["pmid"]]


def test_empty_file():
    assert str(error_of(b"")) == "line 1, column 1: no element found"


def test_not_xml():
    message = str(error_of(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"))
    assert message == "line 1, column 9: not well-formed (invalid token)"


def test_html_page():
    page = (b"<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>502 Bad Gateway</title></head>\n"
            b"<body><h1>Bad Gateway</h1></body>\n</html>\n")
    message = str(error_of(page))
    assert re.fullmatch(r"line 2, column \d+: the root element is <html>, not <PubmedArticleSet>",
                        message), message
    sloppy = b"<html><head><meta charset=utf-8></head><body><p>Error</body></html>"
    assert "line 1" in str(error_of(sloppy))


def test_other_root_element():
    message = str(error_of(b'<?xml version="1.0"?>\n<eSearchResult><Count>0</Count></eSearchResult>'))
    assert re.match(r"line 2, column \d+: the root element is <eSearchResult>", message), message


def test_unexpected_element_in_the_set():
    message = str(error_of(b"<PubmedArticleSet><Foo/><Bar/></PubmedArticleSet>"))
    assert "unexpected element <Foo> in <PubmedArticleSet>" in message


def test_record_without_pmid():
    assert "without a PMID" in str(error_of(
        b"<PubmedArticleSet><PubmedArticle><MedlineCitation/></PubmedArticle></PubmedArticleSet>"))


def test_a_pmid_given_twice_is_refused_only_with_other_content_in_the_same_version():
    def article(version: str, title: str) -> bytes:
        return (b'<PubmedArticle><MedlineCitation><PMID Version="%s">22222222</PMID>'
                b'<Article><Journal><Title>J</Title></Journal><ArticleTitle>%s'
                b'</ArticleTitle></Article></MedlineCitation></PubmedArticle>'
                % (version.encode(), title.encode()))

    def document(*records: bytes) -> bytes:
        return b"<PubmedArticleSet>" + b"".join(records) + b"</PubmedArticleSet>"

    versions = list(parse(io.BytesIO(document(article("1", "A"), article("2", "B")))))
    assert [r["title"] for r in versions] == ["A", "B"]
    again = list(parse(io.BytesIO(document(article("1", "A"), article("1", "A")))))
    assert [r["title"] for r in again] == ["A", "A"]
    message = str(error_of(document(article("1", "A"), article("1", "B"))))
    assert "record 2 has the PMID 22222222, as record 1 has, but another title" in message


def test_billion_laughs_is_refused_before_any_expansion():
    lol = [b'<!ENTITY lol0 "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10)))
        for i in range(1, 10)]
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n' + b"\n".join(lol)
            + b"\n]>\n<PubmedArticleSet>&lol9;</PubmedArticleSet>\n")
    message = str(error_of(data))
    assert re.fullmatch(r"line 3, column \d+: entity declarations are not allowed "
                        r"\(entity 'lol0'\)", message), message


def test_external_entity_is_refused_and_never_fetched(no_network):
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n'
            b'<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
            b"<PubmedArticleSet>&secret;</PubmedArticleSet>\n")
    assert "entity declarations are not allowed (entity 'secret')" in str(error_of(data))


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        self.hits.append(self.path)
        body = b'<!ENTITY pwned "from the server">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def dtd_server():
    """A live DTD server on the loopback address that counts the requests it gets."""
    _CountingHandler.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _CountingHandler.hits
    server.shutdown()
    server.server_close()


def test_doctype_dtd_urls_are_never_fetched(dtd_server, monkeypatch):
    base, hits = dtd_server
    record = EFETCH.read_bytes().split(b"<PubmedArticleSet>")[1]
    expected = list(parse(EFETCH))
    urls = [f"http://127.0.0.1:{free_port()}/x.dtd", f"{base}/pubmed_190101.dtd",
            "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd",
            "http://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd"]
    connects = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect",
                        lambda self, address: (connects.append(address), real_connect(self, address)))
    for url in urls:
        doc = (b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet PUBLIC '
               b'"-//NLM//DTD PubMedArticle, 1st January 2019//EN" "' + url.encode()
               + b'">\n<PubmedArticleSet>' + record)
        started = time.monotonic()
        assert list(parse(io.BytesIO(doc))) == expected, url
        assert time.monotonic() - started < 5
    assert connects == [] and hits == []
    # and an entity the (unread) DTD would have declared stays undefined
    doc = (b'<!DOCTYPE PubmedArticleSet SYSTEM "' + base.encode() + b'/pubmed_190101.dtd">\n'
           b"<PubmedArticleSet>&pwned;</PubmedArticleSet>")
    assert "undefined entity" in str(error_of(doc))
    assert connects == [] and hits == []


def test_deeply_nested_elements():
    deep = b"<PubmedArticleSet>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</PubmedArticleSet>"
    assert "nested more than" in str(error_of(deep))
    title = (b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
             b"<ArticleTitle>" + b"<i>" * 3000 + b"x" + b"</i>" * 3000 + b"</ArticleTitle>"
             b"</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>")
    assert "nested" in str(error_of(title, keep_xml=True))


def test_broken_gzip_streams():
    packed = gzip.compress(UPDATE.read_bytes())
    assert "broken gzip stream" in str(error_of(packed[: len(packed) // 2]))
    assert "broken gzip stream" in str(error_of(b"\x1f\x8b" + b"not really gzip" * 10))


# ------------------------------------------------------------------------- memory

def test_memory_stays_flat_on_a_50_mb_file(tmp_path):
    """~50 MB of copies of a real record (new PMIDs), written from a generator: the peak
    of Python allocations while parsing stays a small fraction of the file size."""
    record = EFETCH.read_bytes().split(b"<PubmedArticleSet>")[1].split(b"</PubmedArticleSet>")[0]
    header = b'<?xml version="1.0" ?>\n<PubmedArticleSet>'
    target = 50 * 1024 * 1024
    path = tmp_path / "big.xml"

    def copies():
        written, pmid = 0, 50_000_000
        while written < target:
            pmid += 1
            chunk = record.replace(b">29768149</PMID>", b">%d</PMID>" % pmid)
            written += len(chunk)
            yield chunk

    with path.open("wb") as f:
        f.write(header)
        for chunk in copies():
            f.write(chunk)
        f.write(b"</PubmedArticleSet>\n")
    size = path.stat().st_size
    assert size >= target

    tracemalloc.start()
    try:
        count, last = 0, None
        for rec in parse(path):
            count += 1
            last = rec["pmid"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == size // len(record)
    assert last == str(50_000_000 + count)
    assert peak < 10 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"


def test_module_is_pure():
    source = Path(pubmed.__file__).read_text(encoding="utf-8")
    for forbidden in ("import kb", "from kb", "urllib", "http.client", "socket", "requests"):
        assert forbidden not in source, forbidden


def test_keep_xml_gives_the_records_bytes_as_they_came():
    raw = UPDATE.read_bytes()
    records = [r for r in parse(UPDATE, keep_xml=True) if not r.get("deleted")]
    assert records and all(r["xml"] in raw for r in records)


def test_keep_xml_of_a_non_utf8_document_is_serialised_as_utf8():
    record = (b"<PubmedArticle><MedlineCitation><PMID>7</PMID><Article><ArticleTitle>"
              b"Caf\xe9</ArticleTitle></Article></MedlineCitation></PubmedArticle>")
    doc = (b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<PubmedArticleSet>' + record
           + b"</PubmedArticleSet>")
    [rec] = parse(io.BytesIO(doc), keep_xml=True)
    assert rec["title"] == "Caf\u00e9"
    assert "Caf\u00e9".encode("utf-8") in rec["xml"]
