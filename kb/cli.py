"""The `kb` command: one flat group of verbs over the curated data and the database."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

from . import build as build_module
from . import validate as validate_module

DEFAULT_DB = "kb.db"


def data_option(fn):
    return click.option(
        "--data", "data_dir", default="data", show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder holding references.csv, citations.csv, claims.csv, vocabulary.csv.",
    )(fn)


def db_argument(fn):
    return click.argument("db", default=DEFAULT_DB, required=False,
                          type=click.Path(dir_okay=False, path_type=Path))(fn)


def _report(problems) -> None:
    for problem in problems:
        click.echo(str(problem))
    files = len({p.path for p in problems})
    click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
               f"file{'s' if files != 1 else ''}", err=True)


@click.group()
@click.version_option(package_name="nelm-kb")
def cli():
    """nelm-kb: evidence on liver metastases of GEP neuroendocrine neoplasms."""


@cli.command()
@data_option
def validate(data_dir: Path):
    """Check the data files; print every problem as path:line:column: message.

    Exit status 1 when there is any problem.

    Example: kb validate --data data
    """
    dataset = validate_module.load(data_dir)
    if dataset.problems:
        _report(dataset.problems)
        sys.exit(1)
    counts = ", ".join(f"{len(f.rows)} rows in {name}" for name, f in dataset.files.items())
    click.echo(f"{data_dir}: valid ({counts})")


@cli.command()
@db_argument
@data_option
def build(db: Path, data_dir: Path):
    """Build the SQLite database DB (default kb.db) from the data files.

    Offline and atomic: a failed build leaves the previous database untouched.

    Example: kb build kb.db --data data
    """
    try:
        counts = build_module.build(db, data_dir)
    except build_module.InvalidData as e:
        _report(e.problems)
        click.echo(f"{db} not built: fix the data first", err=True)
        sys.exit(1)
    except (OSError, sqlite3.Error) as e:
        click.echo(f"{db} not built: {e}", err=True)
        sys.exit(1)
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    click.echo(f"built {db}: {summary}")


def _stale(db: Path, data_dir: Path) -> bool:
    if not db.exists():
        return True
    built = db.stat().st_mtime
    return any(p.stat().st_mtime > built for p in data_dir.glob("*.csv"))


@cli.command()
@db_argument
@data_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
def serve(db: Path, data_dir: Path, host: str, port: int):
    """Build DB when the data files are newer, then serve it with Datasette.

    Example: kb serve kb.db --port 8001
    """
    if _stale(db, data_dir):
        click.echo(f"building {db} from {data_dir}/", err=True)
        try:
            build_module.build(db, data_dir)
        except build_module.InvalidData as e:
            _report(e.problems)
            sys.exit(1)
    args = [sys.executable, "-m", "datasette", "serve", "--immutable", str(db),
            "--host", host, "--port", str(port), *datasette_settings()]
    click.echo(f"serving {db} on http://{host}:{port}/", err=True)
    os.execv(sys.executable, args)


def datasette_settings() -> list[str]:
    """The Datasette settings every served knowledge base uses."""
    settings = {
        "suggest_facets": "off",
        "sql_time_limit_ms": "3000",
        "max_returned_rows": "1000",
        "default_facet_size": "15",
    }
    return [arg for name, value in settings.items() for arg in ("--setting", name, value)]
