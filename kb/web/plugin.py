"""The Datasette plugin: one thin hook each, calling the module that does the work.

Registered through the "datasette" entry point, so plain `datasette kb.db` loads it too.
Every hook answers only for databases that hold the knowledge base.
"""

from __future__ import annotations

from importlib.resources import files

from datasette import hookimpl

from . import (caching, cells, evidence_routes, export_routes, filters, metadata, pages,
               question_routes, safety, schema_once, search, search_counts, styles)

TEMPLATES = files("kb.web").joinpath("templates")


@hookimpl
def get_metadata(datasette, key, database, table):
    return metadata.metadata(datasette, key)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    return cells.render(value, column, table, database, datasette, row)


@hookimpl
def register_routes():
    return (export_routes.routes() + evidence_routes.routes() + question_routes.routes()
            + search.routes() + styles.routes())


@hookimpl
def filters_from_request(request, database, table, datasette):
    return filters.refuse_unknown(request, database, table, datasette)


@hookimpl
def register_output_renderer(datasette):
    return export_routes.output_renderers()


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    return pages.template_vars(template, database, table, view_name, request, datasette)


@hookimpl
def extra_css_urls(datasette):
    return styles.css_urls(datasette)


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: safety.read_only(caching.cacheable(
        search_counts.without_counts(app, datasette), datasette))


@hookimpl
def startup(datasette):
    schema_once.remember(datasette)


@hookimpl
def prepare_connection(conn):
    safety.limit(conn)


@hookimpl
def prepare_jinja2_environment(env, datasette):
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), env.loader])
