"""An immutable knowledge base's schema, asked of SQLite once rather than on every page.

Datasette 0.65 asks the schema again for every request: which tables exist and how a
table name is spelled (three times on a row page, for its permission checks), the
primary keys, the columns, every foreign key of the database, and each database's
`PRAGMA schema_version` to see whether its schema tables need refreshing. Each question
is a trip to a SQL thread and back. A source page made 14 such trips, of which three
read the row and its panels; the others cost 7 of its 35 million instructions.

A database served immutable cannot change while it is served (SQLite is told so), so
for each such knowledge base the startup hook keeps the answers to those questions:
Database methods that only read the schema are wrapped to answer from what they
answered before, the schema SQL the permission checks and the refresh run is kept by
its parameters, and the refresh is skipped once it has run with every database
immutable. At most `REMEMBERED` answers are kept per question, since the table names
asked for come from URLs; beyond that a question is asked of SQLite as before. Mutable
databases (`datasette kb.db`) are left as Datasette has them.
"""

from __future__ import annotations

from .context import is_kb

# Database methods whose answers depend only on the schema (and on metadata, which the
# plugin's get_metadata hook answers the same way for the life of the instance)
SCHEMA_METHODS = ("table_exists", "table_names", "view_names", "table_columns",
                  "table_column_details", "primary_keys", "fts_table",
                  "foreign_keys_for_table", "get_all_foreign_keys", "hidden_table_names",
                  "get_table_definition", "get_view_definition", "label_column_for_table")
# SQL Datasette sends through Database.execute that reads only the schema
SCHEMA_SQL = frozenset({
    # permission_allowed's view-table check: the table's own spelling
    "select name from sqlite_master where type in ('table', 'view') and name = ? "
    "collate nocase",
    "PRAGMA schema_version",
})
REMEMBERED = 1024   # answers kept per question


def remember(datasette) -> None:
    """Answer the schema questions of each immutable knowledge base from memory (an
    instance serving none is left as it is)."""
    kept = [db for name, db in datasette.databases.items()
            if not db.is_mutable and is_kb(datasette, name)]
    for db in kept:
        for method in SCHEMA_METHODS:
            setattr(db, method, _once(getattr(db, method)))
        db.execute = _schema_sql_once(db.execute)
    if kept:
        datasette.refresh_schemas = _refresh_once(datasette, datasette.refresh_schemas)


class _Answers(dict):
    """Answers kept by their question, at most REMEMBERED of them."""

    def keep(self, question, answer):
        if len(self) < REMEMBERED:
            self[question] = answer
        return answer


def _once(ask):
    """`ask` (an async method), answering each set of positional arguments once (asked
    with keywords, it asks SQLite as before)."""
    answers = _Answers()

    async def remembered(*args, **kwargs):
        if kwargs:
            return await ask(*args, **kwargs)
        if args in answers:
            return answers[args]
        return answers.keep(args, await ask(*args))

    remembered.__doc__ = ask.__doc__
    return remembered


def _schema_sql_once(execute):
    """Database.execute, answering the schema SQL once for each set of parameters."""
    answers = _Answers()

    async def remembered(sql, params=None, *args, **kwargs):
        if sql not in SCHEMA_SQL or args or kwargs:
            return await execute(sql, params, *args, **kwargs)
        question = (sql, tuple(params.items() if isinstance(params, dict) else params or ()))
        if question in answers:
            return answers[question]
        return answers.keep(question, await execute(sql, params))

    return remembered


def _refresh_once(datasette, refresh):
    """Datasette.refresh_schemas, skipped once it has run over the same databases, all
    of them immutable (the internal database aside)."""
    refreshed: dict = {}

    async def remembered():
        names = tuple(datasette.databases)
        if refreshed.get("names") == names:
            return None
        await refresh()
        if all(not db.is_mutable for name, db in datasette.databases.items()
               if name != "_internal"):
            refreshed["names"] = names
        return None

    return remembered
