"""Plain helpers and constants the tests share (fixtures stay in conftest.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
DATA = REPO / "data"

# Pages of the hostile fixture (tests/fixtures/hostile) that show its injected cells
HOSTILE_PAGES = (
    "/kb", "/kb/claims", "/kb/claims/primary2015-c01", "/kb/claims/review2020-c01",
    "/kb/claims/primary2016-c02", "/kb/sources", "/kb/sources/review2020",
    "/kb/sources/primary2010", "/kb/sources/primary2016", "/kb/sources/smith",
    "/kb/claim_evidence", "/kb/claim_trails", "/kb/claim_conflicts", "/kb/citations",
    "/kb/vocabulary", "/kb/authors", "/kb/pubmed_records", "/kb/pubmed_records/90000002",
    "/kb/search_claims?q=survival", "/kb/claims?_search=survival",
    "/kb/claims?_search=%3Cscript%3EkbXss('search')%3C%2Fscript%3E",
    "/kb/-/plot/outcome/overall-survival", "/kb/-/plot/outcome/overall-survival.svg",
    "/kb/-/export/sources.vancouver.html", "/kb/-/export/reference-list/review2020.ama.html",
    "/kb/-/export/evidence-table.html", "/kb/-/question/hostile-q",
    "/kb/-/question/hostile-q.svg", "/kb/-/question/hostile-q.sof.html", "/kb/questions",
    "/kb/certainty", "/kb/claim_flags", "/kb/synthesis_studies", "/",
    "/kb/-/search?q=survival", "/kb/-/search?q=%3Cscript%3EkbXss('search')%3C%2Fscript%3E",
)


# -- data files ---------------------------------------------------------------------------


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a fixture file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as f:
        f.write(line + "\n")


def reference_row(**fields: str) -> list[str]:
    """A references.csv row in the order of the columns every file has (the fixtures'
    files leave out the columns added later); unnamed columns blank."""
    from kb.data import schema
    columns = [f.name for f in schema.REFERENCES.fields if not f.may_be_absent]
    unknown = set(fields) - set(columns)
    assert not unknown, f"not references.csv columns: {unknown}"
    return [fields.get(c, "") for c in columns]


def copy_with_records(fixture: str, target: Path) -> Path:
    """A copy of tests/fixtures/<fixture> at target, its pubmed.xml loaded into the cache
    by `kb fetch --load`; returns target."""
    from click.testing import CliRunner

    from kb.cli import cli

    shutil.copytree(FIXTURES / fixture, target)
    loaded = CliRunner().invoke(cli, ["fetch", "--data", str(target), "--load",
                                      str(target / "pubmed.xml")], catch_exceptions=False)
    assert loaded.exit_code == 0, loaded.output
    return target


# -- the PubMed cache and the E-utilities stand-in ----------------------------------------


def efetches(server) -> list[tuple[str, str, dict]]:
    """The efetch requests the stand-in received: (method, utility, parameters)."""
    return [r for r in server.requests if r[1] == "efetch"]


def cached(data: Path) -> list[str]:
    """Names of the record files in data/pubmed/, sorted."""
    return sorted(p.name for p in (data / "pubmed").glob("*.xml.gz")) if (
        data / "pubmed").exists() else []


# -- serving ------------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def kb_serve(db: Path, data: Path, timeout: float = 30, options: tuple[str, ...] = (),
             started: list | None = None):
    """Run `kb serve` on a free port; yields the base URL; stops the server after.
    started, when given, gets the server's process."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "kb"), "serve", str(db), "--data", str(data),
         "--port", str(port), *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    if started is not None:
        started.append(process)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url + "/-/versions.json", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None:
                    raise AssertionError("kb serve exited: " + process.stdout.read().decode())
                if time.monotonic() > deadline:
                    raise AssertionError(f"kb serve did not answer within {timeout} s")
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def served_settings() -> dict[str, object]:
    """kb/web/settings.py's settings as `kb serve` hands them to Datasette: its
    `--setting NAME VALUE` options, converted by `datasette serve`'s own option type
    ("off" -> False, "50" -> 50)."""
    from kb.web import settings

    return settings.for_datasette()


def datasette_for(*dbs: Path, **different):
    """An in-process Datasette serving dbs as `kb serve` does: each database
    `--immutable`, with kb serve's settings; `different` replaces some of them (a test
    that passes any says why)."""
    from datasette.app import Datasette

    return Datasette(immutables=[str(db) for db in dbs],
                     settings={**served_settings(), **different})


def getter(datasette) -> Callable:
    """get(path, status=200): the response of datasette's in-process client to a GET of
    path, failing unless its status is the one expected."""

    def get(path: str, status: int = 200):
        response = asyncio.run(datasette.client.get(path))
        assert response.status_code == status, (path, response.text[:500])
        return response

    return get
