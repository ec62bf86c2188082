"""What gets exported and how it is numbered; evidence tables; the `kb export` command."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3

import pytest

from helpers import FIXTURES

from kb.evidence import numbers
from kb.export import evidence_table, formats
from kb.export import selection as selecting

DATA = FIXTURES / "export"


@pytest.fixture(scope="module")
def conn(export_conn):
    return export_conn


@pytest.fixture
def data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


# -- selections -------------------------------------------------------------------------


def test_all_sources_are_numbered_by_first_author_and_year(conn):
    selection = selecting.all_sources(conn)
    keys = [row["key"] for _, row in selection.entries]
    assert len(keys) == 13
    assert keys[:4] == ["trio2002", "six2003", "seven2004", "thirty2005"]   # all Abel
    assert selection.numbers == list(range(1, 14))


def test_a_reference_list_keeps_the_reviews_numbers_and_names_the_gaps(conn):
    selection = selecting.reference_list(conn, "review2013")
    assert [(n, row["key"]) for n, row in selection.entries] == [
        (1, "seven2004"), (2, "solo2001"), (4, "chapter2007"), (5, "latex2010"),
        (6, "thirty2005")]
    assert selection.unknown == ["entries 3 of review2013's list are not yet known"]


def test_a_work_listed_under_two_numbers_is_one_entry_of_a_reference_manager_file(
        data, tmp_path):
    from helpers import append
    from kb.db import build

    append(data / "citations.csv", "review2013,7,solo2001,,https://example.org/fixture,"
                                   "listed twice")
    db = tmp_path / "kb.db"
    build.build(db, data)
    conn = sqlite3.connect(db)
    selection = selecting.reference_list(conn, "review2013")
    assert [n for n, row in selection.entries if row["key"] == "solo2001"] == [2, 7]
    assert [item["id"] for item in selection.works] == [
        "seven2004", "solo2001", "chapter2007", "latex2010", "thirty2005"]
    bib = formats.render(selection, "bibtex")
    assert bib.count("{solo2001,") == 1
    assert formats.render(selection, "ris").count("ID  - solo2001") == 1
    assert [i["id"] for i in json.loads(formats.render(selection, "csl-json"))].count(
        "solo2001") == 1
    text = formats.render(selection, "vancouver", "text")
    assert re.search(r"^2\. Solo", text, re.M) and re.search(r"^7\. Solo", text, re.M)
    page = formats.render(selection, "vancouver", "html")
    assert 'value="2" id="ref-solo2001"' in page and 'value="7" id="ref-solo2001-7"' in page
    conn.close()


def test_works_behind_claims_are_numbered_in_order_of_first_use(conn):
    ids = ["review2013-c04", "review2013-c02", "review2013-c01"]
    selection = selecting.behind_claims(conn, ids)
    assert [(n, row["key"]) for n, row in selection.entries] == [
        (1, "review2013"), (2, "chapter2007"), (3, "thirty2005"), (4, "solo2001"),
        (5, "seven2004")]
    numbers = {c.claim["id"]: c.numbers for c in selection.claims}
    assert numbers == {"review2013-c04": [1, 2, 3], "review2013-c02": [1, 4],
                       "review2013-c01": [1, 5]}
    [c02] = [c for c in selection.claims if c.claim["id"] == "review2013-c02"]
    assert c02.rests_on == [(2, "solo2001", 4), (3, None, None)]
    assert selection.unknown == [
        "review2013-c02: entries 3 of review2013's list are not yet known"]


def test_claims_chosen_by_outcome_or_sql_condition(conn):
    assert selecting.claim_ids(conn, outcome="liver-metastases") == [
        "review2013-c01", "seven2004-c01"]
    assert selecting.claim_ids(conn, where="value > 50 and unit = '%'") == [
        "review2013-c01", "seven2004-c01"]
    assert selecting.claim_ids(conn, ids=["seven2004-c01", "review2013-c01"],
                            outcome="liver-metastases") == ["seven2004-c01",
                                                            "review2013-c01"]
    # an id outside the outcome is left out, not an error
    assert selecting.claim_ids(conn, ids=["review2013-c03"], outcome="liver-metastases") == []


@pytest.mark.parametrize("call, message", [
    (lambda c: selecting.claim_ids(c, ids=["nope-c01"]), "no such claim: nope-c01"),
    (lambda c: selecting.claim_ids(c, where="bogus = 1"), "not valid SQL: no such column"),
    (lambda c: selecting.reference_list(c, "nobody"), "no such source: nobody"),
    (lambda c: selecting.sources(c, ["solo2001", "nobody"]), "no such source: nobody"),
])
def test_a_selection_of_something_unknown_is_an_error(conn, call, message):
    with pytest.raises(selecting.SelectionError, match=message):
        call(conn)


# -- evidence tables --------------------------------------------------------------------


def test_evidence_table_rows_carry_numbers_and_what_each_claim_rests_on(conn):
    selection = selecting.behind_claims(conn, selecting.claim_ids(conn))
    rows = {r["claim"]: r for r in evidence_table.rows(selection)}
    c02 = rows["review2013-c02"]
    assert c02["value"] == "13–54%"
    assert c02["source"] == "Review 2013 [1]"
    assert c02["rests_on"] == "Solo 2001 [3]; review2013 refs 3: not yet known"
    assert c02["design"] == "journal-article, unknown"
    assert c02["refs"] == "1, 3"
    c04 = rows["review2013-c04"]
    assert c04["value"] == "41.5 (30–60) months"
    assert c04["rests_on"] == "Writer 2007 [4]; Abel 2005 [5]"
    assert rows["review2013-c01"]["rests_on"] == "Abel 2004 [2]"
    assert rows["review2013-c03"]["rests_on"] == "no reference printed"
    assert rows["review2013-c03"]["design"] == "review"
    assert rows["seven2004-c01"]["n"] == "120"


@pytest.mark.parametrize("claim, expected", [
    ({"value": 80.0, "unit": "%"}, "80%"),
    ({"low": 13.0, "high": 54.0, "unit": "%"}, "13–54%"),
    ({"high": 75.0, "unit": "%"}, "≤75%"),
    ({"low": 30.0, "unit": "%"}, "≥30%"),
    ({"value": 2.5, "low": 1.2, "high": 4.0}, "2.5 (1.2–4)"),
    ({"value": 13715.0, "unit": "cases"}, "13715 cases"),
    ({}, ""),
])
def test_values_are_written_as_a_reader_would(claim, expected):
    assert numbers.format_value(claim) == expected


def test_evidence_table_csv_neutralises_formulas_and_ends_with_the_references(conn):
    selection = selecting.behind_claims(conn, selecting.claim_ids(conn))
    text = evidence_table.render(selection, "csv")
    rows = list(csv.reader(io.StringIO(text)))
    header = [title for _, title in evidence_table.COLUMNS]
    assert rows[0] == header
    claims = {r[0]: dict(zip(header, r)) for r in rows[1:6]}
    assert claims["review2013-c03"]["Statement (our words)"].startswith("'=HYPERLINK(")
    assert claims["review2013-c04"]["Statement (our words)"].startswith("'+1 fixtures")
    assert rows[6] == []
    assert re.fullmatch(r"5 claims; built \d{4}-\d\d-\d\d \d\d:\d\d UTC from data "
                        r"version [0-9a-f]{12}\.", rows[7][0])
    assert rows[8] == []
    assert rows[9] == ["Ref", "Reference (Vancouver)"]
    assert [r[0] for r in rows[10:]] == ["1", "2", "3", "4", "5"]
    assert rows[10][1].startswith("Review R, Writer W. A review citing the fixtures.")
    for row in rows:
        for cell in row:
            assert not cell or cell[0] not in "=+-@" or cell.lstrip("+-").replace(
                ".", "").isdigit(), cell


@pytest.mark.parametrize("cell, expected", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"), ("-5", "-5"), ("+3.2", "+3.2"),
    ("13–54%", "13–54%"), ("", ""),
])
def test_neutralise(cell, expected):
    assert evidence_table.neutralise(cell) == expected


def test_evidence_table_markdown_and_html(conn):
    selection = selecting.behind_claims(conn, ["review2013-c04"])
    markdown = evidence_table.render(selection, "markdown")
    lines = markdown.splitlines()
    assert lines[2].startswith("| Claim | Statement (our words) | Value |")
    assert lines[4].startswith("| review2013-c04 | +1 fixtures and -2+3 more; @SUM(A1) as well.")
    assert "## References" in markdown
    assert "\n1. Review R, Writer W." in markdown and "\n3. Abel AB," in markdown
    html = evidence_table.render(selection, "html")
    assert '<td class="col-value">41.5 (30–60) months</td>' in html
    assert '<li value="2" id="ref-chapter2007">Writer W, Author A.' in html


def test_markdown_cells_cannot_break_the_table():
    selection = selecting.Selection("t", [(1, {"key": "s", "authors": "A B", "year": 2000,
                                            "pub_type": "review", "title": "T"})],
                                 of_claims=True)
    selection.claims.append(selecting.ClaimRefs(
        {"id": "s-c01", "statement": "a | b\nc", "source_key": "s"}, 1))
    row = evidence_table.render(selection, "markdown").splitlines()[4]
    assert row.startswith("| s-c01 | a \\| b c |")


# -- the real data ----------------------------------------------------------------------


def test_jagannath_survival_claims_show_touzios_and_the_unknown_references(real_conn):
    selection = selecting.behind_claims(real_conn, ["jagannath2012-c05", "jagannath2012-c06"])
    rows = {r["claim"]: r for r in evidence_table.rows(selection)}
    assert rows["jagannath2012-c05"]["value"] == "13–54%"
    assert rows["jagannath2012-c05"]["rests_on"] == "Touzios [2]"
    assert rows["jagannath2012-c05"]["refs"] == "1, 2"
    assert rows["jagannath2012-c06"]["value"] == "75–99%"
    assert rows["jagannath2012-c06"]["rests_on"] == (
        "jagannath2012 refs 11-15: not yet known")
    assert rows["jagannath2012-c06"]["refs"] == "1"


# -- the command ------------------------------------------------------------------------


def test_kb_export_writes_bibtex_to_stdout(run, data, tmp_path):
    result = run("export", tmp_path / "kb.db", "--data", data, "-f", "bibtex",
                 "--source", "solo2001,trio2002")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("@article{solo2001,")
    assert "@article{trio2002," in result.stdout


def test_kb_export_builds_a_missing_database_first(run, data, tmp_path):
    db = tmp_path / "kb.db"
    result = run("export", db, "--data", data, "-f", "csl-json", "--outcome",
                 "liver-metastases")
    assert result.exit_code == 0, result.output
    assert db.exists()
    assert [i["id"] for i in json.loads(result.stdout)] == ["review2013", "seven2004"]


def test_kb_export_to_a_file_reports_what_it_could_not_export(run, data, tmp_path):
    out = tmp_path / "list.txt"
    result = run("export", tmp_path / "kb.db", "--data", data, "-f", "vancouver",
                 "--reference-list", "review2013", "-o", out)
    assert result.exit_code == 0, result.output
    assert "not exported: entries 3 of review2013's list are not yet known" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("1. Abel AB") and "\n\n4. Writer W, Author A." in text


def test_kb_export_evidence_table_as_html(run, data, tmp_path):
    result = run("export", tmp_path / "kb.db", "--data", data, "-f", "evidence-table",
                 "--as", "html", "--claim", "review2013-c01")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert '<td class="col-claim">review2013-c01</td>' in result.stdout


@pytest.mark.parametrize("args, message", [
    (["-f", "bibtex", "--claim", "nope"], "no such claim: nope"),
    (["-f", "bibtex", "--source", "solo2001", "--outcome", "x"], "choose one selection: "
     "--reference-list, --source, or claims (--claim, --question, --outcome, --intervention, "
     "--population, --timepoint, --where)"),
    (["-f", "evidence-table", "--reference-list", "review2013"], "an evidence table is made "
     "of claims: select them with --claim, --question, --outcome, ... or --where (or "
     "nothing, for all)"),
    (["-f", "vancouver", "--outcome", "overal-survival"], "outcome 'overal-survival' is not "
     "an outcome term (did you mean 'overall-survival'?)"),
    (["-f", "bibtex", "--intervention", "resektion"], "intervention 'resektion' is not an "
     "intervention term (did you mean 'resection'?)"),
    (["-f", "ris", "--population", "metastatic-nem"], "population 'metastatic-nem' is not a "
     "population term (did you mean 'metastatic-nen'?)"),
    (["-f", "evidence-table", "--timepoint", "5 yaers"], "timepoint '5 yaers' is not a "
     "timepoint any claim gives (did you mean '5 years'?)"),
    (["-f", "bibtex", "--reference-list", "review2031"], "no such source: review2031 (did "
     "you mean 'review2013'?)"),
    (["-f", "ris", "--as", "html"],
     "Invalid value for --as: ris is written as one form only, not html"),
    (["-f", "vancouver", "--as", "csv"],
     "Invalid value for --as: vancouver is written as text, markdown, html, not csv"),
    (["-f", "bibtex", "--where", "drop table claims"], "the claim filter 'drop table claims' "
     'is not valid SQL: near "drop": syntax error'),
], ids=["unknown claim", "two selections", "evidence table of a list", "outcome typo",
        "intervention typo", "population typo", "timepoint typo", "review typo",
        "ris as html", "vancouver as csv", "bad where"])
def test_kb_export_usage_errors_exit_2_and_write_nothing(run, data, tmp_path, args, message):
    out = tmp_path / "out"
    result = run("export", tmp_path / "kb.db", "--data", data, *args, "-o", out)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.endswith("Usage: cli export [OPTIONS] [DB]\nTry 'cli export --help' "
                                  f"for help.\n\nError: {message}\n")
    assert not out.exists()


def test_kb_export_of_invalid_data_exits_1(run, data, tmp_path):
    (data / "claims.csv").write_text("id\n", encoding="utf-8")
    result = run("export", tmp_path / "kb.db", "--data", data, "-f", "bibtex")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        "1 problem in 1 file", f"{tmp_path / 'kb.db'} not built: fix the data first"]


@pytest.mark.parametrize("fmt, output, mark", [
    ("bibtex", None, "@comment{Not exported: entries 3 of review2013's list are not yet "
     "known.}\n"),
    ("ris", None, "# Not exported: entries 3 of review2013's list are not yet known.\n"),
    ("vancouver", "text", "\n\nNot exported: entries 3 of review2013's list are not yet "
     "known.\n"),
    ("ama", "html", '<section class="kb-not-exported"'),
])
def test_what_a_list_could_not_hold_is_said_in_its_body(conn, fmt, output, mark):
    text = formats.render(selecting.reference_list(conn, "review2013"), fmt, output)
    assert mark in text


def test_the_marks_leave_the_files_readable(conn):
    import bibtexparser
    import rispy

    chosen = selecting.reference_list(conn, "review2013")
    library = bibtexparser.parse_string(formats.render(chosen, "bibtex"))
    assert len(library.entries) == len(chosen.works) and not library.failed_blocks
    assert len(rispy.loads(formats.render(chosen, "ris"))) == len(chosen.works)


def test_an_evidence_table_names_its_selection_and_says_when_nothing_matches(run, data,
                                                                          tmp_path):
    result = run("export", tmp_path / "kb.db", "--data", data, "-f", "evidence-table",
                 "--outcome", "overall-survival", "--timepoint", "5 years")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Evidence table: outcome overall-survival, "
                                    "timepoint 5 years\n")
    result = run("export", tmp_path / "kb.db", "--data", data, "-f", "evidence-table",
                 "--outcome", "liver-metastases", "--timepoint", "5 years")
    assert ("No claim matches this selection: without outcome 'liver-metastases', 1 claim "
            "match") in result.stdout   # the nearest selections that do match
    assert "without timepoint '5 years', " in result.stdout
    assert re.search(r"0 claims; built .* from data version [0-9a-f]{12}\.", result.stdout)
