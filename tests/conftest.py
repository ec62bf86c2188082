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

import pytest
from click.testing import CliRunner

from kb.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
DATA = REPO / "data"


@pytest.fixture
def data_dir(tmp_path):
    """A writable copy of the small valid fixture data set."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", target)
    return target


@pytest.fixture
def run():
    """Run a kb command in-process; returns the click Result."""
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a fixture file, failing loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as f:
        f.write(line + "\n")


def reference_row(**fields: str) -> list[str]:
    """A references.csv row in the file's column order; unnamed columns blank."""
    from kb.data import schema
    unknown = set(fields) - set(schema.REFERENCES.columns)
    assert not unknown, f"not references.csv columns: {unknown}"
    return [fields.get(c, "") for c in schema.REFERENCES.columns]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def kb_serve(db: Path, data: Path, timeout: float = 30):
    """Run `kb serve` on a free port; yields the base URL; stops the server after."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "kb"), "serve", str(db), "--data", str(data),
         "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
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


@pytest.fixture
def standin(monkeypatch):
    """The E-utilities stand-in (tests/eutils_standin.py) serving the real fixture
    records, reached through NCBI_EUTILS_URL by kb commands in-process and in
    subprocesses alike; retries are quick."""
    from eutils_standin import Standin, real_records

    with Standin() as server:
        server.records.update(real_records())
        monkeypatch.setenv("NCBI_EUTILS_URL", server.url)
        monkeypatch.setenv("NCBI_EMAIL", "curator@example.org")
        monkeypatch.delenv("NCBI_API_KEY", raising=False)
        monkeypatch.setenv("NCBI_BACKOFF", "0.01")
        monkeypatch.setenv("NCBI_TIMEOUT", "2")
        monkeypatch.setenv("NCBI_ATTEMPTS", "3")
        yield server


def efetches(server) -> list[tuple[str, str, dict]]:
    """The efetch requests the stand-in received: (method, utility, parameters)."""
    return [r for r in server.requests if r[1] == "efetch"]


def cached(data: Path) -> list[str]:
    """Names of the record files in data/pubmed/, sorted."""
    return sorted(p.name for p in (data / "pubmed").glob("*.xml.gz")) if (
        data / "pubmed").exists() else []


@pytest.fixture(scope="session")
def export_db(tmp_path_factory):
    """The export fixture data (tests/fixtures/export) built once for the session."""
    from kb.db import build

    path = tmp_path_factory.mktemp("export") / "kb.db"
    build.build(path, FIXTURES / "export")
    return path


@pytest.fixture(scope="session")
def export_conn(export_db):
    """A connection to export_db, shared by the export tests (they only read)."""
    import sqlite3

    conn = sqlite3.connect(export_db)
    yield conn
    conn.close()


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
    "/kb/-/export/evidence-table.html",
)


@pytest.fixture(scope="session")
def hostile_url(tmp_path_factory):
    """`kb serve` on the hostile fixture, its PubMed records loaded into the cache."""
    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(FIXTURES / "hostile", data)
    loaded = CliRunner().invoke(cli, ["fetch", "--data", str(data), "--load",
                                      str(data / "pubmed.xml")], catch_exceptions=False)
    assert loaded.exit_code == 0, loaded.output
    with kb_serve(data.parent / "kb.db", data) as url:
        yield url
