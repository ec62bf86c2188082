"""Malformed data files that the bad-input corpus (tests/fixtures/bad, run by
test_bad_input.py) cannot hold: a file that is not there, and where kb validate's
report goes (each problem to stdout, their count to stderr), in-process, where a
traceback would raise."""

from helpers import edit


def test_missing_file_is_one_located_problem(run, data_dir):
    (data_dir / "citations.csv").unlink()
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 1
    assert result.stdout == f"{data_dir / 'citations.csv'}:1:1: file not found\n"
    assert result.stderr == "1 problem in 1 file\n"


def test_problems_go_to_stdout_and_their_count_to_stderr(run, data_dir):
    path = data_dir / "references.csv"
    edit(path, "11111111", "x")
    (data_dir / "vocabulary.csv").write_text("")
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:2:11: pmid 'x' is not valid: a PMID is digits only, e.g. 28487601",
        f"{data_dir / 'vocabulary.csv'}:1:1: file is empty (expected a header row)"]
    assert result.stderr == "2 problems in 2 files\n"


def test_valid_data_exits_zero_and_counts_the_rows(run, data_dir):
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 0
    assert result.stdout == (f"{data_dir}: valid (10 rows in vocabulary.csv, 3 rows in "
                             "references.csv, 3 rows in citations.csv, 4 rows in claims.csv)\n")
    assert result.stderr == ""
