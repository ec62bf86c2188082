"""What ingest/entrez.py relies on Bio.Entrez to do, held against Biopython itself.

`Client._entrez` swaps Bio.Entrez's module globals for the length of one call: it
replaces `Entrez.urlopen` with a function that rewrites the base URL and adds a timeout,
and sets `email`, `api_key`, `tool` and `max_tries`. That works only while every
E-utility builds a `urllib.request.Request` for https://eutils.ncbi.nlm.nih.gov/...,
opens it through the global `Entrez.urlopen` looked up at call time, reads those
globals at every request, and POSTs long ID lists. Each test here fails if Biopython
stops doing one of these. No network: requests go to a recording fake or to the local
stand-in (tests/eutils_standin.py).
"""

from __future__ import annotations

import http.client
import io
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlsplit
from urllib.response import addinfourl

import pytest
from Bio import Entrez

from eutils_standin import real_records
from ingest import entrez

EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
BODY = b'<?xml version="1.0" ?>\n<eSearchResult><Count>0</Count></eSearchResult>\n'


class Recorder:
    """A stand-in for urllib.request.urlopen: records each request, the keyword
    arguments it was opened with and Entrez.max_tries at that moment; answers BODY, or
    raises `error` if one is given."""

    def __init__(self, error: Exception | None = None, content_type: str = "text/xml"):
        self.requests: list[urllib.request.Request] = []
        self.kwargs: list[dict] = []
        self.max_tries: list[int] = []
        self.error = error
        self.content_type = content_type

    def __call__(self, request, **kwargs):
        self.requests.append(request)
        self.kwargs.append(kwargs)
        self.max_tries.append(Entrez.max_tries)
        if self.error:
            raise self.error
        headers = http.client.HTTPMessage()
        headers["Content-Type"] = f"{self.content_type}; charset=UTF-8"
        return addinfourl(io.BytesIO(BODY), headers, request.full_url, 200)


def where(request: urllib.request.Request) -> str:
    """The request's URL without its query."""
    url = urlsplit(request.full_url)
    return f"{url.scheme}://{url.netloc}{url.path}"


def parameters(request: urllib.request.Request) -> dict[str, str]:
    """The request's parameters, from the query of a GET or the body of a POST; each
    given once."""
    text = request.data.decode() if request.data else urlsplit(request.full_url).query
    pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    assert len({name for name, _ in pairs}) == len(pairs), pairs
    return dict(pairs)


@pytest.fixture
def fake(monkeypatch) -> Recorder:
    """A Recorder as Bio.Entrez's urlopen; every global a test changes is put back."""
    for name in ("email", "api_key", "tool", "max_tries", "sleep_between_tries"):
        monkeypatch.setattr(Entrez, name, getattr(Entrez, name))
    monkeypatch.setattr(Entrez, "email", "curator@example.org")
    monkeypatch.setattr(Entrez, "api_key", None)
    monkeypatch.setattr(Entrez, "tool", "nelm-kb")
    recorder = Recorder()
    monkeypatch.setattr(Entrez, "urlopen", recorder)
    return recorder


def test_efetch_opens_a_get_request_through_the_module_urlopen(fake):
    handle = Entrez.efetch(db="pubmed", id="1", retmode="xml")
    assert handle.read() == BODY   # the urlopen's answer is handed back as it is
    [request] = fake.requests
    assert isinstance(request, urllib.request.Request)
    assert request.get_method() == "GET"
    assert request.full_url.startswith(EUTILS + "efetch.fcgi?")
    assert entrez.NCBI_EUTILS_URL == EUTILS   # the prefix the client rewrites
    assert parameters(request) == {"db": "pubmed", "id": "1", "retmode": "xml",
                                   "tool": "nelm-kb", "email": "curator@example.org"}
    assert fake.kwargs == [{}]     # no timeout of its own: the client's is added


@pytest.mark.parametrize("utility, call, script", [
    ("esearch", lambda: Entrez.esearch(db="pubmed", term="fixtures", usehistory="y",
                                       retmax=0), "esearch.fcgi"),
    ("elink", lambda: Entrez.elink(dbfrom="pubmed", db="pubmed", id="1",
                                   linkname=entrez.REFS), "elink.fcgi"),
    ("ecitmatch", lambda: Entrez.ecitmatch(db="pubmed", bdata=[
        {"journal_title": "j fixtures", "year": "1999", "volume": "3", "first_page": "5",
         "author_name": "gamma g", "key": "k1"}]), "ecitmatch.cgi"),
])
def test_every_utility_the_client_calls_opens_an_eutils_url_through_urlopen(
        fake, utility, call, script):
    call().read()
    [request] = fake.requests
    assert where(request) == EUTILS + script
    sent = parameters(request)
    assert (sent["tool"], sent["email"]) == ("nelm-kb", "curator@example.org")
    assert "api_key" not in sent


def test_identity_is_read_from_the_module_at_every_request(fake):
    Entrez.esearch(db="pubmed", term="first").read()
    Entrez.email, Entrez.tool, Entrez.api_key = "other@example.org", "other-tool", "k3y"
    Entrez.esearch(db="pubmed", term="second").read()
    assert [parameters(r) for r in fake.requests] == [
        {"db": "pubmed", "term": "first", "tool": "nelm-kb", "email": "curator@example.org"},
        {"db": "pubmed", "term": "second", "tool": "other-tool", "email": "other@example.org",
         "api_key": "k3y"}]


@pytest.mark.parametrize("max_tries", [1, 3])
def test_max_tries_is_read_at_every_request(fake, max_tries):
    fake.error = urllib.error.HTTPError(EUTILS + "efetch.fcgi", 500, "busy", None, None)
    Entrez.max_tries = max_tries
    with pytest.raises(urllib.error.HTTPError):
        Entrez.efetch(db="pubmed", id="1", retmode="xml")
    assert len(fake.requests) == max_tries


def test_a_connection_error_is_raised_at_once_with_a_single_try(fake):
    Entrez.max_tries, Entrez.sleep_between_tries = 1, 60   # a retry would wait a minute
    fake.error = urllib.error.URLError(ConnectionRefusedError(111, "refused"))
    with pytest.raises(urllib.error.URLError):
        Entrez.efetch(db="pubmed", id="1", retmode="xml")
    assert len(fake.requests) == 1


@pytest.mark.parametrize("count, method", [(entrez.BATCH_SIZE, "POST"), (50, "GET")])
def test_long_id_lists_are_posted_with_the_ids_in_the_body(fake, count, method):
    # a full batch of the client's is posted; its last, short one goes as a GET
    ids = ",".join(str(10000000 + i) for i in range(count))
    Entrez.efetch(db="pubmed", id=ids, retmode="xml").read()
    [request] = fake.requests
    assert request.get_method() == method
    if method == "POST":
        assert request.full_url == EUTILS + "efetch.fcgi"   # nothing in the URL
    else:
        assert request.data is None and where(request) == EUTILS + "efetch.fcgi"
    assert parameters(request) == {"db": "pubmed", "id": ids, "retmode": "xml",
                                   "tool": "nelm-kb", "email": "curator@example.org"}


def test_the_client_swaps_base_url_timeout_and_tries_for_one_call_only(fake):
    client = entrez.Client(base_url="http://127.0.0.1:9/local/eutils", email="me@example.org",
                           api_key="s3cret", attempts=1, timeout=7.5)
    assert client.call("efetch", db="pubmed", id="1", retmode="xml") == BODY
    [request] = fake.requests
    assert where(request) == "http://127.0.0.1:9/local/eutils/efetch.fcgi"
    assert parameters(request) == {"db": "pubmed", "id": "1", "retmode": "xml",
                                   "tool": entrez.TOOL, "email": "me@example.org",
                                   "api_key": "s3cret"}
    assert fake.kwargs == [{"timeout": 7.5}]
    assert fake.max_tries == [1]
    # and Bio.Entrez is as it was
    assert Entrez.urlopen is fake
    assert (Entrez.email, Entrez.api_key, Entrez.tool) == (
        "curator@example.org", None, "nelm-kb")


def test_the_client_with_a_local_base_url_reaches_the_standin(standin, monkeypatch):
    monkeypatch.setattr(Entrez, "urlopen", Entrez.urlopen)   # put back if a test fails
    pmid = sorted(real_records())[0]
    client = entrez.Client(base_url=standin.url, email="me@example.org", api_key=None,
                           attempts=1, timeout=5)
    body = entrez.fetch_pubmed(client, [pmid])
    assert standin.requests == [("GET", "efetch", {
        "db": "pubmed", "id": pmid, "retmode": "xml", "tool": "nelm-kb",
        "email": "me@example.org"})]
    assert f'<PMID Version="1">{pmid}</PMID>' in body.decode()
    assert Entrez.urlopen is urllib.request.urlopen
