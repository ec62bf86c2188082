"""The ASGI application `kb serve`'s uvicorn workers run (`uvicorn --factory
kb.web.app:app`): Datasette over the one knowledge base named in the environment,
immutable, with kb/web/settings.py's settings; the plugin loads through its entry point.

Each worker process calls the factory once and so has its own Datasette, its own SQLite
connections to the same read-only file, and its own answer cache.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from . import settings

DATABASE = "KB_SERVE_DB"   # the environment variable naming the database file


def app():
    """Datasette's ASGI app for the database in $KB_SERVE_DB (uvicorn's factory)."""
    from datasette.app import Datasette

    path = Path(os.environ.get(DATABASE, ""))
    _check(path)
    return Datasette([], immutables=[str(path)], settings=settings.for_datasette()).app()


def _check(path: Path) -> None:
    """Refuse, before a worker starts, a file that is not a readable SQLite database."""
    if not path.name or not path.is_file():
        raise SystemExit(f"kb serve: {DATABASE}={str(path)!r} is not a database file")
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True) as conn:
            conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.Error as e:
        raise SystemExit(f"kb serve: {path}: {e}") from e
