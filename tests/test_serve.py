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
