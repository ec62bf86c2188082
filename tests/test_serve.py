"""kb serve: builds a missing or stale database, then serves it over HTTP."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import FIXTURES

KB = Path(sys.executable).parent / "kb"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    processes = []

    def start(db, data, port):
        process = subprocess.Popen([str(KB), "serve", str(db), "--data", str(data),
                                    "--port", str(port)], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json",
                                            timeout=2):
                    return process
            except OSError:
                if process.poll() is not None:
                    raise AssertionError(process.stdout.read().decode())
                time.sleep(0.2)
        raise AssertionError("kb serve did not start within 30 s")

    yield start
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def fetch(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status, response.read().decode()


def test_serve_builds_a_missing_database_and_serves_it(tmp_path, serve):
    db = tmp_path / "kb.db"
    port = free_port()
    serve(db, FIXTURES / "minimal", port)
    assert db.exists()
    status, body = fetch(port, "/kb/claims.json?_shape=array")
    assert status == 200 and "gamma1999-c01" in body
    status, body = fetch(port, "/kb/sources/gamma1999")
    assert "https://pubmed.ncbi.nlm.nih.gov/22222222/" in body


def test_serve_refuses_invalid_data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for f in (FIXTURES / "minimal").iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    (data / "claims.csv").write_text("id\n", encoding="utf-8")
    result = subprocess.run([str(KB), "serve", str(tmp_path / "kb.db"), "--data", str(data),
                             "--port", str(free_port())], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "claims.csv:1:1: missing columns" in result.stdout
    assert not (tmp_path / "kb.db").exists()
