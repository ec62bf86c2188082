"""Build the SQLite database from the data files: offline, from scratch, atomically.

The database is written to a temporary file beside the target, fsync'ed, and renamed
over it only when complete, so a failed or killed build leaves the previous database as
it was (and a server reading it undisturbed), and a power cut just after the rename
cannot leave a database whose pages never reached the disk. (The fsync costs 50-60 ms
for a 74 MiB database built in 5.3 s: about 1 %.) A build killed part-way leaves its
temporary file (`.kb.db.<pid>.<random>.tmp`); the next build of the same database
removes it, and leaves alone those of builds still running.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

import sqlite_utils

from ingest.files import (CannotWrite, remove_abandoned, temporary_beside, unwritable,
                          writing)
from kb.data.csvfile import Problem, gc_paused
from kb.data.dataset import Dataset
from kb.data import loader
from kb.data.cites import ClaimCitation, claim_citations
from kb.data.works import Works, works

from . import rows, tables, views
from .background import Background

INFO = "build_info"  # written by the build's own process, once the writers are done
CITED = "claim_citations"  # resolved by the build's own process, loaded by a writer
CHECKS_NICE = 10  # the checks' priority below the writing's (os.nice)
T = TypeVar("T")
SQLITE_IO_ERRORS = {8: "the file is read-only", 10: "disk I/O error",
                    13: os.strerror(errno.ENOSPC), 14: "unable to open the file"}


class InvalidData(Exception):
    """The data files have problems; `problems` lists them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(self.problems)} problem(s) in the data files")


def build(db_path: Path | str, data_dir: Path | str,
          timings: dict | None = None) -> dict[str, int]:
    """Validate data_dir and build db_path from it; returns row counts per table.

    Raises InvalidData, or CannotWrite naming db_path (nothing half-written is left).
    timings, when given, gets the seconds spent validating ("validate"), computing the
    evidence ("evidence"; of it the plausibility flags, "flags", and the questions'
    syntheses, "synthesis") and in all ("build"): the benchmarks' window into a build.

    The database is written beside the checks, in child processes (background.py),
    from the files read once, each writer loading its tables once the one before it is
    done: the first, started at once, loads the tables of the curated files straight
    from them while they are read; once references.csv and the PubMed cache are read and
    the works made from them, the second loads the works' tables; once every file is
    read and the claims' citations resolved, the third loads claim_citations, and the
    fourth computes the evidence while the files are checked (in a fifth child, at a
    lower priority) and loads the rest. When a check fails, the writers are stopped and
    their temporary file removed; an error of theirs (or of making the works or the
    claims' citations, which can fail on invalid data) is raised only for valid data.
    """
    started = time.perf_counter()
    db_path, data_dir = Path(db_path), Path(data_dir)
    check_writable(db_path)  # before validating, which takes a while
    with _writing(db_path):
        remove_abandoned(db_path.parent, db_path.name)
        tmp = temporary_beside(db_path)
    workers: list[Background] = []
    try:
        writers = [_started(workers, _write_file_tables, tmp, db_path, data_dir)]
        read = loader.references(data_dir)
        known, failed = _made(works, read)
        if failed is None:
            writers.append(_started(workers, _write_tables, rows.works_rows(known), tmp,
                                    db_path, writers[-1]))
        dataset = loader.read(data_dir, read)
        if failed is None:
            cited, failed = _made(_claim_citations, dataset)
        if failed is None:
            writers.append(_started(workers, _write_tables, {CITED: cited}, tmp, db_path,
                                    writers[-1]))
            writers.append(_started(workers, _write_rest, dataset, known, cited, tmp,
                                    db_path, writers[-1]))
        # the checks end long before the writing: they yield the cores to it
        checks = _started(workers, _problems, dataset, nice=CHECKS_NICE)
        problems = checks.result()
        if timings is not None:
            timings["validate"] = time.perf_counter() - started
        if problems:
            raise InvalidData(problems)
        if failed is not None:
            raise failed
        with _writing(db_path):
            info = rows.build_info(dataset)  # here, while the writers write
        counts: dict[str, int] = {}
        for writer in writers[:-1]:  # in turn: each waits for the one before
            counts.update(writer.result())
        written, writer_timings = writers[-1].result()
        counts = _in_order({**counts, **written, **_write_info(tmp, db_path, info)})
        if timings is not None:
            timings.update(writer_timings)
        with _writing(db_path):
            _sync(tmp)
            os.replace(tmp, db_path)
    except BaseException:
        for worker in workers:
            worker.stop()
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(db_path.parent)
    if timings is not None:
        timings["build"] = time.perf_counter() - started
    return counts


def is_stale(db_path: Path, data_dir: Path) -> bool:
    """Is db_path missing, or older than a data file or the PubMed cache?"""
    if not db_path.exists():
        return True
    built = db_path.stat().st_mtime
    cache = data_dir / "pubmed"
    inputs = [*data_dir.glob("*.csv"), *([cache, *cache.glob("*.xml.gz")] if cache.is_dir()
                                         else [])]
    return any(p.stat().st_mtime > built for p in inputs)


def check_writable(db_path: Path) -> None:
    """Raise CannotWrite when db_path's folder is missing or cannot be written."""
    folder = db_path.absolute().parent
    if not folder.is_dir():
        raise _cannot_write(db_path, "its folder does not exist")
    reason = unwritable(folder)
    if reason:
        raise _cannot_write(db_path, f"its folder is not writable ({reason})")


def _cannot_write(db_path: Path, reason: str, code: int = errno.EIO) -> CannotWrite:
    return CannotWrite(code, reason, str(db_path))


@contextmanager
def _writing(db_path: Path) -> Iterator[None]:
    """Errors of the file system (a full disk, a failing device), and SQLite's errors
    about it, as CannotWrite naming db_path."""
    with writing(db_path):
        try:
            yield
        except sqlite3.Error as e:
            reason = _sqlite_io_error(e)
            if reason is None:
                raise
            raise _cannot_write(db_path, reason) from e


def _sqlite_io_error(error: sqlite3.Error) -> str | None:
    """What a SQLite error says about the file system, or None when it is not about it."""
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        return SQLITE_IO_ERRORS.get(code & 0xFF)
    if "disk is full" in str(error):
        return SQLITE_IO_ERRORS[13]
    return None


def _sync(path: Path) -> None:
    """Make path's bytes (or a folder's entries) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename in folder durable, where the system can (not Windows, nor some
    network file systems). Best effort: the new database is in place either way."""
    try:
        _sync(folder)
    except OSError:
        pass


def _started(workers: list[Background], function, *args, nice: int = 0) -> Background:
    """function(*args) started in a child process, noted in workers (to be stopped)."""
    workers.append(Background(function, *args, nice=nice))
    return workers[-1]


def _made(function: Callable[..., T], *args: Any) -> tuple[T | None, Exception | None]:
    """function(*args), or what it raised: made from files not yet checked, it can fail
    on invalid data, and the checks say why."""
    try:
        with gc_paused():
            return function(*args), None
    except Exception as e:  # raised by build() once the checks find nothing
        return None, e


def _claim_citations(dataset: Dataset) -> list[ClaimCitation]:
    return list(claim_citations(dataset))


def _problems(dataset: Dataset) -> list[Problem]:
    """Every problem of the data set as read (loader.check)."""
    return loader.check(dataset).problems


def _write_file_tables(tmp: Path, db_path: Path, data_dir: Path) -> dict[str, int]:
    """Create every table in tmp, and load and index those of the curated files (read
    straight from data_dir); returns their row counts."""
    with _writing(db_path), gc_paused():
        db = _open(tmp)
        try:
            for table in tables.TABLES:
                db.create_table(table.name, table.columns, pk=table.pk,
                                foreign_keys=list(table.foreign_keys))
            loaded = rows.file_table_rows(data_dir)
            return _fill(db, [tables.TABLES_BY_NAME[name] for name in loaded], loaded)
        finally:
            db.conn.close()


def _write_tables(loaded: dict[str, Iterable[Sequence]], tmp: Path, db_path: Path,
                  after: Background) -> dict[str, int]:
    """Load and index the tables of loaded (name -> rows) once `after` has finished, in
    its own process; returns their row counts."""
    with _writing(db_path), gc_paused():
        after.wait()
        db = _open(tmp)
        try:
            return _fill(db, [tables.TABLES_BY_NAME[name] for name in loaded], loaded)
        finally:
            db.conn.close()


def _write_rest(dataset: Dataset, known: Works, cited: list[ClaimCitation], tmp: Path,
                db_path: Path, after: Background
                ) -> tuple[dict[str, int], dict[str, float]]:
    """Load and index the tables of dataset the other writers leave but INFO
    (rows.evidence_rows), once `after` (the last of them) has finished, then the views;
    returns their row counts and the evidence's timings."""
    timings: dict[str, float] = {}
    with _writing(db_path), gc_paused():
        table_rows = rows.evidence_rows(dataset, known, cited, timings)
        after.wait()
        db = _open(tmp)
        try:
            counts = _fill(db, [table for table in tables.TABLES if table.name in table_rows],
                           table_rows)
            for name, sql in views.VIEWS.items():
                db.create_view(name, sql.strip())
        finally:
            db.conn.close()
    return counts, timings


def _write_info(tmp: Path, db_path: Path, info: list[tuple[str, str]]) -> dict[str, int]:
    """Load the build_info table (the writers are done); returns its row count."""
    with _writing(db_path):
        db = _open(tmp)
        try:
            return _fill(db, [tables.TABLES_BY_NAME[INFO]], {INFO: info})
        finally:
            db.conn.close()


def _in_order(counts: dict[str, int]) -> dict[str, int]:
    """The row counts of every table, in the tables' order."""
    return {table.name: counts[table.name] for table in tables.TABLES}


def _open(path: Path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(path)
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    return db


def _fill(db: sqlite_utils.Database, to_fill: list[tables.Table],
          table_rows: dict[str, Iterable[Sequence]]) -> dict[str, int]:
    """Load the tables to_fill, in one transaction, then index them and gather their
    statistics (ANALYZE of each table and of its full-text index's tables: the
    sqlite_stat1 rows of one ANALYZE of the whole database)."""
    counts = {}
    with db.conn:
        for table in to_fill:
            counts[table.name] = _insert(db, table, table_rows[table.name])
    for table in to_fill:
        for columns in table.all_indexes:
            db[table.name].create_index(columns)
        if table.fts:
            db[table.name].enable_fts(table.fts, tokenize="porter")
    names = {table.name for table in to_fill}
    for (name,) in db.execute("select name from sqlite_master where type = 'table'"
                              ).fetchall():
        if name.split("_fts_")[0] in names:  # the table, or its full-text index's
            db.execute(f"analyze [{name}]")
    return counts


def _insert(db: sqlite_utils.Database, table: tables.Table, rows: Iterable[Sequence]) -> int:
    columns = list(table.columns)
    sql = "insert into [{}] ({}) values ({})".format(
        table.name, ", ".join(f"[{c}]" for c in columns), ", ".join("?" * len(columns)))
    cursor = db.conn.executemany(sql, rows)
    return cursor.rowcount
