"""What every page and route of the plugin asks first: is this database a knowledge
base, which row is this page about, the links of a row's identifiers, and an error
answer.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from urllib.parse import quote

from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from .queries import KB_TABLES, TABLE_NAMES_SQL

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/{}/"
PMC = "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"
DOI = "https://doi.org/{}"
LINKS = {"pmid": PUBMED, "pmcid": PMC, "doi": DOI}
URL_SAFE = "/:;()._-"   # characters of an identifier left as they are in its link
# columns in views and canned queries that hold a key of one of our tables
KEY_COLUMNS = {"claim_id": "claims", "source_key": "sources", "cited_key": "sources",
               "citing_key": "sources", "derived_from": "claims",
               "pubmed_pmid": "pubmed_records"}


def is_knowledge_base(path: str | None) -> bool:
    """Does the SQLite file at path hold the nelm-kb tables? (Asked once per file.)"""
    if not path:
        return False
    return _tables_present(path)


@lru_cache(maxsize=32)
def _tables_present(path: str) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute(TABLE_NAMES_SQL)}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return set(KB_TABLES) <= names


def is_kb(datasette, database: str | None) -> bool:
    """Is `database` of this Datasette instance a knowledge base?"""
    db = datasette.databases.get(database) if database else None
    return db is not None and is_knowledge_base(getattr(db, "path", None))


def row_key(request) -> str:
    """The primary key a row page's URL names, decoded."""
    return tilde_decode(request.url_vars.get("pks", ""))


def row_key_parts(request) -> list[str]:
    """The decoded parts of a compound primary key in a row page's URL."""
    return [tilde_decode(p) for p in request.url_vars.get("pks", "").split(",")]


def row_url(datasette, database: str, table: str, value) -> str:
    """The URL of a row page of one of our tables."""
    return datasette.urls.row(database, table, tilde_encode(str(value)))


def identifier_url(kind: str, value) -> str:
    """The page of a PMID, PMCID or DOI."""
    return LINKS[kind].format(quote(str(value), safe=URL_SAFE))


def identifiers(row: dict) -> list[tuple[str, str, str]]:
    """(name, url, value) for the PMID and DOI a row has, for the panels' links."""
    return [(kind.upper(), identifier_url(kind, row[kind]), row[kind])
            for kind in ("pmid", "doi") if row.get(kind)]


def link(url: str, text) -> Markup:
    """<a href="url">text</a>, both escaped (as Markup.format would, at a third of its
    cost: a table page makes hundreds of links)."""
    return Markup(f'<a href="{escape(url)}">{escape(text)}</a>')


def error(message: str, status: int = 400) -> Response:
    """A plain-text answer saying what is wrong."""
    return Response.text(message + "\n", status=status)
