"""`kb serve`: hand the process over to uvicorn, which runs kb/web/app.py's Datasette in
WORKERS processes over the same read-only, immutable file (no locks: any number can
share it), with the knowledge base's settings (kb/web/settings.py) and answer cache
(kb/web/caching.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import app, caching

WORKERS = os.cpu_count() or 1   # the default: one worker process per core


def command(host: str, port: int, workers: int) -> list[str]:
    """The uvicorn command line that serves the knowledge base."""
    return [sys.executable, "-m", "uvicorn", "kb.web.app:app", "--factory",
            "--host", host, "--port", str(port), "--workers", str(workers)]


def environment(db: Path, cache_mb: int) -> dict[str, str]:
    """The environment the workers read: which database, and how large a cache."""
    return {**os.environ, app.DATABASE: str(Path(db).resolve()),
            caching.CACHE_MB: str(cache_mb)}


def serve(db: Path, host: str, port: int, workers: int = WORKERS,
          cache_mb: int = caching.CACHE_MB_DEFAULT) -> None:
    """Replace this process with uvicorn serving db (does not return)."""
    args = command(host, port, workers)
    os.execve(args[0], args, environment(db, cache_mb))
