"""The front door, at / and /DB: the guideline questions grouped by treatment, each
with its pooled answer and certainty; the outcomes and interventions with their claim
counts; a search box; then, for power users, Datasette's own list of tables and its SQL
editor."""

from __future__ import annotations

from itertools import groupby
from urllib.parse import quote, urlencode

from kb.evidence.grade import symbols

from . import queries
from .context import is_kb


def kb_database(datasette, database: str | None) -> str | None:
    """The database a landing page is about: the one asked for, or on the instance's
    index the first that holds a knowledge base."""
    if database:
        return database if is_kb(datasette, database) else None
    return next((name for name in datasette.databases if is_kb(datasette, name)), None)


async def landing(datasette, database: str) -> dict:
    db = datasette.get_database(database)
    root = datasette.urls.database(database)
    claims = datasette.urls.table(database, "claims")
    rows = [dict(r) for r in (await db.execute(queries.LANDING_QUESTIONS_SQL)).rows]
    for row in rows:
        row["url"] = f"{root}/-/question/{quote(row['id'], safe='')}"
        row["answer"] = _answer(row)
        row["symbols"] = symbols(row["certainty"])
    groups = [{"treatment": treatment or "any treatment", "questions": list(items)}
              for treatment, items in groupby(rows, key=lambda r: r["intervention"])]

    async def counts(field: str, column: str) -> list[dict]:
        found = await db.execute(queries.TERM_COUNTS_SQL.format(column=column),
                                 {"field": field})
        return [{**dict(r), "url": f"{claims}?{urlencode({column: r['term']})}"}
                for r in found.rows]

    return {"database": database, "groups": groups,
            "outcomes": await counts("outcome", "outcome"),
            "interventions": await counts("intervention", "intervention"),
            "search": f"{root}/-/search", "questions_url": datasette.urls.table(database, "questions")}


def _answer(row: dict) -> str:
    if row["estimate"] is None:
        return "no poolable study yet"
    if row["unit"] == "ratio":
        figure = f"{row['estimate']:.2f} ({row['ci_low']:.2f}–{row['ci_high']:.2f})"
    else:
        figure = f"{row['estimate']:.0f} % ({row['ci_low']:.0f}–{row['ci_high']:.0f})"
    return f"{figure}, {row['k']} stud{'y' if row['k'] == 1 else 'ies'}"
