"""The Datasette settings every served knowledge base uses, declared as data: each with
its value and why. With --immutable (SQLite opens the file read-only and never locks
it) and kb/web/safety.py (GET and HEAD only, capped values), they bound what one
request can cost. `kb serve` passes them to `datasette serve`; the tests' in-process
client uses the same ones.
"""

from __future__ import annotations

from typing import NamedTuple


class Setting(NamedTuple):
    name: str
    value: str
    why: str


SETTINGS = (
    Setting("suggest_facets", "off", "each suggestion is a query over the whole table"),
    Setting("sql_time_limit_ms", "1000", "any query, canned or typed, stops after a second"),
    Setting("facet_time_limit_ms", "200", "a facet that takes longer is dropped from the "
            "page"),
    Setting("max_returned_rows", "1000", "rows one page or JSON answer returns"),
    Setting("default_page_size", "50", "rows a table page shows (?_size= asks for up to "
            "1000): rendering is most of a page's time, and 100 rows of statements and "
            "abstracts weigh over 150 KB"),
    Setting("max_csv_mb", "100", "a streamed CSV (?_stream=1) stops at 100 MB"),
    Setting("default_facet_size", "15", "values a facet lists"),
    Setting("num_sql_threads", "3", "queries at once; more would not help on 2 cores"),
)


def as_dict() -> dict[str, str]:
    """name -> value, as declared (the strings `datasette serve --setting` takes)."""
    return {s.name: s.value for s in SETTINGS}


def for_datasette() -> dict[str, object]:
    """The settings as `Datasette(settings=...)` needs them: converted by `datasette
    serve`'s own option type ("off" -> False, "50" -> 50), since the constructor keeps
    what it is given (a string "off" would count as on)."""
    from datasette.cli import Setting

    return dict(Setting().convert((name, value), None, None)
                for name, value in as_dict().items())


def as_options() -> list[str]:
    """The settings as `datasette serve` options."""
    return [arg for s in SETTINGS for arg in ("--setting", s.name, s.value)]
