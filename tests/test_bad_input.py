"""The bad-input corpus (tests/fixtures/bad, see its README.md): every malformed data
file and PubMed document is refused by the real command, in a subprocess, quickly, with
exit status 1 and the expected lines (each naming the file, line and column), never a
traceback, and nothing is lost: the data folder, the PubMed cache and a previously built
database stay byte for byte as they were."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import FIXTURES

BAD = FIXTURES / "bad"
KB = Path(sys.executable).parent / "kb"
TIMEOUT = 30       # seconds: a command still running then has hung
QUICK = 6          # seconds: what "finished well within the timeout" means here
CASES = list(csv.DictReader((BAD / "cases.csv").open(encoding="utf-8", newline="")))
# a template's marker: {{repeat N "TEXT"}} stands for TEXT repeated N times
REPEAT = re.compile(rb'\{\{repeat (\d+) "([^"]*)"\}\}')
# the record already cached when a bad file is loaded (invented, like the minimal data)
CACHED_PMID = "22222222"
CACHED_RECORD = (
    b'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
    b'<PMID Version="1">22222222</PMID><Article PubModel="Print"><Journal><JournalIssue>'
    b"<Volume>3</Volume><PubDate><Year>1999</Year></PubDate></JournalIssue>"
    b"<Title>Journal of Fixtures</Title></Journal>"
    b"<ArticleTitle>Counting, in a cohort of fixtures.</ArticleTitle>"
    b'<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Gamma</LastName>'
    b"<Initials>G</Initials></Author></AuthorList></Article></MedlineCitation>"
    b"</PubmedArticle>")


def expand(data: bytes) -> bytes:
    """A corpus file's bytes, its {{repeat N "TEXT"}} markers written out ('\\n' in TEXT
    is a line break)."""
    return REPEAT.sub(lambda m: m[2].replace(rb"\n", b"\n") * int(m[1]), data)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder, by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built_db(tmp_path_factory) -> bytes:
    """The database built from the minimal data set, as a previous build left it."""
    from kb.db import build

    path = tmp_path_factory.mktemp("previous") / "kb.db"
    build.build(path, FIXTURES / "minimal")
    return path.read_bytes()


def workspace(tmp_path: Path, case: dict, built_db: bytes) -> list[str]:
    """A folder holding data/ (the minimal data set, one file replaced by the case's for
    validate and build), the PubMed cache with one record, kb.db from an earlier build,
    and the case's file; returns the command's arguments."""
    from ingest.cache import Cache

    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "minimal", data)
    Cache(data / "pubmed").save_record(CACHED_PMID, CACHED_RECORD)
    (tmp_path / "kb.db").write_bytes(built_db)
    bad = expand((BAD / case["file"]).read_bytes())
    if case["command"] == "fetch":
        loaded = case["file"].removesuffix(".in")
        (tmp_path / loaded).write_bytes(bad)
        return ["fetch", "--data", "data", "--load", loaded]
    (data / case["stands_for"]).write_bytes(bad)
    if case["command"] == "build":
        return ["build", "kb.db", "--data", "data"]
    return ["validate", "--data", "data"]


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_bad_input_is_refused_with_a_located_message_and_nothing_is_lost(
        case, tmp_path, built_db):
    args = workspace(tmp_path, case, built_db)
    before = snapshot(tmp_path)
    started = time.monotonic()
    try:
        done = subprocess.run([str(KB), *args], cwd=tmp_path, capture_output=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"kb {' '.join(args)} still running after {TIMEOUT} s")
    took = time.monotonic() - started
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    shown = output if len(output) < 4000 else output[:4000] + "..."
    assert done.returncode == 1, shown
    assert "Traceback" not in output, shown
    lines = output.splitlines()
    for expected in case["expected"].split("\n"):
        assert expected in lines, f"{expected!r} is not a line of:\n{shown}"
    assert took < QUICK, f"took {took:.1f} s"
    after = snapshot(tmp_path)
    changed = sorted(name for name in before.keys() | after.keys()
                     if before.get(name) != after.get(name))
    assert not changed, f"changed, added or removed: {changed}"


def test_the_manifest_lists_every_corpus_file_once():
    listed = [c["file"] for c in CASES]
    assert sorted(listed) == sorted(p.name for p in BAD.iterdir()
                                    if p.name not in ("cases.csv", "README.md"))
    assert len(set(listed)) == len(listed)
    assert len({c["case"] for c in CASES}) == len(CASES) >= 40
