"""Reading a built database for the exports: the SQL that selects works and claims.

Each function runs its queries on a connection the caller opened (read-only) and returns
plain dicts; the export layer decides what a selection means (kb/export/selection.py).
Long lists of keys are bound CHUNK at a time.
"""

from __future__ import annotations

import sqlite3

CHUNK = 500   # ids bound in one query (SQLite allows 999 variables in older builds)
SOURCE_COLUMNS = ("key", "first_author", "pmid", "pmid_seen", "pmcid", "doi", "title", "authors", "journal",
                  "journal_abbrev", "year", "volume", "issue", "pages", "editors",
                  "publisher", "place", "pub_type", "retracted")
_SOURCES = f"select {', '.join(SOURCE_COLUMNS)} from sources"


def rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    """The rows a query gives, as dicts."""
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _chunks(keys: list[str]):
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        yield chunk, ", ".join("?" * len(chunk))


def sources_by_key(conn: sqlite3.Connection, keys: list[str]) -> dict[str, dict]:
    """The sources rows (SOURCE_COLUMNS) of these keys; keys not found are left out."""
    found: dict[str, dict] = {}
    for chunk, marks in _chunks(keys):
        for row in rows(conn, f"{_SOURCES} where key in ({marks})", chunk):
            found[row["key"]] = row
    return found


def all_sources(conn: sqlite3.Connection) -> list[dict]:
    """Every sources row, by first author, year and title."""
    return rows(conn, f"{_SOURCES} order by coalesce(first_author, key) collate nocase, "
                      "year, title collate nocase, key")


def source_label(conn: sqlite3.Connection, key: str) -> str | None:
    """The label of a source, or None when there is no such source."""
    found = conn.execute("select label from sources where key = ?", (key,)).fetchone()
    return found[0] if found else None


def reference_list(conn: sqlite3.Connection, review: str) -> list[dict]:
    """The entries (ref_number, cited_key) of a review's list known, in its order."""
    return rows(conn, "select ref_number, cited_key from citations where citing_key = ? "
                      "order by ref_number", (review,))


def claim_ids(conn: sqlite3.Connection, clauses: list[str], params: list,
              order: str = "") -> list[str]:
    """Ids of the claims meeting every SQL clause (raises sqlite3.Error for bad SQL)."""
    sql = "select id from claims" + (" where " + " and ".join(clauses) if clauses else "")
    return [r[0] for r in conn.execute(sql + order, params)]


def claim_ids_among(conn: sqlite3.Connection, ids: list[str], clauses: list[str],
                    params: list) -> set[str]:
    """Those of ids that name claims meeting the clauses (only those claims are read)."""
    found = set()
    for chunk, marks in _chunks(ids):
        found.update(claim_ids(conn, [f"id in ({marks})", *clauses], [*chunk, *params]))
    return found


def claims_by_id(conn: sqlite3.Connection, ids: list[str]
                 ) -> tuple[dict[str, dict], dict[str, list[tuple[int, str | None]]]]:
    """The claims rows of these ids, and for each the (ref_number, cited_key) it cites,
    in reference-list order."""
    claims: dict[str, dict] = {}
    cites: dict[str, list[tuple[int, str | None]]] = {i: [] for i in ids}
    for chunk, marks in _chunks(ids):
        for row in rows(conn, f"select * from claims where id in ({marks})", chunk):
            claims[row["id"]] = row
        for row in rows(conn, "select claim_id, ref_number, cited_key from claim_citations"
                              f" where claim_id in ({marks}) order by claim_id, ref_number",
                        chunk):
            cites[row["claim_id"]].append((row["ref_number"], row["cited_key"]))
    return claims, cites


def questions(conn: sqlite3.Connection, ids: list[str] | None) -> list[dict]:
    """Questions with their syntheses, in the order asked (all, by id, when ids is
    None); raises KeyError naming the first unknown id."""
    sql = ("select questions.*, syntheses.method, syntheses.k, syntheses.n_total, "
           "syntheses.estimate, syntheses.ci_low, syntheses.ci_high, syntheses.pi_low, "
           "syntheses.pi_high, syntheses.i2, syntheses.unit, syntheses.design, "
           "syntheses.certainty from questions left join syntheses "
           "on syntheses.question_id = questions.id")
    found = {r["id"]: r for r in rows(conn, sql + " order by questions.id")}
    if ids is None:
        return list(found.values())
    for question_id in ids:
        if question_id not in found:
            raise KeyError(question_id)
    return [found[question_id] for question_id in ids]


def question_ids(conn: sqlite3.Connection) -> list[str]:
    return [r["id"] for r in rows(conn, "select id from questions order by id")]


def certainty(conn: sqlite3.Connection, question_id: str) -> list[dict]:
    return rows(conn, "select domain, judgement, reason from certainty "
                "where question_id = ? order by rowid", (question_id,))


def pooled_studies(conn: sqlite3.Connection, question_id: str) -> list[dict]:
    """A question's pooled studies, heaviest first: the primary's key when it is a known
    work, else the source's."""
    return rows(conn, """
        select synthesis_studies.claim_id, synthesis_studies.weight,
               coalesce(study.key, synthesis_studies.source_key) as work_key
        from synthesis_studies left join sources as study
          on study.key = synthesis_studies.study_key
        where question_id = ? and included = 1
        order by weight desc, claim_id""", (question_id,))


# the values a filter may take, by what it filters: a vocabulary field's terms, the
# timepoints the claims write, the questions, the works with a reference list
KNOWN_SQL = {
    **{field: "select term from vocabulary where field = ?"
       for field in ("population", "intervention", "comparator", "outcome", "measure",
                     "unit", "pub_type")},
    "timepoint": "select distinct timepoint from claims where timepoint is not null",
    "question": "select id from questions",
    "review": "select distinct citing_key from citations",
}
VOCABULARY_FIELD = {"comparator": "intervention"}


def known(conn: sqlite3.Connection, what: str) -> set[str]:
    """The values a filter on `what` can match (see KNOWN_SQL)."""
    sql = KNOWN_SQL[what]
    params = (VOCABULARY_FIELD.get(what, what),) if "?" in sql else ()
    return {row[0] for row in conn.execute(sql, params)}


def claims_of_question(conn: sqlite3.Connection, question_id: str) -> list[str]:
    """The claims considered for a question, pooled ones first (as its page lists them)."""
    return [row[0] for row in conn.execute(
        "select claim_id from synthesis_studies where question_id = ? "
        "order by included desc, weight desc, claim_id", (question_id,))]


def build_note(conn: sqlite3.Connection) -> str:
    """'built 2026-12-03 16:40 UTC from data version 3f2a9c1b0d4e', or '' (an older
    database without build_info)."""
    try:
        info = dict(conn.execute("select name, value from build_info").fetchall())
    except sqlite3.Error:
        return ""
    return (f"built {info['built_at']} from data version {info['data_version']}"
            if {"built_at", "data_version"} <= set(info) else "")
