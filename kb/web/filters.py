"""Filters that catch typos: a table filtered by a vocabulary term, a timepoint or a
question that no row could match (`?outcome=overal-survival`) answers 400 with the
nearest known value, instead of an empty table with status 200 (the
filters_from_request hook)."""

from __future__ import annotations

from datasette.utils.asgi import BadRequest

from .context import is_kb
from .evidence_routes import unknown

# a filtered column -> what its values are checked against (kb.db.queries.KNOWN_SQL)
CHECKED = {"outcome": "outcome", "population": "population",
           "intervention": "intervention", "comparator": "comparator",
           "measure": "measure", "unit": "unit", "timepoint": "timepoint",
           "question_id": "question"}
EXACT = ("", "__exact")


async def refuse_unknown(request, database, table, datasette) -> None:
    """Raise BadRequest for the first filter value that names nothing known."""
    if not is_kb(datasette, database):
        return None
    asked = [(column, CHECKED[column], request.args[column + suffix])
             for column in CHECKED for suffix in EXACT if request.args.get(column + suffix)]
    if not asked:
        return None
    db = datasette.get_database(database)
    columns = set(await db.table_columns(table))   # PRAGMA table_info: views too
    terms = {what: value for column, what, value in asked if column in columns}
    problem = await db.execute_fn(lambda conn: unknown(conn, terms)) if terms else None
    if problem:
        raise BadRequest(problem)
    return None
