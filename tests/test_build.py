"""kb build: tables, keys, types, counts, search, views, and atomic replacement."""

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

import kb.db.build
from helpers import edit

REAL_DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def built(data_dir, tmp_path, run):
    db_path = tmp_path / "kb.db"
    result = run("build", db_path, "--data", data_dir)
    assert result.exit_code == 0, result.output
    return sqlite_utils.Database(db_path)


def test_tables_and_counts(built):
    counts = {t.name: t.count for t in built.tables if not t.name.endswith(
        ("_fts", "_data", "_idx", "_docsize", "_config")) and t.name != "sqlite_stat1"}
    assert counts == {"vocabulary": 10, "sources": 3, "authors": 4, "source_authors": 4,
                      "citations": 3, "claims": 4, "claim_citations": 3, "pubmed_records": 0,
                      "claim_trails": 3, "claim_conflicts": 0, "questions": 0,
                      "certainty": 0, "claim_flags": 0, "syntheses": 0,
                      "synthesis_studies": 0, "build_info": 2}


def test_primary_keys(built):
    assert built["sources"].pks == ["key"]
    assert built["claims"].pks == ["id"]
    assert built["citations"].pks == ["citing_key", "ref_number"]
    assert built["claim_citations"].pks == ["claim_id", "ref_number"]
    assert built["source_authors"].pks == ["source_key", "position"]


def test_foreign_keys(built):
    def fks(table):
        return {(fk.column, fk.other_table, fk.other_column) for fk in built[table].foreign_keys}

    assert fks("claims") == {("source_key", "sources", "key"), ("derived_from", "claims", "id")}
    assert fks("citations") == {("citing_key", "sources", "key"), ("cited_key", "sources", "key")}
    assert fks("claim_citations") == {("claim_id", "claims", "id"),
                                      ("citing_key", "sources", "key"),
                                      ("cited_key", "sources", "key")}
    assert fks("source_authors") == {("source_key", "sources", "key"),
                                     ("author_id", "authors", "id")}
    assert built.execute("pragma foreign_key_check").fetchall() == []


def test_every_foreign_key_is_looked_up_through_an_index(built):
    """A row page counts the rows pointing at it through each foreign key."""
    for table in built.tables:
        for fk in table.foreign_keys:
            plan = " ".join(row[3] for row in built.execute(
                f"explain query plan select count(*) from [{table.name}] "
                f"where [{fk.column}] = 'x'"))
            assert "USING" in plan and "INDEX" in plan, (table.name, fk.column, plan)


def test_facet_counts_read_an_index_alone_whatever_the_page_is_filtered_by(built):
    """Datasette's facet query, for every facet of every table, unfiltered and filtered
    by each other facet, is answered from a covering index."""
    from kb.db import tables as schema

    for table in schema.TABLES:
        for facet in table.facets:
            for by in (None, *(f for f in table.facets if f != facet)):
                where = f"where [{by}] = :v" if by else ""
                sql = (f"select [{facet}] as value, count(*) as count from (select * from "
                       f"[{table.name}] {where}) where [{facet}] is not null group by "
                       f"[{facet}] order by count desc, value limit 16")
                plan = " ".join(r[3] for r in built.execute(f"explain query plan {sql}",
                                                            {"v": "x"}))
                assert "COVERING INDEX" in plan or "PRIMARY KEY" in plan, (
                    table.name, facet, by, plan)


def test_identifiers_are_text_and_numbers_are_typed(built):
    types = built["sources"].columns_dict
    assert types["pmid"] is str and types["doi"] is str and types["pmcid"] is str
    assert types["year"] is int
    claim_types = built["claims"].columns_dict
    assert claim_types["value"] is float and claim_types["n"] is int
    row = built.execute("select pmid, typeof(pmid), year, typeof(year) from sources "
                        "where key = 'gamma1999'").fetchone()
    assert row == ("22222222", "text", 1999, "integer")


def test_blank_cells_are_null(built):
    row = built["sources"].get("delta")
    assert row["pmid"] is None and row["title"] is None and row["year"] is None
    assert built["citations"].get(("alpha2001", 3))["cited_key"] is None


def test_authors_split_in_order_and_incomplete_lists_flagged(built):
    names = [r[0] for r in built.execute(
        "select authors.name from source_authors join authors on authors.id = "
        "source_authors.author_id where source_key = 'alpha2001' order by position")]
    assert names == ["Alpha A", "Beta B"]
    assert built["sources"].get("alpha2001")["authors_complete"] == 0
    assert built["sources"].get("gamma1999")["authors_complete"] == 1
    assert built["sources"].get("gamma1999")["first_author"] == "Gamma"


def test_labels_are_readable(built):
    assert built["sources"].get("gamma1999")["label"] == (
        "Gamma 1999: Counting, in a cohort of fixtures")
    assert built["sources"].get("delta")["label"] == "Delta (title not yet known)"


def test_claim_citations_resolve_ranges_through_the_reference_list(built):
    rows = built.execute("select claim_id, ref_number, cited_key from claim_citations "
                         "order by claim_id, ref_number").fetchall()
    assert rows == [("alpha2001-c01", 1, "gamma1999"), ("alpha2001-c02", 2, "delta"),
                    ("alpha2001-c02", 3, None)]


def test_full_text_search_on_claims_and_sources(built):
    hits = [r[0] for r in built.execute(
        "select claims.id from claims_fts join claims on claims.rowid = claims_fts.rowid "
        "where claims_fts match 'lesions' order by claims.id")]
    assert hits == ["alpha2001-c01", "gamma1999-c01"]
    hits = [r[0] for r in built.execute(
        "select sources.key from sources_fts join sources on sources.rowid = sources_fts.rowid "
        "where sources_fts match 'cohort'")]
    assert hits == ["gamma1999"]


def test_claim_evidence_view(built):
    rows = built.execute("select claim_id, ref_number, cited_key, rests_on, support "
                         "from claim_evidence where claim_id like 'alpha2001%'").fetchall()
    assert rows == [
        ("alpha2001-c01", 1, "gamma1999", "Gamma 1999: Counting, in a cohort of fixtures",
         "known"),
        ("alpha2001-c02", 2, "delta", "Delta (title not yet known)", "known"),
        ("alpha2001-c02", 3, None, None, "reference not yet known"),
        ("alpha2001-c03", None, None, None, "no citation printed"),
    ]


@pytest.mark.parametrize("folder", ["fixture", "real"])
def test_statistics_are_those_of_one_analyze_of_the_whole_database(folder, data_dir,
                                                                    tmp_path):
    """The build analyzes each table as it is loaded (and its full-text index's tables):
    sqlite_stat1 as one ANALYZE of the finished database makes it, no table missed."""
    folder = data_dir if folder == "fixture" else REAL_DATA
    db_path = tmp_path / "kb.db"
    kb.db.build.build(db_path, folder)
    conn = sqlite3.connect(db_path)
    try:
        def statistics():
            return sorted(conn.execute("select tbl, idx, stat from sqlite_stat1"),
                          key=repr)

        built = statistics()
        analyzed = {table for table, _, _ in built}
        assert {"citations", "claims", "claims_fts_idx", "sources_fts_data",
                "build_info"} <= analyzed
        conn.execute("analyze")
        assert statistics() == built
    finally:
        conn.close()


def test_build_is_from_scratch(data_dir, tmp_path, run):
    db_path = tmp_path / "kb.db"
    sqlite_utils.Database(db_path)["leftover"].insert({"x": 1})
    assert run("build", db_path, "--data", data_dir).exit_code == 0
    assert "leftover" not in sqlite_utils.Database(db_path).table_names()


def test_invalid_data_leaves_previous_database_untouched(data_dir, tmp_path, run):
    db_path = tmp_path / "kb.db"
    assert run("build", db_path, "--data", data_dir).exit_code == 0
    before = db_path.read_bytes()
    edit(data_dir / "claims.csv", ",13,54,", ",60,54,")
    result = run("build", db_path, "--data", data_dir)
    assert result.exit_code == 1
    assert result.stdout == (f"{data_dir / 'claims.csv'}:4:172: low (60) is greater than "
                             "high (54)\n")
    assert result.stderr == f"1 problem in 1 file\n{db_path} not built: fix the data first\n"
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "kb.db"]


def test_failure_during_write_leaves_previous_database_untouched(
        data_dir, tmp_path, run, monkeypatch, tmp_path_factory):
    db_path = tmp_path / "kb.db"
    assert run("build", db_path, "--data", data_dir).exit_code == 0
    before = db_path.read_bytes()
    real_insert = kb.db.build._insert
    # the tables are written in child processes: each call is noted in a file
    calls = tmp_path_factory.mktemp("calls") / "tables"

    def failing_insert(db, table, rows):
        with open(calls, "a") as f:
            f.write(table.name + "\n")
        if table.name == "claims":
            raise sqlite3.OperationalError("disk I/O error")
        return real_insert(db, table, rows)

    monkeypatch.setattr(kb.db.build, "_insert", failing_insert)
    with pytest.raises(sqlite3.OperationalError):
        kb.db.build.build(db_path, data_dir)
    assert "claims" in calls.read_text().split()
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "kb.db"]
    assert sqlite_utils.Database(db_path)["claims"].count == 4


def test_build_reports_counts(data_dir, tmp_path, run):
    result = run("build", tmp_path / "kb.db", "--data", data_dir)
    assert result.exit_code == 0
    assert result.stdout == (
        f"built {tmp_path / 'kb.db'}: 10 vocabulary, 3 sources, 4 authors, 4 source_authors, "
        "3 citations, 4 claims, 3 claim_citations, 0 pubmed_records, 3 claim_trails, "
        "0 claim_conflicts, 0 questions, 0 certainty, 0 claim_flags, 0 syntheses, "
        "0 synthesis_studies, 2 build_info\n")


def test_unwritable_target_is_a_clear_error(data_dir, tmp_path, run):
    result = run("build", tmp_path / "missing-folder" / "kb.db", "--data", data_dir)
    assert result.exit_code == 1
    assert result.output == (f"kb build: cannot write {tmp_path / 'missing-folder' / 'kb.db'}: "
                             "its folder does not exist; no database was written\n")


@pytest.mark.parametrize("error, said", [
    (sqlite3.DatabaseError("database disk image is malformed"),
     "database disk image is malformed"),
    (OSError(5, "Input/output error"), "[Errno 5] Input/output error"),
])
@pytest.mark.parametrize("command", [("build",), ("serve",), ("export", "-f", "ris")])
def test_build_serve_and_export_fail_alike_when_the_build_fails(
        data_dir, tmp_path, run, monkeypatch, command, error, said):
    """kb serve and kb export build a stale database through the same helper as kb build,
    so an error the build meets is reported the same way by all three (exit status 1,
    one line naming the database) and nothing is served or exported."""
    db = tmp_path / "kb.db"

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(kb.db.build, "build", failing)
    result = run(command[0], db, *command[1:], "--data", data_dir)
    assert result.exit_code == 1
    building = "" if command == ("build",) else f"building {db} from {data_dir}/\n"
    assert result.output == f"{building}kb build: {db} not built: {said}\n"


@pytest.mark.parametrize("command", [["validate"], ["build", "kb.db"], ["export", "-f", "ris"]])
def test_a_missing_data_folder_is_one_usage_error(run, tmp_path, command):
    result = run(*command, "--data", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: Invalid value for '--data': Directory '{tmp_path / 'nowhere'}' does not "
        "exist.")
