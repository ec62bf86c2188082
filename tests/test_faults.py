"""Faults: a build or a fetch killed part-way, a full disk, read-only folders, corrupt
cache files. Each leaves what was there before as it was, and says what happened in one
line, without a traceback.

Kills are real SIGKILLs, sent either at a named point (tests/stop_at.py makes the process
stop itself there first) or at whatever moment the process has reached when the test
sees a condition. Full disks (a small tmpfs) and read-only folders (a read-only bind
mount) are made in a user+mount namespace (`unshare`), so that they give real ENOSPC and
EROFS errors even to root; a test that cannot make one fails, it is never skipped.
"""

import contextlib
import csv
import gzip
import io
import os
import random
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import FIXTURES, REPO, cached, edit, efetches, reference_row
from eutils_standin import DOCTYPE, clone, real_records
from ingest import pubmed
from kb.data import loader

KB = Path(sys.executable).parent / "kb"
STOP_AT = Path(__file__).parent / "stop_at.py"
THREE = FIXTURES / "eutils" / "three_records.xml"
REAL = real_records()
FIRST, SECOND = sorted(REAL)[:2]
MANY = [str(94000000 + i) for i in range(1000)]  # made-up PMIDs of cloned records


# -- processes ------------------------------------------------------------------------


@pytest.fixture
def start():
    """Start `kb ARGS` in a subprocess; with stop_at, one that stops itself at that point
    (tests/stop_at.py). Those still running when the test ends are killed."""
    processes = []

    def start_kb(*args, stop_at: str | None = None) -> subprocess.Popen:
        program = [sys.executable, str(STOP_AT), stop_at] if stop_at else [str(KB)]
        processes.append(subprocess.Popen([*program, *map(str, args)],
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
        return processes[-1]

    yield start_kb
    for process in processes:
        if process.poll() is None:
            kill(process)
        process.stdout.close()


def wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"kb ended before {what}: {process.stdout.read().decode()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.01)


def family(pid: int) -> list[int]:
    """pid and its descendants (kb build writes and checks in child processes)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return [pid]
    return [pid, *(member for child in children for member in family(int(child)))]


def stopped(process: subprocess.Popen) -> bool:
    """Has the process, or one of its children (where the stop point is reached), stopped?"""
    for pid in family(process.pid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] == "T":
            return True
    return False


def resume(process: subprocess.Popen) -> None:
    """SIGCONT to the process and its children: whichever stopped goes on."""
    for pid in family(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def stop_and_kill(process: subprocess.Popen, point: str) -> None:
    wait_until(lambda: stopped(process), process, f"a stop at {point}")
    kill(process)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


# -- namespaces -----------------------------------------------------------------------

READY = "namespace ready"


def in_namespace(setup: list[str], command: list, after: list[str] = ()
                 ) -> subprocess.CompletedProcess:
    """Run command in a new user+mount namespace once the shell commands of setup (the
    mounts) have run, then the shell commands of after (e.g. copy a tmpfs out: it
    vanishes with the namespace). Fails the test when the namespace cannot be made."""
    script = (" && ".join([*setup, f"echo {READY} >&2"]) + ' && { "$@"; status=$?; '
              + "".join(f"{step}; " for step in after) + "exit $status; }")
    try:
        result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh",
                                 "-c", script, "sh", *map(str, command)],
                                capture_output=True, text=True, timeout=120)
    except FileNotFoundError as e:
        pytest.fail(f"cannot make a user+mount namespace: {e}")
    setup_errors, ready, rest = result.stderr.partition(READY + "\n")
    if not ready:
        pytest.fail(f"cannot make a user+mount namespace ({' && '.join(setup)}): "
                    f"{setup_errors.strip() or 'exit status ' + str(result.returncode)}; "
                    "these tests need `unshare --user --map-root-user --mount` (root, or "
                    "unprivileged user namespaces)")
    result.stderr = rest
    return result


def tmpfs(folder: Path, size: int) -> str:
    return f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(folder))}"


def read_only(folder: Path) -> str:
    q = shlex.quote(str(folder))
    return f"mount --bind {q} {q} && mount -o remount,bind,ro {q}"


def copy(source: Path, target: Path) -> str:
    return f"cp -a {shlex.quote(str(source))}/. {shlex.quote(str(target))}/"


# -- files ----------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under folder by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def temporaries(folder: Path, name: str = "*") -> set[str]:
    """Temporary files (and staging folders) of `name` in folder."""
    return {p.name for p in folder.glob(f".{name}.*.tmp")}


def assert_every_record_file_whole(data: Path) -> None:
    """Each cache file is a complete gzip stream holding exactly the record it is named for."""
    for path in (data / "pubmed").glob("*.xml.gz"):
        gzip.decompress(path.read_bytes())  # raises on a cut-short stream
        assert [r["pmid"] for r in pubmed.parse(path)] == [path.name[: -len(".xml.gz")]]


def written(db: Path, earlier: set[str]) -> int:
    """Bytes in the temporary databases of db that are not among earlier ones."""
    sizes = []
    for name in temporaries(db.parent, db.name) - earlier:
        try:
            sizes.append((db.parent / name).stat().st_size)
        except FileNotFoundError:  # renamed or removed meanwhile
            pass
    return sum(sizes)


def records_file(path: Path, pmids: list[str]) -> Path:
    """A saved efetch answer holding clones of a real record under these PMIDs."""
    path.write_text('<?xml version="1.0" ?>\n' + DOCTYPE + "<PubmedArticleSet>\n"
                    + "\n".join(clone(REAL[FIRST], p) for p in pmids)
                    + "\n</PubmedArticleSet>\n", encoding="utf-8")
    return path


def count(db: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(f"select count(*) from [{table}]").fetchone()[0]


# -- 1. a build killed part-way -------------------------------------------------------


@pytest.fixture(scope="module")
def big_data(tmp_path_factory) -> Path:
    """Synthetic data (bench/build_bench.py's generator) that kb build takes about a
    second to validate and another to write (an 11 MB database)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(REPO / "bench"))  # build_bench imports bench/harness.py
        from build_bench import generate
    target = tmp_path_factory.mktemp("big") / "data"
    generate(target, sources=3000, claims=3000, citations=30000, seed=6)
    return target


def claims_page(url: str) -> bytes:
    with urllib.request.urlopen(url + "/kb/claims.json?_shape=array&_sort=id",
                                timeout=10) as response:
        return response.read()


@pytest.mark.parametrize("point", ["validating", "inserting-claims", "renaming",
                                   "timed"])
def test_killed_build_leaves_the_served_database_as_it_was(served, big_data, start, point):
    url, db = served
    before, page = db.read_bytes(), claims_page(url)
    assert b"gamma1999-c01" in page
    earlier = temporaries(db.parent, db.name)
    if point == "timed":  # killed at no chosen point: once its database passes 1 MB
        process = start("build", db, "--data", big_data)
        wait_until(lambda: written(db, earlier) > 2**20, process, "1 MB of a new database")
        kill(process)
    else:
        stop_and_kill(start("build", db, "--data", big_data, stop_at=point), point)
    assert db.read_bytes() == before
    assert claims_page(url) == page  # the server still answers, from the same database
    left = temporaries(db.parent, db.name) - earlier
    # the database is written while the files are checked: a build killed while
    # validating leaves its temporary file too (the next build removes it)
    assert len(left) == 1


def test_a_killed_build_leaves_no_child_process(tmp_path, big_data, start):
    process = start("build", tmp_path / "kb.db", "--data", big_data,
                    stop_at="inserting-claims")
    wait_until(lambda: stopped(process), process, "a stop at inserting-claims")
    children = family(process.pid)[1:]
    assert children  # the writer stopped there, in a child
    kill(process)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in children):
        assert time.monotonic() < deadline, "a child of the killed build is still there"
        time.sleep(0.01)


def test_next_build_removes_what_a_killed_build_left_and_not_a_running_builds_file(
        tmp_path, big_data, start, run):
    db = tmp_path / "kb.db"
    stop_and_kill(start("build", db, "--data", big_data, stop_at="renaming"), "renaming")
    abandoned = temporaries(tmp_path, db.name)
    assert len(abandoned) == 1 and not db.exists()
    running = start("build", db, "--data", big_data, stop_at="inserting-claims")
    wait_until(lambda: stopped(running), running, "a stop at inserting-claims")
    its_file = temporaries(tmp_path, db.name) - abandoned
    assert len(its_file) == 1
    result = run("build", db, "--data", FIXTURES / "minimal")
    assert result.exit_code == 0, result.output
    assert count(db, "sources") == 3
    assert temporaries(tmp_path, db.name) == its_file  # the killed build's file is gone
    resume(running)
    assert running.wait(timeout=60) == 0, running.stdout.read().decode()
    assert count(db, "sources") == 3000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb.db"]


# -- 2. a fetch killed part-way -------------------------------------------------------


@pytest.fixture
def many(standin, data_dir):
    """The stand-in serving 1000 more records, which data_dir's references.csv names
    (the only PMIDs it names, so that --missing asks for exactly these)."""
    standin.records.update({p: clone(REAL[FIRST], p) for p in MANY})
    edit(data_dir / "references.csv", "alpha2001,11111111,", "alpha2001,,")
    edit(data_dir / "references.csv", "gamma1999,22222222,", "gamma1999,,")
    with (data_dir / "references.csv").open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for i, pmid in enumerate(MANY):
            writer.writerow(reference_row(key=f"fault{i:04d}", pmid=pmid, pub_type="cohort",
                                          verified_from="pubmed"))
    return standin


def asked_ids(standin) -> list[str]:
    return [i for _, _, params in efetches(standin) for i in params["id"].split(",")]


@pytest.mark.parametrize("kill_at, again", [
    ("timed", "--missing"),  # the stand-in slow; killed once the first batch is saved
    ("saving-record@250", "same command"),  # mid-way through saving the second batch
    ("renaming@250", "same command"),  # a record in its temporary file, not yet renamed
])
def test_killed_fetch_resumes_without_loss_or_duplicates(many, data_dir, start, run,
                                                         kill_at, again):
    command = ["fetch", "--data", data_dir, "--pmid", ",".join(MANY)]
    if kill_at == "timed":
        many.delay = 0.3
        process = start(*command)
        wait_until(lambda: len(cached(data_dir)) >= 200, process, "a first batch saved")
        kill(process)
    else:
        stop_and_kill(start(*command, stop_at=kill_at), kill_at)
    saved = {name[: -len(".xml.gz")] for name in cached(data_dir)}
    assert 0 < len(saved) < len(MANY)
    assert len(temporaries(data_dir / "pubmed")) == (1 if kill_at.startswith("renaming")
                                                     else 0)
    assert_every_record_file_whole(data_dir)
    assert loader.load(data_dir).problems == []  # readers see whole records only
    assert len(asked_ids(many)) == len(set(asked_ids(many)))

    many.delay = 0
    many.requests.clear()
    result = run(*(command if again == "same command" else
                   ["fetch", "--data", data_dir, "--missing"]))
    assert result.exit_code == 0, result.output
    assert f"saved {len(MANY) - len(saved)} records" in result.output
    assert sorted(asked_ids(many)) == sorted(set(MANY) - saved)  # each missing one, once
    assert cached(data_dir) == sorted(f"{p}.xml.gz" for p in MANY)
    assert_every_record_file_whole(data_dir)
    assert temporaries(data_dir / "pubmed") == set()  # the killed fetch's file is gone


# -- 3. a full disk -------------------------------------------------------------------


def test_full_disk_during_build_keeps_the_previous_database(tmp_path, big_data, run):
    old, disk, after = (tmp_path / name for name in ("old", "disk", "after"))
    for folder in (old, disk, after):
        folder.mkdir()
    assert run("build", old / "kb.db", "--data", FIXTURES / "minimal").exit_code == 0
    room = (old / "kb.db").stat().st_size + 256 * 1024  # the old database and 256 KiB
    result = in_namespace([tmpfs(disk, room), copy(old, disk)],
                          [KB, "build", disk / "kb.db", "--data", big_data],
                          after=[copy(disk, after)])
    assert result.returncode == 1
    assert result.stderr == (f"kb build: cannot write {disk / 'kb.db'}: No space left on "
                             "device; the previous database is unchanged\n")
    assert result.stdout == ""
    assert snapshot(after) == snapshot(old)  # and no temporary file is left


@pytest.fixture
def full_cache(tmp_path, data_dir, run):
    """Run a kb fetch whose cache folder (three records) is a 64 KiB tmpfs; returns
    (result, the cache before, the cache after)."""
    assert run("fetch", "--data", data_dir, "--load", THREE).exit_code == 0
    cache, before, after = data_dir / "pubmed", tmp_path / "before", tmp_path / "after"
    shutil.copytree(cache, before)
    after.mkdir()

    def fetch(*args):
        result = in_namespace([tmpfs(cache, 64 * 1024), copy(before, cache)],
                              [KB, "fetch", "--data", data_dir, *args],
                              after=[copy(cache, after)])
        return result, snapshot(before), snapshot(after)

    return fetch


def test_full_disk_during_fetch_keeps_whole_records_only(full_cache, data_dir, standin):
    pmids = [str(95000000 + i) for i in range(40)]
    standin.records.update({p: clone(REAL[FIRST], p) for p in pmids})
    result, before, after = full_cache("--pmid", ",".join(pmids))
    added = [p for p in pmids if f"{p}.xml.gz" in after]
    assert added == pmids[: len(added)] and 0 < len(added) < len(pmids)
    failed = data_dir / "pubmed" / f"{pmids[len(added)]}.xml.gz"
    assert result.returncode == 1
    assert result.stderr == (f"kb fetch: cannot write {failed}: No space left on device; "
                             "nothing half-written is left, and the records saved before "
                             "it are kept\n")
    assert {name: after[name] for name in before} == before
    assert sorted(after) == sorted([*before, *(f"{p}.xml.gz" for p in added)])
    for pmid in added:  # each a whole gzip file holding its record
        assert [r["pmid"] for r in pubmed.parse(io.BytesIO(gzip.decompress(
            after[f"{pmid}.xml.gz"])))] == [pmid]


def test_full_disk_during_load_saves_nothing_from_the_file(full_cache, tmp_path):
    pmids = [str(96000000 + i) for i in range(40)]
    saved = records_file(tmp_path / "answer.xml", pmids)
    result, before, after = full_cache("--load", saved)
    assert result.returncode == 1
    message = result.stderr.splitlines()
    assert len(message) == 1 and message[0].startswith("kb fetch: cannot write ")
    assert message[0].endswith(f".xml.gz: No space left on device; nothing from {saved} "
                               "was saved")
    assert after == before


# -- 4. read-only folders -------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["fetch", "--pmid", FIRST], ["fetch", "--missing"], ["fetch", "--load", THREE],
    ["resolve"],
], ids=lambda command: " ".join(map(str, command[:2])).replace(str(THREE), "FILE"))
def test_read_only_data_folder_stops_fetch_and_resolve_before_anything(
        data_dir, standin, command):
    before = snapshot(data_dir)
    result = in_namespace([read_only(data_dir)],
                          [KB, command[0], "--data", data_dir, *command[1:]])
    assert result.returncode == 1
    assert result.stderr == (f"kb {command[0]}: cannot write to {data_dir / 'pubmed'}/: "
                             "Read-only file system; nothing was fetched or changed\n")
    assert standin.requests == []
    assert snapshot(data_dir) == before


def test_read_only_data_folder_is_still_validated_and_built(data_dir, tmp_path, run):
    assert run("fetch", "--data", data_dir, "--load", THREE).exit_code == 0
    before = snapshot(data_dir)
    db = tmp_path / "kb.db"
    for command in (["validate", "--data", data_dir], ["build", db, "--data", data_dir]):
        result = in_namespace([read_only(data_dir)], [KB, *command])
        assert result.returncode == 0, result.stderr
    assert count(db, "sources") == 3 and count(db, "pubmed_records") == 3
    assert snapshot(data_dir) == before


@pytest.mark.parametrize("command", [["build"], ["serve", "--port", "1"]])
def test_read_only_database_folder_is_a_clear_error(data_dir, tmp_path, run, command):
    folder = tmp_path / "db"
    folder.mkdir()
    db = folder / "kb.db"
    assert run("build", db, "--data", data_dir).exit_code == 0
    os.utime(db, (1, 1))   # older than the data, so kb serve rebuilds before serving
    before = snapshot(folder)
    result = in_namespace([read_only(folder)], [KB, command[0], db, "--data", data_dir,
                                                *command[1:]])
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.endswith(   # kb serve says first that it is building
        f"kb build: cannot write {db}: its folder is not writable (Read-only file system);"
        " the previous database is unchanged\n")
    assert snapshot(folder) == before


def test_export_to_a_read_only_folder_says_so_and_writes_nothing(data_dir, tmp_path, run):
    db, out = tmp_path / "kb.db", tmp_path / "out"
    out.mkdir()
    assert run("build", db, "--data", data_dir).exit_code == 0
    result = in_namespace([read_only(out)], [KB, "export", db, "--data", data_dir,
                                             "--format", "bibtex", "-o", out / "all.bib"])
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (f"kb export: cannot write {out / 'all.bib'}: "
                                              "Read-only file system; nothing was written")
    assert list(out.iterdir()) == []


# -- 5. corrupt cache files -----------------------------------------------------------

REPAIR = f"fetch it again with kb fetch --refresh --pmid {FIRST}"
CORRUPTIONS = {  # kind -> (its bytes, from the good file and another record's; line:column
    #                  as a pattern; the problem reported)
    "truncated gzip": (lambda good, other: good[: len(good) // 2], "1:1",
                       "unreadable cached record: broken gzip stream (Compressed file ended "
                       "before the end-of-stream marker was reached)"),
    "random bytes": (lambda good, other: random.Random(6).randbytes(300), r"1:\d+",
                     "unreadable cached record: not a gzip file (read as plain XML: not "
                     "well-formed (invalid token))"),
    "malformed XML": (lambda good, other: gzip.compress(
        b'<?xml version="1.0"?>\n<PubmedArticleSet>\n<PubmedArticle>\n'
        b"</PubmedArticleSet>\n"), "4:3",  # where the XML parser stopped
        "unreadable cached record: malformed XML (mismatched tag)"),
    "another PMID": (lambda good, other: other, "1:1",
                     f"a cache file must hold exactly the record of PMID {FIRST}; it holds "
                     f"['{SECOND}']"),
    "empty file": (lambda good, other: b"", "1:1",
                   "unreadable cached record: the file is empty"),
    "zero-length gzip": (lambda good, other: gzip.compress(b""), "1:1",
                         "unreadable cached record: the gzip stream holds no XML"),
}


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupt_cache_file_is_named_kept_and_repaired_by_a_refresh(
        kind, data_dir, standin, tmp_path, run):
    assert run("fetch", "--data", data_dir, "--load", THREE).exit_code == 0
    db = tmp_path / "kb.db"
    assert run("build", db, "--data", data_dir).exit_code == 0
    before = db.read_bytes()
    path = data_dir / "pubmed" / f"{FIRST}.xml.gz"
    corrupt, location, problem = CORRUPTIONS[kind]
    other = path.with_name(f"{SECOND}.xml.gz").read_bytes()
    path.write_bytes(corrupt(path.read_bytes(), other))
    as_corrupted = snapshot(data_dir)
    for command in (["validate"], ["build", db]):
        result = run(*command, "--data", data_dir)
        assert result.exit_code == 1
        assert re.search(f"^{re.escape(str(path))}:{location}: {re.escape(problem)}; "
                         f"{re.escape(REPAIR)}$", result.output, re.M), result.output
        assert "Traceback" not in result.output
    assert db.read_bytes() == before and snapshot(data_dir) == as_corrupted

    result = run("fetch", "--data", data_dir, "--refresh", "--pmid", FIRST)
    assert result.exit_code == 0, result.output
    assert run("validate", "--data", data_dir).exit_code == 0
    assert [r["pmid"] for r in pubmed.parse(path)] == [FIRST]
