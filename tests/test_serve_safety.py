"""`kb serve` publishes a read-only knowledge base: no writes, bounded queries, inert text.

The hostile fixture (tests/fixtures/hostile) holds script injections in every free-text
cell a page shows; here the served HTML and SVG are read as text, and
tests/test_browser.py opens the same pages in Chromium.
"""

import hashlib
import re
import json
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from helpers import HOSTILE_PAGES, datasette_for, getter
from kb.web.settings import as_dict as datasette_settings


def request(url, method="GET", data=None):
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=20) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def sql(url, statement):
    status, _, body = request(f"{url}/kb.json?sql={quote(statement)}&_shape=objects")
    return status, json.loads(body)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_method_but_get_and_head_is_refused(served, method):
    url, db = served
    before = digest(db)
    for path in ("/", "/kb", "/kb/claims", "/kb/claims/gamma1999-c01", "/-/messages",
                 "/-/permissions", "/kb/-/export/sources.bib", "/kb.db"):
        status, headers, body = request(url + path, method, data=b"message=hello")
        assert status == 405, (method, path, status)
        assert headers["Allow"] == "GET, HEAD"
        assert "served read-only" in body
    assert digest(db) == before
    assert request(url + "/kb/claims", "HEAD")[0] == 200


@pytest.mark.parametrize("statement", [
    "insert into claims (id) values ('x')",
    "update sources set title = 'changed'",
    "delete from claims",
    "drop table claims",
    "create table t (x)",
    "attach database '/tmp/other.db' as other",
    "pragma writable_schema = 1",
    "select load_extension('/tmp/x.so')",
])
def test_sql_that_would_write_is_refused(served, statement):
    url, db = served
    before = digest(db)
    status, body = sql(url, statement)
    assert status in (400, 403), (statement, status, body)
    assert body["ok"] is False and body["error"]
    assert digest(db) == before


def test_a_runaway_query_stops_at_the_time_limit(served):
    url, _ = served
    started = time.monotonic()
    status, body = sql(url, "with recursive c(x) as (select 1 union all select x + 1 "
                            "from c) select count(*) from c")
    assert status == 400 and "SQL query took too long" in body["error"]
    assert time.monotonic() - started < 10   # the limit is 1 s; the server was idle


def test_a_query_returns_at_most_the_row_limit(served):
    url, _ = served
    status, body = sql(url, "with recursive c(x) as (select 1 union all select x + 1 "
                            "from c where x < 5000) select x from c")
    assert status == 200
    assert len(body["rows"]) == int(datasette_settings()["max_returned_rows"]) == 1000
    assert body["truncated"] is True


@pytest.mark.parametrize("expression", ["length(zeroblob(60000000))",
                                        "length(randomblob(60000000))",
                                        "length(replace(hex(zeroblob(20000000)), '0', "
                                        "'xyz'))"])
def test_a_value_larger_than_the_cap_is_refused(served, expression):
    url, _ = served
    status, body = sql(url, f"select {expression}")
    assert status == 400 and "too big" in body["error"]


def test_the_settings_served_are_ours_and_the_database_immutable(served):
    url, _ = served
    settings = json.loads(request(url + "/-/settings.json")[2])
    words = {"off": "false", "on": "true"}
    for name, value in datasette_settings().items():
        assert str(settings[name]).lower() == words.get(value, value), name
    databases = json.loads(request(url + "/-/databases.json")[2])
    kb = next(d for d in databases if d["name"] == "kb")
    assert kb["is_mutable"] is False


def test_the_tests_in_process_client_is_served_as_kb_serve_serves(served):
    """helpers.datasette_for, which the in-process page tests use, has the settings and
    the immutable database of the running `kb serve`."""
    url, db = served
    get = getter(datasette_for(db))
    assert get("/-/settings.json").json() == json.loads(request(url + "/-/settings.json")[2])
    served_db = [{k: d[k] for k in ("name", "path", "is_mutable", "is_memory")}
                 for d in json.loads(request(url + "/-/databases.json")[2])]
    in_process = [{k: d[k] for k in ("name", "path", "is_mutable", "is_memory")}
                  for d in get("/-/databases.json").json()]
    assert in_process == served_db == [{"name": "kb", "path": str(db), "is_mutable": False,
                                        "is_memory": False}]


def test_every_answer_says_nosniff_and_downloads_forbid_scripts(served):
    url, _ = served
    for path in ("/kb", "/kb/claims.json", "/kb/no-such-table", "/kb/-/export/sources.bib",
                 "/kb/-/export/sources.vancouver.html", "/kb/-/plot/outcome/nope"):
        _, headers, _ = request(url + path)
        assert headers["x-content-type-options"] == "nosniff", path
    for path in ("/kb/-/export/sources.vancouver.html", "/kb/-/export/sources.bib"):
        _, headers, _ = request(url + path)
        assert headers["content-security-policy"].startswith("default-src 'none'"), path


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data")


class PageScan(HTMLParser):
    """What a browser would run of the payloads (script text, event handlers,
    javascript: URLs) and the text it would show."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.active, self.text, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and "kbXss" in value:
                self.active.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.active.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "kbXss" in data:
            self.active.append(f"<script>{data}")
        elif not self._in_script:
            self.text.append(data)


# labels of injected cells each page must show as text (it shows the cell at all)
SHOWN = {
    "/kb/claims/primary2015-c01": {"statement", "locator"},
    "/kb/claims/review2020-c01": {"statement", "claim-notes"},
    "/kb/sources/review2020": {"title", "author", "journal", "source-notes"},
    "/kb/citations": {"cited_as", "citation-notes"},
    "/kb/sources/primary2016": {"pubmed-title"},
    "/kb/pubmed_records/90000002": {"pubmed-title", "abstract"},
    "/kb/vocabulary": {"definition"},
    "/kb/-/plot/outcome/overall-survival": {"plot-statement"},
    "/kb/-/plot/outcome/overall-survival.svg": {"plot-statement"},
    "/kb/-/export/sources.vancouver.html": {"title", "plot-title", "smith", "pubmed-title"},
    "/kb/-/export/reference-list/review2020.ama.html": {"title", "smith"},
    "/kb/-/export/evidence-table.html": {"statement", "journal"},
    "/kb/claims?_search=%3Cscript%3EkbXss('search')%3C%2Fscript%3E": {"search"},
    "/kb/-/question/hostile-q": {"question", "question-notes", "certainty-reason"},
    "/kb/-/question/hostile-q.svg": {"question"},
    "/kb/-/question/hostile-q.sof.html": {"question", "certainty-reason", "plot-title"},
}


@pytest.mark.parametrize("path", HOSTILE_PAGES)
def test_injected_markup_is_shown_as_text_never_run(hostile_url, path):
    status, headers, body = request(hostile_url + path)
    assert status == 200, (path, body[:300])
    page = PageScan()
    page.feed(body)
    assert page.active == [], path
    # pandoc prints a title's quotes as typographic ones, and single as double
    text = re.sub("['\"\u2018\u2019\u201c\u201d]", "", "".join(page.text))
    for label in SHOWN.get(path, ()):
        assert f"kbXss({label})" in text, (path, label)
