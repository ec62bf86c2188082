"""An immutable knowledge base's schema asked once (kb/web/schema_once.py): pages served
from the remembered answers are the pages Datasette renders asking every time, a page
asked after the first runs only its own queries, the answers kept are bounded, a mutable
database is left alone, and a database added later is still refreshed."""

import asyncio
import re
import sqlite3

import pytest
from datasette.app import Datasette
from datasette.database import Database

from helpers import FIXTURES, datasette_for, served_settings
from kb.db import build
from kb.web import schema_once

PAGES = ("/", "/kb", "/kb/claims", "/kb/claims?outcome=overall-survival",
         "/kb/claims?_search=survival", "/kb/sources", "/kb/sources/s2001",
         "/kb/claims/s2001-c01", "/kb/claim_evidence", "/kb/-/question/q-resection",
         "/kb/citations?_facet=citing_key", "/kb/search_claims?q=survival",
         "/kb/-/search?q=survival", "/kb/vocabulary.json?_shape=array")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema_once") / "kb.db"
    build.build(path, FIXTURES / "synthesis")
    return path


@pytest.fixture(autouse=True)
def no_answer_cache(monkeypatch):
    monkeypatch.setenv("KB_CACHE_MB", "0")   # every ask renders the page


def timeless(page: str) -> str:
    return re.sub(r"Queries took [0-9.]+ms", "Queries took ?ms", page)


def pages(datasette, paths):
    async def go():
        out = []
        for path in paths:
            response = await datasette.client.get(path)
            out.append((response.status_code, timeless(response.text)))
        return out
    return asyncio.run(go())


class Traced:
    """Every SQL statement SQLite runs for a Datasette instance, by database name."""

    def __init__(self, monkeypatch):
        self.statements: list[tuple[str, str]] = []
        original = Database.execute_fn
        statements = self.statements

        async def execute_fn(db, fn):
            def traced(conn):
                conn.set_trace_callback(lambda sql: statements.append((db.name, sql)))
                try:
                    return fn(conn)
                finally:
                    conn.set_trace_callback(None)
            return await original(db, traced)

        monkeypatch.setattr(Database, "execute_fn", execute_fn)


def test_pages_from_remembered_answers_are_the_pages_asked_afresh(db, monkeypatch):
    remembered = datasette_for(db)
    first = pages(remembered, PAGES)   # asked of SQLite, and kept
    again = pages(remembered, PAGES)   # answered from what was kept
    monkeypatch.setattr(schema_once, "remember", lambda datasette: None)
    asked_afresh = pages(datasette_for(db), PAGES)
    assert [status for status, _ in first] == [200] * len(PAGES)
    assert again == first == asked_afresh


def test_a_row_page_after_the_first_runs_only_its_own_queries(db, monkeypatch):
    traced = Traced(monkeypatch)
    served = datasette_for(db)
    pages(served, ["/kb/sources/s2001"])
    traced.statements.clear()
    assert pages(served, ["/kb/sources/s2005"])[0][0] == 200
    ran = [sql for _, sql in traced.statements]
    assert {name for name, _ in traced.statements} == {"kb"}   # nothing on _internal
    assert not [sql for sql in ran if "sqlite_master" in sql or "pragma" in sql.lower()]
    assert any("from sources where" in sql for sql in ran)   # the row itself is read


def test_without_the_plugin_the_same_page_asks_the_schema_again(db, monkeypatch):
    # the measurement above is not vacuous: Datasette alone asks the schema each time
    monkeypatch.setattr(schema_once, "remember", lambda datasette: None)
    traced = Traced(monkeypatch)
    served = datasette_for(db)
    pages(served, ["/kb/sources/s2001"])
    traced.statements.clear()
    pages(served, ["/kb/sources/s2005"])
    ran = [sql for _, sql in traced.statements]
    assert [sql for sql in ran if "sqlite_master" in sql or "pragma" in sql.lower()]
    assert "_internal" in {name for name, _ in traced.statements}


def test_the_answers_kept_are_bounded(db, monkeypatch):
    monkeypatch.setattr(schema_once, "REMEMBERED", 5)
    traced = Traced(monkeypatch)
    served = datasette_for(db)

    async def go():
        await served.invoke_startup()
        kb = served.databases["kb"]
        for i in range(5):
            assert not await kb.table_exists(f"no_such_table_{i}")
        kept = len(traced.statements)
        assert not await kb.table_exists("no_such_table_0")
        assert len(traced.statements) == kept          # remembered
        assert not await kb.table_exists("one_too_many")
        assert not await kb.table_exists("one_too_many")
        return len(traced.statements) - kept           # asked each time, not kept
    assert asyncio.run(go()) == 2


def test_a_mutable_database_is_asked_every_time(db):
    served = Datasette([str(db)], settings=served_settings())
    assert pages(served, ["/kb/claims"])[0][0] == 200
    kb = served.databases["kb"]
    assert kb.is_mutable and "table_exists" not in vars(kb) and "execute" not in vars(kb)
    assert "refresh_schemas" not in vars(served)


def test_an_instance_without_a_knowledge_base_is_left_as_datasette_has_it(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table notes (id integer primary key, text text)")
    served = datasette_for(other)
    assert pages(served, ["/other/notes"])[0][0] == 200
    assert "refresh_schemas" not in vars(served)
    assert "table_exists" not in vars(served.databases["other"])


def test_a_question_asked_with_keywords_is_asked_of_sqlite(db, monkeypatch):
    traced = Traced(monkeypatch)
    served = datasette_for(db)

    async def go():
        await served.invoke_startup()
        kb = served.databases["kb"]
        first = await kb.get_table_definition("claims", type_="table")
        asked = len(traced.statements)
        again = await kb.get_table_definition("claims", type_="table")
        return first, again, len(traced.statements) - asked
    first, again, statements = asyncio.run(go())
    assert first == again and first.startswith("CREATE TABLE") and statements > 0


def test_a_database_added_while_serving_is_still_refreshed(db, tmp_path):
    served = datasette_for(db)
    assert pages(served, ["/kb/claims"])[0][0] == 200
    extra = tmp_path / "extra.db"
    with sqlite3.connect(extra) as conn:
        conn.execute("create table notes (id integer primary key, text text)")
        conn.execute("insert into notes (text) values ('kept')")
    served.add_database(Database(served, path=str(extra), is_mutable=False), name="extra")
    status, page = pages(served, ["/extra/notes"])[0]
    assert status == 200 and "kept" in page
    status, listing = pages(served, ["/-/databases.json"])[0]
    assert '"extra"' in listing
