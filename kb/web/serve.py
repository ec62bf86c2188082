"""`kb serve`: hand the process over to `datasette serve`, the database immutable, with
the knowledge base's settings (kb/web/settings.py); the plugin loads through its entry
point."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import settings


def command(db: Path, host: str, port: int) -> list[str]:
    """The `datasette serve` command line that serves db."""
    return [sys.executable, "-m", "datasette", "serve", "--immutable", str(db),
            "--host", host, "--port", str(port), *settings.as_options()]


def serve(db: Path, host: str, port: int) -> None:
    """Replace this process with Datasette serving db (does not return)."""
    args = command(db, host, port)
    os.execv(args[0], args)
