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


# Datasette's table permission check asks with this key, and deep-copies every answer
# (four times a page: about 2 ms of a table page for our column descriptions); it reads
# nothing but the tables' "allow" rules, so that is all it is given.
PERMISSION_KEY = "tables"


def metadata(datasette, key=None) -> dict:
    """The metadata of this instance (get_metadata's answer); for the table permission
    check, only the tables' allow rules."""
    names = tuple(name for name in datasette.databases if is_kb(datasette, name))
    return _allow_rules_for(names) if key == PERMISSION_KEY else _metadata_for(names)


@lru_cache(maxsize=8)
def _allow_rules_for(names: tuple[str, ...]) -> dict:
    """_metadata_for(names) with every table reduced to its "allow" rule, and tables
    without one left out."""
    full = _metadata_for(names)
    if not full:
        return {}
    return {"databases": {
        name: {"tables": {table: {"allow": meta["allow"]}
                          for table, meta in db.get("tables", {}).items() if "allow" in meta}}
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
    for made in (database_metadata, _metadata_for, _allow_rules_for):
        made.cache_clear()
