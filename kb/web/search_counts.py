"""A full-text search of a table (`?_search=`) lists its matches without the table's
facet counts, which are one link away (`?_counts=on`): every count is another pass over
every match, and on 100,000 claims the seven counts of a common word's matches took
three times as long as the search itself (bench/RESULTS.md). Filtered and unfiltered
table pages keep their counts.

The ASGI wrapper asks Datasette for the page with `_nofacet=1`, so the page's own links
(next page, sort) carry it and agree with the page; the link to the counts drops it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from kb.db.tables import TABLES_BY_NAME

from .context import is_kb

ASKED = "_counts"     # ?_counts=on: count the matches by the table's facets
NO_FACETS = "_nofacet"
FORMATS = (".json", ".csv")   # a table's other answers, besides its page


def without_counts(app, datasette):
    """ASGI middleware: a table's full-text search, unless its counts are asked for, is
    asked of Datasette without facets."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and _uncounted_search(scope, datasette):
            query = scope.get("query_string", b"")
            scope = {**scope, "query_string": query + b"&" + NO_FACETS.encode() + b"=1"}
        return await app(scope, receive, send)

    return wrapped


def _uncounted_search(scope, datasette) -> bool:
    parts = scope["path"].strip("/").split("/")
    if len(parts) != 2:
        return False
    table = next((parts[1][:-len(f)] for f in FORMATS if parts[1].endswith(f)), parts[1])
    if table not in TABLES_BY_NAME or not TABLES_BY_NAME[table].facets \
            or not is_kb(datasette, parts[0]):
        return False
    args = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    return _searched(args) and not any(name.startswith("_facet") or name in (NO_FACETS, ASKED)
                                       for name, _ in args)


def _searched(args: list[tuple[str, str]]) -> bool:
    """Do these query arguments ask for a full-text search (`_search`, `_search_COLUMN`)?"""
    return any(value for name, value in args
               if name == "_search" or name.startswith("_search_"))


def count_link(request, table: str | None) -> dict | None:
    """The link to this search's counts, when the page was asked without them."""
    if request is None or table not in TABLES_BY_NAME or request.args.get(NO_FACETS) != "1":
        return None
    args = parse_qsl(request.query_string, keep_blank_values=True)
    if not _searched(args):
        return None
    kept = [(name, value) for name, value in args if name != NO_FACETS]
    return {"url": request.path + "?" + urlencode([*kept, (ASKED, "on")]),
            "facets": list(TABLES_BY_NAME[table].facets)}
