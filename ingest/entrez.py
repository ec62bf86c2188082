"""The only code that talks to NCBI: a thin wrapper around Bio.Entrez.

Bio.Entrez has no base-URL setting, no timeout and retries 429/5xx without waiting, so
this module wraps it rather than forking it: every request goes through Bio.Entrez's own
functions and its rate limiter (3 requests/s, 10 with an API key), while `Client` swaps
in the base URL (NCBI_EUTILS_URL), a timeout, and retries with exponential backoff.

The fetch_* functions return raw response bytes; parsing lives in ingest.pubmed, saving
in ingest.cache, and the orchestration of the two in ingest.sync.

Bio.Entrez's contract this relies on (held by tests/test_entrez_contract.py): its
functions build a `urllib.request.Request` and open it through the module global
`Bio.Entrez.urlopen`, looked up at call time, so that `Client._entrez` can swap it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import time
import urllib.error
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from Bio import Entrez

NCBI_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
TOOL = "nelm-kb"
BATCH_SIZE = 200  # PMIDs per efetch; Bio.Entrez POSTs lists of 200 and more
REFS = "pubmed_pubmed_refs"
CITED_IN = "pubmed_pubmed_citedin"


class EntrezError(Exception):
    """NCBI could not give what was asked; the message is one line for the user."""


class Unreachable(EntrezError):
    """No connection to the E-utilities at all (offline, DNS, refused)."""


class Retryable(Exception):
    """A response that may succeed when asked again (5xx, 429, timeouts, truncation)."""


def _unreachable(error: BaseException) -> bool:
    reason = getattr(error, "reason", error)
    return isinstance(reason, (socket.gaierror, ConnectionRefusedError)) or (
        isinstance(reason, OSError) and reason.errno in (101, 113))  # net/host unreachable


@dataclass
class Client:
    """Settings for talking to the E-utilities, from the environment by default."""

    base_url: str = field(default_factory=lambda: os.environ.get(
        "NCBI_EUTILS_URL", NCBI_EUTILS_URL))
    email: str | None = field(default_factory=lambda: os.environ.get("NCBI_EMAIL"))
    api_key: str | None = field(default_factory=lambda: os.environ.get("NCBI_API_KEY"))
    attempts: int = field(default_factory=lambda: int(os.environ.get("NCBI_ATTEMPTS", 5)))
    # seconds before the second attempt, doubled for each further one
    backoff: float = field(default_factory=lambda: float(os.environ.get("NCBI_BACKOFF", 1)))
    timeout: float = field(default_factory=lambda: float(os.environ.get("NCBI_TIMEOUT", 60)))
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self):
        if not self.base_url.endswith("/"):
            self.base_url += "/"

    @contextlib.contextmanager
    def _entrez(self):
        """Point Bio.Entrez at our base URL, with our identity and a timeout."""
        saved = (Entrez.email, Entrez.api_key, Entrez.tool, Entrez.max_tries, Entrez.urlopen)
        base_url, timeout = self.base_url, self.timeout

        def urlopen(request, *args, **kwargs):
            url = request.full_url
            if url.startswith(NCBI_EUTILS_URL):
                request.full_url = base_url + url[len(NCBI_EUTILS_URL):]
            return saved[4](request, timeout=timeout)

        Entrez.email, Entrez.api_key, Entrez.tool = self.email, self.api_key, TOOL
        Entrez.max_tries = 1  # retries are ours, with backoff
        Entrez.urlopen = urlopen
        try:
            with warnings.catch_warnings():
                # a missing NCBI_EMAIL is said once, in kb fetch's summary line
                warnings.filterwarnings("ignore", r"\s*Email address is not specified")
                yield Entrez
        finally:
            (Entrez.email, Entrez.api_key, Entrez.tool, Entrez.max_tries,
             Entrez.urlopen) = saved

    def call(self, utility: str, check: Callable[[bytes], None] | None = None,
             **params) -> bytes:
        """Run one E-utility (efetch, esearch, elink, ecitmatch) and return the whole body.

        `check` may raise Retryable (a truncated or error document) to ask again.
        Raises Unreachable at once when there is no connection, EntrezError after the
        last attempt otherwise.
        """
        last = ""
        for attempt in range(1, self.attempts + 1):
            wait = self.backoff * 2 ** (attempt - 1)
            try:
                with self._entrez() as entrez:
                    handle = getattr(entrez, utility)(**params)
                    try:
                        body = handle.read()
                    finally:
                        handle.close()
                if isinstance(body, str):
                    body = body.encode("utf-8")
                _check_error_document(body)
                if check:
                    check(body)
                return body
            except urllib.error.HTTPError as e:
                if e.code != 429 and e.code < 500:
                    raise EntrezError(f"{utility}: NCBI answered HTTP {e.code} {e.reason}")
                last = f"HTTP {e.code}"
                retry_after = e.headers.get("Retry-After") if e.headers else None
                if retry_after and retry_after.isdecimal():
                    wait = max(wait, float(retry_after))
            except (urllib.error.URLError, OSError) as e:
                if _unreachable(e):
                    raise Unreachable(f"cannot reach the E-utilities at {self.base_url}: "
                                      f"{getattr(e, 'reason', e)}") from None
                last = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
            except http.client.HTTPException as e:  # IncompleteRead, BadStatusLine, ...
                last = f"{type(e).__name__}"
            except Retryable as e:
                last = str(e)
            if attempt < self.attempts:
                self.sleep(wait)
        raise EntrezError(f"{utility}: gave up after {self.attempts} attempts ({last})")


def _check_error_document(body: bytes) -> None:
    """An E-utilities <ERROR> payload (sent with HTTP 200) is a failed request."""
    head = body[:2000]
    if b"<ERROR>" in head:
        message = head.split(b"<ERROR>", 1)[1].split(b"</ERROR>", 1)[0]
        raise Retryable("NCBI error: " + message.decode("utf-8", "replace").strip())


# -- fetch: raw responses ------------------------------------------------------------


def batches(ids: Iterable[str], size: int = BATCH_SIZE) -> Iterator[list[str]]:
    batch: list[str] = []
    for pmid in ids:
        batch.append(pmid)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def fetch_pubmed(client: Client, pmids: list[str],
                 check: Callable[[bytes], None] | None = None) -> bytes:
    """One efetch of up to BATCH_SIZE PubMed records as XML.

    Bio.Entrez sends it as a POST when the list is long (200 IDs, or over 1000
    characters of parameters), as NCBI asks.
    """
    return client.call("efetch", check=check, db="pubmed", id=",".join(pmids),
                       retmode="xml")


@dataclass
class SearchResult:
    count: int
    webenv: str
    query_key: str


def search_pubmed(client: Client, query: str) -> SearchResult:
    """esearch with the history server, so that large results are fetched in pages."""
    body = client.call("esearch", db="pubmed", term=query, usehistory="y", retmax=0)
    root = _xml(body, "esearch")
    return SearchResult(count=int(root.findtext("Count") or 0),
                        webenv=root.findtext("WebEnv") or "",
                        query_key=root.findtext("QueryKey") or "")


def fetch_search_page(client: Client, result: SearchResult, start: int,
                      size: int = BATCH_SIZE,
                      check: Callable[[bytes], None] | None = None) -> bytes:
    return client.call("efetch", check=check, db="pubmed", webenv=result.webenv,
                       query_key=result.query_key, retstart=start, retmax=size,
                       retmode="xml")


def fetch_links(client: Client, pmid: str, linkname: str) -> bytes:
    """elink response for one PMID: its references (REFS) or the papers citing it."""
    return client.call("elink", dbfrom="pubmed", db="pubmed", id=pmid, linkname=linkname)


def parse_links(body: bytes, linkname: str) -> list[str]:
    root = _xml(body, "elink")
    return [e.text for db in root.iterfind("LinkSet/LinkSetDb")
            if db.findtext("LinkName") == linkname
            for e in db.iterfind("Link/Id") if e.text]


CITMATCH_FIELDS = ("journal_title", "year", "volume", "first_page", "author_name", "key")


def fetch_citmatch(client: Client, citations: list[dict]) -> bytes:
    """ECitMatch for citations given as dicts with CITMATCH_FIELDS."""
    return client.call("ecitmatch", db="pubmed", bdata=citations)


def parse_citmatch(body: bytes) -> dict[str, str]:
    """key -> PMID for the lines ECitMatch matched (it answers NOT_FOUND otherwise)."""
    found = {}
    for line in body.decode("utf-8", "replace").splitlines():
        parts = line.split("|")
        pmid = parts[6].strip() if len(parts) >= 7 else ""
        if pmid.isascii() and pmid.isdigit():
            found[parts[5]] = pmid
    return found


def _xml(body: bytes, utility: str) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError as e:
        raise EntrezError(f"{utility}: the answer is not XML ({e})") from None
