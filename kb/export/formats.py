"""The one entry point of the exports, for the command line and the browser: each format
and the outputs it is written as, their file extensions and media types, and `render`.
"""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path

from . import citeproc, evidence_table, sof
from .selection import Selection, SelectionError, select
from .writers import FORMATS, WRITERS

STYLE_FORMATS = ("vancouver", "ama")
ALL_FORMATS = (*FORMATS, *STYLE_FORMATS, "evidence-table", "sof")
# format -> (outputs it offers, the default first)
OUTPUTS = {"vancouver": ("text", "markdown", "html"), "ama": ("text", "markdown", "html"),
           "evidence-table": ("markdown", "csv", "html"), "sof": sof.OUTPUTS}
# (format, output) -> (file extension, media type)
MEDIA = {
    ("bibtex", None): ("bib", "application/x-bibtex; charset=utf-8"),
    ("ris", None): ("ris", "application/x-research-info-systems; charset=utf-8"),
    ("csl-json", None): ("json", "application/vnd.citationstyles.csl+json; charset=utf-8"),
    **{(f, "text"): ("txt", "text/plain; charset=utf-8") for f in STYLE_FORMATS},
    **{(f, "markdown"): ("md", "text/markdown; charset=utf-8")
       for f in (*STYLE_FORMATS, "evidence-table")},
    **{(f, "html"): ("html", "text/html; charset=utf-8")
       for f in (*STYLE_FORMATS, "evidence-table")},
    ("evidence-table", "csv"): ("csv", "text/csv; charset=utf-8"),
    ("sof", "markdown"): ("md", "text/markdown; charset=utf-8"),
    ("sof", "html"): ("html", "text/html; charset=utf-8"),
    ("sof", "csv"): ("csv", "text/csv; charset=utf-8"),
    ("sof", "docx"): ("docx", "application/vnd.openxmlformats-officedocument."
                              "wordprocessingml.document"),
}


def check_selection(fmt: str, review, source_keys, claims_asked: bool,
                    questions: list[str]) -> None:
    """Raise SelectionError when `kb export`'s options name two selections, or one the
    format cannot take."""
    if fmt == "sof":
        if review or source_keys or claims_asked:
            raise SelectionError("-f sof is made of guideline questions: select them with "
                                 "--question (or nothing, for all)")
        return
    if len(questions) > 1:
        raise SelectionError("--question takes one question for claims (several for "
                             "-f sof)")
    if sum([bool(review), bool(source_keys), claims_asked or bool(questions)]) > 1:
        raise SelectionError("choose one selection: --reference-list, --source, or claims "
                             "(--claim, --question, --outcome, --intervention, "
                             "--population, --timepoint, --where)")
    if fmt == "evidence-table" and (review or source_keys):
        raise SelectionError("an evidence table is made of claims: select them with "
                             "--claim, --question, --outcome, ... or --where (or nothing, "
                             "for all)")


def output_for(fmt: str, output: str | None) -> str | None:
    """The output a format is written as: the one asked for, else its default."""
    if fmt not in ALL_FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose from {', '.join(ALL_FORMATS)}")
    offered = OUTPUTS.get(fmt, ())
    if output is None:
        return offered[0] if offered else None
    if output not in offered:
        raise ValueError(f"{fmt} is written as {', '.join(offered) or 'one form only'}, "
                         f"not {output}")
    return output


def render(selection: Selection, fmt: str, output: str | None = None) -> str:
    """The selection written in `fmt` (and, for styles and tables, as `output`)."""
    output = output_for(fmt, output)
    if fmt == "sof":
        raise SelectionError("a summary of findings is made of guideline questions, not "
                             "of a selection of works (kb.export.sof)")
    if fmt == "evidence-table":
        if not selection.of_claims:
            raise SelectionError("an evidence table needs claims: select claims, not works")
        return evidence_table.render(selection, output)
    if fmt in WRITERS:
        return _marked(WRITERS[fmt](selection.works), fmt, output, selection.unknown)
    numbered = list(zip(selection.numbers, selection.items))
    return _marked(citeproc.bibliography(numbered, fmt, output,
                                         title=None if output == "text"
                                         else selection.title),
                   fmt, output, selection.unknown)


def _marked(text: str, fmt: str, output: str | None, unknown: list[str]) -> str:
    """The export with what it could not hold said in its body, as each format allows:
    a BibTeX @comment, lines RIS readers skip, a closing paragraph or a visible block.
    (CSL-JSON has no place for it: kb export says it on standard error.)"""
    if not unknown:
        return text
    lines = [f"Not exported: {note}." for note in unknown]
    if fmt == "bibtex":
        return "".join(f"@comment{{{line}}}\n" for line in lines) + "\n" + text
    if fmt == "ris":
        return "".join(f"# {line}\n" for line in lines) + text
    if fmt == "csl-json":
        return text
    if output == "html":
        block = ('<section class="kb-not-exported" style="border-left:4px solid #c0392b;'
                 'padding-left:1em">' + "".join(f"<p>{html.escape(line)}</p>"
                                                for line in lines) + "</section>\n")
        return text.replace("</body>", block + "</body>", 1)
    return text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"


def export(db: Path, fmt: str, output: str | None = None, **chosen) -> tuple[str, Selection]:
    """`kb export`: the selection `chosen` names (selection.select's arguments) read from
    the database db, opened read-only, and written in fmt as output."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        selection = select(conn, **chosen)
        return render(selection, fmt, output), selection
    finally:
        conn.close()


def summary_of_findings(db: Path, question_ids: list[str] | None, output: str | None
                        ) -> str | bytes:
    """`kb export -f sof`: the GRADE summary-of-findings table of the questions (all
    when None) read from the database db, opened read-only."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sof.render(conn, question_ids, output_for("sof", output))
    finally:
        conn.close()
