"""A GRADE summary-of-findings table: one row per question (outcome, k, participants,
the pooled estimate with its CI and prediction interval, certainty in ⊕ symbols with
footnotes giving each downgrade's reason, comments), followed by the Vancouver list of
the pooled studies numbered by first use. Markdown, HTML and CSV are written by
kb/export/evidence_table.py's `document`; DOCX is pandoc's conversion of the Markdown.
"""

from __future__ import annotations

import sqlite3
import string

from kb.db import queries
from kb.evidence.grade import STEPS, starting_level, symbols

from . import evidence_table
from .selection import SelectionError, sources

OUTPUTS = ("markdown", "html", "csv", "docx")
COLUMNS = (("outcome", "Outcome"), ("k", "Studies (k)"), ("participants", "Participants"),
           ("estimate", "Pooled estimate (95% CI; 95% PI)"), ("certainty", "Certainty"),
           ("comments", "Comments"))


def summary(conn: sqlite3.Connection, question_ids: list[str] | None = None
            ) -> tuple[str, list[dict], list[str], list[tuple[int, dict]]]:
    """(title, rows, footnotes, numbered works) of the questions asked (all when None)."""
    try:
        asked = queries.questions(conn, question_ids)
    except KeyError as e:
        known = queries.question_ids(conn)
        raise SelectionError(f"no question {e.args[0]!r} in the database"
                             + (f"; the questions are: {', '.join(known)}" if known
                                else "")) from None
    if not asked:
        raise SelectionError("the database has no guideline questions (data/questions.csv)")
    order: list[str] = []
    studies_of: dict[str, list[str]] = {}
    for q in asked:
        studies_of[q["id"]] = [s["work_key"] for s in queries.pooled_studies(conn, q["id"])]
        order.extend(k for k in studies_of[q["id"]] if k not in order)
    selection = sources(conn, order, title="Pooled studies") if order else None
    number = {key: n for n, key in enumerate(order, start=1)}
    table, notes, letters = [], [], iter(string.ascii_lowercase)
    for q in asked:
        marks = []
        for judged in queries.certainty(conn, q["id"]):
            if STEPS.get(judged["judgement"], 0):
                letter = next(letters, "*")
                marks.append(letter)
                notes.append(f"{letter}. {q['id']}, {judged['domain']} "
                             f"({judged['judgement']}): {judged['reason']}")
        refs = sorted({number[k] for k in studies_of[q["id"]]})
        table.append({
            "outcome": f"{q['outcome']}" + (f" at {q['timepoint']}" if q["timepoint"]
                                            else "") + f" — {q['intervention'] or ''}"
                       + (f" vs {q['comparator']}" if q["comparator"] else ""),
            "k": str(q["k"] or 0),
            "participants": str(q["n_total"] or ""),
            "estimate": _estimate(q),
            "certainty": (f"{symbols(q['certainty'])} {q['certainty']}"
                          + (f" ({', '.join(marks)})" if marks else "")
                          if q["certainty"] else "not rated: nothing pooled"),
            "comments": f"{q['question']} Studies: "
                        + (", ".join(f"[{n}]" for n in refs) or "none pooled")
                        + (f". Starts at {starting_level(q['design'])} ({q['design']})."
                           if q["design"] else ""),
        })
    numbered = list(zip(selection.numbers, selection.items)) if selection else []
    title = ("Summary of findings: " + ", ".join(q["id"] for q in asked))
    return title, table, notes, numbered


def render(conn: sqlite3.Connection, question_ids: list[str] | None, output: str
           ) -> str | bytes:
    """The table as output (bytes for docx)."""
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}: choose from {', '.join(OUTPUTS)}")
    title, table, notes, numbered = summary(conn, question_ids)
    if output != "docx":
        return evidence_table.document(title, COLUMNS, table, numbered, output, notes)
    return _docx(evidence_table.document(title, COLUMNS, table, numbered, "markdown",
                                         notes))


def _estimate(q: dict) -> str:
    if q["estimate"] is None:
        return "no poolable study"
    ratio = q["unit"] == "ratio"
    fmt = "{:.2f}" if ratio else "{:.1f}"
    unit = "" if ratio else " %"
    text = (fmt.format(q["estimate"]) + unit + " (" + fmt.format(q["ci_low"]) + "–"
            + fmt.format(q["ci_high"]))
    if q["pi_low"] is not None:
        text += "; PI " + fmt.format(q["pi_low"]) + "–" + fmt.format(q["pi_high"])
    return text + ")" + (f", I² {q['i2']:.0f} %" if q["i2"] is not None else "")


def _docx(markdown: str) -> bytes:
    import os
    import tempfile

    import pypandoc

    handle, path = tempfile.mkstemp(suffix=".docx")
    os.close(handle)
    try:
        pypandoc.convert_text(markdown, "docx", format="markdown", outputfile=path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)
