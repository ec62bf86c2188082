"""The distribution: a wheel built from the checkout holds every module and every file
of data the code reads (templates, metadata, CSL styles), and building it prints no
setuptools warning (each package and its data declared, nothing guessed)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                           "--wheel-dir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [built] = out.glob("nelm_kb-*.whl")
    return built, done.stdout + done.stderr


def test_building_the_wheel_prints_no_setuptools_warning(wheel):
    _, printed = wheel
    assert [line for line in printed.splitlines()
            if "Warning" in line or "is absent from the `packages`" in line] == []


def test_the_wheel_holds_every_module_and_the_data_files_the_code_reads(wheel):
    built, _ = wheel
    names = set(zipfile.ZipFile(built).namelist())
    modules = {p.relative_to(REPO).as_posix() for package in ("ingest", "kb")
               for p in (REPO / package).rglob("*.py")}
    data = {p.relative_to(REPO).as_posix() for pattern in (
        "kb/web/templates/*.html", "kb/web/static/*.css", "kb/web/metadata.yml",
        "kb/export/styles/*") for p in REPO.glob(pattern)}
    # 11 templates, the stylesheet, the metadata, 2 citation styles and their README
    assert len(data) == 16
    assert modules | data <= names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(built).read(entry_points).decode()
    assert "[datasette]\nnelm_kb = kb.web.plugin" in text
    assert "[console_scripts]\nkb = kb.cli:cli" in text


def test_every_screenshot_in_docs_is_made_by_the_screenshot_script():
    import ast

    script = (REPO / "docs" / "screenshots.py").read_text(encoding="utf-8")
    shots = next(node.value for node in ast.parse(script).body
                 if isinstance(node, ast.Assign) and node.targets[0].id == "SHOTS")
    made = {key.value for key in shots.keys}
    assert {p.name for p in (REPO / "docs").glob("*.png")} == made
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(f"docs/{name}" in readme for name in ("front-door.png", "question-page.png",
                                                     "claim-page.png"))
