"""A local stand-in for NCBI's E-utilities on 127.0.0.1, with fault injection.

Serves efetch, esearch (with a history server), elink and ecitmatch from records the test
gives it, and can answer the next requests with faults: HTTP 429 / 500, a slow answer, a
body cut short (declared length or XML), an <ERROR> document, an empty result, or a
dropped connection; `delay` slows every answer. Every request is logged with its
parameters.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "eutils"
DOCTYPE = ('<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January '
           '2019//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_190101.dtd">\n')


def real_records() -> dict[str, str]:
    """PMID -> <PubmedArticle> text of the real fixture records."""
    text = (FIXTURES / "three_records.xml").read_text(encoding="utf-8")
    articles = re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, re.S)
    return {re.search(r"<PMID[^>]*>(\d+)</PMID>", a).group(1): a for a in articles}


def clone(record: str, pmid: str) -> str:
    """The record with its own PMID replaced (transport tests only)."""
    return re.sub(r"(<MedlineCitation[^>]*>\s*<PMID[^>]*>)\d+(</PMID>)",
                  rf"\g<1>{pmid}\g<2>", record, count=1)


class Standin:
    def __init__(self):
        self.records: dict[str, str] = {}
        self.searches: dict[str, list[str]] = {}
        self.links: dict[tuple[str, str], list[str]] = {}
        self.citmatch: dict[str, str] = {}  # key -> PMID
        self.faults: list[dict] = []
        self.delay = 0.0  # seconds before every answer
        self.requests: list[tuple[str, str, dict]] = []
        self._histories: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/entrez/eutils/"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def next_fault(self) -> dict | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    # -- answers ---------------------------------------------------------------------

    def answer(self, utility: str, params: dict) -> tuple[str, str]:
        """(content type, body) for one request."""
        if utility == "efetch":
            if "WebEnv" in params or "webenv" in params:
                ids = self._histories.get(params.get("WebEnv") or params.get("webenv"), [])
                start = int(params.get("retstart", 0))
                ids = ids[start: start + int(params.get("retmax", 20))]
            else:
                ids = [i for i in params.get("id", "").split(",") if i]
            found = [self.records[i] for i in ids if i in self.records]
            return "text/xml", ('<?xml version="1.0" ?>\n' + DOCTYPE + "<PubmedArticleSet>\n"
                                + "\n".join(found) + "\n</PubmedArticleSet>\n")
        if utility == "esearch":
            ids = self.searches.get(params.get("term", ""), [])
            webenv = f"MCID_{len(self._histories) + 1}"
            self._histories[webenv] = ids
            retmax = int(params.get("retmax", 20))
            id_list = "".join(f"<Id>{i}</Id>" for i in ids[:retmax])
            return "text/xml", (f'<?xml version="1.0" ?>\n<eSearchResult><Count>{len(ids)}'
                                f"</Count><RetMax>{min(retmax, len(ids))}</RetMax>"
                                f"<RetStart>0</RetStart><QueryKey>1</QueryKey>"
                                f"<WebEnv>{webenv}</WebEnv><IdList>{id_list}</IdList>"
                                "</eSearchResult>\n")
        if utility == "elink":
            pmid, linkname = params.get("id", ""), params.get("linkname", "")
            ids = self.links.get((pmid, linkname))
            linkset = "" if ids is None else (
                f"<LinkSetDb><DbTo>pubmed</DbTo><LinkName>{linkname}</LinkName>"
                + "".join(f"<Link><Id>{i}</Id></Link>" for i in ids) + "</LinkSetDb>")
            return "text/xml", ('<?xml version="1.0" ?>\n<eLinkResult><LinkSet>'
                                f"<DbFrom>pubmed</DbFrom><IdList><Id>{pmid}</Id></IdList>"
                                f"{linkset}</LinkSet></eLinkResult>\n")
        if utility == "ecitmatch":
            lines = []
            for line in params.get("bdata", "").replace("\r", "\n").split("\n"):
                if not line.strip():
                    continue
                parts = line.split("|")
                key = parts[5] if len(parts) > 5 else ""
                lines.append("|".join(parts[:6]) + "|" + self.citmatch.get(key, "NOT_FOUND"))
            return "text/plain", "\n".join(lines) + "\n"
        return "text/plain", "unknown utility"

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _params(self) -> dict:
                query = urllib.parse.urlsplit(self.path).query
                if self.command == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    query = (query + "&" if query else "") + self.rfile.read(length).decode()
                return {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}

            def _handle(self):
                utility = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1]
                utility = utility.split(".", 1)[0]
                params = self._params()
                standin.requests.append((self.command, utility, params))
                fault = standin.next_fault() or {}
                time.sleep(standin.delay)
                if "slow" in fault:
                    time.sleep(fault["slow"])
                if fault.get("drop"):
                    self.close_connection = True
                    self.connection.close()
                    return
                if "status" in fault:
                    body = b"busy"
                    self.send_response(fault["status"])
                    if "retry_after" in fault:
                        self.send_header("Retry-After", str(fault["retry_after"]))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                ctype, text = standin.answer(utility, params)
                if "error" in fault:
                    ctype, text = "text/xml", (f"<eFetchResult><ERROR>{fault['error']}"
                                               "</ERROR></eFetchResult>")
                if fault.get("empty"):
                    text = '<?xml version="1.0" ?>\n<PubmedArticleSet></PubmedArticleSet>\n'
                body = text.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", f"{ctype}; charset=UTF-8")
                if fault.get("truncate"):  # declared length longer than what is sent
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                if fault.get("truncate_xml"):  # a complete answer holding half a document
                    body = body[: len(body) // 2]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

        return Handler
