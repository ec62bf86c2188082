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


# Datasette asks with this key for tables' settings (their allow rules in the permission
# check, four times a page, and facet_size) and deep-copies every answer: copying our
# column descriptions cost about 2 ms of a table page, and nothing asked with this key
# reads them (Datasette takes them from table_metadata(), which asks with no key).
TABLES_KEY = "tables"


def metadata(datasette, key=None) -> dict:
    """The metadata of this instance (get_metadata's answer); asked for the tables'
    settings, without the column descriptions."""
    names = tuple(name for name in datasette.databases if is_kb(datasette, name))
    return _settings_for(names) if key == TABLES_KEY else _metadata_for(names)


@lru_cache(maxsize=8)
def _settings_for(names: tuple[str, ...]) -> dict:
    """_metadata_for(names) without its tables' column descriptions."""
    full = _metadata_for(names)
    if not full:
        return {}
    return {**full, "databases": {
        name: {**db, "tables": {table: {k: v for k, v in meta.items() if k != "columns"}
                                for table, meta in db.get("tables", {}).items()}}
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
