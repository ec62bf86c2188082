"""Datasette plugin: metadata for nelm-kb databases, and links for identifiers and keys.

Registered through the "datasette" entry point, so plain `datasette kb.db` loads it too.
"""

from __future__ import annotations

import copy
import sqlite3
from functools import lru_cache
from importlib.resources import files
from urllib.parse import quote

import yaml
from datasette import hookimpl
from datasette.utils import tilde_encode
from markupsafe import Markup

from . import schema

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/{}/"
PMC = "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"
DOI = "https://doi.org/{}"
LINKS = {"pmid": PUBMED, "pmcid": PMC, "doi": DOI}
# columns in views and canned queries that hold a key of one of our tables
KEY_COLUMNS = {"claim_id": "claims", "source_key": "sources", "cited_key": "sources",
               "citing_key": "sources", "derived_from": "claims"}
IDENTIFIER_COLUMNS = ("pmid", "pmcid", "doi")
UNVERIFIED = Markup('<em class="unverified" title="not yet verified: blank until a page or '
                    'PubMed record shows it">unverified</em>')


@lru_cache(maxsize=1)
def database_metadata() -> dict:
    """metadata.yml's database section, completed from schema.py."""
    base = yaml.safe_load(files("kb").joinpath("metadata.yml").read_text(encoding="utf-8"))
    db = base.pop("database")
    for table in schema.TABLES:
        meta = db["tables"].setdefault(table.name, {})
        meta.setdefault("description", table.description)
        if table.label_column:
            meta["label_column"] = table.label_column
        if table.column_descriptions:
            meta["columns"] = dict(table.column_descriptions)
    for view, description in schema.VIEW_DESCRIPTIONS.items():
        db["tables"].setdefault(view, {}).setdefault("description", description)
    return {"instance": base, "database": db}


def is_knowledge_base(path: str | None) -> bool:
    if not path:
        return False
    return _tables_present(path)


@lru_cache(maxsize=32)
def _tables_present(path: str) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("select name from sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return {"sources", "claims", "citations"} <= names


@hookimpl
def get_metadata(datasette, key, database, table):
    meta = database_metadata()
    databases = {
        name: copy.deepcopy(meta["database"])
        for name, db in datasette.databases.items()
        if is_knowledge_base(getattr(db, "path", None))
    }
    if not databases:
        return {}
    return {**copy.deepcopy(meta["instance"]), "databases": databases}


def _link(url: str, text) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, text)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if database not in datasette.databases or not is_knowledge_base(
            getattr(datasette.databases[database], "path", None)):
        return None
    kind = next((k for k in IDENTIFIER_COLUMNS if column == k or column.endswith("_" + k)),
                None)
    if value in (None, ""):
        if kind and table == "sources":
            return UNVERIFIED
        return None
    if kind:
        return _link(LINKS[kind].format(quote(str(value), safe="/:;()._-")), value)
    if column in KEY_COLUMNS and table not in schema.TABLES_BY_NAME:
        # real tables link their foreign keys themselves; views and queries do not
        target = KEY_COLUMNS[column]
        return _link(datasette.urls.row(database, target, tilde_encode(str(value))), value)
    return None
