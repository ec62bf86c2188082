"""The tests' fixtures; the plain helpers they use are in helpers.py."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import DATA, FIXTURES, copy_with_records, kb_serve
from kb.cli import cli


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


def built_once(tmp_path_factory, name: str, data: Path) -> Path:
    """The database built from data, in a folder of the session's own."""
    from kb.db import build

    path = tmp_path_factory.mktemp(name) / "kb.db"
    build.build(path, data)
    return path


def connected(path: Path):
    """A connection to path for the session's readers, closed after them."""
    import sqlite3

    conn = sqlite3.connect(path)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def export_db(tmp_path_factory):
    """The export fixture data (tests/fixtures/export) built once for the session."""
    return built_once(tmp_path_factory, "export", FIXTURES / "export")


@pytest.fixture(scope="session")
def export_conn(export_db):
    """A connection to export_db, shared by the export tests (they only read)."""
    yield from connected(export_db)


@pytest.fixture(scope="session")
def real_db(tmp_path_factory):
    """The repository's own data/ built once for the session (the tests only read it)."""
    return built_once(tmp_path_factory, "real", DATA)


@pytest.fixture(scope="session")
def real_conn(real_db):
    """A connection to real_db, shared by the tests that read it."""
    yield from connected(real_db)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`kb serve` on a database it builds from the minimal fixture, one for each test
    module: (base URL, the database file)."""
    db = tmp_path_factory.mktemp("served") / "kb.db"
    with kb_serve(db, FIXTURES / "minimal") as url:
        yield url, db


@pytest.fixture(scope="session")
def hostile_url(tmp_path_factory):
    """`kb serve` on the hostile fixture, its PubMed records loaded into the cache."""
    data = copy_with_records("hostile", tmp_path_factory.mktemp("hostile") / "data")
    with kb_serve(data.parent / "kb.db", data) as url:
        yield url
