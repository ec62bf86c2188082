"""Remake the screenshots in docs/ from the current pages: build the shipped data into a
temporary database, serve it with `kb serve`, and photograph each page in Chromium.

Usage (from the repository root, after `make serve` has installed everything):

    .venv/bin/python docs/screenshots.py

Debian's Chromium is used (apt-get install chromium), as in the browser tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).parent
REPO = DOCS.parent
KB = Path(sys.executable).parent / "kb"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# file -> (page, what the README says it shows)
SHOTS = {
    "front-door.png": "/",
    "question-page.png": "/kb/-/question/os-5y-resection",
    "claim-page.png": "/kb/claims/jagannath2012-c05",
    "claims-table.png": "/kb/claims",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kb.db"
        server = subprocess.Popen([str(KB), "serve", str(db), "--data", str(REPO / "data"),
                                   "--port", str(port)], cwd=REPO)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):   # the first start builds the database
                try:
                    urllib.request.urlopen(base + "/-/versions.json", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                for name, path in SHOTS.items():
                    page.goto(base + path)
                    page.screenshot(path=str(DOCS / name))
                    print(f"wrote docs/{name} from {path}")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
