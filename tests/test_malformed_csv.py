"""Malformed data files: each gives one clear located error, never a traceback."""

import pytest

from conftest import append, edit


def validate_output(run, data_dir):
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def test_byte_order_mark(run, data_dir):
    path = data_dir / "claims.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert f"{path}:1:1: file starts with a byte-order mark (BOM)" in validate_output(run, data_dir)


def test_not_utf8_names_line_and_column(run, data_dir):
    path = data_dir / "references.csv"
    raw = path.read_bytes().replace("Gamma G".encode(), "Gamma \xe9".encode("latin-1"))
    path.write_bytes(raw)
    line = raw.split(b"\n")[2]
    column = line.index(b"\xe9") + 1
    assert f"{path}:3:{column}: not valid UTF-8 (byte 0xe9)" in validate_output(run, data_dir)


def test_crlf_line_endings(run, data_dir):
    path = data_dir / "citations.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    output = validate_output(run, data_dir)
    assert f"{path}:1:" in output and "carriage return (CRLF)" in output


def test_row_with_an_extra_cell(run, data_dir):
    path = data_dir / "citations.csv"
    append(path, "alpha2001,4,gamma1999,Gamma G, J Fixtures,https://example.org/alpha,")
    line = path.read_text().split("\n")[4]
    column = len(line) + 1  # the seventh cell, empty, at the end of the line
    assert (f"{path}:5:{column}: 7 cells but the header has 6; a cell holds an unquoted "
            "comma" in validate_output(run, data_dir))


def test_row_with_too_few_cells(run, data_dir):
    path = data_dir / "citations.csv"
    append(path, "alpha2001,4,gamma1999")
    assert f"{path}:5:" in validate_output(run, data_dir)
    assert "only 3 cells but the header has 6" in validate_output(run, data_dir)


def test_stray_quote_after_a_quoted_cell(run, data_dir):
    path = data_dir / "claims.csv"
    edit(path, '"Introduction, paragraph 1"', '"Introduction," paragraph 1"')
    line = path.read_text().split("\n")[2]
    column = line.index('," paragraph') + 2  # the quote that closes too early
    assert f"{path}:3:{column}: bad quoting" in validate_output(run, data_dir)


def test_unclosed_quote_names_the_line_it_starts_on(run, data_dir):
    path = data_dir / "claims.csv"
    edit(path, '"Introduction, paragraph 1"', '"Introduction, paragraph 1')
    output = validate_output(run, data_dir)
    assert f"{path}:3:1: a quoted cell runs from line 3 to line" in output


def test_quote_inside_an_unquoted_cell_is_not_canonical(run, data_dir):
    path = data_dir / "claims.csv"
    edit(path, "Surgery is the preferred option.", 'Surgery is the "preferred" option.')
    line = path.read_text().split("\n")[4]
    column = line.index("Surgery") + 1
    assert (f"{path}:5:{column}: not in canonical CSV form" in validate_output(run, data_dir))


def test_needless_quotes_are_not_canonical(run, data_dir):
    path = data_dir / "references.csv"
    edit(path, ",Gamma G,", ',"Gamma G",')
    assert f"{path}:3:" in validate_output(run, data_dir)
    assert "not in canonical CSV form" in validate_output(run, data_dir)


def test_blank_line(run, data_dir):
    path = data_dir / "citations.csv"
    edit(path, "\nalpha2001,2,", "\n\nalpha2001,2,")
    assert f"{path}:3:1: blank line" in validate_output(run, data_dir)


def test_empty_file(run, data_dir):
    path = data_dir / "claims.csv"
    path.write_text("")
    assert f"{path}:1:1: file is empty" in validate_output(run, data_dir)


def test_missing_file(run, data_dir):
    (data_dir / "citations.csv").unlink()
    assert f"{data_dir / 'citations.csv'}:1:1: file not found" in validate_output(run, data_dir)


def test_missing_and_unknown_columns(run, data_dir):
    path = data_dir / "references.csv"
    edit(path, "key,pmid,", "key,pmidd,")
    output = validate_output(run, data_dir)
    assert f"{path}:1:5: unknown column 'pmidd'" in output
    assert f"{path}:1:1: missing column 'pmid'" in output


def test_duplicate_header_column(run, data_dir):
    path = data_dir / "vocabulary.csv"
    edit(path, "field,term,definition", "field,term,term")
    assert f"{path}:1:12: column 'term' appears twice" in validate_output(run, data_dir)


@pytest.mark.parametrize("name", ["references.csv", "citations.csv", "claims.csv",
                                  "vocabulary.csv"])
def test_binary_garbage(run, data_dir, name):
    (data_dir / name).write_bytes(bytes(range(256)) * 4)
    output = validate_output(run, data_dir)
    assert f"{data_dir / name}:1:" in output


def test_problems_go_to_stdout_with_a_count(run, data_dir):
    edit(data_dir / "references.csv", "11111111", "x")
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 1
    assert result.output.strip().endswith("1 problem in 1 file")


def test_valid_data_exits_zero(run, data_dir):
    result = run("validate", "--data", data_dir)
    assert result.exit_code == 0
    assert "valid" in result.output
