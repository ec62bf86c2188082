"""A guideline question's page: the question as PICO, its evidence profile (every claim
considered, pooled or why not), the forest plot, heterogeneity, the GRADE certainty
table beside what the data suggest, and the summary-of-findings row with its exports.

Routes (registered by kb/web/plugin.py's register_routes):
  /DB/-/question/ID       the page
  /DB/-/question/ID.svg   the forest plot alone
  /DB/-/question/ID.sof.md|html|csv|docx   its summary-of-findings table
"""

from __future__ import annotations

from urllib.parse import quote

from datasette.utils import tilde_encode
from datasette.utils.asgi import Response
from markupsafe import Markup

from kb.data.schema import GRADE_DOMAINS
from kb.evidence.grade import starting_level, symbols
from kb.export import sof

from . import forest, queries
from .context import error, is_kb, row_url
from .evidence_routes import unknown
from .export_routes import download
from .safety import NO_SCRIPTS

QUESTION_ROUTE = (r"^/(?P<database>[^/]+)/-/question/(?P<id>[^/.]+)"
                  r"(?:(?P<svg>\.svg)|\.sof\.(?P<sof>md|html|csv|docx))?$")
SOF_OUTPUTS = {"md": "markdown", "html": "html", "csv": "csv", "docx": "docx"}
RATIOS = ("hazard-ratio", "odds-ratio")
HIGH_RISK_DESIGNS = ("case-series", "registry-study", "cohort", "journal-article")


def question_url(datasette, database: str, question_id: str, suffix: str = "") -> str:
    """The question's page, or with suffix ('.svg', '.sof.md', ...) a download."""
    return (datasette.urls.database(database) + "/-/question/"
            + quote(question_id, safe="") + suffix)


async def question_route(request, datasette):
    database, question_id = request.url_vars["database"], request.url_vars["id"]
    if not is_kb(datasette, database):
        return error(f"{database} is not a nelm-kb database", 404)
    db = datasette.get_database(database)
    found = (await db.execute(queries.QUESTION_SQL, {"id": question_id})).rows
    if not found:
        return error(await db.execute_fn(
            lambda conn: unknown(conn, {"question": question_id})), 400)
    question = dict(found[0])
    if request.url_vars.get("sof"):
        return await _summary_of_findings(datasette, db, question_id,
                                          request.url_vars["sof"])
    studies = [dict(r) for r in (await db.execute(queries.QUESTION_STUDIES_SQL,
                                                  {"id": question_id})).rows]
    ratio = question["measure"] in RATIOS
    claims_root = datasette.urls.table(database, "claims") + "/"
    picture = forest.forest(question["question"], _rows(studies), _pooled(question), ratio,
                            lambda claim_id: claims_root + tilde_encode(claim_id))
    if request.url_vars.get("svg"):
        return Response(picture, content_type="image/svg+xml; charset=utf-8",
                        headers=dict(NO_SCRIPTS))
    for study in studies:
        study["url"] = row_url(datasette, database, "claims", study["claim_id"])
        study["source_url"] = row_url(datasette, database, "sources", study["source_key"])
    judged = {r["domain"]: dict(r) for r in (await db.execute(queries.CERTAINTY_SQL,
                                                              {"id": question_id})).rows}
    included = [s for s in studies if s["included"]]
    return Response.html(await datasette.render_template(
        "kb_question.html", {
            "database": database, "q": question, "studies": studies,
            "included": included, "left_out": [s for s in studies if not s["included"]],
            "svg": Markup(picture), "ratio": ratio,
            "svg_url": question_url(datasette, database, question_id, ".svg"),
            "certainty": [{"domain": d, **judged.get(d, {}),
                           "data": _suggests(d, question, included)}
                          for d in GRADE_DOMAINS],
            "starts_at": starting_level(question["design"]) if question["k"] else None,
            "symbols": symbols(question["certainty"]),
            "sof": {output: question_url(datasette, database, question_id, f".sof.{ext}")
                    for ext, output in SOF_OUTPUTS.items()},
        }, request=request))


async def _summary_of_findings(datasette, db, question_id: str, ext: str) -> Response:
    output = SOF_OUTPUTS[ext]
    body = await db.execute_fn(lambda conn: sof.render(conn, [question_id], output))
    return download(body, "sof", output, f"sof-{question_id}")


def _rows(studies: list[dict]) -> list[forest.Row]:
    return [forest.Row(s["claim_id"], _study_name(s)
                       + (f" · {s['arm']}" if s["arm"] else ""), s["n"], s["estimate"],
                       s["ci_low"], s["ci_high"], s["weight"], bool(s["flags"]))
            for s in studies if s["included"] and s["estimate"] is not None]


def _study_name(study: dict) -> str:
    """The study a row is: its work's first author and year; for a review's table row
    whose entry is not identified, the row's name as the table prints it."""
    if study["study_label"]:
        return study["study_label"]
    locator = study["locator"] or ""
    if "row " in locator:
        return locator.rsplit("row ", 1)[1] + f" (in {study['label']})"
    return study["label"]


def _pooled(question: dict) -> forest.Pooled | None:
    if not question["k"] or question["estimate"] is None:
        return None
    return forest.Pooled(question["estimate"], question["ci_low"], question["ci_high"],
                         question["pi_low"], question["pi_high"], question["k"],
                         question["n_total"])


def _suggests(domain: str, question: dict, included: list[dict]) -> str:
    """What the data say about a GRADE domain, beside the curator's judgement."""
    k = question["k"] or 0
    if not k:
        return "no study pooled"
    if domain == "inconsistency":
        return (f"I² {question['i2']:.0f} %, p(Q) {question['q_p']:.3f}" if k >= 2
                else "one study: not assessable")
    if domain == "imprecision":
        width = question["ci_high"] - question["ci_low"]
        unit = "" if question["unit"] == "ratio" else " points"
        return f"95% CI {width:.{2 if unit == '' else 1}f}{unit} wide; n {question['n_total'] or '?'}; k {k}"
    if domain == "risk-of-bias":
        risky = sum(1 for s in included
                    if (s["study_design"] or s["design"]) in HIGH_RISK_DESIGNS)
        return f"{risky} of {k} pooled studies observational (cohort, case series, registry)"
    if domain == "publication-bias":
        return f"k {k}: " + ("too few to test for small-study effects" if k < 10
                             else "enough for a funnel plot")
    return ""


def routes() -> list:
    return [(QUESTION_ROUTE, question_route)]
