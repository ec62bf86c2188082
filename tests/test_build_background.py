"""kb build writes the database in child processes beside the checks (kb/db/background.py):
the same rows as a build in one process, no child or temporary file left when the data
is invalid, and a child's error raised only for valid data."""

import multiprocessing
import os
import time
from pathlib import Path

import pytest
import sqlite_utils

import kb.db.build
from helpers import edit
from kb.data.dataset import file_rows, typed_rows
from kb.data.cites import claim_citations
from kb.data.loader import load, read, references
from kb.data.works import works
from kb.db import rows
from kb.db.background import Background, ChildFailed

REAL_DATA = Path(__file__).parent.parent / "data"


def contents(db_path: Path) -> dict[str, list[tuple]]:
    """Every table's rows with their rowids (the build's time left out)."""
    db = sqlite_utils.Database(db_path)
    found = {}
    for table in db.tables:
        columns = ", ".join(f"[{c}]" for c in table.columns_dict)
        rowid = "" if table.name.endswith(("_idx", "_config")) or table.name == \
            "sqlite_stat1" else "rowid, "
        found[table.name] = sorted(db.execute(
            f"select {rowid}{columns} from [{table.name}]").fetchall(), key=repr)
    found["build_info"] = [row for row in found["build_info"] if row[1] != "built_at"]
    return found


def in_one_process(monkeypatch) -> None:
    """As where fork is not available: every step runs in this process."""
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])


@pytest.mark.parametrize("folder", ["fixture", "real"])
def test_file_rows_are_the_checked_files_rows(folder, data_dir):
    folder = data_dir if folder == "fixture" else REAL_DATA
    dataset = load(folder)
    assert dataset.ok
    for spec in rows.FILE_TABLES:
        assert list(file_rows(folder / spec.name, spec)) == list(
            typed_rows(dataset[spec.name], spec)), spec.name


def test_file_rows_of_a_missing_file_are_none(tmp_path):
    assert list(file_rows(tmp_path / "questions.csv", rows.FILE_TABLES[2])) == []


@pytest.mark.parametrize("folder", ["fixture", "real"])
def test_the_same_rows_as_a_build_in_one_process(folder, data_dir, tmp_path, monkeypatch):
    folder = data_dir if folder == "fixture" else REAL_DATA
    counts = kb.db.build.build(tmp_path / "forked.db", folder)
    with monkeypatch.context() as m:
        in_one_process(m)
        assert kb.db.build.build(tmp_path / "inline.db", folder) == counts
    assert contents(tmp_path / "forked.db") == contents(tmp_path / "inline.db")
    assert list(counts) == [table.name for table in kb.db.tables.TABLES]


def started_children(monkeypatch) -> list[int]:
    """The pids of the Background children the build starts, as it starts them."""
    pids = []
    real_init = Background.__init__

    def noting(self, *args, **options):
        real_init(self, *args, **options)
        pids.append(self.pid)

    monkeypatch.setattr(Background, "__init__", noting)
    return pids


def gone(pid: int) -> bool:
    """Is no process of that id left (not even one waiting to be reaped)?"""
    return not Path(f"/proc/{pid}").exists()


def test_invalid_data_stops_the_writer_and_leaves_nothing(data_dir, tmp_path, monkeypatch):
    real_rows = rows.evidence_rows

    def slow_rows(dataset, known, cited, timings=None):  # the writer would take a minute
        time.sleep(60)
        return real_rows(dataset, known, cited, timings)

    monkeypatch.setattr(rows, "evidence_rows", slow_rows)
    pids = started_children(monkeypatch)
    edit(data_dir / "claims.csv", ",13,54,", ",60,54,")
    started = time.perf_counter()
    with pytest.raises(kb.db.build.InvalidData) as raised:
        kb.db.build.build(tmp_path / "kb.db", data_dir)
    assert time.perf_counter() - started < 30
    assert [str(p) for p in raised.value.problems] == [
        f"{data_dir / 'claims.csv'}:4:172: low (60) is greater than high (54)"]
    assert len(pids) == 5 and all(pid is not None and gone(pid) for pid in pids)
    assert multiprocessing.active_children() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_childs_error_is_raised_only_for_valid_data(data_dir, tmp_path, monkeypatch):
    def failing(data_dir):
        raise ValueError("the loader failed")

    monkeypatch.setattr(rows, "file_table_rows", failing)
    with pytest.raises(ValueError, match="the loader failed"):
        kb.db.build.build(tmp_path / "kb.db", data_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    edit(data_dir / "claims.csv", ",13,54,", ",60,54,")
    with pytest.raises(kb.db.build.InvalidData):
        kb.db.build.build(tmp_path / "kb.db", data_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert multiprocessing.active_children() == []


def test_background_answers_raises_and_stops():
    assert Background(pow, 2, 10).result() == 1024
    with pytest.raises(ZeroDivisionError):
        Background(divmod, 1, 0).result()
    sleeping = Background(time.sleep, 60)
    started = time.perf_counter()
    sleeping.stop()
    assert time.perf_counter() - started < 10 and gone(sleeping.pid)


def test_a_child_killed_outright_is_an_error():
    with pytest.raises(ChildFailed, match="without an answer"):
        Background(os._exit, 3).result()


def test_works_made_from_invalid_files_give_the_checks_problems(data_dir, tmp_path):
    """The build makes the works from references.csv before it is checked: a year that
    is not a number fails there, and the checks' problem is what is raised."""
    edit(data_dir / "references.csv", ",2001,1,2,", ",20x1,1,2,")
    with pytest.raises(ValueError):
        works(references(data_dir))
    with pytest.raises(kb.db.build.InvalidData) as raised:
        kb.db.build.build(tmp_path / "kb.db", data_dir)
    assert [(p.path, p.line, p.message) for p in raised.value.problems] == [
        (str(data_dir / "references.csv"), 2, "year must be a whole number, not '20x1'")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert multiprocessing.active_children() == []


def test_an_error_making_the_works_is_raised_for_valid_data(data_dir, tmp_path,
                                                             monkeypatch):
    def failing(dataset):
        raise ValueError("the works failed")

    monkeypatch.setattr(kb.db.build, "works", failing)
    pids = started_children(monkeypatch)
    with pytest.raises(ValueError, match="the works failed"):
        kb.db.build.build(tmp_path / "kb.db", data_dir)
    assert len(pids) == 2 and all(gone(pid) for pid in pids)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert multiprocessing.active_children() == []


def test_claims_citations_resolved_from_invalid_files_give_the_checks_problems(
        data_dir, tmp_path):
    """The build resolves the claims' cites before the files are checked: a range that
    is not a number fails there, and the checks' problem is what is raised."""
    edit(data_dir / "claims.csv", '"Introduction, paragraph 1",1,',
         '"Introduction, paragraph 1",1-x,')
    with pytest.raises(ValueError):
        list(claim_citations(read(data_dir)))
    with pytest.raises(kb.db.build.InvalidData) as raised:
        kb.db.build.build(tmp_path / "kb.db", data_dir)
    assert {(p.path, p.line) for p in raised.value.problems} == {
        (str(data_dir / "claims.csv"), 3)}
    assert any("1-x" in p.message for p in raised.value.problems)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert multiprocessing.active_children() == []
