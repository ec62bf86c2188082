"""Datasette plugin: metadata for nelm-kb databases, and links for identifiers and keys.

Registered through the "datasette" entry point, so plain `datasette kb.db` loads it too.
"""

from __future__ import annotations

import copy
import sqlite3
from functools import lru_cache
from importlib.resources import files
from urllib.parse import quote

import yaml
from datasette import hookimpl
from datasette.utils import tilde_encode
from markupsafe import Markup

from . import datasette_evidence, datasette_export, datasette_safety, schema
from .numbers import plain_number
# the export renderers live in datasette_export.py; importing the hook registers it
from .datasette_export import export_panel, register_output_renderer  # noqa: F401

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/{}/"
PMC = "https://www.ncbi.nlm.nih.gov/pmc/articles/{}/"
DOI = "https://doi.org/{}"
LINKS = {"pmid": PUBMED, "pmcid": PMC, "doi": DOI}
# columns in views and canned queries that hold a key of one of our tables
KEY_COLUMNS = {"claim_id": "claims", "source_key": "sources", "cited_key": "sources",
               "citing_key": "sources", "derived_from": "claims",
               "pubmed_pmid": "pubmed_records"}
IDENTIFIER_COLUMNS = ("pmid", "pmcid", "doi")
NUMBER_COLUMNS = ("value", "low", "high")
UNVERIFIED = Markup('<em class="unverified" title="not yet verified: blank until a page or '
                    'PubMed record shows it">unverified</em>')


@lru_cache(maxsize=1)
def database_metadata() -> dict:
    """metadata.yml's database section, completed from schema.py."""
    base = yaml.safe_load(files("kb").joinpath("metadata.yml").read_text(encoding="utf-8"))
    db = base.pop("database")
    for table in schema.TABLES:
        meta = db["tables"].setdefault(table.name, {})
        meta.setdefault("description", table.description)
        if table.label_column:
            meta["label_column"] = table.label_column
        if table.column_descriptions:
            meta["columns"] = dict(table.column_descriptions)
        if table.facets:
            meta["facets"] = list(table.facets)
    for view, description in schema.VIEW_DESCRIPTIONS.items():
        db["tables"].setdefault(view, {}).setdefault("description", description)
    return {"instance": base, "database": db}


def is_knowledge_base(path: str | None) -> bool:
    if not path:
        return False
    return _tables_present(path)


@lru_cache(maxsize=32)
def _tables_present(path: str) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("select name from sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return {"sources", "claims", "citations"} <= names


@hookimpl
def get_metadata(datasette, key, database, table):
    return _metadata_for(tuple(name for name, db in datasette.databases.items()
                               if is_knowledge_base(getattr(db, "path", None))))


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


def identifiers(row: dict) -> list[tuple[str, str, str]]:
    """(name, url, value) for the PMID and DOI a row has, for the panels' links."""
    return [(kind.upper(), LINKS[kind].format(quote(str(row[kind]), safe="/:;()._-")),
             row[kind]) for kind in ("pmid", "doi") if row.get(kind)]


def _link(url: str, text) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, text)


@lru_cache(maxsize=4096)
def _cell_kind(column: str, table: str | None) -> tuple[str, str] | None:
    """What render_cell does with a column of a table, decided once per column: most
    cells need nothing, and a page renders thousands of them."""
    kind = next((k for k in IDENTIFIER_COLUMNS if column == k or column.endswith("_" + k)),
                None)
    if kind:
        return ("identifier", kind)
    if column in NUMBER_COLUMNS:
        return ("number", "")
    if column == "verified_from":
        return ("verified", "")
    if column in KEY_COLUMNS and table not in schema.TABLES_BY_NAME:
        # real tables link their foreign keys themselves; views and queries do not
        return ("key", KEY_COLUMNS[column])
    return None


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    action = _cell_kind(column, table)
    if action is None or database not in datasette.databases or not is_knowledge_base(
            getattr(datasette.databases[database], "path", None)):
        return None
    what, detail = action
    if value in (None, ""):
        return UNVERIFIED if what == "identifier" and table == "sources" else None
    if what == "identifier":
        return _link(LINKS[detail].format(quote(str(value), safe="/:;()._-")), value)
    if what == "number":
        return plain_number(value) if isinstance(value, float) else None  # 13, not 13.0
    if what == "verified":
        return Markup(schema.VERIFIED_SEPARATOR).join(
            _link(item, item) if item.startswith(("http://", "https://")) else item
            for item in str(value).split(schema.VERIFIED_SEPARATOR))
    return _link(datasette.urls.row(database, detail, tilde_encode(str(value))), value)


@hookimpl
def register_routes():
    return datasette_export.routes() + datasette_evidence.routes()


@hookimpl
def asgi_wrapper(datasette):
    return datasette_safety.read_only


@hookimpl
def prepare_connection(conn):
    datasette_safety.limit(conn)


TEMPLATES = files("kb").joinpath("templates")


@hookimpl
def prepare_jinja2_environment(env, datasette):
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), env.loader])


# The panels a row page shows under the row: (title, SQL, what an empty panel says)
ROW_PANELS = {
    "claims": (
        ("Stated in", """
            select sources.key as cited_key, sources.label, sources.pmid, sources.doi,
                   claims.locator, claims.cites
            from claims join sources on sources.key = claims.source_key
            where claims.id = :key""",
         None),
        ("Rests on", """
            select claim_citations.ref_number, claim_citations.cited_key,
                   coalesce(cited.label, citations.cited_as) as label,
                   cited.pmid, cited.doi
            from claim_citations
            left join citations on citations.citing_key = claim_citations.citing_key
              and citations.ref_number = claim_citations.ref_number
            left join sources as cited on cited.key = claim_citations.cited_key
            where claim_citations.claim_id = :key order by claim_citations.ref_number""",
         "No reference is printed with this statement."),
        ("Restates", """
            select derived.id as claim_id, derived.statement as label, derived.source_key
            from claims join claims as derived on derived.id = claims.derived_from
            where claims.id = :key""",
         None),
        ("Restated by", """
            select id as claim_id, statement as label, source_key
            from claims where derived_from = :key order by id""",
         None),
    ),
    "sources": (
        ("Claims stated in this work", """
            select id as claim_id, statement as label, locator, cites
            from claims where source_key = :key order by id""",
         "No claim from this work has been curated yet."),
        ("Claims that rest on this work", """
            select claims.id as claim_id, claims.statement as label, claims.source_key,
                   claim_citations.ref_number
            from claim_citations join claims on claims.id = claim_citations.claim_id
            where claim_citations.cited_key = :key order by claims.id""",
         "No curated claim cites this work yet."),
        ("PubMed record", """
            select pubmed_records.pmid as pubmed_pmid, pubmed_records.title as label,
                   pubmed_records.retracted
            from sources join pubmed_records on pubmed_records.pmid = sources.pmid
            where sources.key = :key""",
         None),
        ("Reference list", """
            select citations.ref_number, citations.cited_key,
                   coalesce(cited.label, citations.cited_as) as label, cited.pmid, cited.doi
            from citations left join sources as cited on cited.key = citations.cited_key
            where citations.citing_key = :key order by citations.ref_number""",
         None),
    ),
}


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    db = datasette.databases.get(database) if database else None
    if db is None or not is_knowledge_base(getattr(db, "path", None)):
        return {}
    outcome = _outcome_of_page(template, view_name, table, request)
    plot = ({"outcome": outcome, "url": datasette_evidence.plot_url(datasette, database,
                                                                    outcome)}
            if outcome else None)
    if template == "query.html":   # a canned query's page (table is None there)
        name = request.url_vars.get("table") if request is not None else None
        panel = _query_export(datasette, database, name, request)
        return {"kb_export": panel, "kb_plot": plot}
    panel = export_panel(datasette, database, view_name, table, request)
    if view_name != "row" or table not in schema.TABLES_BY_NAME or request is None:
        return {"kb_export": panel, "kb_plot": plot}

    async def panels():
        from datasette.utils import tilde_decode

        key = tilde_decode(request.url_vars.get("pks", ""))
        trail = (await datasette_evidence.claim_trail(datasette, database, key)
                 if table == "claims" else None)
        result = []
        for title, sql, empty in ROW_PANELS.get(table, ()):
            rows = [dict(r) for r in (await db.execute(sql, {"key": key})).rows]
            for row in rows:
                row["links"] = {
                    name: datasette.urls.row(database, KEY_COLUMNS[name],
                                             tilde_encode(str(row[name])))
                    for name in ("claim_id", "cited_key", "source_key", "pubmed_pmid")
                    if row.get(name)}
                row["identifiers"] = identifiers(row)
            if rows or empty:
                result.append({"title": title, "rows": rows, "empty": empty})
        has_list = any(p["title"] == "Reference list" and p["rows"] for p in result)
        shown = panel if panel and (table == "claims" or has_list) else None
        if trail and trail["plot"]:
            plot_link = {"outcome": trail["claim"]["outcome"], "url": trail["plot"]}
        else:
            plot_link = plot
        return {"kb_panels": result, "kb_export": shown, "kb_trail": trail,
                "kb_plot": plot_link}

    return panels


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
        from datasette.utils import tilde_decode

        parts = [tilde_decode(p) for p in request.url_vars.get("pks", "").split(",")]
        return parts[1] if len(parts) == 2 and parts[0] == "outcome" else None
    return None


def _query_export(datasette, database, query_name, request) -> dict | None:
    """Export links for the canned queries that select a review's list or claims."""
    from urllib.parse import urlencode

    from .datasette_export import export_links

    if request is None:
        return None
    root = datasette.urls.database(database) + "/-/export"
    review, outcome = request.args.get("review"), request.args.get("outcome")
    if query_name == "reference_list" and review:
        return {"title": f"Export the reference list of {review}",
                "groups": export_links(f"{root}/reference-list/{review}")}
    if query_name == "claims_for_outcome" and outcome:
        return {"title": f"Export the works behind the claims about {outcome}",
                "groups": export_links(f"{root}/claims", urlencode({"outcome": outcome}),
                                       tables=True)}
    return None
