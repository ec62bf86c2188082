"""kb serve: builds a missing or stale database, then serves it over HTTP."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from eutils_standin import real_records
from helpers import FIXTURES, free_port, kb_serve
from kb.data import schema

KB = Path(sys.executable).parent / "kb"


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


@pytest.fixture
def built(tmp_path, data_dir, run):
    """kb.db built by `kb build` from data_dir."""
    db = tmp_path / "kb.db"
    assert run("build", db, "--data", data_dir).exit_code == 0
    return db


def test_serve_builds_a_missing_database_and_serves_it(tmp_path):
    db = tmp_path / "kb.db"
    with kb_serve(db, FIXTURES / "minimal") as url:
        assert db.exists()
        status, body = fetch(url + "/kb/claims.json?_shape=array")
        assert status == 200
        assert sorted(row["id"] for row in json.loads(body)) == [
            "alpha2001-c01", "alpha2001-c02", "alpha2001-c03", "gamma1999-c01"]
        status, body = fetch(url + "/kb/sources/gamma1999")
        assert status == 200
        assert '<a href="https://pubmed.ncbi.nlm.nih.gov/22222222/">22222222</a>' in body


def worker_pids(pid: int) -> set[int]:
    """The worker processes uvicorn's supervisor (pid) started (not multiprocessing's
    resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()}


def environment(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(pair.decode().split("=", 1) for pair in pairs if b"=" in pair)


def test_serve_runs_the_workers_asked_for_over_the_same_file(built, data_dir):
    started = []
    with kb_serve(built, data_dir, options=("--workers", "2"), started=started) as url:
        workers = worker_pids(started[0].pid)
        assert len(workers) == 2
        for pid in workers:   # each serves the one database file
            assert environment(pid)["KB_SERVE_DB"] == str(built.resolve())
        answers = {fetch(url + "/kb/claims.json?_shape=array")[1] for _ in range(8)}
        assert len(answers) == 1 and json.loads(answers.pop())


def test_serve_with_no_cache_renders_every_answer(built, data_dir):
    with kb_serve(built, data_dir, options=("--workers", "1", "--cache-mb", "0")) as url:
        for _ in range(2):
            with urllib.request.urlopen(url + "/kb/claims", timeout=10) as response:
                assert response.status == 200 and response.headers["etag"]
                assert response.headers["x-kb-cache"] is None
    with kb_serve(built, data_dir, options=("--workers", "1")) as url:
        seen = []
        for _ in range(2):
            with urllib.request.urlopen(url + "/kb/claims", timeout=10) as response:
                seen.append(response.headers["x-kb-cache"])
        assert seen == [None, "hit"]


@pytest.mark.parametrize("value", ["lots", "-1"])
def test_a_cache_size_that_is_not_a_whole_number_of_mib_is_refused(value, monkeypatch):
    from kb.web import caching

    monkeypatch.setenv(caching.CACHE_MB, value)
    with pytest.raises(SystemExit, match=f"KB_CACHE_MB='{value}': give a whole number"):
        caching.capacity()


@pytest.mark.parametrize("content", [None, b"not a database, just some bytes" * 100])
def test_the_workers_refuse_a_path_that_is_not_a_database(content, tmp_path, monkeypatch):
    from kb.web import app

    path = tmp_path / "kb.db"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv(app.DATABASE, str(path))
    with pytest.raises(SystemExit, match=f"kb serve: .*{path.name}"):
        app.app()


def test_serve_rebuilds_when_the_data_are_newer(built, data_dir):
    os.utime(built, (1, 1))  # older than the data files
    with open(data_dir / "claims.csv", "a", encoding="utf-8") as f:
        f.write("gamma1999-c02,gamma1999,Abstract,,A newly curated statement.,qualitative,"
                ",,,,,,,,,,,,https://example.org/gamma,tests,\n")
    with kb_serve(built, data_dir) as url:
        status, body = fetch(url + "/kb/claims/gamma1999-c02.json?_shape=array")
        assert status == 200
        assert [row["statement"] for row in json.loads(body)] == ["A newly curated statement."]


def test_serve_refuses_invalid_data(tmp_path, data_dir):
    (data_dir / "claims.csv").write_text("id\n", encoding="utf-8")
    result = subprocess.run([str(KB), "serve", str(tmp_path / "kb.db"), "--data",
                             str(data_dir), "--port", str(free_port())], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    missing = ", ".join(f"'{f.name}'" for f in schema.CLAIMS.fields[1:] if not f.may_be_absent)
    assert result.stdout == f"{data_dir / 'claims.csv'}:1:1: missing columns {missing}\n"
    assert not (tmp_path / "kb.db").exists()


def test_serve_rebuilds_when_the_pubmed_cache_changed(built, data_dir, run):
    for csv_file in data_dir.glob("*.csv"):  # only the cache is newer than the database
        os.utime(csv_file, (1, 1))
    os.utime(built, (2, 2))
    assert run("fetch", "--data", data_dir, "--load",
               FIXTURES / "eutils" / "three_records.xml").exit_code == 0
    with kb_serve(built, data_dir) as url:
        status, body = fetch(url + "/kb/pubmed_records.json?_shape=array")
        assert status == 200
        assert sorted(row["pmid"] for row in json.loads(body)) == sorted(real_records())
