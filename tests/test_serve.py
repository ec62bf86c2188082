"""kb serve: builds a missing or stale database, then serves it over HTTP."""

import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import FIXTURES, free_port, kb_serve

KB = Path(sys.executable).parent / "kb"


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_serve_builds_a_missing_database_and_serves_it(tmp_path):
    db = tmp_path / "kb.db"
    with kb_serve(db, FIXTURES / "minimal") as url:
        assert db.exists()
        status, body = fetch(url + "/kb/claims.json?_shape=array")
        assert status == 200 and "gamma1999-c01" in body
        status, body = fetch(url + "/kb/sources/gamma1999")
        assert "https://pubmed.ncbi.nlm.nih.gov/22222222/" in body


def test_serve_rebuilds_when_the_data_are_newer(tmp_path, run):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", data)
    db = tmp_path / "kb.db"
    assert run("build", db, "--data", data).exit_code == 0
    os.utime(db, (1, 1))  # older than the data files
    with open(data / "claims.csv", "a", encoding="utf-8") as f:
        f.write("gamma1999-c02,gamma1999,Abstract,,A newly curated statement.,qualitative,"
                ",,,,,,,,,,,,https://example.org/gamma,tests,\n")
    with kb_serve(db, data) as url:
        status, body = fetch(url + "/kb/claims/gamma1999-c02.json")
        assert status == 200 and "A newly curated statement." in body


def test_serve_refuses_invalid_data(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", data)
    (data / "claims.csv").write_text("id\n", encoding="utf-8")
    result = subprocess.run([str(KB), "serve", str(tmp_path / "kb.db"), "--data", str(data),
                             "--port", str(free_port())], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "claims.csv:1:1: missing columns" in result.stdout
    assert not (tmp_path / "kb.db").exists()


def test_serve_rebuilds_when_the_pubmed_cache_changed(tmp_path, run):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", data)
    db = tmp_path / "kb.db"
    assert run("build", db, "--data", data).exit_code == 0
    for csv_file in data.glob("*.csv"):  # only the cache is newer than the database
        os.utime(csv_file, (1, 1))
    os.utime(db, (2, 2))
    assert run("fetch", "--data", data, "--load",
               FIXTURES / "eutils" / "three_records.xml").exit_code == 0
    with kb_serve(db, data) as url:
        status, body = fetch(url + "/kb/pubmed_records.json?_shape=array")
        assert status == 200 and '"399296"' in body
