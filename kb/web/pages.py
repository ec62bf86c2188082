"""What the knowledge base adds to Datasette's own pages (the extra_template_vars hook):
on a row page the panels under the row (kb/web/queries.py's ROW_PANELS) and a claim's
trail; on tables, rows and canned queries the export box and the link to the evidence
range plot of the outcome the page is about."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from datasette.utils import sqlite_timelimit

from kb.db.tables import TABLES_BY_NAME

from . import evidence_routes, export_routes, landing, search_counts
from .context import KEY_COLUMNS, identifiers, is_kb, row_key, row_key_parts, row_url
from .queries import ROW_PANELS


def template_vars(template, database, table, view_name, request, datasette):
    """The variables our templates read, or an async function giving them (row pages)."""
    if template in ("index.html", "database.html"):
        front = landing.kb_database(datasette, database)
        if front is None:
            return {}

        async def front_door():
            return {"kb_landing": await landing.landing(datasette, front)}

        return front_door
    if not is_kb(datasette, database):
        return {}
    outcome = _outcome_of_page(template, view_name, table, request)
    plot = ({"outcome": outcome, "url": evidence_routes.plot_url(datasette, database,
                                                                 outcome)}
            if outcome else None)
    if template == "query.html":   # a canned query's page (table is None there)
        name = request.url_vars.get("table") if request is not None else None
        panel = _query_export(datasette, database, name, request)
        return {"kb_export": panel, "kb_plot": plot, "kb_header": True}
    panel = export_routes.export_panel(datasette, database, view_name, table, request)
    if view_name != "row" or table not in TABLES_BY_NAME or request is None:
        return {"kb_export": panel, "kb_plot": plot, "kb_header": view_name == "table",
                "kb_more_columns": more_columns(table) if view_name == "table" else [],
                "kb_count_link": search_counts.count_link(request, table)
                if view_name == "table" else None}

    async def panels():
        key = row_key(request)
        trail = (await evidence_routes.claim_trail(datasette, database, key)
                 if table == "claims" else None)
        result = await _panels(datasette, database, table, key)
        has_list = any(p["title"] == "Reference list" and p["rows"] for p in result)
        shown = panel if panel and (table == "claims" or has_list) else None
        if trail and trail["plot"]:
            plot_link = {"outcome": trail["claim"]["outcome"], "url": trail["plot"]}
        else:
            plot_link = plot
        return {"kb_panels": result, "kb_export": shown, "kb_trail": trail,
                "kb_plot": plot_link}

    return panels


def more_columns(table: str | None) -> list[str]:
    """The columns a table's page keeps behind "more columns" (kb.db.tables' shown)."""
    declared = TABLES_BY_NAME.get(table)
    if declared is None or not declared.shown:
        return []
    keep = {*declared.shown, *declared.pk_columns}
    return [c for c in declared.columns if c not in keep]


def _panel_rows(conn, panels, key: str, limit_ms: int) -> list[list[dict]]:
    """Every panel's rows, read in one go (one trip to Datasette's SQL thread, not one a
    panel), under the same time limit as any query."""
    found = []
    with sqlite_timelimit(conn, limit_ms):
        for _, sql, _ in panels:
            cursor = conn.execute(sql, {"key": key})
            names = [d[0] for d in cursor.description]
            found.append([dict(zip(names, row)) for row in cursor.fetchall()])
    return found


async def _panels(datasette, database: str, table: str, key: str) -> list[dict]:
    """The panels of a row page: each with its rows, their links and identifiers."""
    db = datasette.databases[database]
    panels = ROW_PANELS.get(table, ())
    limit = datasette.setting("sql_time_limit_ms")
    every = await db.execute_fn(lambda conn: _panel_rows(conn, panels, key, limit))
    result = []
    for (title, _, empty), rows in zip(panels, every):
        for row in rows:
            row["links"] = {name: row_url(datasette, database, KEY_COLUMNS[name], row[name])
                            for name in ("claim_id", "cited_key", "source_key", "pubmed_pmid")
                            if row.get(name)}
            row["identifiers"] = identifiers(row)
            if row.get("question_id"):
                row["question_url"] = (datasette.urls.database(database) + "/-/question/"
                                       + quote(row["question_id"], safe=""))
        if rows or empty:
            result.append({"title": title, "rows": rows, "empty": empty})
    return result


def _outcome_of_page(template, view_name, table, request) -> str | None:
    """The outcome a page is about: the claims table or claim_evidence filtered by one,
    the claims_for_outcome query, or an outcome's vocabulary row."""
    if request is None:
        return None
    if template == "query.html":
        if request.url_vars.get("table") == "claims_for_outcome":
            return request.args.get("outcome") or None
        return None
    if view_name == "table" and table in ("claims", "claim_evidence"):
        return request.args.get("outcome") or request.args.get("outcome__exact") or None
    if view_name == "row" and table == "vocabulary":
        parts = row_key_parts(request)
        return parts[1] if len(parts) == 2 and parts[0] == "outcome" else None
    return None


def _query_export(datasette, database, query_name, request) -> dict | None:
    """Export links for the canned queries that select a review's list or claims."""
    if request is None:
        return None
    root = datasette.urls.database(database) + "/-/export"
    review, outcome = request.args.get("review"), request.args.get("outcome")
    if query_name == "reference_list" and review:
        return {"title": f"Export the reference list of {review}",
                "groups": export_routes.export_links(f"{root}/reference-list/{review}")}
    if query_name == "claims_for_outcome" and outcome:
        return {"title": f"Export the works behind the claims about {outcome}",
                "groups": export_routes.export_links(
                    f"{root}/claims", urlencode({"outcome": outcome}), tables=True)}
    return None
