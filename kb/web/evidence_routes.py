"""Datasette pages for the evidence (kb/evidence/): evidence range plots and claim trails.

Routes (registered by kb/web/plugin.py's register_routes):
  /DB/-/plot/outcome/TERM.svg   the plot as SVG
  /DB/-/plot/outcome/TERM       a page holding the plot, its conflicts and links
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from datasette.utils import tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup

from kb.export.selection import SelectionError, check

from . import queries, svg
from .context import error, identifiers, is_kb, row_url
from .safety import NO_SCRIPTS

MAX_CONFLICTS_LISTED = 100   # under the plot; the claim_conflicts table has them all
PLOT_ROUTE = r"^/(?P<database>[^/]+)/-/plot/outcome/(?P<term>[^/.]+)(?P<svg>\.svg)?$"

def plot_url(datasette, database: str, outcome: str, svg: bool = False,
             filters: dict | None = None) -> str:
    query = urlencode({k: v for k, v in (filters or {}).items() if v})
    return (datasette.urls.database(database) + "/-/plot/outcome/"
            + quote(outcome, safe="") + (".svg" if svg else "") + ("?" + query if query
                                                                   else ""))


async def claim_trail(datasette, database: str, key: str) -> dict | None:
    """What a claim page shows of the claim's trail: the claim, then each hop."""
    db = datasette.get_database(database)
    claim_rows = (await db.execute(queries.CLAIM_SQL, {"key": key})).rows
    if not claim_rows:
        return None
    claim = dict(claim_rows[0])

    def url(table: str, value) -> str:
        return row_url(datasette, database, table, value)

    claim["source_url"] = url("sources", claim["source_key"])
    claim["identifiers"] = identifiers(claim)
    hops = []
    for row in (await db.execute(queries.TRAIL_SQL, {"key": key})).rows:
        hop = dict(row)
        hop["from_url"] = url("claims", hop["from_claim"])
        hop["cited_url"] = url("sources", hop["cited_key"]) if hop["cited_key"] else None
        hop["to_url"] = url("claims", hop["to_claim"]) if hop["to_claim"] else None
        hop["identifiers"] = identifiers(hop)
        hop["css"] = hop["status"].replace(" ", "-")
        hops.append(hop)
    conflicts = [dict(r) for r in (await db.execute(queries.CONFLICTS_OF_CLAIM_SQL,
                                                    {"key": key})).rows]
    for conflict in conflicts:
        conflict["url"] = url("claims", conflict["other"])
    return {
        "claim": claim,
        "hops": hops,
        "conflicts": conflicts,
        "plot": plot_url(datasette, database, claim["outcome"]) if claim["outcome"]
        and claim["kind"] == "quantitative" else None,
    }


async def plot_route(request, datasette):
    database, term = request.url_vars["database"], request.url_vars["term"]
    if not is_kb(datasette, database):
        return error(f"{database} is not a nelm-kb database", 404)
    db = datasette.get_database(database)
    chosen = {name: request.args[name] for name in queries.FILTERS if request.args.get(name)}
    problem = await db.execute_fn(lambda conn: unknown(conn, {"outcome": term, **chosen}))
    if problem:
        return error(problem, 400)
    params = queries.plot_parameters(term, chosen)
    claim_rows = (await db.execute(queries.BARS_SQL, params)).rows
    counts = [(r["term"], r["n"]) for r in
              (await db.execute(queries.POPULATIONS_SQL, params)).rows]
    total = sum(n for _, n in counts)
    shown = json.dumps([row["id"] for row in claim_rows])
    conflicts = [dict(r) for r in (await db.execute(queries.CONFLICTS_SQL,
                                                    {"shown": shown})).rows]
    bars = svg.bars(claim_rows, [(c["claim_a"], c["claim_b"]) for c in conflicts])
    note = (f"{len(bars):,} of {total:,} claims shown, those in conflict first: narrow by "
            "population, intervention, unit or timepoint" if total > len(bars) else "")
    claims_root = datasette.urls.table(database, "claims") + "/"   # once, not per bar
    # an outcome's default plot: a small panel per treatment, not one mixed chart
    split = "intervention" not in chosen and len({b.intervention for b in bars}) > 1
    picture = svg.svg(term, bars, lambda claim_id: claims_root + tilde_encode(claim_id),
                      note, by_intervention=split)
    if request.url_vars.get("svg"):
        return Response(picture, content_type="image/svg+xml; charset=utf-8",
                        headers=dict(NO_SCRIPTS))
    more_conflicts = len(conflicts) > MAX_CONFLICTS_LISTED
    conflicts = conflicts[:MAX_CONFLICTS_LISTED]
    for conflict in conflicts:
        for side in ("a", "b"):
            conflict[f"url_{side}"] = row_url(datasette, database, "claims",
                                              conflict[f"claim_{side}"])

    def one_at_a_time(field: str, counts: list, blank: str) -> list[dict]:
        """A link to the plot of each term of `field` the claims have, with its count."""
        return [{"term": value or blank, "n": n,
                 "url": plot_url(datasette, database, term, filters={
                     **chosen, field: value}) if value else None} for value, n in counts]

    narrower = one_at_a_time("population", counts, "population not stated") \
        if total > len(bars) else []
    # the treatments the claims are about, offered one at a time when there are several
    # (asked only for the page: the SVG alone has no links to offer)
    by_intervention = one_at_a_time("intervention", (await db.execute(
        queries.INTERVENTIONS_SQL, params)).rows, "not stated")
    if len(by_intervention) < 2:
        by_intervention = []
    by_timepoint = one_at_a_time("timepoint", (await db.execute(
        queries.TIMEPOINTS_SQL, params)).rows, "not stated")
    if len(by_timepoint) < 2:
        by_timepoint = []
    return Response.html(await datasette.render_template(
        "kb_plot.html", {
            "database": database, "outcome": term, "svg": Markup(picture),
            "svg_url": plot_url(datasette, database, term, svg=True, filters=chosen),
            "claims_url": datasette.urls.table(database, "claims") + "?"
            + urlencode({"outcome": term, **chosen}),
            "conflicts_url": datasette.urls.table(database, "claim_conflicts") + "?"
            + urlencode({"outcome": term}),
            "bars": len(bars), "total": total, "chosen": chosen,
            "narrower": narrower, "by_intervention": by_intervention,
            "by_timepoint": by_timepoint,
            "every_intervention": plot_url(datasette, database, term, filters={
                k: v for k, v in chosen.items() if k != "intervention"}),
            "conflicts": conflicts,
            "more_conflicts": more_conflicts,
        }, request=request))


def unknown(conn, terms: dict[str, str]) -> str | None:
    """What is wrong with the first term no claim could match, or None."""
    for what, value in terms.items():
        try:
            check(conn, what, value)
        except SelectionError as e:
            return str(e)
    return None


def routes() -> list:
    return [(PLOT_ROUTE, plot_route)]
