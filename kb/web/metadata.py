"""Datasette metadata for every database that holds the knowledge base: metadata.yml,
completed from the table declarations (kb/db/tables.py), made once."""

from __future__ import annotations

import copy
from functools import lru_cache
from importlib.resources import files

import yaml

from kb.db import tables, views

from .context import is_kb


@lru_cache(maxsize=1)
def database_metadata() -> dict:
    """metadata.yml's database section, completed from kb/db/tables.py."""
    base = yaml.safe_load(files("kb.web").joinpath("metadata.yml").read_text(encoding="utf-8"))
    db = base.pop("database")
    for table in tables.TABLES:
        meta = db["tables"].setdefault(table.name, {})
        meta.setdefault("description", table.description)
        if table.label_column:
            meta["label_column"] = table.label_column
        if table.column_descriptions:
            meta["columns"] = dict(table.column_descriptions)
        if table.facets:
            meta["facets"] = list(table.facets)
    for view, description in views.VIEW_DESCRIPTIONS.items():
        db["tables"].setdefault(view, {}).setdefault("description", description)
    return {"instance": base, "database": db}


# Datasette asks with this key for tables' settings: their allow rules (the permission
# check, four times a page) and their facet_size (each facet), and it deep-copies every
# answer. Nothing asked with this key reads anything else of a table (descriptions,
# sort orders, facets and labels come from table_metadata(), which asks with no key).
# Those copies are what makes plain Datasette given the same metadata as a file cost
# 29.6 million instructions a source page against 21.1 million without it (callgrind).
TABLES_KEY = "tables"
TABLE_SETTINGS = ("allow", "facet_size")


def metadata(datasette, key=None) -> dict:
    """The metadata of this instance (get_metadata's answer); asked for the tables'
    settings, only those."""
    names = tuple(name for name in datasette.databases if is_kb(datasette, name))
    return _settings_for(names) if key == TABLES_KEY else _metadata_for(names)


@lru_cache(maxsize=8)
def _settings_for(names: tuple[str, ...]) -> dict:
    """The TABLE_SETTINGS of each table of _metadata_for(names) that has any."""
    full = _metadata_for(names)
    if not full:
        return {}
    return {"databases": {
        name: {"tables": {table: kept for table, meta in db.get("tables", {}).items()
                          if (kept := {k: meta[k] for k in TABLE_SETTINGS if k in meta})}}
        for name, db in full["databases"].items()}}


@lru_cache(maxsize=8)
def _metadata_for(names: tuple[str, ...]) -> dict:
    """The metadata of an instance serving these knowledge bases, made once: Datasette
    asks for it dozens of times a page (a deep copy each time cost about 17 ms of a
    50 ms table page). Datasette merges it into a new dict, and merges local metadata
    into it only with the same values every time."""
    if not names:
        return {}
    meta = database_metadata()
    return {**copy.deepcopy(meta["instance"]),
            "databases": {name: copy.deepcopy(meta["database"]) for name in names}}


def forget() -> None:
    """Drop the metadata made once, so that the next page makes it anew from the
    declarations."""
    for made in (database_metadata, _metadata_for, _settings_for):
        made.cache_clear()
