"""One ranked search across claims, sources and questions: SQLite's FTS5 bm25 over each
table's full-text index, the three merged by rank, with highlighted snippets. A word of
the query that is a vocabulary term's synonym (`synonyms` in vocabulary.csv:
hepatectomy → resection) also finds the term.

(datasette-search-all was weighed first, version 1.1.4 installed and read: its /-/search
page lists the searchable tables and fetches each one's JSON search from the browser,
in JavaScript, giving a list per table with no ranking across them and no synonyms; a
reader asking one question wants one list, and our pages run no script.)

Route (registered by kb/web/plugin.py's register_routes):
  /DB/-/search?q=WORDS
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import quote

from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from kb.data.schema import SYNONYM_SEPARATOR

from . import queries
from .context import error, is_kb, row_url

SEARCH_ROUTE = r"^/(?P<database>[^/]+)/-/search$"
LIMIT = 50
WORD = re.compile(r"[\w%.-]+")


def fts_query(text: str, synonyms: dict[str, list[str]]) -> str:
    """The FTS5 query for a reader's words: each word a quoted prefix-free token, ORed
    with the terms it is a synonym of; every word required."""
    parts = []
    for word in WORD.findall(text.lower()):
        alternatives = [word, *synonyms.get(word, [])]
        quoted = " OR ".join('"' + a.replace('"', '""') + '"' for a in alternatives)
        parts.append(f"({quoted})" if len(alternatives) > 1 else quoted)
    return " AND ".join(parts)


def synonyms_of(rows) -> dict[str, list[str]]:
    """synonym word -> the terms it stands for (a term 'liver-resection' is its words)."""
    found: dict[str, list[str]] = {}
    for term, listed in rows:
        for synonym in listed.split(SYNONYM_SEPARATOR.strip()):
            for word in WORD.findall(synonym.lower()):
                found.setdefault(word, []).append(term.replace("-", " "))
    return found


def highlighted(snippet: str | None) -> Markup:
    text = str(escape(snippet or ""))
    return Markup(text.replace("\x02", "<mark>").replace("\x03", "</mark>"))


async def search_route(request, datasette):
    database = request.url_vars["database"]
    if not is_kb(datasette, database):
        return error(f"{database} is not a nelm-kb database", 404)
    text = request.args.get("q", "").strip()
    db = datasette.get_database(database)
    results, query = [], ""
    if text:
        synonyms = synonyms_of((await db.execute(queries.SYNONYMS_SQL)).rows)
        query = fts_query(text, synonyms)
        try:
            rows = (await db.execute(queries.SEARCH_SQL, {"query": query, "limit": LIMIT})
                    ).rows if query else []
        except sqlite3.OperationalError as e:
            return error(f"the search {text!r} could not be read: {e}", 400)
        root = datasette.urls.database(database)
        for row in rows:
            url = (f"{root}/-/question/{quote(row['key'], safe='')}"
                   if row["kind"] == "question" else
                   row_url(datasette, database, "claims" if row["kind"] == "claim"
                           else "sources", row["key"]))
            results.append({"kind": row["kind"], "key": row["key"], "title": row["title"],
                            "snippet": highlighted(row["snippet"]), "url": url})
    return Response.html(await datasette.render_template("kb_search.html", {
        "database": database, "q": text, "results": results, "query": query,
        "limit": LIMIT}, request=request))


def routes() -> list:
    return [(SEARCH_ROUTE, search_route)]
