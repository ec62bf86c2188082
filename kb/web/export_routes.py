"""Citation export inside Datasette: output renderers, download routes, and the export
links of the pages.

Renderers (`.bib`, `.ris`, `.csljson`) export the rows of the page being looked at. Their
contract is a column naming what to export:
- `claim_id` (claim_evidence, canned queries), or `id` on the claims table: the works
  behind those claims, numbered in order of first use;
- `key` (the sources table, any query on it): those works;
- `source_key` or `cited_key` (citations, claim_citations): those works.
Anything else gets a 400 that names the columns it would need.

A renderer sees one page of rows, so whole selections have download routes of their own:
    /DB/-/export/sources.EXT          every source (or those Datasette's filters keep)
    /DB/-/export/claims.EXT           the works behind claims: ?claim=ID&claim=ID, or any
                                      filter the claims table takes (?outcome=..., ?_where=)
    /DB/-/export/claim_evidence.EXT   the same, through the claim_evidence view's filters
    /DB/-/export/reference-list/KEY.EXT   a review's reference list, its own numbers
    /DB/-/export/evidence-table.(md|csv|html)   an evidence table of claims (as claims.EXT)
with EXT one of bib, ris, json (CSL-JSON), vancouver.txt|md|html, ama.txt|md|html.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from urllib.parse import urlencode, urlsplit

from datasette.utils.asgi import Response

from kb.data.text import split_list
from kb.export import citeproc, formats, selection

from .context import error, is_kb, row_key
from .safety import NO_SCRIPTS

RENDERERS = {"bib": "bibtex", "ris": "ris", "csljson": "csl-json"}
# download extension -> (format, output)
EXTENSIONS = {
    "bib": ("bibtex", None), "ris": ("ris", None), "json": ("csl-json", None),
    **{f"{style}.{ext}": (style, output) for style in formats.STYLE_FORMATS
       for ext, output in (("txt", "text"), ("md", "markdown"), ("html", "html"))},
}
TABLE_EXTENSIONS = {"md": "markdown", "csv": "csv", "html": "html"}
CONTRACT = ("claim_id (claims), key (sources), or source_key / cited_key (works they "
            "name)")
ATTACHMENT = ("bibtex", "ris", "csl-json", "csv")
PAGE = 1000   # rows asked of Datasette's JSON at a time when following a filter
# works in the largest Vancouver or AMA list a request may ask for: 10,000 take about
# 5 s and 2 pandoc processes of about 250 MiB (bench/EXPORT_RESULTS.md); `kb export`
# has no limit
MAX_FORMATTED = 10_000

# the column of each filterable table that names what to export
NAMING = {"sources": "key", "claims": "id", "claim_evidence": "claim_id"}


def _naming_column(columns, table) -> str | None:
    """The column whose values say what to export, by the renderer contract."""
    if table == "claims" and "id" in columns:
        return "id"
    for name in ("claim_id", "key", "source_key", "cited_key"):
        if name in columns:
            return name
    return None


def _values(rows, columns, name) -> list[str]:
    at = list(columns).index(name)
    out = []
    for row in rows:
        value = row[at]
        if isinstance(value, dict):   # ?_labels=on gives {"value": ..., "label": ...}
            value = value.get("value")
        if value not in (None, ""):
            out.append(str(value))
    return list(dict.fromkeys(out))


def _select(conn, naming: str, values: list[str], title: str) -> selection.Selection:
    if naming in ("id", "claim_id"):
        return selection.behind_claims(conn, selection.claim_ids(conn, values), title)
    return selection.sources(conn, values, title)


def _pairs(args) -> list[tuple[str, str]]:
    """A request's query arguments, repeats included, in order."""
    return [(k, v) for k in args.keys() for v in args.getlist(k)]


def download(body: str | bytes, fmt: str, output: str | None, name: str) -> Response:
    """An export's answer: its media type, and a file name to save it under (shown in
    the browser when it is a page or plain text, saved when it is data)."""
    extension, media = formats.MEDIA[(fmt, output)]
    disposition = ("attachment" if fmt in ATTACHMENT or output in ("csv", "docx")
                   else "inline")
    return Response(body, content_type=media, headers={
        "content-disposition": f'{disposition}; filename="{name}.{extension}"',
        **NO_SCRIPTS})


async def _respond(datasette, database: str, select, fmt: str, output: str | None,
                   name: str, error_status: int = 400) -> Response:
    """Run select(conn) in Datasette's database thread, render it, and answer."""
    db = datasette.get_database(database)
    try:
        chosen = await db.execute_fn(select)
        if fmt == "evidence-table" and not chosen.of_claims:
            raise selection.SelectionError("an evidence table is made of claims")
        if fmt in formats.STYLE_FORMATS and len(chosen.entries) > MAX_FORMATTED:
            return error(
                f"{len(chosen.entries):,} works is more than a formatted list served "
                f"here holds ({MAX_FORMATTED:,}): narrow the selection, take BibTeX, RIS "
                f"or CSL-JSON, or run kb export --format {fmt}", 413)
        async with _citeproc_turn(datasette, fmt):
            text = await asyncio.get_running_loop().run_in_executor(
                None, formats.render, chosen, fmt, output)
    except selection.SelectionError as e:
        return error(str(e), error_status)
    except citeproc.CiteprocError as e:
        return error(f"could not format the list: {e}", 500)
    response = download(text, fmt, output, name)
    if chosen.unknown:
        response.headers["x-kb-not-exported"] = "; ".join(chosen.unknown)[:2000]
    return response


@contextlib.asynccontextmanager
async def _citeproc_turn(datasette, fmt: str):
    """Formatted lists wait for their turn: one rendering at a time (it runs its own
    pandoc processes, one a core), so a burst of requests queues instead of starting
    a pandoc for each. The other formats run in Python and need no turn."""
    if fmt not in formats.STYLE_FORMATS:
        yield
        return
    if not hasattr(datasette, "_kb_citeproc"):   # made in the server's own event loop
        datasette._kb_citeproc = asyncio.Semaphore(1)
    async with datasette._kb_citeproc:
        yield


def _as_result(response: Response) -> dict:
    """A renderer's answer as a dict: Datasette keeps a dict's status code (it resets a
    Response's to 200 on query pages)."""
    headers = {k: v for k, v in response.headers.items() if k != "content-type"}
    return {"body": response.body, "status_code": response.status,
            "content_type": response.content_type, "headers": headers}


def _renderer(fmt: str):
    async def render(datasette, columns, rows, database, table, request):
        naming = _naming_column(columns, table)
        if naming is None:
            return _as_result(error(
                f"Cannot export these rows as {fmt}: they need a column {CONTRACT}; "
                f"they have {', '.join(columns) or 'no columns'}."))
        values = _values(rows, columns, naming)
        title = f"Exported from {table or 'a query'}"
        return _as_result(await _respond(datasette, database,
                                         lambda conn: _select(conn, naming, values, title),
                                         fmt, None, table or "query"))

    def can_render(datasette, columns, database, table):
        return is_kb(datasette, database) and _naming_column(columns, table) is not None

    return render, can_render


def output_renderers() -> list[dict]:
    """The .bib, .ris and .csljson renderers of any page whose rows name works or claims
    (the register_output_renderer hook's answer)."""
    renderers = []
    for extension, fmt in RENDERERS.items():
        render, can_render = _renderer(fmt)
        renderers.append({"extension": extension, "render": render,
                          "can_render": can_render})
    return renderers


# -- download routes -----------------------------------------------------------------


async def _filtered(datasette, database: str, table: str, column: str, request
                    ) -> list[str] | Response:
    """Every value of `column` in the rows Datasette's filters (the request's query
    string) keep, following its pages."""
    args = [(k, v) for k, v in _pairs(request.args)
            if k not in ("claim", "_next", "_size", "_col", "_shape", "_facet")]
    args += [("_size", str(PAGE)), ("_shape", "objects"), ("_nofacet", "1"),
             ("_nocount", "1")]
    if table != "claim_evidence":
        args.append(("_col", column))
    path = f"{datasette.urls.table(database, table)}.json?{urlencode(args)}"
    values: list[str] = []
    while path:
        response = await datasette.client.get(path)
        if response.status_code != 200:
            try:
                detail = response.json().get("error")
            except ValueError:
                detail = response.text
            return error(f"{table}: {detail}", response.status_code)
        data = response.json()
        values.extend(str(r[column]) for r in data["rows"] if r.get(column) is not None)
        next_url = data.get("next_url")
        path = None
        if next_url:
            parts = urlsplit(next_url)
            path = parts.path + ("?" + parts.query if parts.query else "")
    return list(dict.fromkeys(values))


async def _claim_values(datasette, database, table, request):
    asked = request.args.getlist("claim")
    if asked:
        return split_list(asked)
    return await _filtered(datasette, database, table, NAMING[table], request)


async def export_route(request, datasette):
    database = request.url_vars["database"]
    what, extension = request.url_vars["what"], request.url_vars["ext"]
    if not is_kb(datasette, database):
        return error(f"{database} is not a nelm-kb database", 404)
    if what == "evidence-table":
        if extension not in TABLE_EXTENSIONS:
            return error(f"an evidence table is .md, .csv or .html, not .{extension}", 404)
        fmt, output = "evidence-table", TABLE_EXTENSIONS[extension]
    elif extension in EXTENSIONS:
        fmt, output = EXTENSIONS[extension]
    else:
        return error(f"unknown export .{extension}: use one of "
                      f"{', '.join('.' + e for e in EXTENSIONS)}", 404)
    if what.startswith("reference-list/"):
        key = what.split("/", 1)[1]
        return await _respond(datasette, database,
                              lambda conn: selection.reference_list(conn, key),
                              fmt, output, f"{key}-references", error_status=404)
    if what == "sources":
        if not request.args:
            return await _respond(datasette, database, selection.all_sources, fmt, output,
                                  "sources")
        keys = await _filtered(datasette, database, "sources", NAMING["sources"], request)
        if isinstance(keys, Response):
            return keys
        return await _respond(datasette, database,
                              lambda conn: selection.sources(conn, keys, "Sources"),
                              fmt, output, download_name(request, "sources"))
    table = "claims" if what in ("claims", "evidence-table") else what
    ids = await _claim_values(datasette, database, table, request)
    if isinstance(ids, Response):
        return ids
    title = selection.described(
        "Evidence table" if fmt == "evidence-table" else "References behind the claims",
        {k: v for k, v in _pairs(request.args) if v and not k.startswith("_")})
    return await _respond(
        datasette, database,
        lambda conn: selection.behind_claims(conn, selection.claim_ids(conn, ids), title),
        fmt, output, download_name(request, "evidence-table" if fmt == "evidence-table"
                                   else what))


def download_name(request, what: str) -> str:
    """A file name saying what was selected: 'transplantation-5-years-claims',
    'review-sources'; the filter values in the order asked, made safe for a file name."""
    values = [v for k, v in _pairs(request.args)
              if v and (not k.startswith("_") or k == "_search") and k != "claim"]
    if request.args.getlist("claim"):
        values.append(f"{len(split_list(request.args.getlist('claim')))}-chosen")
    slug = re.sub(r"[^a-z0-9]+", "-", " ".join(values).lower()).strip("-")[:80].strip("-")
    return f"{slug}-{what}" if slug else what


def routes() -> list:
    # any extension reaches the view, so that a wrong one gets a message listing the
    # right ones rather than Datasette's page-not-found
    return [(r"^/(?P<database>[^/]+)/-/export/(?P<what>sources|claims|claim_evidence|"
             r"evidence-table|reference-list/[a-z][a-z0-9_-]*)\.(?P<ext>[a-z.]+)$",
             export_route)]


# -- links on the pages -------------------------------------------------------------


def export_links(base: str, query: str = "", tables: bool = False) -> list[dict]:
    """The export menu for one selection: name -> URL, grouped as a reader sees them."""
    q = f"?{query}" if query else ""
    groups = [
        {"title": "Reference manager",
         "links": [("BibTeX", f"{base}.bib{q}"), ("RIS", f"{base}.ris{q}"),
                   ("CSL-JSON", f"{base}.json{q}")]},
        {"title": "Vancouver",
         "links": [(label, f"{base}.vancouver.{ext}{q}") for label, ext in
                   (("text", "txt"), ("Markdown", "md"), ("HTML", "html"))]},
        {"title": "AMA",
         "links": [(label, f"{base}.ama.{ext}{q}") for label, ext in
                   (("text", "txt"), ("Markdown", "md"), ("HTML", "html"))]},
    ]
    if tables:
        prefix = base.rsplit("/", 1)[0]
        groups.append({"title": "Evidence table", "links": [
            (label, f"{prefix}/evidence-table.{ext}{q}") for label, ext in
            (("Markdown", "md"), ("CSV", "csv"), ("HTML", "html"))]})
    return groups


def export_panel(datasette, database: str, view_name: str, table: str | None,
                 request) -> dict | None:
    """What the export box on this page offers, or None for pages without one."""
    root = datasette.urls.database(database) + "/-/export"
    args = [(k, v) for k, v in _pairs(request.args)
            if not k.startswith("_") or k in ("_where", "_search")] if request else []
    query = urlencode(args)
    if view_name == "table" and table == "sources":
        return {"title": "Export these sources" if query else "Export every source",
                "groups": export_links(f"{root}/sources", query)}
    if view_name == "table" and table in ("claims", "claim_evidence"):
        return {"title": "Export the works behind these claims",
                "groups": export_links(f"{root}/{table}", query, tables=table == "claims")}
    if view_name == "row" and table in ("claims", "sources") and request is not None:
        key = row_key(request)
        if table == "claims":
            return {"title": "Export the works behind this claim",
                    "groups": export_links(f"{root}/claims", urlencode({"claim": key}),
                                           tables=True)}
        # shown only when the work has a reference list (kb/web/pages.py checks)
        return {"title": "Export this work's reference list",
                "groups": export_links(f"{root}/reference-list/{key}")}
    return None
